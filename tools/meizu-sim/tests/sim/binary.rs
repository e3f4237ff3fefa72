//! The `meizu-sim` binary.

use std::process::{Child, Command, Stdio};

use meizu_sim::PATH;
use serde_json::{json, Value};

use crate::common::*;

fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    sim_kit::testing::spawn_binary(env!("CARGO_BIN_EXE_meizu-sim"), "meizu-sim", args, envs)
}

fn stop(child: Child) -> String {
    sim_kit::testing::stop_binary(child)
}

/// Sends a signed call for `app_id`/`secret` to `push_ids`, restricted to
/// `package` when given.
async fn post(
    base: &str,
    app_id: &str,
    secret: &str,
    push_ids: &str,
    package: Option<&str>,
) -> Value {
    let mut form = with(unsigned(push_ids, &message_json()), "appId", app_id);
    if let Some(package) = package {
        form = with(form, "restrictedPackageNames", package);
    }
    let form = signed_with(form, secret);
    meizu_sim::http_client()
        .post(format!("{base}{PATH}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&form))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn get(base: &str, path: &str) -> Value {
    sim_kit::testing::control_call(base, path, None).await.1
}

#[test]
fn the_binary_serves_the_apps_and_settings_it_is_given_and_stops_on_sigterm() {
    let secret = "binary-secret-do-not-log";
    let app = format!("{APP_ID}:{secret}:{PACKAGE}");
    let (child, base) = spawn(
        &[
            "--port",
            "0",
            "--app",
            &app,
            "--receipt-body",
            "json",
            "--max-push-ids",
            "1000",
            "--swap-110019-110031",
            "--receipt-delay-ms",
            "250",
        ],
        &[("MEIZU_SIM_APPS", "100777:env-secret")],
    );
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (ok, many, bad_package, env_app, settings, receipts) = runtime.block_on(async {
        (
            post(&base, APP_ID, secret, "a", Some(PACKAGE)).await,
            post(&base, APP_ID, secret, &push_ids("p", 1000), None).await,
            post(&base, APP_ID, secret, "a", Some(OTHER_PACKAGE)).await,
            post(&base, "100777", "env-secret", "a", None).await,
            get(&base, "settings").await,
            get(&base, "receipt-settings").await,
        )
    });
    let logs = stop(child);
    assert_eq!(ok["code"], "200", "{ok}");
    assert_eq!(many["code"], "200", "{many}");
    assert_eq!(bad_package["code"], "110019", "{bad_package}");
    assert_eq!(env_app["code"], "110000", "--app replaces MEIZU_SIM_APPS");
    assert_eq!(settings["receipt_body"], "json");
    assert_eq!(settings["max_push_ids"], 1000);
    assert_eq!(settings["swap_110019_110031"], true);
    assert_eq!(receipts["delay_ms"], 250);
    assert!(!logs.contains(secret), "the secret leaked: {logs}");
    assert!(logs.contains("meizu call"), "{logs}");
}

#[test]
fn the_binary_reads_its_environment() {
    let (child, base) = spawn(
        &[],
        &[
            ("MEIZU_SIM_PORT", "0"),
            (
                "MEIZU_SIM_APPS",
                "100001:secret-a:com.example.a,100002:secret-b",
            ),
            ("MEIZU_SIM_MAX_PUSH_IDS", "2"),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let codes = runtime.block_on(async {
        [
            post(&base, "100001", "secret-a", "a,b", Some("com.example.a")).await["code"].clone(),
            post(&base, "100002", "secret-b", "a", Some("com.any")).await["code"].clone(),
            post(&base, "100001", "secret-a", "a", Some("com.example.b")).await["code"].clone(),
            post(&base, "100001", "secret-a", "a,b,c", None).await["code"].clone(),
            post(&base, "100001", "secret-b", "a", None).await["code"].clone(),
        ]
    });
    stop(child);
    assert_eq!(
        codes,
        [
            json!("200"),
            json!("200"),
            json!("110031"),
            json!("1005"),
            json!("1006")
        ]
    );
}

#[test]
fn the_binary_listens_on_its_default_port_unless_told() {
    // Only the parsing: the default port may be taken on a shared machine.
    let output = Command::new(env!("CARGO_BIN_EXE_meizu-sim"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--listen"), "{help}");
    assert!(help.contains("MEIZU_SIM_APPS"), "{help}");
}

#[test]
fn the_binary_refuses_bad_flags() {
    for args in [
        &["--port", "0", "--app", "no-secret"][..],
        &["--port", "0", "--app", "abc:secret"][..],
        &["--port", "0", "--receipt-body", "xml"][..],
        &["--port", "0", "--max-push-ids", "0"][..],
        &["--port", "x"][..],
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_meizu-sim"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{args:?}");
    }
}
