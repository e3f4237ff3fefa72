//! vivo on the kit: the [`Vendor`] implementation (transport checks, scripted
//! answers, what the common control endpoints show).

use std::sync::Arc;

use axum::http::{header, Method};
use axum::Router;
use serde_json::{Map, Value};
use sim_kit::{common_action, Call, CallAction, Core, RecordedRequest, Reply, Vendor};

use crate::receipts::VivoReceipts;
use crate::vivo::{self, token_rejected};
use crate::{control, RecordedRequest as VivoRecord, Vivo};

/// vivo's own scripted action ([`crate::CallAction::ExpireToken`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VivoAction {
    ExpireToken,
}

impl Vendor for Vivo {
    /// `{"result":..,"desc":..,..}` as answered.
    type Body = Value;
    type Action = VivoAction;
    type Receipts = VivoReceipts;

    const NAME: &'static str = "vivo";

    fn receipt_format(&self) -> VivoReceipts {
        VivoReceipts
    }

    /// vivo's normal behaviour for one call.
    fn answer(core: &Core<Vivo>, call: &Call) -> Reply {
        let path = call.path.as_str();
        if !vivo::PATHS.contains(&path) {
            return Reply::text(404, "Not Found");
        }
        if call.method != Method::POST {
            return Reply::text(405, "Method Not Allowed");
        }
        let mut inner = core.vendor().lock();
        let token_app = if path == vivo::AUTH {
            None
        } else {
            match inner.token_app(call.header("authToken")) {
                Ok(app) => Some(app),
                Err(reply) => return reply,
            }
        };
        let is_json = call
            .content_type()
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Reply::text(415, "Content-Type must be application/json");
        }
        let raw: Value = match serde_json::from_slice(&call.body) {
            Ok(value @ Value::Object(_)) => value,
            _ => return Reply::text(400, "request body must be a JSON object"),
        };
        // A JSON null is treated as an absent field, as vivo's Java server would.
        let mut fields = raw.as_object().cloned().unwrap_or_default();
        fields.retain(|_, value| !value.is_null());

        inner.answer(core, path, token_app, &fields, &raw)
    }

    fn body_reply(_: &Core<Vivo>, body: Value, _: &Call) -> Reply {
        Reply::json(body)
    }

    fn action_reply(core: &Core<Vivo>, action: VivoAction, call: &Call) -> Reply {
        match action {
            VivoAction::ExpireToken => {
                if let Some(token) = call.headers.get("authToken") {
                    let token = String::from_utf8_lossy(token.as_bytes());
                    core.vendor().lock().forget_token(&token);
                }
                token_rejected()
            }
        }
    }

    /// 500 carries vivo's body `Internet server error!` (VIVO_API.md §1.1).
    fn status_reply(status: u16) -> Reply {
        if status == 500 {
            Reply::text(500, vivo::SERVER_ERROR_TEXT)
        } else {
            Reply::status(status)
        }
    }

    /// The wire form of a [`crate::CallAction`] (see the table in
    /// `src/control.rs`).
    fn parse_action(object: &Map<String, Value>) -> Result<CallAction<Value, VivoAction>, String> {
        let [(kind, value)] = object
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "desc" | "extra"))
            .collect::<Vec<_>>()[..]
        else {
            return Err(
                "action needs exactly one of result, http_status, delay_ms, garbage, expire_token"
                    .to_owned(),
            );
        };
        let action = match (kind.as_str(), value) {
            ("result", code) => {
                let code = code.as_i64().ok_or("result must be an integer")?;
                let desc = match object.get("desc") {
                    None => String::new(),
                    Some(Value::String(desc)) => desc.clone(),
                    Some(_) => return Err("desc must be a string".to_owned()),
                };
                let extra = match object.get("extra") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(extra)) => extra.clone(),
                    Some(_) => return Err("extra must be an object".to_owned()),
                };
                crate::CallAction::Result { code, desc, extra }.into()
            }
            ("expire_token", Value::Bool(true)) => CallAction::Vendor(VivoAction::ExpireToken),
            (kind, value) => match common_action(kind, value) {
                Some(action) => action?,
                None => return Err(format!("unknown action {kind:?}")),
            },
        };
        if !matches!(action, CallAction::Body(_))
            && (object.contains_key("desc") || object.contains_key("extra"))
        {
            return Err("desc and extra only go with result".to_owned());
        }
        Ok(action)
    }

    /// vivo's record: the `authToken` and `Content-Type` headers as fields.
    fn requests_json(records: Vec<RecordedRequest>) -> Value {
        let records: Vec<VivoRecord> = records.into_iter().map(VivoRecord::from).collect();
        serde_json::to_value(records).unwrap_or(Value::Null)
    }

    fn deliveries_json(core: &Core<Vivo>) -> Value {
        serde_json::to_value(core.vendor().lock().deliveries()).unwrap_or(Value::Null)
    }

    fn reset(core: &Core<Vivo>) {
        core.vendor().lock().reset();
    }

    fn routes() -> Router<Arc<Core<Vivo>>> {
        control::routes()
    }
}

impl From<RecordedRequest> for VivoRecord {
    fn from(record: RecordedRequest) -> VivoRecord {
        let header = |name: &str| record.header(name).map(str::to_owned);
        VivoRecord {
            auth_token: header("authToken"),
            content_type: header(header::CONTENT_TYPE.as_str()),
            method: record.method,
            path: record.path,
            query: record.query,
            body: record.body,
            status: record.status,
            response: record.response,
            received_ms: record.received_ms,
            answered_ms: record.answered_ms,
        }
    }
}
