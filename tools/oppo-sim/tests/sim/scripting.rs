//! Scripted answers (the kit's, on OPPO's paths) and `error_action`.

use std::time::Duration;

use oppo_sim::{error_action, CallAction, RegIdVerdict, AUTH_PATH, UNICAST_PATH};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn scripted_bodies_and_errors_have_no_side_effects() {
    let sim = start().await;
    let token = token(&sim).await;
    let body = json!({"code": -2, "message": "Server Flow Control"});
    sim.script_next(UNICAST_PATH, CallAction::Body(body.clone()));
    sim.script_next(UNICAST_PATH, error_action(13, "App Call Limited"));
    assert_eq!(unicast(&sim, &token, &message("r1")).await, body);
    assert_eq!(
        unicast(&sim, &token, &message("r1")).await,
        json!({"code": 13, "message": "App Call Limited"})
    );
    assert!(sim.deliveries().is_empty());
    assert_eq!(
        unicast(&sim, &token, &message("r1")).await["code"],
        0,
        "the queue is used up"
    );

    // Codes only answered when scripted, over HTTP too.
    for code in [
        -1, -2, 13, 20, 21, 22, 23, 24, 26, 27, 28, 30, 32, 34, 51, 59,
    ] {
        let action = json!({"path": AUTH_PATH, "next": true, "action": {"error": {"code": code, "message": "scripted"}}});
        assert_eq!(control(&sim, "script", Some(action)).await.0, 200);
        let answer = call(&sim, AUTH_PATH, &auth_form(APP_KEY, sim.now_ms(), MASTER)).await;
        assert_eq!(answer, json!({"code": code, "message": "scripted"}));
    }
    assert_eq!(
        sim.tokens().len(),
        1,
        "scripted auth answers issue no token"
    );
    for bad in [
        json!({"path": AUTH_PATH, "action": {"error": {"code": "13"}}}),
        json!({"path": AUTH_PATH, "action": {"error": {"code": 13, "reason": "x"}}}),
        json!({"path": AUTH_PATH, "action": {"result": 13}}),
        json!({"path": AUTH_PATH, "action": {"body": {}, "garbage": true}}),
    ] {
        assert_eq!(
            control(&sim, "script", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn statuses_garbage_sticky_actions_and_delays() {
    let sim = start().await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    let token = token(&sim).await;
    sim.script_always(UNICAST_PATH, Some(CallAction::HttpStatus(503)));
    sim.script_next(UNICAST_PATH, CallAction::Garbage);
    let (status, answer) = post_with(
        &sim,
        UNICAST_PATH,
        &[],
        &unicast_form(&token, &message("r1")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(answer.is_string(), "not JSON: {answer}");
    for _ in 0..2 {
        let (status, answer) = post_with(
            &sim,
            UNICAST_PATH,
            &[],
            &unicast_form(&token, &message("r1")),
        )
        .await;
        assert_eq!((status, answer), (503, json!("Service Unavailable")));
    }
    sim.script_always(UNICAST_PATH, None);
    sim.script_next(UNICAST_PATH, CallAction::Delay(Duration::from_millis(30)));
    assert_eq!(
        unicast(&sim, &token, &message("dead")).await["code"],
        10000,
        "checks still run"
    );
    sim.script_next(UNICAST_PATH, CallAction::Delay(Duration::from_millis(30)));
    assert_eq!(unicast(&sim, &token, &message("r1")).await["code"], 0);
    assert_eq!(sim.deliveries().len(), 1);
    let statuses: Vec<u16> = sim
        .requests_to(UNICAST_PATH)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [200, 503, 503, 200, 200]);
    // Forms are recorded as objects of their fields.
    let recorded = &sim.requests_to(UNICAST_PATH)[0];
    assert_eq!(recorded.body["auth_token"], json!(token));
}
