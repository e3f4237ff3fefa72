//! Paths, methods, content types, encodings and body size.

use oppo_sim::{AUTH_PATH, BROADCAST_PATH, SAVE_MESSAGE_PATH, UNICAST_BATCH_PATH, UNICAST_PATH};
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn other_paths_are_404_and_other_methods_code_12() {
    let sim = start().await;
    let body = encode(&auth_form(APP_KEY, sim.now_ms(), MASTER));
    for path in [
        "/server/v1/message/notification/unicast/",
        "/server/v2/auth",
        "/server/v1/message/notification/tags",
        "/server/v1/feedback/fetch_invalid_regidList",
        "/",
    ] {
        let (status, _) = raw(
            &sim,
            "POST",
            path,
            &[("content-type", FORM_TYPE)],
            body.clone(),
        )
        .await;
        assert_eq!(status, 404, "{path}");
    }
    for path in [
        AUTH_PATH,
        UNICAST_PATH,
        UNICAST_BATCH_PATH,
        SAVE_MESSAGE_PATH,
        BROADCAST_PATH,
    ] {
        for method in ["GET", "PUT", "DELETE"] {
            let (status, text) = raw(&sim, method, path, &[], String::new()).await;
            assert_eq!(status, 200, "{method} {path}");
            let answer: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(answer["code"], 12, "{method} {path}");
        }
    }
    assert_eq!(sim.requests().len(), 5 + 15, "every call is recorded");
}

#[tokio::test]
async fn the_body_must_be_a_form() {
    let sim = start().await;
    let body = encode(&auth_form(APP_KEY, sim.now_ms(), MASTER));
    for (content_type, status) in [
        (Some(FORM_TYPE), 200),
        (Some("application/x-www-form-urlencoded;charset=utf-8"), 200),
        (
            Some("Application/X-WWW-Form-URLEncoded; Charset=\"UTF-8\""),
            200,
        ),
        (None, 415),
        (Some("application/json"), 415),
        (Some("multipart/form-data; boundary=x"), 415),
        (Some("text/plain"), 415),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .iter()
            .map(|ct| ("content-type", *ct))
            .collect();
        let (got, text) = raw(&sim, "POST", AUTH_PATH, &headers, body.clone()).await;
        assert_eq!(got, status, "{content_type:?}: {text}");
        if status == 200 {
            let answer: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(answer["code"], 0, "{answer}");
        }
    }
}

#[tokio::test]
async fn encodings_other_than_utf8_are_code_25_and_malformed_forms_400() {
    let sim = start().await;
    let body = encode(&auth_form(APP_KEY, sim.now_ms(), MASTER));
    let (status, text) = raw(
        &sim,
        "POST",
        AUTH_PATH,
        &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=GBK",
        )],
        body,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["code"], 25);
    let (status, text) = raw(
        &sim,
        "POST",
        AUTH_PATH,
        &[("content-type", FORM_TYPE)],
        "app_key=%C4%E3%BA%C3".to_owned(),
    )
    .await;
    assert_eq!(
        (
            status,
            serde_json::from_str::<Value>(&text).unwrap()["code"].clone()
        ),
        (200, json!(25))
    );
    for bad in ["app_key=%zz", "app_key=%4"] {
        let (status, _) = raw(
            &sim,
            "POST",
            AUTH_PATH,
            &[("content-type", FORM_TYPE)],
            bad.to_owned(),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn a_field_given_twice_is_41() {
    let sim = start().await;
    let token = token(&sim).await;
    let mut body = unicast_form(&token, &message("r1"));
    body.push(("message".to_owned(), message("r2").to_string()));
    assert_eq!(code(&sim, UNICAST_PATH, &body).await, 41);
    let mut auth = auth_form(APP_KEY, sim.now_ms(), MASTER);
    auth.push(("app_key".to_owned(), APP_KEY.to_owned()));
    assert_eq!(code(&sim, AUTH_PATH, &auth).await, 41);
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn bodies_over_4_mib_answer_413_and_unknown_fields_are_ignored() {
    let sim = start().await;
    let token = token(&sim).await;
    let body = format!("auth_token={token}&pad={}", "a".repeat(4 * 1024 * 1024));
    let (status, _) = raw(
        &sim,
        "POST",
        UNICAST_PATH,
        &[("content-type", FORM_TYPE)],
        body,
    )
    .await;
    assert_eq!(status, 413);
    let body = with(
        with(
            unicast_form(&token, &message("r1")),
            "sdk_version",
            "JAVA_SDK_V1.1.0",
        ),
        "anything",
        "else",
    );
    assert_eq!(code(&sim, UNICAST_PATH, &body).await, 0);
    let mut extra = message("r1");
    extra["unknown"] = json!({"x": 1});
    extra["notification"]["not_a_field"] = json!([1, 2]);
    assert_eq!(unicast(&sim, &token, &extra).await["code"], 0);
}
