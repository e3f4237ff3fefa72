//! The token endpoint (§4.1) and the bearer check of the send path.

use huawei_sim::{send_path, Settings, SimClock, TOKEN_PATH};
use serde_json::json;

use crate::common::*;

/// A token request's form fields.
type Fields = Vec<(&'static str, &'static str)>;

const GOOD: [(&str, &str); 3] = [
    ("grant_type", "client_credentials"),
    ("client_id", APP),
    ("client_secret", SECRET),
];

#[tokio::test]
async fn the_token_endpoint_answers_a_bearer_token_for_an_hour_with_escaped_slashes() {
    let sim = start().await;
    let (status, text) = raw(
        &sim,
        "POST",
        TOKEN_PATH,
        &[("content-type", "application/x-www-form-urlencoded")],
        sim_kit::form::encode(GOOD),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains("\"access_token\":\"\""), "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    let token = answer["access_token"].as_str().unwrap();
    assert_eq!(answer["expires_in"], 3600);
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer.as_object().unwrap().len(), 3, "{answer}");
    // Every '/' of the token is written as '\/' (§4.1).
    let raw_token = text.split('"').nth(3).unwrap();
    assert_eq!(raw_token.replace("\\/", "/"), token);
    assert!(!raw_token.replace("\\/", "").contains('/'), "{raw_token}");

    let (status, answer) = post(&sim, APP, token, &message(&["t1"])).await;
    assert_eq!((status, answer["code"].as_str()), (200, Some("80000000")));
}

#[tokio::test]
async fn bad_credentials_and_requests_are_refused_with_the_oauth_error_shape() {
    let sim = start().await;
    let cases: Vec<(Fields, i64, i64)> = vec![
        (
            vec![GOOD[0], GOOD[1], ("client_secret", "wrong")],
            1101,
            12304,
        ),
        (vec![GOOD[0], ("client_id", "999"), GOOD[2]], 1101, 20158),
        (
            vec![GOOD[0], ("client_id", APP), ("client_secret", OTHER_SECRET)],
            1101,
            12304,
        ),
        (vec![GOOD[1], GOOD[2]], 1102, 0),
        (
            vec![("grant_type", "authorization_code"), GOOD[1], GOOD[2]],
            1102,
            0,
        ),
        (vec![GOOD[0], GOOD[2]], 1102, 0),
        (vec![GOOD[0], GOOD[1]], 1102, 0),
        (vec![GOOD[0], GOOD[1], ("client_secret", "")], 1102, 0),
        (vec![GOOD[0], GOOD[1], GOOD[2], ("client_id", APP)], 1102, 0),
    ];
    for (fields, error, sub_error) in cases {
        let (status, answer) = token_call(&sim, &fields).await;
        assert_eq!(status, 400, "{fields:?}: {answer}");
        assert_eq!(answer["error"], error, "{fields:?}: {answer}");
        assert_eq!(answer["sub_error"], sub_error, "{fields:?}: {answer}");
        assert!(answer["error_description"].is_string());
    }
    let (status, text) = raw(
        &sim,
        "POST",
        TOKEN_PATH,
        &[("content-type", "application/json")],
        "{}".into(),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    let (status, _) = raw(&sim, "GET", TOKEN_PATH, &[], String::new()).await;
    assert_eq!(status, 405);
    assert_eq!(
        sim.usage(APP).tokens_in_window,
        0,
        "refusals are not counted"
    );
}

#[tokio::test]
async fn the_token_rate_limit_applies_at_the_limit_and_slides_with_the_clock() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_settings(Settings {
        token_limit: 3,
        ..Settings::default()
    })
    .unwrap();
    for _ in 0..3 {
        access_token(&sim, APP, SECRET).await;
    }
    let (status, answer) = token_call(&sim, &GOOD).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], 1203);
    // Per app: the other app still gets tokens.
    access_token(&sim, OTHER_APP, OTHER_SECRET).await;
    // Five minutes later the first ones leave the window.
    sim.set_clock(SimClock::Fixed(NOON + 300_000 - 1));
    assert_eq!(token_call(&sim, &GOOD).await.0, 503);
    sim.set_clock(SimClock::Fixed(NOON + 300_000));
    access_token(&sim, APP, SECRET).await;
    assert_eq!(sim.usage(APP).tokens_in_window, 1);
}

