//! V2 receipts (§14.8): one status per target, POSTed as
//! `{"statuses":[..]}` with the `X-HUAWEI-CALLBACK-ID` header. The rules
//! are in lib.rs, "Receipts".
//!
//! The kit's engine posts a body and a `Content-Type`, no other header; so
//! each entry's URL is this simulator's own relay ([`RELAY_PATH`]), which
//! signs the POST when it goes and forwards it to the receiver, answering
//! with the receiver's status (502 when the receiver does not answer).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use sim_kit::{form, Receipt, ReceiptBody, ReceiptFormat, ReceiptGroup};

use crate::{Harmony, ReceiptConfig, SimError};

type Kit = sim_kit::Core<Harmony>;

/// The signature header of receipt POSTs.
pub const CALLBACK_HEADER: &str = "X-HUAWEI-CALLBACK-ID";

/// The relay every receipt entry is queued for (see the module doc):
/// `POST /_sim/receipt-relay?project=..&receipt=..&to=<receiver URL>`.
pub const RELAY_PATH: &str = "/_sim/receipt-relay";

/// How long the relay waits for a receiver (under the kit's 5 s, so the
/// kit sees the relay's 502 rather than its own timeout).
const RELAY_TIMEOUT: Duration = Duration::from_secs(4);

/// `timestamp=<ms>;nonce=<nonce>;value=<base64(HmacSHA256(key,
/// timestamp+nonce+username))>`; `key` as [`ReceiptConfig::hmac_key`] gives it.
pub fn callback_value(key: &[u8], username: &str, timestamp_ms: i64, nonce: &str) -> String {
    let value = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(format!("{timestamp_ms}{nonce}{username}").as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
        // HMAC takes a key of any length; this branch cannot be taken.
        Err(_) => String::new(),
    };
    format!("timestamp={timestamp_ms};nonce={nonce};value={value}")
}

/// One receipt waiting for the next flush: one target of one message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingReceipt {
    /// The relay URL the kit POSTs to (its `to` is `callback_url`).
    pub url: String,
    /// The receiver, from the project's receipt configuration.
    pub callback_url: String,
    pub project_id: String,
    pub receipt_id: String,
    pub token: String,
    pub result: u32,
    /// The simulator's clock when it was queued, ms.
    pub timestamp: i64,
    pub request_id: String,
    /// The status item as sent (JSON text).
    #[serde(skip)]
    pub item: String,
}

impl Receipt for PendingReceipt {
    fn url(&self) -> &str {
        &self.url
    }

    /// The whole item: the kit batches "targets", and every item is one.
    fn target(&self) -> &str {
        &self.item
    }

    /// Every item of one URL is one group, cut into POSTs of
    /// [`crate::Settings::receipt_batch`] items.
    fn group(&self) -> String {
        "statuses".to_owned()
    }
}

/// The receipt format (the kit's `ReceiptFormat`).
pub struct HarmonyReceipts {
    pub(crate) batch: Arc<AtomicUsize>,
}

impl ReceiptFormat for HarmonyReceipts {
    type Receipt = PendingReceipt;

    fn max_targets(&self) -> usize {
        self.batch.load(Ordering::SeqCst).max(1)
    }

    fn render(&self, groups: &[ReceiptGroup<'_, PendingReceipt>]) -> ReceiptBody {
        let statuses: Vec<Value> = groups
            .iter()
            .flat_map(|group| group.targets.iter())
            .map(|item| serde_json::from_str(item).unwrap_or(Value::Null))
            .collect();
        ReceiptBody::json(json!({ "statuses": statuses }))
    }
}

/// What one receipt item says about its message.
pub(crate) struct ItemOf<'a> {
    pub(crate) project_id: &'a str,
    pub(crate) package_name: &'a str,
    pub(crate) push_type: u8,
    pub(crate) bi_tag: Option<&'a str>,
    pub(crate) request_id: &'a str,
}

