//! HarmonyOS credentials (API.md: `service_account`, the Push Kit
//! service-account key JSON object as AppGallery Connect issues it; its
//! `private_key` is the secret) and receipt options (`callback_user`,
//! `callback_secret`, both write-only): parsing, stored attributes, masked
//! views, the account.

use offpush::domain::input::Obj;
use offpush::domain::{credential_text, Secret, VendorData};
use offpush::store::keys;
use offpush::ServiceError;
use serde_json::{json, Value};

pub const ATTR_PROJECT_ID: &str = "harmony_project_id";
pub const ATTR_KEY_ID: &str = "harmony_key_id";
pub const ATTR_SUB_ACCOUNT: &str = "harmony_sub_account";
pub const ATTR_PRIVATE_KEY: &str = "harmony_private_key";
pub const ATTR_TOKEN_URI: &str = "harmony_token_uri";
pub const OPT_CALLBACK_USER: &str = "callback_user";
pub const OPT_CALLBACK_SECRET: &str = "callback_secret";

/// The key file's fields (VENDORS_API.md 14.2 [C]). The adapter needs the
/// first four and keeps `token_uri` to show it back; the others, and any
/// field a newer key file adds, are taken as the file has them and not
/// stored (the object is pasted whole, as AppGallery Connect issues it; a
/// misspelt needed field is still refused as missing).
pub const KEY_FILE_FIELDS: [&str; 8] = [
    "project_id",
    "key_id",
    "sub_account",
    "private_key",
    "token_uri",
    "auth_uri",
    "auth_provider_cert_uri",
    "client_cert_uri",
];

/// A PEM private key is a few kilobytes (14.2: the sample is RSA 4096);
/// anything far larger is not a key file's.
pub const MAX_PRIVATE_KEY_BYTES: usize = 16 * 1024;

pub const FIELD_SERVICE_ACCOUNT: &str = "credentials.service_account";
pub const FIELD_PRIVATE_KEY: &str = "credentials.service_account.private_key";
pub const FIELD_KEY_ID: &str = "credentials.service_account.key_id";
pub const FIELD_PROJECT_ID: &str = "credentials.service_account.project_id";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarmonyCredentials {
    /// The AppGallery Connect project: the send path names it (14.1).
    pub project_id: String,
    /// The JWT header's `kid` (14.2).
    pub key_id: String,
    /// The JWT's `iss` (14.2).
    pub sub_account: String,
    /// PKCS#8 PEM, RSA (14.2). Debug never shows it.
    pub private_key: Secret,
    /// The key file's `token_uri`, shown back as given (the JWT's `aud` is
    /// Huawei's fixed value, see [`crate::jwt::AUDIENCE`]).
    pub token_uri: Option<String>,
}

fn private_key_text(field: &str, s: String) -> Result<String, ServiceError> {
    if s.trim().is_empty() || s.len() > MAX_PRIVATE_KEY_BYTES {
        return Err(ServiceError::invalid(
            field,
            format!("must be a PEM private key of 1 to {MAX_PRIVATE_KEY_BYTES} bytes"),
        ));
    }
    if !s.contains("-----BEGIN PRIVATE KEY-----") || !s.contains("-----END PRIVATE KEY-----") {
        // 14.2 [C]: the key file holds a PKCS#8 PEM key ("BEGIN PRIVATE
        // KEY"); an RSA PEM ("BEGIN RSA PRIVATE KEY") is not what
        // AppGallery Connect issues.
        return Err(ServiceError::invalid(
            field,
            "must be the key file's PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)",
        ));
    }
    Ok(s)
}

impl HarmonyCredentials {
    /// Parses `credentials`; `service_account.private_key` may be omitted
    /// when `stored` holds one (an edit keeping it).
    pub fn parse(mut creds: Obj, stored: Option<&VendorData>) -> Result<Self, ServiceError> {
        creds.deny_unknown(&["service_account"])?;
        let mut sa = creds.req_obj("service_account")?;
        let text = |sa: &mut Obj, key: &str| -> Result<String, ServiceError> {
            let f = sa.name(key);
            credential_text(&f, sa.req_str(key)?)
        };
        let project_id = text(&mut sa, "project_id")?;
        let key_id = text(&mut sa, "key_id")?;
        let sub_account = text(&mut sa, "sub_account")?;
        let f_key = sa.name("private_key");
        let private_key = match sa.opt_str("private_key")? {
            Some(k) => Secret::new(private_key_text(&f_key, k)?),
            None => match stored.and_then(|d| d.s(ATTR_PRIVATE_KEY)) {
                Some(k) => Secret::new(k),
                None => return Err(ServiceError::invalid(f_key, "is required")),
            },
        };
        let f_uri = sa.name("token_uri");
        let token_uri = match sa.opt_str("token_uri")? {
            Some(u) => Some(credential_text(&f_uri, u)?),
            None => None,
        };
        // The other documented fields are read only for their type.
        for key in [
            "auth_uri",
            "auth_provider_cert_uri",
            "client_cert_uri",
            "type",
        ] {
            sa.opt_str(key)?;
        }
        Ok(HarmonyCredentials {
            project_id,
            key_id,
            sub_account,
            private_key,
            token_uri,
        })
    }

