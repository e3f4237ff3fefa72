use std::time::Duration;

use crate::common;
use crate::common::*;
use axum::http::HeaderMap;
use serde_json::{json, Map, Value};
use sim_kit::testing::ReceiptReceiver;
use vivo_sim::{ReceiptOutcome, ReceiptSettings, RegIdVerdict, Simulator, MAX_RECEIPT_TARGETS};

const RECEIPT_ID: &str = "77";

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
    content_type: Option<String>,
    body: Value,
}

fn record(headers: &HeaderMap, body: &[u8]) -> Received {
    Received {
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned())),
    }
}

impl Receiver {
    async fn start() -> Receiver {
        Receiver(ReceiptReceiver::start("/vivo/receipts", record).await)
    }

    fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    fn bodies(&self) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.body.clone())
            .collect()
    }

    /// Waits (up to 20 s, failing after) until at least `n` POSTs arrived.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..1000 {
            let bodies = self.bodies();
            if bodies.len() >= n {
                return bodies;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("expected {n} receipt POSTs, got {:?}", self.bodies());
    }
}

/// A simulator whose app has [`RECEIPT_ID`] registered to `receiver`, with
/// receipts held back (60 s) until a test flushes them, and quick retries.
async fn start_with(receiver: &Receiver) -> Simulator {
    let sim = start().await;
    sim.set_receipt_url(APP_ID, RECEIPT_ID, &receiver.url)
        .unwrap();
    sim.set_receipt_settings(ReceiptSettings {
        delay: Duration::from_secs(60),
        retry_backoff: Duration::from_millis(10),
        ..ReceiptSettings::default()
    });
    sim
}

fn receipt_extra(param: &str) -> Value {
    json!({"callback.id": RECEIPT_ID, "callback.param": param})
}

/// Sends [`message`] to `reg_id` with `extra`; the taskId (it must be accepted).
async fn send_with(sim: &Simulator, token: &str, reg_id: &str, extra: Value) -> String {
    let body = with(message(reg_id), "extra", extra);
    let (_, answer) = post(sim, SEND, Some(token), &body).await;
    assert_eq!(answer["result"], 0, "{answer}");
    answer["taskId"].as_str().unwrap().to_owned()
}

fn push_body(task_id: &str, reg_ids: &[String], push_mode: i64) -> Value {
    json!({"appId": APP_ID, "regIds": reg_ids, "taskId": task_id,
           "requestId": "list-1", "pushMode": push_mode})
}

/// taskId -> (param, targets) over all bodies, targets concatenated in
/// arrival order; every entry must be in the legacy shape.
fn by_task(bodies: &[Value]) -> Map<String, Value> {
    let mut tasks = Map::new();
    for body in bodies {
        let object = body.as_object().expect("a receipt body is an object");
        for (task_id, entry) in object {
            let fields = entry.as_object().expect("an entry is an object");
            assert_eq!(fields.len(), 2, "{entry}");
            let param = fields["param"].as_str().expect("param string");
            let targets = fields["targets"].as_str().expect("targets string");
            let merged = tasks
                .entry(task_id.clone())
                .or_insert_with(|| json!({"param": param, "targets": []}));
            assert_eq!(merged["param"], param, "{task_id}");
            let list = merged["targets"].as_array_mut().unwrap();
            list.extend(targets.split(',').map(|t| json!(t)));
        }
    }
    tasks
}

fn reg_ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

