//! Scripted answers: every APNs reason on command, and the kit's actions.

use apns_sim::{error_action, reason_status, unregistered_action, REASONS};
use serde_json::json;
use sim_kit::CallAction;

use crate::common::*;

#[tokio::test]
async fn every_reason_is_answered_on_command_with_its_status() {
    let ctx = ctx().await;
    let path = path(&token(1));
    for (reason, status) in REASONS {
        ctx.sim.script_next(&path, error_action(status, reason));
        let answer = ctx.send(&ctx.push()).await;
        assert_eq!(answer.status, status, "{reason}");
        assert_eq!(answer.body, json!({ "reason": reason }));
        assert_eq!(answer.content_type.as_deref(), Some("application/json"));
        assert!(answer.apns_id.is_some());
    }
    assert!(
        ctx.sim.deliveries().is_empty(),
        "scripted answers deliver nothing"
    );
    ctx.accepted(&ctx.push()).await;
}

#[tokio::test]
async fn the_spec_s_reasons_have_the_spec_s_statuses() {
    for (reason, status) in [
        ("BadDeviceToken", 400),
        ("DeviceTokenNotForTopic", 400),
        ("BadCollapseId", 400),
        ("PayloadEmpty", 400),
        ("MissingTopic", 400),
        ("ExpiredProviderToken", 403),
        ("InvalidProviderToken", 403),
        ("BadCertificate", 403),
        ("MethodNotAllowed", 405),
        ("Unregistered", 410),
        ("PayloadTooLarge", 413),
        ("TooManyRequests", 429),
        ("TooManyProviderTokenUpdates", 429),
        ("InternalServerError", 500),
        ("ServiceUnavailable", 503),
        ("Shutdown", 503),
    ] {
        assert_eq!(reason_status(reason), Some(status), "{reason}");
    }
    assert_eq!(reason_status("NoSuchReason"), None);
}

#[tokio::test]
async fn a_scripted_unregistered_carries_the_timestamp() {
    let ctx = ctx().await;
    ctx.sim
        .script_next(&path(&token(1)), unregistered_action(1_234_567_890_123));
    let answer = ctx.send(&ctx.push()).await;
    assert_eq!(answer.status, 410);
    assert_eq!(
        answer.body,
        json!({"reason": "Unregistered", "timestamp": 1_234_567_890_123i64})
    );
}

#[tokio::test]
async fn the_kit_s_actions_work_on_a_device_path() {
    let ctx = ctx().await;
    let path = path(&token(1));
    ctx.sim.script_next(&path, CallAction::HttpStatus(503));
    ctx.sim.script_next(&path, CallAction::Garbage);
    ctx.sim
        .script_next(&path, CallAction::Body(json!({"any": 1})));
    let first = ctx.send(&ctx.push()).await;
    assert_eq!(first.status, 503);
    assert_eq!(first.text, "Service Unavailable");
    let second = ctx.send(&ctx.push()).await;
    assert_eq!(second.status, 200);
    assert!(second.text.contains("<html>"));
    let third = ctx.send(&ctx.push()).await;
    assert_eq!(third.body, json!({"any": 1}));
    ctx.accepted(&ctx.push()).await;
    // A path is a device token: another device is not scripted.
    ctx.sim
        .script_always(&path, Some(error_action(500, "InternalServerError")));
    assert_eq!(ctx.reason(&ctx.push()).await, "InternalServerError");
    assert_eq!(ctx.reason(&ctx.push()).await, "InternalServerError");
    ctx.accepted(&ctx.push().to(&token(2))).await;
    ctx.sim.script_always(&path, None);
    ctx.accepted(&ctx.push()).await;
}

#[tokio::test]
async fn errors_are_scripted_through_the_control_endpoint() {
    let ctx = ctx().await;
    let path = path(&token(1));
    let script = |action: serde_json::Value| json!({"path": path, "next": true, "action": action});
    for (action, status, body) in [
        (
            json!({"error": {"reason": "Shutdown"}}),
            503,
            json!({"reason": "Shutdown"}),
        ),
        (
            json!({"error": {"reason": "Unregistered", "timestamp": 42}}),
            410,
            json!({"reason": "Unregistered", "timestamp": 42}),
        ),
        (
            json!({"error": {"reason": "Custom", "status": 418}}),
            418,
            json!({"reason": "Custom"}),
        ),
        (json!({"body": {"x": 1}}), 200, json!({"x": 1})),
    ] {
        let (code, answer) = control(&ctx.sim, "script", Some(script(action))).await;
        assert_eq!((code, answer), (200, json!({"ok": true})));
        let sent = ctx.send(&ctx.push()).await;
        assert_eq!((sent.status, sent.body), (status, body));
    }
    for bad in [
        json!({"error": {"reason": "Custom"}}),
        json!({"error": {"reason": 5}}),
        json!({"error": {"reason": "Shutdown", "status": 42}}),
        json!({"error": {"reason": "Shutdown", "extra": 1}}),
        json!({"error": {"reason": "Shutdown"}, "body": {}}),
        json!({"nonsense": 1}),
    ] {
        let (code, answer) = control(&ctx.sim, "script", Some(script(bad.clone()))).await;
        assert_eq!(code, 400, "{bad}");
        assert!(answer["error"].is_string());
    }
}
