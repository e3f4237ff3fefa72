//! `/_sim/*`: the control endpoints every simulator mounts (the table is in
//! lib.rs, "Control endpoints"), and the helpers vendors write their own with.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{Core, ReceiptSettings, SimClock, Vendor};

/// The state of every control handler: the simulator's core.
pub type Shared<V> = State<Arc<Core<V>>>;

pub(crate) fn routes<V: Vendor>() -> Router<Arc<Core<V>>> {
    Router::new()
        .route("/_sim/health", get(health))
        .route("/_sim/requests", get(requests::<V>))
        .route("/_sim/deliveries", get(deliveries::<V>))
        .route("/_sim/reset", post(reset::<V>))
        .route("/_sim/script", post(script::<V>))
        .route("/_sim/clock", get(clock::<V>).post(set_clock::<V>))
        .route(
            "/_sim/receipt-settings",
            get(receipt_settings::<V>).post(set_receipt_settings::<V>),
        )
        .route("/_sim/receipt-pending", get(receipt_pending::<V>))
        .route("/_sim/receipt-flush", post(receipt_flush::<V>))
        .route("/_sim/receipt-log", get(receipt_log::<V>))
}

/// `{"ok":true}`, a control call's success.
pub fn ok() -> Response {
    Json(json!({ "ok": true })).into_response()
}

/// HTTP 400 `{"error":"<error>"}`, a control call's mistake.
pub fn bad_request(error: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error.to_string() })),
    )
        .into_response()
}

/// A control body: always a JSON object, whatever the `Content-Type` (serde
/// would also read a struct from an array, which no endpoint means to
/// take). Anything else is rejected with [`bad_request`].
pub struct ControlBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ControlBody<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        parse(&body).map(ControlBody).map_err(bad_request)
    }
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    match serde_json::from_slice(body) {
        Ok(value @ Value::Object(_)) => serde_json::from_value(value).map_err(|e| e.to_string()),
        Ok(_) => Err("the body must be a JSON object".to_owned()),
        Err(error) => Err(error.to_string()),
    }
}

async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

async fn requests<V: Vendor>(State(core): Shared<V>) -> Response {
    Json(V::requests_json(core.requests())).into_response()
}

async fn deliveries<V: Vendor>(State(core): Shared<V>) -> Response {
    Json(V::deliveries_json(&core)).into_response()
}

async fn reset<V: Vendor>(State(core): Shared<V>) -> Response {
    core.reset();
    ok()
}

#[derive(Deserialize)]
struct ScriptBody {
    path: String,
    #[serde(default)]
    next: bool,
    #[serde(default)]
    action: Value,
}

async fn script<V: Vendor>(
    State(core): Shared<V>,
    ControlBody(body): ControlBody<ScriptBody>,
) -> Response {
    let action = match &body.action {
        Value::Null => None,
        Value::Object(action) => match V::parse_action(action) {
            Ok(action) => Some(action),
            Err(error) => return bad_request(error),
        },
        _ => return bad_request("action must be an object or null"),
    };
    if body.next && action.is_none() {
        return bad_request("a queued (next) action cannot be null");
    }
    core.set_script(&body.path, body.next, action);
    ok()
}

async fn clock<V: Vendor>(State(core): Shared<V>) -> Response {
    let clock = core.clock();
    Json(json!({ "now_ms": clock.now_ms(), "clock": clock.to_json() })).into_response()
}

async fn set_clock<V: Vendor>(
    State(core): Shared<V>,
    ControlBody(body): ControlBody<Value>,
) -> Response {
    let Some(clock) = SimClock::from_json(&body) else {
        return bad_request(
            r#"clock must be exactly one of {"real":true}, {"offset_ms":N}, {"fixed_ms":N}"#,
        );
    };
    tracing::info!(?clock, "clock set");
    core.set_clock(clock);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptSettingsBody {
    delay_ms: Option<u64>,
    redeliver: Option<bool>,
    retries: Option<u32>,
    backoff_ms: Option<u64>,
}

fn settings_json(settings: ReceiptSettings) -> Value {
    json!({
        "delay_ms": u64::try_from(settings.delay.as_millis()).unwrap_or(u64::MAX),
        "redeliver": settings.redeliver,
        "retries": settings.retries,
        "backoff_ms": u64::try_from(settings.retry_backoff.as_millis()).unwrap_or(u64::MAX),
    })
}

async fn receipt_settings<V: Vendor>(State(core): Shared<V>) -> Response {
    Json(settings_json(core.receipts().settings())).into_response()
}

async fn set_receipt_settings<V: Vendor>(
    State(core): Shared<V>,
    ControlBody(body): ControlBody<ReceiptSettingsBody>,
) -> Response {
    if body.delay_ms.is_some_and(|ms| ms > 3_600_000) {
        return bad_request("delay_ms must be at most 3600000");
    }
    if body.retries.is_some_and(|n| n > 10) {
        return bad_request("retries must be at most 10");
    }
    if body.backoff_ms.is_some_and(|ms| ms > 60_000) {
        return bad_request("backoff_ms must be at most 60000");
    }
    let receipts = core.receipts();
    let old = receipts.settings();
    let settings = ReceiptSettings {
        delay: body.delay_ms.map_or(old.delay, Duration::from_millis),
        redeliver: body.redeliver.unwrap_or(old.redeliver),
        retries: body.retries.unwrap_or(old.retries),
        retry_backoff: body
            .backoff_ms
            .map_or(old.retry_backoff, Duration::from_millis),
    };
    tracing::info!(?settings, "receipt settings set");
    receipts.set_settings(settings);
    ok()
}

async fn receipt_pending<V: Vendor>(State(core): Shared<V>) -> Response {
    Json(core.receipts().pending()).into_response()
}

async fn receipt_flush<V: Vendor>(State(core): Shared<V>) -> Response {
    core.receipts().flush().await;
    ok()
}

async fn receipt_log<V: Vendor>(State(core): Shared<V>) -> Response {
    Json(core.receipts().log()).into_response()
}