#[tokio::test]
async fn receipts_are_posted_in_the_legacy_shape_one_entry_per_task_id() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let token = token(&sim).await;

    let a = send_with(&sim, &token, "reg-a", receipt_extra("push-a")).await;
    let b = send_with(&sim, &token, "reg-b", receipt_extra("push-b")).await;
    let c = send_with(&sim, &token, "reg-c", json!({"callback.id": RECEIPT_ID})).await;
    let pending = sim.pending_receipts();
    let queued: Vec<(&str, &str, &str)> = pending
        .iter()
        .map(|p| (p.task_id.as_str(), p.param.as_str(), p.reg_id.as_str()))
        .collect();
    assert_eq!(
        queued,
        [
            (a.as_str(), "push-a", "reg-a"),
            (b.as_str(), "push-b", "reg-b"),
            (c.as_str(), "", "reg-c")
        ]
    );
    assert!(pending.iter().all(|p| p.url == receiver.url));
    assert!(receiver.bodies().is_empty());

    sim.flush_receipts().await;
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0]
        .content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("application/json")));
    let mut expected = Map::new();
    expected.insert(a, json!({"param": "push-a", "targets": "reg-a"}));
    expected.insert(b, json!({"param": "push-b", "targets": "reg-b"}));
    expected.insert(c, json!({"param": "", "targets": "reg-c"}));
    assert_eq!(seen[0].body, Value::Object(expected));
    assert!(sim.pending_receipts().is_empty());

    let log = sim.receipt_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].url, receiver.url);
    assert_eq!(log[0].body, seen[0].body);
    assert_eq!(log[0].status, 200);
    assert_eq!(log[0].attempt, 1);
    assert_eq!(log[0].outcome, ReceiptOutcome::Delivered);
    assert!(!log[0].redelivery);
    assert!(log[0].error.is_none());
    assert!(log[0].sent_ms <= log[0].answered_ms);
}

#[tokio::test]
async fn the_delay_holds_receipts_back_and_batches_what_is_queued_meanwhile() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let token = token(&sim).await;

    let first = send_with(&sim, &token, "reg-1", receipt_extra("one")).await;
    let second = send_with(&sim, &token, "reg-2", receipt_extra("two")).await;
    assert_eq!(sim.pending_receipts().len(), 2);
    assert!(sim.receipt_log().is_empty());
    assert!(receiver.bodies().is_empty());

    // Shortening the delay lets the background task send the held receipts.
    let (status, _) = control(&sim, "receipt-settings", Some(json!({"delay_ms": 0}))).await;
    assert_eq!(status, 200);
    let bodies = receiver.wait_for(1).await;
    let tasks = by_task(&bodies);
    assert_eq!(tasks.len(), 2, "{bodies:?}");
    assert_eq!(bodies.len(), 1, "queued together, sent together");
    assert_eq!(tasks[&first]["targets"], json!(["reg-1"]));
    assert_eq!(tasks[&second]["targets"], json!(["reg-2"]));

    // With no delay, a later delivery goes out without a flush.
    let third = send_with(&sim, &token, "reg-3", receipt_extra("three")).await;
    let bodies = receiver.wait_for(2).await;
    assert_eq!(
        bodies[1],
        json!({ third: {"param": "three", "targets": "reg-3"} })
    );
}

#[tokio::test]
async fn list_pushes_report_every_delivered_target_under_the_list_task_id() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let token = token(&sim).await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid { status: 2 });
    sim.set_reg_id("gone", RegIdVerdict::Invalid { status: 3 });

    let payload = with(list_payload(), "extra", receipt_extra("list-ref"));
    let task_id = save(&sim, &token, &payload).await;
    let mut first = reg_ids("a", 148);
    first.insert(10, "dead".to_owned());
    first.insert(20, "gone".to_owned());
    let second = reg_ids("b", 3);
    for chunk in [&first, &second] {
        let (_, answer) = post(&sim, PUSH, Some(&token), &push_body(&task_id, chunk, 0)).await;
        assert_eq!(answer["result"], 0, "{answer}");
    }
    let single = send_with(&sim, &token, "solo", receipt_extra("solo-ref")).await;

    sim.flush_receipts().await;
    let bodies = receiver.bodies();
    // 151 list targets: 100 per POST, so two POSTs; the single push rides
    // in the first.
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    let entries = |body: &Value| body.as_object().unwrap().len();
    assert_eq!((entries(&bodies[0]), entries(&bodies[1])), (2, 1));
    for body in &bodies {
        let targets = body[&task_id]["targets"].as_str().unwrap();
        assert!(targets.split(',').count() <= MAX_RECEIPT_TARGETS);
    }
    let tasks = by_task(&bodies);
    let delivered: Vec<Value> = reg_ids("a", 148)
        .into_iter()
        .chain(second)
        .map(Value::from)
        .collect();
    assert_eq!(tasks[&task_id]["param"], "list-ref");
    assert_eq!(tasks[&task_id]["targets"], Value::Array(delivered));
    assert_eq!(
        tasks[&single],
        json!({"param": "solo-ref", "targets": ["solo"]})
    );
}

