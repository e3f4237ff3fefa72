//! The `apns-sim` binary.

use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::common::*;

/// Starts the binary; the child and its base URL (from its first line).
fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    sim_kit::testing::spawn_binary(env!("CARGO_BIN_EXE_apns-sim"), "apns-sim", args, envs)
}

/// SIGTERM, then the exit must be clean; the logs.
fn stop(child: Child) -> String {
    sim_kit::testing::stop_binary(child)
}

/// Writes a `.p8` file of `der`; its path.
fn p8_file(name: &str, der: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("apns-sim-test-{}-{name}.p8", std::process::id()));
    std::fs::write(&path, pem(der)).unwrap();
    path.to_string_lossy().into_owned()
}

/// A provider token issued now (ECDSA signatures differ each time: mint
/// once, reuse).
fn mint(kid: &str, team: &str, der: &[u8]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    jwt_of(kid, team, i64::try_from(now).unwrap(), der)
}

async fn push(base: &str, jwt: &str, topic: &str) -> Answer {
    let push = Push {
        method: "POST".to_owned(),
        path: path(&token(1)),
        headers: vec![
            ("authorization".to_owned(), format!("bearer {jwt}")),
            ("apns-topic".to_owned(), topic.to_owned()),
            ("apns-push-type".to_owned(), "alert".to_owned()),
        ],
        body: alert_payload().to_string(),
    };
    send_with(&h2(), base, &push).await
}

async fn get(base: &str, path: &str) -> Value {
    sim_kit::testing::control_call(base, path, None).await.1
}

#[test]
fn the_binary_serves_its_keys_apps_and_settings_and_stops_on_sigterm() {
    let key_path = p8_file("flags", key());
    let key_flag = format!("{KID}:{TEAM}:{key_path}");
    let app_flag = format!("{TEAM}:{BUNDLE}");
    let (child, base) = spawn(
        &[
            "--port",
            "0",
            "--key",
            &key_flag,
            "--app",
            &app_flag,
            "--environment",
            "sandbox",
            "--token-scope",
            "team",
            "--accept-http1",
        ],
        &[("APNS_SIM_APPS", "TEAMENV000:com.example.env")],
    );
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let jwt = mint(KID, TEAM, key());
    let (ok, env_app, settings) = runtime.block_on(async {
        (
            push(&base, &jwt, BUNDLE).await,
            push(&base, &jwt, "com.example.env").await,
            get(&base, "settings").await,
        )
    });
    let logs = stop(child);
    std::fs::remove_file(&key_path).ok();
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.version, reqwest::Version::HTTP_2);
    assert_eq!(
        env_app.reason(),
        "TopicDisallowed",
        "--app replaces APNS_SIM_APPS"
    );
    assert_eq!(settings["environment"], "sandbox");
    assert_eq!(settings["token_update_scope"], "team");
    assert_eq!(settings["refuse_http1"], false);
    assert!(!logs.contains("PRIVATE KEY"), "the key leaked: {logs}");
    assert!(logs.contains("apns call"), "{logs}");
}

#[test]
fn the_binary_reads_its_environment() {
    let key_path = p8_file("env", other_key());
    let keys = format!("{OTHER_KID}:{OTHER_TEAM}:{key_path}");
    let (child, base) = spawn(
        &[],
        &[
            ("APNS_SIM_PORT", "0"),
            ("APNS_SIM_KEYS", &keys),
            (
                "APNS_SIM_APPS",
                &format!("{OTHER_TEAM}:{OTHER_BUNDLE},{OTHER_TEAM}:com.example.b"),
            ),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let jwt = mint(OTHER_KID, OTHER_TEAM, other_key());
    let (a, b, wrong, settings) = runtime.block_on(async {
        (
            push(&base, &jwt, OTHER_BUNDLE).await,
            push(&base, &jwt, "com.example.b").await,
            push(&base, &mint(KID, TEAM, key()), BUNDLE).await,
            get(&base, "settings").await,
        )
    });
    stop(child);
    std::fs::remove_file(&key_path).ok();
    assert_eq!((a.status, b.status), (200, 200), "{a:?} {b:?}");
    assert_eq!(wrong.reason(), "InvalidProviderToken");
    assert_eq!(settings["environment"], "production");
    assert_eq!(settings["refuse_http1"], true);
}

#[test]
fn the_binary_refuses_bad_flags() {
    let key_path = p8_file("bad", key());
    let not_a_key =
        std::env::temp_dir().join(format!("apns-sim-test-{}-not.p8", std::process::id()));
    std::fs::write(&not_a_key, "hello").unwrap();
    let not_a_key = format!("K:T:{}", not_a_key.to_string_lossy());
    for args in [
        vec!["--port", "0", "--app", "no-bundle"],
        vec!["--port", "0", "--key", "KID:TEAM"],
        vec!["--port", "0", "--key", "KID:TEAM:/no/such/file.p8"],
        vec!["--port", "0", "--key", &not_a_key],
        vec!["--port", "0", "--environment", "staging"],
        vec!["--port", "0", "--token-scope", "process"],
        vec!["--port", "x"],
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_apns-sim"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{args:?}");
    }
    std::fs::remove_file(&key_path).ok();
}
