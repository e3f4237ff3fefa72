//! The `xiaomi-sim` binary.

use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use xiaomi_sim::PATH;

use crate::common::*;

/// Starts the binary; the child and its base URL (from its first line).
fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    sim_kit::testing::spawn_binary(env!("CARGO_BIN_EXE_xiaomi-sim"), "xiaomi-sim", args, envs)
}

/// SIGTERM, then the exit must be clean; the logs.
fn stop(child: Child) -> String {
    sim_kit::testing::stop_binary(child)
}

async fn post(base: &str, secret: &str, package: &str) -> Value {
    xiaomi_sim::http_client()
        .post(format!("{base}{PATH}"))
        .header("authorization", format!("key={secret}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&with(
            message("reg-a"),
            "restricted_package_name",
            package,
        )))
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
    let app = format!("{PACKAGE}:{secret}");
    let (child, base) = spawn(
        &[
            "--port",
            "0",
            "--app",
            &app,
            "--receipt-body",
            "json",
            "--bad-regids-key",
            "bad_regIds",
            "--receipt-delay-ms",
            "250",
        ],
        &[("XIAOMI_SIM_APPS", "com.example.env:env-secret")],
    );
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (ok, env_app, settings, receipts) = runtime.block_on(async {
        (
            post(&base, secret, PACKAGE).await,
            post(&base, "env-secret", "com.example.env").await,
            get(&base, "settings").await,
            get(&base, "receipt-settings").await,
        )
    });
    let logs = stop(child);
    assert_eq!(ok["code"], 0, "{ok}");
    assert_eq!(env_app["code"], 21301, "--app replaces XIAOMI_SIM_APPS");
    assert_eq!(
        settings,
        json!({"bad_regids_key": "bad_regIds", "receipt_body": "json"})
    );
    assert_eq!(receipts["delay_ms"], 250);
    assert!(!logs.contains(secret), "the secret leaked: {logs}");
    assert!(logs.contains("xiaomi call"), "{logs}");
}

#[test]
fn the_binary_reads_its_environment() {
    let (child, base) = spawn(
        &[],
        &[
            ("XIAOMI_SIM_PORT", "0"),
            (
                "XIAOMI_SIM_APPS",
                "com.example.a:secret-a,com.example.b:secret-b",
            ),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let codes = runtime.block_on(async {
        [
            post(&base, "secret-a", "com.example.a").await["code"].clone(),
            post(&base, "secret-b", "com.example.b").await["code"].clone(),
            post(&base, "secret-a", "com.example.b").await["code"].clone(),
        ]
    });
    stop(child);
    assert_eq!(codes, [json!(0), json!(0), json!(22022)]);
}

#[test]
fn the_binary_refuses_bad_flags() {
    for args in [
        &["--port", "0", "--app", "no-secret"][..],
        &["--port", "0", "--receipt-body", "xml"][..],
        &["--port", "0", "--bad-regids-key", "badRegIds"][..],
        &["--port", "x"][..],
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_xiaomi-sim"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{args:?}");
    }
}
