//! Daily quotas, the test quota and the QPS limit.

use honor_sim::{Quotas, SimClock, TokenVerdict};
use serde_json::json;

use crate::common::*;

/// 23:59:59.999 UTC+8 the same day as NOON.
const LAST_MS: i64 = NOON + 12 * 3_600_000 - 1;

fn test_message(tokens: &[&str]) -> serde_json::Value {
    with(message(tokens), "android.targetUserType", json!(1))
}

#[tokio::test]
async fn the_daily_quota_counts_delivered_tokens_per_honor_day() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_quotas(
        APP_ID,
        Quotas {
            daily: Some(3),
            ..Quotas::default()
        },
    );
    sim.set_token("dead", TokenVerdict::Expired);
    // Two delivered (the dead one does not count), then two more: the call
    // that crosses the quota is delivered in full.
    assert_eq!(code(&sim, &token, &message(&["a", "dead", "b"])).await, 200);
    assert_eq!(sim.usage(APP_ID).delivered, 2);
    assert_eq!(code(&sim, &token, &message(&["c", "d"])).await, 200);
    assert_eq!(sim.usage(APP_ID).delivered, 4);
    let (status, answer) = send(&sim, &token, &message(&["e"])).await;
    assert_eq!(status, 429);
    assert_eq!(answer["code"], 429);
    assert!(
        answer["message"].as_str().unwrap().contains("quota"),
        "{answer}"
    );
    // The other app is not affected; test messages have their own quota.
    let other = token_for(&sim, OTHER_CLIENT_ID, OTHER_SECRET).await;
    assert_eq!(
        send_as(&sim, OTHER_APP_ID, &other, &message(&["e"]))
            .await
            .0,
        200
    );
    assert_eq!(code(&sim, &token, &test_message(&["e"])).await, 200);
    // Last ms of the day, then the next day.
    sim.set_clock(SimClock::Fixed(LAST_MS));
    assert_eq!(code(&sim, &token, &message(&["e"])).await, 429);
    sim.set_clock(SimClock::Fixed(LAST_MS + 1));
    assert_eq!(sim.usage(APP_ID).delivered, 0);
    assert_eq!(code(&sim, &token, &message(&["e"])).await, 200);
    assert_eq!(sim.deliveries().len(), 7);
}

#[tokio::test]
async fn test_messages_have_1000_a_day_by_default() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_clock(SimClock::Fixed(NOON));
    let many: Vec<String> = tokens("t", 1000);
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(code(&sim, &token, &test_message(&many)).await, 200);
    let usage = sim.usage(APP_ID);
    assert_eq!((usage.delivered, usage.test_delivered), (0, 1000));
    assert_eq!(code(&sim, &token, &test_message(&["x"])).await, 429);
    assert_eq!(code(&sim, &token, &message(&["x"])).await, 200);
    assert!(sim.deliveries()[0].test);
    assert!(!sim.deliveries()[1000].test);
}

#[tokio::test]
async fn the_qps_limit_counts_calls_per_second_of_the_clock() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_quotas(
        APP_ID,
        Quotas {
            qps: Some(2),
            ..Quotas::default()
        },
    );
    assert_eq!(code(&sim, &token, &message(&["a"])).await, 200);
    assert_eq!(code(&sim, &token, &message(&["a", "b"])).await, 200);
    assert_eq!(code(&sim, &token, &message(&["a"])).await, 429);
    sim.set_clock(SimClock::Fixed(NOON + 999));
    assert_eq!(code(&sim, &token, &message(&["a"])).await, 429);
    sim.set_clock(SimClock::Fixed(NOON + 1000));
    assert_eq!(code(&sim, &token, &message(&["a"])).await, 200);
}

#[tokio::test]
async fn quotas_and_usage_over_http() {
    let sim = start().await;
    let token = token(&sim).await;
    let (status, _) = control(
        &sim,
        "quotas",
        Some(json!({"app_id": APP_ID, "daily": 1, "qps": null})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(code(&sim, &token, &message(&["a"])).await, 200);
    assert_eq!(code(&sim, &token, &message(&["a"])).await, 429);
    let (_, usage) = control(&sim, &format!("usage?app_id={APP_ID}"), None).await;
    assert_eq!(
        usage,
        json!({"delivered": 1, "test_delivered": 0,
               "quotas": {"daily": 1, "test_daily": 1000, "qps": null}})
    );
    // A missing field keeps its value; null is unlimited.
    control(
        &sim,
        "quotas",
        Some(json!({"app_id": APP_ID, "test_daily": null})),
    )
    .await;
    let (_, usage) = control(&sim, &format!("usage?app_id={APP_ID}"), None).await;
    assert_eq!(
        usage["quotas"],
        json!({"daily": 1, "test_daily": null, "qps": null})
    );
    for bad in [
        json!({"daily": 1}),
        json!({"app_id": APP_ID, "weekly": 1}),
        json!({"app_id": APP_ID, "daily": "1"}),
    ] {
        assert_eq!(
            control(&sim, "quotas", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    assert_eq!(control(&sim, "usage", None).await.0, 400);
}
