//! The `/_sim/*` control endpoints.

use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn apps_are_added_as_sim_apps_or_service_accounts() {
    let sim = start().await;
    let (status, answer) = control(
        &sim,
        "apps",
        Some(json!({
            "project_id": "ctl-a", "client_email": "a@ctl-a.iam.gserviceaccount.com",
            "private_key_id": "ka", "key_pem": PUBLIC_PEM,
        })),
    )
    .await;
    assert_eq!((status, answer), (200, json!({"ok": true})));
    let (status, _) = control(
        &sim,
        "apps",
        Some(json!({
            "type": "service_account", "project_id": "ctl-b", "private_key_id": "kb",
            "private_key": KEY_PEM, "client_email": "b@ctl-b.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token", "auth_provider_x509_cert_url": "x",
        })),
    )
    .await;
    assert_eq!(status, 200);
    for (email, kid, aud) in [
        ("a@ctl-a.iam.gserviceaccount.com", "ka", sim.token_url()),
        (
            "b@ctl-b.iam.gserviceaccount.com",
            "kb",
            "https://oauth2.googleapis.com/token".to_owned(),
        ),
    ] {
        let claims = with(with(claims(&sim), "iss", json!(email)), "aud", json!(aud));
        let (status, answer) = grant(
            &sim,
            &sign(KEY_PEM, &with(header(), "kid", json!(kid)), &claims),
        )
        .await;
        assert_eq!(status, 200, "{email}: {answer}");
    }
    for bad in [
        json!({"project_id": "p", "client_email": "e", "private_key_id": "k", "key_pem": "nope"}),
        json!({"project_id": "p", "client_email": "e", "private_key_id": "k"}),
        json!({"project_id": "p", "client_email": "e", "private_key_id": "k", "key_pem": PUBLIC_PEM, "x": 1}),
        json!({"type": "service_account", "project_id": "p"}),
    ] {
        let (status, answer) = control(&sim, "apps", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}");
        assert!(answer["error"].is_string());
    }
}

