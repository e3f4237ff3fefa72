//! Receipts (§2.7): which events are queued, and the JSON array POSTed.

use std::time::Duration;

use axum::http::HeaderMap;
use oppo_sim::{
    Quotas, ReceiptOutcome, ReceiptSettings, RegIdVerdict, Settings, SimClock, Simulator,
    BROADCAST_PATH, SAVE_MESSAGE_PATH, UNICAST_BATCH_PATH,
};
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
        Receiver(ReceiptReceiver::start("/oppo/receipts", record).await)
    }

    /// Every POST's body; each must have been sent as JSON.
    fn bodies(&self) -> Vec<Value> {
        let seen = self.seen.lock().unwrap().clone();
        seen.into_iter()
            .map(|(content_type, body)| {
                assert_eq!(content_type, "application/json");
                assert!(body.is_array(), "{body}");
                body
            })
            .collect()
    }

    /// Every item of every POST.
    fn items(&self) -> Vec<Value> {
        self.bodies()
            .into_iter()
            .flat_map(|b| b.as_array().unwrap().clone())
            .collect()
    }
}

/// A simulator at noon, receipts held back until flushed, quick retries.
async fn start_held() -> Simulator {
    let sim = start_at_noon().await;
    sim.set_receipt_settings(ReceiptSettings {
        delay: Duration::from_secs(60),
        retry_backoff: Duration::from_millis(10),
        ..ReceiptSettings::default()
    });
    sim
}

fn with_callback(mut m: Value, receiver: &Receiver, param: Option<&str>) -> Value {
    m["notification"]["call_back_url"] = json!(receiver.url);
    if let Some(param) = param {
        m["notification"]["call_back_parameter"] = json!(param);
    }
    m
}

async fn message_id(sim: &Simulator, token: &str, m: &Value) -> String {
    let answer = unicast(sim, token, m).await;
    assert_eq!(answer["code"], 0, "{answer}");
    answer["data"]["messageId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_delivered_unicast_posts_a_push_arrive_item() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    let token = token(&sim).await;
    let id = message_id(
        &sim,
        &token,
        &with_callback(message("r1"), &receiver, Some("push-1")),
    )
    .await;
    let pending = sim.pending_receipts();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].event_type, "push_arrive");
    assert!(receiver.bodies().is_empty(), "held until the flush");
    sim.flush_receipts().await;
    assert_eq!(
        receiver.bodies(),
        [json!([{
            "messageId": id, "appId": APP_ID, "taskId": id, "registrationIds": "r1",
            "eventTime": NOON, "param": "push-1", "eventType": "push_arrive",
        }])]
    );
    let log = sim.receipt_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, ReceiptOutcome::Delivered);
    assert_eq!(log[0].body, receiver.bodies()[0]);
}

#[tokio::test]
async fn no_call_back_url_no_receipts_and_aliases_get_none() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    let token = token(&sim).await;
    let id = message_id(&sim, &token, &message("r1")).await;
    let mut alias = with_callback(message("alice"), &receiver, None);
    alias["target_type"] = json!(5);
    let alias_id = message_id(&sim, &token, &alias).await;
    assert!(sim.pending_receipts().is_empty());
    assert!(sim.send_receipt(&id, "push_arrive", None).is_err());
    assert!(sim.send_receipt(&alias_id, "push_arrive", None).is_err());
    assert!(sim.send_receipt("unknown", "push_arrive", None).is_err());
}

#[tokio::test]
async fn batch_items_are_merged_into_one_post_with_regid_invalid_events() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    let token = token(&sim).await;
    let messages = json!([
        with_callback(message("r1"), &receiver, Some("p")),
        with_callback(message("dead"), &receiver, Some("p")),
        message("r2"),
    ]);
    let answer = call(
        &sim,
        UNICAST_BATCH_PATH,
        &form(&[("auth_token", &token), ("messages", &messages.to_string())]),
    )
    .await;
    let ids: Vec<&str> = answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["messageId"].as_str().unwrap())
        .collect();
    sim.flush_receipts().await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1, "one POST per URL");
    let items = bodies[0].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (
            items[0]["messageId"].as_str(),
            items[0]["eventType"].as_str()
        ),
        (Some(ids[0]), Some("push_arrive"))
    );
    assert_eq!(items[1]["messageId"], ids[1]);
    assert_eq!(items[1]["taskId"], ids[1]);
    assert_eq!(items[1]["eventType"], "regid_invalid");
    assert_eq!(items[1]["registrationIds"], "dead");
}

