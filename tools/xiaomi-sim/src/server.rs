//! Xiaomi on the kit: the [`Vendor`] implementation.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use axum::Router;
use serde_json::{Map, Value};
use sim_kit::{common_action, form, json_or_text, Call, CallAction, Core, NoAction, Reply, Vendor};

use crate::receipts::XiaomiReceipts;
use crate::{control, error_body, xiaomi, Settings, Xiaomi};

impl Vendor for Xiaomi {
    /// Any JSON, answered HTTP 200.
    type Body = Value;
    type Action = NoAction;
    type Receipts = XiaomiReceipts;

    const NAME: &'static str = "xiaomi";

    fn receipt_format(&self) -> XiaomiReceipts {
        XiaomiReceipts {
            json: self.json_receipts.clone(),
        }
    }

    fn answer(core: &Core<Xiaomi>, call: &Call) -> Reply {
        xiaomi::answer(core, call)
    }

    fn body_reply(_: &Core<Xiaomi>, body: Value, _: &Call) -> Reply {
        Reply::json(body)
    }

    fn action_reply(_: &Core<Xiaomi>, action: NoAction, _: &Call) -> Reply {
        match action {}
    }

    /// `{"body":<any JSON>}`, `{"error":{"code":N,"description":"..",
    /// "reason":".."}}` (Xiaomi's error shape with a fresh `trace_id`;
    /// `description` and `reason` default to empty), or one of the kit's.
    fn parse_action(object: &Map<String, Value>) -> Result<CallAction<Value, NoAction>, String> {
        let [(kind, value)] = object.iter().collect::<Vec<_>>()[..] else {
            return Err(
                "action needs exactly one of body, error, http_status, delay_ms, garbage"
                    .to_owned(),
            );
        };
        match kind.as_str() {
            "body" => Ok(CallAction::Body(value.clone())),
            "error" => {
                let error = value.as_object().ok_or("error must be an object")?;
                let code = error
                    .get("code")
                    .and_then(Value::as_i64)
                    .ok_or("error.code must be an integer")?;
                let text = |field: &str| match error.get(field) {
                    None => Ok(""),
                    Some(Value::String(text)) => Ok(text.as_str()),
                    Some(_) => Err(format!("error.{field} must be a string")),
                };
                if let Some(other) = error
                    .keys()
                    .find(|key| !matches!(key.as_str(), "code" | "description" | "reason"))
                {
                    return Err(format!("unknown error field {other:?}"));
                }
                Ok(CallAction::Body(error_body(
                    code,
                    text("description")?,
                    text("reason")?,
                )))
            }
            other => common_action(other, value)
                .unwrap_or_else(|| Err(format!("unknown action {other:?}"))),
        }
    }

    /// A form body as an object of its fields (when it is well-formed and no
    /// field is repeated), else the text.
    fn record_body(body: &[u8], headers: &HeaderMap) -> Value {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let is_form = content_type
            .is_some_and(|ct| form::media_type(ct).0 == "application/x-www-form-urlencoded");
        if is_form {
            if let Ok(pairs) = form::decode(body) {
                let count = pairs.len();
                let fields: Map<String, Value> = pairs
                    .into_iter()
                    .map(|(name, value)| (name, Value::String(value)))
                    .collect();
                if fields.len() == count {
                    return Value::Object(fields);
                }
            }
        }
        json_or_text(body)
    }

    fn result_of(response: &Value) -> Option<&Value> {
        response.get("code")
    }

    fn deliveries_json(core: &Core<Xiaomi>) -> Value {
        serde_json::to_value(&core.vendor().lock().deliveries).unwrap_or(Value::Null)
    }

    fn reset(core: &Core<Xiaomi>) {
        core.vendor().lock().reset();
        core.vendor().set_settings(Settings::default());
    }

    fn routes() -> Router<Arc<Core<Xiaomi>>> {
        control::routes()
    }
}
