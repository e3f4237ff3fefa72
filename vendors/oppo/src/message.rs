//! The notification of a push as OPPO takes it (VENDORS_API.md 2.3, 2.4,
//! 2.5, 2.7, 8, 11) and the form bodies of `unicast` and `unicast_batch`:
//! snake_case keys inside a JSON string in a form field.

use super::credentials::OppoOptions;
use offpush::domain::ClickAction;
use offpush::vendor::Message;
use serde_json::{json, Map, Value};

/// 2.4 [C; SDK validates 50]: title at most 50 characters.
pub const MAX_TITLE_CHARS: usize = 50;
/// 2.4 [CONFLICT]: content of the standard style (1) at most 200 (the doc
/// and the official SDK) or 50 (modood 2024). The long-text style (2)
/// takes 128 by every reading. The safer reading: a content of at most 50
/// characters goes as style 1, a longer one as style 2, so no reading
/// refuses or cuts the product's 100 characters.
pub const MAX_STANDARD_CONTENT_CHARS: usize = 50;
pub const MAX_LONG_TEXT_CHARS: usize = 128;
pub const STYLE_STANDARD: i64 = 1;
pub const STYLE_LONG_TEXT: i64 = 2;
/// 2.4 [C]: `action_parameters` at most 4000 characters.
pub const MAX_ACTION_PARAMETERS_CHARS: usize = 4000;
/// 2.4 [CONFLICT]: `click_action_url` at most 2000 (doc, SDK) or 500
/// (mizhousoft). The lower is safer: a longer URL or intent URI is refused
/// at upload (and for a push's own click action) rather than by OPPO.
pub const MAX_CLICK_URL_CHARS: usize = 500;
/// 2.7 [C]: `call_back_url` at most 200 characters.
pub const MAX_CALLBACK_URL: usize = 200;
/// 2.7 [CONFLICT]: `call_back_parameter` at most 100 (the doc) or 50 (the
/// official SDK's validate, an older doc). The product's push reference is
/// 62 characters and cannot be shortened without losing what it names, so
/// the doc's current 100 is taken; a longer parameter goes without receipts
/// and each device's detail says so.
pub const MAX_CALLBACK_PARAM: usize = 100;
/// 2.4 [C]: `off_line_ttl` in seconds, at most 10 days (the product's TTL,
/// a day at most, always fits; sent explicitly because the default is in
/// CONFLICT, 3600 vs 86400).
pub const MAX_OFF_LINE_TTL: u32 = 864_000;
/// 2.4 [S modood; U]: 2 = notification bar + lock screen, the default
/// reminder of the service & communication class (2.5); 16 needs OPPO's
/// extra approval, so it is never sent.
pub const NOTIFY_LEVEL_IM: i64 = 2;
/// 2.3 [C]: target_type 2 = registration id.
pub const TARGET_REGISTRATION_ID: i64 = 2;

/// 8: OPPO's `click_action_type` for a click action, and the URL it takes.
pub fn click(c: &ClickAction) -> (i64, Option<&str>) {
    match c {
        // 8: open app = 0.
        ClickAction::OpenApp => (0, None),
        // 8: open URL = 2 + click_action_url.
        ClickAction::OpenUrl { url } => (2, Some(url)),
        // 8: open page = 5, an intent-scheme URL: the product's open_page is
        // an Android intent URI (`intent:…;end`); 1 and 4 take an action or
        // class name, which the product does not have.
        ClickAction::OpenPage { intent_uri } => (5, Some(intent_uri)),
    }
}

/// One push's notification through one OPPO app. No Debug: it holds the
/// receipt URL, whose path is a secret.
#[derive(Clone)]
pub struct Notification {
    pub fields: Map<String, Value>,
    /// What the adapter had to change or leave out, for every target's detail.
    pub notes: Vec<String>,
    /// Why OPPO cannot take this push at all (then nothing is sent).
    pub refused: Option<String>,
    /// The push goes through the IM private channel (a service category
    /// with a `channel_id`).
    pub private: bool,
}

