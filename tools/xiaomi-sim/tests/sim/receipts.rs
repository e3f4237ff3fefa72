//! Receipts: which are queued, and the POST in both shapes (§1.8).

use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::{json, Value};
use sim_kit::testing::ReceiptReceiver;
use xiaomi_sim::{
    ReceiptBody, ReceiptOutcome, ReceiptSettings, RegIdVerdict, Settings, SimClock, Simulator,
    MAX_RECEIPT_TARGETS,
};

use crate::common::*;

/// 2024-06-01 12:00 UTC+8.
const NOON: i64 = 1_717_214_400_000;

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
    body: String,
}

impl Received {
    /// The JSON object keyed by msg id, from a form's `data` or a JSON body.
    fn data(&self) -> Value {
        if self
            .content_type
            .starts_with("application/x-www-form-urlencoded")
        {
            let fields = sim_kit::form::decode(self.body.as_bytes()).unwrap();
            assert_eq!(fields.len(), 1, "{fields:?}");
            assert_eq!(fields[0].0, "data");
            serde_json::from_str(&fields[0].1).unwrap()
        } else {
            assert!(self.content_type.starts_with("application/json"));
            serde_json::from_str(&self.body).unwrap()
        }
    }
}

fn record(headers: &HeaderMap, body: &[u8]) -> Received {
    Received {
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        body: String::from_utf8_lossy(body).into_owned(),
    }
}

impl Receiver {
    async fn start() -> Receiver {
        Receiver(ReceiptReceiver::start("/mi/receipts", record).await)
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    fn data(&self) -> Vec<Value> {
        self.seen().iter().map(Received::data).collect()
    }
}

/// A simulator at noon, receipts held back until flushed, quick retries.
async fn start_held() -> Simulator {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_receipt_settings(ReceiptSettings {
        delay: Duration::from_secs(60),
        retry_backoff: Duration::from_millis(10),
        ..ReceiptSettings::default()
    });
    sim
}

fn with_callback(form: Form, receiver: &Receiver) -> Form {
    with(
        with(form, "extra.callback", &receiver.url),
        "extra.callback.param",
        "push-1",
    )
}

/// Sends; the msg id.
async fn msg_id(sim: &Simulator, form: &Form) -> String {
    let answer = send(sim, form).await;
    assert_eq!(answer["code"], 0, "{answer}");
    answer["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn delivered_targets_are_posted_as_a_form_field_data_keyed_by_msg_id() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    let form = with(
        with_callback(message("r1,r2"), &receiver),
        "extra.jobkey",
        "chat-1",
    );
    let id = msg_id(&sim, &form).await;
    let pending = sim.pending_receipts();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].receipt_type, 1);
    assert_eq!(pending[1].reg_id, "r2");
    assert!(receiver.seen().is_empty());

    sim.flush_receipts().await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].content_type, "application/x-www-form-urlencoded");
    assert!(seen[0].body.starts_with("data=%7B"), "{}", seen[0].body);
    assert_eq!(
        seen[0].data(),
        json!({ id.clone(): {
            "param": "push-1", "type": 1, "targets": "r1,r2", "jobkey": "chat-1",
            "barStatus": "Enable", "timestamp": NOON,
        }})
    );
    let log = sim.receipt_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, ReceiptOutcome::Delivered);
    let logged: Value = serde_json::from_str(log[0].body["data"].as_str().unwrap()).unwrap();
    assert_eq!(logged, seen[0].data());
}

#[tokio::test]
async fn the_raw_json_reading_is_a_setting() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    sim.set_settings(Settings {
        receipt_body: ReceiptBody::Json,
        ..Settings::default()
    });
    let id = msg_id(
        &sim,
        &without(
            with_callback(message("r1"), &receiver),
            "extra.callback.param",
        ),
    )
    .await;
    sim.flush_receipts().await;
    let seen = receiver.seen();
    assert_eq!(seen[0].content_type, "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&seen[0].body).unwrap(),
        json!({ id.clone(): {
            "param": "", "type": 1, "targets": "r1", "jobkey": "",
            "barStatus": "Enable", "timestamp": NOON,
        }})
    );
    assert_eq!(sim.receipt_log()[0].body[&id]["targets"], "r1");

    // And back to the form over HTTP.
    let (status, _) = control(&sim, "settings", Some(json!({"receipt_body": "form"}))).await;
    assert_eq!(status, 200);
    let (_, settings) = control(&sim, "settings", None).await;
    assert_eq!(
        settings,
        json!({"bad_regids_key": "bad_regids", "receipt_body": "form"})
    );
    msg_id(&sim, &with_callback(message("r2"), &receiver)).await;
    sim.flush_receipts().await;
    assert!(receiver.seen()[1]
        .content_type
        .starts_with("application/x-www-form-urlencoded"));
}

