//! The token endpoint (§3.2) and the Bearer token of `sendMessage`.

use honor_sim::{
    send_path, ResponseShape, Settings, SimClock, TOKEN_PATH, TOKEN_PATHS, TOKEN_PATH_SHORT,
};
use serde_json::{json, Value};

use crate::common::*;

const FORM: &str = "application/x-www-form-urlencoded";

fn credentials<'a>(client_id: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
    ]
}

#[tokio::test]
async fn both_token_paths_issue_distinct_bearer_tokens_that_work() {
    let sim = start().await;
    let mut issued = Vec::new();
    for path in TOKEN_PATHS {
        let (status, answer) = token_call(&sim, path, &credentials(CLIENT_ID, SECRET)).await;
        assert_eq!(status, 200, "{path}: {answer}");
        let fields: Vec<&String> = answer.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["access_token", "expires_in", "token_type"]);
        assert_eq!(answer["expires_in"], 3600);
        assert_eq!(answer["token_type"], "Bearer");
        issued.push(answer["access_token"].as_str().unwrap().to_owned());
    }
    assert_ne!(issued[0], issued[1]);
    for token in &issued {
        assert_eq!(code(&sim, token, &message(&["t1"])).await, 200);
    }
    assert_eq!(sim.access_tokens().len(), 2);
    assert!(sim.access_tokens().iter().all(|t| t.app_id == APP_ID));
    assert_eq!(TOKEN_PATH_SHORT, "/auth/token");
}

#[tokio::test]
async fn the_token_endpoint_answers_oauth2_errors() {
    let sim = start().await;
    let invalid_client = json!({
        "error": "invalid_client",
        "error_description": "Invalid client or Invalid client credentials"
    });
    for form in [
        credentials(CLIENT_ID, "wrong"),
        credentials("unknown", SECRET),
        credentials(OTHER_CLIENT_ID, SECRET),
        credentials(CLIENT_ID, ""),
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
        ],
    ] {
        let (status, answer) = token_call(&sim, TOKEN_PATH, &form).await;
        assert_eq!((status, &answer), (401, &invalid_client), "{form:?}");
    }
    let (status, answer) = token_call(
        &sim,
        TOKEN_PATH,
        &[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"], "unsupported_grant_type");
    for form in [vec![("client_id", CLIENT_ID), ("client_secret", SECRET)], {
        let mut twice = credentials(CLIENT_ID, SECRET);
        twice.push(("client_id", CLIENT_ID));
        twice
    }] {
        let (status, answer) = token_call(&sim, TOKEN_PATH, &form).await;
        assert_eq!((status, &answer["error"]), (400, &json!("invalid_request")));
    }
    let body = sim_kit::form::encode(credentials(CLIENT_ID, SECRET));
    for (content_type, body) in [
        ("application/json", body.clone()),
        (FORM, "grant_type=%zz".to_owned()),
    ] {
        let (status, answer) = raw(
            &sim,
            "POST",
            TOKEN_PATH,
            &[("content-type", content_type)],
            body,
        )
        .await;
        assert_eq!(
            (status, &answer["error"]),
            (400, &json!("invalid_request")),
            "{content_type}"
        );
    }
    let (status, _) = raw(&sim, "GET", TOKEN_PATH_SHORT, &[], String::new()).await;
    assert_eq!(status, 405);
    assert!(sim.access_tokens().is_empty(), "no token was issued");
    // The form may say charset=UTF-8.
    let (status, _) = raw(
        &sim,
        "POST",
        TOKEN_PATH,
        &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )],
        body,
    )
    .await;
    assert_eq!(status, 200);
}

/// `sendMessage` with this Authorization header (or none).
async fn with_auth(sim: &honor_sim::Simulator, auth: Option<&str>) -> (u16, Value) {
    let ts = now_ts(sim);
    let mut headers = vec![
        ("timestamp", ts.as_str()),
        ("content-type", "application/json"),
    ];
    if let Some(auth) = auth {
        headers.push(("authorization", auth));
    }
    send_with(sim, APP_ID, &headers, &message(&["t1"])).await
}

