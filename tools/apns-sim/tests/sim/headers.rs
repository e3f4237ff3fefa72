//! The path, the method and the `apns-*` headers.

use apns_sim::Settings;

use crate::common::*;

#[tokio::test]
async fn only_post_to_3_device_token_exists() {
    let ctx = ctx().await;
    let (status, reason) = ctx.outcome(&ctx.push().method("GET")).await;
    assert_eq!((status, reason.as_str()), (405, "MethodNotAllowed"));
    let (status, reason) = ctx.outcome(&ctx.push().path("/3/devices/abc")).await;
    assert_eq!((status, reason.as_str()), (404, "BadPath"));
    assert_eq!(ctx.reason(&ctx.push().path("/3/device")).await, "BadPath");
    assert_eq!(
        ctx.reason(&ctx.push().path("/3/device/")).await,
        "MissingDeviceToken"
    );
    assert!(ctx.sim.deliveries().is_empty());
    assert_eq!(ctx.sim.requests().len(), 4, "refusals are recorded");
}

#[tokio::test]
async fn the_device_token_must_be_32_to_100_bytes_of_hex() {
    let ctx = ctx().await;
    for good in ["ab".repeat(32), "AB".repeat(32), "0f".repeat(100)] {
        ctx.accepted(&ctx.push().to(&good)).await;
    }
    for bad in [
        "ab".repeat(31),
        format!("{}a", "ab".repeat(32)),
        "ab".repeat(101),
        "zz".repeat(32),
        format!("{}/x", "ab".repeat(32)),
    ] {
        assert_eq!(
            ctx.reason(&ctx.push().to(&bad)).await,
            "BadDeviceToken",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_repeated_header_is_duplicate_headers() {
    let ctx = ctx().await;
    for name in [
        "apns-topic",
        "apns-priority",
        "apns-push-type",
        "authorization",
    ] {
        let value = ctx
            .push()
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone();
        let push = ctx.push().also(name, &value);
        assert_eq!(ctx.reason(&push).await, "DuplicateHeaders", "{name}");
    }
}

#[tokio::test]
async fn the_push_type_is_required_and_must_be_known() {
    let ctx = ctx().await;
    assert_eq!(
        ctx.reason(&ctx.push().without("apns-push-type")).await,
        "InvalidPushType"
    );
    assert_eq!(
        ctx.reason(&ctx.push().with("apns-push-type", "Alert"))
            .await,
        "InvalidPushType"
    );
    ctx.sim.set_settings(Settings {
        require_push_type: false,
        ..Settings::default()
    });
    ctx.accepted(&ctx.push().without("apns-push-type")).await;
    assert_eq!(ctx.sim.deliveries()[0].push_type, None);
}

#[tokio::test]
async fn the_topic_must_be_a_bundle_id_of_the_team() {
    let ctx = ctx().await;
    let (status, reason) = ctx.outcome(&ctx.push().without("apns-topic")).await;
    assert_eq!((status, reason.as_str()), (400, "MissingTopic"));
    for bad in ["", "com.example im", "com.example/im", "com_example"] {
        let push = ctx.push().with("apns-topic", bad);
        assert_eq!(ctx.reason(&push).await, "BadTopic", "{bad:?}");
    }
    for other in [OTHER_BUNDLE, "com.example", "com.example.im.x"] {
        let push = ctx.push().with("apns-topic", other);
        assert_eq!(ctx.reason(&push).await, "TopicDisallowed", "{other}");
    }
    ctx.sim
        .add_app(apns_sim::SimApp::new(TEAM, "com.example.im.x"));
    ctx.accepted(&ctx.push().with("apns-topic", "com.example.im.x"))
        .await;
}

#[tokio::test]
async fn a_push_type_s_topic_carries_its_suffix() {
    let ctx = ctx().await;
    let voip = r#"{"aps":{},"call":"alice"}"#;
    let push = ctx.push().with("apns-push-type", "voip").body(voip);
    ctx.accepted(&push.clone().with("apns-topic", "com.example.im.voip"))
        .await;
    assert_eq!(ctx.sim.deliveries()[0].bundle_id, BUNDLE);
    assert_eq!(ctx.reason(&push).await, "TopicDisallowed");
    let alert_with_suffix = ctx.push().with("apns-topic", "com.example.im.voip");
    assert_eq!(ctx.reason(&alert_with_suffix).await, "TopicDisallowed");
    let live = ctx
        .push()
        .with("apns-push-type", "liveactivity")
        .with("apns-topic", "com.example.im.push-type.liveactivity")
        .body(r#"{"aps":{"event":"update"}}"#);
    ctx.accepted(&live).await;
}

#[tokio::test]
async fn the_priority_is_10_or_5() {
    let ctx = ctx().await;
    for good in ["10", "5"] {
        ctx.accepted(&ctx.push().with("apns-priority", good)).await;
    }
    ctx.accepted(&ctx.push().without("apns-priority")).await;
    for bad in ["1", "0", "high", "", "05"] {
        let push = ctx.push().with("apns-priority", bad);
        assert_eq!(ctx.reason(&push).await, "BadPriority", "{bad:?}");
    }
    ctx.sim.set_settings(Settings {
        allow_priority_1: true,
        ..Settings::default()
    });
    ctx.accepted(&ctx.push().with("apns-priority", "1")).await;
}

#[tokio::test]
async fn the_expiration_is_epoch_seconds() {
    let ctx = ctx().await;
    for good in ["0", "1750000000"] {
        ctx.accepted(&ctx.push().with("apns-expiration", good))
            .await;
    }
    ctx.accepted(&ctx.push().without("apns-expiration")).await;
    let expirations: Vec<_> = ctx.sim.deliveries().iter().map(|d| d.expiration).collect();
    assert_eq!(expirations, [Some(0), Some(1_750_000_000), None]);
    for bad in ["-1", "1.5", "soon", "", "99999999999999999999"] {
        let push = ctx.push().with("apns-expiration", bad);
        assert_eq!(ctx.reason(&push).await, "BadExpirationDate", "{bad:?}");
    }
}

#[tokio::test]
async fn the_collapse_id_has_at_most_64_bytes() {
    let ctx = ctx().await;
    ctx.accepted(&ctx.push().with("apns-collapse-id", &"c".repeat(64)))
        .await;
    let push = ctx.push().with("apns-collapse-id", &"c".repeat(65));
    let (status, reason) = ctx.outcome(&push).await;
    assert_eq!((status, reason.as_str()), (400, "BadCollapseId"));
}

#[tokio::test]
async fn the_apns_id_must_be_a_uuid() {
    let ctx = ctx().await;
    ctx.accepted(
        &ctx.push()
            .with("apns-id", "123e4567-e89b-12d3-a456-4266554400a0"),
    )
    .await;
    ctx.accepted(
        &ctx.push()
            .with("apns-id", "123E4567-E89B-12D3-A456-4266554400A0"),
    )
    .await;
    for bad in [
        "123e4567e89b12d3a4564266554400a0",
        "123e4567-e89b-12d3-a456-4266554400a",
        "g23e4567-e89b-12d3-a456-4266554400a0",
        "",
    ] {
        let push = ctx.push().with("apns-id", bad);
        assert_eq!(ctx.reason(&push).await, "BadMessageId", "{bad:?}");
    }
}
