//! The form body of `/v3/message/regid` (VENDORS_API.md 1.4, 1.5, 1.6,
//! 1.8, 11): flat fields, the `extra` family as keys with a literal dot.

use super::credentials::{XiaomiCredentials, XiaomiOptions};
use offpush::domain::ClickAction;
use offpush::vendor::Message;
use serde_json::json;

/// Sound and vibration (notify_type bits 1 + 2), what IM notifications use.
pub const NOTIFY_TYPE_SOUND_AND_VIBRATE: u8 = 3;
/// 1.6, 11 [C, 2024-09-03]: a private-channel message lives at most 10
/// days offline, a public (or channel-less) one 1 day. The older reading
/// ("two weeks", 1.4 CONFLICT) is the longer: the safer cap is the newer.
pub const MAX_TTL_PRIVATE_MS: u64 = 10 * 86_400_000;
pub const MAX_TTL_PUBLIC_MS: u64 = 86_400_000;
/// 1.8 [C]: receipts for delivered (1) and invalid targets (16).
pub const CALLBACK_TYPE: u8 = 1 + 16;
/// 1.8 [U]: the longest callback URL Xiaomi takes (65037 beyond).
pub const MAX_CALLBACK_URL: usize = 128;
/// 1.6 [C pId=2314]: each template parameter 1-128 characters.
pub const MAX_TEMPLATE_PARAM_CHARS: usize = 128;

/// Whether `c` is an emoji or another "Symbol, other" character that
/// Xiaomi's templates refuse (1.6: no emoji / Unicode So symbols): the
/// emoji and pictograph blocks, dingbats, the So parts of the arrow,
/// technical, geometric and letterlike blocks, and the joiners and
/// selectors emoji sequences are built with.
pub fn is_emoji_or_symbol(c: char) -> bool {
    matches!(c as u32,
        0x00A9 | 0x00AE | 0x2122 | 0x2139 | 0x3030 | 0x303D | 0x3297 | 0x3299
        | 0x200D | 0x20E3 | 0xFE00..=0xFE0F
        | 0x2190..=0x21FF
        | 0x2300..=0x23FF
        | 0x2460..=0x24FF
        | 0x25A0..=0x27BF
        | 0x2900..=0x297F
        | 0x2B00..=0x2BFF
        | 0x1F000..=0x1FAFF
        | 0xE0020..=0xE007F)
}

/// A template parameter from a text: emoji and symbols stripped, at most
/// [`MAX_TEMPLATE_PARAM_CHARS`]; and what was done to it, for the detail.
pub fn template_param(field: &str, text: &str) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let stripped: String = text.chars().filter(|c| !is_emoji_or_symbol(*c)).collect();
    if stripped != text {
        notes.push(format!("emoji stripped from {field}"));
    }
    let trimmed = stripped.trim();
    let mut value: String = trimmed.chars().take(MAX_TEMPLATE_PARAM_CHARS).collect();
    if trimmed.chars().count() > MAX_TEMPLATE_PARAM_CHARS {
        notes.push(format!(
            "{field} cut to {MAX_TEMPLATE_PARAM_CHARS} characters"
        ));
    }
    if value.is_empty() {
        // A parameter may not be blank: a text of emoji alone says so.
        value = "…".to_string();
        notes.push(format!("{field} was emoji only"));
    }
    (value, notes)
}

/// One message through one Xiaomi app.
pub struct Form {
    /// Every field but `registration_id`, in order.
    pub fields: Vec<(String, String)>,
    /// What the adapter had to change (template rules), for the detail of
    /// every target.
    pub notes: Vec<String>,
}

