//! Receipts (§3.6): `{"statuses":[..]}` POSTed to the app's receipt address.

use std::time::Duration;

use axum::http::HeaderMap;
use honor_sim::{ReceiptOutcome, ReceiptSettings, Settings, SimClock, Simulator, TokenVerdict};
use serde_json::{json, Value};
use sim_kit::testing::ReceiptReceiver;

use crate::common::*;

/// A receipt endpoint: records every POST and answers the queued statuses
/// (200 once they run out).
#[derive(Clone)]
struct Receiver(ReceiptReceiver<(String, Value)>);

impl std::ops::Deref for Receiver {
    type Target = ReceiptReceiver<(String, Value)>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

fn record(headers: &HeaderMap, body: &[u8]) -> (String, Value) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = serde_json::from_slice(body).unwrap_or(Value::Null);
    (content_type, body)
}

impl Receiver {
    async fn start() -> Receiver {
        Receiver(ReceiptReceiver::start("/honor/receipts", record).await)
    }

    fn bodies(&self) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }
}

/// A simulator at noon whose app posts receipts to `receiver`, held back
/// until flushed, quick retries; and a token.
async fn start_held(receiver: &Receiver) -> (Simulator, String) {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_receipt_url(APP_ID, Some(&receiver.url)).unwrap();
    sim.set_receipt_settings(ReceiptSettings {
        delay: Duration::from_secs(60),
        retry_backoff: Duration::from_millis(10),
        ..ReceiptSettings::default()
    });
    let token = token(&sim).await;
    (sim, token)
}

async fn request_id(sim: &Simulator, token: &str, body: &Value) -> String {
    let (status, answer) = send(sim, token, body).await;
    assert_eq!(status, 200, "{answer}");
    answer["data"]["requestId"].as_str().unwrap().to_owned()
}

fn status(token: &str, status: i64, request_id: &str) -> Value {
    json!({"biTag": "chat-1", "appid": APP_ID, "token": token, "status": status,
           "timestamp": NOON, "requestId": request_id})
}

#[tokio::test]
async fn delivered_tokens_are_posted_as_a_statuses_list() {
    let receiver = Receiver::start().await;
    let (sim, token) = start_held(&receiver).await;
    sim.set_token("dead", TokenVerdict::Expired);
    sim.set_token("flaky", TokenVerdict::Failed);
    let id = request_id(&sim, &token, &message(&["t1", "dead", "flaky", "t2"])).await;
    let pending = sim.pending_receipts();
    assert_eq!(pending.len(), 2, "only delivered tokens: {pending:?}");
    assert_eq!(pending[0].token, "t1");
    assert!(receiver.bodies().is_empty());

    sim.flush_receipts().await;
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "application/json");
    assert_eq!(
        seen[0].1,
        json!({"statuses": [status("t1", 0, &id), status("t2", 0, &id)]})
    );
    let log = sim.receipt_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, ReceiptOutcome::Delivered);
    assert_eq!(log[0].body, seen[0].1);
}

#[tokio::test]
async fn the_delivered_status_is_a_setting_and_bi_tag_is_optional() {
    let receiver = Receiver::start().await;
    let (sim, token) = start_held(&receiver).await;
    sim.set_settings(Settings {
        receipt_delivered_status: 40_000_002,
        ..Settings::default()
    })
    .unwrap();
    let id = request_id(&sim, &token, &without(message(&["t1"]), "android.biTag")).await;
    sim.flush_receipts().await;
    assert_eq!(
        receiver.bodies(),
        [
            json!({"statuses": [{"appid": APP_ID, "token": "t1", "status": 40_000_002,
                              "timestamp": NOON, "requestId": id}]})
        ]
    );
}

#[tokio::test]
async fn apps_without_a_receipt_address_get_none() {
    let receiver = Receiver::start().await;
    let (sim, token) = start_held(&receiver).await;
    sim.set_receipt_url(APP_ID, None).unwrap();
    let id = request_id(&sim, &token, &message(&["t1"])).await;
    assert!(sim.pending_receipts().is_empty());
    assert!(sim.send_receipt(&id, 2, None).is_err());
    assert!(sim.set_receipt_url(APP_ID, Some("not a url")).is_err());
    assert!(sim.set_receipt_url("999", Some(&receiver.url)).is_err());
}

