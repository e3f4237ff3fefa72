//! The form body of `varnished/pushByPushId` (VENDORS_API.md 15.2, 15.4,
//! 15.7, 15.8): `appId`, `pushIds`, `messageJson` (a JSON object as text)
//! and `sign`, the MD5 over the sorted parameters and the appSecret.

use super::credentials::MeizuCredentials;
use md5::{Digest, Md5};
use offpush::domain::ClickAction;
use offpush::vendor::Message;
use serde_json::{json, Map, Value};

/// 15.4, 15.8 [C]: the notification title is 1-32 characters.
pub const MAX_TITLE_CHARS: usize = 32;
/// 15.4, 15.8 [C]: the content is 1-100 characters.
pub const MAX_CONTENT_CHARS: usize = 100;
/// 15.4 [C]: `validTime` is 1-72 hours.
pub const MIN_VALID_HOURS: u32 = 1;
pub const MAX_VALID_HOURS: u32 = 72;
/// 15.4 [C]: the receipt URL is at most 128 bytes, its param 64.
pub const MAX_CALLBACK_URL: usize = 128;
pub const MAX_CALLBACK_PARAM: usize = 64;
/// 15.4 [C]: receipts of deliveries only (1 delivered, 2 clicked, 3
/// both): a click adds nothing the product counts. A string, as the doc's
/// example and the official JavaSdk write it.
pub const CALLBACK_TYPE: &str = "1";
/// 15.4 [C]: `notifyKey` is at most 8 characters of `[0-9A-Za-z_-]`.
pub const MAX_NOTIFY_KEY: usize = 8;

/// The `sign` of a form (15.2 [C]): every parameter but `sign`, sorted by
/// name, written `name=value` with no separator over the raw (not
/// URL-encoded) values, then the appSecret; lowercase hex MD5.
pub fn sign(fields: &[(&str, &str)], app_secret: &str) -> String {
    let mut sorted: Vec<&(&str, &str)> = fields.iter().filter(|(k, _)| *k != "sign").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = Md5::new();
    for (k, v) in sorted {
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
    }
    h.update(app_secret.as_bytes());
    hex::encode(h.finalize())
}

/// 15.4 [C]: `validTime` in whole hours, rounded up (a message is never
/// dropped before its TTL), within 1-72 (the product's TTL, 60 s to a day,
/// gives 1-24).
pub fn valid_hours(ttl_seconds: u32) -> u32 {
    ttl_seconds
        .div_ceil(3600)
        .clamp(MIN_VALID_HOURS, MAX_VALID_HOURS)
}

/// An Android intent URI's explicit component (`component=pkg/.Cls` or
/// `pkg/pkg.Cls`) as Meizu's `activity` (`pkg.Activity`, 15.4); None when
/// the URI names none.
pub fn intent_activity(intent_uri: &str) -> Option<String> {
    let comp = intent_uri
        .split(';')
        .find_map(|part| part.strip_prefix("component="))?;
    let (pkg, cls) = comp.split_once('/')?;
    let cls = match cls.strip_prefix('.') {
        Some(rest) => format!("{pkg}.{rest}"),
        None => cls.to_string(),
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.contains('.')
            && s.split('.').all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            })
    };
    (ok(pkg) && ok(&cls)).then_some(cls)
}

/// `notify_id` as a `notifyKey`: lowercase hex, at most 8 characters of
/// the allowed set for any u32 (decimal would take up to 10).
pub fn notify_key(id: u32) -> String {
    format!("{id:x}")
}

/// One message through one Meizu app.
pub struct Form {
    pub app_id: String,
    /// `messageJson` as sent.
    pub message_json: String,
    /// 1 private (service and communication categories), 0 public.
    pub notice_msg_type: u8,
    /// What the adapter had to change (Meizu's title limit, a receipt URL
    /// it cannot carry), for the detail of every target.
    pub notes: Vec<String>,
}

