//! Meizu's fault matrix: how a push through a Meizu certificate answers
//! each code of the adapter's table (VENDORS_API.md 15.5, 15.7, 15.8;
//! `vendors/meizu/src/codes.rs`), the daily counts, the per-target failure
//! map, timeouts and malformed bodies, through the real handler against the
//! Meizu simulator (`tools/meizu-sim`). Every row asserts the answer line,
//! the calls the simulator recorded, and that a binding ends only on a
//! dead-token verdict (110002 / 110003 in the failure map).
//!
//! | row | what | test |
//! |-----|------|------|
//! | 1 | the signed form and `messageJson` as 15.2-15.4 document | `a_push_reaches_meizu_as_its_api_documents` |
//! | 2 | every whole-call code of the table | `every_whole_call_code_answers_its_row_and_keeps_the_binding` |
//! | 3 | every per-target code of the failure map | `every_per_target_code_answers_its_row_for_that_target_only` |
//! | 4 | 110002 / 110003 end only those bindings | `not_subscribed_and_illegal_push_ids_end_only_those_bindings` |
//! | 5 | credentials refused (1006, 110000) | `credentials_refused_on_a_push_fail_and_never_end_a_binding` |
//! | 6 | 110019 / 110051: the app paused until Meizu's next day | `the_daily_counts_pause_the_app_until_meizus_next_day` |
//! | 7 | 110010 at the top level: the app paused a second | `the_request_rate_pauses_the_app_for_a_second` |
//! | 8 | 110011: that device throttled, nothing paused | `the_devices_public_cap_throttles_only_that_target` |
//! | 9 | 5xx, 429, garbage retried as one call; 404 not | `server_errors_and_garbage_are_retried_with_the_same_call_then_failed` |
//! | 10 | timeout: not sent again | `a_timeout_is_not_sent_again_and_answers_outcome_unknown` |
//! | 11 | 100 devices in one call, some dead | `a_hundred_devices_go_in_one_call_and_only_the_bad_ones_end` |
//! | 12 | 1000 devices: ten calls, some dead | `partial_success_at_a_thousand_targets_ends_only_the_bad_ones` |
//! | 13 | 101 devices: two calls | `a_hundred_and_one_devices_go_in_two_calls` |
//! | 14 | title over 32 characters cut, detail says so | `a_title_past_meizus_limit_is_cut_and_said` |
//! | 15 | receipts carried; one posted through the route | `receipts_are_carried_and_a_posted_receipt_marks_the_device_delivered` |

use crate::common::*;
use meizu_sim::{error_action, PushIdVerdict, Quota, PATH};
use offpush::domain::{ClickAction, Platform, ReceiptSecret, Receipts, Secret};
use offpush::vendor::kit::session::MAX_ATTEMPTS;
use serde_json::{json, Value};
use std::time::Duration;

type MAction = meizu_sim::CallAction;

/// The table partition of the simulator's Meizu app (its pauses).
fn meizu_account() -> String {
    meizu_credentials().account_key()
}

/// A Meizu certificate (id 1) and `users` bound as `mz-<user>`.
async fn msetup(label: &str, users: &[&str]) -> TestEnv {
    let env = TestEnv::new(label).await;
    env.add_meizu_certificate(ClickAction::OpenApp, false).await;
    for u in users {
        env.bind(1, u, &format!("mz-{u}"), None).await;
    }
    env
}

/// The same, with its own call timeout and push deadline.
async fn msetup_limits(
    label: &str,
    users: &[&str],
    timeout: Duration,
    deadline: Duration,
) -> TestEnv {
    let mut env = msetup(label, users).await;
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

fn detail(l: &Value) -> &str {
    l["detail"].as_str().unwrap_or("")
}

fn calls(env: &TestEnv) -> usize {
    env.meizu.requests_to(PATH).len()
}

/// A recorded form field.
fn field<'a>(q: &'a meizu_sim::RecordedRequest, name: &str) -> &'a str {
    q.body[name]
        .as_str()
        .unwrap_or_else(|| panic!("a {name} field: {}", q.body))
}

/// The `messageJson` of a recorded form, parsed.
fn message_of(q: &meizu_sim::RecordedRequest) -> Value {
    serde_json::from_str(field(q, "messageJson")).unwrap()
}

/// The `pushIds` of a recorded form.
fn push_ids_of(q: &meizu_sim::RecordedRequest) -> Vec<String> {
    field(q, "pushIds").split(',').map(str::to_string).collect()
}

async fn settled(env: &TestEnv) -> Vec<meizu_sim::RecordedRequest> {
    let mut last = env.meizu.requests_to(PATH);
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = env.meizu.requests_to(PATH);
        if now.len() == last.len() {
            return now;
        }
        last = now;
    }
    last
}

