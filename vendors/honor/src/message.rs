//! The JSON body of `POST /api/v1/{appId}/sendMessage` (VENDORS_API.md
//! 3.3, 3.5, 8): camelCase, flat (not wrapped in `message`), the target
//! tokens in `token`.

use offpush::domain::{Category, ClickAction, PushMode};
use offpush::vendor::Message;
use serde_json::{json, Map, Value};

/// 3.3 [C]: `clickAction.type` 1 opens a custom page (intent or action),
/// 2 a URL (HTTPS), 3 the app (8).
pub const CLICK_PAGE: u8 = 1;
pub const CLICK_URL: u8 = 2;
pub const CLICK_APP: u8 = 3;
/// 3.3 [S]: `targetUserType` 1 is a test message.
pub const TARGET_USER_TEST: u8 = 1;

/// 3.3, 3.5, 11: `importance` NORMAL is the service and communication
/// class (IM), LOW content and marketing.
pub fn importance(category: Category) -> &'static str {
    if category.is_service() {
        "NORMAL"
    } else {
        "LOW"
    }
}

/// 3.3, 8: `clickAction` of a click action.
pub fn click_action(click: &ClickAction) -> Value {
    match click {
        ClickAction::OpenApp => json!({"type": CLICK_APP}),
        ClickAction::OpenUrl { url } => json!({"type": CLICK_URL, "url": url}),
        // 8: an intent URI goes as `intent` (type 1 takes intent or action).
        ClickAction::OpenPage { intent_uri } => {
            json!({"type": CLICK_PAGE, "intent": intent_uri})
        }
    }
}

/// One message through one Honor app, for any list of tokens.
pub struct Body {
    /// Every field but `token`.
    fields: Map<String, Value>,
}

impl Body {
    pub fn new(m: &Message<'_>, mode: PushMode) -> Self {
        let mut notification = Map::new();
        notification.insert("title".into(), m.title.into());
        notification.insert("body".into(), m.desc.into());
        notification.insert("clickAction".into(), click_action(m.click));
        notification.insert("importance".into(), importance(m.category).into());
        if let Some(n) = m.notify_id {
            // 3.3: notifyId overwrites an earlier notification with the
            // same id (one per chat). The product's range, 1..=i32::MAX,
            // is inside Honor's.
            notification.insert("notifyId".into(), n.into());
        }
        let mut android = Map::new();
        // 3.3 [S], 8: TTL as "<seconds>s"; the product's longest (a day)
        // is far below Honor's 15 days.
        android.insert("ttl".into(), format!("{}s", m.ttl_seconds).into());
        if let Some(r) = m.receipt {
            // 3.3, 3.6: biTag comes back in every receipt: the push
            // reference. The receipt address itself is the console's.
            android.insert("biTag".into(), r.param.into());
        }
        if mode == PushMode::Test {
            // API.md push_mode test; 3.3 [S], 8: a test message.
            android.insert("targetUserType".into(), TARGET_USER_TEST.into());
        }
        android.insert("notification".into(), Value::Object(notification));
        let mut fields = Map::new();
        if let Some(ext) = m.ext {
            // API.md: ext reaches the app as Honor's `data`, the custom
            // payload string, exactly as given (8). Not duplicated into
            // `android.data` (which would only override it) nor into the
            // intent (a second copy would double its share of the body).
            fields.insert("data".into(), ext.into());
        }
        // 3.3: title and body are required "here or top-level": both are
        // sent, so either reading of where Honor looks finds them.
        fields.insert(
            "notification".into(),
            json!({"title": m.title, "body": m.desc}),
        );
        fields.insert("android".into(), Value::Object(android));
        Body { fields }
    }

    /// The body for `tokens`, serialized.
    pub fn json(&self, tokens: &[&str]) -> Vec<u8> {
        let mut v = self.fields.clone();
        v.insert("token".into(), json!(tokens));
        serde_json::to_vec(&Value::Object(v)).expect("json serializes")
    }

