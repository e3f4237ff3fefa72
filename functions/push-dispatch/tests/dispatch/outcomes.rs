//! Every row of the vivo classification table, driven through the real
//! handler by scripting the simulator, asserting the answer, the binding
//! and the calls vivo received.

use crate::common::*;
use offpush::domain::CertificateId;
use serde_json::{json, Map, Value};
use std::time::Duration;

fn code(c: i64) -> CallAction {
    CallAction::Result {
        code: c,
        desc: format!("scripted {c}"),
        extra: Map::new(),
    }
}

fn invalid_user(status: i64, reg_id: &str) -> CallAction {
    let mut extra = Map::new();
    extra.insert(
        "invalidUser".into(),
        json!({"status": status, "userid": reg_id}),
    );
    CallAction::Result {
        code: 10302,
        desc: "regId不合法".into(),
        extra,
    }
}

async fn one(env: &TestEnv) -> Value {
    let (s, r) = push(env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    r
}

#[tokio::test]
async fn status_1_2_3_are_token_invalid_and_unbind() {
    for status in 1..=3 {
        let (env, app) = setup(&format!("dead{status}")).await;
        bind(&env, &app, "alice", "regid-a", None).await;
        env.sim
            .script_next("/message/send", invalid_user(status, "regid-a"));
        let r = one(&env).await;
        assert_eq!(status_of(&r, "alice"), "token_invalid");
        assert!(results_of(&r, "alice")[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("vivo 10302 invalidUser.status={status}")));
        assert!(live_tokens(&env, "alice").await.is_empty());
        assert!(env
            .store
            .get_token_owner(
                &env.app.id,
                CertificateId::new(1).unwrap(),
                &offpush::domain::PushToken::parse("t", "regid-a").unwrap()
            )
            .await
            .unwrap()
            .is_none());
    }
}

#[tokio::test]
async fn status_4_fails_and_keeps_the_binding() {
    let (env, app) = setup("status4").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim
        .script_next("/message/send", invalid_user(4, "regid-a"));
    let r = one(&env).await;
    assert_eq!(status_of(&r, "alice"), "failed");
    assert_eq!(live_tokens(&env, "alice").await, ["regid-a"]);
}

#[tokio::test]
async fn a_dead_token_reported_again_meanwhile_is_kept() {
    // The binding ends only if the user still has that very token.
    let (env, app) = setup("dead-rebound").await;
    bind(&env, &app, "alice", "regid-a", Some("phone")).await;
    env.sim.script_next(
        "/message/send",
        CallAction::Delay(Duration::from_millis(300)),
    );
    env.sim
        .set_reg_id("regid-a", RegIdVerdict::Invalid { status: 2 });
    let body = json!({"to": ["alice"], "desc": "hi"});
    let pushing = push(&env, &body);
    let rebind = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        bind(&env, &app, "alice", "regid-new", Some("phone")).await;
    };
    let ((_, r), ()) = futures::join!(pushing, rebind);
    assert_eq!(status_of(&r, "alice"), "token_invalid");
    assert_eq!(live_tokens(&env, "alice").await, ["regid-new"]);
}

#[tokio::test]
async fn a_dead_token_reported_again_after_the_push_started_is_kept() {
    // The same token, re-reported while the push was in flight (a
    // reinstall that got the same regId back): the fresh report wins.
    let (env, app) = setup("dead-same-token").await;
    bind(&env, &app, "alice", "regid-a", Some("phone")).await;
    env.sim.script_next(
        "/message/send",
        CallAction::Delay(Duration::from_millis(400)),
    );
    env.sim
        .set_reg_id("regid-a", RegIdVerdict::Invalid { status: 2 });
    let body = json!({"to": ["alice"], "desc": "hi"});
    let pushing = push(&env, &body);
    let rebind = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        bind(&env, &app, "alice", "regid-a", Some("phone")).await;
    };
    let ((_, r), ()) = futures::join!(pushing, rebind);
    assert_eq!(status_of(&r, "alice"), "token_invalid");
    assert_eq!(live_tokens(&env, "alice").await, ["regid-a"]);
}

#[tokio::test]
async fn rate_and_quota_codes_are_throttled() {
    for c in [10070, 10072, 10073, 10093] {
        let (env, app) = setup(&format!("throttle{c}")).await;
        bind(&env, &app, "alice", "regid-a", None).await;
        env.sim.script_next("/message/send", code(c));
        let r = one(&env).await;
        let res = results_of(&r, "alice")[0];
        assert_eq!(res["status"], "throttled", "{c}: {r}");
        assert!(res["retry_after_s"].as_u64().unwrap() >= 1);
        assert!(res["detail"].as_str().unwrap().contains(&c.to_string()));
        assert_eq!(
            live_tokens(&env, "alice").await,
            ["regid-a"],
            "binding kept"
        );
        assert_eq!(
            env.sim.requests_to("/message/send").len(),
            1,
            "{c}: not retried"
        );
        let remembered = env.stored_pauses().await;
        assert_eq!(
            !remembered.is_empty(),
            c == 10070 || c == 10073,
            "{c}: only daily quota codes are remembered in the table: {remembered:?}"
        );
    }
}