    pub fn to_data(&self) -> VendorData {
        let mut d = VendorData::new();
        d.set_s(ATTR_PROJECT_ID, &self.project_id);
        d.set_s(ATTR_KEY_ID, &self.key_id);
        d.set_s(ATTR_SUB_ACCOUNT, &self.sub_account);
        d.set_s(ATTR_PRIVATE_KEY, self.private_key.expose());
        if let Some(u) = &self.token_uri {
            d.set_s(ATTR_TOKEN_URI, u);
        }
        d
    }

    pub fn from_data(d: &VendorData) -> Option<Self> {
        Some(HarmonyCredentials {
            project_id: d.s(ATTR_PROJECT_ID)?.to_string(),
            key_id: d.s(ATTR_KEY_ID)?.to_string(),
            sub_account: d.s(ATTR_SUB_ACCOUNT)?.to_string(),
            private_key: Secret::new(d.s(ATTR_PRIVATE_KEY)?),
            token_uri: d.s(ATTR_TOKEN_URI).map(str::to_string),
        })
    }

    pub fn view(&self) -> Value {
        let mut sa = json!({
            "project_id": self.project_id,
            "key_id": self.key_id,
            "sub_account": self.sub_account,
            "private_key": self.private_key.masked(),
        });
        if let Some(u) = &self.token_uri {
            sa["token_uri"] = u.as_str().into();
        }
        json!({ "service_account": sa })
    }

    /// The table partition of one service-account key of one project:
    /// 14.2 [U] asks for one JWT per (project, key), minted about hourly
    /// and shared, and Push Kit counts its flow control per project
    /// (14.7). A changed private key starts clean.
    pub fn account_key(&self) -> String {
        let digest = keys::credential_digest(&[
            &self.project_id,
            &self.key_id,
            &self.sub_account,
            self.private_key.expose(),
        ]);
        keys::vendor_pk(
            "harmony",
            &format!("{}#{}#{digest}", self.project_id, self.key_id),
        )
    }
}

/// `vendor_options` as HarmonyOS takes them: the receipt callback user name
/// and secret of the AppGallery Connect receipt configuration (14.8), with
/// which Huawei signs `X-HUAWEI-CALLBACK-ID`. Both are write-only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HarmonyOptions {
    pub callback_user: Option<Secret>,
    pub callback_secret: Option<Secret>,
}

impl HarmonyOptions {
    /// Parses `vendor_options`; on an edit an option left out of a
    /// non-empty object keeps the stored one. One without the other is
    /// refused: Huawei signs the user name with the secret.
    pub fn parse(raw: Option<Obj>, stored: Option<&VendorData>) -> Result<Self, ServiceError> {
        let kept = |key: &str| stored.and_then(|d| d.s(key)).map(Secret::new);
        let Some(mut o) = raw else {
            return Ok(HarmonyOptions::default());
        };
        o.deny_unknown(&[OPT_CALLBACK_USER, OPT_CALLBACK_SECRET])?;
        // docs/api.md: `{}` means no options.
        if !o.has(OPT_CALLBACK_USER) && !o.has(OPT_CALLBACK_SECRET) {
            return Ok(HarmonyOptions::default());
        }
        let f_user = o.name(OPT_CALLBACK_USER);
        let f_secret = o.name(OPT_CALLBACK_SECRET);
        let callback_user = match o.opt_str(OPT_CALLBACK_USER)? {
            Some(u) => Some(Secret::new(credential_text(&f_user, u)?)),
            None => kept(OPT_CALLBACK_USER),
        };
        let callback_secret = match o.opt_str(OPT_CALLBACK_SECRET)? {
            Some(s) => Some(Secret::new(credential_text(&f_secret, s)?)),
            None => kept(OPT_CALLBACK_SECRET),
        };
        match (&callback_user, &callback_secret) {
            (Some(_), None) => Err(ServiceError::invalid(
                f_secret,
                "is required with callback_user (Huawei signs receipts with both)",
            )),
            (None, Some(_)) => Err(ServiceError::invalid(
                f_user,
                "is required with callback_secret (Huawei signs receipts with both)",
            )),
            _ => Ok(HarmonyOptions {
                callback_user,
                callback_secret,
            }),
        }
    }

