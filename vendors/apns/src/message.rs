//! The APNs request of a push (VENDORS_API.md 6): headers `apns-topic`
//! (the bundle id), `apns-push-type: alert`, `apns-priority`,
//! `apns-expiration`, `apns-collapse-id`, `apns-id`, and the JSON payload
//! `{"aps":{"alert":{"title","body"},"sound","mutable-content",
//! "thread-id"},"ext":...}` of at most 4096 bytes.

use offpush::domain::{Category, ClickAction};
use offpush::vendor::Message;
use serde_json::{json, Map, Value};

/// 6 [U]: the payload is at most 4096 bytes.
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// 6: Apple sends alerts at 10 (at once) or 5 (as power allows).
pub const PRIORITY_SERVICE: u8 = 10;
pub const PRIORITY_OPERATIONAL: u8 = 5;

/// API.md: APNs priority is the category's mapping: service and
/// communication categories go at once (10); operational ones (NEWS,
/// CONTENT, MARKETING, SOCIAL) as the device's power allows (5).
pub fn priority(category: Category) -> u8 {
    if category.is_service() {
        PRIORITY_SERVICE
    } else {
        PRIORITY_OPERATIONAL
    }
}

/// The payload (the request body): `aps.alert` title and body, the default
/// sound, `mutable-content: 1` (a notification service extension may
/// rewrite it), `thread-id` from `notify_id` (groups one conversation's
/// notifications, as `notify_id` does on Android, VENDORS_API.md 8);
/// `ext` as the top-level key `ext` (API.md), an `open_url` click as the
/// top-level key `url` (APNs has no click action: the app opens and reads
/// it).
pub fn payload(m: &Message<'_>) -> Value {
    let mut aps = Map::new();
    aps.insert("alert".into(), json!({"title": m.title, "body": m.desc}));
    aps.insert("sound".into(), json!("default"));
    aps.insert("mutable-content".into(), json!(1));
    if let Some(n) = m.notify_id {
        aps.insert("thread-id".into(), json!(n.to_string()));
    }
    let mut body = Map::new();
    body.insert("aps".into(), Value::Object(aps));
    if let Some(ext) = m.ext {
        body.insert("ext".into(), json!(ext));
    }
    if let ClickAction::OpenUrl { url } = m.click {
        body.insert("url".into(), json!(url));
    }
    Value::Object(body)
}

/// What every device's request of one push shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub topic: String,
    pub priority: u8,
    /// Epoch seconds: the push's TTL from when it was planned (APNs keeps
    /// it for an offline device until then).
    pub expiration: i64,
    /// `notify_id` (a u32: at most 10 bytes, within APNs' 64): the newer
    /// notification of a conversation replaces the older.
    pub collapse_id: Option<String>,
    pub body: Vec<u8>,
}

impl Notification {
    /// The request of `m` for the app `bundle_id`, at `now` (epoch s); Err
    /// when the payload would pass 4096 bytes (only an `ext` that JSON
    /// escapes to several times its length can: the product's limits fit).
    pub fn new(bundle_id: &str, m: &Message<'_>, now: i64) -> Result<Self, usize> {
        let body = payload(m).to_string().into_bytes();
        if body.len() > MAX_PAYLOAD_BYTES {
            return Err(body.len());
        }
        Ok(Notification {
            topic: bundle_id.to_string(),
            priority: priority(m.category),
            expiration: now + i64::from(m.ttl_seconds),
            collapse_id: m.notify_id.map(|n| n.to_string()),
            body,
        })
    }
}