/// Ends every pause of the simulator's app, in the table and in the
/// instance's memory.
async fn clear_pauses(env: &TestEnv) {
    env.store
        .clear_pauses(&meizu_account(), None, 0)
        .await
        .unwrap();
    env.ctx
        .vendor(Platform::Meizu)
        .unwrap()
        .forget_pauses(&meizu_account())
        .await;
}

/// `retry_after_s` ends at midnight UTC+8, give or take the seconds the
/// test took since.
fn ends_at_meizus_midnight(l: &Value) {
    let retry = l["retry_after_s"].as_i64().unwrap_or_else(|| panic!("{l}"));
    assert!((1..=86_400).contains(&retry), "{l}");
    let off = (now() + retry + 8 * 3600).rem_euclid(86_400);
    assert!(
        off <= 5 || off >= 86_395,
        "ends at midnight UTC+8: {off} s off"
    );
}

#[tokio::test]
async fn a_push_reaches_meizu_as_its_api_documents() {
    let env = msetup("mz-shape", &["alice"]).await;
    let (s, r) = push(
        &env,
        &json!({"to": ["alice"], "title": "Alice", "desc": "Hi", "ext": "{\"c\":1}", "notify_id": 42,
                "ttl_seconds": 7200,
                "click_action": {"type": "open_url", "url": "https://example.com/x"}}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let l = line(&r, "alice");
    assert_eq!(l["status"], "sent", "{r}");
    assert!(l.get("detail").is_none_or(Value::is_null), "{r}");
    let sent = env.meizu.requests_to(PATH);
    assert_eq!(sent.len(), 1);
    let q = &sent[0];
    // 15.2: a form of appId, pushIds, messageJson and sign, the sign the
    // MD5 of the other three sorted, then the appSecret.
    assert!(
        q.header("content-type")
            .unwrap()
            .starts_with("application/x-www-form-urlencoded"),
        "{:?}",
        q.headers
    );
    let form = q.body.as_object().unwrap();
    let mut names: Vec<&str> = form.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["appId", "messageJson", "pushIds", "sign"]);
    assert_eq!(field(q, "appId"), MEIZU_APP_ID);
    assert_eq!(field(q, "pushIds"), "mz-alice");
    let signed = meizu_sim::sign(
        [
            ("appId", field(q, "appId")),
            ("messageJson", field(q, "messageJson")),
            ("pushIds", field(q, "pushIds")),
        ],
        MEIZU_APP_SECRET,
    );
    assert_eq!(field(q, "sign"), signed);
    // 15.4: the notification bar, the click, the time, the notify key.
    let m = message_of(q);
    assert_eq!(
        m["noticeBarInfo"],
        json!({"noticeMsgType": 1, "noticeBarType": 0, "title": "Alice", "content": "Hi"}),
        "IM is a private message: {m}"
    );
    assert_eq!(
        m["clickTypeInfo"],
        json!({"clickType": 2, "url": "https://example.com/x", "parameters": {"ext": "{\"c\":1}"}})
    );
    assert_eq!(m["pushTimeInfo"], json!({"offLine": 1, "validTime": 2}));
    assert_eq!(m["advanceInfo"]["notifyKey"], "2a", "42 in hex");
    assert!(m.get("extra").is_none(), "receipts off: no callback: {m}");
    // What Meizu would show.
    let d = &env.meizu.deliveries()[0];
    assert_eq!(l["vendor_task_id"].as_str(), Some(d.msg_id.as_str()));
    assert_eq!(d.app_id, MEIZU_APP_ID);
    assert_eq!(d.push_id, "mz-alice");
    assert_eq!((d.title.as_str(), d.content.as_str()), ("Alice", "Hi"));
    assert_eq!((d.notice_msg_type, d.click_type), (1, 2));
    assert_eq!(d.parameters["ext"], "{\"c\":1}");
    assert_eq!(d.notify_key.as_deref(), Some("2a"));
    assert_eq!((d.off_line, d.valid_time), (1, 2));

    // A news push with the certificate's click (open the app), default TTL,
    // no ext, no notify id: public, clickType 0, 24 hours.
    env.meizu.reset();
    let (s, r) = push(
        &env,
        &json!({"to": ["alice"], "title": "News", "desc": "Today", "category": "NEWS"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    let m = message_of(&env.meizu.requests_to(PATH)[0]);
    assert_eq!(m["noticeBarInfo"]["noticeMsgType"], 0, "{m}");
    assert_eq!(m["clickTypeInfo"], json!({"clickType": 0}));
    assert_eq!(m["pushTimeInfo"]["validTime"], 24);
    assert!(m["advanceInfo"].get("notifyKey").is_none(), "{m}");

    // An intent naming its component opens that activity (clickType 1).
    env.meizu.reset();
    let (s, r) = push(
        &env,
        &json!({"to": ["alice"], "desc": "Hi", "click_action": {"type": "open_page",
                "intent_uri": format!("intent:#Intent;component={MEIZU_PACKAGE}/.Chat;end")}}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    let m = message_of(&env.meizu.requests_to(PATH)[0]);
    assert_eq!(
        m["clickTypeInfo"],
        json!({"clickType": 1, "activity": format!("{MEIZU_PACKAGE}.Chat")})
    );
    assert_eq!(live_tokens(&env, "alice").await, ["mz-alice"]);
}

/// Rows: every top-level code of the table, scripted, one push to alice.
#[tokio::test]
async fn every_whole_call_code_answers_its_row_and_keeps_the_binding() {
    // (code, status, retried, paused)
    let rows: &[(i64, &str, bool, bool)] = &[
        (500, "failed", true, false),
        (1001, "failed", true, false),
        (1003, "failed", true, false),
        (1005, "rejected", false, false),
        (110004, "rejected", false, false),
        (1006, "failed", false, false),
        (110000, "failed", false, false),
        (110001, "failed", false, false),
        (110033, "failed", false, false),
        (110009, "failed", false, false),
        (110010, "throttled", false, true),
        (110019, "throttled", false, true),
        (110031, "failed", false, false),
        (110051, "throttled", false, true),
        (110032, "failed", false, false),
        (110053, "failed", false, false),
        // The same numbers as per-target dead verdicts: at the top level
        // they end nothing.
        (110002, "failed", false, false),
        (110003, "failed", false, false),
        (99999, "failed", false, false),
    ];
    let env = msetup("mz-codes", &["alice"]).await;
    for &(code, status, retried, paused) in rows {
        env.meizu.reset();
        clear_pauses(&env).await;
        env.meizu
            .script_always(PATH, Some(error_action(&code.to_string(), "scripted")));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], status, "{code}: {r}");
        assert_eq!(l["vendor_code"], code.to_string(), "{code}: {r}");
        assert!(
            detail(l).starts_with(&format!("meizu {code}: ")),
            "{code}: {r}"
        );
        assert!(detail(l).contains("(scripted)"), "Meizu's message: {r}");
        let sent = env.meizu.requests_to(PATH);
        let want = if retried { MAX_ATTEMPTS as usize } else { 1 };
        assert_eq!(sent.len(), want, "{code}: calls");
        assert!(
            sent.windows(2).all(|w| w[0].body == w[1].body),
            "{code}: one call, repeated"
        );
        assert_eq!(push_ids_of(&sent[0]), ["mz-alice"]);
        assert_eq!(l.get("retry_after_s").is_some(), paused, "{code}: {r}");
        assert!(env.meizu.deliveries().is_empty());
        assert_eq!(
            live_tokens(&env, "alice").await,
            ["mz-alice"],
            "{code}: kept"
        );
    }
}

/// Rows: every per-target code of the failure map (the verdict of alice's
/// pushId), in a call where bob's is delivered.
#[tokio::test]
async fn every_per_target_code_answers_its_row_for_that_target_only() {
    // (verdict, code, status, dead, retry_after_s: None, Some(0) to
    // Meizu's next day, Some(n) n seconds)
    let rows: Vec<(PushIdVerdict, &str, &str, bool, Option<i64>)> = vec![
        (
            PushIdVerdict::NotSubscribed,
            "110002",
            "token_invalid",
            true,
            None,
        ),
        (
            PushIdVerdict::Illegal,
            "110003",
            "token_invalid",
            true,
            None,
        ),
        (PushIdVerdict::SwitchOff, "110010", "failed", false, None),
        (
            PushIdVerdict::PublicCap,
            "110011",
            "throttled",
            false,
            Some(0),
        ),
        (
            PushIdVerdict::Code("110005".into()),
            "110005",
            "failed",
            false,
            None,
        ),
        (
            PushIdVerdict::Code("520".into()),
            "520",
            "sent",
            false,
            None,
        ),
        (
            PushIdVerdict::Code("518".into()),
            "518",
            "throttled",
            false,
            Some(1),
        ),
        (
            PushIdVerdict::Code("201".into()),
            "201",
            "failed",
            false,
            None,
        ),
        (
            PushIdVerdict::Code("501".into()),
            "501",
            "failed",
            false,
            None,
        ),
        (
            PushIdVerdict::Code("513".into()),
            "513",
            "failed",
            false,
            None,
        ),
        (
            PushIdVerdict::Code("519".into()),
            "519",
            "failed",
            false,
            None,
        ),
        (
            PushIdVerdict::Code("12345".into()),
            "12345",
            "failed",
            false,
            None,
        ),
    ];
    let env = msetup("mz-targets", &["bob"]).await;
    for (verdict, code, status, dead, retry) in rows {
        // One user per row: a dead row's binding stays ended.
        let user = format!("t{code}");
        let token = format!("mz-{user}");
        env.bind(1, &user, &token, None).await;
        env.meizu.reset();
        clear_pauses(&env).await;
        env.meizu.set_push_id(&token, verdict);
        let r = push_users(&env, &[user.as_str(), "bob"]).await;
        let l = line(&r, &user);
        assert_eq!(l["status"], status, "{code}: {r}");
        assert!(
            detail(l).starts_with(&format!("meizu {code}: ")),
            "{code}: {r}"
        );
        if status == "sent" {
            // 520: collapsed with the device's newer messages, shown.
            let msg_id = &env.meizu.requests_to(PATH)[0].response["msgId"];
            assert_eq!(&l["vendor_task_id"], msg_id, "{code}: {r}");
        } else {
            assert_eq!(l["vendor_code"], code, "{code}: {r}");
        }
        match retry {
            None => assert!(l.get("retry_after_s").is_none(), "{code}: {r}"),
            Some(0) => ends_at_meizus_midnight(l),
            Some(n) => assert_eq!(l["retry_after_s"].as_i64(), Some(n), "{code}: {r}"),
        }
        let b = line(&r, "bob");
        assert_eq!(b["status"], "sent", "{code}: {r}");
        assert!(b.get("detail").is_none_or(Value::is_null), "{code}: {r}");
        let sent = env.meizu.requests_to(PATH);
        assert_eq!(sent.len(), 1, "{code}: one call for both");
        assert_eq!(push_ids_of(&sent[0]), [token.as_str(), "mz-bob"]);
        assert_eq!(env.meizu.deliveries().len(), 1, "{code}: bob's");
        if dead {
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(live_tokens(&env, &user).await.is_empty(), "{code}: ended");
        } else {
            assert_eq!(
                live_tokens(&env, &user).await,
                [token.as_str()],
                "{code}: kept"
            );
        }
        assert_eq!(live_tokens(&env, "bob").await, ["mz-bob"], "{code}");
        // A target's verdict pauses nothing of the account.
        let stored = env
            .store
            .vendor_state(&meizu_account(), now())
            .await
            .unwrap();
        assert!(stored.pauses.is_empty(), "{code}: {:?}", stored.pauses);
    }
}

#[tokio::test]
async fn not_subscribed_and_illegal_push_ids_end_only_those_bindings() {
    let env = msetup("mz-dead", &["alice", "bob", "carol", "dave"]).await;
    env.meizu
        .set_push_id("mz-alice", PushIdVerdict::NotSubscribed);
    env.meizu.set_push_id("mz-bob", PushIdVerdict::Illegal);
    // Notifications switched off: the device is alive, the user muted it.
    env.meizu.set_push_id("mz-carol", PushIdVerdict::SwitchOff);
    let r = push_users(&env, &["alice", "bob", "carol", "dave"]).await;
    for (u, status, code) in [
        ("alice", "token_invalid", Some("110002")),
        ("bob", "token_invalid", Some("110003")),
        ("carol", "failed", Some("110010")),
        ("dave", "sent", None),
    ] {
        let l = line(&r, u);
        assert_eq!(l["status"], status, "{u}: {r}");
        assert_eq!(l["vendor_code"].as_str(), code, "{u}: {r}");
    }
    assert_eq!(calls(&env), 1);
    assert_eq!(env.meizu.deliveries().len(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(live_tokens(&env, "alice").await.is_empty());
    assert!(live_tokens(&env, "bob").await.is_empty());
    assert_eq!(live_tokens(&env, "carol").await, ["mz-carol"]);
    assert_eq!(live_tokens(&env, "dave").await, ["mz-dave"]);
    // Ended: the next push finds no device for them, and sends the rest.
    let r = push_users(&env, &["alice", "bob", "carol", "dave"]).await;
    assert_eq!(line(&r, "alice")["status"], "no_device", "{r}");
    assert_eq!(line(&r, "bob")["status"], "no_device", "{r}");
    assert_eq!(calls(&env), 2);
    assert_eq!(
        push_ids_of(&env.meizu.requests_to(PATH)[1]),
        ["mz-carol", "mz-dave"]
    );
}

#[tokio::test]
async fn credentials_refused_on_a_push_fail_and_never_end_a_binding() {
    // (what the certificate gets wrong, the simulator's own code)
    for (attr, value, code) in [
        // The secret is not the app's (reset in Meizu's console): 1006.
        ("meizu_app_secret", "wrong-meizu-secret", "1006"),
        // An appId Meizu does not know: 110000.
        ("meizu_app_id", "100001", "110000"),
    ] {
        let env = msetup(&format!("mz-cred-{code}"), &["alice"]).await;
        env.edit_certificate(1, |c| c.credentials.set_s(attr, value))
            .await;
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(
            (l["status"].as_str(), l["vendor_code"].as_str()),
            (Some("failed"), Some(code)),
            "{r}"
        );
        assert!(detail(l).starts_with(&format!("meizu {code}: ")), "{r}");
        assert!(!detail(l).contains("wrong-meizu-secret"), "{r}");
        assert!(l.get("retry_after_s").is_none(), "{r}");
        assert_eq!(calls(&env), 1, "not sent again");
        assert!(env.meizu.deliveries().is_empty());
        assert_eq!(live_tokens(&env, "alice").await, ["mz-alice"]);
    }
}

#[tokio::test]
async fn the_daily_counts_pause_the_app_until_meizus_next_day() {
    let env = msetup("mz-quota", &["alice", "bob"]).await;
    // 110019: targets delivered today; 110051: accepted calls today.
    for (code, quota) in [
        (
            "110019",
            Quota {
                daily_targets: Some(1),
                ..Quota::default()
            },
        ),
        (
            "110051",
            Quota {
                daily_messages: Some(1),
                ..Quota::default()
            },
        ),
    ] {
        env.meizu.reset();
        clear_pauses(&env).await;
        env.meizu.set_quota(MEIZU_APP_ID, quota);
        let r = push_users(&env, &["alice"]).await;
        assert_eq!(line(&r, "alice")["status"], "sent", "{code}: {r}");
        let r = push_users(&env, &["bob"]).await;
        let l = line(&r, "bob");
        assert_eq!(l["status"], "throttled", "{code}: {r}");
        assert_eq!(l["vendor_code"], code, "{r}");
        assert!(detail(l).contains("daily"), "{r}");
        ends_at_meizus_midnight(l);
        assert_eq!(calls(&env), 2, "{code}: refused once, not retried");
        let stored = env
            .store
            .vendor_state(&meizu_account(), now())
            .await
            .unwrap();
        assert_eq!(stored.pauses.len(), 1, "{code}: shared with every instance");
        assert_eq!(stored.pauses[0].scope, "app", "{code}");
        // Paused: the next push, of either class, makes no call.
        for category in ["IM", "NEWS"] {
            let (s, r) = push(
                &env,
                &json!({"to": ["alice", "bob"], "desc": "hi", "category": category}),
            )
            .await;
            assert_eq!(s, 200, "{r}");
            for u in ["alice", "bob"] {
                let l = line(&r, u);
                assert_eq!(l["status"], "throttled", "{code} {category}: {r}");
                assert!(l["retry_after_s"].as_i64().is_some(), "{r}");
            }
        }
        assert_eq!(calls(&env), 2, "{code}: paused, no call");
        assert_eq!(live_tokens(&env, "alice").await, ["mz-alice"]);
        assert_eq!(live_tokens(&env, "bob").await, ["mz-bob"]);
    }
}

#[tokio::test]
async fn the_request_rate_pauses_the_app_for_a_second() {
    let env = msetup("mz-qps", &["alice", "bob"]).await;
    // The simulator's clock stands still: both calls fall in one second.
    env.meizu.set_clock(meizu_sim::SimClock::Fixed(now_ms()));
    env.meizu.set_quota(
        MEIZU_APP_ID,
        Quota {
            qps: Some(1),
            ..Quota::default()
        },
    );
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    let r = push_users(&env, &["bob"]).await;
    let l = line(&r, "bob");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("throttled"), Some("110010")),
        "{r}"
    );
    assert_eq!(l["retry_after_s"].as_i64(), Some(1), "{r}");
    let sent = env.meizu.requests_to(PATH);
    assert_eq!(sent.len(), 2, "refused once, not retried");
    assert_eq!(sent[1].response["code"], "110010");
    assert_eq!(live_tokens(&env, "bob").await, ["mz-bob"]);
}

#[tokio::test]
async fn the_devices_public_cap_throttles_only_that_target() {
    let env = msetup("mz-110011", &["alice", "bob"]).await;
    env.meizu.set_quota(
        MEIZU_APP_ID,
        Quota {
            public_per_device: Some(1),
            ..Quota::default()
        },
    );
    let news = |to: &[&str]| json!({"to": to, "desc": "news", "category": "NEWS"});
    let (s, r) = push(&env, &news(&["alice"])).await;
    assert_eq!((s, status_of(&r, "alice").as_str()), (200, "sent"), "{r}");
    // alice has had her public message today; bob has not.
    let (s, r) = push(&env, &news(&["alice", "bob"])).await;
    assert_eq!(s, 200, "{r}");
    let l = line(&r, "alice");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("throttled"), Some("110011")),
        "{r}"
    );
    ends_at_meizus_midnight(l);
    assert_eq!(line(&r, "bob")["status"], "sent", "{r}");
    assert_eq!(calls(&env), 2);
    let stored = env
        .store
        .vendor_state(&meizu_account(), now())
        .await
        .unwrap();
    assert!(stored.pauses.is_empty(), "nothing of the account paused");
    // Private (IM) messages have no cap: alice still gets them.
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    assert_eq!(calls(&env), 3);
    assert_eq!(live_tokens(&env, "alice").await, ["mz-alice"]);
}

#[tokio::test]
async fn server_errors_and_garbage_are_retried_with_the_same_call_then_failed() {
    let env = msetup("mz-5xx", &["alice"]).await;
    for (action, code) in [
        (MAction::HttpStatus(500), "http_500"),
        (MAction::HttpStatus(503), "http_503"),
        (MAction::HttpStatus(429), "http_429"),
        (MAction::Garbage, "unreadable"),
    ] {
        env.meizu.reset();
        env.meizu.script_always(PATH, Some(action.clone()));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], "failed", "{action:?}: {r}");
        assert_eq!(l["vendor_code"], code, "{action:?}: {r}");
        assert!(
            detail(l).ends_with(&format!("(after {MAX_ATTEMPTS} attempts)")),
            "{r}"
        );
        let sent = env.meizu.requests_to(PATH);
        assert_eq!(sent.len(), MAX_ATTEMPTS as usize, "{action:?}");
        assert!(
            sent.windows(2).all(|w| w[0].body == w[1].body),
            "one call, repeated"
        );
        assert_eq!(live_tokens(&env, "alice").await, ["mz-alice"]);
    }
    // Any other status is our request's: not sent again.
    env.meizu.reset();
    env.meizu
        .script_always(PATH, Some(MAction::HttpStatus(404)));
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("failed"), Some("http_404")),
        "{r}"
    );
    assert_eq!(calls(&env), 1);
    assert_eq!(live_tokens(&env, "alice").await, ["mz-alice"]);
}

