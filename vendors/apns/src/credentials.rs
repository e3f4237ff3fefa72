//! APNs credentials (API.md: `team_id`, `key_id`, `private_key` the `.p8`
//! PEM text, secret, `bundle_id`): parsing, stored attributes, the masked
//! view, the account tokens are shared under.

use offpush::domain::input::Obj;
use offpush::domain::{credential_text, Secret, VendorData};
use offpush::store::keys;
use offpush::ServiceError;
use serde_json::{json, Value};

pub const ATTR_TEAM: &str = "apns_team_id";
pub const ATTR_KEY_ID: &str = "apns_key_id";
pub const ATTR_PRIVATE_KEY: &str = "apns_private_key";
pub const ATTR_BUNDLE: &str = "apns_bundle_id";

/// A `.p8` file is about 250 bytes; anything far larger is not one.
pub const MAX_PRIVATE_KEY_BYTES: usize = 4096;
const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApnsCredentials {
    /// The JWT's `iss` (VENDORS_API.md 6).
    pub team_id: String,
    /// The JWT header's `kid`.
    pub key_id: String,
    /// The `.p8` PEM text (PKCS#8 of a P-256 key).
    pub private_key: Secret,
    /// The `apns-topic` of alert pushes.
    pub bundle_id: String,
}

/// Team and key ids travel in the JWT's JSON: Apple issues them as ten
/// upper-case letters and digits; anything but ASCII letters and digits is
/// refused here, naming the field (the length is left to Apple).
fn parse_id(field: &str, s: String) -> Result<String, ServiceError> {
    let s = credential_text(field, s)?;
    if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ServiceError::invalid(
            field,
            "must be made of ASCII letters and digits (as Apple issues it)",
        ));
    }
    Ok(s)
}

/// The bundle id is the `apns-topic` header: letters, digits, `.` and `-`.
fn parse_bundle(field: &str, s: String) -> Result<String, ServiceError> {
    let s = credential_text(field, s)?;
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err(ServiceError::invalid(
            field,
            "must be an iOS bundle id (letters, digits, '.' and '-')",
        ));
    }
    Ok(s)
}

/// The DER of a `.p8` PEM text, or why it is not one. The key itself is
/// checked (ring) by [`crate::jwt::Signer`]; messages never quote the text.
pub fn pem_der(pem: &str) -> Result<Vec<u8>, &'static str> {
    use base64::Engine;
    let pem = pem.trim();
    let body = pem
        .strip_prefix(PEM_BEGIN)
        .and_then(|r| r.strip_suffix(PEM_END))
        .ok_or("must be the .p8 file's text (-----BEGIN PRIVATE KEY----- ... -----END PRIVATE KEY-----)")?;
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| "the .p8 text between its BEGIN and END lines is not base64")?;
    if der.is_empty() {
        return Err("the .p8 text holds no key");
    }
    Ok(der)
}

fn parse_private_key(field: &str, s: String) -> Result<Secret, ServiceError> {
    if s.len() > MAX_PRIVATE_KEY_BYTES {
        return Err(ServiceError::invalid(
            field,
            format!("must be at most {MAX_PRIVATE_KEY_BYTES} bytes (a .p8 file)"),
        ));
    }
    pem_der(&s).map_err(|why| ServiceError::invalid(field, why))?;
    // Kept as given but for surrounding blank space, so that the digest of
    // the account does not change with a trailing newline.
    Ok(Secret::new(s.trim()))
}

impl ApnsCredentials {
    /// Parses `credentials`; `private_key` may be omitted when `stored`
    /// holds one (an edit keeping it).
    pub fn parse(mut creds: Obj, stored: Option<&VendorData>) -> Result<Self, ServiceError> {
        creds.deny_unknown(&["team_id", "key_id", "private_key", "bundle_id"])?;
        let f_team = creds.name("team_id");
        let team_id = parse_id(&f_team, creds.req_str("team_id")?)?;
        let f_key = creds.name("key_id");
        let key_id = parse_id(&f_key, creds.req_str("key_id")?)?;
        let f_private = creds.name("private_key");
        let private_key = match creds.opt_str("private_key")? {
            Some(s) => parse_private_key(&f_private, s)?,
            None => match stored.and_then(|d| d.s(ATTR_PRIVATE_KEY)) {
                Some(s) => Secret::new(s),
                None => return Err(ServiceError::invalid(f_private, "is required")),
            },
        };
        let f_bundle = creds.name("bundle_id");
        let bundle_id = parse_bundle(&f_bundle, creds.req_str("bundle_id")?)?;
        Ok(ApnsCredentials {
            team_id,
            key_id,
            private_key,
            bundle_id,
        })
    }

    pub fn to_data(&self) -> VendorData {
        let mut d = VendorData::new();
        d.set_s(ATTR_TEAM, &self.team_id);
        d.set_s(ATTR_KEY_ID, &self.key_id);
        d.set_s(ATTR_PRIVATE_KEY, self.private_key.expose());
        d.set_s(ATTR_BUNDLE, &self.bundle_id);
        d
    }

