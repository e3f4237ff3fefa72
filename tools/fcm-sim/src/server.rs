//! FCM on the kit: the [`Vendor`] implementation.

use std::sync::Arc;

use axum::Router;
use serde_json::{Map, Value};
use sim_kit::{common_action, Call, CallAction, Core, NoReceipts, Reply, Vendor};

use crate::{control, error_body, fcm, oauth, ErrorCode, Fcm, JsonReply, Settings};

impl Vendor for Fcm {
    /// Any JSON, answered HTTP 200.
    type Body = Value;
    type Action = JsonReply;
    type Receipts = NoReceipts;

    const NAME: &'static str = "fcm";
    /// Google's APIs answer `application/json; charset=UTF-8`.
    const JSON_CONTENT_TYPE: &'static str = "application/json; charset=UTF-8";

    fn receipt_format(&self) -> NoReceipts {
        NoReceipts
    }

    fn answer(core: &Core<Fcm>, call: &Call) -> Reply {
        if let Some(project) = fcm::project_of(&call.path) {
            return fcm::answer(core, call, project);
        }
        if core.vendor().is_token_path(&call.path) {
            return oauth::answer(core, call);
        }
        Reply::text(404, "Not Found")
    }

    fn body_reply(_: &Core<Fcm>, body: Value, _: &Call) -> Reply {
        Reply::json(body)
    }

    fn action_reply(_: &Core<Fcm>, action: JsonReply, _: &Call) -> Reply {
        Reply::Json {
            status: action.status,
            body: action.body,
        }
    }

    /// `{"body":<any JSON>}` (HTTP 200), `{"error":{"error_code":"UNREGISTERED",
    /// "message":".."}}` (FCM's error with its HTTP status; `message`
    /// optional), `{"reply":{"status":N,"body":<any JSON>}}`, or one of the
    /// kit's.
    fn parse_action(object: &Map<String, Value>) -> Result<CallAction<Value, JsonReply>, String> {
        let [(kind, value)] = object.iter().collect::<Vec<_>>()[..] else {
            return Err(
                "action needs exactly one of body, error, reply, http_status, delay_ms, garbage"
                    .to_owned(),
            );
        };
        match kind.as_str() {
            "body" => Ok(CallAction::Body(value.clone())),
            "error" => {
                let error = value.as_object().ok_or("error must be an object")?;
                if let Some(other) = error
                    .keys()
                    .find(|key| !matches!(key.as_str(), "error_code" | "message"))
                {
                    return Err(format!("unknown error field {other:?}"));
                }
                let code = error
                    .get("error_code")
                    .and_then(Value::as_str)
                    .and_then(ErrorCode::parse)
                    .ok_or("error.error_code must be an FCM error code")?;
                let message = match error.get("message") {
                    None => None,
                    Some(Value::String(text)) => Some(text.as_str()),
                    Some(_) => return Err("error.message must be a string".to_owned()),
                };
                Ok(CallAction::Vendor(JsonReply {
                    status: code.http_status(),
                    body: error_body(code, message),
                }))
            }
            "reply" => {
                let reply = value.as_object().ok_or("reply must be an object")?;
                let status = reply
                    .get("status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .filter(|s| (100..=999).contains(s))
                    .ok_or("reply.status must be an HTTP status code")?;
                let body = reply.get("body").cloned().unwrap_or(Value::Null);
                Ok(CallAction::Vendor(JsonReply { status, body }))
            }
            other => common_action(other, value)
                .unwrap_or_else(|| Err(format!("unknown action {other:?}"))),
        }
    }

    /// An OAuth error's `error`, else Google's `error.status`, else the
    /// message name.
    fn result_of(response: &Value) -> Option<&Value> {
        match response.get("error") {
            Some(Value::Object(error)) => error.get("status"),
            Some(error) => Some(error),
            None => response.get("name"),
        }
    }

    fn deliveries_json(core: &Core<Fcm>) -> Value {
        serde_json::to_value(&core.vendor().lock().deliveries).unwrap_or(Value::Null)
    }

    fn reset(core: &Core<Fcm>) {
        let mut inner = core.vendor().lock();
        inner.reset();
        inner.settings = Settings::default();
    }

    fn routes() -> Router<Arc<Core<Fcm>>> {
        control::routes()
    }
}
