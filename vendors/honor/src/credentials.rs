//! Honor's credentials (API.md: `app_id`, `client_id`, `client_secret`
//! secret; VENDORS_API.md 3.2: the App ID goes in the send URL, the client
//! ID and secret into the OAuth2 client-credentials call): parsing, stored
//! attributes, the masked view, the account.

use offpush::domain::input::Obj;
use offpush::domain::{credential_text, Secret, VendorData};
use offpush::store::keys;
use offpush::ServiceError;
use serde_json::{json, Value};

pub const ATTR_APP_ID: &str = "honor_app_id";
pub const ATTR_CLIENT_ID: &str = "honor_client_id";
pub const ATTR_CLIENT_SECRET: &str = "honor_client_secret";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HonorCredentials {
    /// The App ID of the send URL (`/api/v1/{appId}/sendMessage`).
    pub app_id: String,
    /// The OAuth2 client ID.
    pub client_id: String,
    /// The OAuth2 client secret; Debug shows it masked.
    pub client_secret: Secret,
}

/// The App ID is a path segment of the send URL: it may hold no character
/// that would change the path (3.3).
fn parse_app_id(field: &str, s: String) -> Result<String, ServiceError> {
    let s = credential_text(field, s)?;
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ServiceError::invalid(
            field,
            "must be the App ID from the Honor console (letters, digits, '-', '_', '.')",
        ));
    }
    Ok(s)
}

impl HonorCredentials {
    /// Parses `credentials`; `client_secret` may be omitted when `stored`
    /// holds one (an edit keeping it).
    pub fn parse(mut creds: Obj, stored: Option<&VendorData>) -> Result<Self, ServiceError> {
        creds.deny_unknown(&["app_id", "client_id", "client_secret"])?;
        let f_app = creds.name("app_id");
        let app_id = parse_app_id(&f_app, creds.req_str("app_id")?)?;
        let f_client = creds.name("client_id");
        let client_id = credential_text(&f_client, creds.req_str("client_id")?)?;
        let f_secret = creds.name("client_secret");
        let client_secret = match creds.opt_str("client_secret")? {
            Some(s) => Secret::new(credential_text(&f_secret, s)?),
            None => match stored.and_then(|d| d.s(ATTR_CLIENT_SECRET)) {
                Some(s) => Secret::new(s),
                None => return Err(ServiceError::invalid(f_secret, "is required")),
            },
        };
        Ok(HonorCredentials {
            app_id,
            client_id,
            client_secret,
        })
    }

    pub fn to_data(&self) -> VendorData {
        let mut d = VendorData::new();
        d.set_s(ATTR_APP_ID, &self.app_id);
        d.set_s(ATTR_CLIENT_ID, &self.client_id);
        d.set_s(ATTR_CLIENT_SECRET, self.client_secret.expose());
        d
    }

    pub fn from_data(d: &VendorData) -> Option<Self> {
        Some(HonorCredentials {
            app_id: d.s(ATTR_APP_ID)?.to_string(),
            client_id: d.s(ATTR_CLIENT_ID)?.to_string(),
            client_secret: Secret::new(d.s(ATTR_CLIENT_SECRET)?),
        })
    }

    /// The client ID is shown in full: it is not a secret (API.md).
    pub fn view(&self) -> Value {
        json!({
            "app_id": self.app_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret.masked(),
        })
    }

    /// The table partition of one Honor app as one OAuth2 client sees it:
    /// Honor counts quotas per app (3.5) and a token belongs to its client
    /// (3.2). A changed client or secret starts clean (its own token).
    pub fn account_key(&self) -> String {
        let digest = keys::credential_digest(&[&self.client_id, self.client_secret.expose()]);
        keys::vendor_pk("honor", &format!("{}#{digest}", self.app_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::input::parse_body;

    fn creds(json: &str, stored: Option<&VendorData>) -> Result<HonorCredentials, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        HonorCredentials::parse(body.req_obj("credentials").unwrap(), stored)
    }

    #[test]
    fn every_bad_field_is_named() {
        for (json, field) in [
            (
                r#"{"credentials":{"client_id":"c","client_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":"","client_id":"c","client_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":"10/../x","client_id":"c","client_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":7,"client_id":"c","client_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":"1","client_secret":"s"}}"#,
                "credentials.client_id",
            ),
            (
                r#"{"credentials":{"app_id":"1","client_id":" c","client_secret":"s"}}"#,
                "credentials.client_id",
            ),
            (
                r#"{"credentials":{"app_id":"1","client_id":"c"}}"#,
                "credentials.client_secret",
            ),
            (
                r#"{"credentials":{"app_id":"1","client_id":"c","client_secret":"   "}}"#,
                "credentials.client_secret",
            ),
            (
                r#"{"credentials":{"app_id":"1","client_id":"c","client_secret":"s","app_key":"k"}}"#,
                "credentials.app_key",
            ),
        ] {
            assert_eq!(
                creds(json, None).unwrap_err().field(),
                Some(field),
                "{json}"
            );
        }
    }

    #[test]
    fn round_trips_masking_and_kept_secrets() {
        let c = creds(
            r#"{"credentials":{"app_id":"104412345","client_id":"client-1","client_secret":"very-secret-value-x9Z"}}"#,
            None,
        )
        .unwrap();
        let d = c.to_data();
        assert!(d.iter().all(|(k, _)| k.starts_with("honor_")));
        assert_eq!(HonorCredentials::from_data(&d), Some(c.clone()));
        let v = c.view();
        assert_eq!(v["client_secret"], "****x9Z");
        assert_eq!(v["client_id"], "client-1");
        assert_eq!(v["app_id"], "104412345");
        assert!(!v.to_string().contains("very-secret"));
        assert!(!format!("{c:?}").contains("very-secret"), "Debug masks");
        // An edit may omit the secret to keep the stored one.
        let kept = creds(
            r#"{"credentials":{"app_id":"104412345","client_id":"client-1"}}"#,
            Some(&d),
        )
        .unwrap();
        assert_eq!(kept.client_secret, c.client_secret);
        assert_eq!(kept.account_key(), c.account_key());
        // A new secret is a new account (its own token).
        let other = creds(
            r#"{"credentials":{"app_id":"104412345","client_id":"client-1","client_secret":"other"}}"#,
            Some(&d),
        )
        .unwrap();
        assert_ne!(other.account_key(), c.account_key());
        assert!(c.account_key().starts_with("VENDOR#honor#104412345#"));
        assert!(!c.account_key().contains("very-secret"));
    }
}
