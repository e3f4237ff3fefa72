//! The JSON body of `messages:send` (VENDORS_API.md 4.2, 4.4, 8): a
//! notification-bar message with its click action, category, importance,
//! TTL, notify id, `ext` in `data`, the receipt id and push reference, and
//! `target_user_type` 1 for test messages.

use offpush::domain::{Category, Certificate, ClickAction, PushMode};
use offpush::vendor::Message;
use serde_json::{json, Map, Value};

/// 4.2 [C]: the body without `message.token` is at most 4096 bytes.
pub const MAX_BODY_BYTES: usize = 4096;
/// 4.2 [C]: at most 1000 tokens per call.
pub const MAX_TOKENS: usize = 1000;
/// 4.2 [C]: `ttl` at most "1296000s" (15 days); the product's longest TTL
/// (a day) is far below it.
pub const MAX_TTL_SECS: u32 = 1_296_000;

/// Huawei's category for a product category (4.4 [C]: IM, VOIP,
/// SUBSCRIPTION, TRAVEL, HEALTH, WORK, ACCOUNT, EXPRESS, FINANCE,
/// DEVICE_REMINDER, MAIL, PLAY_VOICE, MARKETING). Operational categories
/// go as MARKETING, which Huawei makes of every message without an
/// approved category anyway (4.4 [C]).
pub fn category(c: Category) -> &'static str {
    match c {
        Category::Im => "IM",
        Category::Account => "ACCOUNT",
        // A to-do is a work reminder.
        Category::Todo => "WORK",
        Category::DeviceReminder => "DEVICE_REMINDER",
        // An order's updates are delivery updates.
        Category::Order => "EXPRESS",
        Category::Subscription => "SUBSCRIPTION",
        Category::News | Category::Content | Category::Marketing | Category::Social => "MARKETING",
    }
}

/// 4.2 [CONFLICT]: `importance` LOW (silent) / NORMAL (strong); an older
/// doc also lists HIGH. The safer reading never sends HIGH: NORMAL for the
/// service and communication categories, LOW for the operational ones
/// (which Huawei shows silently anyway, 4.4).
pub fn importance(c: Category) -> &'static str {
    if c.is_service() {
        "NORMAL"
    } else {
        "LOW"
    }
}

/// `click_action` (4.2, 8 [C]): type 1 a page by intent, 2 a URL (HTTPS
/// only: [`crate::Huawei`]'s `check_click` refuses http at upload), 3 the app.
pub fn click_action(click: &ClickAction) -> Value {
    match click {
        ClickAction::OpenApp => json!({"type": 3}),
        ClickAction::OpenUrl { url } => json!({"type": 2, "url": url}),
        ClickAction::OpenPage { intent_uri } => json!({"type": 1, "intent": intent_uri}),
    }
}

/// `data`: API.md's `ext` as the entry `"ext"` of a JSON object, which the
/// app reads with `RemoteMessage.getDataOfMap().get("ext")` (8: `data`).
pub fn data(ext: &str) -> String {
    json!({ "ext": ext }).to_string()
}

/// One message through one Huawei app, every field but the tokens.
pub struct Notification {
    /// The body with `message.token` left out.
    body: Value,
}

