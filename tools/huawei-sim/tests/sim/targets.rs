//! Tokens, verdicts, partial success, app states and the body limit (§4.2, §4.3).

use std::collections::BTreeMap;

use huawei_sim::{Settings, SimApp, TokenVerdict};
use serde_json::{json, Value};

use crate::common::*;

fn with_tokens(tokens: &[String]) -> Value {
    set(message(&[]), "/message/token", Some(json!(tokens)))
}

#[tokio::test]
async fn up_to_1000_tokens_per_call_and_80300010_past_it() {
    let sim = start().await;
    let (status, answer) = send(&sim, &with_tokens(&tokens("t", 1000))).await;
    assert_eq!((status, answer["code"].as_str()), (200, Some("80000000")));
    assert_eq!(sim.deliveries().len(), 1000);
    let (status, answer) = send(&sim, &with_tokens(&tokens("t", 1001))).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("80300010")),
        "{answer}"
    );
    assert_eq!(sim.deliveries().len(), 1000);
}

#[tokio::test]
async fn some_illegal_tokens_are_a_partial_success_with_a_json_string_msg() {
    let sim = start().await;
    sim.set_token("bad-1", TokenVerdict::Illegal);
    sim.set_token("bad-2", TokenVerdict::Illegal);
    let (status, answer) = send(&sim, &message(&["t1", "bad-1", "t2", "bad-2"])).await;
    assert_eq!(status, 200);
    assert_eq!(answer["code"], "80100000");
    let msg: Value =
        serde_json::from_str(answer["msg"].as_str().expect("msg is a string")).unwrap();
    assert_eq!(
        msg,
        json!({"success": 2, "failure": 2, "illegal_tokens": ["bad-1", "bad-2"]})
    );
    let delivered: Vec<String> = sim.deliveries().into_iter().map(|d| d.token).collect();
    assert_eq!(delivered, ["t1", "t2"]);

    let (status, answer) = send(&sim, &message(&["bad-1", "bad-2"])).await;
    assert_eq!((status, answer["code"].as_str()), (200, Some("80300007")));
    assert_eq!(sim.deliveries().len(), 2);

    sim.set_token("bad-1", TokenVerdict::Valid);
    assert_eq!(code(&sim, &message(&["bad-1"])).await, "80000000");
}

#[tokio::test]
async fn tokens_with_a_receipt_status_are_accepted_and_recorded_with_it() {
    let sim = start().await;
    sim.set_token("gone", TokenVerdict::Status(2));
    sim.set_token("muted", TokenVerdict::Status(6));
    assert_eq!(
        code(&sim, &message(&["gone", "muted", "ok"])).await,
        "80000000"
    );
    let statuses: Vec<u32> = sim.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [2, 6, 0]);
}

#[tokio::test]
async fn a_misconfigured_app_gets_80300007_and_an_app_without_push_80300002() {
    let sim = start().await;
    sim.add_app(SimApp {
        misconfigured: true,
        ..app()
    });
    assert_eq!(code(&sim, &message(&["t1"])).await, "80300007");
    // A format error is still reported first.
    assert_eq!(
        code(
            &sim,
            &set(message(&["t1"]), "/message/token", Some(json!([])))
        )
        .await,
        "80100003"
    );
    sim.add_app(SimApp {
        push_enabled: false,
        ..app()
    });
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("80300002")),
        "{answer}"
    );
    assert!(answer["msg"].as_str().unwrap().contains(APP));
    // Before the body is looked at.
    let (_, answer) = send(&sim, &json!({"nonsense": true})).await;
    assert_eq!(answer["code"], "80300002");
    sim.add_app(app());
    assert_eq!(code(&sim, &message(&["t1"])).await, "80000000");
    assert!(sim.deliveries().iter().all(|d| d.token == "t1"));
    assert_eq!(sim.deliveries().len(), 1);
}

/// A body whose compact JSON without `message.token` is `size` bytes.
fn body_of_size(size: usize, token_count: usize) -> Value {
    let base = set(message(&[]), "/message/data", Some(json!("")));
    let mut without = base.clone();
    without["message"].as_object_mut().unwrap().remove("token");
    let pad = size - without.to_string().len();
    let body = set(base, "/message/data", Some(json!("x".repeat(pad))));
    set(
        body,
        "/message/token",
        Some(json!(tokens("tok", token_count))),
    )
}

#[tokio::test]
async fn the_body_limit_is_4096_bytes_without_the_tokens() {
    let sim = start().await;
    // 1000 tokens do not count towards the limit.
    let (_, answer) = send(&sim, &body_of_size(4096, 1000)).await;
    assert_eq!(answer["code"], "80000000", "{answer}");
    let (status, answer) = send(&sim, &body_of_size(4097, 1)).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("80300008")));
    sim.set_settings(Settings {
        body_limit: 5000,
        ..Settings::default()
    })
    .unwrap();
    assert_eq!(code(&sim, &body_of_size(5000, 1)).await, "80000000");
    assert_eq!(code(&sim, &body_of_size(5001, 1)).await, "80300008");
}

#[tokio::test]
async fn the_http_status_of_a_code_is_a_setting() {
    let sim = start().await;
    sim.set_token("bad", TokenVerdict::Illegal);
    assert_eq!(send(&sim, &message(&["bad"])).await.0, 200);
    let mut http_status = BTreeMap::new();
    http_status.insert("80300007".to_owned(), 400);
    sim.set_settings(Settings {
        http_status,
        ..Settings::default()
    })
    .unwrap();
    let (status, answer) = send(&sim, &message(&["bad"])).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("80300007")));
    let defaults = Settings::default();
    for (code, status) in [
        ("80000000", 200),
        ("80100000", 200),
        ("80300007", 200),
        ("80200001", 401),
        ("80200003", 401),
        ("80200005", 401),
        ("81000001", 500),
        ("80100003", 400),
        ("80300008", 400),
    ] {
        assert_eq!(defaults.http_status_of(code), status, "{code}");
    }
}

#[tokio::test]
async fn a_token_given_twice_is_delivered_twice() {
    let sim = start().await;
    assert_eq!(code(&sim, &message(&["t1", "t1"])).await, "80000000");
    assert_eq!(sim.deliveries().len(), 2);
}