#[tokio::test]
async fn a_quota_is_remembered_until_vivos_next_day() {
    let (env, app) = setup("quota").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim.script_next("/message/send", code(10073));
    let r = one(&env).await;
    let retry = results_of(&r, "alice")[0]["retry_after_s"]
        .as_i64()
        .unwrap();
    assert!((1..=86_400).contains(&retry));
    let until = now() + retry;
    assert_eq!(
        (until + 8 * 3600) % 86_400 / 60,
        0,
        "ends at a midnight UTC+8 (to the minute)"
    );
    env.sim.reset();
    let r = one(&env).await;
    assert_eq!(status_of(&r, "alice"), "throttled");
    assert!(
        env.sim.requests().is_empty(),
        "no call to vivo while the quota is remembered"
    );
}

#[tokio::test]
async fn the_list_body_quota_pauses_list_pushes_only_and_single_sends_still_go() {
    let (env, app) = setup("quota10252").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    bind(&env, &app, "bob", "regid-b", None).await;
    env.sim.script_next("/message/saveListPayload", code(10252));
    let (_, r) = push(&env, &json!({"to": ["alice", "bob"], "desc": "hi"})).await;
    assert_eq!(r["summary"]["sent"], 2, "delivered one by one: {r}");
    assert!(env.sim.requests_to("/message/pushToList").is_empty());
    assert_eq!(env.sim.requests_to("/message/send").len(), 2);
    assert_eq!(
        env.stored_pauses().await,
        [("endpoint:/message/saveListPayload".to_string(), 10252)]
    );
    // The next list push does not try saveListPayload again today.
    env.sim.reset();
    let (_, r) = push(&env, &json!({"to": ["alice", "bob"], "desc": "again"})).await;
    assert_eq!(r["summary"]["sent"], 2, "{r}");
    assert!(env.sim.requests_to("/message/saveListPayload").is_empty());
    assert_eq!(env.sim.requests_to("/message/send").len(), 2);
}

#[tokio::test]
async fn after_a_throttle_the_certificate_is_not_called_again_in_the_request() {
    let (mut env, app) = setup("stop").await;
    env.ctx.push_concurrency = 1;
    for (u, t) in [
        ("alice", "regid-a"),
        ("bob", "regid-b"),
        ("carol", "regid-c"),
    ] {
        bind(&env, &app, u, t, None).await;
    }
    env.sim.script_next("/message/send", code(10072));
    let (_, r) = push(
        &env,
        &json!({"to": ["alice", "bob", "carol"], "desc": "hi", "ttl_seconds": 60}),
    )
    .await;
    assert_eq!(r["summary"]["throttled"], 3, "{r}");
    assert_eq!(env.sim.requests_to("/message/send").len(), 1);
}

#[tokio::test]
async fn parameter_and_content_codes_are_rejected_without_retry() {
    let (env, app) = setup("rejected").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    for c in [
        10050, 10051, 10052, 10053, 10054, 10055, 10056, 10057, 10085, 10096, 10097, 10104,
    ] {
        env.sim.reset();
        env.sim.script_next("/message/send", code(c));
        let r = one(&env).await;
        let res = results_of(&r, "alice")[0];
        assert_eq!(res["status"], "rejected", "{c}");
        let detail = res["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("vivo {c}: "))
                && detail.ends_with(&format!("(scripted {c})")),
            "{c}: the code, what it means, vivo's desc: {detail}"
        );
        assert_eq!(
            detail.contains("content rule"),
            c == 10085 || c == 10104,
            "{c}: content refusals name the rule: {detail}"
        );
        assert_eq!(
            env.sim.requests_to("/message/send").len(),
            1,
            "{c}: not retried"
        );
    }
    assert_eq!(live_tokens(&env, "alice").await, ["regid-a"]);
}

