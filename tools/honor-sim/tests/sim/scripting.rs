//! Scripted answers: any error body in either shape, OAuth2 errors, HTTP
//! statuses, garbage, delays.

use std::time::Duration;

use honor_sim::{
    error_action, error_action_with_status, oauth_error_action, send_path, CallAction, HonorAction,
    Settings, TOKEN_PATH,
};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn error_action_renders_either_shape_with_its_status() {
    let sim = start().await;
    let token = token(&sim).await;
    let path = send_path(APP_ID);
    sim.script_next(&path, error_action(500, "Internal error"));
    sim.script_next(&path, error_action("81000001", "System inner error"));
    sim.script_next(&path, error_action("80100016", "sensitive content"));
    sim.script_next(&path, error_action(404, "token not found"));
    sim.script_next(&path, error_action_with_status(429, "busy", 200));
    let expect = [
        (500, json!({"code": 500, "message": "Internal error"})),
        (500, json!("81000001")),
        (400, json!("80100016")),
        (404, json!({"code": 404, "message": "token not found"})),
        (200, json!({"code": 429, "message": "busy"})),
    ];
    for (status, body) in expect {
        let (got, answer) = send(&sim, &token, &message(&["t1"])).await;
        assert_eq!(got, status, "{answer}");
        if body.is_string() {
            assert_eq!(answer["code"], body);
            assert!(answer["msg"].is_string() && answer["requestId"].is_string());
        } else {
            assert_eq!(answer, body);
        }
    }
    assert!(
        sim.deliveries().is_empty(),
        "scripted answers deliver nothing"
    );
    assert_eq!(code(&sim, &token, &message(&["t1"])).await, 200);

    // With errors_http_200 the status follows the setting.
    sim.set_settings(Settings {
        errors_http_200: true,
        ..Settings::default()
    })
    .unwrap();
    sim.script_next(&path, error_action(401, "expired"));
    assert_eq!(send(&sim, &token, &message(&["t1"])).await.0, 200);
}

#[tokio::test]
async fn the_token_endpoint_can_be_scripted() {
    let sim = start().await;
    sim.script_next(
        TOKEN_PATH,
        oauth_error_action(503, "temporarily_unavailable", "try later"),
    );
    sim.script_next(TOKEN_PATH, CallAction::HttpStatus(502));
    sim.script_next(TOKEN_PATH, CallAction::Garbage);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
    ];
    let (status, answer) = token_call(&sim, TOKEN_PATH, &form).await;
    assert_eq!(
        (status, answer),
        (
            503,
            json!({"error": "temporarily_unavailable", "error_description": "try later"})
        )
    );
    assert_eq!(token_call(&sim, TOKEN_PATH, &form).await.0, 502);
    let (status, answer) = token_call(&sim, TOKEN_PATH, &form).await;
    assert_eq!(status, 200);
    assert!(answer.as_str().unwrap().contains("<html>"));
    assert!(sim.access_tokens().is_empty());
    assert_eq!(token_call(&sim, TOKEN_PATH, &form).await.0, 200);
}

#[tokio::test]
async fn scripts_over_http_and_sticky_actions() {
    let sim = start().await;
    let token = token(&sim).await;
    let path = send_path(APP_ID);
    for action in [
        json!({"error": {"code": "80200003", "message": "expired", "status": 401}}),
        json!({"error": {"code": 403}}),
        json!({"body": {"anything": true}}),
        json!({"delay_ms": 50}),
    ] {
        let (status, _) = control(
            &sim,
            "script",
            Some(json!({"path": path, "next": true, "action": action})),
        )
        .await;
        assert_eq!(status, 200, "{action}");
    }
    let (status, answer) = send(&sim, &token, &message(&["t1"])).await;
    assert_eq!((status, &answer["code"]), (401, &json!("80200003")));
    let (status, answer) = send(&sim, &token, &message(&["t1"])).await;
    assert_eq!((status, answer), (403, json!({"code": 403, "message": ""})));
    assert_eq!(
        send(&sim, &token, &message(&["t1"])).await.1,
        json!({"anything": true})
    );
    // A delay still runs the checks and delivers.
    assert_eq!(code(&sim, &token, &message(&["t1"])).await, 200);
    assert_eq!(sim.deliveries().len(), 1);

    sim.script_always(&path, Some(CallAction::HttpStatus(503)));
    for _ in 0..2 {
        assert_eq!(send(&sim, &token, &message(&["t1"])).await.0, 503);
    }
    sim.script_always(&path, None);
    sim.script_next(&path, CallAction::Delay(Duration::from_millis(1)));
    assert_eq!(code(&sim, &token, &message(&["t1"])).await, 200);

    for bad in [
        json!({"error": {"code": 1.5}}),
        json!({"error": {"code": 400, "extra": 1}}),
        json!({"error": {"code": 400, "status": 1000}}),
        json!({"oauth_error": {"error": "x"}}),
        json!({"oauth_error": {"status": 400}}),
        json!({"unknown": 1}),
        json!({"body": 1, "error": {"code": 1}}),
    ] {
        let (status, _) = control(
            &sim,
            "script",
            Some(json!({"path": path, "next": true, "action": bad})),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = control(
        &sim,
        "script",
        Some(json!({"path": TOKEN_PATH, "action": {"oauth_error": {"status": 401, "error": "invalid_client"}}})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, answer) = token_call(
        &sim,
        TOKEN_PATH,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!(
        (status, answer),
        (
            401,
            json!({"error": "invalid_client", "error_description": ""})
        )
    );
    assert!(matches!(
        error_action("1", "x"),
        CallAction::Vendor(HonorAction::Error { .. })
    ));
}