impl Form {
    pub fn new(creds: &XiaomiCredentials, options: &XiaomiOptions, m: &Message<'_>) -> Self {
        let mut f: Vec<(String, String)> = Vec::new();
        let mut notes = Vec::new();
        let mut put = |k: &str, v: String| f.push((k.to_string(), v));
        put("restricted_package_name", creds.package_name.clone());
        // 0: a notification-bar message (1.4); pass-through is being
        // withdrawn (11) and is not what offline push needs.
        put("pass_through", "0".into());
        put("title", m.title.to_string());
        put("description", m.desc.to_string());
        put("notify_type", NOTIFY_TYPE_SOUND_AND_VIBRATE.to_string());
        let private = options.channel_id.is_some() && m.category.is_service();
        // 1.6: service and communication messages through the private
        // channel (with its template); operational ones through the public
        // channel when the certificate has one, else none.
        let channel = if m.category.is_service() {
            options.channel_id.as_ref()
        } else {
            options.public_channel_id.as_ref()
        };
        let cap = if private {
            MAX_TTL_PRIVATE_MS
        } else {
            MAX_TTL_PUBLIC_MS
        };
        put(
            "time_to_live",
            (u64::from(m.ttl_seconds) * 1000).min(cap).to_string(),
        );
        if let Some(n) = m.notify_id {
            // 0..2147483647; the API takes 1..=2147483647.
            put("notify_id", n.to_string());
        }
        // 11 [C, 2024-09-30]: only the predefined effects exist: never omitted.
        match m.click {
            ClickAction::OpenApp => put("extra.notify_effect", "1".into()),
            ClickAction::OpenPage { intent_uri } => {
                put("extra.notify_effect", "2".into());
                put("extra.intent_uri", intent_uri.clone());
            }
            ClickAction::OpenUrl { url } => {
                put("extra.notify_effect", "3".into());
                put("extra.web_uri", url.clone());
            }
        }
        if let Some(ext) = m.ext {
            // API.md: ext reaches the app as the entry "ext" of the
            // message's extras (MiPushMessage.getExtra()), and as the
            // payload (getContent()), which Xiaomi wants URL-encoded (1.4).
            put("extra.ext", ext.to_string());
            put("payload", percent_encode(ext));
        }
        if let Some(c) = channel {
            put("extra.channel_id", c.clone());
        }
        if let (true, Some(t)) = (private, &options.template_id) {
            let (title, mut n1) = template_param("title", m.title);
            let (desc, mut n2) = template_param("desc", m.desc);
            notes.append(&mut n1);
            notes.append(&mut n2);
            put("extra.template_id", t.clone());
            put(
                "extra.template_param",
                json!({"title": title, "content": desc}).to_string(),
            );
        }
        if let Some(r) = m.receipt {
            if let Some(url) = r.url.filter(|u| u.len() > MAX_CALLBACK_URL) {
                notes.push(format!(
                    "sent without receipts: the receipt URL is {} bytes, over Xiaomi's {MAX_CALLBACK_URL} (serve the API from a shorter PUBLIC_BASE_URL)",
                    url.len()
                ));
            }
            if let Some(url) = r.url.filter(|u| u.len() <= MAX_CALLBACK_URL) {
                put("extra.callback", url.to_string());
                put("extra.callback.param", r.param.to_string());
                put("extra.callback.type", CALLBACK_TYPE.to_string());
            }
        }
        Form { fields: f, notes }
    }

    /// The body for `reg_ids` (1..=1000), form-encoded.
    pub fn body(&self, reg_ids: &[&str]) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(self.fields.len() + 1);
        let joined = reg_ids.join(",");
        pairs.push(("registration_id", &joined));
        pairs.extend(self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        serde_urlencoded::to_string(&pairs).expect("string pairs encode")
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Region;
    use offpush::domain::{Category, Secret};
    use offpush::vendor::ReceiptRequest;

    fn creds() -> XiaomiCredentials {
        XiaomiCredentials {
            app_secret: Secret::new("s"),
            package_name: "com.example.im".into(),
            region: Region::Cn,
        }
    }

    fn message<'a>(click: &'a ClickAction, receipt: Option<ReceiptRequest<'a>>) -> Message<'a> {
        Message {
            push_key: "demo/r1",
            title: "Alice 😀",
            desc: "Hi, are you free? 🎉",
            ext: Some("{\"conv\":\"c2c alice\"}"),
            category: Category::Im,
            ttl_seconds: 86_400,
            click,
            notify_id: Some(42),
            receipt,
        }
    }

    #[test]
    fn every_click_action_has_its_notify_effect() {
        let o = XiaomiOptions::default();
        let app = ClickAction::OpenApp;
        let f = Form::new(&creds(), &o, &message(&app, None));
        assert_eq!(f.get("extra.notify_effect"), Some("1"));
        let url = ClickAction::OpenUrl {
            url: "https://e.com/x".into(),
        };
        let f = Form::new(&creds(), &o, &message(&url, None));
        assert_eq!(
            (f.get("extra.notify_effect"), f.get("extra.web_uri")),
            (Some("3"), Some("https://e.com/x"))
        );
        let page = ClickAction::OpenPage {
            intent_uri: "intent:#Intent;component=com.example.im/.Chat;end".into(),
        };
        let f = Form::new(&creds(), &o, &message(&page, None));
        assert_eq!(f.get("extra.notify_effect"), Some("2"));
        assert!(f.get("extra.intent_uri").unwrap().starts_with("intent:"));
    }

    #[test]
    fn the_body_carries_every_documented_field() {
        let app = ClickAction::OpenApp;
        let o = XiaomiOptions {
            channel_id: Some("im_private".into()),
            template_id: None,
            public_channel_id: None,
        };
        let r = ReceiptRequest {
            receipt_id: None,
            url: Some("https://api.example.com/prod/v1/receipts/xiaomi/S"),
            param: "op1.20261207.0123456789abcdef0123456789abcdef",
        };
        let f = Form::new(&creds(), &o, &message(&app, Some(r)));
        let body = f.body(&["r1", "r2"]);
        let back: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
        let get = |k: &str| back.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("registration_id"), Some("r1,r2"));
        assert_eq!(get("restricted_package_name"), Some("com.example.im"));
        assert_eq!(get("pass_through"), Some("0"));
        assert_eq!(
            get("title"),
            Some("Alice 😀"),
            "no template: the text as given"
        );
        assert_eq!(get("notify_id"), Some("42"));
        assert_eq!(get("time_to_live"), Some("86400000"));
        assert_eq!(get("extra.channel_id"), Some("im_private"));
        assert_eq!(get("extra.ext"), Some("{\"conv\":\"c2c alice\"}"));
        assert_eq!(get("payload"), Some("%7B%22conv%22%3A%22c2c%20alice%22%7D"));
        assert_eq!(get("extra.callback.type"), Some("17"));
        assert_eq!(
            get("extra.callback.param"),
            Some("op1.20261207.0123456789abcdef0123456789abcdef")
        );
        assert!(get("extra.callback")
            .unwrap()
            .ends_with("/v1/receipts/xiaomi/S"));
        assert!(get("extra.template_id").is_none());
        assert!(f.notes.is_empty());
        // Without a receipt URL (receipts off), no callback field at all.
        let f = Form::new(&creds(), &o, &message(&app, None));
        assert!(f.get("extra.callback").is_none() && f.get("extra.callback.type").is_none());
    }

