//! Request bodies of vivo's send calls (VIVO_API.md 1.3, 1.5).

use super::credentials::VivoCredentials;
use offpush::domain::{Category, Certificate, ClickAction, PushMode};
use offpush::vendor::Message;
use serde_json::{json, Map, Value};

/// vivo's classification for a category: 1 system (service and
/// communication), 0 operational. Sending both must agree or vivo answers
/// 10097 (VIVO_API.md 1.4).
pub fn classification(c: Category) -> u8 {
    u8::from(c.is_service())
}

/// vivo's skipType and skipContent (VIVO_API.md 1.3: 1 app, 2 URL, 4 page).
pub fn skip(click: &ClickAction) -> (u8, Option<&str>) {
    match click {
        ClickAction::OpenApp => (1, None),
        ClickAction::OpenUrl { url } => (2, Some(url)),
        ClickAction::OpenPage { intent_uri } => (4, Some(intent_uri)),
    }
}

/// vivo pushMode: 0 formal, 1 test (VIVO_API.md 1.3).
pub fn push_mode(m: PushMode) -> u8 {
    match m {
        PushMode::Production => 0,
        PushMode::Test => 1,
    }
}

/// What one notification says and does through one vivo app, shared by
/// every device it goes to.
pub struct Notification<'a> {
    pub vivo_app_id: u64,
    pub push_mode: PushMode,
    pub message: &'a Message<'a>,
}

/// Ring and vibrate, what IM notifications use (VIVO_API.md 1.3; Tencent's default).
pub const NOTIFY_TYPE_RING_AND_VIBRATE: u8 = 4;

impl<'a> Notification<'a> {
    pub fn new(cert: &'a Certificate, creds: &VivoCredentials, m: &'a Message<'a>) -> Self {
        Notification {
            vivo_app_id: creds.app_id,
            push_mode: cert.push_mode,
            message: m,
        }
    }

    /// The content fields common to `/message/send` and `/message/saveListPayload`.
    fn content(&self, request_id: &str) -> Map<String, Value> {
        let msg = self.message;
        let (skip_type, skip_content) = skip(msg.click);
        let mut m = Map::new();
        // appId is required since doc v2.9.2 and must be a JSON number.
        m.insert("appId".into(), json!(self.vivo_app_id));
        m.insert("notifyType".into(), json!(NOTIFY_TYPE_RING_AND_VIBRATE));
        m.insert("title".into(), json!(msg.title));
        m.insert("content".into(), json!(msg.desc));
        m.insert("timeToLive".into(), json!(msg.ttl_seconds));
        m.insert("skipType".into(), json!(skip_type));
        if let Some(c) = skip_content {
            m.insert("skipContent".into(), json!(c));
        }
        if let Some(ext) = msg.ext {
            // Tencent IM's convention: the payload reaches the app as the
            // clientCustomMap entry "ext" (VIVO_API.md 1.11).
            m.insert("clientCustomMap".into(), json!({ "ext": ext }));
        }
        // Both are sent: the category is the current rule (since 2023-04),
        // and an explicit, consistent classification avoids relying on a
        // default the sources disagree about (VIVO_API.md 1.3, CONFLICT).
        m.insert("category".into(), json!(msg.category.as_str()));
        m.insert("classification".into(), json!(classification(msg.category)));
        m.insert("pushMode".into(), json!(push_mode(self.push_mode)));
        if let Some(n) = msg.notify_id {
            m.insert("notifyId".into(), json!(n));
        }
        if let Some(r) = msg.receipt.filter(|r| r.receipt_id.is_some()) {
            // New-style receipts: the receipt ID registered in the vivo
            // console (it wins over a legacy `callback` URL, which is never
            // sent), and our push reference as `callback.param`, kept
            // within the older, smaller limit of 64 characters (VIVO_API.md
            // 1.3/1.8 CONFLICT: 64 old vs 192 new; the safer reading). Sent
            // on /message/send and on saveListPayload, whose taskId the list
            // sends share (1.8: receipts also cover list push).
            m.insert(
                "extra".into(),
                json!({ "callback.id": r.receipt_id.expect("filtered"), "callback.param": r.param }),
            );
        }
        m.insert("requestId".into(), json!(request_id));
        m
    }

