//! The `/_sim/*` control endpoints and scripted answers.

use std::time::Duration;

use meizu_sim::{error_action, CallAction, PATH};
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn apps_are_registered_over_http() {
    let sim = start().await;
    let app =
        json!({"app_id": "100009", "app_secret": "s9", "package_names": ["com.example.nine"]});
    assert_eq!(control(&sim, "apps", Some(app)).await.0, 200);
    let form = signed_with(with(form("a"), "appId", "100009"), "s9");
    assert_eq!(code(&sim, &form).await, "200");
    let (status, answer) = control(&sim, "apps", Some(json!({"app_id": "1"}))).await;
    assert_eq!(status, 400, "{answer}");
    let (status, _) = control(&sim, "apps", Some(json!({"app_id": "", "app_secret": "x"}))).await;
    assert_eq!(status, 400);
    let (status, _) = control(
        &sim,
        "apps",
        Some(json!({"app_id": "1", "app_secret": "x", "bogus": 1})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn push_id_verdicts_are_set_over_http() {
    let sim = start().await;
    for (id, verdict) in [
        ("a", json!("not_subscribed")),
        ("b", json!("illegal")),
        ("c", json!("switch_off")),
        ("d", json!("public_cap")),
        ("e", json!({"code": "519"})),
        ("f", json!("valid")),
    ] {
        let (status, answer) = control(
            &sim,
            "push-ids",
            Some(json!({"push_id": id, "verdict": verdict})),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(
        failures(&sim, "a,b,c,d,e,f").await,
        json!({"110002": ["a"], "110003": ["b"], "110010": ["c"], "110011": ["d"], "519": ["e"]})
    );
    let (status, _) = control(
        &sim,
        "push-ids",
        Some(json!({"push_id": "x", "verdict": "dead"})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn quotas_and_usage_over_http() {
    let sim = start().await;
    let quota = json!({"app_id": APP_ID, "daily_targets": 1});
    assert_eq!(control(&sim, "quota", Some(quota)).await.0, 200);
    assert_eq!(code(&sim, &form("a")).await, "200");
    assert_eq!(code(&sim, &form("a")).await, "110019");
    let (status, usage) = control(&sim, &format!("usage?app_id={APP_ID}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        usage,
        json!({"targets": 1, "messages": 1, "quota": {"qps": null, "daily_targets": 1, "daily_messages": null, "public_per_device": null}})
    );
    assert_eq!(control(&sim, "usage", None).await.0, 400);
    let (status, _) = control(&sim, "quota", Some(json!({"app_id": APP_ID, "daily": 1}))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn settings_are_merged_over_http() {
    let sim = start().await;
    let (status, answer) = control(
        &sim,
        "settings",
        Some(json!({"max_push_ids": 1000, "receipt_body": "json"})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (_, settings) = control(&sim, "settings", None).await;
    assert_eq!(settings["max_push_ids"], 1000);
    assert_eq!(settings["receipt_body"], "json");
    assert_eq!(settings["too_many_targets_code"], "1005");
    assert_eq!(settings["per_device_per_minute"], Value::Null);
    assert_eq!(sim.settings().max_push_ids, 1000);
    for bad in [
        json!({"nope": 1}),
        json!({"max_push_ids": 0}),
        json!({"receipt_body": "xml"}),
        json!({"push_id_syntax": {"min_len": 1}}),
    ] {
        assert_eq!(
            control(&sim, "settings", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    let syntax = json!({"push_id_syntax": {"min_len": 2, "max_len": 3}, "unknown_push_ids": "not_subscribed"});
    assert_eq!(control(&sim, "settings", Some(syntax)).await.0, 200);
    assert_eq!(
        failures(&sim, "a,ab").await,
        json!({"110003": ["a"], "110002": ["ab"]})
    );
}

#[tokio::test]
async fn receipts_are_queued_over_http() {
    let sim = start().await;
    sim.set_receipt_delay(Duration::from_secs(60));
    let mut m = message_json();
    m["extra"] = json!({"callback": "http://127.0.0.1:9/receipts"});
    let id = send(&sim, &form_for("a,b", &m)).await["msgId"].clone();
    let (status, answer) = control(
        &sim,
        "receipts",
        Some(json!({"msg_id": id, "type": 2, "targets": ["b"]})),
    )
    .await;
    assert_eq!((status, answer), (200, json!({"ok": true, "queued": 1})));
    let (_, pending) = control(&sim, "receipt-pending", None).await;
    assert_eq!(pending.as_array().unwrap().len(), 3);
    assert_eq!(pending[2]["type"], 2);
    assert_eq!(pending[2]["push_id"], "b");
    let (status, _) = control(&sim, "receipts", Some(json!({"msg_id": "nope", "type": 2}))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn reset_keeps_apps_and_the_starting_settings() {
    let sim = start().await;
    sim.set_push_id("a", meizu_sim::PushIdVerdict::Illegal);
    let mut settings = sim.settings();
    settings.max_push_ids = 1;
    sim.set_settings(settings);
    send(&sim, &form("a")).await;
    assert_eq!(control(&sim, "reset", Some(json!({}))).await.0, 200);
    assert!(sim.requests().is_empty());
    assert_eq!(sim.settings().max_push_ids, 100);
    assert_eq!(sim.settings().per_device_per_minute, None);
    assert_eq!(failures(&sim, "a,b").await, json!({}));
    assert_eq!(sim.deliveries().len(), 2);
}

#[tokio::test]
async fn any_documented_error_can_be_scripted() {
    let sim = start().await;
    sim.script_next(PATH, error_action("110053", "透传消息超过限制"));
    let answer = send(&sim, &form("a")).await;
    assert_eq!(
        answer,
        json!({"code": "110053", "message": "透传消息超过限制", "value": "", "redirect": ""})
    );
    assert!(sim.deliveries().is_empty());
    let script =
        json!({"path": PATH, "next": true, "action": {"error": {"code": 1003, "message": "busy"}}});
    assert_eq!(control(&sim, "script", Some(script)).await.0, 200);
    assert_eq!(send(&sim, &form("a")).await["code"], "1003");
    let bad = json!({"path": PATH, "next": true, "action": {"error": {"code": true}}});
    assert_eq!(control(&sim, "script", Some(bad)).await.0, 400);
    let bad = json!({"path": PATH, "next": true, "action": {"error": {"code": "1", "extra": 1}}});
    assert_eq!(control(&sim, "script", Some(bad)).await.0, 400);
    assert_eq!(code(&sim, &form("a")).await, "200");
}

#[tokio::test]
async fn http_statuses_garbage_bodies_and_delays_can_be_scripted() {
    let sim = start().await;
    sim.script_next(PATH, CallAction::HttpStatus(503));
    sim.script_next(PATH, CallAction::Garbage);
    sim.script_next(PATH, CallAction::Delay(Duration::from_millis(50)));
    sim.script_next(
        PATH,
        CallAction::Body(json!({"code": "200", "value": {"110003": ["a"]}})),
    );
    assert_eq!(post(&sim, &form("a")).await.0, 503);
    let (status, body) = post(&sim, &form("a")).await;
    assert_eq!(status, 200);
    assert!(body.as_str().unwrap().contains("<html>"));
    assert_eq!(code(&sim, &form("a")).await, "200");
    assert_eq!(sim.deliveries().len(), 1);
    let (_, body) = post(&sim, &form("a")).await;
    assert_eq!(body["value"], json!({"110003": ["a"]}));
    assert_eq!(sim.deliveries().len(), 1);
}
