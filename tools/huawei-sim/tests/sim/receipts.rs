//! Receipts (§4.6): content, the signature header, batching, on command.

use std::time::Duration;

use axum::http::HeaderMap;
use base64::Engine;
use hmac::{Hmac, Mac};
use huawei_sim::{
    ReceiptConfig, ReceiptOutcome, ReceiptSettings, Settings, SimApp, SimClock, Simulator,
    TokenVerdict,
};
use serde_json::{json, Value};
use sha2::Sha256;
use sim_kit::testing::ReceiptReceiver;

use crate::common::*;

/// A receipt endpoint: records every POST and answers the queued statuses
/// (200 once they run out).
#[derive(Clone)]
struct Receiver(ReceiptReceiver<Received>);

impl std::ops::Deref for Receiver {
    type Target = ReceiptReceiver<Received>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[derive(Clone, Debug)]
struct Received {
    content_type: String,
    callback_id: Option<String>,
    body: Value,
}

fn record(headers: &HeaderMap, body: &[u8]) -> Received {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Received {
        content_type: header("content-type").unwrap_or_default(),
        callback_id: header("x-huawei-callback-id"),
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    }
}

impl Receiver {
    async fn start() -> Receiver {
        Receiver(ReceiptReceiver::start("/hw/receipts?k=1", record).await)
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// Every item of every POST, in order.
    fn items(&self) -> Vec<Value> {
        self.seen()
            .iter()
            .flat_map(|r| r.body["statuses"].as_array().unwrap().clone())
            .collect()
    }
}

const USER: &str = "receipt-user";
const CALLBACK_SECRET: &str = "callback-secret-1";

/// An app with a signed default receipt configuration `r1` and an unsigned
/// one `r2` (same receiver); a simulator at noon, receipts held until
/// flushed, quick retries.
async fn start_with(receiver: &Receiver) -> Simulator {
    let sim = start().await;
    sim.add_app(
        app()
            .with_receipts(
                ReceiptConfig::new("r1", &receiver.url)
                    .signed(USER, CALLBACK_SECRET)
                    .as_default(),
            )
            .with_receipts(ReceiptConfig::new("r2", &receiver.url)),
    );
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_receipt_settings(ReceiptSettings {
        delay: Duration::from_secs(60),
        retry_backoff: Duration::from_millis(10),
        ..ReceiptSettings::default()
    });
    sim
}

/// Checks `X-HUAWEI-CALLBACK-ID` as a receiver would, independently of the
/// simulator's code; the timestamp.
fn verify(header: &str, username: &str, secret: &str) -> i64 {
    let parts: Vec<(&str, &str)> = header
        .split(';')
        .map(|part| part.split_once('=').unwrap())
        .collect();
    assert_eq!(parts.len(), 3, "{header}");
    assert_eq!(
        (parts[0].0, parts[1].0, parts[2].0),
        ("timestamp", "nonce", "value")
    );
    let (timestamp, nonce) = (parts[0].1, parts[1].1);
    assert!(uuid::Uuid::parse_str(nonce).is_ok(), "nonce {nonce}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}{nonce}{username}").as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    // The value is the base64 text up to the end (it may contain '=').
    let value = header.split_once(";value=").unwrap().1;
    assert_eq!(value, expected, "{header}");
    timestamp.parse().unwrap()
}

#[tokio::test]
async fn delivered_targets_are_posted_as_signed_v1_statuses() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let (_, answer) = send(&sim, &message(&["t1", "t2"])).await;
    let request_id = answer["requestId"].as_str().unwrap().to_owned();
    let pending = sim.pending_receipts();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].callback_url, receiver.url);
    assert_eq!((pending[1].token.as_str(), pending[1].status), ("t2", 0));
    assert!(receiver.seen().is_empty());

    sim.flush_receipts().await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].content_type.starts_with("application/json"));
    assert_eq!(
        seen[0].body,
        json!({"statuses": [
            {"token": "t1", "biTag": "push-1", "status": 0, "timestamp": NOON, "appid": APP, "requestId": request_id},
            {"token": "t2", "biTag": "push-1", "status": 0, "timestamp": NOON, "appid": APP, "requestId": request_id},
        ]})
    );
    let header = seen[0].callback_id.as_deref().expect("signed");
    assert_eq!(verify(header, USER, CALLBACK_SECRET), NOON);
    let log = sim.receipt_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, ReceiptOutcome::Delivered);
    assert_eq!(log[0].body, seen[0].body);
}

#[tokio::test]
async fn receipt_id_selects_the_configuration_and_an_unknown_one_is_80300013() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let body = set(
        set(
            message(&["t1"]),
            "/message/android/receipt_id",
            Some(json!("r2")),
        ),
        "/message/android/bi_tag",
        None,
    );
    assert_eq!(code(&sim, &body).await, "80000000");
    sim.flush_receipts().await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].callback_id, None, "r2 has no secret");
    assert!(seen[0].body["statuses"][0].get("biTag").is_none());

    let unknown = set(
        message(&["t1"]),
        "/message/android/receipt_id",
        Some(json!("r9")),
    );
    let (status, answer) = send(&sim, &unknown).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("80300013")));
    // No default configuration: no receipts without receipt_id.
    sim.add_app(app().with_receipts(ReceiptConfig::new("r1", &receiver.url)));
    assert_eq!(code(&sim, &message(&["t1"])).await, "80000000");
    assert!(sim.pending_receipts().is_empty());
}