#[tokio::test]
async fn receipt_ids_not_registered_for_the_sending_app_send_nothing() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    sim.set_receipt_url(OTHER_APP_ID, "88", &receiver.url)
        .unwrap();
    let token = token(&sim).await;

    for extra in [
        json!({"callback.id": "nope", "callback.param": "x"}),
        // Registered, but for the other app.
        json!({"callback.id": "88", "callback.param": "x"}),
        // callback.id wins over a legacy callback, even unregistered.
        json!({"callback.id": "nope", "callback": receiver.url}),
        json!({"callback.param": "x"}),
        json!({}),
    ] {
        send_with(&sim, &token, "reg", extra).await;
    }
    let (_, answer) = post(&sim, SEND, Some(&token), &without(message("reg"), "extra")).await;
    assert_eq!(answer["result"], 0, "{answer}");
    assert!(sim.pending_receipts().is_empty());

    let registered = send_with(&sim, &token, "reg", receipt_extra("yes")).await;
    sim.flush_receipts().await;
    assert_eq!(
        receiver.bodies(),
        [json!({ registered: {"param": "yes", "targets": "reg"} })]
    );
    assert_eq!(sim.receipt_log().len(), 1);
}

#[tokio::test]
async fn targets_vivo_refuses_are_not_reported_as_delivered() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let token = token(&sim).await;
    sim.add_test_device(APP_ID, "tester");
    sim.set_reg_id("dead", RegIdVerdict::Invalid { status: 1 });

    let test_push = |reg_id: &str| {
        with(
            with(message(reg_id), "extra", receipt_extra("t")),
            "pushMode",
            json!(1),
        )
    };
    let (_, answer) = post(&sim, SEND, Some(&token), &test_push("tester")).await;
    assert_eq!(answer["result"], 0, "{answer}");
    let to_tester = answer["taskId"].as_str().unwrap().to_owned();
    let (_, answer) = post(&sim, SEND, Some(&token), &test_push("phone")).await;
    assert_eq!(answer["result"], 10302, "{answer}");
    let formal_to_dead = with(message("dead"), "extra", receipt_extra("t"));
    let (_, answer) = post(&sim, SEND, Some(&token), &formal_to_dead).await;
    assert_eq!(answer["result"], 10302, "{answer}");

    let payload = with(list_payload(), "extra", receipt_extra("list"));
    let task_id = save(&sim, &token, &payload).await;
    let targets = ["phone", "tester", "dead"].map(str::to_owned);
    let (_, answer) = post(&sim, PUSH, Some(&token), &push_body(&task_id, &targets, 1)).await;
    assert_eq!(answer["result"], 0, "{answer}");

    sim.flush_receipts().await;
    let tasks = by_task(&receiver.bodies());
    let mut expected = Map::new();
    expected.insert(to_tester, json!({"param": "t", "targets": ["tester"]}));
    expected.insert(task_id, json!({"param": "list", "targets": ["tester"]}));
    assert_eq!(tasks, expected);
}

#[tokio::test]
async fn a_legacy_callback_url_serves_formal_single_pushes_only() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let token = token(&sim).await;
    sim.add_test_device(APP_ID, "tester");
    let legacy = json!({"callback": receiver.url, "callback.param": "legacy"});

    let formal = send_with(&sim, &token, "reg", legacy.clone()).await;
    let test_push = with(
        with(message("tester"), "extra", legacy.clone()),
        "pushMode",
        json!(1),
    );
    let (_, answer) = post(&sim, SEND, Some(&token), &test_push).await;
    assert_eq!(answer["result"], 0, "{answer}");
    let task_id = save(&sim, &token, &with(list_payload(), "extra", legacy)).await;
    let targets = ["x", "y"].map(str::to_owned);
    let (_, answer) = post(&sim, PUSH, Some(&token), &push_body(&task_id, &targets, 0)).await;
    assert_eq!(answer["result"], 0, "{answer}");

    sim.flush_receipts().await;
    assert_eq!(
        receiver.bodies(),
        [json!({ formal: {"param": "legacy", "targets": "reg"} })]
    );
}

