//! Xiaomi's fault matrix: how a push through a Xiaomi certificate answers
//! each documented code (VENDORS_API.md 1.7), timeouts, malformed bodies
//! and partial success at 1000 regids, through the real handler against the
//! Xiaomi simulator. Every row asserts the outcome, the calls made, and
//! that a binding ends only on a dead-token verdict.

use crate::common::*;
use offpush::domain::ClickAction;
use offpush::vendor::kit::session::MAX_ATTEMPTS;
use serde_json::{json, Value};
use std::time::Duration;
use xiaomi_sim::{error_action, RegIdVerdict, PATH};

type XAction = xiaomi_sim::CallAction;

/// A Xiaomi certificate (id 1) and `users` bound as `xm-<user>`.
async fn xsetup(label: &str, users: &[&str]) -> TestEnv {
    let env = TestEnv::new(label).await;
    env.add_xiaomi_certificate(ClickAction::OpenApp, false)
        .await;
    for u in users {
        env.bind(1, u, &format!("xm-{u}"), None).await;
    }
    env
}

/// The same, with its own call timeout and push deadline.
async fn xsetup_limits(
    label: &str,
    users: &[&str],
    timeout: Duration,
    deadline: Duration,
) -> TestEnv {
    let mut env = xsetup(label, users).await;
    let mut cfg = env.config();
    cfg.vendor_timeout = timeout;
    cfg.push_deadline = deadline;
    env.ctx = testkit::context(env.store.clone(), &cfg);
    env
}

async fn push_users(env: &TestEnv, users: &[&str]) -> Value {
    let (s, r) = push(env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    r
}

fn line<'a>(r: &'a Value, user: &str) -> &'a Value {
    let lines = results_of(r, user);
    assert_eq!(lines.len(), 1, "{r}");
    lines[0]
}

fn calls(env: &TestEnv) -> usize {
    env.xiaomi.requests_to(PATH).len()
}

async fn settled(env: &TestEnv) -> Vec<sim_kit::RecordedRequest> {
    let mut last = env.xiaomi.requests_to(PATH);
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = env.xiaomi.requests_to(PATH);
        if now.len() == last.len() {
            return now;
        }
        last = now;
    }
    last
}

