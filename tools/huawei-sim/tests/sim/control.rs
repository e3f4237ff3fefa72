//! The simulator's own `/_sim/*` routes.

use huawei_sim::{send_path, SimClock, TokenVerdict};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn apps_tokens_and_access_tokens_can_be_set_over_http() {
    let sim = start().await;
    let (status, _) = control(
        &sim,
        "apps",
        Some(json!({"app_id": "300", "client_secret": "s3", "self_classification": false,
                    "receipts": [{"id": "r", "url": "http://127.0.0.1:9/x", "secret": "k", "default": true}]})),
    )
    .await;
    assert_eq!(status, 200);
    let app = sim.app("300").unwrap();
    assert!(!app.self_classification && app.push_enabled);
    assert_eq!(app.receipts[0].secret.as_deref(), Some("k"));
    assert!(!format!("{app:?}").contains("s3"), "the secret is redacted");
    access_token(&sim, "300", "s3").await;
    let (status, _) = control(&sim, "apps", Some(json!({"app_id": "300"}))).await;
    assert_eq!(status, 400);

    for (verdict, expected) in [
        (json!("illegal"), "80300007"),
        (json!({"status": 6}), "80000000"),
        (json!("valid"), "80000000"),
    ] {
        let (status, _) = control(
            &sim,
            "tokens",
            Some(json!({"token": "tk", "verdict": verdict})),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(code(&sim, &message(&["tk"])).await, expected, "{verdict}");
    }
    assert_eq!(
        sim.deliveries()
            .iter()
            .map(|d| d.status)
            .collect::<Vec<_>>(),
        [6, 0]
    );
    let (status, _) = control(
        &sim,
        "tokens",
        Some(json!({"token": "tk", "verdict": "dead"})),
    )
    .await;
    assert_eq!(status, 400);

    let (status, answer) = control(&sim, "access-tokens", Some(json!({"app_id": APP}))).await;
    assert_eq!(status, 200);
    let bearer = answer["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        post(&sim, APP, &bearer, &message(&["t1"])).await.1["code"],
        "80000000"
    );
    let (_, answer) = control(
        &sim,
        "access-tokens/invalidate",
        Some(json!({"access_token": bearer})),
    )
    .await;
    assert_eq!(answer["invalidated"], 1);
    assert_eq!(
        post(&sim, APP, &bearer, &message(&["t1"])).await.1["code"],
        "80200001"
    );
    // The three issued by `code` above are still valid.
    let invalidate_app = json!({"app_id": APP});
    let (_, answer) = control(
        &sim,
        "access-tokens/invalidate",
        Some(invalidate_app.clone()),
    )
    .await;
    assert_eq!(answer["invalidated"], 3);
    let (_, answer) = control(&sim, "access-tokens/invalidate", Some(invalidate_app)).await;
    assert_eq!(answer["invalidated"], 0);
    let (status, _) = control(&sim, "access-tokens/invalidate", Some(json!({}))).await;
    assert_eq!(status, 400);
    let (status, _) = control(&sim, "access-tokens", Some(json!({"app_id": "nope"}))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn settings_usage_and_deliveries_are_readable_and_reset_clears_them() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    let (status, _) = control(&sim, "settings", Some(json!({"receipt_batch": 1000, "ttl_over_max": "clamp", "http_status": {"80300007": 404}}))).await;
    assert_eq!(status, 200);
    let (_, settings) = control(&sim, "settings", None).await;
    assert_eq!(settings["receipt_batch"], 1000);
    assert_eq!(settings["ttl_over_max"], "clamp");
    assert_eq!(settings["unapproved_category"], "marketing");
    assert_eq!(settings["body_limit"], 4096);
    assert_eq!(settings["http_status"], json!({"80300007": 404}));
    for bad in [
        json!({"receipt_batch": 0}),
        json!({"nope": 1}),
        json!({"http_status": {"1": 42}}),
    ] {
        assert_eq!(
            control(&sim, "settings", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }

    access_token(&sim, APP, SECRET).await;
    code(
        &sim,
        &set(message(&["t1"]), "/message/android/category", None),
    )
    .await;
    let (_, usage) = control(&sim, &format!("usage?app_id={APP}"), None).await;
    assert_eq!(
        usage,
        json!({"tokens_in_window": 2, "test_messages_today": 0}),
        "one from the endpoint, one issued by `code`"
    );
    let (_, usage) = control(&sim, &format!("usage?app_id={APP}&token=t1"), None).await;
    assert_eq!(usage, json!({"messages": 1, "marketing": 1}));
    assert_eq!(control(&sim, "usage", None).await.0, 400);
    let (_, deliveries) = control(&sim, "deliveries", None).await;
    assert_eq!(deliveries[0]["effective_category"], "MARKETING");
    assert_eq!(deliveries[0]["token"], "t1");

    sim.set_token("t1", TokenVerdict::Illegal);
    // Issued by the real clock, so that it is still valid after the reset.
    sim.set_clock(SimClock::Real);
    let token = sim.issue_access_token(APP).unwrap();
    assert_eq!(control(&sim, "reset", Some(json!({}))).await.0, 200);
    assert!(sim.deliveries().is_empty());
    assert!(sim.requests().is_empty());
    assert_eq!(sim.clock(), SimClock::Real);
    assert_eq!(sim.settings(), huawei_sim::Settings::default());
    assert_eq!(sim.usage(APP).tokens_in_window, 0);
    // Apps and issued access tokens are kept; verdicts are not.
    assert_eq!(
        post(&sim, APP, &token, &message(&["t1"])).await.1["code"],
        "80000000"
    );
    let _ = send_path(APP);
}