#[tokio::test]
async fn failed_receipt_posts_are_retried_then_dropped() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let token = token(&sim).await;

    receiver.answer(&[500]);
    let task = send_with(&sim, &token, "reg", receipt_extra("retry")).await;
    sim.flush_receipts().await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(
        bodies[0],
        json!({ task: {"param": "retry", "targets": "reg"} })
    );
    let log = sim.receipt_log();
    let attempts: Vec<_> = log
        .iter()
        .map(|p| (p.status, p.attempt, p.outcome))
        .collect();
    assert_eq!(
        attempts,
        [
            (500, 1, ReceiptOutcome::Retrying),
            (200, 2, ReceiptOutcome::Delivered)
        ]
    );

    // Retries used up: the last attempt is recorded as dropped.
    sim.set_receipt_settings(ReceiptSettings {
        retries: 2,
        ..sim.receipt_settings()
    });
    receiver.answer(&[503, 500, 502]);
    send_with(&sim, &token, "reg", receipt_extra("lost")).await;
    sim.flush_receipts().await;
    assert_eq!(receiver.bodies().len(), 5);
    let log = sim.receipt_log();
    let attempts: Vec<_> = log[2..]
        .iter()
        .map(|p| (p.status, p.attempt, p.outcome))
        .collect();
    assert_eq!(
        attempts,
        [
            (503, 1, ReceiptOutcome::Retrying),
            (500, 2, ReceiptOutcome::Retrying),
            (502, 3, ReceiptOutcome::Dropped)
        ]
    );

    // Nobody listening: no status, an error text, then dropped.
    // Bound, never listened on, held to the end: every connection refused.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let closed_url = format!("http://{}/gone", closed.local_addr().unwrap());
    sim.set_receipt_url(APP_ID, "closed", &closed_url).unwrap();
    sim.set_receipt_settings(ReceiptSettings {
        retries: 1,
        ..sim.receipt_settings()
    });
    send_with(&sim, &token, "reg", json!({"callback.id": "closed"})).await;
    sim.flush_receipts().await;
    let log = sim.receipt_log();
    assert_eq!(log.len(), 7);
    for (post, outcome) in log[5..]
        .iter()
        .zip([ReceiptOutcome::Retrying, ReceiptOutcome::Dropped])
    {
        assert_eq!(post.url, closed_url);
        assert_eq!(post.status, 0);
        assert!(post.error.as_deref().is_some_and(|e| !e.is_empty()));
        assert_eq!(post.outcome, outcome);
    }
    assert_eq!(receiver.bodies().len(), 5);
}

#[tokio::test]
async fn redelivery_sends_every_accepted_receipt_post_twice() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let token = token(&sim).await;
    let (status, _) = control(&sim, "receipt-settings", Some(json!({"redeliver": true}))).await;
    assert_eq!(status, 200);
    assert!(sim.receipt_settings().redeliver);

    let task = send_with(&sim, &token, "reg", receipt_extra("twice")).await;
    sim.flush_receipts().await;
    let expected = json!({ task: {"param": "twice", "targets": "reg"} });
    assert_eq!(receiver.bodies(), [expected.clone(), expected]);
    let log = sim.receipt_log();
    let flags: Vec<_> = log.iter().map(|p| (p.redelivery, p.outcome)).collect();
    assert_eq!(
        flags,
        [
            (false, ReceiptOutcome::Delivered),
            (true, ReceiptOutcome::Delivered)
        ]
    );

    sim.set_receipt_redeliver(false);
    send_with(&sim, &token, "reg", receipt_extra("once")).await;
    sim.flush_receipts().await;
    assert_eq!(receiver.bodies().len(), 3);
}

