//! The `harmony-sim` binary.

use std::process::{Child, Command, Stdio};

use harmony_sim::send_path;
use serde_json::{json, Value};

use crate::common::{message, KEY_A, KEY_B};

/// Starts the binary; the child and its base URL (from its first line).
fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    sim_kit::testing::spawn_binary(env!("CARGO_BIN_EXE_harmony-sim"), "harmony-sim", args, envs)
}

/// SIGTERM, then the exit must be clean; the logs.
fn stop(child: Child) -> String {
    sim_kit::testing::stop_binary(child)
}

/// Writes a service-account key file; its path.
fn key_file(name: &str, project: &str, key_id: &str, pem: &str) -> String {
    let dir = std::env::temp_dir().join(format!("harmony-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let file = json!({
        "project_id": project,
        "key_id": key_id,
        "private_key": pem,
        "sub_account": format!("sub-{key_id}"),
        "token_uri": harmony_sim::AUDIENCE,
    });
    std::fs::write(&path, file.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A JWT from the binary's own minting route, then a send; the answer.
async fn push(base: &str, project: &str, category: &str) -> Value {
    let client = harmony_sim::http_client();
    let (_, minted) =
        sim_kit::testing::control_call(base, "jwt", Some(json!({"project_id": project}))).await;
    let Some(jwt) = minted["jwt"].as_str() else {
        return minted;
    };
    let mut body = message(&["t1"]);
    body["payload"]["notification"]["category"] = json!(category);
    client
        .post(format!("{base}{}", send_path(project)))
        .bearer_auth(jwt)
        .header("push-type", "0")
        .json(&body)
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
fn the_binary_serves_the_key_files_and_settings_it_is_given_and_stops_on_sigterm() {
    let a = key_file("a.json", "501", "ka", KEY_A);
    let b = key_file("b.json", "601", "kb", KEY_B);
    let (child, base) = spawn(
        &[
            "--port",
            "0",
            "--app",
            &a,
            "--approved-categories",
            "IM,VOIP",
            "--receipt",
            "501:r1=http://127.0.0.1:9/hw",
            "--receipt-auth",
            "501:r1=user:Y2FsbGJhY2stc2VjcmV0",
            "--receipt-batch",
            "50",
            "--unapproved-category",
            "reject",
            "--missing-category",
            "reject",
            "--ttl-over-max",
            "clamp",
            "--accept-rs256",
            "--receipt-delay-ms",
            // Long enough that the receipt is still pending when it is read.
            "60000",
        ],
        &[("HARMONY_SIM_APPS", &b)],
    );
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (ok, voip, work, env_app, settings, receipts, pending) = runtime.block_on(async {
        (
            push(&base, "501", "IM").await,
            push(&base, "501", "VOIP").await,
            push(&base, "501", "WORK").await,
            push(&base, "601", "IM").await,
            get(&base, "settings").await,
            get(&base, "receipt-settings").await,
            get(&base, "receipt-pending").await,
        )
    });
    let logs = stop(child);
    assert_eq!(ok["code"], "80000000", "{ok}");
    assert_eq!(voip["code"], "80000000", "{voip}");
    assert_eq!(work["code"], "80100003", "WORK is not approved: {work}");
    assert!(
        env_app["error"].is_string(),
        "--app replaces HARMONY_SIM_APPS: {env_app}"
    );
    assert_eq!(settings["receipt_batch"], 50);
    assert_eq!(settings["unapproved_category"], "reject");
    assert_eq!(settings["missing_category"], "reject");
    assert_eq!(settings["ttl_over_max"], "clamp");
    assert_eq!(settings["accept_rs256"], true);
    assert_eq!(receipts["delay_ms"], 60000);
    assert_eq!(pending[0]["callback_url"], "http://127.0.0.1:9/hw");
    assert_eq!(pending[0]["receipt_id"], "r1");
    assert!(
        !logs.contains("Y2FsbGJhY2stc2VjcmV0"),
        "the secret leaked: {logs}"
    );
    assert!(!logs.contains("PRIVATE KEY"), "the key leaked: {logs}");
    assert!(logs.contains("harmony call"), "{logs}");
}

#[test]
fn the_binary_reads_its_environment() {
    let a = key_file("env-a.json", "701", "k1", KEY_A);
    let b = key_file("env-b.json", "702", "k2", KEY_B);
    let apps = format!("{a},{b}");
    let (child, base) = spawn(
        &[],
        &[
            ("HARMONY_SIM_PORT", "0"),
            ("HARMONY_SIM_APPS", &apps),
            ("HARMONY_SIM_APPROVED_CATEGORIES", "WORK"),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answers = runtime.block_on(async {
        [
            push(&base, "701", "IM").await["code"].clone(),
            push(&base, "702", "WORK").await["code"].clone(),
        ]
    });
    let deliveries = runtime.block_on(get(&base, "deliveries"));
    stop(child);
    assert_eq!(answers, [json!("80000000"), json!("80000000")]);
    assert_eq!(deliveries[0]["effective_category"], "MARKETING");
    assert_eq!(deliveries[1]["effective_category"], "WORK");
}

#[test]
fn the_binary_refuses_bad_flags() {
    let a = key_file("bad-a.json", "801", "k", KEY_A);
    let broken = std::env::temp_dir().join(format!("harmony-sim-test-{}", std::process::id()));
    let broken = broken.join("broken.json");
    std::fs::write(&broken, "{\"project_id\":\"1\"}").unwrap();
    let broken = broken.to_str().unwrap().to_owned();
    for args in [
        &["--port", "0", "--app", "/nonexistent/key.json"][..],
        &["--port", "0", "--app", &broken][..],
        &["--port", "0", "--receipt", "1:r=http://x"][..],
        &["--port", "0", "--app", &a, "--receipt-auth", "801:r=u:s"][..],
        &[
            "--port",
            "0",
            "--app",
            &a,
            "--receipt",
            "801:r=http://x",
            "--receipt-auth",
            "801:r=u:!!",
        ][..],
        &[
            "--port",
            "0",
            "--app",
            &a,
            "--approved-categories",
            "MARKETING",
        ][..],
        &["--port", "0", "--receipt-batch", "101"][..],
        &["--port", "0", "--unapproved-category", "drop"][..],
        &["--port", "0", "--receipt-key", "hex"][..],
        &["--port", "x"][..],
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_harmony-sim"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{args:?}");
    }
}
