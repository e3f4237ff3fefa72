//! The JSON body of `POST /v3/{projectId}/messages:send` with `push-type:
//! 0` (VENDORS_API.md 14.3, 14.4, 8): `payload.notification` with its
//! category, title, body, click action (carrying `ext` in `data`) and
//! notify id; `target.token`; `pushOptions` with the TTL in seconds, the
//! test flag, the receipt id and the push reference (`biTag`).

use offpush::domain::{Category, Certificate, ClickAction, PushMode};
use offpush::vendor::Message;
use serde_json::{json, Map, Value};

/// 14.3 [C]: the Alert scenario (a notification).
pub const PUSH_TYPE_ALERT: &str = "0";
/// 14.4 [C]: the body without the tokens is at most 4096 bytes (80300008).
pub const MAX_BODY_BYTES: usize = 4096;
/// 14.4 [C]: at most 1000 tokens per call (80300010).
pub const MAX_TOKENS: usize = 1000;
/// 14.4, 14.7 [C]: a test message takes at most 10 tokens (80300030).
pub const MAX_TEST_TOKENS: usize = 10;
/// 14.4 [C]: `ttl` at most 1296000 s (15 days); the product's longest TTL
/// (a day) is far below it.
pub const MAX_TTL_SECS: u32 = 1_296_000;
/// 14.4 [C]: `biTag` and `receiptId` are at most 64 bytes.
pub const MAX_TAG_BYTES: usize = 64;

/// Push Kit's category for a product category (14.6 [C]: IM, VOIP,
/// MISS_CALL, SUBSCRIPTION, TRAVEL, HEALTH, WORK, ACCOUNT, EXPRESS,
/// FINANCE, DEVICE_REMINDER, MAIL; MARKETING). `category` is required
/// (14.4). IM needs the self-classification right: without it Huawei
/// silently treats the push as MARKETING (2 a day per device, 14.6), which
/// only the app's AppGallery Connect setting can change. Operational
/// categories go as MARKETING, which is what they are.
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

/// `clickAction` (14.4 [C]): `actionType` 0 opens the app's home, 1 a page
/// by `action` and/or `uri` (a page the app does not have opens the home).
///
/// - open_page: a value with a scheme (`intent:…`, `myapp://chat/1`) goes
///   as `uri`, which the app's page declares in its skills; a bare name
///   (`com.example.im.CHAT`) as `action`.
/// - open_url: v3 has no URL action (3 and 5 are live-view only), so the
///   URL goes as the `uri` of actionType 1: the page that declares it (App
///   Linking) opens, else the home. Sent rather than refused: a push with
///   a URL click still reaches HarmonyOS devices (docs/api.md: never refuse
///   what the vendor can carry).
///
/// `ext` goes as `data`, a JSON object (14.4 [C]: `data` is an object;
/// [CONFLICT] wildfirechat types it as a string: the object is what the
/// doc says and what ArkTS hands the app as `want.parameters`).
pub fn click_action(click: &ClickAction, ext: Option<&str>) -> Value {
    let mut c = Map::new();
    match click {
        ClickAction::OpenApp => {
            c.insert("actionType".into(), 0.into());
        }
        ClickAction::OpenUrl { url } => {
            c.insert("actionType".into(), 1.into());
            c.insert("uri".into(), url.as_str().into());
        }
        ClickAction::OpenPage { intent_uri } => {
            c.insert("actionType".into(), 1.into());
            let key = if intent_uri.contains(':') {
                "uri"
            } else {
                "action"
            };
            c.insert(key.into(), intent_uri.as_str().into());
        }
    }
    if let Some(ext) = ext {
        c.insert("data".into(), data(ext));
    }
    Value::Object(c)
}

/// `data`: API.md's `ext` as the entry `"ext"` of a JSON object (the app
/// reads `want.parameters["ext"]`).
pub fn data(ext: &str) -> Value {
    json!({ "ext": ext })
}

/// One message through one project, every field but the tokens.
pub struct Notification {
    /// The body with `target.token` empty.
    body: Value,
    test: bool,
}