#[tokio::test]
async fn receipt_control_endpoints_round_trip() {
    let receiver = Receiver::start().await;
    let sim = start().await;
    let token = token(&sim).await;

    let (status, list) = control(&sim, "receipts", None).await;
    assert_eq!((status, list), (200, json!([])));
    for (app_id, id, url) in [
        (APP_ID, "2", "http://127.0.0.1:1/old"),
        (APP_ID, "1", receiver.url.as_str()),
        (OTHER_APP_ID, "1", "https://example.com/r"),
        (APP_ID, "2", "http://127.0.0.1:1/new"),
    ] {
        let body = json!({"app_id": app_id, "receipt_id": id, "url": url});
        assert_eq!(
            control(&sim, "receipts", Some(body)).await,
            (200, json!({"ok": true}))
        );
    }
    let (_, list) = control(&sim, "receipts", None).await;
    assert_eq!(
        list,
        json!([
            {"app_id": APP_ID, "receipt_id": "1", "url": receiver.url},
            {"app_id": APP_ID, "receipt_id": "2", "url": "http://127.0.0.1:1/new"},
            {"app_id": OTHER_APP_ID, "receipt_id": "1", "url": "https://example.com/r"},
        ])
    );
    let remove = json!({"app_id": APP_ID, "receipt_id": "2", "url": null});
    assert_eq!(control(&sim, "receipts", Some(remove)).await.0, 200);
    let ids: Vec<_> = sim
        .receipt_urls()
        .into_iter()
        .map(|r| (r.app_id, r.receipt_id))
        .collect();
    assert_eq!(
        ids,
        [(APP_ID, "1".to_owned()), (OTHER_APP_ID, "1".to_owned())]
    );

    let (_, settings) = control(&sim, "receipt-settings", None).await;
    assert_eq!(
        settings,
        json!({"delay_ms": 1000, "redeliver": false, "retries": 3, "backoff_ms": 200})
    );
    let change = json!({"delay_ms": 60000, "retries": 5});
    assert_eq!(control(&sim, "receipt-settings", Some(change)).await.0, 200);
    let (_, settings) = control(&sim, "receipt-settings", None).await;
    assert_eq!(
        settings,
        json!({"delay_ms": 60000, "redeliver": false, "retries": 5, "backoff_ms": 200})
    );
    assert_eq!(sim.receipt_settings().delay, Duration::from_secs(60));

    let task = send_with(
        &sim,
        &token,
        "reg",
        json!({"callback.id": "1", "callback.param": "c"}),
    )
    .await;
    let (_, pending) = control(&sim, "receipt-pending", None).await;
    assert_eq!(
        pending,
        json!([{"url": receiver.url, "app_id": APP_ID, "task_id": task, "param": "c", "reg_id": "reg"}])
    );
    assert_eq!(
        control(&sim, "receipt-flush", Some(json!({}))).await,
        (200, json!({"ok": true}))
    );
    let (_, log) = control(&sim, "receipt-log", None).await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["url"], receiver.url);
    assert_eq!(
        log[0]["body"],
        json!({ task: {"param": "c", "targets": "reg"} })
    );
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[0]["attempt"], 1);
    assert_eq!(log[0]["redelivery"], false);
    assert_eq!(log[0]["outcome"], "delivered");
    assert!(log[0]["error"].is_null());
    assert!(log[0]["sent_ms"].is_i64() && log[0]["answered_ms"].is_i64());
    assert_eq!(receiver.bodies().len(), 1);

    // reset clears the queue and the log, keeps URLs and settings.
    send_with(&sim, &token, "reg", json!({"callback.id": "1"})).await;
    assert_eq!(control(&sim, "reset", Some(json!({}))).await.0, 200);
    assert!(sim.pending_receipts().is_empty());
    assert!(sim.receipt_log().is_empty());
    assert_eq!(sim.receipt_urls().len(), 2);
    assert_eq!(sim.receipt_settings().retries, 5);
}

