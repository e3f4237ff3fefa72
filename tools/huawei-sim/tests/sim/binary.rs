//! The `huawei-sim` binary.

use std::process::{Child, Command, Stdio};

use huawei_sim::{send_path, TOKEN_PATH};
use serde_json::{json, Value};

use crate::common::message;

/// Starts the binary; the child and its base URL (from its first line).
fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    sim_kit::testing::spawn_binary(env!("CARGO_BIN_EXE_huawei-sim"), "huawei-sim", args, envs)
}

/// SIGTERM, then the exit must be clean; the logs.
fn stop(child: Child) -> String {
    sim_kit::testing::stop_binary(child)
}

/// A token, then a send; the send's answer (or the token error).
async fn push(base: &str, app_id: &str, secret: &str) -> Value {
    let client = huawei_sim::http_client();
    let token: Value = client
        .post(format!("{base}{TOKEN_PATH}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(sim_kit::form::encode([
            ("grant_type", "client_credentials"),
            ("client_id", app_id),
            ("client_secret", secret),
        ]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let Some(bearer) = token["access_token"].as_str() else {
        return token;
    };
    client
        .post(format!("{base}{}", send_path(app_id)))
        .bearer_auth(bearer)
        .json(&message(&["t1"]))
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
    let app = format!("500:{secret}");
    let (child, base) = spawn(
        &[
            "--port",
            "0",
            "--app",
            &app,
            "--receipt",
            "500:r1=http://127.0.0.1:9/hw",
            "--receipt-auth",
            "500:r1=user:callback-secret",
            "--receipt-batch",
            "1000",
            "--unapproved-category",
            "reject",
            "--ttl-over-max",
            "clamp",
            "--receipt-delay-ms",
            // Long enough that the receipt is still pending when it is read.
            "60000",
        ],
        &[("HUAWEI_SIM_APPS", "600:env-secret")],
    );
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (ok, env_app, settings, receipts, pending) = runtime.block_on(async {
        let ok = push(&base, "500", secret).await;
        (
            ok,
            push(&base, "600", "env-secret").await,
            get(&base, "settings").await,
            get(&base, "receipt-settings").await,
            get(&base, "receipt-pending").await,
        )
    });
    let logs = stop(child);
    assert_eq!(ok["code"], "80000000", "{ok}");
    assert_eq!(env_app["error"], 1101, "--app replaces HUAWEI_SIM_APPS");
    assert_eq!(settings["receipt_batch"], 1000);
    assert_eq!(settings["unapproved_category"], "reject");
    assert_eq!(settings["ttl_over_max"], "clamp");
    assert_eq!(receipts["delay_ms"], 60000);
    assert_eq!(pending[0]["callback_url"], "http://127.0.0.1:9/hw");
    assert_eq!(pending[0]["receipt_id"], "r1");
    assert!(!logs.contains(secret), "the secret leaked: {logs}");
    assert!(
        !logs.contains("callback-secret"),
        "the secret leaked: {logs}"
    );
    assert!(logs.contains("huawei call"), "{logs}");
}

#[test]
fn the_binary_reads_its_environment() {
    let (child, base) = spawn(
        &[],
        &[
            ("HUAWEI_SIM_PORT", "0"),
            ("HUAWEI_SIM_APPS", "701:secret-a,702:secret-b"),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answers = runtime.block_on(async {
        [
            push(&base, "701", "secret-a").await["code"].clone(),
            push(&base, "702", "secret-b").await["code"].clone(),
            push(&base, "701", "secret-b").await["sub_error"].clone(),
        ]
    });
    stop(child);
    assert_eq!(
        answers,
        [json!("80000000"), json!("80000000"), json!(12304)]
    );
}

#[test]
fn the_binary_refuses_bad_flags() {
    for args in [
        &["--port", "0", "--app", "no-secret"][..],
        &["--port", "0", "--receipt", "1:r=http://x"][..],
        &["--port", "0", "--app", "1:s", "--receipt-auth", "1:r=u:s"][..],
        &["--port", "0", "--receipt-batch", "1001"][..],
        &["--port", "0", "--unapproved-category", "drop"][..],
        &["--port", "0", "--ttl-over-max", "cut"][..],
        &["--port", "x"][..],
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_huawei-sim"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{args:?}");
    }
}
