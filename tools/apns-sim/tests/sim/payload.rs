//! The payload: size, JSON, `aps` types, and its fit with the push type.

use serde_json::{json, Value};

use crate::common::*;

/// An alert payload of exactly `size` bytes.
fn payload_of(size: usize) -> String {
    let base = json!({"aps": {"alert": "x"}, "pad": ""}).to_string();
    let pad = "p".repeat(size - base.len());
    let text = json!({"aps": {"alert": "x"}, "pad": pad}).to_string();
    assert_eq!(text.len(), size);
    text
}

#[tokio::test]
async fn an_empty_payload_is_payload_empty() {
    let ctx = ctx().await;
    assert_eq!(ctx.reason(&ctx.push().body("")).await, "PayloadEmpty");
}

#[tokio::test]
async fn the_payload_has_at_most_4096_bytes() {
    let ctx = ctx().await;
    ctx.accepted(&ctx.push().body(payload_of(4096))).await;
    let (status, reason) = ctx.outcome(&ctx.push().body(payload_of(4097))).await;
    assert_eq!((status, reason.as_str()), (413, "PayloadTooLarge"));
}

#[tokio::test]
async fn a_voip_payload_has_at_most_5120_bytes() {
    let ctx = ctx().await;
    let voip = |size: usize| {
        let base = json!({"aps": {}, "pad": ""}).to_string();
        let text = json!({"aps": {}, "pad": "p".repeat(size - base.len())}).to_string();
        ctx.push()
            .with("apns-push-type", "voip")
            .with("apns-topic", "com.example.im.voip")
            .body(text)
    };
    ctx.accepted(&voip(5120)).await;
    assert_eq!(ctx.reason(&voip(5121)).await, "PayloadTooLarge");
}

#[tokio::test]
async fn a_payload_that_is_not_an_object_with_aps_is_bad_payload() {
    let ctx = ctx().await;
    for bad in [
        "not json",
        "[1,2]",
        "\"aps\"",
        r#"{"alert":"x"}"#,
        r#"{"aps":"x"}"#,
        r#"{"aps":[]}"#,
        r#"{"aps":{"alert":"x"}"#,
    ] {
        let reason = ctx.reason(&ctx.push().body(bad)).await;
        assert_eq!(reason, apns_sim::BAD_PAYLOAD, "{bad}");
    }
}

#[tokio::test]
async fn aps_types_are_checked() {
    let ctx = ctx().await;
    let with_aps = |aps: Value| ctx.push().json(json!({ "aps": aps }));
    let bad = [
        json!({"alert": 5}),
        json!({"alert": ["x"]}),
        json!({"alert": {"title": 1}}),
        json!({"alert": {"body": null}}),
        json!({"alert": {"loc-args": "x"}}),
        json!({"alert": {"title-loc-args": [1]}}),
        json!({"alert": "x", "badge": "3"}),
        json!({"alert": "x", "badge": -1}),
        json!({"alert": "x", "badge": 1.5}),
        json!({"alert": "x", "sound": 1}),
        json!({"alert": "x", "sound": {"critical": 1}}),
        json!({"alert": "x", "sound": {"name": "a", "critical": 2}}),
        json!({"alert": "x", "sound": {"name": "a", "volume": 1.5}}),
        json!({"alert": "x", "thread-id": 7}),
        json!({"alert": "x", "category": true}),
        json!({"alert": "x", "mutable-content": true}),
        json!({"alert": "x", "mutable-content": "1"}),
        json!({"alert": "x", "mutable-content": 2}),
        json!({"alert": "x", "interruption-level": "loud"}),
        json!({"alert": "x", "relevance-score": "high"}),
    ];
    for aps in bad {
        let reason = ctx.reason(&with_aps(aps.clone())).await;
        assert_eq!(reason, apns_sim::BAD_PAYLOAD, "{aps}");
    }
    let good = [
        json!({"alert": "x"}),
        json!({"alert": {"title": "t", "subtitle": "s", "body": "b", "loc-key": "k", "loc-args": ["a"], "unknown": 1}}),
        json!({"alert": "x", "badge": 0, "sound": {"name": "ping", "critical": 1, "volume": 0.5}}),
        json!({"alert": "x", "thread-id": "t", "category": "c", "mutable-content": 0, "interruption-level": "time-sensitive", "relevance-score": 0.3, "new-key": [1]}),
        json!({"badge": 1}),
        json!({"sound": "default"}),
    ];
    for aps in good {
        ctx.accepted(&with_aps(aps)).await;
    }
}

#[tokio::test]
async fn an_alert_needs_the_alert_push_type() {
    let ctx = ctx().await;
    let push = ctx
        .push()
        .with("apns-push-type", "background")
        .with("apns-priority", "5");
    assert_eq!(ctx.reason(&push).await, "InvalidPushType");
}

#[tokio::test]
async fn a_background_push_is_content_available_at_priority_5() {
    let ctx = ctx().await;
    let background = ctx
        .push()
        .with("apns-push-type", "background")
        .with("apns-priority", "5")
        .json(json!({"aps": {"content-available": 1}, "sync": true}));
    ctx.accepted(&background).await;
    ctx.accepted(&background.clone().without("apns-priority"))
        .await;
    assert_eq!(
        ctx.reason(&background.clone().with("apns-priority", "10"))
            .await,
        "BadPriority"
    );
    for aps in [
        json!({}),
        json!({"content-available": 0}),
        json!({"content-available": 1, "badge": 1}),
        json!({"content-available": 1, "sound": "default"}),
    ] {
        let push = background.clone().json(json!({ "aps": aps }));
        assert_eq!(ctx.reason(&push).await, "InvalidPushType", "{aps}");
    }
}
