//! Categories (§14.6) and the daily caps (§14.6, §14.7).

use harmony_sim::{CategoryPolicy, Settings, SimApp, SimClock};
use serde_json::json;

use crate::common::*;

const DAY_MS: i64 = 86_400_000;

fn with_category(category: Option<&str>) -> serde_json::Value {
    set(
        message(&["t1"]),
        "/payload/notification/category",
        category.map(|c| json!(c)),
    )
}

#[tokio::test]
async fn an_unapproved_or_missing_category_is_silently_marketing() {
    let sim = start().await;
    for category in [Some("IM"), Some("VOIP"), Some("MARKETING"), None] {
        assert_eq!(code(&sim, &with_category(category)).await, "80000000");
    }
    let effective: Vec<(Option<String>, String)> = sim
        .deliveries()
        .into_iter()
        .map(|d| (d.category, d.effective_category))
        .collect();
    assert_eq!(
        effective,
        [
            (Some("IM".to_owned()), "IM".to_owned()),
            (Some("VOIP".to_owned()), "MARKETING".to_owned()),
            (Some("MARKETING".to_owned()), "MARKETING".to_owned()),
            (None, "MARKETING".to_owned()),
        ]
    );
}

#[tokio::test]
async fn the_category_policies_can_refuse() {
    let sim = start().await;
    sim.set_settings(Settings {
        unapproved_category: CategoryPolicy::Reject,
        ..Settings::default()
    })
    .unwrap();
    let (status, answer) = send(&sim, &with_category(Some("VOIP"))).await;
    assert_eq!((status, code_of(&answer)), (400, "80100003".to_owned()));
    assert_eq!(code(&sim, &with_category(Some("IM"))).await, "80000000");
    assert_eq!(
        code(&sim, &with_category(Some("MARKETING"))).await,
        "80000000"
    );
    assert_eq!(
        code(&sim, &with_category(None)).await,
        "80000000",
        "missing is its own setting"
    );
    sim.set_settings(Settings {
        missing_category: CategoryPolicy::Reject,
        ..Settings::default()
    })
    .unwrap();
    assert_eq!(code(&sim, &with_category(None)).await, "80100003");
    assert_eq!(code(&sim, &with_category(Some("VOIP"))).await, "80000000");
    assert_eq!(sim.deliveries().len(), 4);
}

#[tokio::test]
async fn approved_categories_are_per_project() {
    let sim = start_with(SimApp {
        approved_categories: vec!["VOIP".to_owned(), "WORK".to_owned()],
        ..app()
    })
    .await;
    for category in ["VOIP", "WORK", "IM"] {
        assert_eq!(code(&sim, &with_category(Some(category))).await, "80000000");
    }
    let effective: Vec<String> = sim
        .deliveries()
        .into_iter()
        .map(|d| d.effective_category)
        .collect();
    assert_eq!(effective, ["VOIP", "WORK", "MARKETING"]);
    assert!(sim
        .add_app(SimApp {
            approved_categories: vec!["MARKETING".to_owned()],
            ..app()
        })
        .is_err());
}

#[tokio::test]
async fn marketing_is_capped_at_2_per_token_per_day_with_receipt_256() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    let marketing = with_category(Some("MARKETING"));
    for _ in 0..3 {
        assert_eq!(
            code(&sim, &marketing).await,
            "80000000",
            "the answer does not change"
        );
    }
    // Service messages are not capped by it.
    assert_eq!(code(&sim, &with_category(Some("IM"))).await, "80000000");
    let statuses: Vec<u32> = sim.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [0, 0, 256, 0]);
    let usage = sim.device_usage(PROJECT, "t1");
    assert_eq!((usage.marketing, usage.service), (2, 1));
    // Another token has its own count; a new Huawei day (UTC+8) resets it.
    assert_eq!(
        code(
            &sim,
            &set(marketing.clone(), "/target/token", Some(json!(["t2"])))
        )
        .await,
        "80000000"
    );
    sim.set_clock(SimClock::Fixed(NOON + DAY_MS / 2 - 1));
    assert_eq!(code(&sim, &marketing).await, "80000000");
    sim.set_clock(SimClock::Fixed(NOON + DAY_MS / 2));
    assert_eq!(code(&sim, &marketing).await, "80000000");
    let statuses: Vec<u32> = sim.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [0, 0, 256, 0, 0, 256, 0]);
}

#[tokio::test]
async fn the_marketing_cap_is_per_project_and_may_be_5_or_none() {
    let sim = start_with(SimApp {
        marketing_daily_cap: Some(5),
        ..app()
    })
    .await;
    let marketing = with_category(Some("MARKETING"));
    for _ in 0..6 {
        send(&sim, &marketing).await;
    }
    let statuses: Vec<u32> = sim.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [0, 0, 0, 0, 0, 256]);
    sim.reset();
    sim.add_app(SimApp {
        marketing_daily_cap: None,
        ..app()
    })
    .unwrap();
    for _ in 0..6 {
        send(&sim, &marketing).await;
    }
    assert!(sim.deliveries().iter().all(|d| d.status == 0));
}

#[tokio::test]
async fn the_service_cap_is_none_by_default_or_a_number_with_receipt_102() {
    // §14.6 CONFLICT: no published number (default) ...
    let sim = start().await;
    for _ in 0..5 {
        send(&sim, &message(&["t1"])).await;
    }
    assert!(sim.deliveries().iter().all(|d| d.status == 0));
    // ... or a daily number (3000 in the Android reading; 2 here).
    sim.reset();
    sim.add_app(SimApp {
        device_daily_cap: Some(2),
        ..app()
    })
    .unwrap();
    for _ in 0..3 {
        assert_eq!(code(&sim, &message(&["t1"])).await, "80000000");
    }
    let statuses: Vec<u32> = sim.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [0, 0, 102]);
}

#[tokio::test]
async fn test_messages_are_exempt_and_count_requests_against_the_daily_quota() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_settings(Settings {
        test_daily_limit: 2,
        ..Settings::default()
    })
    .unwrap();
    let test = set(
        with_category(Some("MARKETING")),
        "/pushOptions/testMessage",
        Some(json!(true)),
    );
    let test = set(test, "/target/token", Some(json!(["t1", "t2"])));
    for _ in 0..3 {
        assert_eq!(code(&sim, &test).await, "80000000");
    }
    assert_eq!(sim.usage(PROJECT).test_requests_today, 3);
    let statuses: Vec<u32> = sim.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [0, 0, 0, 0, 256, 256], "two requests, then 256");
    assert_eq!(
        sim.device_usage(PROJECT, "t1").marketing,
        0,
        "exempt from the cap"
    );
    // Refused requests do not count.
    sim.set_token(
        "bad",
        harmony_sim::TokenVerdict::Illegal("noRight".to_owned()),
    )
    .unwrap();
    send(
        &sim,
        &set(test.clone(), "/target/token", Some(json!(["bad"]))),
    )
    .await;
    assert_eq!(sim.usage(PROJECT).test_requests_today, 3);
    // The next day starts again.
    sim.set_clock(SimClock::Fixed(NOON + DAY_MS));
    assert_eq!(code(&sim, &test).await, "80000000");
    assert_eq!(sim.deliveries().last().unwrap().status, 0);
    assert_eq!(sim.usage(PROJECT).test_requests_today, 1);
}
