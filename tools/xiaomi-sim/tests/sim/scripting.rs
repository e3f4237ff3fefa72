//! Scripted answers, delays and abandoned calls (the kit's, on Xiaomi's path).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sim_kit::CallAction;
use xiaomi_sim::{error_action, RegIdVerdict, PATH};

use crate::common::*;

#[tokio::test]
async fn a_scripted_body_is_sent_verbatim_without_side_effects() {
    let sim = start().await;
    let body = json!({"result": "error", "code": 10002, "description": "系统忙", "reason": "busy"});
    sim.script_next(PATH, CallAction::Body(body.clone()));
    sim.script_next(PATH, error_action(10027, "调用太频繁", "too often"));
    assert_eq!(send(&sim, &message("reg-a")).await, body);
    let answer = send(&sim, &message("reg-a")).await;
    assert_eq!(answer["code"], 10027);
    assert_eq!(answer["result"], "error");
    assert_eq!(answer["reason"], "too often");
    assert!(answer["trace_id"].as_str().unwrap().starts_with("Xlm"));
    assert!(sim.deliveries().is_empty());
    assert_eq!(
        code(&sim, &message("reg-a")).await,
        0,
        "the queue is used up"
    );
}

#[tokio::test]
async fn scripted_statuses_garbage_and_a_sticky_action() {
    let sim = start().await;
    sim.script_always(PATH, Some(CallAction::HttpStatus(503)));
    sim.script_next(PATH, CallAction::Garbage);
    let (status, text) = post_as(&sim, SECRET, &message("reg-a")).await;
    assert_eq!(status, 200);
    assert!(text.is_string(), "not JSON: {text}");
    for _ in 0..2 {
        let (status, text) = post_as(&sim, SECRET, &message("reg-a")).await;
        assert_eq!((status, text), (503, json!("Service Unavailable")));
    }
    sim.script_always(PATH, None);
    assert_eq!(code(&sim, &message("reg-a")).await, 0);
    let statuses: Vec<u16> = sim.requests_to(PATH).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 503, 503, 200]);
}

#[tokio::test]
async fn a_delay_answers_normally_afterwards() {
    let sim = start().await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    sim.script_next(PATH, CallAction::Delay(Duration::from_millis(50)));
    let started = Instant::now();
    assert_eq!(
        code(&sim, &message("dead")).await,
        20301,
        "checks still run"
    );
    assert!(started.elapsed() >= Duration::from_millis(50));
    sim.script_next(PATH, CallAction::Delay(Duration::from_millis(50)));
    assert_eq!(code(&sim, &message("alive")).await, 0);
    assert_eq!(sim.deliveries().len(), 1);
}

#[tokio::test]
async fn an_abandoned_call_is_recorded_without_side_effects() {
    let sim = start().await;
    sim.script_next(PATH, CallAction::Delay(Duration::from_secs(5)));
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        post_as(&sim, SECRET, &message("impatient")),
    )
    .await;
    assert!(gave_up.is_err());
    let mut recorded = Vec::new();
    for _ in 0..200 {
        recorded = sim.requests_to(PATH);
        if !recorded.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].status, &recorded[0].response),
        (0, &Value::Null)
    );
    assert_eq!(recorded[0].body["registration_id"], "impatient");
    assert!(recorded[0].answered_ms - recorded[0].received_ms < 5_000);
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn the_script_control_endpoint_takes_xiaomis_forms() {
    let sim = start().await;
    for action in [
        json!({"body": {"result": "ok", "code": 0, "data": {"id": "scripted"}}}),
        json!({"error": {"code": 10031, "description": "app被封禁", "reason": "blacklisted"}}),
        json!({"error": {"code": -1}}),
        json!({"http_status": 502}),
        json!({"delay_ms": 1}),
        json!({"garbage": true}),
    ] {
        let script = json!({"path": PATH, "next": true, "action": action});
        assert_eq!(
            control(&sim, "script", Some(script)).await.0,
            200,
            "{action}"
        );
    }
    assert_eq!(send(&sim, &message("a")).await["data"]["id"], "scripted");
    let blacklisted = send(&sim, &message("a")).await;
    assert_eq!(
        (&blacklisted["code"], &blacklisted["reason"]),
        (&json!(10031), &json!("blacklisted"))
    );
    let unknown = send(&sim, &message("a")).await;
    assert_eq!(
        (&unknown["code"], &unknown["reason"]),
        (&json!(-1), &json!(""))
    );
    assert_eq!(post_as(&sim, SECRET, &message("a")).await.0, 502);
    assert_eq!(code(&sim, &message("a")).await, 0);
    assert!(post_as(&sim, SECRET, &message("a")).await.1.is_string());

    for bad in [
        json!({"path": PATH, "next": true, "action": null}),
        json!({"path": PATH, "action": {"teapot": true}}),
        json!({"path": PATH, "action": {"http_status": 500, "delay_ms": 5}}),
        json!({"path": PATH, "action": {"error": {"reason": "no code"}}}),
        json!({"path": PATH, "action": {"error": {"code": 1, "colour": "red"}}}),
        json!({"path": PATH, "action": {"error": {"code": 1, "reason": 5}}}),
        json!({"path": PATH, "action": {"http_status": 99}}),
        json!({"path": PATH, "action": 5}),
    ] {
        assert_eq!(
            control(&sim, "script", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    let clear = json!({"path": PATH, "action": null});
    assert_eq!(control(&sim, "script", Some(clear)).await.0, 200);
}