#[tokio::test]
async fn a_timeout_is_not_sent_again_and_answers_outcome_unknown() {
    let env = msetup_limits(
        "mz-timeout",
        &["alice"],
        Duration::from_millis(300),
        Duration::from_secs(6),
    )
    .await;
    env.meizu
        .script_always(PATH, Some(MAction::Delay(Duration::from_secs(2))));
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(l["status"], "failed", "{r}");
    assert!(detail(l).contains("outcome is unknown"), "{r}");
    let sent = settled(&env).await;
    assert_eq!(sent.len(), 1, "written once, never again");
    assert_eq!(sent[0].status, 0, "abandoned at the call timeout");
    assert!(env.meizu.deliveries().is_empty());
    assert_eq!(live_tokens(&env, "alice").await, ["mz-alice"]);
}

#[tokio::test]
async fn a_hundred_devices_go_in_one_call_and_only_the_bad_ones_end() {
    let env = TestEnv::new("mz-100").await;
    env.add_meizu_certificate(ClickAction::OpenApp, false).await;
    let users = env.seed_users(100, "u", 1).await;
    let bad: Vec<String> = users.iter().step_by(9).cloned().collect();
    for (i, u) in bad.iter().enumerate() {
        let verdict = if i % 2 == 0 {
            PushIdVerdict::NotSubscribed
        } else {
            PushIdVerdict::Illegal
        };
        env.meizu.set_push_id(&format!("regid-{u}-0"), verdict);
    }
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    let sent = env.meizu.requests_to(PATH);
    assert_eq!(sent.len(), 1, "100 pushIds in one call");
    assert_eq!(push_ids_of(&sent[0]).len(), 100);
    let dead: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] == "token_invalid")
        .map(|l| l["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(dead, bad.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        r["summary"]["sent"],
        100 - bad.len() as u64,
        "{}",
        r["summary"]
    );
    assert_eq!(env.meizu.deliveries().len(), 100 - bad.len());
    tokio::time::sleep(Duration::from_millis(300)).await;
    for u in &bad {
        assert!(live_tokens(&env, u).await.is_empty(), "{u}");
    }
    assert_eq!(live_tokens(&env, &users[1]).await.len(), 1);
    assert_eq!(live_tokens(&env, &users[98]).await.len(), 1);
}

