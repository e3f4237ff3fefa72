//! Honor on the kit: the [`Vendor`] implementation.

use std::sync::Arc;

use axum::Router;
use serde_json::{Map, Value};
use sim_kit::{common_action, Call, CallAction, Core, Reply, Vendor};

use crate::receipts::HonorReceipts;
use crate::{control, honor, Honor, HonorAction};

impl Vendor for Honor {
    /// Any JSON, answered HTTP 200.
    type Body = Value;
    type Action = HonorAction;
    type Receipts = HonorReceipts;

    const NAME: &'static str = "honor";

    fn receipt_format(&self) -> HonorReceipts {
        HonorReceipts {
            max: self.receipt_max.clone(),
        }
    }

    fn answer(core: &Core<Honor>, call: &Call) -> Reply {
        honor::answer(core, call)
    }

    fn body_reply(_: &Core<Honor>, body: Value, _: &Call) -> Reply {
        Reply::json(body)
    }

    fn action_reply(core: &Core<Honor>, action: HonorAction, _: &Call) -> Reply {
        honor::action_reply(&core.vendor().settings(), action)
    }

    /// `{"body":<any JSON>}`, `{"error":{"code":401 or "80200003",
    /// "message":"..","status":N}}` (`message`, `status` optional),
    /// `{"oauth_error":{"status":401,"error":"..","description":".."}}`, or
    /// one of the kit's.
    fn parse_action(object: &Map<String, Value>) -> Result<CallAction<Value, HonorAction>, String> {
        let [(kind, value)] = object.iter().collect::<Vec<_>>()[..] else {
            return Err(
                "action needs exactly one of body, error, oauth_error, http_status, delay_ms, garbage"
                    .to_owned(),
            );
        };
        match kind.as_str() {
            "body" => Ok(CallAction::Body(value.clone())),
            "error" => parse_error(value),
            "oauth_error" => parse_oauth_error(value),
            other => common_action(other, value)
                .unwrap_or_else(|| Err(format!("unknown action {other:?}"))),
        }
    }

    fn result_of(response: &Value) -> Option<&Value> {
        response.get("code").or_else(|| response.get("error"))
    }

    fn deliveries_json(core: &Core<Honor>) -> Value {
        serde_json::to_value(&core.vendor().lock().deliveries).unwrap_or(Value::Null)
    }

    fn reset(core: &Core<Honor>) {
        core.vendor().lock().reset();
        let initial = core.vendor().initial_settings();
        if let Err(error) = core.vendor().set_settings(initial) {
            tracing::warn!(%error, "initial settings refused");
        }
    }

    fn routes() -> Router<Arc<Core<Honor>>> {
        control::routes()
    }
}

/// An HTTP status for a scripted answer: 100..=999.
fn status_of(value: Option<&Value>, what: &str) -> Result<Option<u16>, String> {
    match value {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..=999).contains(s))
            .map(Some)
            .ok_or_else(|| format!("{what} must be an HTTP status code")),
    }
}

fn only_fields(object: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(other) => Err(format!("unknown {what} field {other:?}")),
        None => Ok(()),
    }
}

fn text_of<'a>(object: &'a Map<String, Value>, name: &str, what: &str) -> Result<&'a str, String> {
    match object.get(name) {
        None => Ok(""),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(format!("{what}.{name} must be a string")),
    }
}

fn parse_error(value: &Value) -> Result<CallAction<Value, HonorAction>, String> {
    let error = value.as_object().ok_or("error must be an object")?;
    only_fields(error, &["code", "message", "status"], "error")?;
    let code = match error.get("code") {
        Some(code @ Value::String(_)) => code.clone(),
        Some(code) if code.is_i64() => code.clone(),
        _ => return Err("error.code must be an integer or a string".to_owned()),
    };
    Ok(CallAction::Vendor(HonorAction::Error {
        code,
        message: text_of(error, "message", "error")?.to_owned(),
        status: status_of(error.get("status"), "error.status")?,
    }))
}

fn parse_oauth_error(value: &Value) -> Result<CallAction<Value, HonorAction>, String> {
    let error = value.as_object().ok_or("oauth_error must be an object")?;
    only_fields(error, &["status", "error", "description"], "oauth_error")?;
    let status = status_of(error.get("status"), "oauth_error.status")?
        .ok_or("oauth_error.status is required")?;
    let kind = text_of(error, "error", "oauth_error")?;
    if kind.is_empty() {
        return Err("oauth_error.error is required".to_owned());
    }
    Ok(CallAction::Vendor(HonorAction::OAuthError {
        status,
        error: kind.to_owned(),
        description: text_of(error, "description", "oauth_error")?.to_owned(),
    }))
}
