//! `/_sim/*`: the control endpoints for other processes (smoke scripts).
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` |
//! | `GET /_sim/requests` | JSON array of recorded requests (fields as `RecordedRequest`, including `received_ms` / `answered_ms`) |
//! | `GET /_sim/deliveries` | JSON array of deliveries |
//! | `POST /_sim/reset` | clears as `Simulator::reset` |
//! | `POST /_sim/apps` | `{"app_id":1,"app_key":"..","app_secret":".."}` |
//! | `POST /_sim/regids` | `{"reg_id":"..","status":0}` (0 = valid, 1..=4 = invalid with that status) |
//! | `POST /_sim/test-devices` | `{"app_id":1,"reg_id":".."}` |
//! | `POST /_sim/script` | `{"path":"/message/send","next":true,"action":A}` where A is `{"result":code,"desc":"..","extra":{..}}`, `{"http_status":500}`, `{"delay_ms":50}`, `{"garbage":true}`, `{"expire_token":true}`, or `null` (clears the sticky action; `next` must then be false) |
//! | `POST /_sim/expire-tokens` | every token issued so far becomes unknown |
//! | `POST /_sim/clock` | vivo's clock (`Simulator::set_clock`): `{"real":true}`, `{"offset_ms":-3600000}` or `{"fixed_ms":1717000000000}` |
//! | `GET /_sim/clock` | `{"now_ms":N,"clock":C}`, C in the form `POST` takes |
//! | `POST /_sim/quotas` | `{"app_id":1,"operational":N,"system":N,"list_payloads":N}` (`Simulator::set_quotas`; a missing or null total is unlimited) |
//! | `GET /_sim/quotas?app_id=1` | that app's quotas, in the form `POST` takes (without `app_id`) |
//! | `GET /_sim/usage?app_id=1` | `{"operational":n,"system":n,"list_payloads":n}` counted today (`Simulator::usage`) |
//! | `POST /_sim/rules` | `{"operational_window":true,"content_rules":true}` (`Simulator::set_rules`; replaces all rules, a missing one is off) |
//! | `GET /_sim/rules` | the rules in the form `POST` takes, every field present |
//! | `POST /_sim/receipts` | `{"app_id":1,"receipt_id":"..","url":"http://.."}` registers a receipt URL (`Simulator::set_receipt_url`; `receipt_id` 1..=64 characters, `url` absolute http(s)); `"url":null` removes it (`url` must be present) |
//! | `GET /_sim/receipts` | `[{"app_id":1,"receipt_id":"..","url":".."}]`, by app id then receipt id |
//! | `POST /_sim/receipt-settings` | `{"delay_ms":N,"redeliver":bool,"retries":N,"backoff_ms":N}` (`Simulator::set_receipt_settings`); a missing field keeps its value; `delay_ms` <= 3600000, `retries` <= 10, `backoff_ms` <= 60000 |
//! | `GET /_sim/receipt-settings` | the settings in the form `POST` takes, every field present |
//! | `GET /_sim/receipt-pending` | JSON array of queued receipts (fields as `PendingReceipt`) |
//! | `POST /_sim/receipt-flush` | sends the queued receipts now; answers once every receipt POST has finished (`Simulator::flush_receipts`) |
//! | `GET /_sim/receipt-log` | JSON array of receipt POST attempts (fields as `ReceiptPost`: `url`, `body`, `status`, `error`, `attempt`, `redelivery`, `outcome` = `delivered`/`retrying`/`dropped`, `sent_ms`, `answered_ms`) |
//!
//! Bodies are read as JSON objects whatever the `Content-Type`. Mistakes answer 400
//! `{"error":".."}`; successes `{"ok":true}`. Control calls are not recorded.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::receipts::{self, ReceiptSettings};
use crate::{CallAction, Quotas, RegIdVerdict, Rules, SimApp, SimClock, SimState};

type Shared = State<Arc<SimState>>;

pub(crate) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/_sim/health", get(health))
        .route("/_sim/requests", get(requests))
        .route("/_sim/deliveries", get(deliveries))
        .route("/_sim/reset", post(reset))
        .route("/_sim/apps", post(add_app))
        .route("/_sim/regids", post(set_reg_id))
        .route("/_sim/test-devices", post(add_test_device))
        .route("/_sim/script", post(script))
        .route("/_sim/expire-tokens", post(expire_tokens))
        .route("/_sim/clock", get(clock).post(set_clock))
        .route("/_sim/quotas", get(quotas).post(set_quotas))
        .route("/_sim/usage", get(usage))
        .route("/_sim/rules", get(rules).post(set_rules))
        .route("/_sim/receipts", get(receipt_urls).post(set_receipt_url))
        .route(
            "/_sim/receipt-settings",
            get(receipt_settings).post(set_receipt_settings),
        )
        .route("/_sim/receipt-pending", get(receipt_pending))
        .route("/_sim/receipt-flush", post(receipt_flush))
        .route("/_sim/receipt-log", get(receipt_log))
}

fn ok() -> Response {
    Json(json!({ "ok": true })).into_response()
}

fn bad_request(error: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error.to_string() })),
    )
        .into_response()
}

/// A control body: always a JSON object (serde would also read a struct from
/// an array, which no endpoint means to take). Anything else answers 400.
struct ControlBody<T>(T);

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

async fn requests(State(state): Shared) -> Response {
    Json(state.lock().requests()).into_response()
}

async fn deliveries(State(state): Shared) -> Response {
    Json(state.lock().deliveries().to_vec()).into_response()
}

async fn reset(State(state): Shared) -> Response {
    state.lock().reset();
    ok()
}

async fn expire_tokens(State(state): Shared) -> Response {
    state.lock().expire_tokens();
    ok()
}

#[derive(Deserialize)]
struct AppBody {
    app_id: u64,
    app_key: String,
    app_secret: String,
}

async fn add_app(State(state): Shared, ControlBody(app): ControlBody<AppBody>) -> Response {
    tracing::info!(app_id = app.app_id, "app added");
    state.lock().add_app(SimApp {
        app_id: app.app_id,
        app_key: app.app_key,
        app_secret: app.app_secret,
    });
    ok()
}

#[derive(Deserialize)]
struct RegIdBody {
    reg_id: String,
    status: u8,
}

async fn set_reg_id(State(state): Shared, ControlBody(body): ControlBody<RegIdBody>) -> Response {
    let verdict = match body.status {
        0 => RegIdVerdict::Valid,
        status @ 1..=4 => RegIdVerdict::Invalid { status },
        _ => return bad_request("status must be 0 (valid) or 1..=4"),
    };
    state.lock().set_verdict(&body.reg_id, verdict);
    ok()
}

#[derive(Deserialize)]
struct TestDeviceBody {
    app_id: u64,
    reg_id: String,
}

async fn add_test_device(
    State(state): Shared,
    ControlBody(body): ControlBody<TestDeviceBody>,
) -> Response {
    state.lock().add_test_device(body.app_id, &body.reg_id);
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

async fn script(State(state): Shared, ControlBody(body): ControlBody<ScriptBody>) -> Response {
    let action = match parse_action(&body.action) {
        Ok(action) => action,
        Err(error) => return bad_request(error),
    };
    if body.next && action.is_none() {
        return bad_request("a queued (next) action cannot be null");
    }
    state.lock().set_script(&body.path, body.next, action);
    ok()
}

/// The wire form of a [`CallAction`] (see the module table).
pub(crate) fn parse_action(action: &Value) -> Result<Option<CallAction>, String> {
    let object = match action {
        Value::Null => return Ok(None),
        Value::Object(object) => object,
        _ => return Err("action must be an object or null".to_owned()),
    };
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
                None | Some(Value::Null) => serde_json::Map::new(),
                Some(Value::Object(extra)) => extra.clone(),
                Some(_) => return Err("extra must be an object".to_owned()),
            };
            CallAction::Result { code, desc, extra }
        }
        ("http_status", status) => CallAction::HttpStatus(
            status
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| (100..=999).contains(s))
                .ok_or("http_status must be an HTTP status code")?,
        ),
        ("delay_ms", ms) => CallAction::Delay(Duration::from_millis(
            ms.as_u64()
                .ok_or("delay_ms must be a non-negative integer")?,
        )),
        ("garbage", Value::Bool(true)) => CallAction::Garbage,
        ("expire_token", Value::Bool(true)) => CallAction::ExpireToken,
        (other, _) => return Err(format!("unknown action {other:?}")),
    };
    if !matches!(action, CallAction::Result { .. })
        && (object.contains_key("desc") || object.contains_key("extra"))
    {
        return Err("desc and extra only go with result".to_owned());
    }
    Ok(Some(action))
}

fn clock_json(clock: SimClock) -> Value {
    match clock {
        SimClock::Real => json!({ "real": true }),
        SimClock::Offset(offset) => json!({ "offset_ms": offset }),
        SimClock::Fixed(now) => json!({ "fixed_ms": now }),
    }
}

async fn clock(State(state): Shared) -> Response {
    let clock = state.lock().clock;
    Json(json!({ "now_ms": clock.now_ms(), "clock": clock_json(clock) })).into_response()
}

async fn set_clock(State(state): Shared, ControlBody(body): ControlBody<Value>) -> Response {
    let only = body
        .as_object()
        .filter(|fields| fields.len() == 1)
        .and_then(|fields| fields.iter().next());
    let clock = only.and_then(|(kind, value)| match (kind.as_str(), value) {
        ("real", Value::Bool(true)) => Some(SimClock::Real),
        ("offset_ms", ms) => ms.as_i64().map(SimClock::Offset),
        ("fixed_ms", ms) => ms.as_i64().map(SimClock::Fixed),
        _ => None,
    });
    let Some(clock) = clock else {
        return bad_request(
            r#"clock must be exactly one of {"real":true}, {"offset_ms":N}, {"fixed_ms":N}"#,
        );
    };
    tracing::info!(?clock, "clock set");
    state.lock().clock = clock;
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotasBody {
    app_id: u64,
    #[serde(default)]
    operational: Option<u64>,
    #[serde(default)]
    system: Option<u64>,
    #[serde(default)]
    list_payloads: Option<u64>,
}

async fn set_quotas(State(state): Shared, ControlBody(body): ControlBody<QuotasBody>) -> Response {
    let quotas = Quotas {
        operational: body.operational,
        system: body.system,
        list_payloads: body.list_payloads,
    };
    tracing::info!(app_id = body.app_id, ?quotas, "quotas set");
    state.lock().set_quotas(body.app_id, quotas);
    ok()
}

#[derive(Deserialize)]
struct AppQuery {
    app_id: u64,
}

async fn quotas(State(state): Shared, query: Result<Query<AppQuery>, QueryRejection>) -> Response {
    match query {
        Ok(Query(query)) => Json(state.lock().quotas_of(query.app_id)).into_response(),
        Err(error) => bad_request(error),
    }
}

async fn usage(State(state): Shared, query: Result<Query<AppQuery>, QueryRejection>) -> Response {
    match query {
        Ok(Query(query)) => Json(state.lock().usage_today(query.app_id)).into_response(),
        Err(error) => bad_request(error),
    }
}

async fn rules(State(state): Shared) -> Response {
    Json(state.lock().rules).into_response()
}

async fn set_rules(State(state): Shared, ControlBody(rules): ControlBody<Rules>) -> Response {
    tracing::info!(?rules, "rules set");
    state.lock().rules = rules;
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptUrlBody {
    app_id: u64,
    receipt_id: String,
    /// Required, null to remove: `deserialize_with` makes a missing field an error.
    #[serde(deserialize_with = "Option::deserialize")]
    url: Option<String>,
}

async fn set_receipt_url(
    State(state): Shared,
    ControlBody(body): ControlBody<ReceiptUrlBody>,
) -> Response {
    if let Err(error) = receipts::check_receipt_id(&body.receipt_id) {
        return bad_request(error);
    }
    if let Some(url) = &body.url {
        if let Err(error) = receipts::check_url(url) {
            return bad_request(error);
        }
    }
    tracing::info!(
        app_id = body.app_id,
        receipt_id = %body.receipt_id,
        url = ?body.url,
        "receipt URL set"
    );
    state
        .lock()
        .receipts
        .set_url(body.app_id, &body.receipt_id, body.url.as_deref());
    ok()
}

async fn receipt_urls(State(state): Shared) -> Response {
    Json(state.lock().receipts.urls()).into_response()
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

async fn receipt_settings(State(state): Shared) -> Response {
    Json(settings_json(state.lock().receipts.settings)).into_response()
}

async fn set_receipt_settings(
    State(state): Shared,
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
    let mut inner = state.lock();
    let old = inner.receipts.settings;
    let settings = ReceiptSettings {
        delay: body.delay_ms.map_or(old.delay, Duration::from_millis),
        redeliver: body.redeliver.unwrap_or(old.redeliver),
        retries: body.retries.unwrap_or(old.retries),
        retry_backoff: body
            .backoff_ms
            .map_or(old.retry_backoff, Duration::from_millis),
    };
    tracing::info!(?settings, "receipt settings set");
    inner.receipts.set_settings(settings);
    ok()
}

async fn receipt_pending(State(state): Shared) -> Response {
    Json(state.lock().receipts.pending()).into_response()
}

async fn receipt_flush(State(state): Shared) -> Response {
    receipts::flush(&state).await;
    ok()
}

async fn receipt_log(State(state): Shared) -> Response {
    Json(state.lock().receipts.log()).into_response()
}