#[tokio::test]
async fn bad_receipt_control_input_answers_400() {
    let sim = start().await;
    let long_id = "9".repeat(65);
    for body in [
        json!({"app_id": APP_ID, "receipt_id": "1"}),
        json!({"app_id": APP_ID, "receipt_id": "1", "url": "ftp://example.com/r"}),
        json!({"app_id": APP_ID, "receipt_id": "1", "url": "not a url"}),
        json!({"app_id": APP_ID, "receipt_id": "1", "url": "/relative"}),
        json!({"app_id": APP_ID, "receipt_id": "1", "url": 5}),
        json!({"app_id": APP_ID, "receipt_id": "", "url": "http://h/r"}),
        json!({"app_id": APP_ID, "receipt_id": long_id, "url": "http://h/r"}),
        json!({"app_id": "x", "receipt_id": "1", "url": "http://h/r"}),
        json!({"receipt_id": "1", "url": "http://h/r"}),
        json!({"app_id": APP_ID, "receipt_id": "1", "url": "http://h/r", "extra": 1}),
        json!([APP_ID, "1", "http://h/r"]),
    ] {
        assert_control_refuses(&sim, "receipts", Some(body)).await;
    }
    assert!(sim.receipt_urls().is_empty());

    for body in [
        json!({"delay_ms": -1}),
        json!({"delay_ms": "0"}),
        json!({"delay_ms": 3_600_001}),
        json!({"retries": 11}),
        json!({"backoff_ms": 60_001}),
        json!({"redeliver": "yes"}),
        json!({"delay": 0}),
        json!([]),
    ] {
        assert_control_refuses(&sim, "receipt-settings", Some(body)).await;
    }
    assert_eq!(sim.receipt_settings(), ReceiptSettings::default());

    assert!(sim.set_receipt_url(APP_ID, "", "http://h/r").is_err());
    assert!(sim.set_receipt_url(APP_ID, "1", "mailto:x@y").is_err());
    assert!(sim.receipt_urls().is_empty());
}

#[tokio::test]
async fn extra_callback_id_is_checked_on_send_and_save_list_payload() {
    let sim = start().await;
    let token = token(&sim).await;
    let id_64 = "1".repeat(64);
    let id_65 = "1".repeat(65);
    let param_192 = "p".repeat(192);
    let param_193 = "p".repeat(193);
    let cases = [
        (json!({"callback.id": id_64}), 0),
        (json!({"callback.id": "7", "callback.param": param_192}), 0),
        (json!({"callback.id": id_65}), 10063),
        (json!({"callback.id": 7}), 10063),
        (json!({"callback.id": ["7"]}), 10063),
        (
            json!({"callback.id": "7", "callback.param": param_193}),
            10063,
        ),
        (json!({"callback": "h".repeat(129)}), 10063),
    ];
    for (extra, code) in &cases {
        let send = with(message("reg"), "extra", extra.clone());
        assert_eq!(
            result(&sim, SEND, &token, &send).await,
            *code,
            "send {extra}"
        );
        let save = with(list_payload(), "extra", extra.clone());
        assert_eq!(
            result(&sim, SAVE, &token, &save).await,
            *code,
            "save {extra}"
        );
    }
}

#[tokio::test]
async fn shutdown_sends_queued_receipts_and_does_not_wait_out_retries() {
    let receiver = Receiver::start().await;
    let sim = start_with(&receiver).await;
    let token = token(&sim).await;
    let task = send_with(&sim, &token, "reg", receipt_extra("bye")).await;
    assert!(receiver.bodies().is_empty());
    // A generous guard: shutdown must return at all.
    tokio::time::timeout(Duration::from_secs(60), sim.shutdown())
        .await
        .expect("shutdown returns");
    assert_eq!(
        receiver.bodies(),
        [json!({ task: {"param": "bye", "targets": "reg"} })]
    );

    // A receipt waiting for a retry far in the future is dropped at shutdown.
    let failing = Receiver::start().await;
    let sim = start_with(&failing).await;
    sim.set_receipt_settings(ReceiptSettings {
        delay: Duration::ZERO,
        retries: 10,
        retry_backoff: Duration::from_secs(3600),
        redeliver: false,
    });
    failing.answer(&[500]);
    let token = common::token(&sim).await;
    send_with(&sim, &token, "reg", receipt_extra("never")).await;
    failing.wait_for(1).await;
    while sim.receipt_log().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let observer = sim.clone();
    tokio::time::timeout(Duration::from_secs(60), sim.shutdown())
        .await
        .expect("shutdown returns");
    let log = observer.receipt_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, 500);
    assert_eq!(log[0].outcome, ReceiptOutcome::Dropped);
    // After shutdown, a flush returns at once.
    observer.flush_receipts().await;
}

