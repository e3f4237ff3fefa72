//! Certificates: one vendor credential set plus the click behaviour of its
//! notifications (API.md "Certificates").

use super::ids::{mask_tail, CertificateId};
use super::input::{check_printable, Obj};
use crate::error::ServiceError;
use serde::Serialize;
use std::fmt;

/// vivo's message categories (VIVO_API.md 1.4). Upper case on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Im,
    Account,
    Todo,
    DeviceReminder,
    Order,
    Subscription,
    News,
    Content,
    Marketing,
    Social,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Im,
        Category::Account,
        Category::Todo,
        Category::DeviceReminder,
        Category::Order,
        Category::Subscription,
        Category::News,
        Category::Content,
        Category::Marketing,
        Category::Social,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Im => "IM",
            Category::Account => "ACCOUNT",
            Category::Todo => "TODO",
            Category::DeviceReminder => "DEVICE_REMINDER",
            Category::Order => "ORDER",
            Category::Subscription => "SUBSCRIPTION",
            Category::News => "NEWS",
            Category::Content => "CONTENT",
            Category::Marketing => "MARKETING",
            Category::Social => "SOCIAL",
        }
    }

    /// vivo's classification for the category: 1 system, 0 operational.
    /// Sending both must agree or vivo answers 10097 (VIVO_API.md 1.4).
    pub fn classification(self) -> u8 {
        match self {
            Category::Im
            | Category::Account
            | Category::Todo
            | Category::DeviceReminder
            | Category::Order
            | Category::Subscription => 1,
            Category::News | Category::Content | Category::Marketing | Category::Social => 0,
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, ServiceError> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                ServiceError::invalid(field, format!("must be one of {}", names.join(", ")))
            })
    }
}

/// Longest URL or intent URI accepted. vivo's limit for skipContent is
/// 1000, 1024 or 2048 depending on the source (VIVO_API.md 1.3, CONFLICT):
/// the safer reading, the smallest, is taken.
pub const MAX_SKIP_CONTENT: usize = 1000;

/// What a tap on the notification does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClickAction {
    OpenApp,
    OpenUrl { url: String },
    OpenPage { intent_uri: String },
}

impl ClickAction {
    pub fn parse(mut obj: Obj) -> Result<Self, ServiceError> {
        let ty = obj.req_str("type")?;
        match ty.as_str() {
            "open_app" => {
                obj.deny_unknown(&["type"])?;
                Ok(ClickAction::OpenApp)
            }
            "open_url" => {
                obj.deny_unknown(&["type", "url"])?;
                let field = obj.name("url");
                let url = obj.req_str("url")?;
                check_url(&field, &url)?;
                Ok(ClickAction::OpenUrl { url })
            }
            "open_page" => {
                obj.deny_unknown(&["type", "intent_uri"])?;
                let field = obj.name("intent_uri");
                let uri = obj.req_str("intent_uri")?;
                check_intent_uri(&field, &uri)?;
                Ok(ClickAction::OpenPage { intent_uri: uri })
            }
            _ => Err(ServiceError::invalid(
                obj.name("type"),
                "must be one of open_app, open_url, open_page",
            )),
        }
    }

    /// vivo's skipType and skipContent (VIVO_API.md 1.3: 1 app, 2 URL, 4 page).
    pub fn vivo_skip(&self) -> (u8, Option<&str>) {
        match self {
            ClickAction::OpenApp => (1, None),
            ClickAction::OpenUrl { url } => (2, Some(url)),
            ClickAction::OpenPage { intent_uri } => (4, Some(intent_uri)),
        }
    }
}

fn check_url(field: &str, url: &str) -> Result<(), ServiceError> {
    if url.len() > MAX_SKIP_CONTENT {
        return Err(ServiceError::invalid(
            field,
            format!("at most {MAX_SKIP_CONTENT} bytes"),
        ));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| ServiceError::invalid(field, "must be an http or https URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ServiceError::invalid(
            field,
            "must be an http or https URL with a host and no spaces",
        ));
    }
    Ok(())
}

