//! Meizu's credentials (API.md: `app_id`, `app_secret` secret): parsing,
//! stored attributes, masked views, the account. Meizu takes no sending
//! options: `vendor_options` is refused (the port's default).

use offpush::domain::input::Obj;
use offpush::domain::{credential_text, Secret, VendorData};
use offpush::store::keys;
use offpush::ServiceError;
use serde_json::{json, Value};

pub const ATTR_APP_ID: &str = "meizu_app_id";
pub const ATTR_APP_SECRET: &str = "meizu_app_secret";

/// What the Flyme Push console issues for server calls (VENDORS_API.md
/// 15.2 [C/S]: the server signs with appId + appSecret; the appKey is the
/// device SDK's and is never sent by a server).
#[derive(Clone, PartialEq, Eq)]
pub struct MeizuCredentials {
    pub app_id: String,
    pub app_secret: Secret,
}

impl std::fmt::Debug for MeizuCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeizuCredentials")
            .field("app_id", &self.app_id)
            .field("app_secret", &self.app_secret)
            .finish()
    }
}

impl MeizuCredentials {
    /// Parses `credentials`; `app_secret` may be omitted when `stored`
    /// holds one (an edit keeping it).
    pub fn parse(mut creds: Obj, stored: Option<&VendorData>) -> Result<Self, ServiceError> {
        creds.deny_unknown(&["app_id", "app_secret"])?;
        let f_id = creds.name("app_id");
        let app_id = credential_text(&f_id, creds.req_str("app_id")?)?;
        let f_secret = creds.name("app_secret");
        let app_secret = match creds.opt_str("app_secret")? {
            Some(s) => Secret::new(credential_text(&f_secret, s)?),
            None => match stored.and_then(|d| d.s(ATTR_APP_SECRET)) {
                Some(s) => Secret::new(s),
                None => return Err(ServiceError::invalid(f_secret, "is required")),
            },
        };
        Ok(MeizuCredentials { app_id, app_secret })
    }

    pub fn to_data(&self) -> VendorData {
        let mut d = VendorData::new();
        d.set_s(ATTR_APP_ID, &self.app_id);
        d.set_s(ATTR_APP_SECRET, self.app_secret.expose());
        d
    }

    pub fn from_data(d: &VendorData) -> Option<Self> {
        Some(MeizuCredentials {
            app_id: d.s(ATTR_APP_ID)?.to_string(),
            app_secret: Secret::new(d.s(ATTR_APP_SECRET)?),
        })
    }

    /// As answers show them: the appId in full (it is in every request and
    /// no secret), the appSecret masked.
    pub fn view(&self) -> Value {
        json!({
            "app_id": self.app_id,
            "app_secret": self.app_secret.masked(),
        })
    }

    /// The table partition of one Meizu app: Meizu counts its rate and
    /// daily totals per appId (VENDORS_API.md 15.5, 15.8). The digest of
    /// the secret makes a changed secret start clean.
    pub fn account_key(&self) -> String {
        let digest = keys::credential_digest(&[&self.app_id, self.app_secret.expose()]);
        keys::vendor_pk("meizu", &format!("{}#{digest}", self.app_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::input::parse_body;

    fn creds(json: &str, stored: Option<&VendorData>) -> Result<MeizuCredentials, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        MeizuCredentials::parse(body.req_obj("credentials").unwrap(), stored)
    }

    #[test]
    fn every_bad_field_is_named() {
        for (json, field) in [
            (
                r#"{"credentials":{"app_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":"","app_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":" 1","app_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":110,"app_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":"1"}}"#,
                "credentials.app_secret",
            ),
            (
                r#"{"credentials":{"app_id":"1","app_secret":""}}"#,
                "credentials.app_secret",
            ),
            (
                r#"{"credentials":{"app_id":"1","app_secret":"s","app_key":"k"}}"#,
                "credentials.app_key",
            ),
        ] {
            assert_eq!(
                creds(json, None).unwrap_err().field(),
                Some(field),
                "{json}"
            );
        }
        let long = format!(
            r#"{{"credentials":{{"app_id":"1","app_secret":"{}"}}}}"#,
            "s".repeat(129)
        );
        assert_eq!(
            creds(&long, None).unwrap_err().field(),
            Some("credentials.app_secret")
        );
    }

    #[test]
    fn round_trips_masking_and_kept_secrets() {
        let c = creds(
            r#"{"credentials":{"app_id":"110000","app_secret":"0123456789abcdef-x9Z"}}"#,
            None,
        )
        .unwrap();
        let d = c.to_data();
        assert!(d.iter().all(|(k, _)| k.starts_with("meizu_")));
        assert_eq!(MeizuCredentials::from_data(&d), Some(c.clone()));
        let v = c.view();
        assert_eq!(v, json!({"app_id": "110000", "app_secret": "****x9Z"}));
        assert!(!format!("{c:?}").contains("0123456789"), "Debug hides it");
        // An edit keeps the stored secret; a new one replaces it.
        let kept = creds(r#"{"credentials":{"app_id":"110000"}}"#, Some(&d)).unwrap();
        assert_eq!(kept.app_secret, c.app_secret);
        let new = creds(
            r#"{"credentials":{"app_id":"110000","app_secret":"other"}}"#,
            Some(&d),
        )
        .unwrap();
        assert_eq!(new.app_secret.expose(), "other");
        assert_ne!(
            new.account_key(),
            c.account_key(),
            "a new secret starts clean"
        );
        assert!(!c.account_key().contains("0123456789"));
        assert!(MeizuCredentials::from_data(&VendorData::new()).is_none());
    }
}
