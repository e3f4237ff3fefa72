//! The Authorization header and the transport checks.

use serde_json::{json, Value};
use xiaomi_sim::PATH;

use crate::common::*;

const FORM_TYPE: &str = "application/x-www-form-urlencoded";

/// A POST of the valid message with these headers; status and parsed body.
async fn post_with(headers: &[(&str, &str)]) -> (u16, Value) {
    let sim = start().await;
    let (status, text) = raw(&sim, "POST", PATH, headers, encode(&message("reg-a"))).await;
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    assert!(sim.deliveries().len() <= 1);
    (status, value)
}

#[tokio::test]
async fn the_app_secret_in_a_lowercase_key_header_is_required_exactly() {
    let auth_failed = json!({
        "result": "error",
        "code": 21301,
        "description": "认证失败",
        "reason": "Invalid application secret."
    });
    let right = format!("key={SECRET}");
    assert_eq!(
        post_with(&[("authorization", &right), ("content-type", FORM_TYPE)])
            .await
            .1["code"],
        0
    );
    for auth in [
        None,
        Some(format!("Key={SECRET}")),
        Some(format!("KEY={SECRET}")),
        Some(format!("key= {SECRET}")),
        Some(SECRET.to_owned()),
        Some(format!("Bearer {SECRET}")),
        Some("key=wrong".to_owned()),
        Some("key=".to_owned()),
    ] {
        let mut headers = vec![("content-type", FORM_TYPE)];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth));
        }
        let (status, answer) = post_with(&headers).await;
        assert_eq!((status, answer), (200, auth_failed.clone()), "{auth:?}");
    }
}

#[tokio::test]
async fn each_secret_names_its_own_app_and_package() {
    let sim = start().await;
    let other = with(message("reg-a"), "restricted_package_name", OTHER_PACKAGE);
    assert_eq!(post_as(&sim, OTHER_SECRET, &other).await.1["code"], 0);
    assert_eq!(
        post_as(&sim, OTHER_SECRET, &message("reg-a")).await.1["code"],
        22022
    );
    assert_eq!(post_as(&sim, SECRET, &other).await.1["code"], 22022);
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].package_name, OTHER_PACKAGE);
}

#[tokio::test]
async fn the_body_must_be_a_utf8_form() {
    let right = format!("key={SECRET}");
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
        (Some("application/x-www-form-urlencoded; charset=GBK"), 415),
    ] {
        let mut headers = vec![("authorization", right.as_str())];
        if let Some(content_type) = content_type {
            headers.push(("content-type", content_type));
        }
        let (got, answer) = post_with(&headers).await;
        assert_eq!(got, status, "{content_type:?}: {answer}");
        if status == 200 {
            assert_eq!(answer["code"], 0, "{answer}");
        } else {
            assert!(answer.is_string(), "plain text: {answer}");
        }
    }
}

#[tokio::test]
async fn the_secret_is_checked_before_the_content_type() {
    let (status, answer) = post_with(&[("content-type", "application/json")]).await;
    assert_eq!((status, &answer["code"]), (200, &json!(21301)));
}

#[tokio::test]
async fn a_malformed_form_answers_400_and_a_repeated_field_10017() {
    let sim = start().await;
    let auth = format!("key={SECRET}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", FORM_TYPE),
    ];
    for body in ["registration_id=%zz", "title=%E4%BD", "a=%4"] {
        let (status, text) = raw(&sim, "POST", PATH, &headers, body.to_owned()).await;
        assert_eq!(status, 400, "{body}: {text}");
    }
    let mut form = message("reg-a");
    form.push(("title".to_owned(), "Bob".to_owned()));
    assert_eq!(code(&sim, &form).await, 10017);
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn other_paths_are_404_and_other_methods_405() {
    let sim = start().await;
    let auth = format!("key={SECRET}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", FORM_TYPE),
    ];
    for path in [
        "/v3/message/alias",
        "/v2/message/regid",
        "/v3/message/topic",
        "/v3/message/all",
        "/",
    ] {
        let (status, _) = raw(&sim, "POST", path, &headers, encode(&message("a"))).await;
        assert_eq!(status, 404, "{path}");
    }
    for method in ["GET", "PUT", "DELETE"] {
        let (status, _) = raw(&sim, method, PATH, &headers, String::new()).await;
        assert_eq!(status, 405, "{method}");
    }
    assert_eq!(sim.requests().len(), 8, "every call is recorded");
}

#[tokio::test]
async fn bodies_over_4_mib_answer_413() {
    let sim = start().await;
    let auth = format!("key={SECRET}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", FORM_TYPE),
    ];
    let body = format!("payload={}", "a".repeat(4 * 1024 * 1024));
    let (status, _) = raw(&sim, "POST", PATH, &headers, body).await;
    assert_eq!(status, 413);
}
