//! The admin tool as an operator runs it, against the DynamoDB emulator.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use offpush::auth::{self, Role};
use offpush::domain::{AppId, Secret};
use serde_json::Value;

mod common;
use common::*;

#[tokio::test]
async fn create_app_set_settings_and_mint_tokens() {
    let table = format!("t-admin-{}", &uuid_like());
    json_of(&admin(&table, &["table", "create"]));

    let created = json_of(&admin(&table, &["app", "create", "--app", "im-app"]));
    assert_eq!(created["app_id"], "im-app");
    assert_eq!(created["max_devices_per_user"], 1);
    assert!(
        created["binding_ttl_days"].is_null(),
        "unset: the deployment default applies"
    );
    let secret = created["signing_secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 43, "32 random bytes, base64url");

    // A second create never replaces the secret.
    let again = admin(&table, &["app", "create", "--app", "im-app"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let set = json_of(&admin(
        &table,
        &[
            "app",
            "set",
            "--app",
            "im-app",
            "--max-devices-per-user",
            "3",
            "--binding-ttl-days",
            "7",
        ],
    ));
    assert_eq!(set["max_devices_per_user"], 3);
    assert_eq!(set["binding_ttl_days"], 7);
    let shown = json_of(&admin(&table, &["app", "show", "--app", "im-app"]));
    assert_eq!(shown["max_devices_per_user"], 3);
    assert!(
        !String::from_utf8_lossy(&admin(&table, &["app", "show", "--app", "im-app"]).stdout)
            .contains(&secret)
    );
    refused(
        &table,
        &[
            "app",
            "set",
            "--app",
            "im-app",
            "--max-devices-per-user",
            "0",
        ],
    );
    refused(
        &table,
        &["app", "set", "--app", "nope", "--binding-ttl-days", "3"],
    );

    // The per-app push rate limit: a number (0: none), `default` to remove it.
    assert!(shown["push_rate_limit"].is_null());
    let set = json_of(&admin(
        &table,
        &["app", "set", "--app", "im-app", "--push-rate-limit", "250"],
    ));
    assert_eq!(set["push_rate_limit"], 250);
    assert_eq!(set["max_devices_per_user"], 3, "other settings kept");
    let shown = json_of(&admin(&table, &["app", "show", "--app", "im-app"]));
    assert_eq!(shown["push_rate_limit"], 250);
    refused(
        &table,
        &[
            "app",
            "set",
            "--app",
            "im-app",
            "--push-rate-limit",
            "100001",
        ],
    );
    refused(
        &table,
        &["app", "set", "--app", "im-app", "--push-rate-limit", "-1"],
    );
    refused(
        &table,
        &["app", "set", "--app", "nope", "--push-rate-limit", "5"],
    );
    let shown = json_of(&admin(&table, &["app", "show", "--app", "im-app"]));
    assert_eq!(
        shown["push_rate_limit"], 250,
        "refused values change nothing"
    );
    let set = json_of(&admin(
        &table,
        &[
            "app",
            "set",
            "--app",
            "im-app",
            "--push-rate-limit",
            "default",
        ],
    ));
    assert!(set["push_rate_limit"].is_null());
    let created = json_of(&admin(
        &table,
        &[
            "app",
            "create",
            "--app",
            "limited",
            "--push-rate-limit",
            "0",
        ],
    ));
    assert_eq!(created["push_rate_limit"], 0);

    let app = AppId::parse("app", "im-app").unwrap();
    let secret = Secret::new(secret);
    let now = testkit::now();
    let out = admin(
        &table,
        &["token", "--app", "im-app", "--sub", "alice", "--ttl", "600"],
    );
    assert!(out.status.success());
    let user = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let caller = auth::verify(&user, &app, &secret, now).unwrap();
    assert_eq!(caller.sub.as_str(), "alice");
    assert_eq!(caller.role, Role::User);
    // The lifetime is exactly --ttl, measured from the token's own iat.
    let payload = user.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 600);
    assert!(
        auth::verify(&user, &app, &secret, iat + 600 + 61).is_err(),
        "ttl honoured"
    );

    let out = admin(
        &table,
        &["token", "--app", "im-app", "--sub", "ops", "--admin"],
    );
    let admin_jwt = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(
        auth::verify(&admin_jwt, &app, &secret, now).unwrap().role,
        Role::Admin
    );
    refused(&table, &["token", "--app", "ghost", "--sub", "a"]);
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

#[tokio::test]
async fn pauses_are_listed_per_certificate_and_cleared() {
    use offpush::domain::{ClickAction, PushMode};
    let env = testkit::TestEnv::new("admin-pauses").await;
    let table = env.store.table().to_string();
    let c1 = env
        .add_certificate(ClickAction::OpenApp, PushMode::Production)
        .await;
    let c2 = env
        .add_certificate(ClickAction::OpenApp, PushMode::Production)
        .await;
    let account = testkit::vivo_account();
    let now = testkit::now();
    for (scope, code) in [
        ("class:system", 10073),
        ("endpoint:/message/saveListPayload", 10252),
    ] {
        env.store
            .put_pause(&account, scope, code, now + 3600, now)
            .await
            .unwrap();
    }
    let listed = json_of(&admin(&table, &["pause", "list", "--app", "demo"]));
    let certs = listed["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2);
    for (c, id) in certs.iter().zip([c1, c2]) {
        assert_eq!(c["certificate_id"], id.get());
        let scopes: Vec<&str> = c["pauses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["scope"].as_str().unwrap())
            .collect();
        assert_eq!(
            scopes,
            ["class:system", "endpoint:/message/saveListPayload"],
            "one vivo app: both certificates share its pauses"
        );
    }
    assert_eq!(certs[0]["pauses"][0]["vendor_code"], 10073);

    let one = json_of(&admin(
        &table,
        &[
            "pause",
            "clear",
            "--app",
            "demo",
            "--certificate",
            "2",
            "--scope",
            "class:system",
        ],
    ));
    assert_eq!(one["cleared"], 1);
    assert_eq!(
        env.stored_pauses().await,
        [("endpoint:/message/saveListPayload".to_string(), 10252)]
    );
    let rest = json_of(&admin(
        &table,
        &["pause", "clear", "--app", "demo", "--certificate", "1"],
    ));
    assert_eq!(rest["cleared"], 1);
    assert!(env.stored_pauses().await.is_empty());
    refused(
        &table,
        &["pause", "clear", "--app", "demo", "--certificate", "9"],
    );
}