#[tokio::test]
async fn a_push_reaches_xiaomi_as_its_api_documents() {
    let env = xsetup("xm-shape", &["alice"]).await;
    let (s, r) = push(
        &env,
        &json!({"to": ["alice"], "title": "Alice", "desc": "Hi", "ext": "{\"c\":1}", "notify_id": 9,
                "click_action": {"type": "open_url", "url": "https://example.com/x"}}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let l = line(&r, "alice");
    assert_eq!(l["status"], "sent", "{r}");
    let d = &env.xiaomi.deliveries()[0];
    assert_eq!(l["vendor_task_id"].as_str(), Some(d.msg_id.as_str()));
    assert_eq!(d.reg_id, "xm-alice");
    assert_eq!(
        (d.title.as_deref(), d.description.as_deref()),
        (Some("Alice"), Some("Hi"))
    );
    assert_eq!(d.package_name, XIAOMI_PACKAGE);
    assert_eq!(d.notify_effect.as_deref(), Some("3"));
    assert_eq!(
        d.extra.get("web_uri").map(String::as_str),
        Some("https://example.com/x")
    );
    assert_eq!(d.extra.get("ext").map(String::as_str), Some("{\"c\":1}"));
    assert_eq!(d.channel_id.as_deref(), Some(XIAOMI_CHANNEL));
    assert_eq!(d.notify_id, Some(9));
    assert_eq!(d.time_to_live, Some(86_400_000));
    let req = &env.xiaomi.requests_to(PATH)[0];
    assert_eq!(
        req.header("authorization"),
        Some(format!("key={XIAOMI_APP_SECRET}").as_str())
    );
}

/// Rows: every documented code, scripted, one push to alice.
#[tokio::test]
async fn every_documented_code_answers_its_row_and_keeps_the_binding() {
    // (code, status, retried, paused)
    let rows: &[(i64, &str, bool, bool)] = &[
        (-1, "failed", true, false),
        (1, "failed", true, false),
        (10001, "failed", true, false),
        (10002, "failed", true, false),
        (10003, "failed", true, false),
        (10008, "rejected", false, false),
        (10016, "rejected", false, false),
        (10017, "rejected", false, false),
        (10027, "throttled", false, true),
        (10031, "failed", false, false),
        (10034, "throttled", false, true),
        (10036, "failed", false, false),
        (10037, "failed", true, false),
        (20301, "failed", false, false),
        (21301, "failed", false, false),
        (21302, "failed", false, false),
        (21303, "throttled", false, true),
        (21305, "rejected", false, false),
        (22000, "failed", false, false),
        (22006, "failed", false, false),
        (22007, "failed", false, false),
        (22022, "failed", false, false),
        (26004, "failed", false, false),
        (27001, "failed", false, false),
        (65003, "failed", false, false),
        (65009, "rejected", false, false),
        (65014, "rejected", false, false),
        (65015, "rejected", false, false),
        (65036, "failed", false, false),
        (65037, "failed", false, false),
        (65038, "failed", false, false),
        (200001, "throttled", false, true),
        (77777, "failed", false, false),
    ];
    let env = xsetup("xm-codes", &["alice"]).await;
    for &(code, status, retried, paused) in rows {
        env.xiaomi.reset();
        env.xiaomi.add_app(xiaomi_sim_app());
        env.store
            .clear_pauses(&xiaomi_account(), None, 0)
            .await
            .unwrap();
        env.ctx
            .vendor(offpush::domain::Platform::Xiaomi)
            .unwrap()
            .forget_pauses(&xiaomi_account())
            .await;
        env.xiaomi
            .script_always(PATH, Some(error_action(code, "x", "scripted")));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], status, "{code}: {r}");
        assert_eq!(l["vendor_code"], code.to_string(), "{code}: {r}");
        assert!(
            l["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("xiaomi {code}")),
            "{code}: {r}"
        );
        let want = if retried { MAX_ATTEMPTS as usize } else { 1 };
        assert_eq!(calls(&env), want, "{code}: calls");
        assert_eq!(l.get("retry_after_s").is_some(), paused, "{code}: {r}");
        assert_eq!(
            live_tokens(&env, "alice").await,
            ["xm-alice"],
            "{code}: kept"
        );
    }
}

#[tokio::test]
async fn no_valid_targets_ends_every_binding_of_the_call() {
    let env = xsetup("xm-20301", &["alice", "bob"]).await;
    env.xiaomi.set_reg_id("xm-alice", RegIdVerdict::Invalid);
    env.xiaomi.set_reg_id("xm-bob", RegIdVerdict::Invalid);
    let r = push_users(&env, &["alice", "bob"]).await;
    for u in ["alice", "bob"] {
        assert_eq!(line(&r, u)["status"], "token_invalid", "{r}");
        assert_eq!(line(&r, u)["vendor_code"], "20301");
    }
    assert_eq!(calls(&env), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(live_tokens(&env, "alice").await.is_empty());
    assert!(live_tokens(&env, "bob").await.is_empty());
}

#[tokio::test]
async fn credentials_refused_on_a_push_fail_and_never_end_a_binding() {
    let env = xsetup("xm-21301", &["alice"]).await;
    // The certificate's secret is not the app's (changed in Xiaomi's
    // console): the simulator's own 21301.
    env.edit_certificate(1, |c| {
        c.credentials.set_s("xiaomi_app_secret", "wrong-secret")
    })
    .await;
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("failed"), Some("21301")),
        "{r}"
    );
    assert_eq!(live_tokens(&env, "alice").await, ["xm-alice"]);
}

#[tokio::test]
async fn the_daily_quota_pauses_the_class_until_xiaomis_next_day() {
    let env = xsetup("xm-quota", &["alice", "bob"]).await;
    env.xiaomi.set_quota(XIAOMI_APP_SECRET, Some(1));
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent");
    let r = push_users(&env, &["bob"]).await;
    let l = line(&r, "bob");
    assert_eq!(l["status"], "throttled", "{r}");
    assert_eq!(l["vendor_code"], "200001");
    let retry = l["retry_after_s"].as_i64().unwrap();
    assert!((1..=86_400).contains(&retry));
    // Midnight UTC+8, give or take the seconds this test took since.
    let off = (now() + retry + 8 * 3600).rem_euclid(86_400);
    assert!(
        off <= 5 || off >= 86_395,
        "ends at midnight UTC+8: {off} s off"
    );
    let stored = env
        .store
        .vendor_state(&xiaomi_account(), now())
        .await
        .unwrap();
    assert_eq!(stored.pauses.len(), 1, "shared with every instance");
    assert_eq!(stored.pauses[0].scope, "class:private");
    // Paused: the next push of that class makes no call.
    let before = calls(&env);
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "throttled");
    assert_eq!(calls(&env), before);
    assert_eq!(live_tokens(&env, "bob").await, ["xm-bob"]);
}

#[tokio::test]
async fn server_errors_and_garbage_are_retried_with_the_same_call_then_failed() {
    let env = xsetup("xm-5xx", &["alice"]).await;
    for action in [
        XAction::HttpStatus(500),
        XAction::HttpStatus(503),
        XAction::Garbage,
    ] {
        env.xiaomi.reset();
        env.xiaomi.add_app(xiaomi_sim_app());
        env.xiaomi.script_always(PATH, Some(action.clone()));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], "failed", "{r}");
        assert!(
            l["detail"]
                .as_str()
                .unwrap()
                .ends_with(&format!("(after {MAX_ATTEMPTS} attempts)")),
            "{r}"
        );
        let sent = env.xiaomi.requests_to(PATH);
        assert_eq!(sent.len(), MAX_ATTEMPTS as usize);
        assert!(
            sent.windows(2).all(|w| w[0].body == w[1].body),
            "one call, repeated"
        );
        assert_eq!(live_tokens(&env, "alice").await, ["xm-alice"]);
    }
}