#[tokio::test]
async fn unknown_codes_fail_with_the_code_in_detail() {
    let (env, app) = setup("unknown").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    for c in [12345, 10094, 10307] {
        env.sim.reset();
        env.sim.script_next("/message/send", code(c));
        let r = one(&env).await;
        let res = results_of(&r, "alice")[0];
        assert_eq!(res["status"], "failed");
        assert!(res["detail"].as_str().unwrap().contains(&c.to_string()));
        assert_eq!(live_tokens(&env, "alice").await, ["regid-a"]);
    }
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_fail() {
    let (env, app) = setup("5xx").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim
        .script_next("/message/send", CallAction::HttpStatus(500));
    env.sim.script_next("/message/send", CallAction::Garbage);
    let r = one(&env).await;
    assert_eq!(status_of(&r, "alice"), "sent", "third attempt succeeds");
    let sends = env.sim.requests_to("/message/send");
    assert_eq!(sends.len(), 3);
    assert_eq!(
        sends[0].body["requestId"], sends[2].body["requestId"],
        "a retry is the same call"
    );

    env.sim.reset();
    env.sim
        .script_always("/message/send", Some(CallAction::HttpStatus(503)));
    let r = one(&env).await;
    let res = results_of(&r, "alice")[0];
    assert_eq!(res["status"], "failed");
    assert!(res["detail"].as_str().unwrap().contains("503"));
    assert_eq!(
        env.sim.requests_to("/message/send").len(),
        3,
        "bounded retries"
    );
    assert_eq!(live_tokens(&env, "alice").await, ["regid-a"]);
}

#[tokio::test]
async fn timeouts_are_bounded_by_the_request_deadline() {
    let (mut env, app) = setup("timeout").await;
    let mut cfg = config(env.store.table(), &env.sim.base_url());
    cfg.vendor_timeout = Duration::from_millis(200);
    cfg.push_deadline = Duration::from_millis(1500);
    env.ctx = testkit::context(env.store.clone(), &cfg);
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim.script_always(
        "/message/send",
        Some(CallAction::Delay(Duration::from_secs(2))),
    );
    let started = std::time::Instant::now();
    let r = one(&env).await;
    assert!(started.elapsed() < Duration::from_millis(1500 + 1000));
    assert_eq!(status_of(&r, "alice"), "failed");
    let detail = results_of(&r, "alice")[0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("in time"), "{detail}");
    // Cut at the call timeout; written, so never sent again (vivo does not
    // deduplicate on requestId).
    assert!(detail.contains("outcome is unknown"), "{detail}");
    assert_eq!(env.sim.requests_to("/message/send").len(), 1);
}

#[tokio::test]
async fn an_expired_auth_token_is_replaced_once_and_the_call_retried_once() {
    let (env, app) = setup("authexpired").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim
        .script_next("/message/send", CallAction::ExpireToken);
    let r = one(&env).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    let auths = env.sim.requests_to("/message/auth");
    let sends = env.sim.requests_to("/message/send");
    assert_eq!((auths.len(), sends.len()), (2, 2));
    assert_eq!(
        sends[1].auth_token.as_deref(),
        auths[1].response["authToken"].as_str()
    );
    assert_ne!(sends[0].auth_token, sends[1].auth_token);

    // Refused again after the refresh: failed, no third call.
    env.sim.reset();
    env.sim
        .script_next("/message/send", CallAction::ExpireToken);
    env.sim
        .script_next("/message/send", CallAction::ExpireToken);
    let r = one(&env).await;
    assert_eq!(status_of(&r, "alice"), "failed");
    assert!(results_of(&r, "alice")[0]["detail"]
        .as_str()
        .unwrap()
        .contains("10000"));
    assert_eq!(env.sim.requests_to("/message/send").len(), 2);
}

#[tokio::test]
async fn the_auth_token_is_cached_per_instance_and_shared_through_the_table() {
    let (env, app) = setup("authcache").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    one(&env).await;
    one(&env).await;
    assert_eq!(
        env.sim.requests_to("/message/auth").len(),
        1,
        "warm instance reuses its token"
    );
    // A second instance (fresh context, same table) finds it in the table.
    let other = TestEnv {
        ctx: testkit::context(
            env.store.clone(),
            &config(env.store.table(), &env.sim.base_url()),
        ),
        ..env
    };
    one(&other).await;
    assert_eq!(
        other.sim.requests_to("/message/auth").len(),
        1,
        "no auth call from the second instance"
    );
    let sends = other.sim.requests_to("/message/send");
    assert_eq!(sends[0].auth_token, sends[2].auth_token);
}

#[tokio::test]
async fn refused_credentials_fail_every_recipient_of_the_certificate() {
    let (env, app) = setup("badcreds").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim.script_next("/message/auth", code(10206));
    let r = one(&env).await;
    let res = results_of(&r, "alice")[0];
    assert_eq!(res["status"], "failed");
    assert!(res["detail"].as_str().unwrap().contains("10206"));
    assert!(env.sim.requests_to("/message/send").is_empty());
    assert_eq!(live_tokens(&env, "alice").await, ["regid-a"]);
}

#[tokio::test]
async fn push_to_list_errors_apply_to_their_chunk() {
    let (env, app) = setup("listerr").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    bind(&env, &app, "bob", "regid-b", None).await;
    env.sim.script_next("/message/pushToList", code(10055));
    let (_, r) = push(&env, &json!({"to": ["alice", "bob"], "desc": "hi"})).await;
    assert_eq!(r["summary"]["rejected"], 2);
    env.sim.reset();
    env.sim
        .script_next("/message/pushToList", CallAction::HttpStatus(502));
    let (_, r) = push(&env, &json!({"to": ["alice", "bob"], "desc": "hi"})).await;
    assert_eq!(r["summary"]["sent"], 2, "retried after a 502");
    assert_eq!(env.sim.requests_to("/message/pushToList").len(), 2);
}