#[tokio::test]
async fn partial_success_at_a_thousand_targets_ends_only_the_bad_ones() {
    let env = TestEnv::new("mz-1000").await;
    env.add_meizu_certificate(ClickAction::OpenApp, false).await;
    let users = env.seed_users(1000, "u", 1).await;
    let bad: Vec<String> = users.iter().step_by(97).cloned().collect();
    for u in &bad {
        env.meizu
            .set_push_id(&format!("regid-{u}-0"), PushIdVerdict::NotSubscribed);
    }
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    let sent = env.meizu.requests_to(PATH);
    assert_eq!(sent.len(), 10, "at most 100 pushIds a call");
    assert!(sent.iter().all(|q| push_ids_of(q).len() == 100));
    let dead: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] == "token_invalid")
        .map(|l| l["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(dead, bad.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r["summary"]["sent"], 1000 - bad.len() as u64);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(live_tokens(&env, &bad[0]).await.is_empty());
    assert!(live_tokens(&env, bad.last().unwrap()).await.is_empty());
    assert_eq!(live_tokens(&env, &users[1]).await.len(), 1);
    // Ended by the first push: now no_device, and never sent again.
    let before = calls(&env);
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(s, 200);
    assert_eq!(
        r["summary"]["no_device"],
        bad.len() as u64,
        "{}",
        r["summary"]
    );
    assert_eq!(r["summary"]["sent"], 1000 - bad.len() as u64);
    let again: usize = env.meizu.requests_to(PATH)[before..]
        .iter()
        .map(|q| push_ids_of(q).len())
        .sum();
    assert_eq!(again, 1000 - bad.len());
}

#[tokio::test]
async fn a_hundred_and_one_devices_go_in_two_calls() {
    let env = TestEnv::new("mz-101").await;
    env.add_meizu_certificate(ClickAction::OpenApp, false).await;
    // 100 users, the first with two devices: 101 pushIds.
    let users = env.seed_users(100, "u", 2).await;
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(
        (s, r["summary"]["sent"].as_u64()),
        (200, Some(101)),
        "{}",
        r["summary"]
    );
    let sent = env.meizu.requests_to(PATH);
    assert_eq!(sent.len(), 2, "at most 100 pushIds a call");
    let sizes: Vec<usize> = sent.iter().map(|q| push_ids_of(q).len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 101);
    assert!(sizes.iter().all(|n| *n <= 100), "{sizes:?}");
    // Every pushId once, and each call signed for its own list.
    let mut all: Vec<String> = sent.iter().flat_map(push_ids_of).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 101);
    assert_ne!(field(&sent[0], "sign"), field(&sent[1], "sign"));
    assert_eq!(env.meizu.deliveries().len(), 101);
}

