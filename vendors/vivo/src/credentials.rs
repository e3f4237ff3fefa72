//! vivo's credential set (VIVO_API.md 1.2; API.md "Certificates": `app_id`
//! decimal digits sent as a number, `app_key`, `app_secret` secret): its
//! parsing, stored attributes, masked view and vendor account.

use offpush::domain::input::Obj;
use offpush::domain::{credential_text, Secret, VendorData};
use offpush::store::keys;
use offpush::ServiceError;
use serde_json::{json, Value};

/// Stored attribute names: the names certificates have always been stored
/// under, so certificates stored before the vendor port read unchanged.
pub const ATTR_APP_ID: &str = "vivo_app_id";
pub const ATTR_APP_KEY: &str = "vivo_app_key";
pub const ATTR_APP_SECRET: &str = "vivo_app_secret";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VivoCredentials {
    /// Sent to vivo as a JSON number.
    pub app_id: u64,
    pub app_key: String,
    pub app_secret: Secret,
}

/// The vivo AppID: decimal digits, positive, sent to vivo as a number.
fn parse_app_id(field: &str, s: &str) -> Result<u64, ServiceError> {
    let bad = || ServiceError::invalid(field, "must be decimal digits (vivo's numeric AppID)");
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match s.parse::<u64>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(n) => Ok(n),
    }
}

impl VivoCredentials {
    /// Parses `credentials`; `app_secret` may be omitted when `stored`
    /// holds one (an edit keeping it).
    pub fn parse(mut creds: Obj, stored: Option<&VendorData>) -> Result<Self, ServiceError> {
        creds.deny_unknown(&["app_id", "app_key", "app_secret"])?;
        let f_id = creds.name("app_id");
        let app_id = parse_app_id(&f_id, &creds.req_str("app_id")?)?;
        let f_key = creds.name("app_key");
        let app_key = credential_text(&f_key, creds.req_str("app_key")?)?;
        let f_secret = creds.name("app_secret");
        let app_secret = match creds.opt_str("app_secret")? {
            Some(s) => Secret::new(credential_text(&f_secret, s)?),
            None => match stored.and_then(|d| d.s(ATTR_APP_SECRET)) {
                Some(s) => Secret::new(s),
                None => return Err(ServiceError::invalid(f_secret, "is required")),
            },
        };
        Ok(VivoCredentials {
            app_id,
            app_key,
            app_secret,
        })
    }

    pub fn to_data(&self) -> VendorData {
        let mut d = VendorData::new();
        d.set_n(ATTR_APP_ID, self.app_id);
        d.set_s(ATTR_APP_KEY, &self.app_key);
        d.set_s(ATTR_APP_SECRET, self.app_secret.expose());
        d
    }

    /// None when the stored attributes are not a vivo credential set.
    pub fn from_data(d: &VendorData) -> Option<Self> {
        Some(VivoCredentials {
            app_id: d.n(ATTR_APP_ID)?,
            app_key: d.s(ATTR_APP_KEY)?.to_string(),
            app_secret: Secret::new(d.s(ATTR_APP_SECRET)?),
        })
    }

    pub fn view(&self) -> Value {
        json!({
            "app_id": self.app_id.to_string(),
            "app_key": self.app_key,
            "app_secret": self.app_secret.masked(),
        })
    }

    /// The table partition of a vivo app with one credential set: a
    /// changed key or secret starts clean (no old token, no old pause).
    pub fn account_key(&self) -> String {
        let digest = keys::credential_digest(&[&self.app_key, self.app_secret.expose()]);
        keys::vendor_pk("vivo", &format!("{}#{digest}", self.app_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::input::parse_body;

    fn parse(json: &str, stored: Option<&VendorData>) -> Result<VivoCredentials, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        VivoCredentials::parse(body.req_obj("credentials").unwrap(), stored)
    }

    #[test]
    fn every_bad_field_is_named() {
        for (json, field) in [
            (
                r#"{"credentials":{"app_id":"x1","app_key":"k","app_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":105,"app_key":"k","app_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":"0","app_key":"k","app_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":"1","app_key":"","app_secret":"s"}}"#,
                "credentials.app_key",
            ),
            (
                r#"{"credentials":{"app_id":"1","app_key":"k"}}"#,
                "credentials.app_secret",
            ),
            (
                r#"{"credentials":{"app_id":"1","app_key":"k","app_secret":" s"}}"#,
                "credentials.app_secret",
            ),
            (
                r#"{"credentials":{"app_id":"1","app_key":"k","app_secret":"s","x":1}}"#,
                "credentials.x",
            ),
        ] {
            let e = parse(json, None).unwrap_err();
            assert_eq!(e.field(), Some(field), "{json}");
        }
    }

    #[test]
    fn an_edit_may_keep_the_stored_secret() {
        let stored = VivoCredentials {
            app_id: 1,
            app_key: "k".into(),
            app_secret: Secret::new("kept-secret"),
        }
        .to_data();
        let c = parse(
            r#"{"credentials":{"app_id":"2","app_key":"k2"}}"#,
            Some(&stored),
        )
        .unwrap();
        assert_eq!((c.app_id, c.app_secret.expose()), (2, "kept-secret"));
    }

    #[test]
    fn stored_attributes_round_trip_and_the_view_masks_the_secret() {
        let c = parse(
            r#"{"credentials":{"app_id":"105123456","app_key":"key","app_secret":"abcdef-secret-c21"}}"#,
            None,
        )
        .unwrap();
        let d = c.to_data();
        assert!(d.iter().all(|(k, _)| k.starts_with("vivo_")));
        assert_eq!(VivoCredentials::from_data(&d), Some(c.clone()));
        let v = c.view();
        assert_eq!(v["app_id"], "105123456");
        assert_eq!(v["app_secret"], "****c21");
        assert!(!v.to_string().contains("abcdef"));
    }

    #[test]
    fn accounts_are_per_vivo_app_and_credential_set() {
        let creds = |id: u64, secret: &str| VivoCredentials {
            app_id: id,
            app_key: "k".into(),
            app_secret: Secret::new(secret),
        };
        assert_eq!(creds(1, "s").account_key(), creds(1, "s").account_key());
        assert_ne!(creds(1, "s").account_key(), creds(2, "s").account_key());
        assert_ne!(creds(1, "s").account_key(), creds(1, "t").account_key());
        assert!(!creds(1, "secret-value")
            .account_key()
            .contains("secret-value"));
    }
}
