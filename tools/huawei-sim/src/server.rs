//! Huawei on the kit: the [`Vendor`] implementation.

use std::sync::Arc;

use axum::Router;
use serde_json::{Map, Value};
use sim_kit::{common_action, Call, CallAction, Core, Reply, Vendor};

use crate::receipts::HuaweiReceipts;
use crate::{control, oauth, push_body, send, Huawei, HuaweiAction, TOKEN_PATH};

impl Vendor for Huawei {
    /// Any JSON, answered HTTP 200.
    type Body = Value;
    type Action = HuaweiAction;
    type Receipts = HuaweiReceipts;

    const NAME: &'static str = "huawei";

    fn receipt_format(&self) -> HuaweiReceipts {
        HuaweiReceipts {
            batch: self.receipt_batch.clone(),
        }
    }

    fn answer(core: &Core<Huawei>, call: &Call) -> Reply {
        if call.path == TOKEN_PATH {
            oauth::answer(core, call)
        } else {
            send::answer(core, call)
        }
    }

    fn body_reply(_: &Core<Huawei>, body: Value, _: &Call) -> Reply {
        Reply::json(body)
    }

    fn action_reply(core: &Core<Huawei>, action: HuaweiAction, _: &Call) -> Reply {
        match action {
            HuaweiAction::Error { code, msg, status } => {
                let now = core.now_ms();
                let mut inner = core.vendor().lock();
                let request_id = inner.new_request_id(now);
                Reply::Json {
                    status: status.unwrap_or_else(|| inner.settings.http_status_of(&code)),
                    body: push_body(&code, &msg, &request_id),
                }
            }
            HuaweiAction::OAuthError {
                status,
                error,
                sub_error,
                description,
            } => oauth::oauth_error(status, error, sub_error, &description),
        }
    }

    /// `{"body":<any JSON>}`, `{"error":{"code":"80100016","msg":"..",
    /// "http_status":400}}` (`msg` defaults to empty, `http_status` to the
    /// code's), `{"oauth_error":{"http_status":400,"error":1101,
    /// "sub_error":0,"error_description":".."}}`, or one of the kit's.
    fn parse_action(
        object: &Map<String, Value>,
    ) -> Result<CallAction<Value, HuaweiAction>, String> {
        let [(kind, value)] = object.iter().collect::<Vec<_>>()[..] else {
            return Err(
                "action needs exactly one of body, error, oauth_error, http_status, delay_ms, garbage"
                    .to_owned(),
            );
        };
        let status = |fields: &Map<String, Value>| -> Result<Option<u16>, String> {
            match fields.get("http_status") {
                None => Ok(None),
                Some(value) => value
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .filter(|s| (100..=999).contains(s))
                    .map(Some)
                    .ok_or_else(|| "http_status must be an HTTP status code".to_owned()),
            }
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
                Ok(CallAction::Vendor(HuaweiAction::Error {
                    code: code.to_owned(),
                    msg: msg.to_owned(),
                    status: status(error)?,
                }))
            }
            "oauth_error" => {
                let error = value.as_object().ok_or("oauth_error must be an object")?;
                if let Some(other) = error.keys().find(|key| {
                    !matches!(
                        key.as_str(),
                        "http_status" | "error" | "sub_error" | "error_description"
                    )
                }) {
                    return Err(format!("unknown oauth_error field {other:?}"));
                }
                let int = |name: &str| match error.get(name) {
                    None => Ok(0),
                    Some(value) => value
                        .as_i64()
                        .ok_or_else(|| format!("oauth_error.{name} must be an integer")),
                };
                let description = match error.get("error_description") {
                    None => "",
                    Some(Value::String(text)) => text,
                    Some(_) => {
                        return Err("oauth_error.error_description must be a string".to_owned())
                    }
                };
                Ok(CallAction::Vendor(HuaweiAction::OAuthError {
                    status: status(error)?.unwrap_or(400),
                    error: int("error")?,
                    sub_error: int("sub_error")?,
                    description: description.to_owned(),
                }))
            }
            other => common_action(other, value)
                .unwrap_or_else(|| Err(format!("unknown action {other:?}"))),
        }
    }

    fn result_of(response: &Value) -> Option<&Value> {
        response.get("code").or_else(|| response.get("error"))
    }

    fn deliveries_json(core: &Core<Huawei>) -> Value {
        serde_json::to_value(&core.vendor().lock().deliveries).unwrap_or(Value::Null)
    }

    fn reset(core: &Core<Huawei>) {
        core.vendor().lock().reset();
        // Default settings always pass their own check.
        let _ = core.vendor().set_settings(crate::Settings::default());
    }

    fn routes() -> Router<Arc<Core<Huawei>>> {
        control::routes()
    }
}
