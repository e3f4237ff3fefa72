//! The daily quota (200001) per Xiaomi day.

use serde_json::json;
use xiaomi_sim::{RegIdVerdict, SimClock, Usage};

use crate::common::*;

/// 2024-06-01 12:00 in UTC+8 (Xiaomi's time zone).
const NOON: i64 = 1_717_214_400_000;
const HOUR_MS: i64 = 60 * 60 * 1000;
/// 2024-06-02 00:00 UTC+8: the next Xiaomi day.
const NEXT_MIDNIGHT: i64 = NOON + 12 * HOUR_MS;

#[tokio::test]
async fn the_call_that_reaches_the_quota_is_delivered_then_200001_until_midnight() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_quota(SECRET, Some(3));
    sim.set_reg_id("dead", RegIdVerdict::Invalid);

    let first = send(&sim, &message("a,b,dead")).await;
    assert_eq!(first["code"], 0);
    assert_eq!(first["data"]["day_quota"], "3");
    assert_eq!(first["data"]["day_acked"], "0");
    assert_eq!(
        sim.usage(SECRET),
        Usage {
            day_acked: 2,
            day_quota: Some(3)
        },
        "invalid targets do not count"
    );
    let second = send(&sim, &message("c,d")).await;
    assert_eq!(second["code"], 0, "crosses the quota, delivered in full");
    assert_eq!(second["data"]["day_acked"], "2");
    assert_eq!(sim.usage(SECRET).day_acked, 4);

    let refused = send(&sim, &message("e")).await;
    assert_eq!(refused["code"], 200001, "{refused}");
    assert_eq!(refused["result"], "error");
    assert_eq!(refused["reason"], "exceed quota, quota: 3, have acked: 4");
    assert_eq!(sim.usage(SECRET).day_acked, 4, "refusals do not count");
    assert_eq!(sim.deliveries().len(), 4);

    // The other app has its own count.
    let other = with(message("x"), "restricted_package_name", OTHER_PACKAGE);
    assert_eq!(post_as(&sim, OTHER_SECRET, &other).await.1["code"], 0);

    sim.set_clock(SimClock::Fixed(NEXT_MIDNIGHT - 1));
    assert_eq!(code(&sim, &message("e")).await, 200001);
    sim.set_clock(SimClock::Fixed(NEXT_MIDNIGHT));
    assert_eq!(sim.usage(SECRET).day_acked, 0, "a new day starts at 0");
    let next_day = send(&sim, &message("e")).await;
    assert_eq!(next_day["code"], 0);
    assert_eq!(next_day["data"]["day_acked"], "0");
}

#[tokio::test]
async fn the_quota_is_checked_before_the_targets() {
    let sim = start().await;
    sim.set_quota(SECRET, Some(0));
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    assert_eq!(code(&sim, &message("dead")).await, 200001);
    let refused = send(&sim, &message("a")).await;
    assert_eq!(refused["reason"], "exceed quota, quota: 0, have acked: 0");
    sim.set_quota(SECRET, None);
    assert_eq!(code(&sim, &message("a")).await, 0);
}

#[tokio::test]
async fn quotas_and_usage_over_http_and_reset() {
    let sim = start().await;
    let set = json!({"app_secret": SECRET, "daily": 1});
    assert_eq!(control(&sim, "quota", Some(set)).await.0, 200);
    assert_eq!(code(&sim, &message("a")).await, 0);
    let (status, usage) = control(&sim, &format!("usage?app_secret={SECRET}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(usage, json!({"day_acked": 1, "day_quota": 1}));
    assert_eq!(code(&sim, &message("a")).await, 200001);

    let unlimited = json!({"app_secret": SECRET, "daily": null});
    assert_eq!(control(&sim, "quota", Some(unlimited)).await.0, 200);
    assert_eq!(code(&sim, &message("a")).await, 0);
    sim.set_quota(SECRET, Some(1));
    sim.reset();
    assert_eq!(
        sim.usage(SECRET),
        Usage::default(),
        "reset drops quota and count"
    );
    assert_eq!(code(&sim, &message("a")).await, 0);

    for bad in [
        json!({"app_secret": SECRET}),
        json!({"app_secret": SECRET, "daily": -1}),
        json!({"daily": 1}),
    ] {
        assert_eq!(
            control(&sim, "quota", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    assert_eq!(control(&sim, "usage", None).await.0, 400);
}