#[tokio::test]
async fn broadcast_receipts_carry_the_task_and_join_registration_ids() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    let token = token(&sim).await;
    let saved = call(
        &sim,
        SAVE_MESSAGE_PATH,
        &form(&[
            ("auth_token", &token),
            ("title", "T"),
            ("content", "C"),
            ("call_back_url", &receiver.url),
            ("call_back_parameter", "campaign-7"),
        ]),
    )
    .await;
    let id = saved["data"]["message_id"].as_str().unwrap().to_owned();
    let answer = call(
        &sim,
        BROADCAST_PATH,
        &form(&[
            ("auth_token", &token),
            ("message_id", &id),
            ("target_type", "2"),
            ("target_value", "r1;dead;r2;r3"),
        ]),
    )
    .await;
    let task = answer["data"]["task_id"].as_str().unwrap().to_owned();
    sim.flush_receipts().await;
    assert_eq!(
        receiver.items(),
        [
            json!({"messageId": id, "appId": APP_ID, "taskId": task, "registrationIds": "r1,r2,r3",
                   "eventTime": NOON, "param": "campaign-7", "eventType": "push_arrive"}),
            json!({"messageId": id, "appId": APP_ID, "taskId": task, "registrationIds": "dead",
                   "eventTime": NOON, "param": "campaign-7", "eventType": "regid_invalid"}),
        ]
    );

    // At most `receipt_targets` ids per item: more go in further POSTs.
    sim.set_settings(Settings {
        receipt_targets: 2,
        ..Settings::default()
    })
    .unwrap();
    call(
        &sim,
        BROADCAST_PATH,
        &form(&[
            ("auth_token", &token),
            ("message_id", &id),
            ("target_type", "2"),
            ("target_value", "a;b;c;d;e"),
        ]),
    )
    .await;
    sim.flush_receipts().await;
    let later: Vec<Value> = receiver.bodies()[1..].to_vec();
    // The POSTs of one flush go concurrently: compare them sorted.
    let mut ids: Vec<Vec<&str>> = later
        .iter()
        .map(|b| {
            b.as_array()
                .unwrap()
                .iter()
                .map(|i| i["registrationIds"].as_str().unwrap())
                .collect()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, [vec!["a,b"], vec!["c,d"], vec!["e"]]);

    // Aliases and tags get no receipts.
    for (kind, targets) in [("5", "alice;bob"), ("6", "vip")] {
        call(
            &sim,
            BROADCAST_PATH,
            &form(&[
                ("auth_token", &token),
                ("message_id", &id),
                ("target_type", kind),
                ("target_value", targets),
            ]),
        )
        .await;
    }
    assert!(sim.pending_receipts().is_empty());
}

#[tokio::test]
async fn the_per_device_cap_sends_user_daily_limit() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    sim.set_quotas(
        APP_KEY,
        Quotas {
            per_device_public: Some(1),
            ..Quotas::default()
        },
    );
    let token = token(&sim).await;
    message_id(&sim, &token, &with_callback(message("r1"), &receiver, None)).await;
    sim.set_clock(SimClock::Fixed(NOON + 5));
    let second = message_id(&sim, &token, &with_callback(message("r1"), &receiver, None)).await;
    sim.flush_receipts().await;
    let items = receiver.items();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["eventType"], "push_arrive");
    assert_eq!(items[0]["param"], "", "no call_back_parameter");
    assert_eq!(items[1]["eventType"], "user_daily_limit");
    assert_eq!(items[1]["messageId"], json!(second));
    assert_eq!(items[1]["eventTime"], NOON + 5);
}

#[tokio::test]
async fn any_event_is_sent_on_command() {
    let receiver = Receiver::start().await;
    let sim = start_held().await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    let token = token(&sim).await;
    let messages = json!([with_callback(message("r1"), &receiver, Some("x"))]);
    let answer = call(
        &sim,
        UNICAST_BATCH_PATH,
        &form(&[("auth_token", &token), ("messages", &messages.to_string())]),
    )
    .await;
    let id = answer["data"][0]["messageId"].as_str().unwrap().to_owned();
    sim.flush_receipts().await;
    assert_eq!(sim.send_receipt(&id, "user_daily_limit", None), Ok(1));
    assert_eq!(sim.send_receipt(&id, "regid_invalid", Some(&["r1"])), Ok(1));
    assert_eq!(
        sim.send_receipt(&id, "regid_invalid", None),
        Ok(0),
        "no invalid target"
    );
    let (status, answer) = control(
        &sim,
        "receipts",
        Some(json!({"id": id, "event_type": "push_click", "targets": ["r1", "r9"]})),
    )
    .await;
    assert_eq!((status, answer), (200, json!({"ok": true, "queued": 2})));
    for bad in [
        json!({"id": "nope", "event_type": "push_arrive"}),
        json!({"id": id, "event_type": ""}),
        json!({"id": id, "event_type": "push_arrive", "targets": [""]}),
        json!({"id": id}),
    ] {
        assert_eq!(
            control(&sim, "receipts", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    sim.flush_receipts().await;
    let events: Vec<(String, String)> = receiver.items()[1..]
        .iter()
        .map(|i| {
            (
                i["eventType"].as_str().unwrap().to_owned(),
                i["registrationIds"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("user_daily_limit".into(), "r1".into()),
            ("regid_invalid".into(), "r1".into()),
            ("push_click".into(), "r1,r9".into()),
        ]
    );
}

#[tokio::test]
async fn failed_posts_are_retried() {
    let receiver = Receiver::start().await;
    receiver.answers.lock().unwrap().extend([500, 503]);
    let sim = start_held().await;
    let token = token(&sim).await;
    message_id(&sim, &token, &with_callback(message("r1"), &receiver, None)).await;
    sim.flush_receipts().await;
    let outcomes: Vec<(u16, ReceiptOutcome)> = sim
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
    assert_eq!(receiver.bodies().len(), 3);
    assert_eq!(receiver.bodies()[0], receiver.bodies()[2]);
}
