//! vivo's pauses as vivo scopes them (VIVO_API.md 1.9, 1.10): per vivo app
//! (every certificate with its credentials), per message class, per
//! endpoint; ending at vivo's next day or when the credentials change. The
//! simulator enforces the quotas itself, so these pushes meet vivo's
//! scopes, not a script.

use crate::common::*;
use offpush::domain::{ClickAction, PushMode};
use serde_json::{json, Value};
use vivo_sim::{Quotas, Rules, SimClock};

fn quotas(operational: Option<u64>, system: Option<u64>) -> Quotas {
    Quotas {
        operational,
        system,
        list_payloads: None,
    }
}

fn detail(r: &Value, user: &str) -> String {
    results_of(r, user)[0]["detail"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// When `(now + retry_after_s)` falls, as minutes into vivo's day (UTC+8).
fn vivo_minute_of(r: &Value, user: &str) -> i64 {
    let retry = results_of(r, user)[0]["retry_after_s"].as_i64().unwrap();
    (now() + retry + 8 * 3600) % 86_400 / 60
}

#[tokio::test]
async fn certificates_of_one_vivo_app_share_its_pause() {
    let (env, app) = with_alice("shared-pause").await;
    add_cert(&env, ClickAction::OpenApp, PushMode::Production).await;
    bind_cert(&env, &app, 2, "bob", "regid-b", None).await;
    env.sim.set_quotas(VIVO_APP_ID, quotas(None, Some(0)));
    let r = push_to(&env, "alice", "hi", json!({})).await;
    assert_eq!(status_of(&r, "alice"), "throttled", "{r}");
    assert!(detail(&r, "alice").starts_with("vivo 10073"), "{r}");
    let sends = env.sim.requests_to("/message/send").len();
    let r = push_to(&env, "bob", "hi", json!({})).await;
    assert_eq!(status_of(&r, "bob"), "throttled", "{r}");
    assert!(detail(&r, "bob").contains("class:system"), "{r}");
    assert_eq!(
        env.sim.requests_to("/message/send").len(),
        sends,
        "certificate 2 has the same vivo app: not called while it is paused"
    );
}

#[tokio::test]
async fn a_class_quota_pauses_that_class_only() {
    // (quotas, the class used up, its code, a category of the other class)
    let cases = [
        (
            quotas(Some(0), None),
            "MARKETING",
            "NEWS",
            10070,
            "operational",
            "IM",
        ),
        (
            quotas(None, Some(0)),
            "IM",
            "ORDER",
            10073,
            "system",
            "MARKETING",
        ),
    ];
    for (q, first, same_class, code, class, other) in cases {
        let (env, _app) = with_alice(&format!("class-{class}")).await;
        env.sim.set_quotas(VIVO_APP_ID, q);
        let r = push_to(&env, "alice", "one", json!({"category": first})).await;
        assert_eq!(status_of(&r, "alice"), "throttled", "{r}");
        assert!(
            detail(&r, "alice").starts_with(&format!("vivo {code}")),
            "{r}"
        );
        let r = push_to(&env, "alice", "two", json!({"category": other})).await;
        assert_eq!(
            status_of(&r, "alice"),
            "sent",
            "{other} is another class: {r}"
        );
        let before = env.sim.requests_to("/message/send").len();
        let r = push_to(&env, "alice", "three", json!({"category": same_class})).await;
        assert_eq!(status_of(&r, "alice"), "throttled", "{r}");
        assert_eq!(
            env.sim.requests_to("/message/send").len(),
            before,
            "{class} class paused: no call"
        );
        assert_eq!(
            env.stored_pauses().await,
            [(format!("class:{class}"), code)]
        );
    }
}

#[tokio::test]
async fn a_pause_lasts_until_vivos_next_day_and_ends_when_the_credentials_change() {
    let (env, _app) = with_alice("pause-credentials").await;
    env.sim.set_quotas(VIVO_APP_ID, quotas(None, Some(0)));
    let r = push_to(&env, "alice", "hi", json!({})).await;
    assert_eq!(vivo_minute_of(&r, "alice"), 0, "ends at midnight UTC+8");
    // vivo raised the quota, but the pause stands for the day...
    env.sim.set_quotas(VIVO_APP_ID, quotas(None, None));
    let calls = env.sim.requests().len();
    let r = push_to(&env, "alice", "hi", json!({})).await;
    assert_eq!(status_of(&r, "alice"), "throttled");
    assert_eq!(env.sim.requests().len(), calls, "no call while paused");
    // ...until the certificate gets new credentials.
    env.sim.add_app(SimApp {
        app_id: VIVO_APP_ID,
        app_key: "new-key".into(),
        app_secret: "new-secret".into(),
    });
    env.edit_certificate(1, |cert| {
        cert.credentials.set_s("vivo_app_key", "new-key");
        cert.credentials.set_s("vivo_app_secret", "new-secret");
    })
    .await;
    let r = push_to(&env, "alice", "hi", json!({})).await;
    assert_eq!(status_of(&r, "alice"), "sent", "{r}");
}

#[tokio::test]
async fn operational_messages_outside_vivos_window_are_throttled_until_seven() {
    let (env, _app) = with_alice("window").await;
    // A token first: the simulator's clock is about to leave real time.
    let r = push_to(&env, "alice", "hi", json!({})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    // 23:05 UTC+8 by vivo's clock.
    let day_start = (now() + 8 * 3600) / 86_400 * 86_400 - 8 * 3600;
    env.sim
        .set_clock(SimClock::Fixed((day_start + 23 * 3600 + 300) * 1000));
    env.sim.set_rules(Rules {
        operational_window: true,
        content_rules: false,
    });
    let r = push_to(&env, "alice", "news", json!({"category": "NEWS"})).await;
    assert_eq!(status_of(&r, "alice"), "throttled", "{r}");
    let d = detail(&r, "alice");
    assert!(
        d.starts_with("vivo 10071") && d.contains("07:00-23:00"),
        "{d}"
    );
    assert_eq!(
        vivo_minute_of(&r, "alice"),
        7 * 60,
        "may be sent at 07:00 UTC+8"
    );
    let r = push_to(&env, "alice", "hi", json!({"category": "IM"})).await;
    assert_eq!(
        status_of(&r, "alice"),
        "sent",
        "system messages have no window: {r}"
    );
}