#[tokio::test]
async fn a_timeout_is_not_sent_again_and_answers_outcome_unknown() {
    let env = xsetup_limits(
        "xm-timeout",
        &["alice"],
        Duration::from_millis(300),
        Duration::from_secs(6),
    )
    .await;
    env.xiaomi
        .script_always(PATH, Some(XAction::Delay(Duration::from_secs(2))));
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(l["status"], "failed", "{r}");
    assert!(
        l["detail"].as_str().unwrap().contains("outcome is unknown"),
        "{r}"
    );
    let sent = settled(&env).await;
    assert_eq!(sent.len(), 1, "written once, never again");
    assert_eq!(sent[0].status, 0, "abandoned at the call timeout");
    assert!(env.xiaomi.deliveries().is_empty());
    assert_eq!(live_tokens(&env, "alice").await, ["xm-alice"]);
}

#[tokio::test]
async fn partial_success_at_a_thousand_regids_ends_only_the_bad_ones() {
    let env = TestEnv::new("xm-1000").await;
    env.add_xiaomi_certificate(ClickAction::OpenApp, false)
        .await;
    let users = env.seed_users(1000, "u", 1).await;
    let bad: Vec<String> = users.iter().step_by(97).cloned().collect();
    for u in &bad {
        env.xiaomi
            .set_reg_id(&format!("regid-{u}-0"), RegIdVerdict::Invalid);
    }
    // Both spellings of the CONFLICT (1.7) are read.
    for (round, key) in [
        xiaomi_sim::BadRegIdsKey::Lower,
        xiaomi_sim::BadRegIdsKey::Camel,
    ]
    .into_iter()
    .enumerate()
    {
        env.xiaomi.set_settings(xiaomi_sim::Settings {
            bad_regids_key: key,
            ..Default::default()
        });
        let before = calls(&env);
        let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
        assert_eq!(s, 200);
        assert_eq!(calls(&env) - before, 1, "1000 regids in one call");
        let results = r["results"].as_array().unwrap();
        let dead: Vec<&str> = results
            .iter()
            .filter(|l| l["status"] == "token_invalid")
            .map(|l| l["user_id"].as_str().unwrap())
            .collect();
        if round == 0 {
            assert_eq!(
                dead,
                bad.iter().map(String::as_str).collect::<Vec<_>>(),
                "{key:?}"
            );
            assert_eq!(r["summary"]["sent"], 1000 - bad.len() as u64);
        } else {
            // Ended by the first round: now no_device.
            assert!(dead.is_empty());
            assert_eq!(r["summary"]["no_device"], bad.len() as u64);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(live_tokens(&env, &bad[0]).await.is_empty());
    assert_eq!(live_tokens(&env, &users[1]).await.len(), 1);
}

#[tokio::test]
async fn a_thousand_and_one_devices_go_in_two_calls() {
    let env = TestEnv::new("xm-1001").await;
    env.add_xiaomi_certificate(ClickAction::OpenApp, false)
        .await;
    // 1000 users, the first with two devices: 1001 regids.
    let users = env.seed_users(1000, "u", 2).await;
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(
        (s, r["summary"]["sent"].as_u64()),
        (200, Some(1001)),
        "{}",
        r["summary"]
    );
    let sent = env.xiaomi.requests_to(PATH);
    assert_eq!(sent.len(), 2, "at most 1000 regids a call");
    let sizes: Vec<usize> = sent
        .iter()
        .map(|q| {
            q.body["registration_id"]
                .as_str()
                .unwrap()
                .split(',')
                .count()
        })
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 1001);
    assert!(sizes.iter().all(|n| *n <= 1000), "{sizes:?}");
}

#[tokio::test]
async fn the_xiaomi_push_event_drives_the_handler() {
    let env = xsetup("xm-event", &["bob"]).await;
    let vars = [("RUN_ID", "t1")];
    let (s, r) = read(
        push_dispatch::handle(
            &env.ctx,
            event("push-dispatch-xiaomi.json", &env.app, &vars),
        )
        .await,
    );
    assert_eq!(s, 200, "{r}");
    assert_eq!(line(&r, "bob")["status"], "sent", "{r}");
    assert_eq!(line(&r, "alice")["status"], "no_device", "{r}");
    let d = &env.xiaomi.deliveries()[0];
    assert_eq!(d.description.as_deref(), Some("See you at eight 🎉"));
    assert_eq!(d.time_to_live, Some(3_600_000));
}
