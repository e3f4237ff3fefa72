//! Self-classification, daily caps, test messages and flow control (§4.4, §4.5, §11).

use huawei_sim::{Settings, SimApp, SimClock, UnapprovedCategory};
use serde_json::json;

use crate::common::*;

fn without_right() -> SimApp {
    SimApp {
        self_classification: false,
        ..app()
    }
}

fn categorized(category: Option<&str>) -> serde_json::Value {
    set(
        message(&["t1"]),
        "/message/android/category",
        category.map(|c| json!(c)),
    )
}

#[tokio::test]
async fn the_effective_category_follows_the_self_classification_right() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    assert_eq!(code(&sim, &categorized(Some("IM"))).await, "80000000");
    assert_eq!(code(&sim, &categorized(None)).await, "80000000");
    sim.add_app(without_right());
    assert_eq!(code(&sim, &categorized(Some("IM"))).await, "80000000");
    let effective: Vec<Option<String>> = sim
        .deliveries()
        .into_iter()
        .map(|d| d.effective_category)
        .collect();
    assert_eq!(
        effective,
        [
            Some("IM".into()),
            Some("MARKETING".into()),
            Some("MARKETING".into())
        ]
    );
    assert_eq!(sim.deliveries()[2].category.as_deref(), Some("IM"));
}

#[tokio::test]
async fn the_other_reading_refuses_an_unapproved_category_with_80300011() {
    let sim = start().await;
    sim.add_app(without_right());
    sim.set_settings(Settings {
        unapproved_category: UnapprovedCategory::Reject,
        ..Settings::default()
    })
    .unwrap();
    let (status, answer) = send(&sim, &categorized(Some("IM"))).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("80300011")));
    // MARKETING, no category, and data messages need no right.
    assert_eq!(
        code(&sim, &categorized(Some("MARKETING"))).await,
        "80000000"
    );
    assert_eq!(code(&sim, &categorized(None)).await, "80000000");
    let data = set(
        categorized(Some("IM")),
        "/message/android/notification",
        None,
    );
    assert_eq!(code(&sim, &data).await, "80000000");
    // With the right, accepted.
    sim.add_app(app());
    assert_eq!(code(&sim, &categorized(Some("IM"))).await, "80000000");
}

#[tokio::test]
async fn marketing_is_capped_per_token_per_day_and_the_excess_gets_status_102() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    for _ in 0..3 {
        assert_eq!(
            code(&sim, &categorized(Some("MARKETING"))).await,
            "80000000"
        );
    }
    // IM is not capped by the marketing cap.
    assert_eq!(code(&sim, &categorized(Some("IM"))).await, "80000000");
    let statuses: Vec<u32> = sim.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [0, 0, 102, 0]);
    let usage = sim.device_usage(APP, "t1");
    assert_eq!((usage.messages, usage.marketing), (3, 2));
    // Another token has its own count; a new day (UTC+8) starts over.
    assert_eq!(
        code(
            &sim,
            &set(categorized(None), "/message/token", Some(json!(["t2"])))
        )
        .await,
        "80000000"
    );
    assert_eq!(sim.deliveries().last().unwrap().status, 0);
    sim.set_clock(SimClock::Fixed(NOON + 12 * 3_600_000));
    assert_eq!(code(&sim, &categorized(None)).await, "80000000");
    assert_eq!(sim.deliveries().last().unwrap().status, 0);
    // A news app: 5.
    sim.add_app(SimApp {
        marketing_daily_cap: Some(5),
        ..app()
    });
    for _ in 0..4 {
        code(&sim, &categorized(None)).await;
    }
    let last: Vec<u32> = sim
        .deliveries()
        .iter()
        .rev()
        .take(2)
        .map(|d| d.status)
        .collect();
    assert_eq!(last, [0, 0]);
    code(&sim, &categorized(None)).await;
    assert_eq!(sim.deliveries().last().unwrap().status, 102);
}

#[tokio::test]
async fn every_category_is_capped_at_the_device_cap() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.add_app(SimApp {
        device_daily_cap: Some(2),
        ..app()
    });
    for _ in 0..3 {
        code(&sim, &categorized(Some("IM"))).await;
    }
    let statuses: Vec<u32> = sim.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [0, 0, 102]);
    assert_eq!(SimApp::new("a", "b").device_daily_cap, Some(3000));
    assert_eq!(SimApp::new("a", "b").marketing_daily_cap, Some(2));
}

#[tokio::test]
async fn test_messages_skip_the_device_caps_and_stop_at_the_daily_test_limit() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_settings(Settings {
        test_daily_limit: 3,
        ..Settings::default()
    })
    .unwrap();
    let test = set(
        categorized(Some("MARKETING")),
        "/message/android/target_user_type",
        Some(json!(1)),
    );
    for _ in 0..3 {
        assert_eq!(code(&sim, &test).await, "80000000");
    }
    assert!(sim
        .deliveries()
        .iter()
        .all(|d| d.status == 0 && d.target_user_type == 1));
    assert_eq!(sim.usage(APP).test_messages_today, 3);
    let (status, text) = send(&sim, &test).await;
    assert_eq!(status, 503, "{text}");
    // Normal messages still go; tomorrow tests go again.
    assert_eq!(code(&sim, &categorized(None)).await, "80000000");
    sim.set_clock(SimClock::Fixed(NOON + 86_400_000));
    assert_eq!(code(&sim, &test).await, "80000000");
    assert_eq!(Settings::default().test_daily_limit, 500);
}

#[tokio::test]
async fn calls_over_the_apps_qps_get_http_503() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.add_app(SimApp {
        qps: Some(2),
        ..app()
    });
    assert_eq!(send(&sim, &message(&["t1"])).await.0, 200);
    assert_eq!(send(&sim, &message(&["t1"])).await.0, 200);
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(sim.deliveries().len(), 2);
    sim.set_clock(SimClock::Fixed(NOON + 1000));
    assert_eq!(send(&sim, &message(&["t1"])).await.0, 200);
}
