//! Push Kit on the kit: the [`Vendor`] implementation.

use std::sync::Arc;

use axum::Router;
use serde_json::{Map, Value};
use sim_kit::{common_action, Call, CallAction, Core, Reply, Vendor};

use crate::receipts::HarmonyReceipts;
use crate::{control, push_body, send, Harmony, HarmonyAction};

impl Vendor for Harmony {
    /// Any JSON, answered HTTP 200.
    type Body = Value;
    type Action = HarmonyAction;
    type Receipts = HarmonyReceipts;

    const NAME: &'static str = "harmony";

    fn receipt_format(&self) -> HarmonyReceipts {
        HarmonyReceipts {
            batch: self.receipt_batch.clone(),
        }
    }

    fn answer(core: &Core<Harmony>, call: &Call) -> Reply {
        send::answer(core, call)
    }

    fn body_reply(_: &Core<Harmony>, body: Value, _: &Call) -> Reply {
        Reply::json(body)
    }

    fn action_reply(core: &Core<Harmony>, action: HarmonyAction, _: &Call) -> Reply {
        match action {
            HarmonyAction::Error { code, msg, status } => {
                let now = core.now_ms();
                let mut inner = core.vendor().lock();
                let request_id = inner.new_request_id(now);
                Reply::Json {
                    status: status.unwrap_or_else(|| inner.settings.http_status_of(&code)),
                    body: push_body(&code, &msg, &request_id),
                }
            }
        }
    }

    /// `{"body":<any JSON>}`, `{"error":{"code":"81000001","msg":"..",
    /// "http_status":500}}` (`msg` defaults to empty, `http_status` to the
    /// code's), or one of the kit's.
    fn parse_action(
        object: &Map<String, Value>,
    ) -> Result<CallAction<Value, HarmonyAction>, String> {
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
                if let Some(other) = error
                    .keys()
                    .find(|key| !matches!(key.as_str(), "code" | "msg" | "http_status"))
                {
                    return Err(format!("unknown error field {other:?}"));
                }
                let code = error
                    .get("code")
                    .and_then(Value::as_str)
                    .ok_or("error.code must be a string")?;
                let msg = match error.get("msg") {
                    None => "",
                    Some(Value::String(msg)) => msg,
                    Some(_) => return Err("error.msg must be a string".to_owned()),
                };
                let status = match error.get("http_status") {
                    None => None,
                    Some(value) => Some(
                        value
                            .as_u64()
                            .and_then(|s| u16::try_from(s).ok())
                            .filter(|s| (100..=999).contains(s))
                            .ok_or("http_status must be an HTTP status code")?,
                    ),
                };
                Ok(CallAction::Vendor(HarmonyAction::Error {
                    code: code.to_owned(),
                    msg: msg.to_owned(),
                    status,
                }))
            }
            other => common_action(other, value)
                .unwrap_or_else(|| Err(format!("unknown action {other:?}"))),
        }
    }

    fn result_of(response: &Value) -> Option<&Value> {
        response.get("code")
    }

    fn deliveries_json(core: &Core<Harmony>) -> Value {
        serde_json::to_value(&core.vendor().lock().deliveries).unwrap_or(Value::Null)
    }

    fn reset(core: &Core<Harmony>) {
        core.vendor().lock().reset();
        // Default settings always pass their own check.
        let _ = core.vendor().set_settings(crate::Settings::default());
    }

    fn routes() -> Router<Arc<Core<Harmony>>> {
        control::routes()
    }
}