    /// A field by its path (`/android/ttl`), for tests and logs.
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('/').filter(|p| !p.is_empty());
        let mut cur = self.fields.get(parts.next()?)?;
        for p in parts {
            cur = cur.get(p)?;
        }
        Some(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::vendor::ReceiptRequest;

    fn message<'a>(click: &'a ClickAction, receipt: Option<ReceiptRequest<'a>>) -> Message<'a> {
        Message {
            push_key: "demo/r1",
            title: "Alice 😀",
            desc: "Hi, are you free? \"tonight\"",
            ext: Some("{\"conv\":\"c2c alice\"}"),
            category: Category::Im,
            ttl_seconds: 3600,
            click,
            notify_id: Some(42),
            receipt,
        }
    }

    fn parsed(b: &Body, tokens: &[&str]) -> Value {
        serde_json::from_slice(&b.json(tokens)).unwrap()
    }

    #[test]
    fn every_field_is_mapped() {
        let app = ClickAction::OpenApp;
        let r = ReceiptRequest {
            receipt_id: Some("rid-1"),
            url: None,
            param: "op2.20261208.0123456789abcdef0123456789abcdef.0123456789abcdef",
        };
        let b = Body::new(&message(&app, Some(r)), PushMode::Production);
        let v = parsed(&b, &["t1", "t2"]);
        assert_eq!(v["token"], json!(["t1", "t2"]));
        assert_eq!(v["data"], "{\"conv\":\"c2c alice\"}");
        assert_eq!(v["notification"]["title"], "Alice 😀");
        assert_eq!(v["notification"]["body"], "Hi, are you free? \"tonight\"");
        let a = &v["android"];
        assert_eq!(a["ttl"], "3600s");
        assert_eq!(
            a["biTag"],
            "op2.20261208.0123456789abcdef0123456789abcdef.0123456789abcdef"
        );
        assert!(
            a.get("targetUserType").is_none(),
            "production: no test flag"
        );
        assert!(a.get("data").is_none());
        let n = &a["notification"];
        assert_eq!(n["title"], "Alice 😀");
        assert_eq!(n["body"], "Hi, are you free? \"tonight\"");
        assert_eq!(n["clickAction"], json!({"type": 3}));
        assert_eq!(n["importance"], "NORMAL");
        assert_eq!(n["notifyId"], 42);
        // camelCase throughout: no snake_case key anywhere.
        let text = String::from_utf8(b.json(&["t"])).unwrap();
        for k in [
            "click_action",
            "notify_id",
            "bi_tag",
            "target_user_type",
            "\"message\"",
        ] {
            assert!(!text.contains(k), "{k}");
        }
        assert_eq!(b.get("/android/ttl"), Some(&json!("3600s")));
    }

    #[test]
    fn optional_fields_are_left_out() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        m.ext = None;
        m.notify_id = None;
        let v = parsed(&Body::new(&m, PushMode::Production), &["t"]);
        assert!(v.get("data").is_none());
        assert!(v["android"].get("biTag").is_none());
        assert!(v["android"]["notification"].get("notifyId").is_none());
    }

    #[test]
    fn click_actions_map_to_their_types() {
        assert_eq!(click_action(&ClickAction::OpenApp), json!({"type": 3}));
        assert_eq!(
            click_action(&ClickAction::OpenUrl {
                url: "https://e.com/x".into()
            }),
            json!({"type": 2, "url": "https://e.com/x"})
        );
        let intent = "intent:#Intent;component=com.example.im/.Chat;end";
        assert_eq!(
            click_action(&ClickAction::OpenPage {
                intent_uri: intent.into()
            }),
            json!({"type": 1, "intent": intent})
        );
    }

    #[test]
    fn service_categories_are_normal_and_operational_low() {
        for c in Category::ALL {
            let want = if c.is_service() { "NORMAL" } else { "LOW" };
            assert_eq!(importance(c), want, "{c:?}");
        }
        assert_eq!(importance(Category::Im), "NORMAL");
        assert_eq!(importance(Category::Marketing), "LOW");
    }

    #[test]
    fn texts_past_the_products_limits_are_never_cut_here() {
        // The product refuses longer texts before they reach an adapter;
        // Honor documents no limit of its own, so nothing is cut here.
        let app = ClickAction::OpenApp;
        let title = "t".repeat(41);
        let desc = "d".repeat(101);
        let ext = "e".repeat(1022);
        let mut m = message(&app, None);
        m.title = &title;
        m.desc = &desc;
        m.ext = Some(&ext);
        let v = parsed(&Body::new(&m, PushMode::Production), &["t"]);
        assert_eq!(v["android"]["notification"]["title"], title.as_str());
        assert_eq!(v["android"]["notification"]["body"], desc.as_str());
        assert_eq!(v["data"], ext.as_str());
    }

    #[test]
    fn test_mode_sets_target_user_type_1() {
        let app = ClickAction::OpenApp;
        let v = parsed(&Body::new(&message(&app, None), PushMode::Test), &["t"]);
        assert_eq!(v["android"]["targetUserType"], 1);
    }

    #[test]
    fn the_products_longest_message_fits_honors_body_limit() {
        // 4.2 [C] (Huawei's 4096 bytes without tokens, which a simulator of
        // Honor assumes too): the product's longest texts and ext fit.
        let app = ClickAction::OpenUrl {
            url: format!("https://e.com/{}", "a".repeat(980)),
        };
        let title = "字".repeat(40);
        let desc = "字".repeat(100);
        let ext = "e".repeat(1021);
        let mut m = message(&app, None);
        m.title = &title;
        m.desc = &desc;
        m.ext = Some(&ext);
        let b = Body::new(&m, PushMode::Test);
        let v = parsed(&b, &[]);
        let mut without = v.as_object().unwrap().clone();
        without.remove("token");
        let size = serde_json::to_vec(&without).unwrap().len();
        assert!(size <= 4096, "{size}");
        assert_eq!(
            v["notification"]["title"].as_str().unwrap().chars().count(),
            40
        );
        assert_eq!(v["data"].as_str().unwrap().len(), 1021);
    }
}