impl Notification {
    pub fn new(cert: &Certificate, m: &Message<'_>) -> Self {
        let mut n = Map::new();
        n.insert("category".into(), category(m.category).into());
        n.insert("title".into(), m.title.into());
        n.insert("body".into(), m.desc.into());
        n.insert("clickAction".into(), click_action(m.click, m.ext));
        if let Some(id) = m.notify_id {
            // The product takes 1..=i32::MAX: 14.4's [0, 2^31-1].
            n.insert("notifyId".into(), id.into());
        }
        // No `collapseKey`: 14.4 [CONFLICT] on what 0 means (keep the
        // latest vs a group); the default (-1, every message kept for an
        // offline device) is the safer reading for chat, where each
        // message matters. `notifyId` replaces a shown notification.
        let mut options = Map::new();
        // 14.4 [C]: an integer of seconds (not Android's "86400s").
        options.insert("ttl".into(), m.ttl_seconds.min(MAX_TTL_SECS).into());
        let test = cert.push_mode == PushMode::Test;
        if test {
            // 14.4, 14.7 [C]: a test message (1000 successful requests per
            // project a day, at most 10 tokens each, exempt from caps).
            options.insert("testMessage".into(), true.into());
        }
        if let Some(r) = m.receipt {
            // 14.4, 14.8: the receipt configuration the id selects, and the
            // push reference every receipt echoes as biTag.
            if let Some(id) = r.receipt_id.filter(|id| id.len() <= MAX_TAG_BYTES) {
                options.insert("receiptId".into(), id.into());
            }
            if r.param.len() <= MAX_TAG_BYTES {
                options.insert("biTag".into(), r.param.into());
            }
        }
        Notification {
            body: json!({
                "payload": {"notification": Value::Object(n)},
                "target": {"token": []},
                "pushOptions": Value::Object(options),
            }),
            test,
        }
    }

    /// Most tokens of one call: 10 for a test message, else 1000.
    pub fn max_tokens(&self) -> usize {
        if self.test {
            MAX_TEST_TOKENS
        } else {
            MAX_TOKENS
        }
    }

    /// Bytes of the body as Huawei counts them (14.4: without the tokens;
    /// counted with an empty `target.token`, the larger of the readings).
    pub fn body_size(&self) -> usize {
        self.body.to_string().len()
    }

    /// Whether Huawei takes the message (80300008 otherwise).
    pub fn fits(&self) -> bool {
        self.body_size() <= MAX_BODY_BYTES
    }

    /// The body for `tokens` (1..=[`Notification::max_tokens`]).
    pub fn body(&self, tokens: &[&str]) -> Value {
        let mut b = self.body.clone();
        b["target"]["token"] = json!(tokens);
        b
    }