#[tokio::test]
async fn any_status_is_sent_on_command() {
    let receiver = Receiver::start().await;
    let (sim, token) = start_held(&receiver).await;
    sim.set_token("dead", TokenVerdict::Expired);
    let id = request_id(&sim, &token, &message(&["t1", "t2", "dead"])).await;
    sim.flush_receipts().await;
    // Default targets: the delivered tokens.
    assert_eq!(sim.send_receipt(&id, 6, None), Ok(2));
    // Any tokens, e.g. the dead one.
    assert_eq!(sim.send_receipt(&id, 2, Some(&["dead"])), Ok(1));
    let (code, answer) = control(
        &sim,
        "receipts",
        Some(json!({"request_id": id, "status": 102, "targets": ["t2"]})),
    )
    .await;
    assert_eq!((code, answer), (200, json!({"ok": true, "queued": 1})));
    sim.flush_receipts().await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(
        bodies[1],
        json!({"statuses": [status("t1", 6, &id), status("t2", 6, &id),
                            status("dead", 2, &id), status("t2", 102, &id)]})
    );
    assert!(sim.send_receipt("unknown", 0, None).is_err());
    assert!(sim.send_receipt(&id, 0, Some(&[""])).is_err());
    for bad in [
        json!({"request_id": "unknown", "status": 0}),
        json!({"request_id": id, "status": "0"}),
        json!({"request_id": id}),
    ] {
        assert_eq!(
            control(&sim, "receipts", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn statuses_are_batched_per_message_and_status() {
    let receiver = Receiver::start().await;
    let (sim, token) = start_held(&receiver).await;
    sim.set_settings(Settings {
        receipt_max_statuses: 2,
        ..Settings::default()
    })
    .unwrap();
    let first = request_id(&sim, &token, &message(&["a", "b", "c", "d", "e"])).await;
    let second = request_id(&sim, &token, &message(&["f"])).await;
    sim.flush_receipts().await;
    let tokens_of = |body: &Value| -> Vec<(String, String)> {
        body["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["requestId"].as_str().unwrap().to_owned(),
                    s["token"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let posts: Vec<Vec<(String, String)>> = receiver.bodies().iter().map(tokens_of).collect();
    let pair = |id: &str, t: &str| (id.to_owned(), t.to_owned());
    assert_eq!(
        posts,
        [
            vec![pair(&first, "a"), pair(&first, "b"), pair(&second, "f")],
            vec![pair(&first, "c"), pair(&first, "d")],
            vec![pair(&first, "e")],
        ]
    );
    for bad in [0, 1001] {
        assert!(sim
            .set_settings(Settings {
                receipt_max_statuses: bad,
                ..Settings::default()
            })
            .is_err());
    }
}

#[tokio::test]
async fn failed_posts_are_retried_and_logged() {
    let receiver = Receiver::start().await;
    let (sim, token) = start_held(&receiver).await;
    receiver.answers.lock().unwrap().extend([500, 503]);
    request_id(&sim, &token, &message(&["t1"])).await;
    sim.flush_receipts().await;
    let outcomes: Vec<(u16, ReceiptOutcome)> = sim
        .receipt_log()
        .iter()
        .map(|post| (post.status, post.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            (500, ReceiptOutcome::Retrying),
            (503, ReceiptOutcome::Retrying),
            (200, ReceiptOutcome::Delivered)
        ]
    );
    assert_eq!(receiver.bodies().len(), 3);
}

#[tokio::test]
async fn receipt_addresses_are_set_over_http() {
    let receiver = Receiver::start().await;
    let sim = start().await;
    sim.set_receipt_delay(Duration::ZERO);
    let (status, _) = control(
        &sim,
        "receipt-url",
        Some(json!({"app_id": APP_ID, "url": receiver.url})),
    )
    .await;
    assert_eq!(status, 200);
    let token = token(&sim).await;
    request_id(&sim, &token, &message(&["t1"])).await;
    sim.flush_receipts().await;
    assert_eq!(receiver.bodies().len(), 1);
    for bad in [
        json!({"app_id": APP_ID, "url": "ftp://x"}),
        json!({"app_id": "999", "url": receiver.url}),
        json!({"app_id": APP_ID}),
    ] {
        assert_eq!(
            control(&sim, "receipt-url", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    let (status, _) = control(
        &sim,
        "receipt-url",
        Some(json!({"app_id": APP_ID, "url": null})),
    )
    .await;
    assert_eq!(status, 200);
    request_id(&sim, &token, &message(&["t1"])).await;
    assert!(sim.pending_receipts().is_empty());
}