#[tokio::test]
async fn send_needs_a_bearer_token_of_its_own_app() {
    let sim = start().await;
    let token = token(&sim).await;
    let other = token_for(&sim, OTHER_CLIENT_ID, OTHER_SECRET).await;
    let refused = json!({"code": 401, "message": "Oauth authentication error"});
    for auth in [
        None,
        Some(token.clone()),
        Some(format!("bearer {token}")),
        Some(format!("Bearer  {token}")),
        Some("Bearer ".to_owned()),
        Some("Bearer unknown".to_owned()),
        Some(format!("Bearer {other}")),
    ] {
        let (status, answer) = with_auth(&sim, auth.as_deref()).await;
        assert_eq!((status, &answer), (401, &refused), "{auth:?}");
    }
    let (status, answer) = with_auth(&sim, Some(&format!("Bearer {token}"))).await;
    assert_eq!((status, &answer["code"]), (200, &json!(200)), "{answer}");
    // The other app's token works on its own path only.
    assert_eq!(
        send_as(&sim, OTHER_APP_ID, &other, &message(&["t1"]))
            .await
            .0,
        200
    );
    // An app id nobody registered.
    assert_eq!(send_as(&sim, "999", &token, &message(&["t1"])).await.0, 401);
    assert_eq!(sim.deliveries().len(), 2);
}

#[tokio::test]
async fn tokens_expire_by_the_simulators_clock() {
    let sim = start().await;
    sim.set_settings(Settings {
        response_shape: ResponseShape::Huawei,
        ..Settings::default()
    })
    .unwrap();
    sim.set_clock(SimClock::Fixed(NOON));
    let token = token(&sim).await;
    assert_eq!(sim.access_tokens()[0].expires_ms, NOON + 3_600_000);
    sim.set_clock(SimClock::Fixed(NOON + 3_599_999));
    let (status, answer) = send(&sim, &token, &message(&["t1"])).await;
    assert_eq!((status, &answer["code"]), (200, &json!("80000000")));
    sim.set_clock(SimClock::Fixed(NOON + 3_600_000));
    let (status, answer) = send(&sim, &token, &message(&["t1"])).await;
    assert_eq!(status, 401);
    assert_eq!(answer["code"], "80200003", "expired, not invalid: {answer}");
    assert_eq!(answer["msg"], "Oauth Token expired");
    // Unknown tokens are 80200001.
    let (_, answer) = send(&sim, "unknown", &message(&["t1"])).await;
    assert_eq!(answer["code"], "80200001");
    // A new token works again.
    let fresh = token_for(&sim, CLIENT_ID, SECRET).await;
    assert_eq!(send(&sim, &fresh, &message(&["t1"])).await.0, 200);
}

#[tokio::test]
async fn the_token_lifetime_is_a_setting() {
    let sim = start().await;
    sim.set_settings(Settings {
        token_ttl_secs: 60,
        ..Settings::default()
    })
    .unwrap();
    sim.set_clock(SimClock::Fixed(NOON));
    let (_, answer) = token_call(&sim, TOKEN_PATH, &credentials(CLIENT_ID, SECRET)).await;
    assert_eq!(answer["expires_in"], 60);
    let token = answer["access_token"].as_str().unwrap().to_owned();
    sim.set_clock(SimClock::Fixed(NOON + 59_999));
    assert_eq!(code(&sim, &token, &message(&["t1"])).await, 200);
    sim.set_clock(SimClock::Fixed(NOON + 60_000));
    assert_eq!(code(&sim, &token, &message(&["t1"])).await, 401);
    assert!(sim
        .set_settings(Settings {
            token_ttl_secs: 0,
            ..Settings::default()
        })
        .is_err());
}