    pub fn get(&self, pointer: &str) -> Option<&Value> {
        self.body.pointer(pointer)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use offpush::domain::{CertificateId, Platform, VendorData};
    use offpush::vendor::ReceiptRequest;

    pub(crate) fn cert(mode: PushMode) -> Certificate {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        Certificate {
            id: CertificateId::new(7).unwrap(),
            platform: Platform::Harmony,
            name: "harmony test".into(),
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

    pub(crate) fn message<'a>(
        click: &'a ClickAction,
        receipt: Option<ReceiptRequest<'a>>,
    ) -> Message<'a> {
        Message {
            push_key: "demo/req-1",
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

    const PARAM: &str = "op2.20261208.0123456789abcdef0123456789abcdef.0123456789abcdef";

    #[test]
    fn every_field_is_where_the_spec_puts_it() {
        let app = ClickAction::OpenApp;
        let r = ReceiptRequest {
            receipt_id: Some("RCP1"),
            url: None,
            param: PARAM,
        };
        let n = Notification::new(&cert(PushMode::Production), &message(&app, Some(r)));
        let b = n.body(&["t1", "t2"]);
        assert_eq!(b["target"], json!({"token": ["t1", "t2"]}));
        let no = &b["payload"]["notification"];
        assert_eq!(no["category"], "IM");
        assert_eq!(no["title"], "Alice");
        assert_eq!(no["body"], "Hi, are you free tonight?");
        assert_eq!(no["notifyId"], 42);
        assert_eq!(
            no["clickAction"],
            json!({"actionType": 0, "data": {"ext": "{\"conv\":\"c2c_alice\"}"}})
        );
        assert!(no["clickAction"]["data"].is_object(), "data is an object");
        let o = &b["pushOptions"];
        assert_eq!(o["ttl"], 86_400);
        assert!(o["ttl"].is_u64(), "an integer, not a string");
        assert_eq!(o["receiptId"], "RCP1");
        assert_eq!(o["biTag"], PARAM);
        assert!(PARAM.len() <= MAX_TAG_BYTES);
        assert!(o.get("testMessage").is_none());
        assert_eq!(n.max_tokens(), 1000);
        assert!(b.get("validate_only").is_none() && b.get("message").is_none());
    }

    #[test]
    fn test_mode_no_ext_no_receipt_no_notify_id() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        m.ext = None;
        m.notify_id = None;
        m.ttl_seconds = 60;
        let n = Notification::new(&cert(PushMode::Test), &m);
        assert_eq!(n.get("/pushOptions/testMessage"), Some(&json!(true)));
        assert_eq!(n.get("/pushOptions/ttl"), Some(&json!(60)));
        assert_eq!(n.max_tokens(), 10);
        assert!(n.get("/payload/notification/clickAction/data").is_none());
        assert!(n.get("/payload/notification/notifyId").is_none());
        assert!(n.get("/pushOptions/biTag").is_none());
        assert!(n.get("/pushOptions/receiptId").is_none());
        // A receipt id over 64 bytes is left out rather than refused by
        // Huawei for the whole call.
        let long = "r".repeat(65);
        let r = ReceiptRequest {
            receipt_id: Some(&long),
            url: None,
            param: PARAM,
        };
        let n = Notification::new(&cert(PushMode::Production), &message(&app, Some(r)));
        assert!(n.get("/pushOptions/receiptId").is_none());
        assert_eq!(n.get("/pushOptions/biTag"), Some(&json!(PARAM)));
    }

    #[test]
    fn every_click_action_has_its_type() {
        let url = ClickAction::OpenUrl {
            url: "https://e.com/x".into(),
        };
        assert_eq!(
            click_action(&url, None),
            json!({"actionType": 1, "uri": "https://e.com/x"})
        );
        let page = ClickAction::OpenPage {
            intent_uri: "intent:#Intent;component=com.example.im/.Chat;end".into(),
        };
        assert_eq!(
            click_action(&page, Some("x")),
            json!({"actionType": 1, "uri": "intent:#Intent;component=com.example.im/.Chat;end", "data": {"ext": "x"}})
        );
        let action = ClickAction::OpenPage {
            intent_uri: "com.example.im.CHAT".into(),
        };
        assert_eq!(
            click_action(&action, None),
            json!({"actionType": 1, "action": "com.example.im.CHAT"})
        );
        assert_eq!(
            click_action(&ClickAction::OpenApp, None),
            json!({"actionType": 0})
        );
    }

    #[test]
    fn categories() {
        let expected = [
            (Category::Im, "IM"),
            (Category::Account, "ACCOUNT"),
            (Category::Todo, "WORK"),
            (Category::DeviceReminder, "DEVICE_REMINDER"),
            (Category::Order, "EXPRESS"),
            (Category::Subscription, "SUBSCRIPTION"),
            (Category::News, "MARKETING"),
            (Category::Content, "MARKETING"),
            (Category::Marketing, "MARKETING"),
            (Category::Social, "MARKETING"),
        ];
        for (c, cat) in expected {
            assert_eq!(category(c), cat, "{c:?}");
        }
        assert_eq!(expected.len(), Category::ALL.len());
    }

    #[test]
    fn ttl_is_clamped_to_fifteen_days() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        m.ttl_seconds = MAX_TTL_SECS;
        let n = Notification::new(&cert(PushMode::Production), &m);
        assert_eq!(n.get("/pushOptions/ttl"), Some(&json!(MAX_TTL_SECS)));
        m.ttl_seconds = MAX_TTL_SECS + 1;
        let n = Notification::new(&cert(PushMode::Production), &m);
        assert_eq!(n.get("/pushOptions/ttl"), Some(&json!(MAX_TTL_SECS)));
    }

    #[test]
    fn the_products_largest_message_fits_and_a_pathological_one_does_not() {
        use offpush::domain::push::{MAX_DESC_CHARS, MAX_EXT_BYTES, MAX_TITLE_CHARS};
        let click = ClickAction::OpenUrl {
            url: format!("https://{}", "e".repeat(990)),
        };
        let title = "😀".repeat(MAX_TITLE_CHARS);
        let desc = "😀".repeat(MAX_DESC_CHARS);
        // A JSON ext at the product's limit, a quote every 8 bytes.
        let ext: String = "{\"k\":\"abc".chars().cycle().take(MAX_EXT_BYTES).collect();
        let r = ReceiptRequest {
            receipt_id: Some("RCP-0123456789-0123456789"),
            url: None,
            param: PARAM,
        };
        let mut m = message(&click, Some(r));
        m.title = &title;
        m.desc = &desc;
        m.ext = Some(&ext);
        let n = Notification::new(&cert(PushMode::Test), &m);
        assert!(n.fits(), "{} bytes", n.body_size());
        // An ext of control characters escapes to six bytes each (`\u0001`):
        // over 4096, so never sent (answered rejected, see crate::send).
        let controls = "\u{1}".repeat(MAX_EXT_BYTES);
        m.ext = Some(&controls);
        let n = Notification::new(&cert(PushMode::Test), &m);
        assert!(!n.fits(), "{} bytes", n.body_size());
        // Tokens do not count (14.4).
        let n = Notification::new(&cert(PushMode::Production), &message(&click, None));
        let size = n.body_size();
        let tokens = vec!["t".repeat(200); MAX_TOKENS];
        let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        assert!(n.body(&refs).to_string().len() > MAX_BODY_BYTES);
        assert_eq!(n.body_size(), size);
    }
}
