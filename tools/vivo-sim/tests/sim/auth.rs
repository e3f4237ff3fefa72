use crate::common::*;
use serde_json::{json, Value};

#[test]
fn sign_matches_the_published_vector() {
    assert_eq!(
        vivo_sim::sign(APP_ID, APP_KEY, 1_501_484_120_000, APP_SECRET),
        "fe3b46a2befc60334c2388676a752bd6"
    );
}

#[tokio::test]
async fn correct_sign_gets_a_fresh_token_each_time_and_both_work() {
    let sim = start().await;
    let first = token(&sim).await;
    let second = token(&sim).await;
    assert!(!first.is_empty());
    assert_ne!(first, second);
    for token in [&first, &second] {
        let (_, answer) = send(&sim, token, "reg-a").await;
        assert_eq!(answer["result"], 0, "{answer}");
    }
    let (_, answer) = auth(&sim).await;
    assert_eq!(answer["desc"], "请求成功");
}

async fn auth_code(body: Value) -> i64 {
    let sim = start().await;
    let (status, answer) = post(&sim, AUTH, None, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("authToken").is_none(), "{answer}");
    assert!(answer["desc"].is_string(), "{answer}");
    answer["result"].as_i64().expect("result")
}

#[tokio::test]
async fn auth_refuses_a_missing_or_non_numeric_app_id_with_10200() {
    assert_eq!(auth_code(without(auth_now(), "appId")).await, 10200);
    for bad in [
        json!(10004.5),
        json!(-10004),
        json!("abc"),
        json!(""),
        json!("10004 "),
        json!("-10004"),
        json!("1e4"),
        json!(true),
        json!([10004]),
    ] {
        assert_eq!(
            auth_code(with(auth_now(), "appId", bad.clone())).await,
            10200,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn auth_accepts_app_id_and_timestamp_as_digit_strings_signed_over_the_same_text() {
    let sim = start().await;
    let now = now_ms();
    let numbers = auth_body(APP_ID, APP_KEY, APP_SECRET, now);
    let cases = [
        with(numbers.clone(), "appId", json!(APP_ID.to_string())),
        with(numbers.clone(), "timestamp", json!(now.to_string())),
        with(
            with(numbers.clone(), "appId", json!(APP_ID.to_string())),
            "timestamp",
            json!(now.to_string()),
        ),
    ];
    for body in &cases {
        let (_, answer) = post(&sim, AUTH, None, body).await;
        assert_eq!(answer["result"], 0, "{body}: {answer}");
        let token = answer["authToken"].as_str().unwrap();
        let (_, sent) = send(&sim, token, "reg-a").await;
        assert_eq!(sent["result"], 0, "{sent}");
    }

    // The string is the signed text: a sign over another timestamp still fails.
    let mut other = with(numbers.clone(), "timestamp", json!((now - 1).to_string()));
    assert_eq!(post(&sim, AUTH, None, &other).await.1["result"], 10206);
    other["sign"] = json!(vivo_sim::sign(APP_ID, APP_KEY, now - 1, APP_SECRET));
    assert_eq!(post(&sim, AUTH, None, &other).await.1["result"], 0);
    // A string names the same app as the number: another app's id is unknown.
    let unknown = with(numbers, "appId", json!("99999"));
    assert_eq!(post(&sim, AUTH, None, &unknown).await.1["result"], 10205);
}

#[tokio::test]
async fn auth_refuses_a_missing_or_empty_app_key_with_10201() {
    assert_eq!(auth_code(without(auth_now(), "appKey")).await, 10201);
    assert_eq!(
        auth_code(with(auth_now(), "appKey", json!(""))).await,
        10201
    );
}

#[tokio::test]
async fn auth_refuses_a_missing_or_non_integer_timestamp_with_10203() {
    assert_eq!(auth_code(without(auth_now(), "timestamp")).await, 10203);
    let now = now_ms();
    for bad in [
        json!(now as f64 + 0.5),
        json!(format!("{now}.0")),
        json!(format!(" {now}")),
        json!(""),
        json!("now"),
        json!(false),
    ] {
        let body = with(auth_now(), "timestamp", bad.clone());
        assert_eq!(auth_code(body).await, 10203, "{bad}");
    }
}

#[tokio::test]
async fn auth_refuses_a_missing_or_empty_sign_with_10204() {
    assert_eq!(auth_code(without(auth_now(), "sign")).await, 10204);
    assert_eq!(auth_code(with(auth_now(), "sign", json!(""))).await, 10204);
}

#[tokio::test]
async fn auth_refuses_an_unknown_app_id_with_10205() {
    let now = now_ms();
    let body = auth_body(99999, APP_KEY, APP_SECRET, now);
    assert_eq!(auth_code(body).await, 10205);
}

#[tokio::test]
async fn auth_refuses_another_apps_key_with_10202() {
    let now = now_ms();
    let body = auth_body(APP_ID, OTHER_APP_KEY, APP_SECRET, now);
    assert_eq!(auth_code(body).await, 10202);
}

#[tokio::test]
async fn auth_refuses_a_timestamp_more_than_ten_minutes_off_with_10207() {
    let eleven_minutes = 11 * 60 * 1000;
    let stale = auth_body(APP_ID, APP_KEY, APP_SECRET, now_ms() - eleven_minutes);
    assert_eq!(auth_code(stale).await, 10207);
    let future = auth_body(APP_ID, APP_KEY, APP_SECRET, now_ms() + eleven_minutes);
    assert_eq!(auth_code(future).await, 10207);
    let vector = auth_body(APP_ID, APP_KEY, APP_SECRET, 1_501_484_120_000);
    assert_eq!(auth_code(vector).await, 10207);

    let nine_minutes = 9 * 60 * 1000;
    let sim = start().await;
    let recent = auth_body(APP_ID, APP_KEY, APP_SECRET, now_ms() - nine_minutes);
    let (_, answer) = post(&sim, AUTH, None, &recent).await;
    assert_eq!(answer["result"], 0, "{answer}");
}

#[tokio::test]
async fn auth_refuses_a_wrong_or_uppercase_sign_with_10206() {
    let now = now_ms();
    let wrong_secret = auth_body(APP_ID, APP_KEY, "not-the-secret", now);
    assert_eq!(auth_code(wrong_secret).await, 10206);

    let mut upper = auth_body(APP_ID, APP_KEY, APP_SECRET, now);
    upper["sign"] = json!(upper["sign"].as_str().unwrap().to_uppercase());
    assert_eq!(auth_code(upper).await, 10206);

    // The sign must be computed over the same timestamp that is sent.
    let mut other_timestamp = auth_body(APP_ID, APP_KEY, APP_SECRET, now);
    other_timestamp["timestamp"] = json!(now - 1);
    assert_eq!(auth_code(other_timestamp).await, 10206);
}

#[tokio::test]
async fn a_missing_unknown_or_expired_token_is_refused_with_10000() {
    let sim = start().await;
    for token in [None, Some("not-a-token")] {
        let (status, answer) = post(&sim, SEND, token, &message("reg-a")).await;
        assert_eq!(status, 200);
        assert_eq!(answer["result"], 10000, "{answer}");
    }
    let token = token(&sim).await;
    sim.expire_auth_tokens();
    let (_, answer) = send(&sim, &token, "reg-a").await;
    assert_eq!(answer["result"], 10000, "{answer}");
    for path in [SAVE, PUSH] {
        let (_, answer) = post(&sim, path, Some(&token), &list_payload()).await;
        assert_eq!(answer["result"], 10000, "{path}: {answer}");
    }
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn a_token_used_for_another_app_is_refused_with_10094() {
    let sim = start().await;
    let other = other_token(&sim).await;
    let (_, answer) = send(&sim, &other, "reg-a").await;
    assert_eq!(answer["result"], 10094, "{answer}");
    let (_, answer) = post(&sim, SAVE, Some(&other), &list_payload()).await;
    assert_eq!(answer["result"], 10094, "{answer}");
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn apps_added_later_can_authenticate() {
    let sim = vivo_sim::Simulator::start(vivo_sim::SimConfig::default())
        .await
        .unwrap();
    let (_, answer) = auth(&sim).await;
    assert_eq!(answer["result"], 10205);
    sim.add_app(app());
    let token = token(&sim).await;
    assert!(!token.is_empty());
}