    pub fn to_data(&self) -> VendorData {
        let mut d = VendorData::new();
        if let Some(u) = &self.callback_user {
            d.set_s(OPT_CALLBACK_USER, u.expose());
        }
        if let Some(s) = &self.callback_secret {
            d.set_s(OPT_CALLBACK_SECRET, s.expose());
        }
        d
    }

    pub fn from_data(d: &VendorData) -> Self {
        HarmonyOptions {
            callback_user: d.s(OPT_CALLBACK_USER).map(Secret::new),
            callback_secret: d.s(OPT_CALLBACK_SECRET).map(Secret::new),
        }
    }

    /// As answers show them: masked like a credential secret.
    pub fn view(&self) -> Option<Value> {
        let mut m = serde_json::Map::new();
        if let Some(u) = &self.callback_user {
            m.insert(OPT_CALLBACK_USER.into(), u.masked().into());
        }
        if let Some(s) = &self.callback_secret {
            m.insert(OPT_CALLBACK_SECRET.into(), s.masked().into());
        }
        (!m.is_empty()).then_some(Value::Object(m))
    }

    /// The user name and secret receipts are signed with, when both are set.
    pub fn callback(&self) -> Option<(&str, &str)> {
        Some((
            self.callback_user.as_ref()?.expose(),
            self.callback_secret.as_ref()?.expose(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::input::parse_body;

    const KEY: &str = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n";

    fn creds(json: &str, stored: Option<&VendorData>) -> Result<HarmonyCredentials, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        HarmonyCredentials::parse(body.req_obj("credentials").unwrap(), stored)
    }

    fn options(json: &str, stored: Option<&VendorData>) -> Result<HarmonyOptions, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        HarmonyOptions::parse(body.opt_obj("vendor_options").unwrap(), stored)
    }

    fn sa(fields: &str) -> String {
        format!(r#"{{"credentials":{{"service_account":{{{fields}}}}}}}"#)
    }

    fn full() -> String {
        sa(&format!(
            r#""project_id":"388421841221","key_id":"k-1","sub_account":"118079","private_key":"{KEY}","token_uri":"https://oauth-login.cloud.huawei.com/oauth2/v3/token","auth_uri":"https://x","auth_provider_cert_uri":"https://y","client_cert_uri":"https://z""#
        ))
    }

    #[test]
    fn every_bad_field_is_named() {
        let key = format!(r#""private_key":"{KEY}""#);
        for (json, field) in [
            (r#"{"credentials":{}}"#.to_string(), FIELD_SERVICE_ACCOUNT),
            (
                r#"{"credentials":{"service_account":"{}"}}"#.to_string(),
                FIELD_SERVICE_ACCOUNT,
            ),
            (
                sa(&format!(r#""key_id":"k","sub_account":"1",{key}"#)),
                FIELD_PROJECT_ID,
            ),
            (
                sa(&format!(r#""project_id":"p","sub_account":"1",{key}"#)),
                FIELD_KEY_ID,
            ),
            (
                sa(&format!(r#""project_id":"p","key_id":"k",{key}"#)),
                "credentials.service_account.sub_account",
            ),
            (
                sa(r#""project_id":"p","key_id":"k","sub_account":"1""#),
                FIELD_PRIVATE_KEY,
            ),
            (
                sa(r#""project_id":"p","key_id":"k","sub_account":"1","private_key":"not a key""#),
                FIELD_PRIVATE_KEY,
            ),
            (
                sa(r#""project_id":"p","key_id":"k","sub_account":"1","private_key":"""#),
                FIELD_PRIVATE_KEY,
            ),
            (
                sa(&format!(
                    r#""project_id":" p","key_id":"k","sub_account":"1",{key}"#
                )),
                FIELD_PROJECT_ID,
            ),
            (
                sa(&format!(
                    r#""project_id":1,"key_id":"k","sub_account":"1",{key}"#
                )),
                FIELD_PROJECT_ID,
            ),
            (
                sa(&format!(
                    r#""project_id":"p","key_id":"k","sub_account":"1",{key},"auth_uri":[]"#
                )),
                "credentials.service_account.auth_uri",
            ),
            (
                sa(&format!(
                    r#""project_id":"p","key_id":"k","sub_account":"1",{key},"token_uri":5"#
                )),
                "credentials.service_account.token_uri",
            ),
            (
                r#"{"credentials":{"service_account":{},"app_id":"1"}}"#.to_string(),
                "credentials.app_id",
            ),
        ] {
            assert_eq!(
                creds(&json, None).unwrap_err().field(),
                Some(field),
                "{json}"
            );
        }
        let huge = format!(
            "-----BEGIN PRIVATE KEY-----{}-----END PRIVATE KEY-----",
            "A".repeat(MAX_PRIVATE_KEY_BYTES)
        );
        let json = sa(&format!(
            r#""project_id":"p","key_id":"k","sub_account":"1","private_key":"{huge}""#
        ));
        assert_eq!(
            creds(&json, None).unwrap_err().field(),
            Some(FIELD_PRIVATE_KEY)
        );
    }

    #[test]
    fn round_trips_masking_and_kept_secrets() {
        let c = creds(&full(), None).unwrap();
        // A field a newer key file adds is taken, not stored.
        let newer = full().replace(r#""auth_uri""#, r#""developer_id":"123","auth_uri""#);
        assert_eq!(creds(&newer, None).unwrap(), c);
        assert_eq!(c.project_id, "388421841221");
        assert_eq!(c.key_id, "k-1");
        assert_eq!(c.sub_account, "118079");
        assert!(c
            .private_key
            .expose()
            .starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let d = c.to_data();
        assert!(d.iter().all(|(k, _)| k.starts_with("harmony_")));
        assert_eq!(HarmonyCredentials::from_data(&d), Some(c.clone()));
        let v = c.view();
        let shown = &v["service_account"];
        assert_eq!(shown["project_id"], "388421841221");
        assert_eq!(shown["key_id"], "k-1");
        assert!(shown["private_key"].as_str().unwrap().starts_with("****"));
        assert!(!v.to_string().contains("MIIEvQ"));
        assert!(!format!("{c:?}").contains("MIIEvQ"), "Debug never shows it");
        // An edit may leave the key out to keep it.
        let kept = creds(
            &sa(r#""project_id":"388421841221","key_id":"k-1","sub_account":"118079""#),
            Some(&d),
        )
        .unwrap();
        assert_eq!(kept.private_key, c.private_key);
        assert_eq!(kept.account_key(), c.account_key());
        assert!(c.account_key().contains("388421841221#k-1#"));
        assert!(!c.account_key().contains("MIIE"));
        let other = HarmonyCredentials {
            private_key: Secret::new("another"),
            ..c.clone()
        };
        assert_ne!(
            other.account_key(),
            c.account_key(),
            "a new key starts clean"
        );
    }

    #[test]
    fn options_are_write_only_and_masked() {
        assert_eq!(options("{}", None).unwrap(), HarmonyOptions::default());
        assert_eq!(HarmonyOptions::default().view(), None);
        for (json, field) in [
            (r#"{"vendor_options":{"user":"x"}}"#, "vendor_options.user"),
            (
                r#"{"vendor_options":{"callback_user":"u"}}"#,
                "vendor_options.callback_secret",
            ),
            (
                r#"{"vendor_options":{"callback_secret":"s"}}"#,
                "vendor_options.callback_user",
            ),
            (
                r#"{"vendor_options":{"callback_user":"","callback_secret":"s"}}"#,
                "vendor_options.callback_user",
            ),
        ] {
            assert_eq!(
                options(json, None).unwrap_err().field(),
                Some(field),
                "{json}"
            );
        }
        let o = options(
            r#"{"vendor_options":{"callback_user":"receipt-user","callback_secret":"cb-secret-123456"}}"#,
            None,
        )
        .unwrap();
        assert_eq!(o.callback(), Some(("receipt-user", "cb-secret-123456")));
        let d = o.to_data();
        assert_eq!(HarmonyOptions::from_data(&d), o);
        let v = o.view().unwrap();
        assert_eq!(v["callback_secret"], "****456");
        assert_eq!(v["callback_user"], "****ser");
        assert!(!format!("{o:?}").contains("cb-secret"));
        let rotated = options(
            r#"{"vendor_options":{"callback_secret":"rotated-secret"}}"#,
            Some(&d),
        )
        .unwrap();
        assert_eq!(rotated.callback(), Some(("receipt-user", "rotated-secret")));
        assert_eq!(
            options(r#"{"vendor_options":{}}"#, Some(&d)).unwrap(),
            HarmonyOptions::default()
        );
    }
}
