//! V2 receipts (§14.8): content, signature, batching, on command.

use std::time::Duration;

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use harmony_sim::{
    callback_value, ReceiptConfig, ReceiptKey, ReceiptOutcome, Settings, SimApp, TokenVerdict,
    CALLBACK_HEADER, RELAY_PATH,
};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use sim_kit::testing::ReceiptReceiver;

use crate::common::*;

/// What a receiver keeps of a POST: its signature header, content type and
/// JSON body.
#[derive(Clone, Debug)]
struct Seen {
    signature: Option<String>,
    content_type: Option<String>,
    body: Value,
}

fn read(headers: &HeaderMap, body: &[u8]) -> Seen {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    Seen {
        signature: header(CALLBACK_HEADER),
        content_type: header("content-type"),
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    }
}

async fn receiver() -> ReceiptReceiver<Seen> {
    ReceiptReceiver::start("/push/receipts", read).await
}

fn seen(receiver: &ReceiptReceiver<Seen>) -> Vec<Seen> {
    receiver.seen.lock().unwrap().clone()
}

/// A base64 secret whose decoded bytes differ from its text.
const SECRET: &str = "c2VjcmV0LWtleS1ieXRlcw==";

/// Checks `timestamp=..;nonce=..;value=..` against `key` and `user`.
fn verify(signature: &str, key: &[u8], user: &str) -> (i64, String) {
    let fields: Vec<(&str, &str)> = signature
        .split(';')
        .map(|f| f.split_once('=').unwrap())
        .collect();
    assert_eq!(fields[0].0, "timestamp");
    assert_eq!(fields[1].0, "nonce");
    assert_eq!(fields[2].0, "value");
    let value = signature.split_once(";value=").unwrap().1;
    let (timestamp, nonce) = (fields[0].1, fields[1].1);
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{timestamp}{nonce}{user}").as_bytes());
    assert_eq!(
        value,
        STANDARD.encode(mac.finalize().into_bytes()),
        "{signature}"
    );
    (timestamp.parse().unwrap(), nonce.to_owned())
}

async fn start_receipts(config: ReceiptConfig) -> harmony_sim::Simulator {
    let sim = start_with(SimApp {
        package_name: "com.example.chat".to_owned(),
        ..app().with_receipts(config)
    })
    .await;
    sim.set_receipt_delay(Duration::from_secs(3600));
    sim
}

#[tokio::test]
async fn each_accepted_target_gets_a_v2_status_signed_with_the_decoded_secret() {
    let receiver = receiver().await;
    let sim = start_receipts(
        ReceiptConfig::new("r1", &receiver.url)
            .signed("push-user", SECRET)
            .as_default(),
    )
    .await;
    sim.set_clock(harmony_sim::SimClock::Fixed(NOON));
    sim.set_token("gone", TokenVerdict::Status(2)).unwrap();
    sim.set_token("bad", TokenVerdict::Illegal("noRight".to_owned()))
        .unwrap();
    let (_, answer) = send(&sim, &message(&["ok", "gone", "bad"])).await;
    let request_id = answer["requestId"].as_str().unwrap().to_owned();
    assert_eq!(sim.pending_receipts().len(), 2);
    sim.flush_receipts().await;
    let posts = seen(&receiver);
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        post.body,
        json!({"statuses": [
            {
                "token": "ok", "pushType": 0, "appPackageName": "com.example.chat",
                "biTag": "push-1", "requestId": request_id,
                "deliveryStatus": {"result": 0, "timestamp": NOON},
            },
            {
                "token": "gone", "pushType": 0, "appPackageName": "com.example.chat",
                "biTag": "push-1", "requestId": request_id,
                "deliveryStatus": {"result": 2, "timestamp": NOON},
            },
        ]})
    );
    let key = STANDARD.decode(SECRET).unwrap();
    let (timestamp, nonce) = verify(post.signature.as_deref().unwrap(), &key, "push-user");
    assert_eq!(timestamp, NOON, "the simulator's clock");
    assert_eq!(nonce.len(), 36);
    // The receipt log shows the relay, the pending entry the receiver.
    let log = sim.receipt_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, ReceiptOutcome::Delivered);
    assert!(log[0].url.contains(RELAY_PATH), "{}", log[0].url);
}

#[tokio::test]
async fn the_legacy_reading_signs_with_the_secrets_utf8_bytes() {
    let receiver = receiver().await;
    let sim = start_receipts(
        ReceiptConfig::new("r1", &receiver.url)
            .signed("u", SECRET)
            .with_key(ReceiptKey::Utf8)
            .as_default(),
    )
    .await;
    send(&sim, &message(&["t1"])).await;
    sim.flush_receipts().await;
    let posts = seen(&receiver);
    verify(
        posts[0].signature.as_deref().unwrap(),
        SECRET.as_bytes(),
        "u",
    );
    // callback_value agrees with the receiver's reading.
    let value = callback_value(b"k", "u", 1, "n");
    verify(&value, b"k", "u");
}

#[tokio::test]
async fn without_a_secret_no_header_is_sent_and_a_bad_secret_is_refused() {
    let receiver = receiver().await;
    let sim = start_receipts(ReceiptConfig::new("r1", &receiver.url).as_default()).await;
    send(&sim, &set(message(&["t1"]), "/pushOptions/biTag", None)).await;
    sim.flush_receipts().await;
    let posts = seen(&receiver);
    assert_eq!(posts[0].signature, None);
    assert_eq!(
        posts[0].body["statuses"][0]["biTag"], "",
        "empty without biTag"
    );
    let bad =
        app().with_receipts(ReceiptConfig::new("r2", &receiver.url).signed("u", "not base64!"));
    assert!(sim.add_app(bad.clone()).is_err());
    // The legacy reading takes any text.
    let mut legacy = bad;
    legacy.receipts[0].key = ReceiptKey::Utf8;
    assert!(sim.add_app(legacy).is_ok());
}

