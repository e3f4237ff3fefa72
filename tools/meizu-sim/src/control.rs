//! `/_sim/*`: the control endpoints for other processes (smoke scripts). The
//! kit mounts the common ones (sim-kit's lib.rs, "Control endpoints");
//! meizu-sim adds its own. All of them:
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` (kit) |
//! | `GET /_sim/requests` | JSON array of recorded requests (fields as `sim_kit::RecordedRequest`; a form body as an object of its fields) (kit) |
//! | `GET /_sim/deliveries` | JSON array of deliveries (fields as `Delivery`) (kit) |
//! | `POST /_sim/reset` | clears as `Simulator::reset` (kit) |
//! | `POST /_sim/script` | `{"path":"/garcia/api/server/push/varnished/pushByPushId","next":true,"action":A}` where A is `{"body":<any JSON>}`, `{"error":{"code":"110010","message":".."}}`, `{"http_status":503}`, `{"delay_ms":50}`, `{"garbage":true}`, or `null` (clears the sticky action; `next` must then be false) (kit, with Meizu's `body` and `error`) |
//! | `POST /_sim/clock`, `GET /_sim/clock` | the simulator's clock (kit) |
//! | `POST /_sim/apps` | `{"app_id":"..","app_secret":"..","package_names":[".."],"vip":false,"blacklisted":false,"callback_urls":[".."],"access_token":".."}` (all but `app_id` and `app_secret` optional); replaces an app with the same appId |
//! | `POST /_sim/push-ids` | `{"push_id":"..","verdict":V}`, V one of `"valid"`, `"not_subscribed"`, `"illegal"`, `"switch_off"`, `"public_cap"`, `{"code":"513"}` |
//! | `POST /_sim/quota` | `{"app_id":"..","qps":N,"daily_targets":N,"daily_messages":N,"public_per_device":N}`; a missing or null limit is unlimited |
//! | `GET /_sim/usage?app_id=..` | `{"targets":n,"messages":n,"quota":{..}}` |
//! | `POST /_sim/settings` | any fields of `Settings` (see lib.rs); a missing field keeps its value |
//! | `GET /_sim/settings` | the settings, every field present |
//! | `POST /_sim/receipts` | `{"msg_id":"..","type":N,"targets":[".."]}` queues receipts on command (`Simulator::send_receipt`; `targets` optional); answers `{"ok":true,"queued":n}` |
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

use crate::{meizu, Meizu, PushIdVerdict, Quota, Settings, SimApp};

type Shared = sim_kit::Shared<Meizu>;

pub(crate) fn routes() -> Router<Arc<Core<Meizu>>> {
    Router::new()
        .route("/_sim/apps", post(add_app))
        .route("/_sim/push-ids", post(set_push_id))
        .route("/_sim/quota", post(set_quota))
        .route("/_sim/usage", get(usage))
        .route("/_sim/settings", get(settings).post(set_settings))
        .route("/_sim/receipts", post(send_receipt))
}

async fn add_app(State(core): Shared, ControlBody(app): ControlBody<SimApp>) -> Response {
    if app.app_id.is_empty() || app.app_secret.is_empty() {
        return bad_request("app_id and app_secret must not be empty");
    }
    tracing::info!(app_id = %app.app_id, "app added");
    core.vendor().lock().add_app(app);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushIdBody {
    push_id: String,
    verdict: PushIdVerdict,
}

async fn set_push_id(State(core): Shared, ControlBody(body): ControlBody<PushIdBody>) -> Response {
    if body.push_id.is_empty() {
        return bad_request("push_id must not be empty");
    }
    core.vendor()
        .lock()
        .set_verdict(&body.push_id, body.verdict);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaBody {
    app_id: String,
    #[serde(default)]
    qps: Option<u32>,
    #[serde(default)]
    daily_targets: Option<u64>,
    #[serde(default)]
    daily_messages: Option<u64>,
    #[serde(default)]
    public_per_device: Option<u32>,
}

async fn set_quota(State(core): Shared, ControlBody(body): ControlBody<QuotaBody>) -> Response {
    let quota = Quota {
        qps: body.qps,
        daily_targets: body.daily_targets,
        daily_messages: body.daily_messages,
        public_per_device: body.public_per_device,
    };
    tracing::info!(?quota, "quota set");
    core.vendor().lock().quotas.insert(body.app_id, quota);
    ok()
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

async fn settings(State(core): Shared) -> Response {
    Json(core.vendor().lock().settings.clone()).into_response()
}

/// The current settings with the body's fields laid over them.
async fn set_settings(
    State(core): Shared,
    ControlBody(body): ControlBody<serde_json::Map<String, Value>>,
) -> Response {
    let current = core.vendor().lock().settings.clone();
    let mut merged = match serde_json::to_value(current) {
        Ok(Value::Object(fields)) => fields,
        _ => return bad_request("settings cannot be read"),
    };
    for (name, value) in body {
        if !merged.contains_key(&name) {
            return bad_request(format!("unknown setting {name:?}"));
        }
        merged.insert(name, value);
    }
    match serde_json::from_value::<Settings>(Value::Object(merged)) {
        Ok(settings) if settings.max_push_ids == 0 || settings.receipt_max_targets == 0 => {
            bad_request("max_push_ids and receipt_max_targets must be at least 1")
        }
        Ok(settings) => {
            tracing::info!(?settings, "settings set");
            core.vendor().set_settings(settings);
            ok()
        }
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptCommand {
    msg_id: String,
    #[serde(rename = "type")]
    receipt_type: u32,
    #[serde(default)]
    targets: Option<Vec<String>>,
}

async fn send_receipt(
    State(core): Shared,
    ControlBody(body): ControlBody<ReceiptCommand>,
) -> Response {
    match meizu::send_receipt(&core, &body.msg_id, body.receipt_type, body.targets) {
        Ok(queued) => Json(json!({ "ok": true, "queued": queued })).into_response(),
        Err(error) => bad_request(error),
    }
}
