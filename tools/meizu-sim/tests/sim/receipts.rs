//! Receipts (§15.6): which are queued, and the POST in both shapes.

use std::time::Duration;

use axum::http::HeaderMap;
use meizu_sim::{
    PushIdVerdict, ReceiptBody, ReceiptOutcome, ReceiptSettings, Settings, SimApp, SimClock,
    Simulator,
};
use serde_json::{json, Value};
use sim_kit::testing::ReceiptReceiver;

use crate::common::*;

#[derive(Clone, Debug)]
struct Received {
    content_type: String,
    body: String,
}

impl Received {
    /// The form's fields (a form body).
    fn fields(&self) -> Vec<(String, String)> {
        assert!(
            self.content_type
                .starts_with("application/x-www-form-urlencoded"),
            "{}",
            self.content_type
        );
        sim_kit::form::decode(self.body.as_bytes()).unwrap()
    }

    /// `cb`, from the form's field or the JSON body.
    fn cb(&self) -> Value {
        if self.content_type.starts_with("application/json") {
            return serde_json::from_str(&self.body).unwrap();
        }
        let fields = self.fields();
        let cb = fields.iter().find(|(n, _)| n == "cb").unwrap();
        serde_json::from_str(&cb.1).unwrap()
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

async fn receiver() -> ReceiptReceiver<Received> {
    ReceiptReceiver::start("/meizu/receipts", record).await
}

fn seen(receiver: &ReceiptReceiver<Received>) -> Vec<Received> {
    receiver.seen.lock().unwrap().clone()
}

/// A simulator whose receipts wait for a flush, with quick retries.
async fn start_held() -> Simulator {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(1_717_214_400_000));
    sim.set_receipt_settings(ReceiptSettings {
        delay: Duration::from_secs(60),
        retry_backoff: Duration::from_millis(10),
        ..ReceiptSettings::default()
    });
    sim
}

fn with_callback(url: &str, extra: Value) -> Value {
    let mut m = message_json();
    m["extra"] = extra;
    m["extra"]["callback"] = json!(url);
    m
}

async fn msg_id(sim: &Simulator, push_ids: &str, message: &Value) -> String {
    let answer = send(sim, &form_for(push_ids, message)).await;
    assert_eq!(answer["code"], "200", "{answer}");
    answer["msgId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn delivered_targets_are_posted_as_cb_keyed_by_msg_id_and_type() {
    let receiver = receiver().await;
    let sim = start_held().await;
    sim.add_app(SimApp {
        access_token: "token-123".to_owned(),
        ..app()
    });
    sim.set_push_id("gone", PushIdVerdict::NotSubscribed);
    let message = with_callback(&receiver.url, json!({"callback.param": "push-1"}));
    let id = msg_id(&sim, "r1,gone,r2", &message).await;
    let pending = sim.pending_receipts();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].receipt_type, 1);
    assert_eq!(pending[1].push_id, "r2");
    sim.flush_receipts().await;
    let posts = seen(&receiver);
    assert_eq!(posts.len(), 1);
    let fields = posts[0].fields();
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["cb", "access_token"]);
    assert_eq!(fields[1].1, "token-123");
    assert_eq!(
        posts[0].cb(),
        json!({ format!("{id}-1"): {"param": "push-1", "type": 1, "targets": ["r1", "r2"]} })
    );
    let log = sim.receipt_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, ReceiptOutcome::Delivered);
    assert_eq!(log[0].body["access_token"], "token-123");
}

#[tokio::test]
async fn the_callback_type_chooses_the_automatic_receipts() {
    let receiver = receiver().await;
    let sim = start_held().await;
    for (types, queued) in [
        (json!("1"), 1),
        (json!(3), 1),
        (json!(2), 0),
        (Value::Null, 1),
    ] {
        sim.reset();
        let message = with_callback(&receiver.url, json!({"callback.type": types}));
        msg_id(&sim, "r1", &message).await;
        assert_eq!(sim.pending_receipts().len(), queued, "{types}");
    }
    // No callback, no receipts.
    msg_id(&sim, "r1", &message_json()).await;
    assert_eq!(sim.pending_receipts().len(), 1);
}

