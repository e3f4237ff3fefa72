//! Meizu on the kit: the [`Vendor`] implementation.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use axum::Router;
use serde_json::{Map, Value};
use sim_kit::{common_action, form, json_or_text, Call, CallAction, Core, NoAction, Reply, Vendor};

use crate::receipts::MeizuReceipts;
use crate::{control, error_body, meizu, Meizu};

impl Vendor for Meizu {
    /// Any JSON, answered HTTP 200.
    type Body = Value;
    type Action = NoAction;
    type Receipts = MeizuReceipts;

    const NAME: &'static str = "meizu";

    fn receipt_format(&self) -> MeizuReceipts {
        MeizuReceipts {
            json: self.json_receipts.clone(),
            max_targets: self.receipt_max_targets.clone(),
        }
    }

    fn answer(core: &Core<Meizu>, call: &Call) -> Reply {
        meizu::answer(core, call)
    }

    fn body_reply(_: &Core<Meizu>, body: Value, _: &Call) -> Reply {
        Reply::json(body)
    }

    fn action_reply(_: &Core<Meizu>, action: NoAction, _: &Call) -> Reply {
        match action {}
    }

    /// `{"body":<any JSON>}`, `{"error":{"code":"110010","message":".."}}`
    /// (Meizu's error shape; `code` a string or an integer, `message`
    /// default empty), or one of the kit's.
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
                let code = match error.get("code") {
                    Some(Value::String(code)) if !code.is_empty() => code.clone(),
                    Some(Value::Number(code)) if code.is_i64() => code.to_string(),
                    _ => return Err("error.code must be a string or an integer".to_owned()),
                };
                let message = match error.get("message") {
                    None => "",
                    Some(Value::String(text)) => text.as_str(),
                    Some(_) => return Err("error.message must be a string".to_owned()),
                };
                if let Some(other) = error
                    .keys()
                    .find(|key| !matches!(key.as_str(), "code" | "message"))
                {
                    return Err(format!("unknown error field {other:?}"));
                }
                Ok(CallAction::Body(error_body(&code, message)))
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

    fn deliveries_json(core: &Core<Meizu>) -> Value {
        serde_json::to_value(&core.vendor().lock().deliveries).unwrap_or(Value::Null)
    }

    fn reset(core: &Core<Meizu>) {
        core.vendor().lock().reset();
        core.vendor()
            .set_settings(core.vendor().initial_settings.clone());
    }

    fn routes() -> Router<Arc<Core<Meizu>>> {
        control::routes()
    }
}
