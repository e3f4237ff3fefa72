//! APNs on the kit: the [`Vendor`] implementation.

use std::sync::Arc;

use axum::Router;
use serde_json::{Map, Value};
use sim_kit::{common_action, Call, CallAction, Core, NoReceipts, Reply, Vendor};

use crate::{apns, control, reason_status, Apns, ApnsError};

impl Vendor for Apns {
    /// Any JSON, answered HTTP 200.
    type Body = Value;
    type Action = ApnsError;
    type Receipts = NoReceipts;

    const NAME: &'static str = "apns";
    const JSON_CONTENT_TYPE: &'static str = "application/json";

    fn receipt_format(&self) -> NoReceipts {
        NoReceipts
    }

    fn answer(core: &Core<Apns>, call: &Call) -> Reply {
        apns::answer(core, call)
    }

    fn body_reply(_: &Core<Apns>, body: Value, _: &Call) -> Reply {
        Reply::json(body)
    }

    fn action_reply(_: &Core<Apns>, action: ApnsError, _: &Call) -> Reply {
        apns::error_reply(action.status, &action.reason, action.timestamp)
    }

    /// `{"body":<any JSON>}`, `{"error":{"reason":"..","status":N,
    /// "timestamp":N}}` (`status` defaults to the reason's own, required
    /// for a reason APNs does not have; `timestamp` optional), or one of the
    /// kit's.
    fn parse_action(object: &Map<String, Value>) -> Result<CallAction<Value, ApnsError>, String> {
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
                    .find(|key| !matches!(key.as_str(), "reason" | "status" | "timestamp"))
                {
                    return Err(format!("unknown error field {other:?}"));
                }
                let reason = error
                    .get("reason")
                    .and_then(Value::as_str)
                    .ok_or("error.reason must be a string")?;
                let status = match error.get("status") {
                    None => reason_status(reason)
                        .ok_or("error.status is needed for a reason APNs does not have")?,
                    Some(status) => status
                        .as_u64()
                        .and_then(|s| u16::try_from(s).ok())
                        .filter(|s| (100..=999).contains(s))
                        .ok_or("error.status must be an HTTP status")?,
                };
                let timestamp = match error.get("timestamp") {
                    None => None,
                    Some(t) => Some(t.as_i64().ok_or("error.timestamp must be an integer")?),
                };
                Ok(CallAction::Vendor(ApnsError {
                    status,
                    reason: reason.to_owned(),
                    timestamp,
                }))
            }
            other => common_action(other, value)
                .unwrap_or_else(|| Err(format!("unknown action {other:?}"))),
        }
    }

    fn result_of(response: &Value) -> Option<&Value> {
        response.get("reason")
    }

    fn deliveries_json(core: &Core<Apns>) -> Value {
        serde_json::to_value(&core.vendor().lock().deliveries).unwrap_or(Value::Null)
    }

    fn reset(core: &Core<Apns>) {
        core.vendor().lock().reset();
    }

    fn routes() -> Router<Arc<Core<Apns>>> {
        control::routes()
    }
}