#[tokio::test]
async fn the_default_limit_is_1000_tokens_per_five_minutes() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    for _ in 0..999 {
        sim.issue_access_token(APP).unwrap();
    }
    access_token(&sim, APP, SECRET).await;
    assert_eq!(sim.usage(APP).tokens_in_window, 1000);
    assert_eq!(token_call(&sim, &GOOD).await.0, 503);
}

#[tokio::test]
async fn tokens_expire_by_the_simulators_clock() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    let token = access_token(&sim, APP, SECRET).await;
    sim.set_clock(SimClock::Fixed(NOON + 3_600_000 - 1));
    let (_, answer) = post(&sim, APP, &token, &message(&["t1"])).await;
    assert_eq!(answer["code"], "80000000");
    sim.set_clock(SimClock::Fixed(NOON + 3_600_000));
    let (status, answer) = post(&sim, APP, &token, &message(&["t1"])).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("80200003")),
        "{answer}"
    );

    sim.set_settings(Settings {
        token_ttl_secs: 60,
        ..Settings::default()
    })
    .unwrap();
    let (_, answer) = token_call(&sim, &GOOD).await;
    assert_eq!(answer["expires_in"], 60);
}

#[tokio::test]
async fn a_bad_missing_foreign_or_invalidated_token_is_80200001() {
    let sim = start().await;
    let mine = access_token(&sim, APP, SECRET).await;
    let other = access_token(&sim, OTHER_APP, OTHER_SECRET).await;
    let body = message(&["t1"]);
    for bearer in ["nonsense", "", &other] {
        let (status, answer) = post(&sim, APP, bearer, &body).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (401, Some("80200001")),
            "{bearer}"
        );
    }
    // No header, another scheme.
    for headers in [
        vec![("content-type", "application/json")],
        vec![
            ("content-type", "application/json"),
            ("authorization", "bearer x"),
        ],
    ] {
        let auth = format!("Basic {mine}");
        let mut headers = headers;
        if headers.len() == 1 {
            headers.push(("authorization", &auth));
        }
        let (status, text) = raw(&sim, "POST", &send_path(APP), &headers, body.to_string()).await;
        assert_eq!(status, 401, "{text}");
        assert!(text.contains("80200001"), "{text}");
    }
    // An unknown app in the path.
    let (_, answer) = post(&sim, "999", &mine, &body).await;
    assert_eq!(answer["code"], "80200001");
    // The right token works until invalidated.
    assert_eq!(post(&sim, APP, &mine, &body).await.1["code"], "80000000");
    assert_eq!(sim.invalidate_access_tokens(APP), 1);
    assert_eq!(post(&sim, APP, &mine, &body).await.1["code"], "80200001");
    assert_eq!(
        post(&sim, OTHER_APP, &other, &body).await.1["code"],
        "80000000"
    );
    assert!(sim.invalidate_access_token(&other));
    assert!(!sim.invalidate_access_token("unknown"));
    assert_eq!(
        post(&sim, OTHER_APP, &other, &body).await.1["code"],
        "80200001"
    );
    let fresh = access_token(&sim, APP, SECRET).await;
    assert_eq!(post(&sim, APP, &fresh, &body).await.1["code"], "80000000");
}

#[tokio::test]
async fn other_paths_and_methods_are_http_errors() {
    let sim = start().await;
    let token = access_token(&sim, APP, SECRET).await;
    let auth = format!("Bearer {token}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = message(&["t1"]).to_string();
    for path in [
        "/v2/p1/messages:send",
        "/v1//messages:send",
        "/v1/a/b/messages:send",
        "/oauth2/v2/token",
        "/",
    ] {
        let (status, _) = raw(&sim, "POST", path, &headers, body.clone()).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = raw(&sim, "GET", &send_path(APP), &headers, String::new()).await;
    assert_eq!(status, 405);
    let _ = json!(null);
}