/// Queues one status item for `token`.
pub(crate) fn queue_receipt(
    kit: &Kit,
    base_url: &str,
    config: &ReceiptConfig,
    of: &ItemOf<'_>,
    token: &str,
    result: u32,
    now: i64,
) {
    let item = json!({
        "token": token,
        "pushType": of.push_type,
        "appPackageName": of.package_name,
        "biTag": of.bi_tag.unwrap_or(""),
        "requestId": of.request_id,
        "deliveryStatus": { "result": result, "timestamp": now },
    });
    let url = format!(
        "{base_url}{RELAY_PATH}?project={}&receipt={}&to={}",
        form::escape(of.project_id),
        form::escape(&config.id),
        form::escape(&config.url)
    );
    kit.receipts().queue(PendingReceipt {
        url,
        callback_url: config.url.clone(),
        project_id: of.project_id.to_owned(),
        receipt_id: config.id.clone(),
        token: token.to_owned(),
        result,
        timestamp: now,
        request_id: of.request_id.to_owned(),
        item: item.to_string(),
    });
}

/// Queues receipts on command (`Simulator::send_receipt`, `POST /_sim/receipts`).
pub(crate) fn send_on_command(
    kit: &Kit,
    request_id: &str,
    result: u32,
    tokens: Option<Vec<String>>,
) -> Result<usize, SimError> {
    if tokens
        .as_ref()
        .is_some_and(|tokens| tokens.iter().any(String::is_empty))
    {
        return Err(SimError("tokens must not be empty strings".to_owned()));
    }
    let now = kit.now_ms();
    let inner = kit.vendor().lock();
    let Some(message) = inner.messages.get(request_id) else {
        return Err(SimError(format!("unknown requestId {request_id:?}")));
    };
    let Some(config) = &message.receipt else {
        return Err(SimError(format!(
            "message {request_id} has no receipt configuration"
        )));
    };
    let package_name = inner
        .apps
        .get(&message.project_id)
        .map(|app| app.package_name.clone())
        .unwrap_or_default();
    let of = ItemOf {
        project_id: &message.project_id,
        package_name: &package_name,
        push_type: message.push_type,
        bi_tag: message.bi_tag.as_deref(),
        request_id,
    };
    let tokens = tokens.unwrap_or_else(|| message.accepted.clone());
    for token in &tokens {
        queue_receipt(kit, &inner.base_url, config, &of, token, result, now);
    }
    Ok(tokens.len())
}

fn relay_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        sim_kit::http_client_builder()
            .no_proxy()
            .timeout(RELAY_TIMEOUT)
            .connect_timeout(RELAY_TIMEOUT)
            .build()
            .unwrap_or_default()
    })
}

/// `POST /_sim/receipt-relay`: signs with the receipt configuration's user
/// name and key as they are now, at the simulator's clock, and forwards.
pub(crate) async fn relay(
    State(core): sim_kit::Shared<Harmony>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (Some(project_id), Some(receipt_id), Some(to)) =
        (query.get("project"), query.get("receipt"), query.get("to"))
    else {
        return sim_kit::bad_request("project, receipt and to are required");
    };
    let signing = core
        .vendor()
        .lock()
        .apps
        .get(project_id)
        .and_then(|app| app.receipts.iter().find(|c| &c.id == receipt_id))
        .and_then(|c| match c.hmac_key() {
            Ok(Some(key)) => Some((c.username.clone(), key)),
            // Registration checked the key; an unsigned POST is the rest.
            _ => None,
        });
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let mut request = relay_client()
        .post(to)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body);
    if let Some((username, key)) = signing {
        let nonce = uuid::Uuid::new_v4().to_string();
        let value = callback_value(&key, &username, core.now_ms(), &nonce);
        request = request.header(CALLBACK_HEADER, value);
    }
    match request.send().await {
        Ok(response) => StatusCode::from_u16(response.status().as_u16())
            .unwrap_or(StatusCode::BAD_GATEWAY)
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, url = %to, "receipt receiver did not answer");
            (StatusCode::BAD_GATEWAY, "receiver did not answer").into_response()
        }
    }
}
