//! Scripted answers: Push Kit errors, bodies and the kit's kinds.

use std::time::Duration;

use harmony_sim::{error_action, error_action_with_status, send_path, CallAction};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn error_action_scripts_any_code_with_its_http_status() {
    let sim = start().await;
    let path = send_path(PROJECT);
    sim.script_next(&path, error_action("81000001", "Inner Error"));
    sim.script_next(
        &path,
        error_action("80100022", "Anti-Spam: image not verify"),
    );
    sim.script_next(
        &path,
        error_action_with_status("80300029", "slow down", 429),
    );
    let mut answers = Vec::new();
    for _ in 0..4 {
        let (status, answer) = send(&sim, &message(&["t1"])).await;
        answers.push((status, code_of(&answer), answer["msg"].clone()));
    }
    assert_eq!(
        answers,
        [
            (500, "81000001".to_owned(), json!("Inner Error")),
            (
                400,
                "80100022".to_owned(),
                json!("Anti-Spam: image not verify")
            ),
            (429, "80300029".to_owned(), json!("slow down")),
            (200, "80000000".to_owned(), json!("Success")),
        ]
    );
    assert_eq!(
        sim.deliveries().len(),
        1,
        "scripted answers deliver nothing"
    );
    assert_eq!(sim.requests_to(&path).len(), 4);
}

#[tokio::test]
async fn bodies_statuses_garbage_and_delays_can_be_scripted() {
    let sim = start().await;
    let path = send_path(PROJECT);
    sim.script_next(&path, CallAction::Body(json!({"anything": 1})));
    sim.script_next(&path, CallAction::HttpStatus(502));
    sim.script_next(&path, CallAction::Garbage);
    sim.script_next(&path, CallAction::Delay(Duration::from_millis(20)));
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!((status, answer), (200, json!({"anything": 1})));
    let (status, _) = send(&sim, &message(&["t1"])).await;
    assert_eq!(status, 502);
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!(status, 200);
    assert!(answer.is_string(), "not JSON: {answer}");
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!((status, code_of(&answer)), (200, "80000000".to_owned()));
    assert_eq!(sim.deliveries().len(), 1, "a delay still delivers");
    // Sticky until cleared.
    sim.script_always(&path, Some(error_action("81000001", "")));
    assert_eq!(code(&sim, &message(&["t1"])).await, "81000001");
    assert_eq!(code(&sim, &message(&["t1"])).await, "81000001");
    sim.script_always(&path, None);
    assert_eq!(code(&sim, &message(&["t1"])).await, "80000000");
}

#[tokio::test]
async fn the_script_control_route_reads_push_kit_errors() {
    let sim = start().await;
    let path = send_path(PROJECT);
    let (status, _) = control(
        &sim,
        "script",
        Some(json!({"path": path, "next": true, "action": {"error": {"code": "80300008", "msg": "too big", "http_status": 413}}})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!((status, code_of(&answer)), (413, "80300008".to_owned()));
    assert_eq!(answer["msg"], "too big");
    for action in [
        json!({"error": {"msg": "no code"}}),
        json!({"error": {"code": 1}}),
        json!({"error": {"code": "1", "other": 1}}),
        json!({"error": {"code": "1", "http_status": 42}}),
        json!({"unknown": 1}),
        json!({"body": 1, "garbage": true}),
    ] {
        let (status, _) = control(
            &sim,
            "script",
            Some(json!({"path": path, "next": true, "action": action})),
        )
        .await;
        assert_eq!(status, 400, "{action}");
    }
    let (status, _) = control(
        &sim,
        "script",
        Some(json!({"path": path, "action": {"body": {"x": 1}}})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!(answer, json!({"x": 1}));
}
