//! The `/_sim/*` control routes of harmony-sim.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use harmony_sim::{public_key_of, SimClock, AUDIENCE};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn projects_can_be_registered_over_http() {
    let sim = start().await;
    let (status, _) = control(
        &sim,
        "apps",
        Some(json!({
            "project_id": "777",
            "accounts": [{"key_id": "k7", "sub_account": "s7", "private_key": KEY_A}],
            "approved_categories": ["IM", "VOIP"],
            "receipts": [{"id": "r", "url": "http://127.0.0.1:9/x", "secret": "c2VjcmV0", "default": true}],
        })),
    )
    .await;
    assert_eq!(status, 200);
    let app = sim.app("777").unwrap();
    assert!(app.push_enabled);
    assert_eq!(app.marketing_daily_cap, Some(2));
    assert_eq!(app.package_name, "com.example.harmony");
    let now = now_s(&sim);
    let bearer = harmony_sim::sign_jwt(
        KEY_A,
        "k7",
        harmony_sim::JwtAlg::Ps256,
        &json!({"iss": "s7", "aud": AUDIENCE, "iat": now, "exp": now + 60}),
    )
    .unwrap();
    let (_, answer) = post(&sim, "777", &bearer, &message(&["t1"])).await;
    assert_eq!(answer["code"], "80000000");
    // A public key only, as base64 DER.
    let public = STANDARD.encode(public_key_of(KEY_B).unwrap());
    let (status, _) = control(
        &sim,
        "apps",
        Some(json!({"project_id": "778", "accounts": [{"key_id": "k8", "sub_account": "s8", "public_key": public}]})),
    )
    .await;
    assert_eq!(status, 200);
    for bad in [
        json!({"project_id": "779", "accounts": [{"key_id": "k", "sub_account": "s", "private_key": "not a key"}]}),
        json!({"project_id": "779", "accounts": [{"key_id": "k", "sub_account": "s"}]}),
        json!({"project_id": "779", "accounts": [{"key_id": "k", "sub_account": "s", "public_key": "@@"}]}),
        json!({"project_id": "779", "receipts": [{"id": "r", "url": "http://x", "secret": "!!"}]}),
        json!({"project_id": "779", "unknown": true}),
        json!({"project_id": "a/b"}),
        json!({"accounts": []}),
    ] {
        let (status, answer) = control(&sim, "apps", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}");
        assert!(answer["error"].is_string());
    }
    assert!(sim.app("779").is_none());
}

#[tokio::test]
async fn tokens_settings_usage_jwt_and_receipts_routes() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    for (verdict, status) in [
        (json!({"illegal": "noRight"}), 200),
        (json!({"status": 6}), 200),
        (json!("valid"), 200),
        (json!({"illegal": "gone"}), 400),
        (json!("dead"), 400),
    ] {
        let (got, _) = control(
            &sim,
            "tokens",
            Some(json!({"token": "x", "verdict": verdict})),
        )
        .await;
        assert_eq!(got, status, "{verdict}");
    }
    control(
        &sim,
        "tokens",
        Some(json!({"token": "x", "verdict": {"illegal": "noRight"}})),
    )
    .await;
    let (_, answer) = send(&sim, &message(&["x", "y"])).await;
    assert_eq!(answer["code"], "80100000");

    let (_, settings) = control(&sim, "settings", None).await;
    assert_eq!(settings["receipt_batch"], 100);
    assert_eq!(settings["body_limit"], 4096);
    assert_eq!(settings["unapproved_category"], "marketing");
    assert_eq!(settings["accept_rs256"], false);
    assert_eq!(settings["audience"], AUDIENCE);
    let (status, _) = control(
        &sim,
        "settings",
        Some(json!({"accept_rs256": true, "ttl_over_max": "clamp", "pad_illegal_keys": true, "test_rate_per_sec": 5})),
    )
    .await;
    assert_eq!(status, 200);
    let settings = sim.settings();
    assert!(settings.accept_rs256 && settings.pad_illegal_keys);
    assert_eq!(settings.test_rate_per_sec, Some(5));
    assert_eq!(settings.receipt_batch, 100, "others kept");
    for bad in [
        json!({"receipt_batch": 101}),
        json!({"nope": 1}),
        json!({"ttl_over_max": "cut"}),
        json!({"max_jwt_lifetime_secs": 0}),
    ] {
        let (status, _) = control(&sim, "settings", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}");
    }

    let test = set(
        message(&["t1"]),
        "/pushOptions/testMessage",
        Some(json!(true)),
    );
    send(&sim, &test).await;
    let (_, usage) = control(&sim, &format!("usage?project_id={PROJECT}"), None).await;
    assert_eq!(usage, json!({"test_requests_today": 1}));
    let (_, usage) = control(&sim, &format!("usage?project_id={PROJECT}&token=y"), None).await;
    assert_eq!(usage, json!({"service": 1, "marketing": 0}));
    let (status, _) = control(&sim, "usage", None).await;
    assert_eq!(status, 400);

    let (status, minted) = control(&sim, "jwt", Some(json!({"project_id": PROJECT}))).await;
    assert_eq!(status, 200);
    let (_, answer) = post(
        &sim,
        PROJECT,
        minted["jwt"].as_str().unwrap(),
        &message(&["t1"]),
    )
    .await;
    assert_eq!(answer["code"], "80000000");
    let (status, _) = control(&sim, "jwt", Some(json!({"project_id": "nope"}))).await;
    assert_eq!(status, 400);

    let request_id = answer["requestId"].as_str().unwrap();
    let (status, answer) = control(
        &sim,
        "receipts",
        Some(json!({"request_id": request_id, "result": 6})),
    )
    .await;
    assert_eq!(
        (status, answer["error"].is_string()),
        (400, true),
        "no receipt configuration"
    );
    let (status, _) = control(
        &sim,
        "receipts",
        Some(json!({"request_id": "nope", "result": 6})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn reset_keeps_projects_and_clears_the_rest() {
    let sim = start().await;
    sim.set_token(
        "x",
        harmony_sim::TokenVerdict::Illegal("noRight".to_owned()),
    )
    .unwrap();
    sim.set_settings(harmony_sim::Settings {
        accept_rs256: true,
        ..harmony_sim::Settings::default()
    })
    .unwrap();
    send(&sim, &message(&["y"])).await;
    let (status, _) = control(&sim, "reset", Some(json!({}))).await;
    assert_eq!(status, 200);
    assert!(sim.deliveries().is_empty());
    assert!(sim.requests().is_empty());
    assert!(!sim.settings().accept_rs256);
    assert_eq!(
        code(&sim, &message(&["x"])).await,
        "80000000",
        "verdicts cleared, project kept"
    );
    let (_, deliveries) = control(&sim, "deliveries", None).await;
    assert_eq!(deliveries[0]["token"], "x");
    assert_eq!(deliveries[0]["effective_category"], "IM");
}
