//! `/_sim/*`: the control endpoints for other processes (smoke scripts). The
//! kit mounts the common ones (sim-kit's lib.rs, "Control endpoints");
//! fcm-sim adds its own. All of them:
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` (kit) |
//! | `GET /_sim/requests` | JSON array of recorded requests (fields as `sim_kit::RecordedRequest`) (kit) |
//! | `GET /_sim/deliveries` | JSON array of deliveries (fields as `Delivery`; `target` is `{"token":".."}`, `{"topic":".."}` or `{"condition":".."}`) (kit) |
//! | `POST /_sim/reset` | clears as `Simulator::reset` (kit) |
//! | `POST /_sim/script` | `{"path":"/v1/projects/p/messages:send","next":true,"action":A}` where A is `{"body":<any JSON>}` (HTTP 200), `{"error":{"error_code":"UNREGISTERED","message":".."}}`, `{"reply":{"status":N,"body":<any JSON>}}`, `{"http_status":503}`, `{"delay_ms":50}`, `{"garbage":true}`, or `null` (kit, with FCM's `body`, `error` and `reply`) |
//! | `POST /_sim/clock`, `GET /_sim/clock` | the simulator's clock (kit) |
//! | `POST /_sim/apps` | a `SimApp` (`{"project_id","client_email","private_key_id","key_pem","token_uri"?}`) or a service-account JSON (`{"type":"service_account","project_id",..,"private_key",..}`); replaces an app with the same `client_email` |
//! | `POST /_sim/access-tokens` | `{"client_email":".."}`: issues an access token without an assertion; answers `{"access_token":"..","expires_in":N,"token_type":"Bearer"}` |
//! | `POST /_sim/tokens` | `{"token":"..","verdict":"valid"/"invalid"/"unregistered"/"sender_id_mismatch"/"quota_exceeded"/"unavailable"/"internal"/"third_party_auth_error"}` |
//! | `POST /_sim/quota` | `{"project_id":"..","quota":N}` (`null`: unlimited) |
//! | `POST /_sim/settings` | any fields of `Settings` (`token_ttl_secs`, `clock_skew_secs`, `require_kid`, `scope_check` `"token"`/`"send"`, `token_violation`, `payload_measure` `"message"`/`"content"`, `payload_limit`, `topic_payload_limit`, `max_ttl_secs` (null: any), `quota_window_secs`, `retry_after_secs` (null: not sent)); a missing field keeps its value |
//! | `GET /_sim/settings` | the settings, every field present |
//!
//! FCM has no receipts: the kit's receipt endpoints exist and stay empty.
//! Bodies are read as JSON objects whatever the `Content-Type`. Mistakes
//! answer 400 `{"error":".."}`; successes `{"ok":true}`. Control calls are
//! not recorded.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sim_kit::{bad_request, ok, ControlBody, Core};

use crate::{Fcm, SimApp, TokenVerdict};

type Shared = sim_kit::Shared<Fcm>;

pub(crate) fn routes() -> Router<Arc<Core<Fcm>>> {
    Router::new()
        .route("/_sim/apps", post(add_app))
        .route("/_sim/access-tokens", post(issue_access_token))
        .route("/_sim/tokens", post(set_token))
        .route("/_sim/quota", post(set_quota))
        .route("/_sim/settings", get(settings).post(set_settings))
}

async fn add_app(State(core): Shared, ControlBody(body): ControlBody<Value>) -> Response {
    let app = if body.get("type").is_some() || body.get("private_key").is_some() {
        SimApp::from_service_account(&body)
    } else {
        serde_json::from_value::<SimApp>(body).map_err(|e| e.to_string())
    };
    let added = app.and_then(|app| {
        tracing::info!(project_id = %app.project_id, client_email = %app.client_email, "app added");
        core.vendor().lock().add_app(app)
    });
    match added {
        Ok(()) => ok(),
        Err(error) => bad_request(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessTokenBody {
    client_email: String,
}

async fn issue_access_token(
    State(core): Shared,
    ControlBody(body): ControlBody<AccessTokenBody>,
) -> Response {
    let now = core.now_ms();
    let mut inner = core.vendor().lock();
    let ttl = inner.settings.token_ttl_secs;
    match inner.issue(&body.client_email, now) {
        Some(token) => Json(json!({
            "access_token": token,
            "expires_in": ttl,
            "token_type": "Bearer",
        }))
        .into_response(),
        None => bad_request(format!("no app with client_email {:?}", body.client_email)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
    verdict: TokenVerdict,
}

async fn set_token(State(core): Shared, ControlBody(body): ControlBody<TokenBody>) -> Response {
    let mut inner = core.vendor().lock();
    match body.verdict {
        TokenVerdict::Valid => inner.verdicts.remove(&body.token),
        verdict => inner.verdicts.insert(body.token, verdict),
    };
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaBody {
    project_id: String,
    /// Required, null for unlimited.
    #[serde(deserialize_with = "Option::deserialize")]
    quota: Option<u64>,
}

async fn set_quota(State(core): Shared, ControlBody(body): ControlBody<QuotaBody>) -> Response {
    tracing::info!(quota = ?body.quota, project_id = %body.project_id, "quota set");
    core.vendor().lock().set_quota(&body.project_id, body.quota);
    ok()
}

async fn settings(State(core): Shared) -> Response {
    Json(core.vendor().lock().settings).into_response()
}

/// Merges the given fields into the current settings, then reads them back
/// strictly (unknown fields and wrong types refused).
async fn set_settings(
    State(core): Shared,
    ControlBody(body): ControlBody<Map<String, Value>>,
) -> Response {
    let mut inner = core.vendor().lock();
    let mut merged = match serde_json::to_value(inner.settings) {
        Ok(Value::Object(current)) => current,
        _ => return bad_request("settings cannot be read"),
    };
    for (name, value) in body {
        if !merged.contains_key(&name) {
            return bad_request(format!("unknown setting {name:?}"));
        }
        merged.insert(name, value);
    }
    match serde_json::from_value(Value::Object(merged)) {
        Ok(settings) => {
            tracing::info!(?settings, "settings set");
            inner.settings = settings;
            ok()
        }
        Err(error) => bad_request(error),
    }
}
