//! `/_sim/*`: the control endpoints for other processes (smoke scripts). The
//! kit mounts the common ones (sim-kit's lib.rs, "Control endpoints");
//! vivo-sim adds its own. All of them:
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` (kit) |
//! | `GET /_sim/requests` | JSON array of recorded requests (fields as `RecordedRequest`, including `received_ms` / `answered_ms`) (kit) |
//! | `GET /_sim/deliveries` | JSON array of deliveries (kit) |
//! | `POST /_sim/reset` | clears as `Simulator::reset` (kit) |
//! | `POST /_sim/apps` | `{"app_id":1,"app_key":"..","app_secret":".."}` |
//! | `POST /_sim/regids` | `{"reg_id":"..","status":0}` (0 = valid, 1..=4 = invalid with that status) |
//! | `POST /_sim/test-devices` | `{"app_id":1,"reg_id":".."}` |
//! | `POST /_sim/script` | `{"path":"/message/send","next":true,"action":A}` where A is `{"result":code,"desc":"..","extra":{..}}`, `{"http_status":500}`, `{"delay_ms":50}`, `{"garbage":true}`, `{"expire_token":true}`, or `null` (clears the sticky action; `next` must then be false) (kit, with vivo's `result` and `expire_token`) |
//! | `POST /_sim/expire-tokens` | every token issued so far becomes unknown |
//! | `POST /_sim/clock` | vivo's clock (`Simulator::set_clock`): `{"real":true}`, `{"offset_ms":-3600000}` or `{"fixed_ms":1717000000000}` (kit) |
//! | `GET /_sim/clock` | `{"now_ms":N,"clock":C}`, C in the form `POST` takes (kit) |
//! | `POST /_sim/quotas` | `{"app_id":1,"operational":N,"system":N,"list_payloads":N}` (`Simulator::set_quotas`; a missing or null total is unlimited) |
//! | `GET /_sim/quotas?app_id=1` | that app's quotas, in the form `POST` takes (without `app_id`) |
//! | `GET /_sim/usage?app_id=1` | `{"operational":n,"system":n,"list_payloads":n}` counted today (`Simulator::usage`) |
//! | `POST /_sim/rules` | `{"operational_window":true,"content_rules":true}` (`Simulator::set_rules`; replaces all rules, a missing one is off) |
//! | `GET /_sim/rules` | the rules in the form `POST` takes, every field present |
//! | `POST /_sim/receipts` | `{"app_id":1,"receipt_id":"..","url":"http://.."}` registers a receipt URL (`Simulator::set_receipt_url`; `receipt_id` 1..=64 characters, `url` absolute http(s)); `"url":null` removes it (`url` must be present) |
//! | `GET /_sim/receipts` | `[{"app_id":1,"receipt_id":"..","url":".."}]`, by app id then receipt id |
//! | `POST /_sim/receipt-settings` | `{"delay_ms":N,"redeliver":bool,"retries":N,"backoff_ms":N}` (`Simulator::set_receipt_settings`); a missing field keeps its value; `delay_ms` <= 3600000, `retries` <= 10, `backoff_ms` <= 60000 (kit) |
//! | `GET /_sim/receipt-settings` | the settings in the form `POST` takes, every field present (kit) |
//! | `GET /_sim/receipt-pending` | JSON array of queued receipts (fields as `PendingReceipt`) (kit) |
//! | `POST /_sim/receipt-flush` | sends the queued receipts now; answers once every receipt POST has finished (`Simulator::flush_receipts`) (kit) |
//! | `GET /_sim/receipt-log` | JSON array of receipt POST attempts (fields as `ReceiptPost`: `url`, `body`, `status`, `error`, `attempt`, `redelivery`, `outcome` = `delivered`/`retrying`/`dropped`, `sent_ms`, `answered_ms`) (kit) |
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
use sim_kit::{bad_request, ok, ControlBody, Core};

use crate::receipts;
use crate::{Quotas, RegIdVerdict, Rules, SimApp, Vivo};

type Shared = sim_kit::Shared<Vivo>;

pub(crate) fn routes() -> Router<Arc<Core<Vivo>>> {
    Router::new()
        .route("/_sim/apps", post(add_app))
        .route("/_sim/regids", post(set_reg_id))
        .route("/_sim/test-devices", post(add_test_device))
        .route("/_sim/expire-tokens", post(expire_tokens))
        .route("/_sim/quotas", get(quotas).post(set_quotas))
        .route("/_sim/usage", get(usage))
        .route("/_sim/rules", get(rules).post(set_rules))
        .route("/_sim/receipts", get(receipt_urls).post(set_receipt_url))
}

async fn expire_tokens(State(core): Shared) -> Response {
    core.vendor().lock().expire_tokens();
    ok()
}

#[derive(Deserialize)]
struct AppBody {
    app_id: u64,
    app_key: String,
    app_secret: String,
}

async fn add_app(State(core): Shared, ControlBody(app): ControlBody<AppBody>) -> Response {
    tracing::info!(app_id = app.app_id, "app added");
    core.vendor().lock().add_app(SimApp {
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

async fn set_reg_id(State(core): Shared, ControlBody(body): ControlBody<RegIdBody>) -> Response {
    let verdict = match body.status {
        0 => RegIdVerdict::Valid,
        status @ 1..=4 => RegIdVerdict::Invalid { status },
        _ => return bad_request("status must be 0 (valid) or 1..=4"),
    };
    core.vendor().lock().set_verdict(&body.reg_id, verdict);
    ok()
}

#[derive(Deserialize)]
struct TestDeviceBody {
    app_id: u64,
    reg_id: String,
}

async fn add_test_device(
    State(core): Shared,
    ControlBody(body): ControlBody<TestDeviceBody>,
) -> Response {
    core.vendor()
        .lock()
        .add_test_device(body.app_id, &body.reg_id);
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

async fn set_quotas(State(core): Shared, ControlBody(body): ControlBody<QuotasBody>) -> Response {
    let quotas = Quotas {
        operational: body.operational,
        system: body.system,
        list_payloads: body.list_payloads,
    };
    tracing::info!(app_id = body.app_id, ?quotas, "quotas set");
    core.vendor().lock().set_quotas(body.app_id, quotas);
    ok()
}

#[derive(Deserialize)]
struct AppQuery {
    app_id: u64,
}

async fn quotas(State(core): Shared, query: Result<Query<AppQuery>, QueryRejection>) -> Response {
    match query {
        Ok(Query(query)) => Json(core.vendor().lock().quotas_of(query.app_id)).into_response(),
        Err(error) => bad_request(error),
    }
}

async fn usage(State(core): Shared, query: Result<Query<AppQuery>, QueryRejection>) -> Response {
    match query {
        Ok(Query(query)) => {
            let now = core.now_ms();
            Json(core.vendor().lock().usage_today(now, query.app_id)).into_response()
        }
        Err(error) => bad_request(error),
    }
}

async fn rules(State(core): Shared) -> Response {
    Json(core.vendor().lock().rules).into_response()
}

async fn set_rules(State(core): Shared, ControlBody(rules): ControlBody<Rules>) -> Response {
    tracing::info!(?rules, "rules set");
    core.vendor().lock().rules = rules;
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
    State(core): Shared,
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
    core.vendor()
        .lock()
        .receipt_urls
        .set(body.app_id, &body.receipt_id, body.url.as_deref());
    ok()
}

async fn receipt_urls(State(core): Shared) -> Response {
    Json(core.vendor().lock().receipt_urls.list()).into_response()
}
