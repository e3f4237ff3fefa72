//! vivo's pauses as vivo scopes them (VIVO_API.md 1.9, 1.10): per vivo app
//! (every certificate with its credentials), per message class, per
//! endpoint; ending at vivo's next day or when the credentials change. The
//! simulator enforces the quotas itself, so these pushes meet vivo's
//! scopes, not a script.

mod common;

use common::*;
use offpush::domain::{CertificateId, ClickAction, PushMode};
use serde_json::json;
use vivo_sim::{Quotas, Rules, SimClock};

fn quotas(operational: Option<u64>, system: Option<u64>) -> Quotas {
    Quotas {
        operational,
        system,
        list_payloads: None,
    }
}

fn detail(r: &serde_json::Value, user: &str) -> String {
    results_of(r, user)[0]["detail"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn certificates_of_one_vivo_app_share_its_pause() {
    let (env, app) = setup("shared-pause").await;
    add_cert(&env, ClickAction::OpenApp, PushMode::Production).await;
    bind_cert(&env, &app, 1, "alice", "regid-a", None).await;
    bind_cert(&env, &app, 2, "bob", "regid-b", None).await;
    env.sim.set_quotas(VIVO_APP_ID, quotas(None, Some(0)));
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "alice"), "throttled", "{r}");
    assert!(detail(&r, "alice").starts_with("vivo 10073"), "{r}");
    let sends = env.sim.requests_to("/message/send").len();
    let (_, r) = push(&env, &json!({"to": ["bob"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "bob"), "throttled", "{r}");
    assert!(detail(&r, "bob").contains("class:system"), "{r}");
    assert_eq!(
        env.sim.requests_to("/message/send").len(),
        sends,
        "certificate 2 has the same vivo app: not called while it is paused"
    );
}

#[tokio::test]
async fn after_the_operational_quota_im_pushes_still_go() {
    let (env, app) = setup("operational-quota").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim.set_quotas(VIVO_APP_ID, quotas(Some(0), None));
    let (_, r) = push(
        &env,
        &json!({"to": ["alice"], "desc": "sale", "category": "MARKETING"}),
    )
    .await;
    assert_eq!(status_of(&r, "alice"), "throttled", "{r}");
    assert!(detail(&r, "alice").starts_with("vivo 10070"), "{r}");
    let (_, r) = push(
        &env,
        &json!({"to": ["alice"], "desc": "hi", "category": "IM"}),
    )
    .await;
    assert_eq!(
        status_of(&r, "alice"),
        "sent",
        "system class is another scope: {r}"
    );
    let before = env.sim.requests_to("/message/send").len();
    let (_, r) = push(
        &env,
        &json!({"to": ["alice"], "desc": "news", "category": "NEWS"}),
    )
    .await;
    assert_eq!(status_of(&r, "alice"), "throttled", "{r}");
    assert_eq!(
        env.sim.requests_to("/message/send").len(),
        before,
        "operational class paused: no call"
    );
    assert_eq!(
        env.stored_pauses().await,
        [("class:operational".to_string(), 10070)]
    );
}

#[tokio::test]
async fn after_the_system_quota_operational_pushes_still_go() {
    let (env, app) = setup("system-quota").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim.set_quotas(VIVO_APP_ID, quotas(None, Some(0)));
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "alice"), "throttled", "{r}");
    let (_, r) = push(
        &env,
        &json!({"to": ["alice"], "desc": "sale", "category": "MARKETING"}),
    )
    .await;
    assert_eq!(status_of(&r, "alice"), "sent", "{r}");
    assert_eq!(
        env.stored_pauses().await,
        [("class:system".to_string(), 10073)]
    );
}

#[tokio::test]
async fn a_pause_lasts_until_vivos_next_day_and_ends_when_the_credentials_change() {
    let (env, app) = setup("pause-credentials").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim.set_quotas(VIVO_APP_ID, quotas(None, Some(0)));
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    let retry = results_of(&r, "alice")[0]["retry_after_s"]
        .as_i64()
        .unwrap();
    assert_eq!(
        (now() + retry + 8 * 3600) % 86_400 / 60,
        0,
        "ends at midnight UTC+8 (to the minute)"
    );
    // vivo raised the quota, but the pause stands for the day...
    env.sim.set_quotas(VIVO_APP_ID, quotas(None, None));
    let calls = env.sim.requests().len();
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "alice"), "throttled");
    assert_eq!(env.sim.requests().len(), calls, "no call while paused");
    // ...until the certificate gets new credentials.
    env.sim.add_app(SimApp {
        app_id: VIVO_APP_ID,
        app_key: "new-key".into(),
        app_secret: "new-secret".into(),
    });
    let id = CertificateId::new(1).unwrap();
    let mut cert = env
        .store
        .get_certificate(&env.app.id, id)
        .await
        .unwrap()
        .unwrap();
    cert.credentials.app_key = "new-key".into();
    cert.credentials.app_secret = offpush::domain::Secret::new("new-secret");
    assert!(env
        .store
        .replace_certificate(&env.app.id, &cert)
        .await
        .unwrap());
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "alice"), "sent", "{r}");
}

#[tokio::test]
async fn operational_messages_outside_vivos_window_are_throttled_until_seven() {
    let (env, app) = setup("window").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    // A token first: the simulator's clock is about to leave real time.
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    // 23:05 UTC+8 by vivo's clock (tokens are already issued, so vivo's
    // clock may leave real time).
    let day_start = (now() + 8 * 3600) / 86_400 * 86_400 - 8 * 3600;
    env.sim
        .set_clock(SimClock::Fixed((day_start + 23 * 3600 + 300) * 1000));
    env.sim.set_rules(Rules {
        operational_window: true,
        content_rules: false,
    });
    let (_, r) = push(
        &env,
        &json!({"to": ["alice"], "desc": "news", "category": "NEWS"}),
    )
    .await;
    assert_eq!(status_of(&r, "alice"), "throttled", "{r}");
    let d = detail(&r, "alice");
    assert!(
        d.starts_with("vivo 10071") && d.contains("07:00-23:00"),
        "{d}"
    );
    let retry = results_of(&r, "alice")[0]["retry_after_s"]
        .as_i64()
        .unwrap();
    assert_eq!(
        (now() + retry + 8 * 3600) % 86_400 / 60,
        7 * 60,
        "may be sent at 07:00 UTC+8"
    );
    let (_, r) = push(
        &env,
        &json!({"to": ["alice"], "desc": "hi", "category": "IM"}),
    )
    .await;
    assert_eq!(
        status_of(&r, "alice"),
        "sent",
        "system messages have no window: {r}"
    );
}