/// Starts the binary with `args` and `envs`; the child and its base URL.
fn spawn_binary(args: &[&str], envs: &[(&str, &str)]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vivo-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .envs(envs.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("vivo-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, base)
}

#[test]
fn the_binary_registers_receipts_from_flags() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime.block_on(Receiver::start());
    let flag = format!("{APP_ID}:{RECEIPT_ID}={}", receiver.url);
    let app = format!("{APP_ID}:{APP_KEY}:{APP_SECRET}");
    let (mut child, base) = spawn_binary(
        &[
            "--app",
            &app,
            "--receipt",
            &flag,
            "--receipt",
            "20008:b=https://example.com/b?x=1",
            "--receipt-delay-ms",
            "0",
        ],
        &[("VIVO_SIM_RECEIPT_REDELIVER", "true")],
    );
    let (urls, settings, task, bodies) = runtime.block_on(async {
        let client = vivo_sim::http_client();
        let get = |path: &str| {
            let request = client.get(format!("{base}/_sim/{path}"));
            async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let urls = get("receipts").await;
        let settings = get("receipt-settings").await;
        let auth: Value = client
            .post(format!("{base}{AUTH}"))
            .json(&auth_now())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let answer: Value = client
            .post(format!("{base}{SEND}"))
            .header("authToken", auth["authToken"].as_str().unwrap())
            .json(&with(message("reg"), "extra", receipt_extra("bin")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bodies = receiver.wait_for(2).await;
        (urls, settings, answer["taskId"].clone(), bodies)
    });
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());

    assert_eq!(
        urls,
        json!([
            {"app_id": APP_ID, "receipt_id": RECEIPT_ID, "url": receiver.url},
            {"app_id": 20008, "receipt_id": "b", "url": "https://example.com/b?x=1"},
        ])
    );
    assert_eq!(settings["delay_ms"], 0);
    assert_eq!(settings["redeliver"], true);
    let task = task.as_str().expect("taskId").to_owned();
    let expected = json!({ task: {"param": "bin", "targets": "reg"} });
    assert_eq!(bodies, [expected.clone(), expected]);
}

#[test]
fn the_binary_reads_receipts_and_their_delay_from_the_environment() {
    let (mut child, base) = spawn_binary(
        &[],
        &[
            (
                "VIVO_SIM_RECEIPTS",
                "20008:a=http://127.0.0.1:1/a,10004:b=https://example.com/b?x=1",
            ),
            ("VIVO_SIM_RECEIPT_DELAY_MS", "2500"),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (urls, settings) = runtime.block_on(async {
        let client = vivo_sim::http_client();
        let get = |path: &str| {
            let request = client.get(format!("{base}/_sim/{path}"));
            async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        (get("receipts").await, get("receipt-settings").await)
    });
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        urls,
        json!([
            {"app_id": 10004, "receipt_id": "b", "url": "https://example.com/b?x=1"},
            {"app_id": 20008, "receipt_id": "a", "url": "http://127.0.0.1:1/a"},
        ])
    );
    assert_eq!(
        settings,
        json!({"delay_ms": 2500, "redeliver": false, "retries": 3, "backoff_ms": 200})
    );
}

#[test]
fn the_binary_refuses_a_bad_receipt_url() {
    for receipt in ["10004:77=ftp://example.com/r", "10004:77"] {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_vivo-sim"))
            .args(["--listen", "127.0.0.1:0", "--receipt", receipt])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{receipt}");
    }
}
