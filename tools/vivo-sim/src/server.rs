//! HTTP plumbing: routing, scripting, recording.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

use crate::vivo::{self, Reply};
use crate::{control, wall_clock_ms, CallAction, RecordedRequest, SimState};

/// Bodies above this are refused with 413 (vivo's real limit is unknown; a
/// 1000-regId pushToList is well under 100 KiB).
const BODY_LIMIT: usize = 4 * 1024 * 1024;

const GARBAGE_BODY: &str = "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>";

pub(crate) fn router(state: Arc<SimState>) -> Router {
    control::routes().fallback(vivo_call).with_state(state)
}

/// Every non-control request: scripted, answered, recorded.
async fn vivo_call(State(state): State<Arc<SimState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return (StatusCode::NOT_FOUND, "unknown control endpoint").into_response();
    }
    let received_ms = wall_clock_ms();
    let seq = state.lock().reserve_record();
    let auth_token = header_text(&parts.headers, "authToken");
    let content_type = header_text(&parts.headers, header::CONTENT_TYPE.as_str());
    // Recorded as abandoned if the client hangs up before the answer (this
    // future is then dropped): a client timeout during a delay still shows.
    let mut abandoned = Abandoned {
        state: state.clone(),
        seq,
        record: Some(RecordedRequest {
            method: parts.method.to_string(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_owned),
            auth_token: auth_token.clone(),
            content_type: content_type.clone(),
            body: Value::Null,
            status: 0,
            response: Value::Null,
            received_ms,
            answered_ms: received_ms,
        }),
    };

    let (raw_body, reply) = match to_bytes(body, BODY_LIMIT).await {
        Err(_) => (Vec::new(), Reply::text(413, "Request Entity Too Large")),
        Ok(bytes) => {
            let bytes = bytes.to_vec();
            if let Some(record) = abandoned.record.as_mut() {
                record.body = json_or_text(&bytes);
            }
            let scripted = state.lock().take_script(&path);
            let reply = match scripted {
                Some(CallAction::Delay(delay)) => {
                    tokio::time::sleep(delay).await;
                    answer(&state, &parts.method, &path, &parts.headers, &bytes)
                }
                Some(action) => scripted_reply(&state, action, auth_token.as_deref()),
                None => answer(&state, &parts.method, &path, &parts.headers, &bytes),
            };
            (bytes, reply)
        }
    };

    let answered_ms = wall_clock_ms();
    let (status, response_value, response) = render(reply);
    tracing::info!(
        method = %parts.method,
        path = %path,
        status,
        result = ?response_value.get("result"),
        "vivo call"
    );
    abandoned.record = None;
    state.lock().complete_record(
        seq,
        RecordedRequest {
            method: parts.method.to_string(),
            path,
            query: parts.uri.query().map(str::to_owned),
            auth_token,
            content_type,
            body: json_or_text(&raw_body),
            status,
            response: response_value,
            received_ms,
            answered_ms,
        },
    );
    response
}

/// The record of a call whose client went away before its answer: status
/// 0, response null, `answered_ms` when it was abandoned. Disarmed (record
/// taken) once the call is answered.
struct Abandoned {
    state: Arc<SimState>,
    seq: u64,
    record: Option<RecordedRequest>,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        if let Some(mut record) = self.record.take() {
            record.answered_ms = wall_clock_ms();
            self.state.lock().complete_record(self.seq, record);
        }
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn scripted_reply(state: &SimState, action: CallAction, auth_token: Option<&str>) -> Reply {
    match action {
        CallAction::Result { code, desc, extra } => {
            let mut body = serde_json::Map::new();
            body.insert("result".to_owned(), code.into());
            body.insert("desc".to_owned(), desc.into());
            body.extend(extra);
            Reply::Json {
                status: 200,
                body: Value::Object(body),
            }
        }
        CallAction::HttpStatus(status) => {
            let text = match StatusCode::from_u16(status) {
                Ok(StatusCode::INTERNAL_SERVER_ERROR) => vivo::SERVER_ERROR_TEXT,
                Ok(code) => code.canonical_reason().unwrap_or("error"),
                Err(_) => "error",
            };
            Reply::text(status, text)
        }
        CallAction::Garbage => Reply::Text {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: GARBAGE_BODY.to_owned(),
        },
        CallAction::ExpireToken => {
            if let Some(token) = auth_token {
                state.lock().forget_token(token);
            }
            Reply::token_rejected()
        }
        // Handled by the caller (it must sleep without the lock).
        CallAction::Delay(_) => Reply::text(500, vivo::SERVER_ERROR_TEXT),
    }
}

/// vivo's normal behaviour for one call.
fn answer(
    state: &SimState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    if !vivo::PATHS.contains(&path) {
        return Reply::text(404, "Not Found");
    }
    if method != Method::POST {
        return Reply::text(405, "Method Not Allowed");
    }
    let mut inner = state.lock();
    let token_app = if path == vivo::AUTH {
        None
    } else {
        let token = headers.get("authToken").and_then(|v| v.to_str().ok());
        match inner.token_app(token) {
            Ok(app) => Some(app),
            Err(reply) => return reply,
        }
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Reply::text(415, "Content-Type must be application/json");
    }
    let raw: Value = match serde_json::from_slice(body) {
        Ok(value @ Value::Object(_)) => value,
        _ => return Reply::text(400, "request body must be a JSON object"),
    };
    // A JSON null is treated as an absent field, as vivo's Java server would.
    let mut fields = raw.as_object().cloned().unwrap_or_default();
    fields.retain(|_, value| !value.is_null());

    inner.answer(path, token_app, &fields, &raw)
}

/// The HTTP status, the recorded response, and the response to send.
fn render(reply: Reply) -> (u16, Value, Response) {
    match reply {
        Reply::Json { status, body } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let text = body.to_string();
            let response = (
                code,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json;charset=UTF-8"),
                )],
                text,
            )
                .into_response();
            (code.as_u16(), body, response)
        }
        Reply::Text {
            status,
            content_type,
            body,
        } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let recorded = json_or_text(body.as_bytes());
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = code;
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            (code.as_u16(), recorded, response)
        }
    }
}
