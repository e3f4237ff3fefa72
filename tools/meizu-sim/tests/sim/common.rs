//! Helpers shared by the integration tests: they speak HTTP to the simulator
//! the way a Flyme Push client would.

#![allow(dead_code)]

use md5::{Digest, Md5};
use meizu_sim::{Settings, SimApp, SimConfig, Simulator, PATH};
use serde_json::{json, Value};

pub const APP_ID: &str = "100001";
pub const SECRET: &str = "a1b2c3d4e5f6app-secret";
pub const PACKAGE: &str = "com.example.im";
pub const OTHER_APP_ID: &str = "100002";
pub const OTHER_SECRET: &str = "other-secret";
pub const OTHER_PACKAGE: &str = "com.example.other";

pub use sim_kit::testing::{
    encode_form as encode, form_with as with, form_without as without, Form,
};

pub fn app() -> SimApp {
    SimApp::new(APP_ID, SECRET, PACKAGE)
}

pub fn other_app() -> SimApp {
    SimApp::new(OTHER_APP_ID, OTHER_SECRET, OTHER_PACKAGE)
}

/// A simulator with both apps; the per-minute collapse (520) is off, so
/// that tests may send many messages to one pushId (tests of 520 turn it on).
pub async fn start() -> Simulator {
    Simulator::start(SimConfig {
        apps: vec![app(), other_app()],
        settings: Settings {
            per_device_per_minute: None,
            ..Settings::default()
        },
    })
    .await
    .expect("simulator starts")
}

/// A private notification Meizu accepts.
pub fn message_json() -> Value {
    json!({
        "noticeBarInfo": {"noticeMsgType": 1, "title": "Alice", "content": "Hi, are you free tonight?"},
        "clickTypeInfo": {"clickType": 0, "parameters": {"ext": "{\"conv\":\"c2c_alice\"}"}},
        "pushTimeInfo": {"offLine": 1, "validTime": 24},
        "advanceInfo": {"notifyKey": "c2c_al"},
    })
}

/// The §15.2 sign, written here on its own: sorted `name=value` pairs with
/// no separator, then the secret, lowercase hex MD5.
pub fn sign_of(form: &Form, secret: &str) -> String {
    let mut pairs: Vec<&(String, String)> = form.iter().filter(|(n, _)| n != "sign").collect();
    pairs.sort();
    let mut text = String::new();
    for (name, value) in pairs {
        text.push_str(name);
        text.push('=');
        text.push_str(value);
    }
    text.push_str(secret);
    hex::encode(Md5::digest(text.as_bytes()))
}

/// `form` with its `sign` (replaced) made with `secret`.
pub fn signed_with(form: Form, secret: &str) -> Form {
    let form = without(form, "sign");
    let sign = sign_of(&form, secret);
    with(form, "sign", &sign)
}

/// The app's unsigned form for `push_ids` and `message`.
pub fn unsigned(push_ids: &str, message: &Value) -> Form {
    [
        ("appId", APP_ID),
        ("pushIds", push_ids),
        ("messageJson", &message.to_string()),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect()
}

/// The app's signed form for `push_ids` and `message`.
pub fn form_for(push_ids: &str, message: &Value) -> Form {
    signed_with(unsigned(push_ids, message), SECRET)
}

/// The app's signed form for `push_ids` and [`message_json`].
pub fn form(push_ids: &str) -> Form {
    form_for(push_ids, &message_json())
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

/// `POST` of `form` to the send path; the status and the JSON (or text).
pub async fn post(sim: &Simulator, form: &Form) -> (u16, Value) {
    let (status, text) = raw(
        sim,
        "POST",
        PATH,
        &[(
            "content-type",
            "application/x-www-form-urlencoded;charset=UTF-8",
        )],
        encode(form),
    )
    .await;
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// [`post`]; the answer must be HTTP 200 in Meizu's envelope.
pub async fn send(sim: &Simulator, form: &Form) -> Value {
    let (status, answer) = post(sim, form).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["code"].is_string(), "{answer}");
    assert!(answer["message"].is_string(), "{answer}");
    assert_eq!(answer["redirect"], "", "{answer}");
    if answer["code"] != "200" {
        assert_eq!(answer["value"], "", "{answer}");
        assert!(answer.get("msgId").is_none(), "{answer}");
    }
    answer
}

/// The `code` of [`send`].
pub async fn code(sim: &Simulator, form: &Form) -> String {
    send(sim, form).await["code"].as_str().unwrap().to_owned()
}

/// Sends [`message_json`] changed by `change`; the code.
pub async fn code_of(sim: &Simulator, change: impl FnOnce(&mut Value)) -> String {
    let mut message = message_json();
    change(&mut message);
    code(sim, &form_for("pid-a", &message)).await
}

/// Sends to `push_ids`; must be accepted; the answer's `value` map.
pub async fn failures(sim: &Simulator, push_ids: &str) -> Value {
    let answer = send(sim, &form(push_ids)).await;
    assert_eq!(answer["code"], "200", "{answer}");
    answer["value"].clone()
}

/// A `/_sim/*` call: a POST of `body` when given, else a GET.
pub async fn control(sim: &Simulator, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    sim_kit::testing::control_call(&sim.base_url(), path_and_query, body).await
}

/// `n` pushIds `<prefix>0..`, comma-joined.
pub fn push_ids(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{prefix}{i}"))
        .collect::<Vec<_>>()
        .join(",")
}
