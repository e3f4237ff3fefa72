//! `/_sim/*`: the control endpoints for other processes (smoke scripts). The
//! kit mounts the common ones (sim-kit's lib.rs, "Control endpoints");
//! huawei-sim adds its own. All of them:
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` (kit) |
//! | `GET /_sim/requests` | JSON array of recorded requests (fields as `sim_kit::RecordedRequest`) (kit) |
//! | `GET /_sim/deliveries` | JSON array of accepted targets (fields as `Delivery`) (kit) |
//! | `POST /_sim/reset` | clears as `Simulator::reset` (kit) |
//! | `POST /_sim/script` | `{"path":"/v1/APP/messages:send","next":true,"action":A}` where A is `{"body":<any JSON>}`, `{"error":{"code":"80100016","msg":"..","http_status":400}}` (`msg`, `http_status` optional), `{"oauth_error":{"http_status":400,"error":1101,"sub_error":0,"error_description":".."}}` (all optional), `{"http_status":503}`, `{"delay_ms":50}`, `{"garbage":true}`, or `null` (kit, with Huawei's `body`, `error`, `oauth_error`) |
//! | `POST /_sim/clock`, `GET /_sim/clock` | the simulator's clock (kit) |
//! | `POST /_sim/apps` | a `SimApp`: `{"app_id":"..","client_secret":"..","push_enabled":true,"misconfigured":false,"self_classification":true,"marketing_daily_cap":2,"device_daily_cap":3000,"qps":null,"receipts":[{"id":"..","url":"..","username":"..","secret":"..","default":true}]}` (all but `app_id` and `client_secret` optional); replaces an app with the same id |
//! | `POST /_sim/tokens` | `{"token":"..","verdict":"valid"}`, `"illegal"` or `{"status":6}` |
//! | `POST /_sim/access-tokens` | `{"app_id":".."}` issues an access token as the token endpoint would; answers `{"ok":true,"access_token":".."}` |
//! | `POST /_sim/access-tokens/invalidate` | `{"app_id":".."}` (every token of the app) or `{"access_token":".."}`; answers `{"ok":true,"invalidated":n}` |
//! | `GET /_sim/usage?app_id=..[&token=..]` | `{"tokens_in_window":n,"test_messages_today":n}`, with `token`: `{"messages":n,"marketing":n}` |
//! | `POST /_sim/settings` | `Settings` fields (a missing field keeps its value) |
//! | `GET /_sim/settings` | the settings, every field present |
//! | `POST /_sim/receipts` | `{"request_id":"..","status":N,"tokens":[".."]}` queues receipts on command (`tokens` optional); answers `{"ok":true,"queued":n}` |
//! | `POST /_sim/receipt-relay?app=..&receipt=..&to=..` | the signing relay of receipt POSTs (lib.rs, "Receipts"); not for clients |
//! | `POST /_sim/receipt-settings`, `GET /_sim/receipt-settings`, `GET /_sim/receipt-pending`, `POST /_sim/receipt-flush`, `GET /_sim/receipt-log` | the receipt engine (kit); pending entries as `PendingReceipt` |
//!
//! Bodies are read as JSON objects whatever the `Content-Type`. Mistakes
//! answer 400 `{"error":".."}`; successes `{"ok":true}`. Control calls are
//! not recorded.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sim_kit::{bad_request, ok, ControlBody, Core};

use crate::{receipts, Huawei, Settings, SimApp, TokenVerdict, TtlOverMax, UnapprovedCategory};

type Shared = sim_kit::Shared<Huawei>;

pub(crate) fn routes() -> Router<Arc<Core<Huawei>>> {
    Router::new()
        .route("/_sim/apps", post(add_app))
        .route("/_sim/tokens", post(set_token))
        .route("/_sim/access-tokens", post(issue))
        .route("/_sim/access-tokens/invalidate", post(invalidate))
        .route("/_sim/usage", get(usage))
        .route("/_sim/settings", get(settings).post(set_settings))
        .route("/_sim/receipts", post(send_receipt))
        .route(receipts::RELAY_PATH, post(receipts::relay))
}

async fn add_app(State(core): Shared, ControlBody(app): ControlBody<SimApp>) -> Response {
    tracing::info!(app_id = %app.app_id, "app added");
    core.vendor().lock().add_app(app);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
    verdict: TokenVerdict,
}

async fn set_token(State(core): Shared, ControlBody(body): ControlBody<TokenBody>) -> Response {
    core.vendor().lock().set_verdict(&body.token, body.verdict);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppBody {
    app_id: String,
}

async fn issue(State(core): Shared, ControlBody(body): ControlBody<AppBody>) -> Response {
    let now = core.now_ms();
    let mut inner = core.vendor().lock();
    if !inner.apps.contains_key(&body.app_id) {
        return bad_request(format!("unknown app {:?}", body.app_id));
    }
    let token = inner.issue(&body.app_id, now);
    Json(json!({ "ok": true, "access_token": token })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidateBody {
    app_id: Option<String>,
    access_token: Option<String>,
}

async fn invalidate(
    State(core): Shared,
    ControlBody(body): ControlBody<InvalidateBody>,
) -> Response {
    let mut inner = core.vendor().lock();
    let invalidated = match (body.app_id, body.access_token) {
        (Some(app_id), None) => inner.invalidate_app(&app_id),
        (None, Some(token)) => usize::from(inner.invalidate_token(&token)),
        _ => return bad_request("give exactly one of app_id, access_token"),
    };
    Json(json!({ "ok": true, "invalidated": invalidated })).into_response()
}

#[derive(Deserialize)]
struct UsageQuery {
    app_id: String,
    token: Option<String>,
}

async fn usage(State(core): Shared, query: Result<Query<UsageQuery>, QueryRejection>) -> Response {
    let Query(query) = match query {
        Ok(query) => query,
        Err(error) => return bad_request(error),
    };
    let now = core.now_ms();
    let mut inner = core.vendor().lock();
    match query.token {
        Some(token) => Json(inner.device_usage(now, &query.app_id, &token)).into_response(),
        None => Json(inner.usage(now, &query.app_id)).into_response(),
    }
}

async fn settings(State(core): Shared) -> Response {
    Json(core.vendor().settings()).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    receipt_batch: Option<usize>,
    body_limit: Option<usize>,
    ttl_over_max: Option<TtlOverMax>,
    unapproved_category: Option<UnapprovedCategory>,
    token_ttl_secs: Option<u64>,
    token_limit: Option<u32>,
    token_window_secs: Option<u64>,
    test_daily_limit: Option<u32>,
    http_status: Option<BTreeMap<String, u16>>,
}

async fn set_settings(
    State(core): Shared,
    ControlBody(body): ControlBody<SettingsBody>,
) -> Response {
    let old = core.vendor().settings();
    let settings = Settings {
        receipt_batch: body.receipt_batch.unwrap_or(old.receipt_batch),
        body_limit: body.body_limit.unwrap_or(old.body_limit),
        ttl_over_max: body.ttl_over_max.unwrap_or(old.ttl_over_max),
        unapproved_category: body.unapproved_category.unwrap_or(old.unapproved_category),
        token_ttl_secs: body.token_ttl_secs.unwrap_or(old.token_ttl_secs),
        token_limit: body.token_limit.unwrap_or(old.token_limit),
        token_window_secs: body.token_window_secs.unwrap_or(old.token_window_secs),
        test_daily_limit: body.test_daily_limit.unwrap_or(old.test_daily_limit),
        http_status: body.http_status.unwrap_or(old.http_status),
    };
    tracing::info!(?settings, "settings set");
    match core.vendor().set_settings(settings) {
        Ok(()) => ok(),
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptBodyJson {
    request_id: String,
    status: u32,
    #[serde(default)]
    tokens: Option<Vec<String>>,
}

async fn send_receipt(
    State(core): Shared,
    ControlBody(body): ControlBody<ReceiptBodyJson>,
) -> Response {
    match receipts::send_on_command(&core, &body.request_id, body.status, body.tokens) {
        Ok(queued) => Json(json!({ "ok": true, "queued": queued })).into_response(),
        Err(error) => bad_request(error),
    }
}
