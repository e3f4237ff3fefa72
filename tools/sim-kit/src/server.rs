//! HTTP plumbing: the vendor call handler (scripting, recording, abandoned
//! calls) and the rendering of replies.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

use crate::record::json_or_text;
use crate::{control, wall_clock_ms, CallAction, Core, RecordedRequest, Vendor};

/// The body of [`CallAction::Garbage`]: an HTML error page, as a proxy in
/// front of a vendor would answer.
pub const GARBAGE_BODY: &str = "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>";

/// One call on a vendor path, as the vendor's checks see it.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Call {
    /// A header's value, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Content-Type` header, if present and visible ASCII.
    pub fn content_type(&self) -> Option<&str> {
        self.header(header::CONTENT_TYPE.as_str())
    }
}

/// What a simulator answers; turned into an HTTP response by the kit.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// A JSON body with [`Vendor::JSON_CONTENT_TYPE`].
    Json { status: u16, body: Value },
    /// A text body with its content type.
    Text {
        status: u16,
        content_type: &'static str,
        body: String,
    },
}

impl Reply {
    /// HTTP 200 with a JSON body.
    pub fn json(body: Value) -> Reply {
        Reply::Json { status: 200, body }
    }

    /// A plain-text (`text/plain; charset=utf-8`) answer.
    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply::Text {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }

    /// The kit's default answer to [`CallAction::HttpStatus`]: that status
    /// with its reason phrase as plain text ("error" when it has none); a
    /// number that is not an HTTP status answers 500.
    pub fn status(status: u16) -> Reply {
        let text = StatusCode::from_u16(status)
            .ok()
            .and_then(|code| code.canonical_reason())
            .unwrap_or("error");
        Reply::text(status, text)
    }

    /// The kit's answer to [`CallAction::Garbage`]: HTTP 200, an HTML page.
    pub fn garbage() -> Reply {
        Reply::Text {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: GARBAGE_BODY.to_owned(),
        }
    }
}

pub(crate) fn router<V: Vendor>(core: Arc<Core<V>>) -> Router {
    control::routes::<V>()
        .merge(V::routes())
        .fallback(vendor_call::<V>)
        .with_state(core)
}

/// Every non-control request: scripted, answered, recorded.
async fn vendor_call<V: Vendor>(State(core): State<Arc<Core<V>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return (StatusCode::NOT_FOUND, "unknown control endpoint").into_response();
    }
    let received_ms = wall_clock_ms();
    let seq = core.reserve_record();
    let record = RecordedRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: header_texts(&parts.headers),
        body: Value::Null,
        status: 0,
        response: Value::Null,
        received_ms,
        answered_ms: received_ms,
    };
    // Recorded as abandoned if the client hangs up before the answer (this
    // future is then dropped): a client timeout during a delay still shows.
    let mut abandoned = Abandoned {
        core: core.clone(),
        seq,
        record: Some(record),
    };

    let (recorded_body, reply) = match to_bytes(body, V::BODY_LIMIT).await {
        Err(_) => (
            V::record_body(&[], &parts.headers),
            Reply::text(413, "Request Entity Too Large"),
        ),
        Ok(bytes) => {
            let recorded_body = V::record_body(&bytes, &parts.headers);
            if let Some(record) = abandoned.record.as_mut() {
                record.body = recorded_body.clone();
            }
            let call = Call {
                method: parts.method.clone(),
                path: path.clone(),
                query: parts.uri.query().map(str::to_owned),
                headers: parts.headers.clone(),
                body: bytes,
            };
            let scripted = core.take_script(&path);
            let reply = match scripted {
                Some(CallAction::Delay(delay)) => {
                    tokio::time::sleep(delay).await;
                    V::answer(&core, &call)
                }
                Some(CallAction::Body(body)) => V::body_reply(&core, body, &call),
                Some(CallAction::HttpStatus(status)) => V::status_reply(status),
                Some(CallAction::Garbage) => V::garbage_reply(),
                Some(CallAction::Vendor(action)) => V::action_reply(&core, action, &call),
                None => V::answer(&core, &call),
            };
            (recorded_body, reply)
        }
    };

    let answered_ms = wall_clock_ms();
    let (status, response_value, response) = render::<V>(reply);
    tracing::info!(
        method = %parts.method,
        path = %path,
        status,
        result = ?V::result_of(&response_value),
        "{} call",
        V::NAME
    );
    if let Some(mut record) = abandoned.record.take() {
        record.body = recorded_body;
        record.status = status;
        record.response = response_value;
        record.answered_ms = answered_ms;
        core.complete_record(seq, record);
    }
    response
}

/// The record of a call whose client went away before its answer: status
/// 0, response null, `answered_ms` when it was abandoned. Disarmed (record
/// taken) once the call is answered.
struct Abandoned<V: Vendor> {
    core: Arc<Core<V>>,
    seq: u64,
    record: Option<RecordedRequest>,
}

impl<V: Vendor> Drop for Abandoned<V> {
    fn drop(&mut self) {
        if let Some(mut record) = self.record.take() {
            record.answered_ms = wall_clock_ms();
            self.core.complete_record(self.seq, record);
        }
    }
}

fn header_texts(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        texts
            .entry(name.as_str().to_owned())
            .and_modify(|seen| {
                seen.push_str(", ");
                seen.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    texts
}

/// The HTTP status, the recorded response, and the response to send.
fn render<V: Vendor>(reply: Reply) -> (u16, Value, Response) {
    match reply {
        Reply::Json { status, body } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let text = body.to_string();
            let response = (
                code,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(V::JSON_CONTENT_TYPE),
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
