//! `/_sim/*`: the control endpoints for other processes (smoke scripts). The
//! kit mounts the common ones (sim-kit's lib.rs, "Control endpoints");
//! xiaomi-sim adds its own. All of them:
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` (kit) |
//! | `GET /_sim/requests` | JSON array of recorded requests (fields as `sim_kit::RecordedRequest`: `method`, `path`, `query`, `headers`, `body` (a form as an object of its fields), `status`, `response`, `received_ms`, `answered_ms`) (kit) |
//! | `GET /_sim/deliveries` | JSON array of deliveries (fields as `Delivery`) (kit) |
//! | `POST /_sim/reset` | clears as `Simulator::reset` (kit) |
//! | `POST /_sim/script` | `{"path":"/v3/message/regid","next":true,"action":A}` where A is `{"body":<any JSON>}`, `{"error":{"code":10002,"description":"..","reason":".."}}`, `{"http_status":503}`, `{"delay_ms":50}`, `{"garbage":true}`, or `null` (clears the sticky action; `next` must then be false) (kit, with Xiaomi's `body` and `error`) |
//! | `POST /_sim/clock`, `GET /_sim/clock` | the simulator's clock (kit) |
//! | `POST /_sim/apps` | `{"app_secret":"..","package_name":"..","channels":[{"id":"..","private":true}],"template_rule":"off"/"private_channels"/"always","templates":[{"id":"..","variables":[".."]}]}` (`channels`, `template_rule`, `templates` optional); replaces an app with the same secret |
//! | `POST /_sim/regids` | `{"reg_id":"..","valid":false}` |
//! | `POST /_sim/quota` | `{"app_secret":"..","daily":N}` (`null`: unlimited) |
//! | `GET /_sim/usage?app_secret=..` | `{"day_acked":n,"day_quota":n}` (`null`: unlimited) |
//! | `POST /_sim/settings` | `{"bad_regids_key":"bad_regids"/"bad_regIds","receipt_body":"form"/"json"}`; a missing field keeps its value |
//! | `GET /_sim/settings` | the settings, every field present |
//! | `POST /_sim/receipts` | `{"msg_id":"..","type":N,"targets":[".."],"extra":{..}}` queues receipts on command (`Simulator::send_receipt`; `targets` and `extra` optional); answers `{"ok":true,"queued":n}` |
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
use serde_json::{json, Value};
use sim_kit::{bad_request, ok, ControlBody, Core};

use crate::{xiaomi, BadRegIdsKey, ReceiptBody, RegIdVerdict, Settings, SimApp, Xiaomi};

type Shared = sim_kit::Shared<Xiaomi>;

pub(crate) fn routes() -> Router<Arc<Core<Xiaomi>>> {
    Router::new()
        .route("/_sim/apps", post(add_app))
        .route("/_sim/regids", post(set_reg_id))
        .route("/_sim/quota", post(set_quota))
        .route("/_sim/usage", get(usage))
        .route("/_sim/settings", get(settings).post(set_settings))
        .route("/_sim/receipts", post(send_receipt))
}

async fn add_app(State(core): Shared, ControlBody(app): ControlBody<SimApp>) -> Response {
    tracing::info!(package_name = %app.package_name, "app added");
    core.vendor().lock().add_app(app);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegIdBody {
    reg_id: String,
    valid: bool,
}

async fn set_reg_id(State(core): Shared, ControlBody(body): ControlBody<RegIdBody>) -> Response {
    let verdict = if body.valid {
        RegIdVerdict::Valid
    } else {
        RegIdVerdict::Invalid
    };
    core.vendor().lock().set_verdict(&body.reg_id, verdict);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaBody {
    app_secret: String,
    /// Required, null for unlimited.
    #[serde(deserialize_with = "Option::deserialize")]
    daily: Option<u64>,
}

async fn set_quota(State(core): Shared, ControlBody(body): ControlBody<QuotaBody>) -> Response {
    tracing::info!(daily = ?body.daily, "quota set");
    core.vendor().lock().set_quota(&body.app_secret, body.daily);
    ok()
}

#[derive(Deserialize)]
struct AppQuery {
    app_secret: String,
}

async fn usage(State(core): Shared, query: Result<Query<AppQuery>, QueryRejection>) -> Response {
    match query {
        Ok(Query(query)) => {
            let now = core.now_ms();
            Json(core.vendor().lock().usage(now, &query.app_secret)).into_response()
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
    bad_regids_key: Option<BadRegIdsKey>,
    receipt_body: Option<ReceiptBody>,
}

async fn set_settings(
    State(core): Shared,
    ControlBody(body): ControlBody<SettingsBody>,
) -> Response {
    let old = core.vendor().settings();
    let settings = Settings {
        bad_regids_key: body.bad_regids_key.unwrap_or(old.bad_regids_key),
        receipt_body: body.receipt_body.unwrap_or(old.receipt_body),
    };
    tracing::info!(?settings, "settings set");
    core.vendor().set_settings(settings);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptBodyJson {
    msg_id: String,
    #[serde(rename = "type")]
    receipt_type: u32,
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    extra: Option<Value>,
}

async fn send_receipt(
    State(core): Shared,
    ControlBody(body): ControlBody<ReceiptBodyJson>,
) -> Response {
    match xiaomi::send_receipt(
        &core,
        &body.msg_id,
        body.receipt_type,
        body.targets,
        body.extra,
    ) {
        Ok(queued) => Json(json!({ "ok": true, "queued": queued })).into_response(),
        Err(error) => bad_request(error),
    }
}