#[tokio::test]
async fn statuses_follow_verdicts_and_caps_and_illegal_tokens_get_none() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    sim.set_token("gone", TokenVerdict::Status(2));
    sim.set_token("bad", TokenVerdict::Illegal);
    let marketing = set(message(&["t1"]), "/message/android/category", None);
    for _ in 0..3 {
        code(&sim, &marketing).await;
    }
    code(&sim, &message(&["gone", "bad"])).await;
    sim.flush_receipts().await;
    let statuses: Vec<(String, i64)> = receiver
        .items()
        .iter()
        .map(|i| {
            (
                i["token"].as_str().unwrap().to_owned(),
                i["status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("t1".into(), 0),
            ("t1".into(), 0),
            ("t1".into(), 102),
            ("gone".into(), 2)
        ]
    );
}

#[tokio::test]
async fn any_status_can_be_sent_on_command() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let (_, answer) = send(&sim, &message(&["t1", "t2"])).await;
    let request_id = answer["requestId"].as_str().unwrap().to_owned();
    sim.flush_receipts().await;
    for status in [2, 5, 6, 10, 102, 201] {
        assert_eq!(
            sim.send_receipt(&request_id, status, Some(&["t2"]))
                .unwrap(),
            1
        );
    }
    assert_eq!(sim.send_receipt(&request_id, 14, None).unwrap(), 2);
    assert!(sim.send_receipt("nope", 2, None).is_err());
    sim.flush_receipts().await;
    let items = receiver.items();
    let statuses: Vec<i64> = items[2..]
        .iter()
        .map(|i| i["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [2, 5, 6, 10, 102, 201, 14, 14]);
    assert!(items.iter().all(|i| i["requestId"] == request_id.as_str()));

    let (status, answer) = control(
        &sim,
        "receipts",
        Some(json!({"request_id": request_id, "status": 5, "tokens": ["t1"]})),
    )
    .await;
    assert_eq!((status, answer["queued"].as_i64()), (200, Some(1)));
    let (status, _) = control(
        &sim,
        "receipts",
        Some(json!({"request_id": "x", "status": 5})),
    )
    .await;
    assert_eq!(status, 400);
    // A message without a receipt configuration cannot get receipts.
    sim.add_app(app());
    let (_, answer) = send(&sim, &message(&["t1"])).await;
    assert!(sim
        .send_receipt(answer["requestId"].as_str().unwrap(), 2, None)
        .is_err());
}

/// Both readings of the §4.6 CONFLICT: 100 items per POST (the default) and 1000.
#[tokio::test]
async fn batches_hold_100_items_by_default_and_1000_in_the_other_reading() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let many = |n: usize| set(message(&[]), "/message/token", Some(json!(tokens("t", n))));
    code(&sim, &many(1000)).await;
    code(&sim, &many(1)).await;
    sim.flush_receipts().await;
    // The POSTs go concurrently: compare sorted sizes.
    let mut sizes: Vec<usize> = receiver
        .seen()
        .iter()
        .map(|r| r.body["statuses"].as_array().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes.len(), 11);
    assert_eq!(sizes[0], 1);
    assert!(sizes[1..].iter().all(|&n| n == 100), "{sizes:?}");
    assert!(receiver.seen().iter().all(|r| r.callback_id.is_some()));

    sim.set_settings(Settings {
        receipt_batch: 1000,
        ..Settings::default()
    })
    .unwrap();
    code(&sim, &many(1000)).await;
    code(&sim, &many(1)).await;
    sim.flush_receipts().await;
    let mut sizes: Vec<usize> = receiver.seen()[11..]
        .iter()
        .map(|r| r.body["statuses"].as_array().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [1, 1000]);
    assert!(sim
        .set_settings(Settings {
            receipt_batch: 1001,
            ..Settings::default()
        })
        .is_err());
    assert!(sim
        .set_settings(Settings {
            receipt_batch: 0,
            ..Settings::default()
        })
        .is_err());
}

#[tokio::test]
async fn a_refused_post_is_retried_and_signed_afresh() {
    let receiver = Receiver::start().await;
    receiver.answers.lock().unwrap().push_back(500);
    let sim = start_with(&receiver).await;
    code(&sim, &message(&["t1"])).await;
    sim.set_clock(SimClock::Fixed(NOON + 5));
    sim.flush_receipts().await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body);
    let first = seen[0].callback_id.clone().unwrap();
    let second = seen[1].callback_id.clone().unwrap();
    assert_ne!(first, second, "a fresh nonce per attempt");
    assert_eq!(verify(&second, USER, CALLBACK_SECRET), NOON + 5);
    let outcomes: Vec<ReceiptOutcome> = sim.receipt_log().iter().map(|p| p.outcome).collect();
    assert_eq!(
        outcomes,
        [ReceiptOutcome::Retrying, ReceiptOutcome::Delivered]
    );
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried_then_dropped() {
    let sim = start().await;
    sim.add_app(
        SimApp::new(APP, SECRET)
            .with_receipts(ReceiptConfig::new("r1", "http://127.0.0.1:9/x").as_default()),
    );
    sim.set_receipt_settings(ReceiptSettings {
        delay: Duration::from_secs(60),
        retries: 1,
        retry_backoff: Duration::from_millis(10),
        ..ReceiptSettings::default()
    });
    code(&sim, &message(&["t1"])).await;
    sim.flush_receipts().await;
    let log = sim.receipt_log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].status, 502);
    assert_eq!(log[1].outcome, ReceiptOutcome::Dropped);
}

#[tokio::test]
async fn validate_only_and_refused_calls_send_no_receipts() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    sim.set_token("bad", TokenVerdict::Illegal);
    code(
        &sim,
        &set(message(&["t1"]), "/validate_only", Some(json!(true))),
    )
    .await;
    code(&sim, &message(&["bad"])).await;
    assert!(sim.pending_receipts().is_empty());
}