impl Notification {
    pub fn new(cert: &Certificate, m: &Message<'_>) -> Self {
        let mut n = Map::new();
        n.insert("title".into(), m.title.into());
        n.insert("body".into(), m.desc.into());
        n.insert("click_action".into(), click_action(m.click));
        n.insert("importance".into(), importance(m.category).into());
        if let Some(id) = m.notify_id {
            // The product takes 1..=i32::MAX: Huawei's 32-bit notify_id.
            n.insert("notify_id".into(), id.into());
        }
        let mut android = Map::new();
        android.insert("category".into(), category(m.category).into());
        android.insert(
            "ttl".into(),
            format!("{}s", m.ttl_seconds.min(MAX_TTL_SECS)).into(),
        );
        if let Some(r) = m.receipt {
            // 4.2, 4.6: receipts come back with the bi_tag, to the address
            // the receipt id selects.
            android.insert("bi_tag".into(), r.param.into());
            if let Some(id) = r.receipt_id {
                android.insert("receipt_id".into(), id.into());
            }
        }
        if cert.push_mode == PushMode::Test {
            // 4.2 [C]: a test message (500 per app a day, exempt from
            // per-device caps).
            android.insert("target_user_type".into(), 1.into());
        }
        android.insert("notification".into(), Value::Object(n));
        let mut message = Map::new();
        if let Some(ext) = m.ext {
            message.insert("data".into(), data(ext).into());
        }
        message.insert("android".into(), Value::Object(android));
        Notification {
            body: json!({"validate_only": false, "message": Value::Object(message)}),
        }
    }

    /// Bytes of the body as Huawei counts them (4.2: without the tokens).
    pub fn body_size(&self) -> usize {
        self.body.to_string().len()
    }

    /// Whether Huawei takes the message (80300008 otherwise).
    pub fn fits(&self) -> bool {
        self.body_size() <= MAX_BODY_BYTES
    }

    /// The body for `tokens` (1..=[`MAX_TOKENS`]).
    pub fn body(&self, tokens: &[&str]) -> Value {
        let mut b = self.body.clone();
        b["message"]["token"] = json!(tokens);
        b
    }