/// A device token APNs could take in its path: hex digits, whole bytes.
pub fn is_hex_token(token: &str) -> bool {
    !token.is_empty()
        && token.len().is_multiple_of(2)
        && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Every token APNs has issued is 32 bytes (64 hex digits); Apple says they
/// may grow, never shrink. A shorter token refused as BadDeviceToken is
/// dead in every environment.
pub const MIN_TOKEN_HEX: usize = 64;

/// The `apns-id` of one device's request (a UUID made of the kit's request
/// id, derived from the push and the token): the same on every attempt.
pub fn apns_id(request_id: &str) -> String {
    let h = &request_id[..32];
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::push::{MAX_DESC_CHARS, MAX_EXT_BYTES, MAX_TITLE_CHARS};

    fn message<'a>(click: &'a ClickAction, ext: Option<&'a str>) -> Message<'a> {
        Message {
            push_key: "app/req",
            title: "Alice",
            desc: "Hi there",
            ext,
            category: Category::Im,
            ttl_seconds: 3600,
            click,
            notify_id: Some(42),
            receipt: None,
        }
    }

    #[test]
    fn payload_maps_every_field() {
        let click = ClickAction::OpenApp;
        let m = message(&click, Some("{\"conv\":\"c1\"}"));
        assert_eq!(
            payload(&m),
            json!({
                "aps": {
                    "alert": {"title": "Alice", "body": "Hi there"},
                    "sound": "default",
                    "mutable-content": 1,
                    "thread-id": "42",
                },
                "ext": "{\"conv\":\"c1\"}",
            })
        );
        let url = ClickAction::OpenUrl {
            url: "https://example.com/c/1".into(),
        };
        let mut m = message(&url, None);
        m.notify_id = None;
        let p = payload(&m);
        assert_eq!(p["url"], "https://example.com/c/1");
        assert!(p.get("ext").is_none());
        assert!(p["aps"].get("thread-id").is_none());
        let n = Notification::new("com.example.im", &m, 1_000).unwrap();
        assert_eq!(n.collapse_id, None);
        assert_eq!(serde_json::from_slice::<Value>(&n.body).unwrap(), p);
    }

    #[test]
    fn headers_follow_category_ttl_and_notify_id() {
        let click = ClickAction::OpenApp;
        let m = message(&click, None);
        let n = Notification::new("com.example.im", &m, 1_000).unwrap();
        assert_eq!(n.topic, "com.example.im");
        assert_eq!(n.priority, 10);
        assert_eq!(n.expiration, 4_600);
        assert_eq!(n.collapse_id.as_deref(), Some("42"));
        for c in Category::ALL {
            let want = if c.is_service() { 10 } else { 5 };
            assert_eq!(priority(c), want, "{}", c.as_str());
        }
        assert_eq!(priority(Category::Marketing), 5);
        assert_eq!(priority(Category::Im), 10);
        let max = message(&click, None);
        let mut max = max;
        max.notify_id = Some(u32::MAX);
        let n = Notification::new("b", &max, 0).unwrap();
        assert!(n.collapse_id.unwrap().len() <= 64);
    }

    #[test]
    fn the_products_limits_fit_and_what_cannot_fit_is_refused() {
        let click = ClickAction::OpenUrl {
            url: format!("https://example.com/{}", "a".repeat(900)),
        };
        // The longest title and desc in 4-byte characters, the longest ext
        // of quotes (escaped to twice its length): fits.
        let title = "😀".repeat(MAX_TITLE_CHARS);
        let desc = "😀".repeat(MAX_DESC_CHARS);
        let ext = "\"".repeat(MAX_EXT_BYTES);
        let mut m = message(&click, Some(&ext));
        m.title = &title;
        m.desc = &desc;
        let n = Notification::new("com.example.im", &m, 0).unwrap();
        assert!(n.body.len() <= MAX_PAYLOAD_BYTES);
        let back: Value = serde_json::from_slice(&n.body).unwrap();
        assert_eq!(back["ext"], ext.as_str(), "never cut");
        assert_eq!(back["aps"]["alert"]["title"], title.as_str());
        // Control characters escape to six bytes each: over 4096, refused.
        let controls = "\u{1}".repeat(MAX_EXT_BYTES);
        let m = message(&click, Some(&controls));
        let size = Notification::new("com.example.im", &m, 0).unwrap_err();
        assert!(size > MAX_PAYLOAD_BYTES);
        // Exactly at the limit passes, one byte past is refused.
        let base = Notification::new("b", &message(&ClickAction::OpenApp, Some("")), 0)
            .unwrap()
            .body
            .len();
        let fill = "x".repeat(MAX_PAYLOAD_BYTES - base);
        assert_eq!(
            Notification::new("b", &message(&ClickAction::OpenApp, Some(&fill)), 0)
                .unwrap()
                .body
                .len(),
            MAX_PAYLOAD_BYTES
        );
        let over = "x".repeat(MAX_PAYLOAD_BYTES - base + 1);
        assert_eq!(
            Notification::new("b", &message(&ClickAction::OpenApp, Some(&over)), 0),
            Err(MAX_PAYLOAD_BYTES + 1)
        );
    }

    #[test]
    fn tokens_and_ids() {
        assert!(is_hex_token(&"ab".repeat(32)));
        assert!(is_hex_token(&"AB".repeat(32)));
        assert!(!is_hex_token("abc"));
        assert!(!is_hex_token("zz"));
        assert!(!is_hex_token(""));
        assert!(!is_hex_token("ab/../x"));
        assert_eq!(
            apns_id("0123456789abcdef0123456789abcdef"),
            "01234567-89ab-cdef-0123-456789abcdef"
        );
    }
}