#[tokio::test]
async fn access_tokens_verdicts_and_quotas_are_set_by_control_calls() {
    let sim = start().await;
    let (status, answer) =
        control(&sim, "access-tokens", Some(json!({"client_email": EMAIL}))).await;
    assert_eq!(status, 200);
    assert_eq!(answer["expires_in"], 3599);
    assert_eq!(answer["token_type"], "Bearer");
    let access = answer["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        send_as(&sim, &access, PROJECT, &message(TOKEN)).await.0,
        200
    );
    let (status, _) = control(
        &sim,
        "access-tokens",
        Some(json!({"client_email": "nobody"})),
    )
    .await;
    assert_eq!(status, 400);

    let (status, _) = control(
        &sim,
        "tokens",
        Some(json!({"token": "t1", "verdict": "sender_id_mismatch"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(send_as(&sim, &access, PROJECT, &message("t1")).await.0, 403);
    control(
        &sim,
        "tokens",
        Some(json!({"token": "t1", "verdict": "valid"})),
    )
    .await;
    assert_eq!(send_as(&sim, &access, PROJECT, &message("t1")).await.0, 200);
    let (status, _) = control(
        &sim,
        "tokens",
        Some(json!({"token": "t1", "verdict": "dead"})),
    )
    .await;
    assert_eq!(status, 400);

    let (status, _) = control(
        &sim,
        "quota",
        Some(json!({"project_id": PROJECT, "quota": 2})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        send_as(&sim, &access, PROJECT, &message(TOKEN)).await.0,
        429
    );
    control(
        &sim,
        "quota",
        Some(json!({"project_id": PROJECT, "quota": null})),
    )
    .await;
    assert_eq!(
        send_as(&sim, &access, PROJECT, &message(TOKEN)).await.0,
        200
    );
    let (status, _) = control(&sim, "quota", Some(json!({"project_id": PROJECT}))).await;
    assert_eq!(status, 400, "quota is required (null for unlimited)");

    let (status, deliveries) = control(&sim, "deliveries", None).await;
    assert_eq!(status, 200);
    let deliveries = deliveries.as_array().unwrap();
    assert_eq!(deliveries.len(), 3);
    assert_eq!(deliveries[0]["target"], json!({"token": TOKEN}));
    assert_eq!(deliveries[0]["title"], "Alice");
    assert_eq!(deliveries[0]["data"]["conv"], "c2c_alice");
}

#[tokio::test]
async fn settings_are_read_and_merged() {
    let sim = start().await;
    let (_, settings) = control(&sim, "settings", None).await;
    assert_eq!(
        settings,
        json!({
            "token_ttl_secs": 3599, "clock_skew_secs": 300, "require_kid": true,
            "scope_check": "token", "token_violation": true, "payload_measure": "message",
            "payload_limit": 4096, "topic_payload_limit": 2048, "max_ttl_secs": 2419200,
            "quota_window_secs": 60, "retry_after_secs": 60,
        })
    );
    let (status, _) = control(
        &sim,
        "settings",
        Some(json!({"scope_check": "send", "max_ttl_secs": null, "payload_measure": "content"})),
    )
    .await;
    assert_eq!(status, 200);
    let settings = sim.settings();
    assert_eq!(settings.scope_check, fcm_sim::ScopeCheck::Send);
    assert_eq!(settings.max_ttl_secs, None);
    assert_eq!(settings.payload_measure, fcm_sim::PayloadMeasure::Content);
    assert_eq!(settings.payload_limit, 4096, "the others are kept");
    for bad in [
        json!({"nope": 1}),
        json!({"payload_limit": "big"}),
        json!({"scope_check": "never"}),
    ] {
        let (status, _) = control(&sim, "settings", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}");
    }
    assert_eq!(sim.settings(), settings, "a refused call changes nothing");
}

#[tokio::test]
async fn scripts_are_set_by_control_calls() {
    let sim = start().await;
    let path = fcm_sim::send_path(PROJECT);
    for action in [
        json!({"error": {"error_code": "UNREGISTERED"}}),
        json!({"error": {"error_code": "QUOTA_EXCEEDED", "message": "slow down"}}),
        json!({"reply": {"status": 418, "body": {"teapot": true}}}),
        json!({"body": {"name": "n"}}),
    ] {
        let (status, _) = control(
            &sim,
            "script",
            Some(json!({"path": path, "next": true, "action": action})),
        )
        .await;
        assert_eq!(status, 200);
    }
    let answer = send(&sim, &message(TOKEN)).await;
    assert_eq!(
        fcm_code(&assert_error(&answer, 404, "NOT_FOUND")).as_deref(),
        Some("UNREGISTERED")
    );
    let answer = send(&sim, &message(TOKEN)).await;
    assert_eq!(answer.1["error"]["message"], "slow down");
    assert_eq!(answer.0, 429);
    assert_eq!(
        send(&sim, &message(TOKEN)).await,
        (418, json!({"teapot": true}))
    );
    assert_eq!(
        send(&sim, &message(TOKEN)).await,
        (200, json!({"name": "n"}))
    );
    for bad in [
        json!({"error": {"error_code": "GONE"}}),
        json!({"error": {"error_code": "INTERNAL", "message": 1}}),
        json!({"error": {"error_code": "INTERNAL", "status": 1}}),
        json!({"reply": {"status": 1000}}),
        json!({"teapot": true}),
        json!({"body": 1, "http_status": 500}),
    ] {
        let (status, _) = control(
            &sim,
            "script",
            Some(json!({"path": path, "action": bad.clone()})),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn reset_keeps_apps_and_clears_the_rest() {
    let sim = start().await;
    let access = access_token(&sim).await;
    sim.set_token("dead", fcm_sim::TokenVerdict::Unregistered);
    sim.set_quota(PROJECT, Some(1));
    sim.set_settings(fcm_sim::Settings {
        payload_limit: 10,
        ..Default::default()
    });
    send_as(
        &sim,
        &access,
        PROJECT,
        &json!({"message": {"token": TOKEN}}),
    )
    .await;
    assert_eq!(sim.deliveries().len(), 1);
    let (status, _) = control(&sim, "reset", Some(json!({}))).await;
    assert_eq!(status, 200);
    assert!(sim.deliveries().is_empty());
    assert!(sim.requests().is_empty());
    assert_eq!(sim.settings(), fcm_sim::Settings::default());
    assert_eq!(sim.clock(), fcm_sim::SimClock::Real);
    assert_eq!(
        send_as(&sim, &access, PROJECT, &message(TOKEN)).await.0,
        401,
        "tokens are gone"
    );
    sim.set_clock(fcm_sim::SimClock::Fixed(NOW_MS));
    assert_eq!(
        send(&sim, &message("dead")).await.0,
        200,
        "verdicts are gone"
    );
    assert_eq!(send(&sim, &message(TOKEN)).await.0, 200, "quotas are gone");
    let _ = access_token(&sim).await;
    let (_, pending) = control(&sim, "receipt-pending", None).await;
    assert_eq!(pending, Value::Array(vec![]), "FCM has no receipts");
}