    #[test]
    fn templates_get_title_and_desc_without_emoji_and_say_so() {
        let app = ClickAction::OpenApp;
        let o = XiaomiOptions {
            channel_id: Some("im_private".into()),
            template_id: Some("tpl-1".into()),
            public_channel_id: None,
        };
        let f = Form::new(&creds(), &o, &message(&app, None));
        let p: serde_json::Value =
            serde_json::from_str(f.get("extra.template_param").unwrap()).unwrap();
        assert_eq!(p, json!({"title": "Alice", "content": "Hi, are you free?"}));
        assert_eq!(
            f.notes,
            ["emoji stripped from title", "emoji stripped from desc"]
        );
        let (v, notes) = template_param("desc", "🎉🎉");
        assert_eq!((v.as_str(), notes.len()), ("…", 2));
        let long = "字".repeat(130);
        let (v, notes) = template_param("desc", &long);
        assert_eq!(v.chars().count(), 128);
        assert_eq!(notes, ["desc cut to 128 characters"]);
        for c in ['😀', '🇨', '❤', '✅', '→', '©', '\u{FE0F}'] {
            assert!(is_emoji_or_symbol(c), "{c:?}");
        }
        for c in ['a', '你', '1', ',', '!', 'é', '「'] {
            assert!(!is_emoji_or_symbol(c), "{c:?}");
        }
    }

    #[test]
    fn operational_pushes_never_go_through_the_private_channel() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        m.category = Category::Marketing;
        let mut o = XiaomiOptions {
            channel_id: Some("im_private".into()),
            template_id: Some("tpl".into()),
            public_channel_id: None,
        };
        let f = Form::new(&creds(), &o, &m);
        assert!(f.get("extra.channel_id").is_none() && f.get("extra.template_id").is_none());
        o.public_channel_id = Some("news".into());
        assert_eq!(
            Form::new(&creds(), &o, &m).get("extra.channel_id"),
            Some("news")
        );
        m.category = Category::Order;
        assert_eq!(
            Form::new(&creds(), &o, &m).get("extra.channel_id"),
            Some("im_private")
        );
    }

    #[test]
    fn a_receipt_url_too_long_for_xiaomi_goes_unsent_and_is_said() {
        let app = ClickAction::OpenApp;
        let long = format!("https://{}/v1/receipts/xiaomi/S", "a".repeat(120));
        let r = ReceiptRequest {
            receipt_id: None,
            url: Some(&long),
            param: "p",
        };
        let f = Form::new(&creds(), &XiaomiOptions::default(), &message(&app, Some(r)));
        assert!(f.get("extra.callback").is_none());
        assert!(f.notes[0].contains("without receipts"), "{:?}", f.notes);
    }

    #[test]
    fn ttl_is_clamped_to_the_class_cap() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        m.ttl_seconds = 60;
        let o = XiaomiOptions::default();
        assert_eq!(
            Form::new(&creds(), &o, &m).get("time_to_live"),
            Some("60000")
        );
        // The product's longest TTL (a day) fits the public cap exactly.
        m.ttl_seconds = offpush::domain::push::MAX_TTL_SECS as u32;
        assert_eq!(
            Form::new(&creds(), &o, &m).get("time_to_live"),
            Some("86400000")
        );
    }
}