#[tokio::test]
async fn a_title_past_meizus_limit_is_cut_and_said() {
    let env = msetup("mz-title", &["alice"]).await;
    // 32 characters: Meizu's limit, sent whole, nothing said.
    let at = "标".repeat(32);
    let (s, r) = push(&env, &json!({"to": ["alice"], "title": at, "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    let l = line(&r, "alice");
    assert_eq!(l["status"], "sent", "{r}");
    assert!(l.get("detail").is_none_or(Value::is_null), "{r}");
    assert_eq!(
        message_of(&env.meizu.requests_to(PATH)[0])["noticeBarInfo"]["title"],
        at.as_str()
    );
    // 40 (the product's limit): cut to 32, ending in "…", and said.
    let past = format!("{}{}", "标".repeat(30), "abcdefghij");
    let (s, r) = push(&env, &json!({"to": ["alice"], "title": past, "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    let l = line(&r, "alice");
    assert_eq!(l["status"], "sent", "{r}");
    assert_eq!(
        detail(l),
        "meizu: title cut to 32 characters (Meizu's limit)",
        "{r}"
    );
    let sent = env.meizu.requests_to(PATH);
    assert_eq!(sent.len(), 2);
    let title = message_of(&sent[1])["noticeBarInfo"]["title"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(title, format!("{}a…", "标".repeat(30)));
    assert_eq!(title.chars().count(), 32);
    assert_eq!(env.meizu.deliveries()[1].title, title);
    assert_eq!(live_tokens(&env, "alice").await, ["mz-alice"]);
}

/// A receipt POST through the route, as Meizu's 2023 doc posts it (a form
/// of `cb` and `access_token`) or its 2017 doc (the raw JSON).
async fn post_receipt(env: &TestEnv, secret: &str, body: String, form: bool) -> (u16, Value) {
    let content_type = if form {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    let req = lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("https://api.local/v1/receipts/meizu/{secret}"))
        .header("content-type", content_type)
        .body(lambda_http::Body::Text(body))
        .unwrap();
    read(push_dispatch::handle(&env.ctx, req).await)
}

/// The `cb` object of `pending` receipts, as the simulator renders it.
fn cb_of(pending: &[meizu_sim::PendingReceipt]) -> Value {
    let mut cb = serde_json::Map::new();
    for p in pending {
        cb.insert(
            p.cb_key(),
            json!({"param": p.param, "type": p.receipt_type, "targets": [p.push_id]}),
        );
    }
    Value::Object(cb)
}

#[tokio::test]
async fn receipts_are_carried_and_a_posted_receipt_marks_the_device_delivered() {
    let env = TestEnv::new("mz-receipts").await;
    env.add_meizu_certificate(ClickAction::OpenApp, true).await;
    // The receipt URL's secret, known to the test.
    let secret = ReceiptSecret::generate();
    let (hash, kept) = (secret.hash(), Secret::new(secret.expose()));
    env.edit_certificate(1, |c| {
        c.receipt = Some(Receipts {
            receipt_id: None,
            secret_hash: hash,
            secret: Some(kept),
        })
    })
    .await;
    let route = format!("/v1/receipts/meizu/{}", secret.expose());
    // Held in the simulator's queue: the test posts them itself.
    env.meizu.set_receipt_delay(Duration::from_secs(3600));
    for u in ["alice", "bob", "carol"] {
        env.bind(1, u, &format!("mz-{u}"), None).await;
    }
    env.meizu
        .set_push_id("mz-bob", PushIdVerdict::NotSubscribed);
    let r = push_to(&env, "alice", "hi", json!({"request_id": "m-1"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    assert!(
        line(&r, "alice").get("detail").is_none_or(Value::is_null),
        "{r}"
    );
    let (s, r) = push(
        &env,
        &json!({"to": ["bob", "carol"], "desc": "hi", "request_id": "m-2"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(status_of(&r, "bob"), "token_invalid");
    assert_eq!(status_of(&r, "carol"), "sent");

    // 15.4, 15.6: every message names the URL, the push reference and
    // receipts of deliveries only.
    let tag = offpush::domain::receipt::receipt_tag(
        &env.app.id,
        offpush::domain::CertificateId::new(1).unwrap(),
    );
    let sent = env.meizu.requests_to(PATH);
    assert_eq!(sent.len(), 2);
    let mut params = Vec::new();
    for q in &sent {
        let extra = &message_of(q)["extra"];
        let url = extra["callback"]
            .as_str()
            .unwrap_or_else(|| panic!("{extra}"));
        assert!(url.ends_with(&route), "{url}");
        assert!(url.len() <= 128, "{url}");
        let param = extra["callback.param"].as_str().unwrap();
        assert!(
            param.starts_with(&format!("op2.{}.", today().replace('-', ""))),
            "{param}"
        );
        assert!(param.ends_with(&tag), "{param}");
        assert!(param.len() <= 64, "{param}");
        assert_eq!(extra["callback.type"], "1");
        params.push(param.to_string());
    }
    assert_ne!(params[0], params[1], "one reference per push");
    // What Meizu would post: a delivered receipt for alice and carol.
    let pending = env.meizu.pending_receipts();
    let mut got: Vec<(&str, u32)> = pending
        .iter()
        .map(|p| (p.push_id.as_str(), p.receipt_type))
        .collect();
    got.sort_unstable();
    assert_eq!(got, [("mz-alice", 1), ("mz-carol", 1)], "{pending:?}");
    assert!(pending.iter().all(|p| p.url.ends_with(&route)));
    let cb = cb_of(&pending).to_string();
    let form = sim_kit::form::encode([("cb", cb.as_str()), ("access_token", "")]);

    // An unknown secret: 404, nothing changed.
    let before = env.table_items().await;
    let (s, _) = post_receipt(&env, ReceiptSecret::generate().expose(), form.clone(), true).await;
    assert_eq!(s, 404);
    assert_eq!(env.table_items().await, before, "refused: nothing changed");

    let (s, ack) = post_receipt(&env, secret.expose(), form.clone(), true).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(
        (
            ack["delivered"].as_u64(),
            ack["ended"].as_u64(),
            ack["unmatched"].as_u64()
        ),
        (Some(2), Some(0), Some(0)),
        "{ack}"
    );
    for id in ["m-1", "m-2"] {
        let (s, rec) = admin_get(&env, &format!("/v1/pushes/{id}")).await;
        assert_eq!(s, 200, "{rec}");
        assert_eq!(rec["summary"]["delivered"], 1, "{id}: {rec}");
    }
    // Redelivered, and the raw JSON form of the 2017 doc: counted once.
    let (s, ack) = post_receipt(&env, secret.expose(), form, true).await;
    assert_eq!((s, ack["delivered"].as_u64()), (200, Some(0)), "{ack}");
    let (s, ack) = post_receipt(&env, secret.expose(), cb, false).await;
    assert_eq!((s, ack["delivered"].as_u64()), (200, Some(0)), "{ack}");
    // Receipts end nothing; bob's binding ended on the send's 110002.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(live_tokens(&env, "alice").await, ["mz-alice"]);
    assert_eq!(live_tokens(&env, "carol").await, ["mz-carol"]);
    assert!(live_tokens(&env, "bob").await.is_empty());
    assert_eq!(calls(&env), 2, "receipts made no call");
}
