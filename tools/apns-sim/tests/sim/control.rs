//! The `/_sim/*` control endpoints of apns-sim, and reset.

use apns_sim::{Environment, Settings, TokenScope};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn keys_and_apps_are_registered_at_run_time() {
    let sim = apns_sim::Simulator::start(Default::default())
        .await
        .unwrap();
    let ctx = Ctx {
        jwt: jwt(sim.now_ms() / 1000),
        sim,
        client: h2(),
    };
    assert_eq!(ctx.reason(&ctx.push()).await, "InvalidProviderToken");
    let key = json!({"key_id": KID, "team_id": TEAM, "private_key_pem": pem(key())});
    assert_eq!(control(&ctx.sim, "keys", Some(key)).await.0, 200);
    assert_eq!(ctx.reason(&ctx.push()).await, "TopicDisallowed");
    let app = json!({"team_id": TEAM, "bundle_id": BUNDLE});
    assert_eq!(control(&ctx.sim, "apps", Some(app)).await.0, 200);
    ctx.accepted(&ctx.push()).await;
    for (path, bad) in [
        (
            "keys",
            json!({"key_id": "K", "team_id": TEAM, "private_key_pem": "nope"}),
        ),
        ("keys", json!({"key_id": "K", "team_id": TEAM})),
        ("apps", json!({"team_id": TEAM})),
        ("apps", json!({"team_id": TEAM, "bundle_id": "b", "x": 1})),
    ] {
        let (status, answer) = control(&ctx.sim, path, Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}");
        assert!(answer["error"].is_string());
    }
}

#[tokio::test]
async fn devices_are_set_through_the_control_endpoint() {
    let ctx = ctx().await;
    for (body, reason) in [
        (
            json!({"token": token(1), "verdict": "unregistered"}),
            "Unregistered",
        ),
        (
            json!({"token": token(2), "verdict": "bad_device_token"}),
            "BadDeviceToken",
        ),
        (
            json!({"token": token(3), "verdict": "device_token_not_for_topic"}),
            "DeviceTokenNotForTopic",
        ),
        (
            json!({"token": token(4), "environment": "sandbox"}),
            "BadDeviceToken",
        ),
        (
            json!({"token": token(5), "bundle_id": "com.example.x"}),
            "DeviceTokenNotForTopic",
        ),
    ] {
        let device = body["token"].as_str().unwrap().to_owned();
        assert_eq!(control(&ctx.sim, "devices", Some(body)).await.0, 200);
        assert_eq!(ctx.reason(&ctx.push().to(&device)).await, reason);
    }
    let body = json!({"token": token(1), "verdict": "unregistered", "unregistered_ms": 7});
    control(&ctx.sim, "devices", Some(body)).await;
    assert_eq!(ctx.send(&ctx.push()).await.body["timestamp"], 7);
    for bad in [
        json!({"verdict": "valid"}),
        json!({"token": token(1), "verdict": "dead"}),
        json!({"token": token(1), "environment": "staging"}),
    ] {
        assert_eq!(
            control(&ctx.sim, "devices", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn settings_are_read_and_merged() {
    let ctx = ctx().await;
    let (status, settings) = control(&ctx.sim, "settings", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        settings,
        json!({
            "environment": "production",
            "refuse_http1": true,
            "token_update_scope": "connection",
            "min_token_refresh_secs": 1200,
            "token_max_age_secs": 3600,
            "iat_future_leeway_secs": 60,
            "require_push_type": true,
            "allow_priority_1": false,
            "max_payload_bytes": 4096,
            "max_voip_payload_bytes": 5120,
            "rate_limit": null
        })
    );
    let change = json!({"environment": "sandbox", "token_update_scope": "team_key", "max_payload_bytes": 100});
    assert_eq!(control(&ctx.sim, "settings", Some(change)).await.0, 200);
    let settings = ctx.sim.settings();
    assert_eq!(settings.environment, Environment::Sandbox);
    assert_eq!(settings.token_update_scope, TokenScope::TeamKey);
    assert_eq!(settings.max_payload_bytes, 100);
    assert!(settings.refuse_http1, "unnamed fields keep their value");
    assert_eq!(ctx.reason(&ctx.push()).await, "PayloadTooLarge");
    for bad in [
        json!({"environment": "staging"}),
        json!({"no_such_setting": 1}),
        json!({"max_payload_bytes": -1}),
    ] {
        assert_eq!(
            control(&ctx.sim, "settings", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    assert_eq!(ctx.sim.settings().max_payload_bytes, 100);
}

#[tokio::test]
async fn the_quota_endpoint_sets_the_rate_limit() {
    let ctx = ctx().await;
    let body = json!({"rate_limit": {"max": 1, "window_ms": 60000}});
    assert_eq!(control(&ctx.sim, "quota", Some(body)).await.0, 200);
    ctx.accepted(&ctx.push()).await;
    assert_eq!(ctx.reason(&ctx.push()).await, "TooManyRequests");
    let off = json!({"rate_limit": null});
    assert_eq!(control(&ctx.sim, "quota", Some(off)).await.0, 200);
    ctx.accepted(&ctx.push()).await;
    assert_eq!(control(&ctx.sim, "quota", Some(json!({}))).await.0, 400);
}

#[tokio::test]
async fn reset_keeps_keys_and_apps_and_clears_the_rest() {
    let mut config = config();
    config.settings = Settings {
        require_push_type: false,
        ..Settings::default()
    };
    let sim = apns_sim::Simulator::start(config).await.unwrap();
    let ctx = Ctx {
        jwt: jwt(sim.now_ms() / 1000),
        sim,
        client: h2(),
    };
    ctx.sim.set_device(
        &token(2),
        apns_sim::SimDevice::verdict(apns_sim::Verdict::BadDeviceToken),
    );
    ctx.sim.set_environment(Environment::Sandbox);
    ctx.accepted(&ctx.push()).await;
    assert_eq!(control(&ctx.sim, "reset", Some(json!({}))).await.0, 200);
    assert!(ctx.sim.deliveries().is_empty());
    assert!(ctx.sim.requests().is_empty());
    let settings = ctx.sim.settings();
    assert_eq!(settings.environment, Environment::Production);
    assert!(!settings.require_push_type, "back to the start-up settings");
    ctx.accepted(&ctx.push().to(&token(2))).await;
    // Token state is cleared too: a new token on the same connection is fine.
    let fresh = jwt(ctx.sim.now_ms() / 1000 - 5);
    let with_fresh = ctx.push().with("authorization", &format!("bearer {fresh}"));
    assert_eq!(ctx.reason(&with_fresh).await, "TooManyProviderTokenUpdates");
    ctx.sim.reset();
    ctx.accepted(&ctx.push().with("authorization", &format!("bearer {fresh}")))
        .await;
}

#[tokio::test]
async fn there_are_no_receipts() {
    let ctx = ctx().await;
    ctx.accepted(&ctx.push()).await;
    ctx.sim.flush_receipts().await;
    assert!(ctx.sim.pending_receipts().is_empty());
    assert!(ctx.sim.receipt_log().is_empty());
    assert_eq!(control(&ctx.sim, "receipt-log", None).await.1, json!([]));
}
