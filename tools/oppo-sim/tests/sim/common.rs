//! Helpers shared by the integration tests: they speak HTTP to the simulator
//! the way an OPUSH client would.

#![allow(dead_code)]

use oppo_sim::{SimApp, SimConfig, Simulator, AUTH_PATH, UNICAST_PATH};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const APP_ID: &str = "30012345";
pub const APP_KEY: &str = "c1a2b3c4d5e6f708";
pub const MASTER: &str = "master-secret-for-tests";
pub const OTHER_ID: &str = "30099999";
pub const OTHER_KEY: &str = "f0e1d2c3b4a59687";
pub const OTHER_MASTER: &str = "other-master-secret";

/// 2024-06-01 12:00 UTC+8.
pub const NOON: i64 = 1_717_214_400_000;

pub const FORM_TYPE: &str = "application/x-www-form-urlencoded";

pub use sim_kit::testing::{
    encode_form as encode, form_with as with, form_without as without, Form,
};

pub fn app() -> SimApp {
    SimApp::new(APP_ID, APP_KEY, MASTER)
}

pub fn other_app() -> SimApp {
    SimApp::new(OTHER_ID, OTHER_KEY, OTHER_MASTER)
}

pub async fn start() -> Simulator {
    Simulator::start(SimConfig {
        apps: vec![app(), other_app()],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// A simulator whose clock stands at [`NOON`].
pub async fn start_at_noon() -> Simulator {
    let sim = start().await;
    sim.set_clock(oppo_sim::SimClock::Fixed(NOON));
    sim
}

/// The test's own SHA-256 of key + timestamp + secret, lowercase hex.
pub fn signature(key: &str, timestamp: &str, secret: &str) -> String {
    hex::encode(Sha256::digest(
        format!("{key}{timestamp}{secret}").as_bytes(),
    ))
}

pub fn form(pairs: &[(&str, &str)]) -> Form {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// The auth form of `key` signed with `secret` at `timestamp`.
pub fn auth_form(key: &str, timestamp: i64, secret: &str) -> Form {
    let ts = timestamp.to_string();
    form(&[
        ("app_key", key),
        ("timestamp", &ts),
        ("sign", &signature(key, &ts, secret)),
    ])
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

/// A form POST with extra headers; the status and the body (JSON, else text).
pub async fn post_with(
    sim: &Simulator,
    path: &str,
    headers: &[(&str, &str)],
    form: &Form,
) -> (u16, Value) {
    let mut all = vec![(
        "content-type",
        "application/x-www-form-urlencoded; charset=UTF-8",
    )];
    all.extend_from_slice(headers);
    let (status, text) = raw(sim, "POST", path, &all, encode(form)).await;
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// A form POST; must be HTTP 200 with a `code`. Errors must be OPPO's shape.
pub async fn call(sim: &Simulator, path: &str, form: &Form) -> Value {
    let (status, answer) = post_with(sim, path, &[], form).await;
    assert_eq!(status, 200, "{answer}");
    let code = answer["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(answer["message"].is_string(), "{answer}");
    if code != 0 {
        assert!(answer.get("data").is_none(), "{answer}");
    }
    answer
}

pub async fn code(sim: &Simulator, path: &str, form: &Form) -> i64 {
    call(sim, path, form).await["code"].as_i64().unwrap()
}

/// A token of `key` / `secret`, signed at the simulator's clock.
pub async fn token_of(sim: &Simulator, key: &str, secret: &str) -> String {
    let answer = call(sim, AUTH_PATH, &auth_form(key, sim.now_ms(), secret)).await;
    assert_eq!(answer["code"], 0, "{answer}");
    answer["data"]["auth_token"].as_str().unwrap().to_owned()
}

pub async fn token(sim: &Simulator) -> String {
    token_of(sim, APP_KEY, MASTER).await
}

/// A notification OPPO accepts.
pub fn notification() -> Value {
    json!({
        "title": "Alice",
        "content": "Hi, are you free tonight?",
        "click_action_type": 0,
        "off_line_ttl": 86400,
        "channel_id": "im_messages",
        "notify_id": 1234,
    })
}

/// A unicast message to a registration id.
pub fn message(target: &str) -> Value {
    json!({
        "target_type": 2,
        "target_value": target,
        "notification": notification(),
    })
}

/// `message` with `notification.<field>` set (or removed for null).
pub fn message_with(target: &str, field: &str, value: Value) -> Value {
    let mut message = message(target);
    if value.is_null() {
        message["notification"]
            .as_object_mut()
            .unwrap()
            .remove(field);
    } else {
        message["notification"][field] = value;
    }
    message
}

/// The unicast form of `message` with `auth_token`.
pub fn unicast_form(token: &str, message: &Value) -> Form {
    form(&[("auth_token", token), ("message", &message.to_string())])
}

pub async fn unicast(sim: &Simulator, token: &str, message: &Value) -> Value {
    call(sim, UNICAST_PATH, &unicast_form(token, message)).await
}

/// The code of a unicast of `message` with a fresh token.
pub async fn unicast_code(sim: &Simulator, message: &Value) -> i64 {
    let token = token(sim).await;
    unicast(sim, &token, message).await["code"]
        .as_i64()
        .unwrap()
}

/// A `/_sim/*` call: a POST of `body` when given, else a GET.
pub async fn control(sim: &Simulator, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    sim_kit::testing::control_call(&sim.base_url(), path_and_query, body).await
}

/// `n` registration ids `<prefix>-0..`.
pub fn reg_ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}