impl Notification {
    pub fn new(options: &OppoOptions, m: &Message<'_>) -> Self {
        let mut f = Map::new();
        let mut notes = Vec::new();
        let mut refused = None;
        f.insert("title".into(), m.title.into());
        f.insert("content".into(), m.desc.into());
        let style = if m.desc.chars().count() > MAX_STANDARD_CONTENT_CHARS {
            STYLE_LONG_TEXT
        } else {
            STYLE_STANDARD
        };
        f.insert("style".into(), style.into());
        let (kind, url) = click(m.click);
        f.insert("click_action_type".into(), kind.into());
        if let Some(url) = url {
            f.insert("click_action_url".into(), url.into());
        }
        if let Some(ext) = m.ext {
            // 8 [U]: ext reaches the app through action_parameters, a JSON
            // object given to the opened page as intent extras (2.4), under
            // the key "ext".
            let params = json!({ "ext": ext }).to_string();
            let n = params.chars().count();
            if n > MAX_ACTION_PARAMETERS_CHARS {
                refused = Some(format!(
                    "oppo: ext is {n} characters once JSON-escaped into action_parameters, over OPPO's {MAX_ACTION_PARAMETERS_CHARS} (control characters take 6 each); not sent"
                ));
            }
            f.insert("action_parameters".into(), params.into());
        }
        f.insert("off_line".into(), true.into());
        f.insert(
            "off_line_ttl".into(),
            m.ttl_seconds.min(MAX_OFF_LINE_TTL).into(),
        );
        if let Some(n) = m.notify_id {
            f.insert("notify_id".into(), n.into());
        }
        // 2.5: OPPO's categories are the product's, by the same names.
        f.insert("category".into(), m.category.as_str().into());
        let private = m.category.is_service() && options.channel_id.is_some();
        if private {
            // 2.4, 2.5, 8: the IM private channel and its reminder level;
            // operational categories never go through it.
            if let Some(c) = &options.channel_id {
                f.insert("channel_id".into(), c.as_str().into());
            }
            f.insert("notify_level".into(), NOTIFY_LEVEL_IM.into());
            if let Some(t) = &options.private_template_id {
                // 2.4 [S], 11 [U]: a private template; the title and content
                // go as its parameters (and as the plain fields, which OPPO
                // requires on every message). OPPO documents no rule on the
                // parameters, so nothing is cut.
                f.insert("private_msg_template_id".into(), t.as_str().into());
                f.insert(
                    "private_title_parameters".into(),
                    json!({ "title": m.title }).to_string().into(),
                );
                f.insert(
                    "private_content_parameters".into(),
                    json!({ "content": m.desc }).to_string().into(),
                );
            }
        }
        if let Some(r) = m.receipt {
            match r.url {
                Some(url) if url.chars().count() > MAX_CALLBACK_URL => notes.push(format!(
                    "sent without receipts: the receipt URL is {} characters, over OPPO's {MAX_CALLBACK_URL} (serve the API from a shorter PUBLIC_BASE_URL)",
                    url.chars().count()
                )),
                Some(_) if r.param.chars().count() > MAX_CALLBACK_PARAM => notes.push(format!(
                    "sent without receipts: the receipt parameter is over OPPO's {MAX_CALLBACK_PARAM} characters"
                )),
                Some(url) => {
                    f.insert("call_back_url".into(), url.into());
                    f.insert("call_back_parameter".into(), r.param.into());
                }
                None => {}
            }
        }
        Notification {
            fields: f,
            notes,
            refused,
            private,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// One message of `unicast` / `unicast_batch` (2.3): one registration id.
    pub fn message(&self, reg_id: &str) -> Value {
        json!({
            "target_type": TARGET_REGISTRATION_ID,
            "target_value": reg_id,
            "notification": Value::Object(self.fields.clone()),
        })
    }

    /// The `unicast` form (2.3): `auth_token` and `message`, the JSON string.
    pub fn unicast_body(&self, auth_token: &str, reg_id: &str) -> String {
        let message = self.message(reg_id).to_string();
        form(&[("auth_token", auth_token), ("message", &message)])
    }

    /// The `unicast_batch` form (2.3): `auth_token` and `messages`, a JSON
    /// array of one message per registration id (at most 1000).
    pub fn batch_body(&self, auth_token: &str, reg_ids: &[&str]) -> String {
        let messages = Value::Array(reg_ids.iter().map(|r| self.message(r)).collect()).to_string();
        form(&[("auth_token", auth_token), ("messages", &messages)])
    }
}

/// A form body, UTF-8 (2.1 [C]).
pub fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("string pairs encode")
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::Category;
    use offpush::vendor::ReceiptRequest;

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

    fn im() -> OppoOptions {
        OppoOptions {
            channel_id: Some("im_private".into()),
            private_template_id: None,
        }
    }

    #[test]
    fn every_click_action_has_its_type() {
        let o = OppoOptions::default();
        let app = ClickAction::OpenApp;
        let n = Notification::new(&o, &message(&app, None));
        assert_eq!(n.get("click_action_type"), Some(&json!(0)));
        assert!(n.get("click_action_url").is_none());
        let url = ClickAction::OpenUrl {
            url: "https://e.com/x".into(),
        };
        let n = Notification::new(&o, &message(&url, None));
        assert_eq!(
            (n.get("click_action_type"), n.get("click_action_url")),
            (Some(&json!(2)), Some(&json!("https://e.com/x")))
        );
        let page = ClickAction::OpenPage {
            intent_uri: "intent:#Intent;component=com.example.im/.Chat;end".into(),
        };
        let n = Notification::new(&o, &message(&page, None));
        assert_eq!(n.get("click_action_type"), Some(&json!(5)));
        assert!(n
            .get("click_action_url")
            .unwrap()
            .as_str()
            .unwrap()
            .starts_with("intent:"));
    }

    #[test]
    fn the_message_carries_every_field_it_maps() {
        let app = ClickAction::OpenApp;
        let r = ReceiptRequest {
            receipt_id: None,
            url: Some("https://api.example.com/prod/v1/receipts/oppo/S"),
            param: "op2.20261207.0123456789abcdef0123456789abcdef.0123456789abcdef",
        };
        let n = Notification::new(&im(), &message(&app, Some(r)));
        let m = n.message("CN_regid1");
        assert_eq!(m["target_type"], 2);
        assert_eq!(m["target_value"], "CN_regid1");
        let f = &m["notification"];
        assert_eq!(f["title"], "Alice 😀", "no template: the text as given");
        assert_eq!(f["content"], "Hi, are you free? 🎉");
        assert_eq!(f["style"], 1);
        assert_eq!(f["off_line"], true);
        assert_eq!(f["off_line_ttl"], 86_400);
        assert_eq!(f["notify_id"], 42);
        assert_eq!(f["category"], "IM");
        assert_eq!(f["channel_id"], "im_private");
        assert_eq!(f["notify_level"], 2);
        let params: Value = serde_json::from_str(f["action_parameters"].as_str().unwrap()).unwrap();
        assert_eq!(params, json!({"ext": "{\"conv\":\"c2c alice\"}"}));
        assert_eq!(f["call_back_parameter"], r.param);
        assert!(f["call_back_url"]
            .as_str()
            .unwrap()
            .ends_with("/receipts/oppo/S"));
        assert!(f.get("private_msg_template_id").is_none());
        assert!(n.notes.is_empty() && n.refused.is_none() && n.private);
        // Snake_case only (2.4 CONFLICT: the SDK and every client).
        assert!(f
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.chars().any(|c| c.is_ascii_uppercase())));
        // Without receipts, no callback field at all.
        let n = Notification::new(&im(), &message(&app, None));
        assert!(n.get("call_back_url").is_none() && n.get("call_back_parameter").is_none());
    }