    pub fn get(&self, pointer: &str) -> Option<&Value> {
        self.body.pointer(pointer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::{CertificateId, Platform, VendorData};
    use offpush::vendor::ReceiptRequest;

    pub(crate) fn cert(mode: PushMode) -> Certificate {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        Certificate {
            id: CertificateId::new(7).unwrap(),
            platform: Platform::Huawei,
            name: "huawei test".into(),
            credentials: VendorData::new(),
            options: VendorData::new(),
            click_action: ClickAction::OpenApp,
            category: Category::Im,
            push_mode: mode,
            default_title: None,
            receipt: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn message<'a>(click: &'a ClickAction, receipt: Option<ReceiptRequest<'a>>) -> Message<'a> {
        Message {
            push_key: "demo/r1",
            title: "Alice",
            desc: "Hi, are you free tonight?",
            ext: Some("{\"conv\":\"c2c_alice\"}"),
            category: Category::Im,
            ttl_seconds: 86_400,
            click,
            notify_id: Some(42),
            receipt,
        }
    }

    #[test]
    fn the_body_carries_every_field() {
        let app = ClickAction::OpenApp;
        let r = ReceiptRequest {
            receipt_id: Some("RCP1"),
            url: None,
            param: "op2.20261208.0123456789abcdef0123456789abcdef.0123456789abcdef",
        };
        let n = Notification::new(&cert(PushMode::Production), &message(&app, Some(r)));
        let b = n.body(&["t1", "t2"]);
        assert_eq!(b["validate_only"], false);
        let m = &b["message"];
        assert_eq!(m["token"], json!(["t1", "t2"]));
        assert_eq!(m["data"], "{\"ext\":\"{\\\"conv\\\":\\\"c2c_alice\\\"}\"}");
        let back: Value = serde_json::from_str(m["data"].as_str().unwrap()).unwrap();
        assert_eq!(back["ext"], "{\"conv\":\"c2c_alice\"}");
        let a = &m["android"];
        assert_eq!(a["category"], "IM");
        assert_eq!(a["ttl"], "86400s");
        assert_eq!(a["receipt_id"], "RCP1");
        assert_eq!(a["bi_tag"], r.param);
        assert!(a.get("target_user_type").is_none());
        assert!(
            a.get("collapse_key").is_none(),
            "default -1: keep all offline"
        );
        let n = &a["notification"];
        assert_eq!(n["title"], "Alice");
        assert_eq!(n["body"], "Hi, are you free tonight?");
        assert_eq!(n["click_action"], json!({"type": 3}));
        assert_eq!(n["importance"], "NORMAL");
        assert_eq!(n["notify_id"], 42);
    }

    #[test]
    fn test_mode_no_ext_no_receipt() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        m.ext = None;
        m.notify_id = None;
        let n = Notification::new(&cert(PushMode::Test), &m);
        assert_eq!(n.get("/message/android/target_user_type"), Some(&json!(1)));
        assert!(n.get("/message/data").is_none());
        assert!(n.get("/message/android/bi_tag").is_none());
        assert!(n.get("/message/android/receipt_id").is_none());
        assert!(n.get("/message/android/notification/notify_id").is_none());
    }

    #[test]
    fn every_click_action_has_its_type() {
        let url = ClickAction::OpenUrl {
            url: "https://e.com/x".into(),
        };
        assert_eq!(
            click_action(&url),
            json!({"type": 2, "url": "https://e.com/x"})
        );
        let page = ClickAction::OpenPage {
            intent_uri: "intent:#Intent;component=com.example.im/.Chat;end".into(),
        };
        assert_eq!(
            click_action(&page),
            json!({"type": 1, "intent": "intent:#Intent;component=com.example.im/.Chat;end"})
        );
        assert_eq!(click_action(&ClickAction::OpenApp), json!({"type": 3}));
    }

    #[test]
    fn categories_and_importance() {
        let expected = [
            (Category::Im, "IM", "NORMAL"),
            (Category::Account, "ACCOUNT", "NORMAL"),
            (Category::Todo, "WORK", "NORMAL"),
            (Category::DeviceReminder, "DEVICE_REMINDER", "NORMAL"),
            (Category::Order, "EXPRESS", "NORMAL"),
            (Category::Subscription, "SUBSCRIPTION", "NORMAL"),
            (Category::News, "MARKETING", "LOW"),
            (Category::Content, "MARKETING", "LOW"),
            (Category::Marketing, "MARKETING", "LOW"),
            (Category::Social, "MARKETING", "LOW"),
        ];
        for (c, cat, imp) in expected {
            assert_eq!((category(c), importance(c)), (cat, imp), "{c:?}");
        }
        assert_eq!(expected.len(), Category::ALL.len());
    }

    #[test]
    fn the_products_largest_message_fits_and_a_pathological_one_does_not() {
        use offpush::domain::push::{MAX_DESC_CHARS, MAX_EXT_BYTES, MAX_TITLE_CHARS};
        let app = ClickAction::OpenUrl {
            url: format!("https://{}", "e".repeat(990)),
        };
        let title = "😀".repeat(MAX_TITLE_CHARS);
        let desc = "😀".repeat(MAX_DESC_CHARS);
        // A JSON ext at the product's limit, a quote every 8 bytes.
        let ext: String = "{\"k\":\"abc".chars().cycle().take(MAX_EXT_BYTES).collect();
        let r = ReceiptRequest {
            receipt_id: Some("RCP-0123456789-0123456789"),
            url: None,
            param: "op2.20261208.0123456789abcdef0123456789abcdef.0123456789abcdef",
        };
        let mut m = message(&app, Some(r));
        m.title = &title;
        m.desc = &desc;
        m.ext = Some(&ext);
        let n = Notification::new(&cert(PushMode::Test), &m);
        assert!(n.fits(), "{} bytes", n.body_size());
        // An ext of quotes only escapes to four bytes each: over 4096.
        let quotes = "\"".repeat(MAX_EXT_BYTES);
        m.ext = Some(&quotes);
        let n = Notification::new(&cert(PushMode::Test), &m);
        assert!(!n.fits(), "{} bytes", n.body_size());
        // Tokens do not count (4.2).
        let n = Notification::new(&cert(PushMode::Production), &message(&app, None));
        let size = n.body_size();
        let tokens = vec!["t".repeat(200); MAX_TOKENS];
        let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        assert!(n.body(&refs).to_string().len() > MAX_BODY_BYTES);
        assert_eq!(n.body_size(), size);
    }
}