#[tokio::test]
async fn receipts_of_any_type_are_sent_on_command() {
    let receiver = receiver().await;
    let sim = start_held().await;
    let message = with_callback(&receiver.url, json!({"callback.type": 2}));
    let id = msg_id(&sim, "r1,r2", &message).await;
    assert_eq!(sim.send_receipt(&id, 2, Some(&["r2"])).unwrap(), 1);
    assert_eq!(sim.send_receipt(&id, 7, None).unwrap(), 2);
    sim.flush_receipts().await;
    let posts = seen(&receiver);
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].cb(),
        json!({
            format!("{id}-2"): {"param": "", "type": 2, "targets": ["r2"]},
            format!("{id}-7"): {"param": "", "type": 7, "targets": ["r1", "r2"]},
        })
    );
    assert!(sim.send_receipt("nope", 2, None).is_err());
    assert!(sim.send_receipt(&id, 0, None).is_err());
    let plain = msg_id(&sim, "r1", &message_json()).await;
    let error = sim.send_receipt(&plain, 2, None).unwrap_err();
    assert!(
        error.to_string().contains("without extra.callback"),
        "{error}"
    );
}

#[tokio::test]
async fn many_targets_are_split_across_posts() {
    let receiver = receiver().await;
    let sim = start_held().await;
    let mut settings = sim.settings();
    settings.receipt_max_targets = 2;
    sim.set_settings(settings);
    let message = with_callback(&receiver.url, json!({}));
    let id = msg_id(&sim, "a,b,c,d,e", &message).await;
    sim.flush_receipts().await;
    let targets: Vec<Value> = seen(&receiver)
        .iter()
        .map(|post| post.cb()[format!("{id}-1")]["targets"].clone())
        .collect();
    assert_eq!(
        targets,
        [json!(["a", "b"]), json!(["c", "d"]), json!(["e"])]
    );
    assert_eq!(Settings::default().receipt_max_targets, 1000);
}

#[tokio::test]
async fn the_json_reading_posts_cb_itself() {
    let receiver = receiver().await;
    let sim = start_held().await;
    let mut settings = sim.settings();
    settings.receipt_body = ReceiptBody::Json;
    sim.set_settings(settings);
    let id = msg_id(&sim, "r1", &with_callback(&receiver.url, json!({}))).await;
    sim.flush_receipts().await;
    let posts = seen(&receiver);
    assert!(posts[0].content_type.starts_with("application/json"));
    assert_eq!(
        posts[0].cb(),
        json!({ format!("{id}-1"): {"param": "", "type": 1, "targets": ["r1"]} })
    );
}

#[tokio::test]
async fn receipts_go_after_the_delay_without_a_flush() {
    let receiver = receiver().await;
    let sim = start().await;
    sim.set_receipt_delay(Duration::from_millis(20));
    msg_id(&sim, "r1", &with_callback(&receiver.url, json!({}))).await;
    for _ in 0..200 {
        if !seen(&receiver).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen(&receiver).len(), 1);
}

#[tokio::test]
async fn a_refused_receipt_is_retried() {
    let receiver = receiver().await;
    receiver.answers.lock().unwrap().push_back(500);
    let sim = start_held().await;
    msg_id(&sim, "r1", &with_callback(&receiver.url, json!({}))).await;
    sim.flush_receipts().await;
    let outcomes: Vec<ReceiptOutcome> = sim.receipt_log().iter().map(|p| p.outcome).collect();
    assert_eq!(
        outcomes,
        [ReceiptOutcome::Retrying, ReceiptOutcome::Delivered]
    );
    assert_eq!(seen(&receiver).len(), 2);
}