    #[test]
    fn forms_hold_the_json_strings_oppo_expects() {
        let app = ClickAction::OpenApp;
        let n = Notification::new(&im(), &message(&app, None));
        let back: Vec<(String, String)> =
            serde_urlencoded::from_str(&n.unicast_body("tok", "r1")).unwrap();
        assert_eq!(back[0], ("auth_token".into(), "tok".into()));
        assert_eq!(back[1].0, "message");
        let m: Value = serde_json::from_str(&back[1].1).unwrap();
        assert_eq!(m["target_value"], "r1");
        let back: Vec<(String, String)> =
            serde_urlencoded::from_str(&n.batch_body("tok", &["r1", "r2"])).unwrap();
        assert_eq!(back[1].0, "messages");
        let ms: Value = serde_json::from_str(&back[1].1).unwrap();
        assert_eq!(ms.as_array().unwrap().len(), 2);
        assert_eq!(ms[1]["target_value"], "r2");
        assert_eq!(ms[1]["notification"]["title"], "Alice 😀");
    }

    #[test]
    fn long_content_goes_as_long_text_at_and_past_fifty() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        let fifty = "字".repeat(50);
        m.desc = &fifty;
        assert_eq!(Notification::new(&im(), &m).get("style"), Some(&json!(1)));
        let fifty_one = "字".repeat(51);
        m.desc = &fifty_one;
        assert_eq!(Notification::new(&im(), &m).get("style"), Some(&json!(2)));
        let hundred = "字".repeat(offpush::domain::push::MAX_DESC_CHARS);
        m.desc = &hundred;
        let n = Notification::new(&im(), &m);
        assert_eq!(n.get("content"), Some(&json!(hundred)), "never cut");
        assert_eq!(n.get("style"), Some(&json!(2)));
    }

    #[test]
    fn templates_take_title_and_content_as_parameters() {
        let app = ClickAction::OpenApp;
        let o = OppoOptions {
            channel_id: Some("im_private".into()),
            private_template_id: Some("tpl-1".into()),
        };
        let n = Notification::new(&o, &message(&app, None));
        assert_eq!(n.get("private_msg_template_id"), Some(&json!("tpl-1")));
        let t: Value =
            serde_json::from_str(n.get("private_title_parameters").unwrap().as_str().unwrap())
                .unwrap();
        let c: Value = serde_json::from_str(
            n.get("private_content_parameters")
                .unwrap()
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(t, json!({"title": "Alice 😀"}));
        assert_eq!(c, json!({"content": "Hi, are you free? 🎉"}));
        assert_eq!(n.get("title"), Some(&json!("Alice 😀")));
        assert!(n.notes.is_empty());
    }

    #[test]
    fn operational_pushes_never_go_through_the_private_channel() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        m.category = Category::Marketing;
        let o = OppoOptions {
            channel_id: Some("im_private".into()),
            private_template_id: Some("tpl".into()),
        };
        let n = Notification::new(&o, &m);
        assert_eq!(n.get("category"), Some(&json!("MARKETING")));
        assert!(n.get("channel_id").is_none() && n.get("notify_level").is_none());
        assert!(n.get("private_msg_template_id").is_none() && !n.private);
        m.category = Category::Order;
        assert_eq!(
            Notification::new(&o, &m).get("channel_id"),
            Some(&json!("im_private"))
        );
        // No channel: the category alone, no notify_level.
        m.category = Category::Im;
        let n = Notification::new(&OppoOptions::default(), &m);
        assert_eq!(n.get("category"), Some(&json!("IM")));
        assert!(n.get("notify_level").is_none());
    }

    #[test]
    fn receipts_over_oppos_limits_go_unsent_and_are_said() {
        let app = ClickAction::OpenApp;
        let long = format!("https://{}/v1/receipts/oppo/S", "a".repeat(180));
        let r = ReceiptRequest {
            receipt_id: None,
            url: Some(&long),
            param: "p",
        };
        let n = Notification::new(&im(), &message(&app, Some(r)));
        assert!(n.get("call_back_url").is_none());
        assert!(n.notes[0].contains("without receipts"), "{:?}", n.notes);
        let at = format!("https://{}", "a".repeat(MAX_CALLBACK_URL - 8));
        let r = ReceiptRequest {
            receipt_id: None,
            url: Some(&at),
            param: "p",
        };
        let n = Notification::new(&im(), &message(&app, Some(r)));
        assert_eq!(n.get("call_back_url"), Some(&json!(at)));
        let param = "p".repeat(MAX_CALLBACK_PARAM);
        let r = ReceiptRequest {
            receipt_id: None,
            url: Some("https://x/r"),
            param: &param,
        };
        let n = Notification::new(&im(), &message(&app, Some(r)));
        assert_eq!(n.get("call_back_parameter"), Some(&json!(param)));
        let param = "p".repeat(MAX_CALLBACK_PARAM + 1);
        let r = ReceiptRequest {
            receipt_id: None,
            url: Some("https://x/r"),
            param: &param,
        };
        let n = Notification::new(&im(), &message(&app, Some(r)));
        assert!(n.get("call_back_url").is_none() && n.notes.len() == 1);
    }

    #[test]
    fn ext_at_the_products_limit_fits_and_escapes_past_oppos_are_refused() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        let ext = "\"".repeat(offpush::domain::push::MAX_EXT_BYTES);
        m.ext = Some(&ext);
        let n = Notification::new(&im(), &m);
        assert!(n.refused.is_none());
        let params = n.get("action_parameters").unwrap().as_str().unwrap();
        assert!(params.chars().count() <= MAX_ACTION_PARAMETERS_CHARS);
        let controls = "\u{1}".repeat(offpush::domain::push::MAX_EXT_BYTES);
        m.ext = Some(&controls);
        let n = Notification::new(&im(), &m);
        assert!(n.refused.as_deref().unwrap().contains("action_parameters"));
    }

    #[test]
    fn ttl_is_sent_in_seconds() {
        let app = ClickAction::OpenApp;
        let mut m = message(&app, None);
        m.ttl_seconds = 60;
        assert_eq!(
            Notification::new(&im(), &m).get("off_line_ttl"),
            Some(&json!(60))
        );
        m.ttl_seconds = offpush::domain::push::MAX_TTL_SECS as u32;
        assert_eq!(
            Notification::new(&im(), &m).get("off_line_ttl"),
            Some(&json!(86_400))
        );
    }
}