/// An Android intent URI (`intent:…;end` / `intent://…#Intent;…;end`), the
/// form vivo documents for skipType 4 (VIVO_API.md 1.3).
fn check_intent_uri(field: &str, uri: &str) -> Result<(), ServiceError> {
    if uri.len() > MAX_SKIP_CONTENT {
        return Err(ServiceError::invalid(
            field,
            format!("at most {MAX_SKIP_CONTENT} bytes"),
        ));
    }
    if !uri.starts_with("intent:") || !uri.ends_with(";end") {
        return Err(ServiceError::invalid(
            field,
            "must be an Android intent URI (intent:…;end)",
        ));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ServiceError::invalid(field, "must not contain spaces"));
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushMode {
    Production,
    Test,
}

impl PushMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PushMode::Production => "production",
            PushMode::Test => "test",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, ServiceError> {
        match s {
            "production" => Ok(PushMode::Production),
            "test" => Ok(PushMode::Test),
            _ => Err(ServiceError::invalid(field, "must be production or test")),
        }
    }

    /// vivo pushMode: 0 formal, 1 test (VIVO_API.md 1.3).
    pub fn vivo(self) -> u8 {
        match self {
            PushMode::Production => 0,
            PushMode::Test => 1,
        }
    }
}

/// A secret string: Debug and Display never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// `****c21`: API.md, last 3 characters at most.
    pub fn masked(&self) -> String {
        mask_tail(&self.0, 3)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// vivo's credential set (VIVO_API.md 1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VivoCredentials {
    /// Sent to vivo as a JSON number.
    pub app_id: u64,
    pub app_key: String,
    pub app_secret: Secret,
}

pub const MAX_CREDENTIAL_LEN: usize = 128;

/// The vivo AppID: decimal digits, positive, sent to vivo as a number.
fn parse_vivo_app_id(field: &str, s: &str) -> Result<u64, ServiceError> {
    let bad = || ServiceError::invalid(field, "must be decimal digits (vivo's numeric AppID)");
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match s.parse::<u64>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(n) => Ok(n),
    }
}

fn parse_credential_text(field: &str, s: String) -> Result<String, ServiceError> {
    if s.trim().is_empty() || s.len() > MAX_CREDENTIAL_LEN {
        return Err(ServiceError::invalid(
            field,
            format!("must be 1 to {MAX_CREDENTIAL_LEN} characters"),
        ));
    }
    if s.trim() != s || s.chars().any(|c| c.is_control()) {
        return Err(ServiceError::invalid(
            field,
            "must not have surrounding spaces or control characters",
        ));
    }
    Ok(s)
}

pub const MAX_NAME_LEN: usize = 128;

/// A certificate as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Certificate {
    pub id: CertificateId,
    pub name: String,
    pub credentials: VivoCredentials,
    pub click_action: ClickAction,
    pub category: Category,
    pub push_mode: PushMode,
    /// The title of pushes through this certificate that give none.
    pub default_title: Option<String>,
    /// Delivery receipts, when enabled (API.md "Certificates": receipt_id).
    pub receipt: Option<Receipts>,
    pub created_at: time::OffsetDateTime,
    pub updated_at: time::OffsetDateTime,
}

/// A create or edit body, parsed. `app_secret` is None only on an edit that
/// keeps the stored secret.
#[derive(Clone, Debug)]
pub struct CertificateInput {
    pub name: String,
    pub vivo_app_id: u64,
    pub app_key: String,
    pub app_secret: Option<Secret>,
    pub click_action: ClickAction,
    pub category: Category,
    pub push_mode: PushMode,
    pub default_title: Option<String>,
    /// vivo's receipt ID (from the vivo console), or None: no receipts.
    pub receipt_id: Option<String>,
    /// Extension: replace the receipt URL's secret (the old URL stops working).
    pub rotate_receipt_url: bool,
}

/// Most characters of a receipt ID. vivo's console issues short numeric
/// IDs; `callback.id` has no documented limit (VIVO_API.md 1.8), so the
/// bound is ours, generous, and the charset the console's IDs use.
pub const MAX_RECEIPT_ID_LEN: usize = 64;

