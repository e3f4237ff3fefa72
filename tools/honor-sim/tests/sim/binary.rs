//! The `honor-sim` binary.

use std::process::{Child, Command, Stdio};

use honor_sim::{send_path, TOKEN_PATH_SHORT};
use serde_json::{json, Value};

use crate::common::*;

/// Starts the binary; the child and its base URL (from its first line).
fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    sim_kit::testing::spawn_binary(env!("CARGO_BIN_EXE_honor-sim"), "honor-sim", args, envs)
}

/// SIGTERM, then the exit must be clean; the logs.
fn stop(child: Child) -> String {
    sim_kit::testing::stop_binary(child)
}

/// A token from the short path, then a send; the send's answer.
async fn token_and_send(base: &str, app_id: &str, client_id: &str, secret: &str) -> Value {
    let client = honor_sim::http_client();
    let answer: Value = client
        .post(format!("{base}{TOKEN_PATH_SHORT}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(sim_kit::form::encode([
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let Some(token) = answer["access_token"].as_str() else {
        return answer;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    client
        .post(format!("{base}{}", send_path(app_id)))
        .header("authorization", format!("Bearer {token}"))
        .header("timestamp", now.as_secs().to_string())
        .header("content-type", "application/json")
        .body(message(&["t1"]).to_string())
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

#[test]
fn the_binary_serves_the_apps_and_settings_it_is_given_and_stops_on_sigterm() {
    let secret = "binary-secret-do-not-log";
    let app = format!("300:client-300:{secret}");
    let (child, base) = spawn(
        &[
            "--port",
            "0",
            "--app",
            &app,
            "--receipt-url",
            "300=http://127.0.0.1:9/receipts",
            "--response-shape",
            "huawei",
            "--timestamp-unit",
            "seconds",
            "--token-ttl-secs",
            "120",
            "--receipt-delay-ms",
            "60000",
            "--receipt-delivered-status",
            "40000002",
        ],
        &[("HONOR_SIM_APPS", "301:client-301:env-secret")],
    );
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (sent, env_app, settings, receipts, pending) = runtime.block_on(async {
        (
            token_and_send(&base, "300", "client-300", secret).await,
            token_and_send(&base, "301", "client-301", "env-secret").await,
            get(&base, "settings").await,
            get(&base, "receipt-settings").await,
            get(&base, "receipt-pending").await,
        )
    });
    let logs = stop(child);
    assert_eq!(sent["code"], "80000000", "{sent}");
    assert_eq!(
        env_app["error"], "invalid_client",
        "--app replaces HONOR_SIM_APPS"
    );
    assert_eq!(settings["response_shape"], "huawei");
    assert_eq!(settings["timestamp_unit"], "seconds");
    assert_eq!(settings["token_ttl_secs"], 120);
    assert_eq!(settings["receipt_delivered_status"], 40_000_002);
    assert_eq!(receipts["delay_ms"], 60000);
    assert_eq!(pending[0]["url"], "http://127.0.0.1:9/receipts");
    assert!(!logs.contains(secret), "the secret leaked: {logs}");
    assert!(logs.contains("honor call"), "{logs}");
}

#[test]
fn the_binary_reads_its_environment() {
    let (child, base) = spawn(
        &[],
        &[
            ("HONOR_SIM_PORT", "0"),
            ("HONOR_SIM_APPS", "400:c-400:s-400,401:c-401:s-401"),
            ("HONOR_SIM_ERRORS_HTTP_200", "true"),
            ("HONOR_SIM_TIMESTAMP_WINDOW_MS", "0"),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (answers, settings) = runtime.block_on(async {
        (
            [
                token_and_send(&base, "400", "c-400", "s-400").await["code"].clone(),
                token_and_send(&base, "401", "c-401", "s-401").await["code"].clone(),
                token_and_send(&base, "401", "c-400", "s-400").await["code"].clone(),
            ],
            get(&base, "settings").await,
        )
    });
    stop(child);
    assert_eq!(answers, [json!(200), json!(200), json!(401)]);
    assert_eq!(settings["errors_http_200"], true);
    assert_eq!(settings["timestamp_window_ms"], Value::Null);
}

#[test]
fn the_binary_refuses_bad_flags() {
    for args in [
        &["--port", "0", "--app", "no-secret"][..],
        &["--port", "0", "--response-shape", "xml"][..],
        &["--port", "0", "--timestamp-unit", "minutes"][..],
        &["--port", "0", "--token-ttl-secs", "0"][..],
        &["--port", "0", "--receipt-url", "300"][..],
        &["--port", "x"][..],
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_honor-sim"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{args:?}");
    }
}
