//! The push deadline is hard: no vivo call starts after it, calls in flight
//! end by it, calls still queued answer failed saying so, and the function
//! answers before its Lambda timeout.

use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test]
async fn sixty_slow_single_sends_end_by_the_deadline_and_none_starts_late() {
    let (mut env, _app) = setup("deadline").await;
    // vivo answers every send in 4 s, within the call timeout.
    let mut cfg = config(env.store.table(), &env.sim.base_url());
    cfg.vendor_timeout = Duration::from_secs(5);
    cfg.push_deadline = Duration::from_secs(6);
    env.ctx = testkit::context(env.store.clone(), &cfg);
    let users = env.seed_users(60, "u", 1).await;
    let deadline = env.ctx.push_deadline;
    env.sim.script_always(
        "/message/send",
        Some(CallAction::Delay(Duration::from_secs(4))),
    );
    let start_ms = now_ms();
    let started = Instant::now();
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi", "ttl_seconds": 60})).await;
    let took = started.elapsed();
    assert_eq!(s, 200, "{r}");
    assert!(
        took < deadline + Duration::from_secs(2),
        "answered after {took:?}"
    );
    let sends = env.sim.requests_to("/message/send");
    let latest = sends.iter().map(|q| q.received_ms).max().unwrap();
    assert!(
        latest <= start_ms + deadline.as_millis() as i64,
        "a call started {} ms after the deadline",
        latest - start_ms - deadline.as_millis() as i64
    );
    let results = r["results"].as_array().unwrap();
    assert_eq!(results.len(), 60);
    let sent = results.iter().filter(|x| x["status"] == "sent").count();
    let failed: Vec<&Value> = results.iter().filter(|x| x["status"] == "failed").collect();
    assert_eq!(sent + failed.len(), 60, "{r}");
    assert_eq!(
        sent, cfg.push_concurrency,
        "the first wave answered in 4 s, before the 6 s deadline"
    );
    assert!(
        sends.len() < 60,
        "queued calls never went out: {}",
        sends.len()
    );
    for f in &failed {
        let d = f["detail"].as_str().unwrap();
        assert!(d.contains("deadline"), "{d}");
    }
    assert!(
        failed.iter().any(|f| f["detail"]
            .as_str()
            .unwrap()
            .contains("before the vivo call could start")),
        "calls still queued say the deadline passed before they started"
    );
    assert_eq!(live_tokens(&env, "u-00059").await.len(), 1, "bindings kept");
}

/// PushDeadlineMs (at its default and its maximum) plus what a push does
/// after it, plus a margin, fits in the function's timeout.
#[test]
fn the_template_deadline_leaves_room_before_the_lambda_timeout() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let function = &doc["Resources"]["PushDispatchFunction"]["Properties"];
    let timeout_s = function["Timeout"]
        .as_u64()
        .or_else(|| doc["Globals"]["Function"]["Timeout"].as_u64())
        .expect("a timeout");
    match &function["Environment"]["Variables"]["PUSH_DEADLINE_MS"] {
        serde_yaml::Value::Tagged(t) => {
            assert_eq!(
                (t.tag.to_string().as_str(), t.value.as_str()),
                ("!Ref", Some("PushDeadlineMs"))
            )
        }
        other => panic!("PUSH_DEADLINE_MS is not !Ref PushDeadlineMs: {other:?}"),
    }
    let param = &doc["Parameters"]["PushDeadlineMs"];
    use push_dispatch::service::{AFTER_DEADLINE_BUDGET, CLEANUP_BUDGET, COMPLETION_BUDGET};
    // What follows the deadline fits its budget: the completion (record
    // and statistics, retries and its fallback included) and the cleanup
    // beside the push log, each bounded by its own timeout.
    assert!(
        COMPLETION_BUDGET + CLEANUP_BUDGET <= AFTER_DEADLINE_BUDGET,
        "{COMPLETION_BUDGET:?} + {CLEANUP_BUDGET:?} > {AFTER_DEADLINE_BUDGET:?}"
    );
    // A DynamoDB request is cut at its operation timeout, shorter than
    // what a push keeps after its deadline.
    assert!(offpush::store::dynamo::OPERATION_TIMEOUT < AFTER_DEADLINE_BUDGET);
    assert!(offpush::store::dynamo::ATTEMPT_TIMEOUT <= offpush::store::dynamo::OPERATION_TIMEOUT);
    let budget = AFTER_DEADLINE_BUDGET.as_millis() as u64;
    let margin = 1000;
    // The REST API answers 504 at 29 s whatever the function does: the
    // push's answer must leave before it, and the function may not run
    // longer than the gateway waits.
    let gateway_ms = 29_000;
    assert!(timeout_s * 1000 <= gateway_ms, "Timeout {timeout_s} s");
    for key in ["Default", "MaxValue"] {
        let ms = param[key].as_u64().unwrap();
        assert!(
            ms + budget + margin <= gateway_ms.min(timeout_s * 1000),
            "PushDeadlineMs {key} {ms} + {budget} ms after it + {margin} ms margin exceeds the REST API's 29 s or the {timeout_s} s timeout"
        );
    }
}

/// A 1000-user push whose TTL is under vivo's list minimum goes device by
/// device: with vivo answering each send in 200 ms, the calls vivo's rate
/// allows per push (32 in flight) finish it inside the deadline, where 8
/// in flight took 1000 / 8 x 200 ms = 25 s and could not.
#[tokio::test]
async fn a_thousand_single_sends_to_a_slow_vivo_finish_inside_the_deadline() {
    let (mut env, _app) = setup("deadline-1000").await;
    let mut cfg = config(env.store.table(), &env.sim.base_url());
    cfg.push_concurrency = 64;
    cfg.push_deadline = Duration::from_secs(20);
    cfg.vendor_timeout = Duration::from_secs(5);
    env.ctx = testkit::context(env.store.clone(), &cfg);
    let users = env.seed_users(1000, "u", 1).await;
    env.sim.script_always(
        "/message/send",
        Some(CallAction::Delay(Duration::from_millis(200))),
    );
    let started = Instant::now();
    let (s, r) = push(
        &env,
        &json!({"to": users, "desc": "hi", "ttl_seconds": 600}),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(s, 200);
    assert_eq!(r["summary"]["sent"], 1000, "{}", r["summary"]);
    assert!(took < cfg.push_deadline, "took {took:?}");
    let sends = env.sim.requests_to("/message/send");
    assert_eq!(sends.len(), 1000, "one send a device");
    let most = sends
        .iter()
        .map(|a| {
            sends
                .iter()
                .filter(|b| b.received_ms <= a.received_ms && a.received_ms < b.answered_ms)
                .count()
        })
        .max()
        .unwrap();
    assert!(
        most <= offpush_vivo::LIMITS.in_flight,
        "{most} in flight at once"
    );
    println!("1000 single sends at 200 ms: {took:?}, at most {most} in flight");
}