#[tokio::test]
async fn callback_type_chooses_delivered_and_invalid_receipts() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    let base = with_callback(message("ok-1,dead,ok-2"), &receiver);
    // Default 3: delivered only.
    let default = msg_id(&sim, &base).await;
    // 19 = 1 + 2 + 16: both.
    let both = msg_id(&sim, &with(base.clone(), "extra.callback.type", "19")).await;
    // 16 alone: invalid only; 2 alone: nothing on send.
    let invalid_only = msg_id(&sim, &with(base.clone(), "extra.callback.type", "16")).await;
    msg_id(&sim, &with(base.clone(), "extra.callback.type", "2")).await;
    // No callback URL: nothing.
    msg_id(
        &sim,
        &with(message("ok-1,dead"), "extra.callback.type", "17"),
    )
    .await;
    // Every target invalid: 20301, no msg id, nothing.
    assert_eq!(
        code(
            &sim,
            &with(
                with_callback(message("dead"), &receiver),
                "extra.callback.type",
                "17"
            )
        )
        .await,
        20301
    );

    sim.flush_receipts().await;
    let data = receiver.data();
    // both's two types cannot share a body keyed by msg id: two POSTs.
    assert_eq!(data.len(), 2, "{data:?}");
    let entries: Vec<(String, i64, String)> = data
        .iter()
        .flat_map(|body| {
            body.as_object()
                .unwrap()
                .iter()
                .map(|(id, e)| {
                    (
                        id.clone(),
                        e["type"].as_i64().unwrap(),
                        e["targets"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut expected = vec![
        (default.clone(), 1, "ok-1,ok-2".to_owned()),
        (both.clone(), 1, "ok-1,ok-2".to_owned()),
        (both.clone(), 16, "dead".to_owned()),
        (invalid_only.clone(), 16, "dead".to_owned()),
    ];
    let mut got = entries.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    let first_both = data.iter().position(|b| b.get(&both).is_some()).unwrap();
    assert_eq!(data[first_both][&both]["type"], 1, "delivered first");
    let dead_entry = &data[1][&both];
    assert_eq!(dead_entry["barStatus"], "Unknown");
}

#[tokio::test]
async fn receipts_on_command_for_a_message() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    sim.set_quota(SECRET, Some(50));
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    let id = msg_id(&sim, &with_callback(message("a,b,dead"), &receiver)).await;
    sim.flush_receipts().await;

    assert_eq!(sim.send_receipt(&id, 128, None), Ok(2));
    assert_eq!(sim.send_receipt(&id, 1024, Some(&["b"])), Ok(1));
    let (status, answer) = control(&sim, "receipts", Some(json!({"msg_id": id, "type": 16}))).await;
    assert_eq!((status, answer), (200, json!({"ok": true, "queued": 1})));
    let (status, _) = control(
        &sim,
        "receipts",
        Some(json!({"msg_id": id, "type": 2, "targets": ["a"], "extra": {"note": "x"}})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sim.pending_receipts().len(), 5);
    let (_, pending) = control(&sim, "receipt-pending", None).await;
    assert_eq!(pending[0]["type"], 128);
    assert_eq!(pending[0]["msg_id"], id);

    sim.flush_receipts().await;
    let data = receiver.data();
    // One POST for the send, then one per type (the body is keyed by msg id).
    assert_eq!(data.len(), 5, "{data:?}");
    assert_eq!(
        data[1][&id],
        json!({"param": "push-1", "type": 128, "targets": "a,b", "jobkey": "",
               "barStatus": "Unknown", "timestamp": NOON,
               "extra": {"ack": "2", "quota": "50"}})
    );
    assert_eq!(data[2][&id]["type"], 1024);
    assert_eq!(data[2][&id]["targets"], "b");
    assert_eq!(data[3][&id]["type"], 16);
    assert_eq!(data[3][&id]["targets"], "dead");
    assert_eq!(data[4][&id]["type"], 2);
    assert_eq!(data[4][&id]["barStatus"], "Enable");
    assert_eq!(data[4][&id]["extra"], json!({"note": "x"}));

    let plain = msg_id(&sim, &message("a")).await;
    assert!(
        sim.send_receipt(&plain, 1, None).is_err(),
        "no callback URL"
    );
    assert!(sim.send_receipt("nope", 1, None).is_err());
    assert!(sim.send_receipt(&id, 0, None).is_err());
    for bad in [
        json!({"msg_id": "nope", "type": 1}),
        json!({"msg_id": plain, "type": 1}),
        json!({"msg_id": id, "type": -1}),
        json!({"msg_id": id}),
        json!({"msg_id": id, "type": 1, "targets": [""]}),
    ] {
        assert_eq!(
            control(&sim, "receipts", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn large_messages_are_reported_in_batches_of_100_targets() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    let targets = reg_ids("r", 250);
    let id = msg_id(&sim, &with_callback(message(&targets.join(",")), &receiver)).await;
    sim.flush_receipts().await;
    let data = receiver.data();
    assert_eq!(data.len(), 3);
    let mut all = Vec::new();
    for body in &data {
        let targets = body[&id]["targets"].as_str().unwrap();
        assert!(targets.split(',').count() <= MAX_RECEIPT_TARGETS);
        all.extend(targets.split(',').map(str::to_owned));
    }
    assert_eq!(all, targets);
}

#[tokio::test]
async fn failed_posts_are_retried_and_receipts_go_without_a_flush_when_the_delay_is_zero() {
    let receiver = Receiver::start().await;
    receiver.answers.lock().unwrap().extend([500, 503]);
    let sim = start_held().await;
    sim.set_receipt_delay(Duration::ZERO);
    msg_id(&sim, &with_callback(message("r1"), &receiver)).await;
    for _ in 0..500 {
        if sim.receipt_log().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let outcomes: Vec<_> = sim
        .receipt_log()
        .iter()
        .map(|p| (p.status, p.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            (500, ReceiptOutcome::Retrying),
            (503, ReceiptOutcome::Retrying),
            (200, ReceiptOutcome::Delivered)
        ]
    );
    assert_eq!(receiver.seen().len(), 3);
}

#[tokio::test]
async fn shutdown_sends_what_is_queued() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    let id = msg_id(&sim, &with_callback(message("r1"), &receiver)).await;
    tokio::time::timeout(Duration::from_secs(60), sim.shutdown())
        .await
        .expect("shutdown returns");
    assert_eq!(receiver.data()[0][&id]["targets"], "r1");
}
