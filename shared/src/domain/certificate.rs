//! Certificates: one vendor credential set plus the click behaviour of its
//! notifications (API.md "Certificates").

use super::ids::{mask_tail, CertificateId};
use super::input::{check_printable, Obj};
use crate::error::ServiceError;
use serde::Serialize;
use std::fmt;

/// The product's message categories (API.md "Certificates"): the neutral
/// intent of a push, which each vendor adapter maps to its own
/// classification. Upper case on the wire.
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

    /// Service and communication categories (API.md: `IM` … `SUBSCRIPTION`),
    /// as opposed to operational ones (`NEWS` … `SOCIAL`). Vendors map the
    /// two kinds to their own system/operational classes and priorities.
    pub fn is_service(self) -> bool {
        matches!(
            self,
            Category::Im
                | Category::Account
                | Category::Todo
                | Category::DeviceReminder
                | Category::Order
                | Category::Subscription
        )
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

/// Longest URL or intent URI accepted: the smallest of the vendors' limits
/// (vivo's skipContent is 1000, 1024 or 2048 depending on the source,
/// VIVO_API.md 1.3, CONFLICT: the safer reading, the smallest, is taken).
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

pub const MAX_CREDENTIAL_LEN: usize = 128;

/// A credential or option text: 1 to [`MAX_CREDENTIAL_LEN`] characters, no
/// surrounding spaces, no control characters. For vendor adapters.
pub fn credential_text(field: &str, s: String) -> Result<String, ServiceError> {
    if s.trim().is_empty() || s.len() > MAX_CREDENTIAL_LEN {
        return Err(ServiceError::invalid(
            field,
            format!("must be 1 to {MAX_CREDENTIAL_LEN} bytes"),
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

/// The push services a certificate can speak to (API.md "Certificates").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Platform {
    Vivo,
    Xiaomi,
    Oppo,
    Honor,
    Huawei,
    Harmony,
    Meizu,
    Fcm,
    Apns,
}

impl Platform {
    pub const ALL: [Platform; 9] = [
        Platform::Vivo,
        Platform::Xiaomi,
        Platform::Oppo,
        Platform::Honor,
        Platform::Huawei,
        Platform::Harmony,
        Platform::Meizu,
        Platform::Fcm,
        Platform::Apns,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Vivo => "vivo",
            Platform::Xiaomi => "xiaomi",
            Platform::Oppo => "oppo",
            Platform::Honor => "honor",
            Platform::Huawei => "huawei",
            Platform::Harmony => "harmony",
            Platform::Meizu => "meizu",
            Platform::Fcm => "fcm",
            Platform::Apns => "apns",
        }
    }

    /// Any platform API.md names, implemented or not.
    pub fn from_name(s: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// A platform of a request, refused unless `implemented` serves it.
    pub fn parse(field: &str, s: &str, implemented: &[Platform]) -> Result<Self, ServiceError> {
        let names: Vec<&str> = implemented.iter().map(|p| p.as_str()).collect();
        match Platform::from_name(s) {
            Some(p) if implemented.contains(&p) => Ok(p),
            Some(_) => Err(ServiceError::invalid(
                field,
                format!("not implemented yet (implemented: {})", names.join(", ")),
            )),
            None => Err(ServiceError::invalid(
                field,
                format!(
                    "unknown platform (one of {}; implemented: {})",
                    Platform::ALL.map(|p| p.as_str()).join(", "),
                    names.join(", ")
                ),
            )),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored value of a vendor's credentials or options.
#[derive(Clone, PartialEq, Eq)]
pub enum Attr {
    S(String),
    N(u64),
}

/// A vendor's credentials (or sending options) as the product carries and
/// stores them: attribute name -> value, the names and their meaning owned
/// by the vendor's adapter (which parses, checks, masks and reads them).
/// Credential attribute names start with the platform's name and `_`
/// (`vivo_app_secret`), so they never meet the certificate's own. Debug
/// shows the names only: values may be secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VendorData(std::collections::BTreeMap<String, Attr>);

impl VendorData {
    pub fn new() -> Self {
        VendorData::default()
    }
    pub fn set_s(&mut self, name: impl Into<String>, v: impl Into<String>) {
        self.0.insert(name.into(), Attr::S(v.into()));
    }
    pub fn set_n(&mut self, name: impl Into<String>, v: u64) {
        self.0.insert(name.into(), Attr::N(v));
    }
    pub fn insert(&mut self, name: impl Into<String>, v: Attr) {
        self.0.insert(name.into(), v);
    }
    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.0.get(name)
    }
    pub fn s(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(Attr::S(s)) => Some(s),
            _ => None,
        }
    }
    pub fn n(&self, name: &str) -> Option<u64> {
        match self.0.get(name) {
            Some(Attr::N(n)) => Some(*n),
            Some(Attr::S(s)) => s.parse().ok(),
            None => None,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Attr)> {
        self.0.iter()
    }
}

impl fmt::Debug for VendorData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

pub const MAX_NAME_LEN: usize = 128;

/// A certificate as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Certificate {
    pub id: CertificateId,
    pub platform: Platform,
    pub name: String,
    /// Owned by the platform's adapter (see [`VendorData`]).
    pub credentials: VendorData,
    /// `vendor_options` (API.md), owned by the adapter; empty when none.
    pub options: VendorData,
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

/// A create or edit body, parsed but for the vendor's parts: `credentials`
/// and `vendor_options` stay raw objects for the platform's adapter, which
/// parses them next (with the stored ones on an edit, for omitted secrets).
pub struct CertificateInput {
    pub platform: Platform,
    /// None: the adapter names the certificate after its credentials.
    pub name: Option<String>,
    pub credentials: Obj,
    pub vendor_options: Option<Obj>,
    pub click_action: ClickAction,
    pub category: Category,
    pub push_mode: PushMode,
    pub default_title: Option<String>,
    /// The receipt ID from the vendor console (vendors that register
    /// receipt addresses there), or None.
    pub receipt_id: Option<String>,
    /// `receipts` (vendors whose messages carry the receipt address).
    pub receipts: Option<bool>,
    /// Extension: replace the receipt URL's secret (the old URL stops working).
    pub rotate_receipt_url: bool,
}

impl fmt::Debug for CertificateInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateInput")
            .field("platform", &self.platform)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Most characters of a receipt ID. vivo's console issues short numeric
/// IDs; `callback.id` has no documented limit (VIVO_API.md 1.8), so the
/// bound is ours, generous, and the charset the console's IDs use.
pub const MAX_RECEIPT_ID_LEN: usize = 64;

/// A certificate's receipt settings: the vendor console's receipt ID (for
/// vendors that have one), and the SHA-256 of the secret in the receipt URL
/// (the secret itself is shown once and never logged; it is stored only
/// where every push must carry the URL, like the vendor's own secrets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipts {
    pub receipt_id: Option<String>,
    pub secret_hash: String,
    /// The secret itself, kept only for vendors whose messages carry the
    /// receipt URL (each push builds it); Debug never shows it.
    pub secret: Option<Secret>,
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
            format!("must be 1 to {MAX_RECEIPT_ID_LEN} of A-Z a-z 0-9 - _ (the vendor console's receipt ID)"),
        ));
    }
    Ok(s.to_string())
}

impl CertificateInput {
    /// Parses what every platform shares. `platform` is checked first, so a
    /// body for a platform not in `implemented` is refused for its platform
    /// whatever else it holds (API.md).
    pub fn parse(mut body: Obj, implemented: &[Platform]) -> Result<Self, ServiceError> {
        let platform = body.req_str("platform")?;
        let platform = Platform::parse("platform", &platform, implemented)?;
        body.deny_unknown(&[
            "name",
            "credentials",
            "vendor_options",
            "click_action",
            "category",
            "push_mode",
            "default_title",
            "receipt_id",
            "receipts",
            "rotate_receipt_url",
        ])?;
        let credentials = body.req_obj("credentials")?;
        let vendor_options = body.opt_obj("vendor_options")?;
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
        let receipts = body.opt_bool("receipts")?;
        let rotate_receipt_url = body.opt_bool("rotate_receipt_url")?.unwrap_or(false);
        if rotate_receipt_url && receipt_id.is_none() && receipts != Some(true) {
            return Err(ServiceError::invalid(
                "rotate_receipt_url",
                "needs receipts on (receipt_id or receipts): there is no receipt URL without them",
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
                Some(n)
            }
            None => None,
        };
        Ok(CertificateInput {
            platform,
            name,
            credentials,
            vendor_options,
            click_action,
            category,
            push_mode,
            default_title,
            receipt_id,
            receipts,
            rotate_receipt_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::input::parse_body;

    const VIVO_ONLY: &[Platform] = &[Platform::Vivo];

    fn parse(json: &str) -> Result<CertificateInput, ServiceError> {
        CertificateInput::parse(parse_body(json.as_bytes()).unwrap(), VIVO_ONLY)
    }

    fn field_of(json: &str) -> String {
        parse(json).unwrap_err().field().unwrap().to_string()
    }

    const OK: &str = r#"{"platform":"vivo","credentials":{"app_id":"105123456","app_key":"k","app_secret":"s"}}"#;

    #[test]
    fn defaults_are_open_app_im_production() {
        let c = parse(OK).unwrap();
        assert_eq!(c.platform, Platform::Vivo);
        assert_eq!(c.click_action, ClickAction::OpenApp);
        assert_eq!(c.category, Category::Im);
        assert_eq!(c.push_mode, PushMode::Production);
        assert!(c.name.is_none() && c.receipt_id.is_none() && c.receipts.is_none());
    }

    #[test]
    fn the_platform_is_checked_before_any_other_field() {
        for body in [
            r#"{"platform":"apns","credentials":{"team_id":1},"colour":1}"#,
            r#"{"platform":"xiaomi"}"#,
            r#"{"platform":"nokia","category":"bad"}"#,
            r#"{"credentials":{}}"#,
            r#"{"platform":7}"#,
        ] {
            assert_eq!(field_of(body), "platform", "{body}");
        }
        let e = parse(r#"{"platform":"fcm"}"#).unwrap_err();
        assert!(e.to_string().contains("implemented: vivo"), "{e}");
        let e = parse(r#"{"platform":"nokia"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown platform"), "{e}");
        let both = [Platform::Vivo, Platform::Xiaomi];
        let body = parse_body(br#"{"platform":"xiaomi","credentials":{}}"#).unwrap();
        assert_eq!(
            CertificateInput::parse(body, &both).unwrap().platform,
            Platform::Xiaomi
        );
    }

    #[test]
    fn every_platform_has_one_name() {
        for p in Platform::ALL {
            assert_eq!(Platform::from_name(p.as_str()), Some(p));
        }
        assert_eq!(Platform::from_name("VIVO"), None);
    }

    #[test]
    fn every_bad_shared_field_is_named() {
        let cases = [
            (r#"{"platform":"vivo"}"#, "credentials"),
            (r#"{"platform":"vivo","credentials":[]}"#, "credentials"),
            (
                r#"{"platform":"vivo","credentials":{},"vendor_options":1}"#,
                "vendor_options",
            ),
            (
                r#"{"platform":"vivo","credentials":{},"colour":1}"#,
                "colour",
            ),
            (
                r#"{"platform":"vivo","credentials":{},"category":"im"}"#,
                "category",
            ),
            (
                r#"{"platform":"vivo","credentials":{},"push_mode":"dev"}"#,
                "push_mode",
            ),
            (r#"{"platform":"vivo","credentials":{},"name":""}"#, "name"),
            (
                r#"{"platform":"vivo","credentials":{},"receipts":"yes"}"#,
                "receipts",
            ),
            (
                r#"{"platform":"vivo","credentials":{},"rotate_receipt_url":true}"#,
                "rotate_receipt_url",
            ),
            (
                r#"{"platform":"vivo","credentials":{},"click_action":{"type":"open_url"}}"#,
                "click_action.url",
            ),
            (
                r#"{"platform":"vivo","credentials":{},"click_action":{"type":"open_url","url":"ftp://x"}}"#,
                "click_action.url",
            ),
            (
                r#"{"platform":"vivo","credentials":{},"click_action":{"type":"open_page","intent_uri":"myapp://x"}}"#,
                "click_action.intent_uri",
            ),
            (
                r#"{"platform":"vivo","credentials":{},"click_action":{"type":"open_app","url":"https://x"}}"#,
                "click_action.url",
            ),
            (
                r#"{"platform":"vivo","credentials":{},"click_action":{"type":"dial"}}"#,
                "click_action.type",
            ),
        ];
        for (json, field) in cases {
            assert_eq!(field_of(json), field, "{json}");
        }
    }

    #[test]
    fn service_categories_are_the_first_six() {
        let service: Vec<&str> = Category::ALL
            .iter()
            .filter(|c| c.is_service())
            .map(|c| c.as_str())
            .collect();
        assert_eq!(
            service,
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
    fn secret_and_vendor_data_debug_show_no_value() {
        let s = Secret::new("topsecretvalue");
        assert_eq!(format!("{s:?}"), "[redacted]");
        let mut d = VendorData::new();
        d.set_s("vivo_app_secret", "topsecretvalue");
        d.set_n("vivo_app_id", 42);
        let shown = format!("{d:?}");
        assert!(
            !shown.contains("topsecretvalue") && !shown.contains("42"),
            "{shown}"
        );
        assert!(shown.contains("vivo_app_secret"));
    }
}