impl Form {
    pub fn new(creds: &MeizuCredentials, m: &Message<'_>) -> Self {
        let mut notes = Vec::new();
        // 15.7 [C]: 1 private (IM and the other service categories, no
        // daily cap), 0 public (operational: a few per device per day).
        let notice_msg_type: u8 = if m.category.is_service() { 1 } else { 0 };
        // 15.4 [C]: the title is at most 32 characters, the product's 40:
        // a longer one is cut (ending in "…") and the detail says so, as
        // Xiaomi's template parameters are. The content limit (100) is
        // the product's: never cut.
        let title = if m.title.chars().count() > MAX_TITLE_CHARS {
            notes.push(format!(
                "title cut to {MAX_TITLE_CHARS} characters (Meizu's limit)"
            ));
            let mut t: String = m.title.chars().take(MAX_TITLE_CHARS - 1).collect();
            t.push('…');
            t
        } else {
            m.title.to_string()
        };
        let content: String = m.desc.chars().take(MAX_CONTENT_CHARS).collect();
        let mut click = Map::new();
        match m.click {
            ClickAction::OpenApp => {
                click.insert("clickType".into(), json!(0));
            }
            ClickAction::OpenPage { intent_uri } => match intent_activity(intent_uri) {
                // 15.4 [C]: 1 opens an activity given as `pkg.Activity`.
                Some(activity) => {
                    click.insert("clickType".into(), json!(1));
                    click.insert("activity".into(), json!(activity));
                }
                // No explicit component: the intent URI as the URI to
                // open (2), as an open-source client does (15.10).
                None => {
                    click.insert("clickType".into(), json!(2));
                    click.insert("url".into(), json!(intent_uri));
                }
            },
            ClickAction::OpenUrl { url } => {
                click.insert("clickType".into(), json!(2));
                click.insert("url".into(), json!(url));
            }
        }
        // 15.4 [C; mapping U]: `parameters` is the app's JSON object, handed
        // to the app on the click; the product's ext is its entry "ext"
        // (API.md: the vendor's custom payload entry `ext`). Type 3
        // (custom) is deprecated and never used.
        if let Some(ext) = m.ext {
            click.insert("parameters".into(), json!({ "ext": ext }));
        }
        let mut advance = json!({
            "suspend": 1,
            "clearNoticeBar": 1,
            "notificationType": {"vibrate": 1, "lights": 1, "sound": 1},
        });
        if let Some(id) = m.notify_id {
            // 15.4 [C]: the same key shows only the latest: one per chat.
            advance["notifyKey"] = json!(notify_key(id));
        }
        let mut msg = json!({
            "noticeBarInfo": {
                "noticeMsgType": notice_msg_type,
                "noticeBarType": 0,
                "title": title,
                "content": content,
            },
            "noticeExpandInfo": {"noticeExpandType": 0},
            "clickTypeInfo": Value::Object(click),
            "pushTimeInfo": {"offLine": 1, "validTime": valid_hours(m.ttl_seconds)},
            "advanceInfo": advance,
        });
        if let Some(r) = m.receipt {
            match r.url {
                Some(url) if url.len() > MAX_CALLBACK_URL => notes.push(format!(
                    "sent without receipts: the receipt URL is {} bytes, over Meizu's {MAX_CALLBACK_URL} (serve the API from a shorter PUBLIC_BASE_URL)",
                    url.len()
                )),
                Some(_) if r.param.len() > MAX_CALLBACK_PARAM => notes.push(format!(
                    "sent without receipts: the receipt param is over Meizu's {MAX_CALLBACK_PARAM} bytes"
                )),
                // 15.4, 15.6 [C]: the URL, the push reference echoed back,
                // and which events to report.
                Some(url) => {
                    msg["extra"] = json!({
                        "callback": url,
                        "callback.param": r.param,
                        "callback.type": CALLBACK_TYPE,
                    });
                }
                None => {}
            }
        }
        Form {
            app_id: creds.app_id.clone(),
            message_json: msg.to_string(),
            notice_msg_type,
            notes,
        }
    }

    /// The signed, form-encoded body for `push_ids` (1..=100).
    pub fn body(&self, push_ids: &[&str], app_secret: &str) -> String {
        let joined = push_ids.join(",");
        let mut fields: Vec<(&str, &str)> = vec![
            ("appId", self.app_id.as_str()),
            ("messageJson", self.message_json.as_str()),
            ("pushIds", joined.as_str()),
        ];
        let s = sign(&fields, app_secret);
        fields.push(("sign", &s));
        serde_urlencoded::to_string(&fields).expect("string pairs encode")
    }