/// A certificate's receipt settings: vivo's receipt ID, and the SHA-256 of
/// the secret in the receipt URL (the secret itself is shown once, never
/// stored, never logged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipts {
    pub receipt_id: String,
    pub secret_hash: String,
}

/// The unguessable secret of a receipt URL: 32 random bytes, base64url
/// (43 characters). Debug never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceiptSecret(String);

pub const RECEIPT_SECRET_LEN: usize = 43;

impl ReceiptSecret {
    pub fn generate() -> Self {
        use base64::Engine;
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        ReceiptSecret(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A secret as it appears in a receipt URL's path; None when it cannot
    /// be one (wrong length or characters), so no lookup is spent on it.
    pub fn from_path(raw: &str) -> Option<Self> {
        (raw.len() == RECEIPT_SECRET_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| ReceiptSecret(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the table keeps: hex SHA-256 of the secret.
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for ReceiptSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

fn parse_receipt_id(field: &str, s: &str) -> Result<String, ServiceError> {
    if s.is_empty()
        || s.len() > MAX_RECEIPT_ID_LEN
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ServiceError::invalid(
            field,
            format!("must be 1 to {MAX_RECEIPT_ID_LEN} of A-Z a-z 0-9 - _ (vivo's receipt ID)"),
        ));
    }
    Ok(s.to_string())
}

impl CertificateInput {
    /// `secret_required`: true on create, false on edit (PUT may omit it).
    pub fn parse(mut body: Obj, secret_required: bool) -> Result<Self, ServiceError> {
        body.deny_unknown(&[
            "platform",
            "name",
            "credentials",
            "click_action",
            "category",
            "push_mode",
            "default_title",
            "receipt_id",
            "rotate_receipt_url",
        ])?;
        let platform = body.req_str("platform")?;
        if platform != "vivo" {
            return Err(ServiceError::invalid(
                "platform",
                "unsupported platform (supported: vivo)",
            ));
        }
        let mut creds = body.req_obj("credentials")?;
        creds.deny_unknown(&["app_id", "app_key", "app_secret"])?;
        let f_id = creds.name("app_id");
        let vivo_app_id = parse_vivo_app_id(&f_id, &creds.req_str("app_id")?)?;
        let f_key = creds.name("app_key");
        let app_key = parse_credential_text(&f_key, creds.req_str("app_key")?)?;
        let f_secret = creds.name("app_secret");
        let app_secret = match creds.opt_str("app_secret")? {
            Some(s) => Some(Secret::new(parse_credential_text(&f_secret, s)?)),
            None if secret_required => {
                return Err(ServiceError::invalid(f_secret, "is required"));
            }
            None => None,
        };
        let click_action = match body.opt_obj("click_action")? {
            Some(obj) => ClickAction::parse(obj)?,
            None => ClickAction::OpenApp,
        };
        let category = match body.opt_str("category")? {
            Some(s) => Category::parse("category", &s)?,
            None => Category::Im,
        };
        let push_mode = match body.opt_str("push_mode")? {
            Some(s) => PushMode::parse("push_mode", &s)?,
            None => PushMode::Production,
        };
        let default_title = body.opt_str("default_title")?;
        if let Some(t) = &default_title {
            super::push::text("default_title", t, super::push::MAX_TITLE_CHARS)?;
        }
        let receipt_id = body
            .opt_str("receipt_id")?
            .map(|r| parse_receipt_id("receipt_id", &r))
            .transpose()?;
        let rotate_receipt_url = body.opt_bool("rotate_receipt_url")?.unwrap_or(false);
        if rotate_receipt_url && receipt_id.is_none() {
            return Err(ServiceError::invalid(
                "rotate_receipt_url",
                "needs receipt_id: there is no receipt URL without it",
            ));
        }
        let name = match body.opt_str("name")? {
            Some(n) => {
                if n.trim().is_empty() || n.chars().count() > MAX_NAME_LEN {
                    return Err(ServiceError::invalid(
                        "name",
                        format!("must be 1 to {MAX_NAME_LEN} characters"),
                    ));
                }
                check_printable("name", &n)?;
                n
            }
            None => format!("vivo {vivo_app_id}"),
        };
        Ok(CertificateInput {
            name,
            vivo_app_id,
            app_key,
            app_secret,
            click_action,
            category,
            push_mode,
            default_title,
            receipt_id,
            rotate_receipt_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::input::parse_body;

    fn parse(json: &str, secret_required: bool) -> Result<CertificateInput, ServiceError> {
        CertificateInput::parse(parse_body(json.as_bytes()).unwrap(), secret_required)
    }

    fn field_of(json: &str) -> String {
        parse(json, true).unwrap_err().field().unwrap().to_string()
    }

    const OK: &str = r#"{"platform":"vivo","credentials":{"app_id":"105123456","app_key":"k","app_secret":"s"}}"#;

    #[test]
    fn defaults_are_open_app_im_production() {
        let c = parse(OK, true).unwrap();
        assert_eq!(c.click_action, ClickAction::OpenApp);
        assert_eq!(c.category, Category::Im);
        assert_eq!(c.push_mode, PushMode::Production);
        assert_eq!(c.vivo_app_id, 105123456);
        assert_eq!(c.name, "vivo 105123456");
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases = [
            (
                r#"{"platform":"apns","credentials":{"app_id":"1","app_key":"k","app_secret":"s"}}"#,
                "platform",
            ),
            (r#"{"platform":"vivo"}"#, "credentials"),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"x1","app_key":"k","app_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":105,"app_key":"k","app_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"0","app_key":"k","app_secret":"s"}}"#,
                "credentials.app_id",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"","app_secret":"s"}}"#,
                "credentials.app_key",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k"}}"#,
                "credentials.app_secret",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"s","x":1}}"#,
                "credentials.x",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"s"},"colour":1}"#,
                "colour",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"s"},"category":"im"}"#,
                "category",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"s"},"push_mode":"dev"}"#,
                "push_mode",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"s"},"name":""}"#,
                "name",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"s"},"click_action":{"type":"open_url"}}"#,
                "click_action.url",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"s"},"click_action":{"type":"open_url","url":"ftp://x"}}"#,
                "click_action.url",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"s"},"click_action":{"type":"open_page","intent_uri":"myapp://x"}}"#,
                "click_action.intent_uri",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"s"},"click_action":{"type":"open_app","url":"https://x"}}"#,
                "click_action.url",
            ),
            (
                r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"s"},"click_action":{"type":"dial"}}"#,
                "click_action.type",
            ),
        ];
        for (json, field) in cases {
            assert_eq!(field_of(json), field, "{json}");
        }
    }

    #[test]
    fn edit_may_omit_the_secret() {
        let json = r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k"}}"#;
        assert!(parse(json, false).unwrap().app_secret.is_none());
    }

    #[test]
    fn click_actions_map_to_vivo_skip_types() {
        assert_eq!(ClickAction::OpenApp.vivo_skip(), (1, None));
        let url = ClickAction::OpenUrl {
            url: "https://e.com/x".into(),
        };
        assert_eq!(url.vivo_skip(), (2, Some("https://e.com/x")));
        let page = ClickAction::OpenPage {
            intent_uri: "intent://chat#Intent;scheme=im;end".into(),
        };
        assert_eq!(page.vivo_skip().0, 4);
    }

    #[test]
    fn categories_agree_with_vivo_classification() {
        let system: Vec<&str> = Category::ALL
            .iter()
            .filter(|c| c.classification() == 1)
            .map(|c| c.as_str())
            .collect();
        assert_eq!(
            system,
            [
                "IM",
                "ACCOUNT",
                "TODO",
                "DEVICE_REMINDER",
                "ORDER",
                "SUBSCRIPTION"
            ]
        );
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("topsecretvalue");
        assert_eq!(format!("{s:?}"), "[redacted]");
    }
}
