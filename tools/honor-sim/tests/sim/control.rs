//! The Honor control endpoints: apps, targets, settings, reset.

use honor_sim::{Quotas, ResponseShape, Settings, SimClock, TokenVerdict};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn apps_are_registered_over_http() {
    let sim = start().await;
    let (status, _) = control(
        &sim,
        "apps",
        Some(json!({"app_id": "200", "client_id": "c-200", "client_secret": "s-200"})),
    )
    .await;
    assert_eq!(status, 200);
    let token = token_for(&sim, "c-200", "s-200").await;
    assert_eq!(send_as(&sim, "200", &token, &message(&["t"])).await.0, 200);
    // Replacing by client id: the old app id is gone.
    control(
        &sim,
        "apps",
        Some(
            json!({"app_id": "201", "client_id": "c-200", "client_secret": "s-201",
                    "push_enabled": false, "self_classification": false}),
        ),
    )
    .await;
    let (status, _) = token_call(
        &sim,
        honor_sim::TOKEN_PATH,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "c-200"),
            ("client_secret", "s-200"),
        ],
    )
    .await;
    assert_eq!(status, 401);
    let token = token_for(&sim, "c-200", "s-201").await;
    assert_eq!(send_as(&sim, "201", &token, &message(&["t"])).await.0, 403);
    for bad in [
        json!({"app_id": "1", "client_id": "c"}),
        json!({"app_id": "1", "client_id": "c", "client_secret": "s", "extra": 1}),
        json!({"app_id": "1", "client_id": "c", "client_secret": "s", "receipt_url": "nope"}),
    ] {
        assert_eq!(
            control(&sim, "apps", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    let secret = format!("{:?}", app());
    assert!(
        !secret.contains(SECRET),
        "Debug redacts the secret: {secret}"
    );
}

#[tokio::test]
async fn verdicts_are_set_over_http() {
    let sim = start().await;
    let token = token(&sim).await;
    for (target, verdict) in [("a", "expired"), ("b", "failed")] {
        let (status, _) = control(
            &sim,
            "targets",
            Some(json!({"token": target, "verdict": verdict})),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (_, answer) = send(&sim, &token, &message(&["a", "b", "c"])).await;
    assert_eq!(answer["data"]["expireTokens"], json!(["a"]));
    assert_eq!(answer["data"]["failTokens"], json!(["b"]));
    control(
        &sim,
        "targets",
        Some(json!({"token": "a", "verdict": "valid"})),
    )
    .await;
    let (_, answer) = send(&sim, &token, &message(&["a"])).await;
    assert_eq!(answer["data"]["expireTokens"], json!([]));
    let (status, _) = control(
        &sim,
        "targets",
        Some(json!({"token": "a", "verdict": "dead"})),
    )
    .await;
    assert_eq!(status, 400);
    let (_, deliveries) = control(&sim, "deliveries", None).await;
    assert_eq!(deliveries.as_array().unwrap().len(), 2);
    assert_eq!(deliveries[0]["token"], "c");
}

#[tokio::test]
async fn settings_are_read_and_merged_over_http() {
    let sim = start().await;
    let (_, settings) = control(&sim, "settings", None).await;
    assert_eq!(
        settings,
        json!({
            "response_shape": "code200", "errors_http_200": false,
            "timestamp_unit": "either", "timestamp_window_ms": 600000,
            "token_ttl_secs": 3600, "max_tokens": 1000, "max_message_bytes": 4096,
            "clamp_ttl": false, "receipt_delivered_status": 0, "receipt_max_statuses": 100
        })
    );
    let (status, _) = control(
        &sim,
        "settings",
        Some(json!({"timestamp_unit": "seconds", "timestamp_window_ms": null})),
    )
    .await;
    assert_eq!(status, 200);
    let settings = sim.settings();
    assert_eq!(settings.timestamp_unit, honor_sim::TimestampUnit::Seconds);
    assert_eq!(settings.timestamp_window_ms, None);
    assert_eq!(settings.max_tokens, 1000);
    for bad in [
        json!({"response_shape": "xml"}),
        json!({"unknown": 1}),
        json!({"max_tokens": 0}),
        json!({"receipt_max_statuses": 1001}),
        json!({"token_ttl_secs": -1}),
    ] {
        assert_eq!(
            control(&sim, "settings", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    assert_eq!(sim.settings(), settings, "refused changes change nothing");
}

#[tokio::test]
async fn reset_keeps_apps_and_tokens_and_clears_the_scenario() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_token("dead", TokenVerdict::Expired);
    sim.set_quotas(
        APP_ID,
        Quotas {
            daily: Some(1),
            ..Quotas::default()
        },
    );
    sim.set_settings(Settings {
        response_shape: ResponseShape::Huawei,
        ..Settings::default()
    })
    .unwrap();
    sim.set_clock(SimClock::Offset(1000));
    assert_eq!(send(&sim, &token, &message(&["t"])).await.0, 200);
    let (status, _) = control(&sim, "reset", Some(json!({}))).await;
    assert_eq!(status, 200);
    assert!(sim.deliveries().is_empty());
    assert!(sim.requests().is_empty());
    assert_eq!(sim.settings(), Settings::default());
    assert_eq!(sim.clock(), SimClock::Real);
    assert_eq!(sim.usage(APP_ID).quotas, Quotas::default());
    let (_, answer) = send(&sim, &token, &message(&["dead", "t"])).await;
    assert_eq!(answer["code"], 200, "the token survives the reset");
    assert_eq!(answer["data"]["expireTokens"], json!([]));
}

#[tokio::test]
async fn reset_restores_the_start_up_settings() {
    let settings = Settings {
        response_shape: ResponseShape::Huawei,
        ..Settings::default()
    };
    let sim = honor_sim::Simulator::start(honor_sim::SimConfig {
        apps: vec![app()],
        settings,
    })
    .await
    .unwrap();
    sim.set_settings(Settings::default()).unwrap();
    sim.reset();
    assert_eq!(sim.settings(), settings);
}
