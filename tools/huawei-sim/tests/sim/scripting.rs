//! Scripted answers: the codes the simulator never decides itself (§4.3).

use std::time::Duration;

use huawei_sim::{error_action, oauth_error_action, send_path, CallAction, TOKEN_PATH};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn scripted_codes_get_the_http_status_of_their_code_and_no_side_effects() {
    let sim = start().await;
    let path = send_path(APP);
    for (code, status) in [
        ("80100004", 400),
        ("80100016", 400),
        ("80100017", 400),
        ("80200005", 401),
        ("80600003", 400),
        ("81000001", 500),
        ("80100002", 400),
    ] {
        sim.script_next(&path, error_action(code, "scripted"));
        let (got, answer) = send(&sim, &message(&["t1"])).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{answer}"
        );
        assert_eq!(answer["msg"], "scripted");
        assert!(answer["requestId"].is_string());
    }
    assert!(sim.deliveries().is_empty());
    assert_eq!(code(&sim, &message(&["t1"])).await, "80000000");
}

#[tokio::test]
async fn the_kits_actions_and_oauth_errors_can_be_scripted() {
    let sim = start().await;
    let path = send_path(APP);
    sim.script_next(&path, CallAction::HttpStatus(503));
    sim.script_next(&path, CallAction::Garbage);
    sim.script_next(
        &path,
        CallAction::Body(json!({"code": "80000000", "msg": "Success", "requestId": "1"})),
    );
    sim.script_next(&path, CallAction::Delay(Duration::from_millis(20)));
    assert_eq!(send(&sim, &message(&["t1"])).await.0, 503);
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!(status, 200);
    assert!(answer.as_str().unwrap().contains("<html>"));
    assert_eq!(send(&sim, &message(&["t1"])).await.1["requestId"], "1");
    assert!(sim.deliveries().is_empty());
    assert_eq!(send(&sim, &message(&["t1"])).await.1["code"], "80000000");
    assert_eq!(sim.deliveries().len(), 1, "a delay still delivers");

    sim.script_next(TOKEN_PATH, oauth_error_action(500, 1203, 11001, "busy"));
    let (status, answer) = token_call(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(
        answer,
        json!({"error": 1203, "sub_error": 11001, "error_description": "busy"})
    );
    access_token(&sim, APP, SECRET).await;
}

#[tokio::test]
async fn the_control_route_reads_huaweis_actions() {
    let sim = start().await;
    let path = send_path(APP);
    for action in [
        json!({"error": {"code": "80100016", "msg": "sensitive"}}),
        json!({"error": {"code": "80300002", "http_status": 403}}),
        json!({"oauth_error": {"error": 1101, "error_description": "x"}}),
        json!({"body": {"code": "80000000"}}),
        json!({"http_status": 502}),
    ] {
        let (status, answer) = control(
            &sim,
            "script",
            Some(json!({"path": path, "next": true, "action": action})),
        )
        .await;
        assert_eq!(status, 200, "{action}: {answer}");
    }
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!(
        (status, answer["code"].as_str(), answer["msg"].as_str()),
        (400, Some("80100016"), Some("sensitive"))
    );
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!((status, answer["msg"].as_str()), (403, Some("")));
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!((status, answer["error"].as_i64()), (400, Some(1101)));
    assert_eq!(
        send(&sim, &message(&["t1"])).await.1,
        json!({"code": "80000000"})
    );
    assert_eq!(send(&sim, &message(&["t1"])).await.0, 502);
    for bad in [
        json!({"error": {"code": 80100016}}),
        json!({"error": {"code": "1", "extra": 1}}),
        json!({"error": {"code": "1", "http_status": 42}}),
        json!({"oauth_error": {"error": "x"}}),
        json!({"nope": 1}),
        json!({"body": 1, "error": {}}),
    ] {
        let (status, _) = control(
            &sim,
            "script",
            Some(json!({"path": path, "next": true, "action": bad})),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }
}
