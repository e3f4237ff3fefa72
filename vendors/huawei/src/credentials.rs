//! Huawei's credentials (API.md: `app_id`, `client_id`, `client_secret`
//! secret: the AppGallery Connect OAuth 2.0 client) and receipt options
//! (`callback_user`, `callback_secret`, both write-only): parsing, stored
//! attributes, masked views, the account.

use offpush::domain::input::Obj;
use offpush::domain::{credential_text, Secret, VendorData};
use offpush::store::keys;
use offpush::ServiceError;
use serde_json::{json, Value};

pub const ATTR_APP_ID: &str = "huawei_app_id";
pub const ATTR_CLIENT_ID: &str = "huawei_client_id";
pub const ATTR_CLIENT_SECRET: &str = "huawei_client_secret";
pub const OPT_CALLBACK_USER: &str = "callback_user";
pub const OPT_CALLBACK_SECRET: &str = "callback_secret";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuaweiCredentials {
    pub app_id: String,
    /// The OAuth 2.0 client id (VENDORS_API.md 4.1); the send path names it
    /// (4.2: `/v1/{clientId}/messages:send`).
    pub client_id: String,
    pub client_secret: Secret,
}

impl HuaweiCredentials {
    /// Parses `credentials`; `client_secret` may be omitted when `stored`
    /// holds one (an edit keeping it).
    pub fn parse(mut creds: Obj, stored: Option<&VendorData>) -> Result<Self, ServiceError> {
        creds.deny_unknown(&["app_id", "client_id", "client_secret"])?;
        let f_app = creds.name("app_id");
        let app_id = credential_text(&f_app, creds.req_str("app_id")?)?;
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
        Ok(HuaweiCredentials {
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
        Some(HuaweiCredentials {
            app_id: d.s(ATTR_APP_ID)?.to_string(),
            client_id: d.s(ATTR_CLIENT_ID)?.to_string(),
            client_secret: Secret::new(d.s(ATTR_CLIENT_SECRET)?),
        })
    }

    pub fn view(&self) -> Value {
        json!({
            "app_id": self.app_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret.masked(),
        })
    }

    /// The table partition of one Huawei OAuth client: Huawei issues and
    /// counts access tokens per client (VENDORS_API.md 4.1: 1000 per 5 min,
    /// one token to share) and counts flow control per app (4.5). A changed
    /// secret starts clean.
    pub fn account_key(&self) -> String {
        let digest = keys::credential_digest(&[&self.client_id, self.client_secret.expose()]);
        keys::vendor_pk("huawei", &format!("{}#{digest}", self.client_id))
    }
}

/// `vendor_options` as Huawei takes them: the receipt callback user name
/// and secret set in AppGallery Connect (VENDORS_API.md 4.6), with which
/// Huawei signs `X-HUAWEI-CALLBACK-ID`. Both are write-only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HuaweiOptions {
    pub callback_user: Option<Secret>,
    pub callback_secret: Option<Secret>,
}

impl HuaweiOptions {
    /// Parses `vendor_options`; on an edit an option left out of a
    /// non-empty object keeps the stored one (both are write-only, like a credential secret). A
    /// secret without a user name (or the reverse) is refused: Huawei signs
    /// the user name with the secret, so one alone cannot check anything.
    pub fn parse(raw: Option<Obj>, stored: Option<&VendorData>) -> Result<Self, ServiceError> {
        let kept = |key: &str| stored.and_then(|d| d.s(key)).map(Secret::new);
        let Some(mut o) = raw else {
            return Ok(HuaweiOptions::default());
        };
        o.deny_unknown(&[OPT_CALLBACK_USER, OPT_CALLBACK_SECRET])?;
        // docs/api.md: `{}` means no options; a partial object keeps the
        // stored value of the option it leaves out.
        if !o.has(OPT_CALLBACK_USER) && !o.has(OPT_CALLBACK_SECRET) {
            return Ok(HuaweiOptions::default());
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
            _ => Ok(HuaweiOptions {
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
        HuaweiOptions {
            callback_user: d.s(OPT_CALLBACK_USER).map(Secret::new),
            callback_secret: d.s(OPT_CALLBACK_SECRET).map(Secret::new),
        }
    }

    /// As answers show them: masked like a credential secret; None when
    /// none is set.
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

    fn creds(json: &str, stored: Option<&VendorData>) -> Result<HuaweiCredentials, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        HuaweiCredentials::parse(body.req_obj("credentials").unwrap(), stored)
    }

    fn options(json: &str, stored: Option<&VendorData>) -> Result<HuaweiOptions, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        HuaweiOptions::parse(body.opt_obj("vendor_options").unwrap(), stored)
    }

    #[test]
    fn every_bad_field_is_named() {
        for (json, field) in [
            (
                r#"{"credentials":{"client_id":"1","client_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":"1","client_secret":"s"}}"#,
                "credentials.client_id",
            ),
            (
                r#"{"credentials":{"app_id":"1","client_id":"1"}}"#,
                "credentials.client_secret",
            ),
            (
                r#"{"credentials":{"app_id":"1","client_id":"1","client_secret":" s"}}"#,
                "credentials.client_secret",
            ),
            (
                r#"{"credentials":{"app_id":"","client_id":"1","client_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":1,"client_id":"1","client_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"credentials":{"app_id":"1","client_id":"1","client_secret":"s","app_key":"k"}}"#,
                "credentials.app_key",
            ),
        ] {
            assert_eq!(
                creds(json, None).unwrap_err().field(),
                Some(field),
                "{json}"
            );
        }
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
    }

    #[test]
    fn round_trips_masking_and_kept_secrets() {
        let c = creds(
            r#"{"credentials":{"app_id":"10086","client_id":"10086","client_secret":"abcdefgh-secret-x9Z"}}"#,
            None,
        )
        .unwrap();
        let d = c.to_data();
        assert!(d.iter().all(|(k, _)| k.starts_with("huawei_")));
        assert_eq!(HuaweiCredentials::from_data(&d), Some(c.clone()));
        let v = c.view();
        assert_eq!(v["client_secret"], "****x9Z");
        assert_eq!(v["client_id"], "10086");
        assert!(!v.to_string().contains("abcdefgh"));
        assert!(
            !format!("{c:?}").contains("abcdefgh"),
            "Debug never shows it"
        );
        let kept = creds(
            r#"{"credentials":{"app_id":"10086","client_id":"10086"}}"#,
            Some(&d),
        )
        .unwrap();
        assert_eq!(kept.client_secret, c.client_secret);
        assert_eq!(kept.account_key(), c.account_key());
        let other = creds(
            r#"{"credentials":{"app_id":"10086","client_id":"10086","client_secret":"another"}}"#,
            Some(&d),
        )
        .unwrap();
        assert_ne!(
            other.account_key(),
            c.account_key(),
            "a new secret starts clean"
        );
        assert!(!c.account_key().contains("secret"));
    }

    #[test]
    fn options_are_write_only_and_masked() {
        assert_eq!(options("{}", None).unwrap(), HuaweiOptions::default());
        assert_eq!(HuaweiOptions::default().view(), None);
        let o = options(
            r#"{"vendor_options":{"callback_user":"receipt-user","callback_secret":"cb-secret-123456"}}"#,
            None,
        )
        .unwrap();
        assert_eq!(o.callback(), Some(("receipt-user", "cb-secret-123456")));
        let d = o.to_data();
        assert_eq!(HuaweiOptions::from_data(&d), o);
        let v = o.view().unwrap();
        assert_eq!(v["callback_secret"], "****456");
        assert_eq!(v["callback_user"], "****ser");
        assert!(!format!("{o:?}").contains("cb-secret"));
        // An edit may give one (the other kept); `{}` means none.
        let new_secret = options(
            r#"{"vendor_options":{"callback_secret":"rotated-secret"}}"#,
            Some(&d),
        )
        .unwrap();
        assert_eq!(
            new_secret.callback(),
            Some(("receipt-user", "rotated-secret"))
        );
        assert_eq!(
            options(r#"{"vendor_options":{}}"#, Some(&d)).unwrap(),
            HuaweiOptions::default()
        );
        assert_eq!(options("{}", Some(&d)).unwrap(), HuaweiOptions::default());
    }
}
