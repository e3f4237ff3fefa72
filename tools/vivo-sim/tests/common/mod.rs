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

/// A POST with a JSON body (and the `authToken` header when given).
pub async fn post(sim: &Simulator, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
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

pub async fn token_for(sim: &Simulator, app_id: u64, app_key: &str, app_secret: &str) -> String {
    let (status, answer) = post(
        sim,
        "/message/auth",
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

/// A `/message/saveListPayload` body that vivo accepts.
pub fn list_payload() -> Value {
    let mut body = message("unused");
    let fields = body.as_object_mut().unwrap();
    fields.remove("regId");
    fields.remove("extra");
    fields.insert("requestId".to_owned(), json!("save-1"));
    body
}

pub fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

pub fn without(mut body: Value, field: &str) -> Value {
    body.as_object_mut().unwrap().remove(field);
    body
}
