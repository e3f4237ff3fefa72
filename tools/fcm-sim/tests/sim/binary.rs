//! The `fcm-sim` binary.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use fcm_sim::{FCM_SCOPE, JWT_BEARER};
use serde_json::{json, Value};

use crate::common::*;

/// Starts the binary; the child and its base URL (from its first line).
fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    sim_kit::testing::spawn_binary(env!("CARGO_BIN_EXE_fcm-sim"), "fcm-sim", args, envs)
}

/// SIGTERM, then the exit must be clean; the logs.
fn stop(child: Child) -> String {
    sim_kit::testing::stop_binary(child)
}

/// A service-account key file for `project` (the test key) in the temp dir.
fn service_account_file(project: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "fcm-sim-test-{}-{project}.json",
        std::process::id()
    ));
    let account = json!({
        "type": "service_account",
        "project_id": project,
        "private_key_id": KID,
        "private_key": KEY_PEM,
        "client_email": format!("sender@{project}.iam.gserviceaccount.com"),
        "client_id": "1",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
    });
    std::fs::write(&path, account.to_string()).unwrap();
    path
}

/// The token endpoint, then a send, for `project`'s account at `base`:
/// the grant's status and the send's answer.
async fn token_then_send(base: &str, project: &str, scope: &str) -> (u16, Value) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": format!("sender@{project}.iam.gserviceaccount.com"),
        "scope": scope,
        "aud": format!("{base}/token"),
        "iat": now,
        "exp": now + 3600,
    });
    let assertion = sign(KEY_PEM, &header(), &claims);
    let client = fcm_sim::http_client();
    let response = client
        .post(format!("{base}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(sim_kit::form::encode([
            ("grant_type", JWT_BEARER),
            ("assertion", assertion.as_str()),
        ]))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let grant: Value = response.json().await.unwrap();
    let Some(access) = grant["access_token"].as_str() else {
        return (status, grant);
    };
    let sent: Value = client
        .post(format!("{base}{}", fcm_sim::send_path(project)))
        .bearer_auth(access)
        .json(&message(TOKEN))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (status, sent)
}

async fn get(base: &str, path: &str) -> Value {
    sim_kit::testing::control_call(base, path, None).await.1
}

#[test]
fn the_binary_serves_the_accounts_and_settings_it_is_given_and_stops_on_sigterm() {
    let file = service_account_file("bin-flag");
    let env_file = service_account_file("bin-env");
    let alias_file = service_account_file("bin-alias");
    let (child, base) = spawn(
        &[
            "--port",
            "0",
            "--service-account",
            file.to_str().unwrap(),
            "--app",
            alias_file.to_str().unwrap(),
            "--scope-check",
            "send",
            "--payload-measure",
            "content",
        ],
        &[("FCM_SIM_SERVICE_ACCOUNTS", env_file.to_str().unwrap())],
    );
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (ok, other_scope, env_app, settings, alias) = runtime.block_on(async {
        (
            token_then_send(&base, "bin-flag", FCM_SCOPE).await,
            token_then_send(
                &base,
                "bin-flag",
                "https://www.googleapis.com/auth/cloud-platform",
            )
            .await,
            token_then_send(&base, "bin-env", FCM_SCOPE).await,
            get(&base, "settings").await,
            token_then_send(&base, "bin-alias", FCM_SCOPE).await,
        )
    });
    let logs = stop(child);
    assert_eq!(alias.0, 200, "--app is --service-account");
    assert!(alias.1["name"].is_string(), "{alias:?}");
    let _ = std::fs::remove_file(alias_file);
    assert_eq!(ok.0, 200);
    assert!(
        ok.1["name"]
            .as_str()
            .unwrap()
            .starts_with("projects/bin-flag/messages/"),
        "{ok:?}"
    );
    assert_eq!(other_scope.0, 200, "--scope-check send issues the token");
    assert_eq!(other_scope.1["error"]["code"], 403);
    assert_eq!(env_app.0, 400, "--service-account replaces the environment");
    assert_eq!(env_app.1["error"], "invalid_grant");
    assert_eq!(settings["scope_check"], "send");
    assert_eq!(settings["payload_measure"], "content");
    let key_line = KEY_PEM.lines().nth(2).unwrap();
    assert!(!logs.contains(key_line), "the key leaked: {logs}");
    assert!(logs.contains("fcm call"), "{logs}");
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(env_file);
}

#[test]
fn the_binary_reads_its_environment() {
    let a = service_account_file("env-a");
    let b = service_account_file("env-b");
    let accounts = format!("{},{}", a.display(), b.display());
    let (child, base) = spawn(
        &[],
        &[
            ("FCM_SIM_PORT", "0"),
            ("FCM_SIM_SERVICE_ACCOUNTS", &accounts),
            ("FCM_SIM_SCOPE_CHECK", "token"),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (first, second, settings) = runtime.block_on(async {
        (
            token_then_send(&base, "env-a", FCM_SCOPE).await,
            token_then_send(&base, "env-b", FCM_SCOPE).await,
            get(&base, "settings").await,
        )
    });
    stop(child);
    assert_eq!(first.0, 200);
    assert!(first.1["name"].is_string(), "{first:?}");
    assert_eq!(second.0, 200);
    assert!(second.1["name"].is_string(), "{second:?}");
    assert_eq!(settings["scope_check"], "token");
    let _ = std::fs::remove_file(a);
    let _ = std::fs::remove_file(b);
}

#[test]
fn the_binary_refuses_bad_flags() {
    let missing = std::env::temp_dir().join("fcm-sim-test-no-such-file.json");
    let not_json =
        std::env::temp_dir().join(format!("fcm-sim-test-{}-bad.json", std::process::id()));
    std::fs::write(&not_json, "not json").unwrap();
    for args in [
        &[
            "--port",
            "0",
            "--service-account",
            missing.to_str().unwrap(),
        ][..],
        &[
            "--port",
            "0",
            "--service-account",
            not_json.to_str().unwrap(),
        ][..],
        &["--port", "0", "--scope-check", "never"][..],
        &["--port", "0", "--app", "/no/such/service-account.json"][..],
        &["--port", "0", "--payload-measure", "chars"][..],
        &["--port", "x"][..],
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_fcm-sim"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{args:?}");
    }
    let _ = std::fs::remove_file(not_json);
}
