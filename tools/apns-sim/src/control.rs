//! `/_sim/*`: the control endpoints for other processes (smoke scripts). The
//! kit mounts the common ones (sim-kit's lib.rs, "Control endpoints");
//! apns-sim adds its own. All of them (served on the front's address, over
//! HTTP/1.1 or HTTP/2):
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` (kit) |
//! | `GET /_sim/requests` | JSON array of recorded requests (fields as `sim_kit::RecordedRequest`; the headers include the front's `x-apns-sim-*`) (kit) |
//! | `GET /_sim/deliveries` | JSON array of deliveries (fields as `Delivery`) (kit) |
//! | `POST /_sim/reset` | clears as `Simulator::reset` (kit) |
//! | `POST /_sim/script` | `{"path":"/3/device/<token>","next":true,"action":A}` where A is `{"body":<any JSON>}`, `{"error":{"reason":"Unregistered","status":410,"timestamp":N}}` (`status` defaults to the reason's; `timestamp` optional), `{"http_status":503}`, `{"delay_ms":50}`, `{"garbage":true}`, or `null` (kit, with APNs' `body` and `error`); scripts are per path, so per device token |
//! | `POST /_sim/clock`, `GET /_sim/clock` | the simulator's clock (kit) |
//! | `POST /_sim/keys` | `{"key_id":"..","team_id":"..","private_key_pem":"-----BEGIN PRIVATE KEY-----..."}`; replaces a key with the same id |
//! | `POST /_sim/apps` | `{"team_id":"..","bundle_id":".."}` |
//! | `POST /_sim/devices` | `{"token":"<hex>","verdict":"valid"/"unregistered"/"bad_device_token"/"device_token_not_for_topic","environment":"production"/"sandbox","bundle_id":"..","unregistered_ms":N}` (all but `token` optional) |
//! | `POST /_sim/settings` | any fields of `Settings` (`environment`, `refuse_http1`, `token_update_scope` = `connection`/`team`/`team_key`, `min_token_refresh_secs`, `token_max_age_secs`, `iat_future_leeway_secs`, `require_push_type`, `allow_priority_1`, `max_payload_bytes`, `max_voip_payload_bytes`, `rate_limit` = `{"max":N,"window_ms":N}` or null); a missing field keeps its value |
//! | `GET /_sim/settings` | the settings, every field present |
//! | `POST /_sim/quota` | `{"rate_limit":{"max":N,"window_ms":N}}` or `{"rate_limit":null}` |
//! | the kit's receipt endpoints | present and always empty (APNs has no receipts) |
//!
//! Bodies are read as JSON objects whatever the `Content-Type`. Mistakes answer 400
//! `{"error":".."}`; successes `{"ok":true}`. Control calls are not recorded.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value};
use sim_kit::{bad_request, ok, ControlBody, Core};

use crate::{Apns, RateLimit, Settings, SimApp, SimDevice, SimKey};

type Shared = sim_kit::Shared<Apns>;

pub(crate) fn routes() -> Router<Arc<Core<Apns>>> {
    Router::new()
        .route("/_sim/keys", post(add_key))
        .route("/_sim/apps", post(add_app))
        .route("/_sim/devices", post(set_device))
        .route("/_sim/settings", get(settings).post(set_settings))
        .route("/_sim/quota", post(set_quota))
}

async fn add_key(State(core): Shared, ControlBody(key): ControlBody<SimKey>) -> Response {
    tracing::info!(key_id = %key.key_id, team_id = %key.team_id, "key added");
    match core.vendor().lock().add_key(&key) {
        Ok(()) => ok(),
        Err(error) => bad_request(error),
    }
}

async fn add_app(State(core): Shared, ControlBody(app): ControlBody<SimApp>) -> Response {
    tracing::info!(team_id = %app.team_id, bundle_id = %app.bundle_id, "app added");
    core.vendor().lock().add_app(app);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceBody {
    token: String,
    #[serde(flatten)]
    device: SimDevice,
}

async fn set_device(State(core): Shared, ControlBody(body): ControlBody<DeviceBody>) -> Response {
    let now = core.now_ms();
    core.vendor()
        .lock()
        .set_device(&body.token, body.device, now);
    ok()
}

async fn settings(State(core): Shared) -> Response {
    Json(core.vendor().lock().settings.clone()).into_response()
}

/// The current settings overlaid with the fields given.
async fn set_settings(
    State(core): Shared,
    ControlBody(body): ControlBody<Map<String, Value>>,
) -> Response {
    let mut inner = core.vendor().lock();
    let Ok(Value::Object(mut merged)) = serde_json::to_value(&inner.settings) else {
        return bad_request("settings cannot be read");
    };
    merged.extend(body);
    match serde_json::from_value::<Settings>(Value::Object(merged)) {
        Ok(settings) => {
            tracing::info!(?settings, "settings set");
            inner.settings = settings;
            ok()
        }
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaBody {
    #[serde(deserialize_with = "Option::deserialize")]
    rate_limit: Option<RateLimit>,
}

async fn set_quota(State(core): Shared, ControlBody(body): ControlBody<QuotaBody>) -> Response {
    core.vendor().lock().settings.rate_limit = body.rate_limit;
    ok()
}