    pub fn send_body(&self, reg_id: &str, request_id: &str) -> Value {
        let mut m = self.content(request_id);
        m.insert("regId".into(), json!(reg_id));
        Value::Object(m)
    }

    pub fn save_list_body(&self, request_id: &str) -> Value {
        Value::Object(self.content(request_id))
    }

    pub fn push_to_list_body(&self, task_id: &str, reg_ids: &[&str], request_id: &str) -> Value {
        json!({
            "appId": self.vivo_app_id,
            "regIds": reg_ids,
            "taskId": task_id,
            "requestId": request_id,
            "pushMode": push_mode(self.push_mode),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn click_actions_map_to_vivo_skip_types() {
        use super::*;
        assert_eq!(skip(&ClickAction::OpenApp), (1, None));
        let url = ClickAction::OpenUrl {
            url: "https://e.com/x".into(),
        };
        assert_eq!(skip(&url), (2, Some("https://e.com/x")));
        let page = ClickAction::OpenPage {
            intent_uri: "intent://chat#Intent;scheme=im;end".into(),
        };
        assert_eq!(skip(&page).0, 4);
        assert_eq!(
            (push_mode(PushMode::Production), push_mode(PushMode::Test)),
            (0, 1)
        );
    }

    #[test]
    fn categories_agree_with_vivo_classification() {
        use super::*;
        let system: Vec<&str> = Category::ALL
            .iter()
            .filter(|c| classification(**c) == 1)
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

    use super::*;
    use offpush::domain::{Category, ClickAction};

    #[test]
    fn send_body_carries_every_documented_field() {
        let click = ClickAction::OpenPage {
            intent_uri: "intent://chat#Intent;scheme=im;end".into(),
        };
        let m = Message {
            push_key: "demo/req",
            title: "Alice",
            desc: "Hi",
            ext: Some("{\"conv\":\"c2c\"}"),
            category: Category::Im,
            ttl_seconds: 600,
            click: &click,
            notify_id: Some(42),
            receipt: Some(offpush::vendor::ReceiptRequest {
                receipt_id: Some("5001"),
                url: None,
                param: "op1.20261201.abc",
            }),
        };
        let n = Notification {
            vivo_app_id: 10004,
            push_mode: PushMode::Test,
            message: &m,
        };
        let b = n.send_body("reg-1", "req-1");
        assert_eq!(b["appId"], 10004);
        assert!(b["appId"].is_u64());
        assert_eq!(b["regId"], "reg-1");
        assert_eq!(b["notifyType"], 4);
        assert_eq!(b["skipType"], 4);
        assert_eq!(b["skipContent"], "intent://chat#Intent;scheme=im;end");
        assert_eq!(b["clientCustomMap"], json!({"ext": "{\"conv\":\"c2c\"}"}));
        assert_eq!(b["category"], "IM");
        assert_eq!(b["classification"], 1);
        assert_eq!(b["timeToLive"], 600);
        assert_eq!(b["pushMode"], 1);
        assert_eq!(b["notifyId"], 42);
        assert_eq!(b["requestId"], "req-1");
        assert_eq!(
            b["extra"],
            json!({"callback.id": "5001", "callback.param": "op1.20261201.abc"})
        );
        let open_app = ClickAction::OpenApp;
        let m2 = Message {
            click: &open_app,
            ext: None,
            notify_id: None,
            receipt: None,
            category: Category::Marketing,
            ..m
        };
        let n2 = Notification { message: &m2, ..n };
        let b2 = n2.save_list_body("req-2");
        assert_eq!(b2["skipType"], 1);
        assert!(
            b2.get("skipContent").is_none()
                && b2.get("clientCustomMap").is_none()
                && b2.get("notifyId").is_none()
                && b2.get("extra").is_none()
        );
        assert!(b2.get("regId").is_none());
        assert_eq!(b2["classification"], 0);
    }
}
