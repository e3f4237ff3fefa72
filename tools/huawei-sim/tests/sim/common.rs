//! Helpers shared by the integration tests: they speak HTTP to the simulator
//! the way a Push Kit client would.

#![allow(dead_code)]

use huawei_sim::{send_path, SimApp, SimConfig, Simulator, TOKEN_PATH};
use serde_json::{json, Value};

pub const APP: &str = "104000001";
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";
pub const OTHER_APP: &str = "104000002";
pub const OTHER_SECRET: &str = "fedcba9876543210fedcba9876543210";

/// 2024-06-01 12:00 UTC+8.
pub const NOON: i64 = 1_717_214_400_000;

pub fn app() -> SimApp {
    SimApp::new(APP, SECRET)
}

pub async fn start() -> Simulator {
    Simulator::start(SimConfig {
        apps: vec![app(), SimApp::new(OTHER_APP, OTHER_SECRET)],
    })
    .await
    .expect("simulator starts")
}

/// A raw call: method, path, headers, body; the status and the body text.
pub async fn raw(
    sim: &Simulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> (u16, String) {
    sim_kit::testing::raw_call(&sim.base_url(), method, path, headers, body).await
}

fn parse(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// The token endpoint with these form fields.
pub async fn token_call(sim: &Simulator, fields: &[(&str, &str)]) -> (u16, Value) {
    let (status, text) = raw(
        sim,
        "POST",
        TOKEN_PATH,
        &[("content-type", "application/x-www-form-urlencoded")],
        sim_kit::form::encode(fields.iter().copied()),
    )
    .await;
    (status, parse(text))
}

/// An access token of an app, through the token endpoint.
pub async fn access_token(sim: &Simulator, app_id: &str, secret: &str) -> String {
    let (status, answer) = token_call(
        sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", app_id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["access_token"].as_str().unwrap().to_owned()
}

/// POSTs `body` to an app's send path with a bearer token.
pub async fn post(sim: &Simulator, app_id: &str, bearer: &str, body: &Value) -> (u16, Value) {
    let auth = format!("Bearer {bearer}");
    let (status, text) = raw(
        sim,
        "POST",
        &send_path(app_id),
        &[
            ("authorization", &auth),
            ("content-type", "application/json;charset=UTF-8"),
        ],
        body.to_string(),
    )
    .await;
    (status, parse(text))
}

/// Sends as [`APP`] with a fresh access token; the HTTP status and answer.
pub async fn send(sim: &Simulator, body: &Value) -> (u16, Value) {
    let token = sim.issue_access_token(APP).unwrap();
    post(sim, APP, &token, body).await
}

/// The `code` of [`send`]; every answer carries `msg` and `requestId`.
pub async fn code(sim: &Simulator, body: &Value) -> String {
    let (_, answer) = send(sim, body).await;
    assert!(answer["msg"].is_string(), "{answer}");
    assert!(answer["requestId"].is_string(), "{answer}");
    answer["code"]
        .as_str()
        .expect("code is a string")
        .to_owned()
}

/// A notification to `tokens` that Huawei accepts.
pub fn message(tokens: &[&str]) -> Value {
    json!({
        "validate_only": false,
        "message": {
            "token": tokens,
            "data": "{\"conv\":\"c2c_alice\"}",
            "android": {
                "category": "IM",
                "ttl": "86400s",
                "bi_tag": "push-1",
                "notification": {
                    "title": "Alice",
                    "body": "Hi, are you free tonight?",
                    "click_action": {"type": 3},
                    "importance": "NORMAL",
                    "notify_id": 12345,
                },
            },
        },
    })
}

/// `body` with the JSON pointer `pointer` (an object member) set to `value`,
/// or removed when `value` is `None`.
pub fn set(mut body: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    let parent = body.pointer_mut(parent).expect("parent exists");
    let object = parent.as_object_mut().expect("parent is an object");
    match value {
        Some(value) => object.insert(name.to_owned(), value),
        None => object.remove(name),
    };
    body
}

/// A `/_sim/*` call: a POST of `body` when given, else a GET.
pub async fn control(sim: &Simulator, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    sim_kit::testing::control_call(&sim.base_url(), path_and_query, body).await
}

/// `n` tokens `<prefix>-0..`.
pub fn tokens(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}