#[tokio::test]
async fn statuses_go_at_most_100_per_post() {
    let receiver = receiver().await;
    let sim = start_receipts(ReceiptConfig::new("r1", &receiver.url).as_default()).await;
    let many = tokens("t", 250);
    let mut body = message(&[]);
    body["target"]["token"] = json!(many);
    send(&sim, &body).await;
    send(&sim, &message(&["last"])).await;
    sim.flush_receipts().await;
    let mut sizes: Vec<usize> = seen(&receiver)
        .iter()
        .map(|p| p.body["statuses"].as_array().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [51, 100, 100], "two messages share POSTs");
    // A smaller batch is configurable.
    receiver.seen.lock().unwrap().clear();
    sim.set_settings(Settings {
        receipt_batch: 1,
        ..Settings::default()
    })
    .unwrap();
    send(&sim, &message(&["a", "b"])).await;
    sim.flush_receipts().await;
    assert_eq!(seen(&receiver).len(), 2);
    for bad in [0, 101] {
        assert!(sim
            .set_settings(Settings {
                receipt_batch: bad,
                ..Settings::default()
            })
            .is_err());
    }
}

#[tokio::test]
async fn receipt_id_picks_the_configuration_and_none_means_no_receipts() {
    let first = receiver().await;
    let second = receiver().await;
    let sim = start_with(
        app()
            .with_receipts(ReceiptConfig::new("r1", &first.url))
            .with_receipts(ReceiptConfig::new("r2", &second.url)),
    )
    .await;
    sim.set_receipt_delay(Duration::from_secs(3600));
    // No default configuration: no receipts.
    send(&sim, &message(&["t1"])).await;
    assert!(sim.pending_receipts().is_empty());
    let (_, answer) = send(
        &sim,
        &set(
            message(&["t2"]),
            "/pushOptions/receiptId",
            Some(json!("r2")),
        ),
    )
    .await;
    assert_eq!(code_of(&answer), "80000000");
    let (status, answer) = send(
        &sim,
        &set(
            message(&["t3"]),
            "/pushOptions/receiptId",
            Some(json!("r9")),
        ),
    )
    .await;
    assert_eq!((status, code_of(&answer)), (400, "80100003".to_owned()));
    sim.flush_receipts().await;
    assert!(seen(&first).is_empty());
    assert_eq!(seen(&second)[0].body["statuses"][0]["token"], "t2");
    assert_eq!(sim.deliveries().len(), 2);
}

#[tokio::test]
async fn receipts_of_any_result_can_be_sent_on_command() {
    let receiver = receiver().await;
    let sim = start_receipts(ReceiptConfig::new("r1", &receiver.url).as_default()).await;
    let (_, answer) = send(&sim, &message(&["a", "b"])).await;
    let request_id = answer["requestId"].as_str().unwrap().to_owned();
    sim.flush_receipts().await;
    assert_eq!(sim.send_receipt(&request_id, 6, Some(&["b"])).unwrap(), 1);
    assert_eq!(sim.send_receipt(&request_id, 10, None).unwrap(), 2);
    sim.flush_receipts().await;
    let posts = seen(&receiver);
    let results: Vec<(Value, Value)> = posts[1].body["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["token"].clone(), s["deliveryStatus"]["result"].clone()))
        .collect();
    assert_eq!(
        results,
        [
            (json!("b"), json!(6)),
            (json!("a"), json!(10)),
            (json!("b"), json!(10))
        ]
    );
    assert!(sim.send_receipt("nope", 0, None).is_err());
    assert!(sim.send_receipt(&request_id, 0, Some(&[""])).is_err());
    // Over the MARKETING cap, receipts carry 256.
    let marketing = set(
        message(&["m"]),
        "/payload/notification/category",
        Some(json!("MARKETING")),
    );
    for _ in 0..3 {
        send(&sim, &marketing).await;
    }
    let pending: Vec<u32> = sim.pending_receipts().iter().map(|r| r.result).collect();
    assert_eq!(pending, [0, 0, 256]);
}

#[tokio::test]
async fn a_failing_receiver_is_retried_through_the_relay() {
    let receiver = receiver().await;
    receiver.answers.lock().unwrap().push_back(500);
    let sim = start_receipts(
        ReceiptConfig::new("r1", &receiver.url)
            .signed("u", SECRET)
            .as_default(),
    )
    .await;
    sim.set_receipt_settings(harmony_sim::ReceiptSettings {
        delay: Duration::from_secs(3600),
        retry_backoff: Duration::from_millis(10),
        ..sim.receipt_settings()
    });
    send(&sim, &message(&["t1"])).await;
    sim.flush_receipts().await;
    let posts = seen(&receiver);
    assert_eq!(posts.len(), 2);
    let nonces: Vec<String> = posts
        .iter()
        .map(|p| {
            verify(
                p.signature.as_deref().unwrap(),
                &STANDARD.decode(SECRET).unwrap(),
                "u",
            )
            .1
        })
        .collect();
    assert_ne!(nonces[0], nonces[1], "a fresh nonce each attempt");
    let outcomes: Vec<ReceiptOutcome> = sim.receipt_log().iter().map(|p| p.outcome).collect();
    assert_eq!(
        outcomes,
        [ReceiptOutcome::Retrying, ReceiptOutcome::Delivered]
    );
    assert_eq!(sim.receipt_log()[0].status, 500);
}
