//! Helpers shared by the integration tests: they speak HTTP to the simulator
//! the way an Honor Push client would.

#![allow(dead_code)]

use honor_sim::{send_path, SimApp, SimConfig, Simulator, TOKEN_PATH};
use serde_json::{json, Value};

pub const APP_ID: &str = "104470001";
pub const CLIENT_ID: &str = "client-104470001";
pub const SECRET: &str = "c2VjcmV0LWZvci10ZXN0cw==";
pub const OTHER_APP_ID: &str = "104470002";
pub const OTHER_CLIENT_ID: &str = "client-104470002";
pub const OTHER_SECRET: &str = "b3RoZXItc2VjcmV0";

/// 2024-06-01 12:00 UTC+8.
pub const NOON: i64 = 1_717_214_400_000;

pub fn app() -> SimApp {
    SimApp::new(APP_ID, CLIENT_ID, SECRET)
}

pub fn other_app() -> SimApp {
    SimApp::new(OTHER_APP_ID, OTHER_CLIENT_ID, OTHER_SECRET)
}

pub async fn start() -> Simulator {
    Simulator::start(SimConfig {
        apps: vec![app(), other_app()],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// A notification to `tokens` that Honor accepts.
pub fn message(tokens: &[&str]) -> Value {
    json!({
        "token": tokens,
        "data": "{\"conv\":\"c2c_alice\"}",
        "android": {
            "ttl": "86400s",
            "biTag": "chat-1",
            "notification": {
                "title": "Alice",
                "body": "Hi, are you free tonight?",
                "clickAction": {"type": 3},
                "importance": "NORMAL",
                "notifyId": 12345,
            },
        },
    })
}

/// `value` with the field at the dotted `path` set (objects created as needed).
pub fn with(mut value: Value, path: &str, field: Value) -> Value {
    let mut at = &mut value;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        if !at.get(*part).is_some_and(Value::is_object) {
            at[*part] = json!({});
        }
        at = &mut at[*part];
    }
    at[parts[parts.len() - 1]] = field;
    value
}

/// `value` without the field at the dotted `path`.
pub fn without(mut value: Value, path: &str) -> Value {
    let mut at = &mut value;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        at = &mut at[*part];
    }
    if let Some(object) = at.as_object_mut() {
        object.remove(parts[parts.len() - 1]);
    }
    value
}

/// A raw call: method, path, headers, body; the status and the body (JSON
/// when it parses, else the text as a string).
pub async fn raw(
    sim: &Simulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> (u16, Value) {
    let (status, text) =
        sim_kit::testing::raw_call(&sim.base_url(), method, path, headers, body).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A token call with this form body.
pub async fn token_call(sim: &Simulator, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    raw(
        sim,
        "POST",
        path,
        &[("content-type", "application/x-www-form-urlencoded")],
        sim_kit::form::encode(form.iter().copied()),
    )
    .await
}

/// An access token for these client credentials.
pub async fn token_for(sim: &Simulator, client_id: &str, secret: &str) -> String {
    let (status, answer) = token_call(
        sim,
        TOKEN_PATH,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["access_token"].as_str().unwrap().to_owned()
}

/// An access token of the app.
pub async fn token(sim: &Simulator) -> String {
    token_for(sim, CLIENT_ID, SECRET).await
}

/// The simulator's clock as a 13-digit `timestamp`.
pub fn now_ts(sim: &Simulator) -> String {
    sim.now_ms().to_string()
}

/// `sendMessage` of `app_id` with these headers.
pub async fn send_with(
    sim: &Simulator,
    app_id: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, Value) {
    raw(sim, "POST", &send_path(app_id), headers, body.to_string()).await
}

/// `sendMessage` of the app as a client does it: Bearer, timestamp now, JSON.
pub async fn send_as(sim: &Simulator, app_id: &str, token: &str, body: &Value) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let ts = now_ts(sim);
    send_with(
        sim,
        app_id,
        &[
            ("authorization", &auth),
            ("timestamp", &ts),
            ("content-type", "application/json; charset=UTF-8"),
        ],
        body,
    )
    .await
}

/// [`send_as`] to the app.
pub async fn send(sim: &Simulator, token: &str, body: &Value) -> (u16, Value) {
    send_as(sim, APP_ID, token, body).await
}

/// The body `code` of a `code:200`-shaped answer, checking the HTTP status
/// mirrors it and errors carry a `message`.
pub async fn code(sim: &Simulator, token: &str, body: &Value) -> i64 {
    let (status, answer) = send(sim, token, body).await;
    let code = answer["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(i64::from(status), code, "{answer}");
    assert!(answer["message"].is_string(), "{answer}");
    if code != 200 {
        assert!(answer.get("data").is_none(), "{answer}");
    }
    code
}

/// A `/_sim/*` call: a POST of `body` when given, else a GET.
pub async fn control(sim: &Simulator, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    sim_kit::testing::control_call(&sim.base_url(), path_and_query, body).await
}

/// `n` tokens `<prefix>-0..`.
pub fn tokens(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}