#[tokio::test]
async fn tokens_are_invalidated_on_command() {
    let sim = start().await;
    let mine = token(&sim).await;
    let other = token_for(&sim, OTHER_CLIENT_ID, OTHER_SECRET).await;
    assert_eq!(sim.invalidate_access_tokens(Some(APP_ID)), 1);
    assert_eq!(code(&sim, &mine, &message(&["t1"])).await, 401);
    assert_eq!(
        send_as(&sim, OTHER_APP_ID, &other, &message(&["t1"]))
            .await
            .0,
        200
    );

    let (status, answer) = control(&sim, "access-tokens/invalidate", Some(json!({}))).await;
    assert_eq!(
        (status, answer),
        (200, json!({"ok": true, "invalidated": 1}))
    );
    assert_eq!(
        send_as(&sim, OTHER_APP_ID, &other, &message(&["t1"]))
            .await
            .0,
        401
    );
    let (_, listed) = control(&sim, "access-tokens", None).await;
    assert_eq!(listed, json!([]));
    let fresh = token(&sim).await;
    let (_, listed) = control(&sim, "access-tokens", None).await;
    assert_eq!(listed[0]["access_token"], fresh.as_str());
    assert_eq!(listed[0]["app_id"], APP_ID);
}

#[tokio::test]
async fn auth_is_checked_before_the_timestamp_and_the_content_type() {
    let sim = start().await;
    let (status, answer) = send_with(
        &sim,
        APP_ID,
        &[("content-type", "text/plain")],
        &message(&["t1"]),
    )
    .await;
    assert_eq!((status, &answer["code"]), (401, &json!(401)));
}

#[tokio::test]
async fn other_paths_are_404_and_other_methods_405() {
    let sim = start().await;
    let token = token(&sim).await;
    let auth = format!("Bearer {token}");
    for path in [
        format!("/v1/{APP_ID}/messages:send"),
        format!("/api/v2/{APP_ID}/sendMessage"),
        format!("/api/v1/{APP_ID}/sendmessage"),
        "/api/v1//sendMessage".to_owned(),
        "/oauth2/v3/token".to_owned(),
        "/".to_owned(),
    ] {
        let (status, _) = raw(
            &sim,
            "POST",
            &path,
            &[("authorization", &auth)],
            message(&["t"]).to_string(),
        )
        .await;
        assert_eq!(status, 404, "{path}");
    }
    for method in ["GET", "PUT", "DELETE"] {
        let (status, _) = raw(&sim, method, &send_path(APP_ID), &[], String::new()).await;
        assert_eq!(status, 405, "{method}");
    }
    assert_eq!(sim.requests().len(), 10, "every call is recorded");
}

#[tokio::test]
async fn one_port_serves_every_host_of_both_domains() {
    let sim = start().await;
    let form = sim_kit::form::encode(credentials(CLIENT_ID, SECRET));
    let mut tokens = Vec::new();
    for (host, path) in [
        ("iam.developer.hihonor.com", TOKEN_PATH),
        ("iam.developer.honor.com", TOKEN_PATH),
        ("iam.developer.hihonor.com", TOKEN_PATH_SHORT),
        ("iam.developer.honor.com", TOKEN_PATH_SHORT),
    ] {
        let (status, answer) = raw(
            &sim,
            "POST",
            path,
            &[("host", host), ("content-type", FORM)],
            form.clone(),
        )
        .await;
        assert_eq!(status, 200, "{host}{path}: {answer}");
        tokens.push(answer["access_token"].as_str().unwrap().to_owned());
    }
    for (host, token) in ["push-api.cloud.hihonor.com", "push-api.cloud.honor.com"]
        .iter()
        .zip(&tokens)
    {
        let auth = format!("Bearer {token}");
        let ts = now_ts(&sim);
        let (status, answer) = send_with(
            &sim,
            APP_ID,
            &[
                ("host", host),
                ("authorization", &auth),
                ("timestamp", &ts),
                ("content-type", "application/json; charset=UTF-8"),
            ],
            &message(&["t1"]),
        )
        .await;
        assert_eq!((status, &answer["code"]), (200, &json!(200)), "{host}");
    }
    let hosts: Vec<String> = sim
        .requests()
        .iter()
        .map(|r| r.header("host").unwrap_or("").to_owned())
        .collect();
    assert!(
        hosts.contains(&"push-api.cloud.honor.com".to_owned()),
        "{hosts:?}"
    );
}
