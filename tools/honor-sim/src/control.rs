//! `/_sim/*`: the control endpoints for other processes (smoke scripts). The
//! kit mounts the common ones (sim-kit's lib.rs, "Control endpoints");
//! honor-sim adds its own. All of them:
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` (kit) |
//! | `GET /_sim/requests` | JSON array of recorded requests (fields as `sim_kit::RecordedRequest`) (kit) |
//! | `GET /_sim/deliveries` | JSON array of deliveries (fields as `Delivery`) (kit) |
//! | `POST /_sim/reset` | clears as `Simulator::reset` (kit) |
//! | `POST /_sim/script` | `{"path":"/api/v1/104/sendMessage","next":true,"action":A}` where A is `{"body":<any JSON>}`, `{"error":{"code":401 or "80200003","message":"..","status":N}}` (`message`, `status` optional), `{"oauth_error":{"status":401,"error":"invalid_client","description":".."}}`, `{"http_status":503}`, `{"delay_ms":50}`, `{"garbage":true}`, or `null` (clears the sticky action; `next` must then be false) (kit, with Honor's `body`, `error`, `oauth_error`) |
//! | `POST /_sim/clock`, `GET /_sim/clock` | the simulator's clock (kit) |
//! | `POST /_sim/apps` | `{"app_id":"..","client_id":"..","client_secret":"..","receipt_url":"..","self_classification":true,"push_enabled":true}` (the last three optional); replaces an app with the same app id or client id |
//! | `POST /_sim/receipt-url` | `{"app_id":"..","url":".."}` (`null`: no receipts) |
//! | `POST /_sim/targets` | `{"token":"..","verdict":"valid"/"expired"/"failed"}` |
//! | `POST /_sim/quotas` | `{"app_id":"..","daily":N,"test_daily":N,"qps":N}` (`null`: unlimited; a missing field keeps its value) |
//! | `GET /_sim/usage?app_id=..` | `{"delivered":n,"test_delivered":n,"quotas":{..}}` |
//! | `GET /_sim/access-tokens` | JSON array of access tokens (fields as `AccessToken`) |
//! | `POST /_sim/access-tokens/invalidate` | `{"app_id":".."}` (optional: every app); answers `{"ok":true,"invalidated":n}` |
//! | `POST /_sim/settings` | any fields of `Settings` (snake_case names, enums in snake_case: `"response_shape":"code200"/"huawei"`, `"timestamp_unit":"either"/"millis"/"seconds"`); a missing field keeps its value |
//! | `GET /_sim/settings` | the settings, every field present |
//! | `POST /_sim/receipts` | `{"request_id":"..","status":N,"targets":[".."]}` queues receipts on command (`Simulator::send_receipt`; `targets` optional); answers `{"ok":true,"queued":n}` |
//! | `POST /_sim/receipt-settings`, `GET /_sim/receipt-settings`, `GET /_sim/receipt-pending`, `POST /_sim/receipt-flush`, `GET /_sim/receipt-log` | the receipt engine (kit); pending entries as `PendingReceipt` |
//!
//! Bodies are read as JSON objects whatever the `Content-Type`. Mistakes answer 400
//! `{"error":".."}`; successes `{"ok":true}`. Control calls are not recorded.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sim_kit::{bad_request, ok, ControlBody, Core};

use crate::{honor, Honor, Settings, SimApp, TokenVerdict};

type Shared = sim_kit::Shared<Honor>;

pub(crate) fn routes() -> Router<Arc<Core<Honor>>> {
    Router::new()
        .route("/_sim/apps", post(add_app))
        .route("/_sim/receipt-url", post(set_receipt_url))
        .route("/_sim/targets", post(set_target))
        .route("/_sim/quotas", post(set_quotas))
        .route("/_sim/usage", get(usage))
        .route("/_sim/access-tokens", get(access_tokens))
        .route("/_sim/access-tokens/invalidate", post(invalidate))
        .route("/_sim/settings", get(settings).post(set_settings))
        .route("/_sim/receipts", post(send_receipt))
}

async fn add_app(State(core): Shared, ControlBody(app): ControlBody<SimApp>) -> Response {
    if let Some(url) = &app.receipt_url {
        if !honor::is_http_url(url) {
            return bad_request(format!("receipt_url {url:?} is not an http(s) URL"));
        }
    }
    tracing::info!(app_id = %app.app_id, "app added");
    core.vendor().lock().add_app(app);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptUrlBody {
    app_id: String,
    #[serde(deserialize_with = "Option::deserialize")]
    url: Option<String>,
}

async fn set_receipt_url(
    State(core): Shared,
    ControlBody(body): ControlBody<ReceiptUrlBody>,
) -> Response {
    match core.vendor().lock().set_receipt_url(&body.app_id, body.url) {
        Ok(()) => ok(),
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetBody {
    token: String,
    verdict: TokenVerdict,
}

async fn set_target(State(core): Shared, ControlBody(body): ControlBody<TargetBody>) -> Response {
    core.vendor().lock().set_verdict(&body.token, body.verdict);
    ok()
}

/// Overlays the fields given in `body` on `current` (both as JSON objects).
fn overlay<T: serde::Serialize + serde::de::DeserializeOwned>(
    current: &T,
    body: Map<String, Value>,
) -> Result<T, String> {
    let mut value = serde_json::to_value(current).map_err(|e| e.to_string())?;
    let Value::Object(fields) = &mut value else {
        return Err("not an object".to_owned());
    };
    for (name, field) in body {
        if !fields.contains_key(&name) {
            return Err(format!("unknown field {name:?}"));
        }
        fields.insert(name, field);
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

async fn set_quotas(
    State(core): Shared,
    ControlBody(mut body): ControlBody<Map<String, Value>>,
) -> Response {
    let Some(Value::String(app_id)) = body.remove("app_id") else {
        return bad_request("app_id (a string) is required");
    };
    let mut inner = core.vendor().lock();
    match overlay(&inner.quotas_of(&app_id), body) {
        Ok(quotas) => {
            tracing::info!(%app_id, ?quotas, "quotas set");
            inner.quotas.insert(app_id, quotas);
            ok()
        }
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
struct AppQuery {
    app_id: String,
}

async fn usage(State(core): Shared, query: Result<Query<AppQuery>, QueryRejection>) -> Response {
    match query {
        Ok(Query(query)) => {
            let now = core.now_ms();
            Json(core.vendor().lock().usage(now, &query.app_id)).into_response()
        }
        Err(error) => bad_request(error),
    }
}

async fn access_tokens(State(core): Shared) -> Response {
    let mut tokens: Vec<_> = core.vendor().lock().tokens.values().cloned().collect();
    tokens.sort_by_key(|t| t.issued_ms);
    Json(tokens).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidateBody {
    #[serde(default)]
    app_id: Option<String>,
}

async fn invalidate(
    State(core): Shared,
    ControlBody(body): ControlBody<InvalidateBody>,
) -> Response {
    let n = core
        .vendor()
        .lock()
        .invalidate_tokens(body.app_id.as_deref());
    tracing::info!(invalidated = n, "access tokens invalidated");
    Json(json!({ "ok": true, "invalidated": n })).into_response()
}

async fn settings(State(core): Shared) -> Response {
    Json(core.vendor().settings()).into_response()
}

async fn set_settings(
    State(core): Shared,
    ControlBody(body): ControlBody<Map<String, Value>>,
) -> Response {
    let settings: Settings = match overlay(&core.vendor().settings(), body) {
        Ok(settings) => settings,
        Err(error) => return bad_request(error),
    };
    match core.vendor().set_settings(settings) {
        Ok(()) => {
            tracing::info!(?settings, "settings set");
            ok()
        }
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptBodyJson {
    request_id: String,
    status: i64,
    #[serde(default)]
    targets: Option<Vec<String>>,
}

async fn send_receipt(
    State(core): Shared,
    ControlBody(body): ControlBody<ReceiptBodyJson>,
) -> Response {
    match honor::send_receipt(&core, &body.request_id, body.status, body.targets) {
        Ok(queued) => Json(json!({ "ok": true, "queued": queued })).into_response(),
        Err(error) => bad_request(error),
    }
}
