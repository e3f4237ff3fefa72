//! `/_sim/*`: the control endpoints for other processes (smoke scripts). The
//! kit mounts the common ones (sim-kit's lib.rs, "Control endpoints");
//! oppo-sim adds its own. All of them:
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` (kit) |
//! | `GET /_sim/requests` | JSON array of recorded requests (fields as `sim_kit::RecordedRequest`; a form body as an object of its fields) (kit) |
//! | `GET /_sim/deliveries` | JSON array of deliveries (fields as `Delivery`) (kit) |
//! | `POST /_sim/reset` | clears as `Simulator::reset` (kit) |
//! | `POST /_sim/script` | `{"path":"/server/v1/message/notification/unicast","next":true,"action":A}` where A is `{"body":<any JSON>}`, `{"error":{"code":13,"message":".."}}`, `{"http_status":503}`, `{"delay_ms":50}`, `{"garbage":true}`, or `null` (clears the sticky action; `next` must then be false) (kit, with OPPO's `body` and `error`) |
//! | `POST /_sim/clock`, `GET /_sim/clock` | the simulator's clock (kit) |
//! | `POST /_sim/apps` | `{"app_id":"..","app_key":"..","master_secret":"..","service_channels":[".."],"strong_reminder":false,"template_rule":"off"/"im"/"service","templates":[".."]}` (the last four optional); replaces an app with the same key |
//! | `POST /_sim/regids` | `{"registration_id":"..","valid":false}` (also aliases) |
//! | `POST /_sim/quotas` | `{"app_key":"..","quotas":{"public":N,"service":N,"per_device_public":N,"per_second":N}}` (each optional, missing or null: unlimited); replaces the app's limits |
//! | `GET /_sim/quotas?app_key=..` | the app's limits, every field present |
//! | `GET /_sim/usage?app_key=..` | `{"public":n,"service":n}` today |
//! | `POST /_sim/settings` | `{"create_time":"number"/"string","header_token":bool,"camel_case":bool,"future_skew_ms":N,"receipt_targets":N}`; a missing field keeps its value |
//! | `GET /_sim/settings` | the settings, every field present |
//! | `GET /_sim/tokens` | JSON array of issued tokens (`auth_token`, `app_key`, `create_time`, `invalidated`) |
//! | `POST /_sim/tokens/invalidate` | `{}` (every token), `{"app_key":".."}` or `{"auth_token":".."}`; answers `{"ok":true,"invalidated":n}` |
//! | `POST /_sim/receipts` | `{"id":"<messageId or task_id>","event_type":"..","targets":[".."]}` queues receipts on command (`Simulator::send_receipt`; `targets` optional); answers `{"ok":true,"queued":n}` |
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
use serde_json::json;
use sim_kit::{bad_request, ok, ControlBody, Core};

use crate::{oppo, CreateTime, Oppo, Quotas, RegIdVerdict, Settings, SimApp};

type Shared = sim_kit::Shared<Oppo>;

pub(crate) fn routes() -> Router<Arc<Core<Oppo>>> {
    Router::new()
        .route("/_sim/apps", post(add_app))
        .route("/_sim/regids", post(set_reg_id))
        .route("/_sim/quotas", get(quotas).post(set_quotas))
        .route("/_sim/usage", get(usage))
        .route("/_sim/settings", get(settings).post(set_settings))
        .route("/_sim/tokens", get(tokens))
        .route("/_sim/tokens/invalidate", post(invalidate))
        .route("/_sim/receipts", post(send_receipt))
}

async fn add_app(State(core): Shared, ControlBody(app): ControlBody<SimApp>) -> Response {
    tracing::info!(app_key = %app.app_key, "app added");
    core.vendor().lock().add_app(app);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegIdBody {
    registration_id: String,
    valid: bool,
}

async fn set_reg_id(State(core): Shared, ControlBody(body): ControlBody<RegIdBody>) -> Response {
    let verdict = if body.valid {
        RegIdVerdict::Valid
    } else {
        RegIdVerdict::Invalid
    };
    core.vendor()
        .lock()
        .set_verdict(&body.registration_id, verdict);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotasBody {
    app_key: String,
    quotas: Quotas,
}

async fn set_quotas(State(core): Shared, ControlBody(body): ControlBody<QuotasBody>) -> Response {
    tracing::info!(quotas = ?body.quotas, "quotas set");
    core.vendor()
        .lock()
        .quotas
        .insert(body.app_key, body.quotas);
    ok()
}

#[derive(Deserialize)]
struct AppQuery {
    app_key: String,
}

async fn quotas(State(core): Shared, query: Result<Query<AppQuery>, QueryRejection>) -> Response {
    match query {
        Ok(Query(query)) => {
            let quotas = core
                .vendor()
                .lock()
                .quotas
                .get(&query.app_key)
                .copied()
                .unwrap_or_default();
            Json(quotas).into_response()
        }
        Err(error) => bad_request(error),
    }
}

async fn usage(State(core): Shared, query: Result<Query<AppQuery>, QueryRejection>) -> Response {
    match query {
        Ok(Query(query)) => {
            let now = core.now_ms();
            Json(core.vendor().lock().usage(now, &query.app_key)).into_response()
        }
        Err(error) => bad_request(error),
    }
}

async fn settings(State(core): Shared) -> Response {
    Json(core.vendor().settings()).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    create_time: Option<CreateTime>,
    header_token: Option<bool>,
    camel_case: Option<bool>,
    future_skew_ms: Option<u64>,
    receipt_targets: Option<usize>,
}

async fn set_settings(
    State(core): Shared,
    ControlBody(body): ControlBody<SettingsBody>,
) -> Response {
    let old = core.vendor().settings();
    let settings = Settings {
        create_time: body.create_time.unwrap_or(old.create_time),
        header_token: body.header_token.unwrap_or(old.header_token),
        camel_case: body.camel_case.unwrap_or(old.camel_case),
        future_skew_ms: body.future_skew_ms.unwrap_or(old.future_skew_ms),
        receipt_targets: body.receipt_targets.unwrap_or(old.receipt_targets),
    };
    if let Err(error) = settings.check() {
        return bad_request(error);
    }
    tracing::info!(?settings, "settings set");
    core.vendor().set_settings(settings);
    ok()
}

async fn tokens(State(core): Shared) -> Response {
    Json(core.vendor().lock().token_list()).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidateBody {
    app_key: Option<String>,
    auth_token: Option<String>,
}

async fn invalidate(
    State(core): Shared,
    ControlBody(body): ControlBody<InvalidateBody>,
) -> Response {
    if body.app_key.is_some() && body.auth_token.is_some() {
        return bad_request("give app_key or auth_token, not both");
    }
    let count = core.vendor().lock().invalidate(|token| {
        body.app_key
            .as_ref()
            .is_none_or(|key| &token.app_key == key)
            && body
                .auth_token
                .as_ref()
                .is_none_or(|auth| &token.auth_token == auth)
    });
    tracing::info!(count, "tokens invalidated");
    Json(json!({ "ok": true, "invalidated": count })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptBody {
    id: String,
    event_type: String,
    #[serde(default)]
    targets: Option<Vec<String>>,
}

async fn send_receipt(
    State(core): Shared,
    ControlBody(body): ControlBody<ReceiptBody>,
) -> Response {
    match oppo::send_receipt(&core, &body.id, &body.event_type, body.targets) {
        Ok(queued) => Json(json!({ "ok": true, "queued": queued })).into_response(),
        Err(error) => bad_request(error),
    }
}