    pub fn from_data(d: &VendorData) -> Option<Self> {
        Some(ApnsCredentials {
            team_id: d.s(ATTR_TEAM)?.to_string(),
            key_id: d.s(ATTR_KEY_ID)?.to_string(),
            private_key: Secret::new(d.s(ATTR_PRIVATE_KEY)?),
            bundle_id: d.s(ATTR_BUNDLE)?.to_string(),
        })
    }

    pub fn view(&self) -> Value {
        json!({
            "team_id": self.team_id,
            "key_id": self.key_id,
            "private_key": self.private_key.masked(),
            "bundle_id": self.bundle_id,
        })
    }

    /// The table partition of one provider token: APNs scopes tokens by
    /// team (VENDORS_API.md 12: "token scope is the Team ID"), and the
    /// token is minted with one key, so one team and key share one token
    /// whatever the bundle id or environment (sandbox and production take
    /// the same token). A changed key text starts clean.
    pub fn account_key(&self) -> String {
        let digest =
            keys::credential_digest(&[&self.team_id, &self.key_id, self.private_key.expose()]);
        keys::vendor_pk(
            "apns",
            &format!("{}#{}#{digest}", self.team_id, self.key_id),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::input::parse_body;

    pub(crate) const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";

    fn creds(json: &Value, stored: Option<&VendorData>) -> Result<ApnsCredentials, ServiceError> {
        let mut body = parse_body(json.to_string().as_bytes()).unwrap();
        ApnsCredentials::parse(body.req_obj("credentials").unwrap(), stored)
    }

    fn full() -> Value {
        json!({"credentials": {"team_id": "TEAM123456", "key_id": "KEY1234567", "private_key": PEM, "bundle_id": "com.example.im"}})
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("team_id", Value::Null, "credentials.team_id"),
            ("team_id", json!(""), "credentials.team_id"),
            ("team_id", json!("TEAM-1"), "credentials.team_id"),
            ("key_id", Value::Null, "credentials.key_id"),
            ("key_id", json!("KEY 1"), "credentials.key_id"),
            ("private_key", Value::Null, "credentials.private_key"),
            ("private_key", json!("not a pem"), "credentials.private_key"),
            (
                "private_key",
                json!("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----"),
                "credentials.private_key",
            ),
            (
                "private_key",
                json!("-----BEGIN PRIVATE KEY-----\n\n-----END PRIVATE KEY-----"),
                "credentials.private_key",
            ),
            (
                "private_key",
                json!("x".repeat(MAX_PRIVATE_KEY_BYTES + 1)),
                "credentials.private_key",
            ),
            ("private_key", json!(7), "credentials.private_key"),
            ("bundle_id", Value::Null, "credentials.bundle_id"),
            (
                "bundle_id",
                json!("com.example/im"),
                "credentials.bundle_id",
            ),
            ("bundle_id", json!(" com.example"), "credentials.bundle_id"),
        ];
        for (key, value, field) in cases {
            let mut body = full();
            let c = body["credentials"].as_object_mut().unwrap();
            if value.is_null() {
                c.remove(key);
            } else {
                c.insert(key.into(), value);
            }
            let e = creds(&body, None).unwrap_err();
            assert_eq!(e.field(), Some(field), "{key}");
            assert!(!e.to_string().contains("MIGHAgEA"), "never the key text");
        }
        let mut body = full();
        body["credentials"]["certificate"] = json!("x");
        assert_eq!(
            creds(&body, None).unwrap_err().field(),
            Some("credentials.certificate")
        );
    }

    #[test]
    fn round_trips_masking_and_kept_secrets() {
        let c = creds(&full(), None).unwrap();
        assert_eq!(c.private_key.expose(), PEM.trim());
        let d = c.to_data();
        assert!(d.iter().all(|(k, _)| k.starts_with("apns_")));
        assert_eq!(ApnsCredentials::from_data(&d), Some(c.clone()));
        let v = c.view();
        assert_eq!(v["private_key"], "****---");
        assert_eq!(v["team_id"], "TEAM123456");
        assert_eq!(v["key_id"], "KEY1234567");
        assert_eq!(v["bundle_id"], "com.example.im");
        assert!(!v.to_string().contains("MIGHAgEA"));
        assert!(
            !format!("{c:?}").contains("MIGHAgEA"),
            "Debug hides the key"
        );
        // An edit keeps the stored key.
        let mut edit = full();
        edit["credentials"]
            .as_object_mut()
            .unwrap()
            .remove("private_key");
        edit["credentials"]["bundle_id"] = json!("com.example.other");
        let kept = creds(&edit, Some(&d)).unwrap();
        assert_eq!(kept.private_key, c.private_key);
        // One account per team and key: the bundle id is not part of it.
        assert_eq!(kept.account_key(), c.account_key());
        let mut other = c.clone();
        other.key_id = "KEY7654321".into();
        assert_ne!(other.account_key(), c.account_key());
        assert!(!c.account_key().contains("MIGHAgEA"));
    }

    #[test]
    fn pem_bodies_decode() {
        assert!(pem_der(PEM).unwrap().len() > 10);
        assert!(
            pem_der("-----BEGIN EC PRIVATE KEY-----\nAA==\n-----END EC PRIVATE KEY-----").is_err()
        );
    }
}
