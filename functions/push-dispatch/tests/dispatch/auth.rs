//! vivo auth across the calls of a push: one refresh per vivo app at a
//! time, a throttled refresh answered as throttled, and repeated token
//! refusals that never storm vivo's 10 auth calls a second.

use crate::common::*;
use offpush::domain::{ClickAction, PushMode};
use serde_json::json;

#[tokio::test]
async fn certificates_of_one_vivo_app_share_one_auth_call() {
    let (env, app) = setup("auth-shared").await;
    add_cert(&env, ClickAction::OpenApp, PushMode::Production).await;
    for (i, u) in ["alice", "bob", "carol", "dave"].iter().enumerate() {
        bind_cert(
            &env,
            &app,
            1 + (i as u64 % 2),
            u,
            &format!("regid-{u}"),
            None,
        )
        .await;
    }
    let (_, r) = push(
        &env,
        &json!({"to": ["alice", "bob", "carol", "dave"], "desc": "hi", "ttl_seconds": 60}),
    )
    .await;
    assert_eq!(r["summary"]["sent"], 4, "{r}");
    assert_eq!(
        env.sim.requests_to("/message/auth").len(),
        1,
        "two certificates, one vivo app, four concurrent sends: one auth call"
    );
}

#[tokio::test]
async fn a_refresh_that_vivo_throttles_answers_throttled() {
    let (env, app) = setup("auth-throttled").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    env.sim
        .script_next("/message/send", CallAction::ExpireToken);
    env.sim.script_next(
        "/message/auth",
        CallAction::result(10093, "auth too frequent"),
    );
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    let res = results_of(&r, "alice")[0];
    assert_eq!(res["status"], "throttled", "{r}");
    assert!(res["retry_after_s"].as_u64().unwrap() >= 1);
    assert!(res["detail"].as_str().unwrap().contains("10093"), "{r}");
    assert_eq!(live_tokens(&env, "alice").await, ["regid-a"]);
}

#[tokio::test]
async fn repeated_token_refusals_never_storm_the_auth_endpoint() {
    let (env, _app) = setup("auth-storm").await;
    let users = env.seed_users(40, "u", 1).await;
    env.sim
        .script_always("/message/send", Some(CallAction::ExpireToken));
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi", "ttl_seconds": 60})).await;
    assert_eq!(s, 200);
    assert_eq!(r["summary"]["failed"], 40, "{}", r["summary"]);
    let auths: Vec<i64> = env
        .sim
        .requests_to("/message/auth")
        .iter()
        .map(|a| a.received_ms)
        .collect();
    assert!(
        auths.len() >= 2,
        "a refused token is replaced: {}",
        auths.len()
    );
    for (i, t) in auths.iter().enumerate() {
        let in_second = auths[i..].iter().take_while(|u| **u < t + 1000).count();
        assert!(in_second <= 10, "{in_second} auth calls within one second");
    }
    assert!(
        auths.len() < 40,
        "not one refresh per refused call: {}",
        auths.len()
    );
}
