//! Token verdicts, validate_only and deliveries.

use fcm_sim::{Settings, Target, TokenVerdict};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn an_accepted_message_is_one_delivery() {
    let sim = start().await;
    let (status, answer) = send(&sim, &message(TOKEN)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer.as_object().unwrap().len(), 1, "{answer}");
    let name = answer["name"].as_str().unwrap();
    let prefix = format!("projects/{PROJECT}/messages/0:");
    assert!(name.starts_with(&prefix) && name.contains('%'), "{name}");
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(delivery.name, name);
    assert_eq!(delivery.project_id, PROJECT);
    assert_eq!(delivery.client_email, EMAIL);
    assert_eq!(delivery.target, Target::Token(TOKEN.to_owned()));
    assert_eq!(delivery.token(), Some(TOKEN));
    assert_eq!(delivery.title.as_deref(), Some("Alice"));
    assert_eq!(delivery.body.as_deref(), Some("Hi, are you free tonight?"));
    assert_eq!(delivery.data["conv"], "c2c_alice");
    let android = delivery.android.as_ref().unwrap();
    assert_eq!(android["priority"], "HIGH");
    assert_eq!(android["ttl"], "86400s");
    assert_eq!(android["notification"]["channel_id"], "im");
    assert_eq!(
        delivery.apns.as_ref().unwrap()["headers"]["apns-priority"],
        "10"
    );
    assert_eq!(delivery.message, message(TOKEN)["message"]);
    assert_eq!(delivery.at_ms, NOW_MS);
    let (_, second) = send(&sim, &message(TOKEN)).await;
    assert_ne!(second["name"], answer["name"], "ids are unique");
}

#[tokio::test]
async fn validate_only_answers_without_delivering() {
    let sim = start().await;
    for flag in ["validate_only", "validateOnly"] {
        let (status, answer) =
            send(&sim, &set(message(TOKEN), &format!("/{flag}"), json!(true))).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer,
            json!({"name": format!("projects/{PROJECT}/messages/fake_message_id")})
        );
    }
    assert!(sim.deliveries().is_empty());
    // Still checked: fields and verdicts.
    let answer = send(
        &sim,
        &set(
            set(message(TOKEN), "/validate_only", json!(true)),
            "/message/data",
            json!({"a": 1}),
        ),
    )
    .await;
    assert_error(&answer, 400, "INVALID_ARGUMENT");
    sim.set_token("dead", TokenVerdict::Unregistered);
    let answer = send(&sim, &set(message("dead"), "/validate_only", json!(true))).await;
    assert_error(&answer, 404, "NOT_FOUND");
    let (status, _) = send(&sim, &set(message(TOKEN), "/validate_only", json!(false))).await;
    assert_eq!(status, 200);
    assert_eq!(sim.deliveries().len(), 1);
}

#[tokio::test]
async fn every_verdict_answers_its_code() {
    let sim = start().await;
    let cases = [
        (TokenVerdict::Unregistered, 404, "NOT_FOUND", "UNREGISTERED"),
        (
            TokenVerdict::SenderIdMismatch,
            403,
            "PERMISSION_DENIED",
            "SENDER_ID_MISMATCH",
        ),
        (
            TokenVerdict::QuotaExceeded,
            429,
            "RESOURCE_EXHAUSTED",
            "QUOTA_EXCEEDED",
        ),
        (TokenVerdict::Unavailable, 503, "UNAVAILABLE", "UNAVAILABLE"),
        (TokenVerdict::Internal, 500, "INTERNAL", "INTERNAL"),
        (
            TokenVerdict::ThirdPartyAuthError,
            401,
            "UNAUTHENTICATED",
            "THIRD_PARTY_AUTH_ERROR",
        ),
        (
            TokenVerdict::Invalid,
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
        ),
    ];
    for (n, (verdict, http, status, code)) in cases.into_iter().enumerate() {
        let token = format!("token-{n}");
        sim.set_token(&token, verdict);
        let answer = send(&sim, &message(&token)).await;
        let body = assert_error(&answer, http, status);
        assert_eq!(
            fcm_code(&body).as_deref(),
            Some(code),
            "{verdict:?}: {body}"
        );
        let fields = violation_fields(&body);
        if verdict == TokenVerdict::Invalid {
            assert_eq!(fields, ["message.token"]);
            assert_eq!(body["error"]["message"], fcm_sim::INVALID_TOKEN);
        } else {
            assert!(fields.is_empty(), "{body}");
        }
    }
    assert_eq!(
        send(&sim, &message(TOKEN)).await.0,
        200,
        "other tokens stay valid"
    );
    sim.set_token("token-0", TokenVerdict::Valid);
    assert_eq!(send(&sim, &message("token-0")).await.0, 200);
    // The other project's sends see the same verdicts.
    let other = sim.issue_access_token(OTHER_EMAIL).unwrap();
    assert_eq!(
        send_as(&sim, &other, OTHER_PROJECT, &message("token-1"))
            .await
            .0,
        403
    );
    assert_eq!(sim.deliveries().len(), 2);
}

#[tokio::test]
async fn the_invalid_token_answer_without_its_field_violation() {
    let sim = start().await;
    sim.set_settings(Settings {
        token_violation: false,
        ..Settings::default()
    });
    sim.set_token("bad", TokenVerdict::Invalid);
    for token in ["bad", "not a token"] {
        let answer = send(&sim, &message(token)).await;
        let body = assert_error(&answer, 400, "INVALID_ARGUMENT");
        assert_eq!(
            body["error"]["details"],
            json!([{"@type": fcm_sim::FCM_ERROR_TYPE, "errorCode": "INVALID_ARGUMENT"}])
        );
        assert_eq!(body["error"]["message"], fcm_sim::INVALID_TOKEN);
    }
}
