//! Helpers shared by the integration tests: they speak HTTP to the simulator
//! the way a MiPush client would.

#![allow(dead_code)]

use serde_json::Value;
use xiaomi_sim::{SimApp, SimConfig, Simulator, PATH};

pub const SECRET: &str = "c2VjcmV0LWZvci10ZXN0cw==";
pub const PACKAGE: &str = "com.example.im";
pub const OTHER_SECRET: &str = "b3RoZXItc2VjcmV0";
pub const OTHER_PACKAGE: &str = "com.example.other";

/// Unlimited quota as `day_quota` shows it.
pub const UNLIMITED: &str = "9223372036854775807";

pub use sim_kit::testing::{
    encode_form as encode, form_with as with, form_without as without, Form,
};

pub fn app() -> SimApp {
    SimApp::new(SECRET, PACKAGE)
}

pub fn other_app() -> SimApp {
    SimApp::new(OTHER_SECRET, OTHER_PACKAGE)
}

pub async fn start() -> Simulator {
    Simulator::start(SimConfig {
        apps: vec![app(), other_app()],
    })
    .await
    .expect("simulator starts")
}

/// A notification to `registration_id` that Xiaomi accepts.
pub fn message(registration_id: &str) -> Form {
    [
        ("registration_id", registration_id),
        ("restricted_package_name", PACKAGE),
        ("pass_through", "0"),
        ("title", "Alice"),
        ("description", "Hi, are you free tonight?"),
        ("payload", "%7B%22conv%22%3A%22c2c_alice%22%7D"),
        ("notify_type", "-1"),
        ("time_to_live", "86400000"),
        ("notify_id", "12345"),
        ("extra.notify_effect", "1"),
        ("extra.ext", "{\"conv\":\"c2c_alice\"}"),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect()
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

/// `POST /v3/message/regid` of `form` with `Authorization: key=<secret>`.
pub async fn post_as(sim: &Simulator, secret: &str, form: &Form) -> (u16, Value) {
    let auth = format!("key={secret}");
    let (status, text) = raw(
        sim,
        "POST",
        PATH,
        &[
            ("authorization", &auth),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=UTF-8",
            ),
        ],
        encode(form),
    )
    .await;
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// [`post_as`] the app; the answer must be HTTP 200 and carry a `code`.
pub async fn send(sim: &Simulator, form: &Form) -> Value {
    let (status, answer) = post_as(sim, SECRET, form).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["code"].is_i64(), "{answer}");
    answer
}

/// The `code` of [`send`]; a refusal must be Xiaomi's error shape.
pub async fn code(sim: &Simulator, form: &Form) -> i64 {
    let answer = send(sim, form).await;
    let code = answer["code"].as_i64().unwrap();
    if code != 0 {
        assert_eq!(answer["result"], "error", "{answer}");
        assert!(answer["description"].is_string(), "{answer}");
        assert!(answer["reason"].is_string(), "{answer}");
        assert!(answer.get("data").is_none(), "{answer}");
    }
    code
}

/// A `/_sim/*` call: a POST of `body` when given, else a GET.
pub async fn control(sim: &Simulator, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    sim_kit::testing::control_call(&sim.base_url(), path_and_query, body).await
}

/// `n` regIds `<prefix>-0..`.
pub fn reg_ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}