    /// `messageJson` parsed back (tests and checks).
    pub fn message(&self) -> Value {
        serde_json::from_str(&self.message_json).expect("built as JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::{Category, Secret};
    use offpush::vendor::ReceiptRequest;

    fn creds() -> MeizuCredentials {
        MeizuCredentials {
            app_id: "10000".into(),
            app_secret: Secret::new("secret"),
        }
    }

    fn message<'a>(click: &'a ClickAction, receipt: Option<ReceiptRequest<'a>>) -> Message<'a> {
        Message {
            push_key: "demo/r1",
            title: "Alice",
            desc: "你好，今晚有空吗？",
            ext: Some("{\"conv\":\"c2c_alice\"}"),
            category: Category::Im,
            ttl_seconds: 3601,
            click,
            notify_id: Some(42),
            receipt,
        }
    }

    #[test]
    fn sign_is_md5_over_sorted_raw_pairs_and_the_secret() {
        // Order given does not matter; values are raw; `sign` is left out.
        let a = sign(
            &[
                ("pushIds", "a,b"),
                ("appId", "1"),
                ("messageJson", "{\"x\":1}"),
            ],
            "S",
        );
        let b = sign(
            &[
                ("appId", "1"),
                ("messageJson", "{\"x\":1}"),
                ("pushIds", "a,b"),
                ("sign", "x"),
            ],
            "S",
        );
        assert_eq!(a, b);
        let mut h = Md5::new();
        h.update(b"appId=1messageJson={\"x\":1}pushIds=a,bS");
        assert_eq!(a, hex::encode(h.finalize()));
        assert_eq!(a.len(), 32);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, sign(&[("appId", "1")], "S"));
        assert_eq!(
            sign(&[], ""),
            "d41d8cd98f00b204e9800998ecf8427e",
            "MD5 of nothing"
        );
    }

    #[test]
    fn the_message_carries_every_field_as_mapped() {
        let app = ClickAction::OpenApp;
        let r = ReceiptRequest {
            receipt_id: None,
            url: Some("https://api.example.com/prod/v1/receipts/meizu/S"),
            param: "op2.20261207.0123456789abcdef0123456789abcdef.0123456789abcdef",
        };
        let f = Form::new(&creds(), &message(&app, Some(r)));
        let m = f.message();
        assert_eq!(
            m["noticeBarInfo"],
            json!({"noticeMsgType": 1, "noticeBarType": 0, "title": "Alice", "content": "你好，今晚有空吗？"})
        );
        assert_eq!(
            m["clickTypeInfo"],
            json!({"clickType": 0, "parameters": {"ext": "{\"conv\":\"c2c_alice\"}"}})
        );
        assert_eq!(m["pushTimeInfo"], json!({"offLine": 1, "validTime": 2}));
        assert_eq!(m["advanceInfo"]["notifyKey"], "2a");
        assert_eq!(m["advanceInfo"]["suspend"], 1);
        assert_eq!(
            m["extra"],
            json!({
                "callback": "https://api.example.com/prod/v1/receipts/meizu/S",
                "callback.param": "op2.20261207.0123456789abcdef0123456789abcdef.0123456789abcdef",
                "callback.type": "1",
            })
        );
        assert!(f.notes.is_empty());
        // The form: four fields, signed over the other three.
        let body = f.body(&["p1", "p2"], "secret");
        let back: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
        let get = |k: &str| back.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("appId").as_deref(), Some("10000"));
        assert_eq!(get("pushIds").as_deref(), Some("p1,p2"));
        assert_eq!(get("messageJson").as_deref(), Some(f.message_json.as_str()));
        let pairs: Vec<(&str, &str)> = back
            .iter()
            .filter(|(k, _)| k != "sign")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(get("sign"), Some(sign(&pairs, "secret")));
        assert_eq!(back.len(), 4);
        // Without ext, notify_id or receipts: none of their fields.
        let mut bare = message(&app, None);
        bare.ext = None;
        bare.notify_id = None;
        let m = Form::new(&creds(), &bare).message();
        assert_eq!(m["clickTypeInfo"], json!({"clickType": 0}));
        assert!(m.get("extra").is_none() && m["advanceInfo"].get("notifyKey").is_none());
    }

    #[test]
    fn categories_choose_private_or_public() {
        let app = ClickAction::OpenApp;
        for c in Category::ALL {
            let mut m = message(&app, None);
            m.category = c;
            let f = Form::new(&creds(), &m);
            let want = u8::from(c.is_service());
            assert_eq!(f.notice_msg_type, want, "{c:?}");
            assert_eq!(f.message()["noticeBarInfo"]["noticeMsgType"], want, "{c:?}");
        }
    }

