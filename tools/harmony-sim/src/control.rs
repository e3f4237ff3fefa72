//! `/_sim/*`: the control endpoints for other processes (smoke scripts). The
//! kit mounts the common ones (sim-kit's lib.rs, "Control endpoints");
//! harmony-sim adds its own. All of them:
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` (kit) |
//! | `GET /_sim/requests` | JSON array of recorded requests (fields as `sim_kit::RecordedRequest`) (kit) |
//! | `GET /_sim/deliveries` | JSON array of accepted targets (fields as `Delivery`) (kit) |
//! | `POST /_sim/reset` | clears as `Simulator::reset` (kit) |
//! | `POST /_sim/script` | `{"path":"/v3/P/messages:send","next":true,"action":A}` where A is `{"body":<any JSON>}`, `{"error":{"code":"81000001","msg":"..","http_status":500}}` (`msg`, `http_status` optional), `{"http_status":503}`, `{"delay_ms":50}`, `{"garbage":true}`, or `null` (kit, with Push Kit's `body` and `error`) |
//! | `POST /_sim/clock`, `GET /_sim/clock` | the simulator's clock (kit) |
//! | `POST /_sim/apps` | a `SimApp`: `{"project_id":"..","accounts":[{"key_id":"..","sub_account":"..","private_key":"-----BEGIN PRIVATE KEY-----.."}],"package_name":"..","push_enabled":true,"penalized":false,"approved_categories":["IM"],"marketing_daily_cap":2,"device_daily_cap":null,"qps":null,"receipts":[{"id":"..","url":"..","username":"..","secret":"..","key":"base64_decoded","default":true}]}` (all but `project_id` optional; an account has `private_key` or `public_key`, base64 DER); replaces a project with the same id |
//! | `POST /_sim/tokens` | `{"token":"..","verdict":"valid"}`, `{"illegal":"noRight"}` or `{"status":6}` |
//! | `POST /_sim/jwt` | `{"project_id":"..","lifetime_secs":3600}` (lifetime optional, 3600): a JWT of the project's first account with a private key, `iat` now by the simulator's clock; answers `{"ok":true,"jwt":".."}` |
//! | `GET /_sim/usage?project_id=..[&token=..]` | `{"test_requests_today":n}`, with `token`: `{"service":n,"marketing":n}` |
//! | `POST /_sim/settings` | `Settings` fields (a missing field keeps its value) |
//! | `GET /_sim/settings` | the settings, every field present |
//! | `POST /_sim/receipts` | `{"request_id":"..","result":N,"tokens":[".."]}` queues receipts on command (`tokens` optional); answers `{"ok":true,"queued":n}` |
//! | `POST /_sim/receipt-relay?project=..&receipt=..&to=..` | the signing relay of receipt POSTs (lib.rs, "Receipts"); not for clients |
//! | `POST /_sim/receipt-settings`, `GET /_sim/receipt-settings`, `GET /_sim/receipt-pending`, `POST /_sim/receipt-flush`, `GET /_sim/receipt-log` | the receipt engine (kit); pending entries as `PendingReceipt` |
//!
//! Bodies are read as JSON objects whatever the `Content-Type`. Mistakes
//! answer 400 `{"error":".."}`; successes `{"ok":true}`. Control calls are
//! not recorded.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sim_kit::{bad_request, ok, ControlBody, Core};

use crate::{receipts, Harmony, Settings, SimApp, TokenVerdict};

type Shared = sim_kit::Shared<Harmony>;

pub(crate) fn routes() -> Router<Arc<Core<Harmony>>> {
    Router::new()
        .route("/_sim/apps", post(add_app))
        .route("/_sim/tokens", post(set_token))
        .route("/_sim/jwt", post(jwt))
        .route("/_sim/usage", get(usage))
        .route("/_sim/settings", get(settings).post(set_settings))
        .route("/_sim/receipts", post(send_receipt))
        .route(receipts::RELAY_PATH, post(receipts::relay))
}

async fn add_app(State(core): Shared, ControlBody(app): ControlBody<SimApp>) -> Response {
    let project_id = app.project_id.clone();
    match core.vendor().lock().add_app(app) {
        Ok(()) => {
            tracing::info!(%project_id, "project added");
            ok()
        }
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
    verdict: TokenVerdict,
}

async fn set_token(State(core): Shared, ControlBody(body): ControlBody<TokenBody>) -> Response {
    match core.vendor().lock().set_verdict(&body.token, body.verdict) {
        Ok(()) => ok(),
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JwtBody {
    project_id: String,
    lifetime_secs: Option<i64>,
}

async fn jwt(State(core): Shared, ControlBody(body): ControlBody<JwtBody>) -> Response {
    let now_s = core.now_ms().div_euclid(1000);
    let minted =
        core.vendor()
            .lock()
            .mint(&body.project_id, now_s, body.lifetime_secs.unwrap_or(3600));
    match minted {
        Ok(jwt) => Json(json!({ "ok": true, "jwt": jwt })).into_response(),
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
struct UsageQuery {
    project_id: String,
    token: Option<String>,
}

async fn usage(State(core): Shared, query: Result<Query<UsageQuery>, QueryRejection>) -> Response {
    let Query(query) = match query {
        Ok(query) => query,
        Err(error) => return bad_request(error),
    };
    let now = core.now_ms();
    let inner = core.vendor().lock();
    match query.token {
        Some(token) => Json(inner.device_usage(now, &query.project_id, &token)).into_response(),
        None => Json(inner.usage(now, &query.project_id)).into_response(),
    }
}

async fn settings(State(core): Shared) -> Response {
    Json(core.vendor().settings()).into_response()
}

/// Merges the given fields into the current settings.
async fn set_settings(State(core): Shared, ControlBody(body): ControlBody<Value>) -> Response {
    let Value::Object(fields) = body else {
        return bad_request("the body must be a JSON object");
    };
    let mut current = match serde_json::to_value(core.vendor().settings()) {
        Ok(Value::Object(current)) => current,
        _ => return bad_request("settings cannot be read"),
    };
    for (name, value) in fields {
        if !current.contains_key(&name) {
            return bad_request(format!("unknown setting {name:?}"));
        }
        current.insert(name, value);
    }
    let settings: Settings = match serde_json::from_value(Value::Object(current)) {
        Ok(settings) => settings,
        Err(error) => return bad_request(error),
    };
    tracing::info!(?settings, "settings set");
    match core.vendor().set_settings(settings) {
        Ok(()) => ok(),
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptCommand {
    request_id: String,
    result: u32,
    #[serde(default)]
    tokens: Option<Vec<String>>,
}

async fn send_receipt(
    State(core): Shared,
    ControlBody(body): ControlBody<ReceiptCommand>,
) -> Response {
    match receipts::send_on_command(&core, &body.request_id, body.result, body.tokens) {
        Ok(queued) => Json(json!({ "ok": true, "queued": queued })).into_response(),
        Err(error) => bad_request(error),
    }
}
