//! Device verdicts, sandbox vs production, the per-device rate, deliveries.

use apns_sim::{Environment, RateLimit, SimClock, SimDevice, Verdict};

use crate::common::*;

#[tokio::test]
async fn an_unregistered_device_is_410_with_its_timestamp() {
    let ctx = ctx().await;
    let set_at = ctx.sim.now_ms();
    ctx.sim.set_clock(SimClock::Fixed(set_at));
    ctx.sim
        .set_device(&token(1), SimDevice::verdict(Verdict::Unregistered));
    ctx.sim.set_clock(SimClock::Fixed(set_at + 5000));
    let answer = ctx.send(&ctx.push()).await;
    assert_eq!(answer.status, 410);
    assert_eq!(answer.body["reason"], "Unregistered");
    assert_eq!(
        answer.body["timestamp"], set_at,
        "the clock when it was set"
    );
    ctx.sim.set_device(
        &token(2),
        SimDevice {
            verdict: Verdict::Unregistered,
            unregistered_ms: Some(1_700_000_000_000),
            ..SimDevice::default()
        },
    );
    let (status, _) = ctx.outcome(&ctx.push().to(&token(2))).await;
    assert_eq!(status, 410);
    let answer = ctx.send(&ctx.push().to(&token(2))).await;
    assert_eq!(answer.body["timestamp"], 1_700_000_000_000i64);
    assert!(ctx.sim.deliveries().is_empty());
}

#[tokio::test]
async fn bad_and_foreign_device_verdicts() {
    let ctx = ctx().await;
    ctx.sim
        .set_device(&token(1), SimDevice::verdict(Verdict::BadDeviceToken));
    ctx.sim.set_device(
        &token(2),
        SimDevice::verdict(Verdict::DeviceTokenNotForTopic),
    );
    ctx.sim.set_device(
        &token(3),
        SimDevice {
            bundle_id: Some("com.example.elsewhere".to_owned()),
            ..SimDevice::default()
        },
    );
    ctx.sim.set_device(
        &token(4),
        SimDevice {
            bundle_id: Some(BUNDLE.to_owned()),
            ..SimDevice::default()
        },
    );
    let (status, reason) = ctx.outcome(&ctx.push().to(&token(1))).await;
    assert_eq!((status, reason.as_str()), (400, "BadDeviceToken"));
    let (status, reason) = ctx.outcome(&ctx.push().to(&token(2))).await;
    assert_eq!((status, reason.as_str()), (400, "DeviceTokenNotForTopic"));
    assert_eq!(
        ctx.reason(&ctx.push().to(&token(3))).await,
        "DeviceTokenNotForTopic"
    );
    ctx.accepted(&ctx.push().to(&token(4))).await;
    // Set back to valid.
    ctx.sim
        .set_device(&token(1), SimDevice::verdict(Verdict::Valid));
    ctx.accepted(&ctx.push().to(&token(1))).await;
}

#[tokio::test]
async fn tokens_are_matched_in_any_case() {
    let ctx = ctx().await;
    ctx.sim.set_device(
        &"AB".repeat(32),
        SimDevice::verdict(Verdict::BadDeviceToken),
    );
    assert_eq!(
        ctx.reason(&ctx.push().to(&"ab".repeat(32))).await,
        "BadDeviceToken"
    );
}

#[tokio::test]
async fn a_sandbox_token_is_a_bad_device_token_in_production_and_back() {
    let ctx = ctx().await;
    ctx.sim
        .set_device(&token(1), SimDevice::in_environment(Environment::Sandbox));
    ctx.sim.set_device(
        &token(2),
        SimDevice::in_environment(Environment::Production),
    );
    assert_eq!(ctx.sim.settings().environment, Environment::Production);
    assert_eq!(
        ctx.reason(&ctx.push().to(&token(1))).await,
        "BadDeviceToken"
    );
    ctx.accepted(&ctx.push().to(&token(2))).await;
    ctx.accepted(&ctx.push().to(&token(3))).await;
    ctx.sim.set_environment(Environment::Sandbox);
    ctx.accepted(&ctx.push().to(&token(1))).await;
    assert_eq!(
        ctx.reason(&ctx.push().to(&token(2))).await,
        "BadDeviceToken"
    );
    ctx.accepted(&ctx.push().to(&token(3))).await;
    let environments: Vec<_> = ctx.sim.deliveries().iter().map(|d| d.environment).collect();
    assert_eq!(
        environments,
        [
            Environment::Production,
            Environment::Production,
            Environment::Sandbox,
            Environment::Sandbox
        ]
    );
}

#[tokio::test]
async fn the_rate_limit_refuses_a_device_past_its_max_within_the_window() {
    let ctx = ctx().await;
    let t0 = ctx.sim.now_ms();
    ctx.sim.set_clock(SimClock::Fixed(t0));
    ctx.sim.set_rate_limit(Some(RateLimit {
        max: 2,
        window_ms: 1000,
    }));
    ctx.accepted(&ctx.push()).await;
    ctx.accepted(&ctx.push()).await;
    let (status, reason) = ctx.outcome(&ctx.push()).await;
    assert_eq!((status, reason.as_str()), (429, "TooManyRequests"));
    // Another device has its own count.
    ctx.accepted(&ctx.push().to(&token(2))).await;
    ctx.sim.set_clock(SimClock::Fixed(t0 + 999));
    assert_eq!(ctx.reason(&ctx.push()).await, "TooManyRequests");
    ctx.sim.set_clock(SimClock::Fixed(t0 + 1000));
    ctx.accepted(&ctx.push()).await;
    ctx.sim.set_rate_limit(None);
    for _ in 0..3 {
        ctx.accepted(&ctx.push()).await;
    }
    assert_eq!(ctx.sim.deliveries().len(), 7);
}

#[tokio::test]
async fn deliveries_list_accepted_pushes_in_order() {
    let ctx = ctx().await;
    ctx.accepted(&ctx.push().to(&token(1))).await;
    assert_eq!(ctx.reason(&ctx.push().body("")).await, "PayloadEmpty");
    ctx.accepted(&ctx.push().to(&token(2))).await;
    let tokens: Vec<_> = ctx
        .sim
        .deliveries()
        .into_iter()
        .map(|d| d.device_token)
        .collect();
    assert_eq!(tokens, [token(1), token(2)]);
    let (status, listed) = control(&ctx.sim, "deliveries", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[1]["device_token"], token(2));
    assert_eq!(listed[0]["payload"], alert_payload());
}