    #[test]
    fn every_click_action_has_its_click_type() {
        let url = ClickAction::OpenUrl {
            url: "http://e.com/x".into(),
        };
        let m = Form::new(&creds(), &message(&url, None)).message();
        assert_eq!(m["clickTypeInfo"]["clickType"], 2);
        assert_eq!(m["clickTypeInfo"]["url"], "http://e.com/x");
        assert_eq!(
            m["clickTypeInfo"]["parameters"]["ext"],
            "{\"conv\":\"c2c_alice\"}"
        );
        let page = ClickAction::OpenPage {
            intent_uri: "intent:#Intent;component=com.example.im/.Chat;S.x=1;end".into(),
        };
        let m = Form::new(&creds(), &message(&page, None)).message();
        assert_eq!(m["clickTypeInfo"]["clickType"], 1);
        assert_eq!(m["clickTypeInfo"]["activity"], "com.example.im.Chat");
        let bare = ClickAction::OpenPage {
            intent_uri: "intent://chat#Intent;scheme=im;end".into(),
        };
        let m = Form::new(&creds(), &message(&bare, None)).message();
        assert_eq!(m["clickTypeInfo"]["clickType"], 2);
        assert_eq!(
            m["clickTypeInfo"]["url"],
            "intent://chat#Intent;scheme=im;end"
        );
        assert_eq!(
            intent_activity("intent:#Intent;component=com.a/com.b.Main;end").as_deref(),
            Some("com.b.Main")
        );
        assert_eq!(intent_activity("intent:#Intent;component=bad;end"), None);
        assert_eq!(
            intent_activity("intent:#Intent;component=com.a/.;end"),
            None
        );
    }

    #[test]
    fn ttl_becomes_hours_rounded_up_within_range() {
        for (ttl, hours) in [
            (0, 1),
            (60, 1),
            (3600, 1),
            (3601, 2),
            (86_399, 24),
            (86_400, 24),
            (400_000, 72),
        ] {
            assert_eq!(valid_hours(ttl), hours, "{ttl}");
        }
    }

    #[test]
    fn titles_past_meizus_limit_are_cut_and_said_content_never() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        let at = "标".repeat(MAX_TITLE_CHARS);
        m.title = &at;
        let f = Form::new(&creds(), &m);
        assert_eq!(f.message()["noticeBarInfo"]["title"], at.as_str());
        assert!(f.notes.is_empty());
        // The product's longest title (40) is cut to 32, ending in "…".
        let past = "标".repeat(offpush::domain::push::MAX_TITLE_CHARS);
        m.title = &past;
        let desc = "字".repeat(offpush::domain::push::MAX_DESC_CHARS);
        m.desc = &desc;
        let f = Form::new(&creds(), &m);
        let t = f.message()["noticeBarInfo"]["title"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(t.chars().count(), MAX_TITLE_CHARS);
        assert!(t.ends_with('…'));
        assert_eq!(f.notes, ["title cut to 32 characters (Meizu's limit)"]);
        assert_eq!(f.message()["noticeBarInfo"]["content"], desc.as_str());
    }

    #[test]
    fn receipt_urls_meizu_cannot_carry_go_unsent_and_are_said() {
        let app = ClickAction::OpenApp;
        let at = format!("https://{}", "a".repeat(MAX_CALLBACK_URL - 8));
        let r = ReceiptRequest {
            receipt_id: None,
            url: Some(&at),
            param: "p",
        };
        let f = Form::new(&creds(), &message(&app, Some(r)));
        assert_eq!(f.message()["extra"]["callback"], at.as_str());
        let past = format!("{at}b");
        let r = ReceiptRequest {
            receipt_id: None,
            url: Some(&past),
            param: "p",
        };
        let f = Form::new(&creds(), &message(&app, Some(r)));
        assert!(f.message().get("extra").is_none());
        assert!(f.notes[0].contains("without receipts"), "{:?}", f.notes);
        // No URL known: nothing carried, nothing said.
        let r = ReceiptRequest {
            receipt_id: None,
            url: None,
            param: "p",
        };
        let f = Form::new(&creds(), &message(&app, Some(r)));
        assert!(f.message().get("extra").is_none() && f.notes.is_empty());
    }

    #[test]
    fn notify_keys_fit_meizus_rule() {
        for id in [0, 42, u32::MAX] {
            let k = notify_key(id);
            assert!(!k.is_empty() && k.len() <= MAX_NOTIFY_KEY, "{k}");
            assert!(k.chars().all(|c| c.is_ascii_alphanumeric()));
        }
        assert_eq!(notify_key(u32::MAX), "ffffffff");
    }
}
