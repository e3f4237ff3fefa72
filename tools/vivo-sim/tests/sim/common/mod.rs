//! Helpers shared by the integration tests: they speak HTTP to the simulator
//! the way a vivo client would.

#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use vivo_sim::{SimApp, SimConfig, Simulator};

pub const APP_ID: u64 = 10004;
pub const APP_KEY: &str = "25509283-3767-4b9e-83fe-b6e55ac6243e";
pub const APP_SECRET: &str = "7265f2a4-ebbb-44bf-88b9-b03e67dfdc21";

pub const OTHER_APP_ID: u64 = 20008;
pub const OTHER_APP_KEY: &str = "other-key";
pub const OTHER_APP_SECRET: &str = "other-secret";

pub const AUTH: &str = "/message/auth";
pub const SEND: &str = "/message/send";
pub const SAVE: &str = "/message/saveListPayload";
pub const PUSH: &str = "/message/pushToList";

pub fn app() -> SimApp {
    SimApp {
        app_id: APP_ID,
        app_key: APP_KEY.to_owned(),
        app_secret: APP_SECRET.to_owned(),
    }
}

pub fn other_app() -> SimApp {
    SimApp {
        app_id: OTHER_APP_ID,
        app_key: OTHER_APP_KEY.to_owned(),
        app_secret: OTHER_APP_SECRET.to_owned(),
    }
}

pub async fn start() -> Simulator {
    Simulator::start(SimConfig {
        apps: vec![app(), other_app()],
    })
    .await
    .expect("simulator starts")
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn auth_body(app_id: u64, app_key: &str, app_secret: &str, timestamp: i64) -> Value {
    json!({
        "appId": app_id,
        "appKey": app_key,
        "timestamp": timestamp,
        "sign": vivo_sim::sign(app_id, app_key, timestamp, app_secret),
    })
}

/// An auth body for the app, signed now.
pub fn auth_now() -> Value {
    auth_body(APP_ID, APP_KEY, APP_SECRET, now_ms())
}

/// A POST with a JSON body (and the `authToken` header when given).
pub async fn post(sim: &Simulator, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = vivo_sim::http_client()
        .post(format!("{}{path}", sim.base_url()))
        .json(body);
    if let Some(token) = token {
        request = request.header("authToken", token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body read");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// `/message/auth` for the app, signed now.
pub async fn auth(sim: &Simulator) -> (u16, Value) {
    post(sim, AUTH, None, &auth_now()).await
}

pub async fn token_for(sim: &Simulator, app_id: u64, app_key: &str, app_secret: &str) -> String {
    let (status, answer) = post(
        sim,
        AUTH,
        None,
        &auth_body(app_id, app_key, app_secret, now_ms()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["result"], 0, "{answer}");
    answer["authToken"].as_str().expect("authToken").to_owned()
}

pub async fn token(sim: &Simulator) -> String {
    token_for(sim, APP_ID, APP_KEY, APP_SECRET).await
}

pub async fn other_token(sim: &Simulator) -> String {
    token_for(sim, OTHER_APP_ID, OTHER_APP_KEY, OTHER_APP_SECRET).await
}

/// `/message/send` of [`message`] to `reg_id`.
pub async fn send(sim: &Simulator, token: &str, reg_id: &str) -> (u16, Value) {
    post(sim, SEND, Some(token), &message(reg_id)).await
}

/// The `result` of a vivo call that must answer HTTP 200; a refusal must carry
/// a `desc` and no `taskId`.
pub async fn result(sim: &Simulator, path: &str, token: &str, body: &Value) -> Value {
    let (status, answer) = post(sim, path, Some(token), body).await;
    assert_eq!(status, 200, "{answer}");
    if answer["result"] != 0 {
        assert!(answer["desc"].is_string(), "{answer}");
        assert!(answer.get("taskId").is_none(), "{answer}");
    }
    answer["result"].clone()
}

/// Stores a list payload that must be accepted; its taskId.
pub async fn save(sim: &Simulator, token: &str, body: &Value) -> String {
    let (_, answer) = post(sim, SAVE, Some(token), body).await;
    assert_eq!(answer["result"], 0, "{answer}");
    answer["taskId"].as_str().unwrap().to_owned()
}

/// A `/_sim/*` call: a POST of `body` when given, else a GET.
pub async fn control(sim: &Simulator, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    sim_kit::testing::control_call(&sim.base_url(), path_and_query, body).await
}

/// A `/_sim/*` call that must be refused: HTTP 400 with an `error` text.
pub async fn assert_control_refuses(sim: &Simulator, path_and_query: &str, body: Option<Value>) {
    let shown = body.as_ref().map_or_else(String::new, Value::to_string);
    let (status, answer) = control(sim, path_and_query, body).await;
    assert_eq!(status, 400, "{path_and_query} {shown}");
    assert!(answer["error"].is_string(), "{answer}");
}

/// A `/message/send` body that vivo accepts.
pub fn message(reg_id: &str) -> Value {
    json!({
        "appId": APP_ID,
        "regId": reg_id,
        "notifyType": 4,
        "title": "Alice",
        "content": "Hi, are you free tonight?",
        "timeToLive": 86400,
        "skipType": 4,
        "skipContent": "intent://im/chat?conv=c2c_alice#Intent;scheme=myapp;launchFlags=0x4000000;end",
        "category": "IM",
        "classification": 1,
        "clientCustomMap": {"ext": "{\"conv\":\"c2c_alice\"}"},
        "extra": {"callback.id": "1234", "callback.param": "msg-1"},
        "requestId": "9f1c2b1e-5d4a-4a8e-9c55-1f0e2d3c4b5a",
        "pushMode": 0,
        "notifyId": 12345
    })
}

/// [`message`] as an operational message, by category and by classification.
pub fn operational(reg_id: &str) -> Value {
    with(
        with(message(reg_id), "category", json!("MARKETING")),
        "classification",
        json!(0),
    )
}

/// A `/message/saveListPayload` body that vivo accepts.
pub fn list_payload() -> Value {
    let mut body = message("unused");
    let fields = body.as_object_mut().unwrap();
    fields.remove("regId");
    fields.remove("extra");
    fields.insert("requestId".to_owned(), json!("save-1"));
    body
}

/// [`list_payload`] as an operational message, by category and by classification.
pub fn operational_list_payload() -> Value {
    with(
        with(list_payload(), "category", json!("NEWS")),
        "classification",
        json!(0),
    )
}

pub fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

pub fn without(mut body: Value, field: &str) -> Value {
    body.as_object_mut().unwrap().remove(field);
    body
}
