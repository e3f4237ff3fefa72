//! The `oppo-sim` binary.

use std::process::{Child, Command, Stdio};

use oppo_sim::{AUTH_PATH, UNICAST_PATH};
use serde_json::{json, Value};

use crate::common::*;

/// Starts the binary; the child and its base URL (from its first line).
fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    sim_kit::testing::spawn_binary(env!("CARGO_BIN_EXE_oppo-sim"), "oppo-sim", args, envs)
}

/// SIGTERM, then the exit must be clean; the logs.
fn stop(child: Child) -> String {
    sim_kit::testing::stop_binary(child)
}

async fn post(base: &str, path: &str, form: &Form) -> Value {
    oppo_sim::http_client()
        .post(format!("{base}{path}"))
        .header("content-type", FORM_TYPE)
        .body(encode(form))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// GET `/_sim/<path>`; the JSON answer.
async fn get(base: &str, path: &str) -> Value {
    sim_kit::testing::control_call(base, path, None).await.1
}

fn now_ms() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(elapsed.as_millis()).unwrap()
}

/// Auth then one unicast; both answers.
async fn auth_and_send(base: &str, key: &str, secret: &str) -> (Value, Value) {
    let auth = post(base, AUTH_PATH, &auth_form(key, now_ms(), secret)).await;
    let token = auth["data"]["auth_token"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    let sent = post(base, UNICAST_PATH, &unicast_form(&token, &message("r1"))).await;
    (auth, sent)
}

#[test]
fn the_binary_serves_the_apps_and_settings_it_is_given_and_stops_on_sigterm() {
    let secret = "binary-master-secret-do-not-log";
    let app = format!("{APP_ID}:{APP_KEY}:{secret}");
    let (child, base) = spawn(
        &[
            "--port",
            "0",
            "--app",
            &app,
            "--create-time",
            "string",
            "--camel-case",
            "--no-header-token",
            "--future-skew-ms",
            "5000",
            "--receipt-targets",
            "7",
            "--receipt-delay-ms",
            "250",
        ],
        &[("OPPO_SIM_APPS", "1:env-key:env-secret")],
    );
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ((auth, sent), (env_auth, _), settings, receipts) = runtime.block_on(async {
        (
            auth_and_send(&base, APP_KEY, secret).await,
            auth_and_send(&base, "env-key", "env-secret").await,
            get(&base, "settings").await,
            get(&base, "receipt-settings").await,
        )
    });
    let logs = stop(child);
    assert!(auth["data"]["create_time"].is_string(), "{auth}");
    assert_eq!(sent["code"], 0, "{sent}");
    assert_eq!(env_auth["code"], 14, "--app replaces OPPO_SIM_APPS");
    assert_eq!(
        settings,
        json!({"create_time": "string", "header_token": false, "camel_case": true,
               "future_skew_ms": 5000, "receipt_targets": 7})
    );
    assert_eq!(receipts["delay_ms"], 250);
    assert!(!logs.contains(secret), "the secret leaked: {logs}");
    assert!(logs.contains("oppo call"), "{logs}");
}

#[test]
fn the_binary_reads_its_environment() {
    let (child, base) = spawn(
        &[],
        &[
            ("OPPO_SIM_PORT", "0"),
            ("OPPO_SIM_APPS", "1:key-a:secret-a,2:key-b:secret-b"),
            ("OPPO_SIM_CREATE_TIME", "string"),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answers = runtime.block_on(async {
        [
            auth_and_send(&base, "key-a", "secret-a").await,
            auth_and_send(&base, "key-b", "secret-b").await,
            auth_and_send(&base, "key-a", "secret-b").await,
        ]
    });
    stop(child);
    let codes: Vec<(Value, Value)> = answers
        .iter()
        .map(|(auth, sent)| (auth["code"].clone(), sent["code"].clone()))
        .collect();
    assert_eq!(
        codes,
        [
            (json!(0), json!(0)),
            (json!(0), json!(0)),
            (json!(16), json!(11))
        ]
    );
    assert!(answers[0].0["data"]["create_time"].is_string());
}

#[test]
fn the_binary_refuses_bad_flags() {
    for args in [
        &["--port", "0", "--app", "no-secret"][..],
        &["--port", "0", "--app", "1:key"][..],
        &["--port", "0", "--create-time", "date"][..],
        &["--port", "0", "--receipt-targets", "0"][..],
        &["--port", "x"][..],
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_oppo-sim"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{args:?}");
    }
}
