//! A push's completion under what DynamoDB does under load (the emulator's
//! test front: transaction conflicts, per-item throttling, answers lost
//! after the write committed, latency) and a receipt's count after a
//! failed write: nothing lost, nothing counted twice.

use crate::common::*;
use offpush::domain::ReceiptSecret;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The statuses an answer's summary counts, as statistics name them.
fn counted() -> [&'static str; 6] {
    offpush::domain::DeliveryStatus::ALL.map(|s| s.as_str())
}

#[tokio::test]
async fn concurrent_pushes_of_one_app_keep_every_record_and_count_exactly_under_load() {
    let (env, _app) = setup_on_front("completion-load").await;
    let users = env.seed_users(8, "u", 1).await;
    // What DynamoDB does to one app's concurrent pushes: transactions that
    // share an item cancel each other while in flight (30 ms each here), an
    // item takes a bounded write rate, and some answers are lost after the
    // write committed (the SDK sends it again).
    front::configure(
        env.store.table(),
        json!({
            "conflicts": true,
            "latency_ms": 2,
            "transaction_latency_ms": 30,
            "write_rate": 25,
            "lose_probability": 0.1,
            "lose_ops": ["TransactWriteItems"],
            "idempotency": true,
        }),
    );
    let pushes = 48;
    let answers: Vec<(String, u16, Value)> = futures::future::join_all((0..pushes).map(|i| {
        let env = &env;
        let to: Vec<&String> = users.iter().skip(i % 8).take(1 + i % 2).collect();
        async move {
            let id = format!("load-{i}");
            let (s, r) = push(env, &json!({"to": to, "desc": "hi", "request_id": id})).await;
            (id, s, r)
        }
    }))
    .await;
    let front_seen = front::stats(env.store.table());
    front::reset(env.store.table());
    eprintln!("front: {front_seen}");
    // The front did its part: answers were lost and their transactions
    // sent again under their token (answered without applying twice), and
    // transactions met each other in flight.
    let count = |name: &str| front_seen[name].as_u64().unwrap_or(0);
    assert!(count("lost_responses") > 0, "{front_seen}");
    assert!(count("idempotent_replays") > 0, "{front_seen}");
    assert!(count("conflicts") > 0, "{front_seen}");
    let mut sums: BTreeMap<&str, u64> = BTreeMap::new();
    let mut recipients = 0;
    for (id, s, r) in &answers {
        assert_eq!(*s, 200, "{id}: {r}");
        for c in counted() {
            *sums.entry(c).or_default() += r["summary"][c].as_u64().unwrap();
        }
        recipients += r["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["user_id"].as_str().unwrap())
            .collect::<std::collections::HashSet<_>>()
            .len() as u64;
        // Every push answered 200 has its record, with its answer.
        let (s, rec) = admin_get(&env, &format!("/v1/pushes/{id}")).await;
        assert_eq!(s, 200, "{id}: the record is kept: {rec}");
        assert_eq!(rec["state"], "done", "{rec}");
        for c in counted() {
            assert_eq!(rec["summary"][c], r["summary"][c], "{id} {c}");
        }
    }
    // The statistics equal the answers exactly: nothing dropped after
    // conflicts or throttling, nothing added twice after a lost answer.
    for query in [
        format!("from={}&to={}", today(), today()),
        format!("from={}&to={}&certificate_id=1", today(), today()),
    ] {
        let day = day_stats(&env, &query).await;
        assert_eq!(day["pushes"], pushes as u64, "{query}: {day}");
        assert_eq!(day["recipients"], recipients, "{query}: {day}");
        for c in counted() {
            assert_eq!(day[c], sums[c], "{query} {c}: {day}; front: {front_seen}");
        }
    }
    assert!(sums["sent"] > 0);
}

/// Turns receipts on for certificate 1; the receipt URL's secret.
async fn enable_receipts(env: &TestEnv) -> ReceiptSecret {
    env.enable_vivo_receipts(1).await
}

#[tokio::test]
async fn a_receipt_whose_count_failed_is_counted_by_the_vendors_redelivery_and_only_once() {
    let (env, app) = setup("receipt-redelivery").await;
    let secret = enable_receipts(&env).await;
    bind(&env, &app, "alice", "regid-a", None).await;
    bind(&env, &app, "bob", "regid-b", None).await;
    let (s, r) = push(
        &env,
        &json!({"to": ["alice", "bob"], "desc": "all", "request_id": "m-1"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let saved = env.sim.requests_to("/message/saveListPayload");
    let param = saved[0].body["extra"]["callback.param"]
        .as_str()
        .unwrap()
        .to_string();
    let receipt = json!({"task-1": {"param": param, "targets": "regid-a,regid-b"}}).to_string();
    let post = |body: String| {
        let env = &env;
        let secret = secret.expose().to_string();
        async move {
            read(
                push_dispatch::handle(
                    &env.ctx,
                    request_raw("POST", &format!("/v1/receipts/vivo/{secret}"), None, &body),
                )
                .await,
            )
        }
    };
    // The statistics write fails: the vendor gets a 5xx and will send the
    // receipt again; nothing of it may be kept as counted.
    break_counters(&env, &["delivered", "c1_delivered"], true).await;
    let (s, ack) = post(receipt.clone()).await;
    assert_eq!(s, 500, "{ack}");
    break_counters(&env, &["delivered", "c1_delivered"], false).await;
    let (_, rec) = admin_get(&env, "/v1/pushes/m-1").await;
    assert_eq!(
        rec["summary"]["delivered"], 0,
        "no mark without its count: {rec}"
    );
    // The redelivery counts both devices; a third delivery counts nothing.
    let (s, ack) = post(receipt.clone()).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(ack["delivered"], 2, "{ack}");
    let (s, ack) = post(receipt).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(ack["delivered"], 0, "{ack}");
    let (_, rec) = admin_get(&env, "/v1/pushes/m-1").await;
    assert_eq!(rec["summary"]["delivered"], 2, "{rec}");
    for query in [
        format!("from={}&to={}", today(), today()),
        format!("from={}&to={}&certificate_id=1", today(), today()),
    ] {
        let day = day_stats(&env, &query).await;
        assert_eq!(day["delivered"], 2, "{query}: {day}");
    }
}

#[tokio::test]
async fn a_push_whose_statistics_cannot_be_written_keeps_its_record_and_counts_later() {
    let (env, app) = setup("completion-fallback").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    bind(&env, &app, "bob", "regid-b", None).await;
    break_counters(&env, &["sent"], true).await;
    let body = json!({"to": ["alice", "bob"], "desc": "hi", "request_id": "kept-1"});
    let (s, r) = push(&env, &body).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["summary"]["sent"], 2, "{r}");
    // The vendor accepted both devices: the record says so, and a repeat
    // answers it (never "failed" for devices the vendor took).
    let (s, rec) = admin_get(&env, "/v1/pushes/kept-1").await;
    assert_eq!(s, 200, "{rec}");
    assert_eq!(rec["state"], "done", "{rec}");
    assert_eq!(rec["summary"]["sent"], 2, "{rec}");
    let (s, again) = push(&env, &body).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["summary"], r["summary"], "{again}");
    // The statistics were kept due. While the rows still refuse the
    // addition, a read answers them as they are (not 500); once they take
    // writes again, the next read adds what was due, once, app-wide and
    // for the certificate.
    let all = format!("from={}&to={}", today(), today());
    let cert = format!("{all}&certificate_id=1");
    let day = day_stats(&env, &all).await;
    assert_eq!(day["pushes"], 0, "{day}");
    break_counters(&env, &["sent"], false).await;
    for _ in 0..2 {
        let day = day_stats(&env, &all).await;
        assert_eq!(
            (day["pushes"].as_u64(), day["sent"].as_u64()),
            (Some(1), Some(2)),
            "{day}"
        );
        let day = day_stats(&env, &cert).await;
        assert_eq!(
            (day["pushes"].as_u64(), day["sent"].as_u64()),
            (Some(1), Some(2)),
            "{day}"
        );
    }
    assert_eq!(
        env.sim.requests_to("/message/send").len()
            + env.sim.requests_to("/message/pushToList").len(),
        1,
        "sent once"
    );
}

#[tokio::test]
async fn a_claim_whose_answer_was_lost_is_recognised_as_the_pushs_own() {
    let (env, app) = setup_on_front("claim-lost").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    // The claim's PutItem commits and its answer is lost: the SDK sends it
    // again and its condition fails on the claim it wrote itself.
    front::configure(
        env.store.table(),
        json!({"lose_every": 1, "lose_limit": 1, "lose_ops": ["PutItem"]}),
    );
    let (s, r) = push(
        &env,
        &json!({"to": ["alice"], "desc": "hi", "request_id": "lost-claim"}),
    )
    .await;
    let seen = front::stats(env.store.table());
    front::reset(env.store.table());
    assert_eq!(seen["lost_responses"], 1, "{seen}");
    assert_eq!(s, 200, "not 409 for its own claim: {r}");
    assert_eq!(status_of(&r, "alice"), "sent");
    assert_eq!(env.sim.requests_to("/message/send").len(), 1);
}
