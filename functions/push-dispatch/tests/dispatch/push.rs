//! POST /v1/push end to end: the real handler, the DynamoDB emulator and
//! the vivo simulator, asserting both the answer and what vivo received.

use crate::common::*;
use offpush::domain::{ClickAction, PushMode};
use serde_json::json;
use std::collections::HashSet;

#[tokio::test]
async fn a_single_recipient_goes_through_message_send_with_every_field() {
    let (env, app) = setup("single").await;
    bind(&env, &app, "alice", "regid-alice-0001", Some("phone")).await;
    let (s, r) = push(&env, &json!({
        "to": ["alice"], "title": "Alice", "desc": "Hi, are you free tonight?",
        "ext": "{\"conv\":\"c2c_alice\"}", "ttl_seconds": 3600, "request_id": "msg-123", "notify_id": 42
    })).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["request_id"], "msg-123");
    assert_eq!(r["duplicate"], false);
    let res = &r["results"][0];
    assert_eq!(res["user_id"], "alice");
    assert_eq!(res["certificate_id"], 1);
    assert_eq!(res["device_id"], "phone");
    assert_eq!(res["status"], "sent");
    assert!(!res["vendor_task_id"].as_str().unwrap().is_empty());
    assert_eq!(
        r["summary"],
        json!({"sent": 1, "no_device": 0, "token_invalid": 0, "throttled": 0, "rejected": 0, "failed": 0})
    );
    assert!(
        !r.to_string().contains("regid-alice"),
        "no whole token in the answer"
    );

    let sends = env.sim.requests_to("/message/send");
    assert_eq!(sends.len(), 1);
    let b = &sends[0].body;
    assert!(b["appId"].is_u64());
    assert_eq!(b["appId"], VIVO_APP_ID);
    assert_eq!(b["regId"], "regid-alice-0001");
    assert_eq!(b["title"], "Alice");
    assert_eq!(b["content"], "Hi, are you free tonight?");
    assert_eq!(b["notifyType"], 4);
    assert_eq!(b["skipType"], 1);
    assert!(b.get("skipContent").is_none());
    assert_eq!(
        b["clientCustomMap"],
        json!({"ext": "{\"conv\":\"c2c_alice\"}"})
    );
    assert_eq!(b["category"], "IM");
    assert_eq!(b["classification"], 1);
    assert_eq!(b["timeToLive"], 3600);
    assert_eq!(b["pushMode"], 0);
    assert_eq!(b["notifyId"], 42);
    let rid = b["requestId"].as_str().unwrap();
    assert!(!rid.is_empty() && rid.len() <= 64);
    assert_eq!(sends[0].response["result"], 0);
    let auths = env.sim.requests_to("/message/auth");
    assert_eq!(auths.len(), 1);
    assert_eq!(
        sends[0].auth_token.as_deref(),
        auths[0].response["authToken"].as_str()
    );
    assert_eq!(env.sim.deliveries().len(), 1);
}

#[tokio::test]
async fn users_without_a_live_binding_are_no_device() {
    let (env, app) = setup("nodevice").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let (s, r) = push(&env, &json!({"to": ["bob", "alice"], "desc": "hi"})).await;
    assert_eq!(s, 200);
    assert_eq!(
        r["results"][0],
        json!({"user_id": "bob", "status": "no_device", "reason": {"code": "never_reported"}})
    );
    assert_eq!(status_of(&r, "alice"), "sent");
    assert_eq!(
        env.sim.requests_to("/message/send")[0].body["title"],
        "a new message"
    );
    // A deleted certificate's bindings are answered as no_device, with no vivo call.
    env.sim.reset();
    assert!(env
        .store
        .delete_certificate(
            &env.app.id,
            offpush::domain::CertificateId::new(1).unwrap(),
            testkit::now_ms()
        )
        .await
        .unwrap());
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "alice"), "no_device");
    let reason = &r["results"][0]["reason"];
    assert_eq!(reason["code"], "certificate_deleted", "{r}");
    assert_eq!(reason["certificate_id"], 1);
    assert!(reason["at"].is_string(), "the tombstone's time: {reason}");
    assert!(env.sim.requests().is_empty());
}

#[tokio::test]
async fn logout_and_kick_out_stop_pushes() {
    let (env, app) = setup("logout").await;
    bind(&env, &app, "alice", "regid-a", Some("phone")).await;
    let user = offpush::domain::UserId::parse("u", "alice").unwrap();
    offpush::bindings::logout_user(&env.ctx, &app, &user)
        .await
        .unwrap();
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "alice"), "no_device");
    // Kick-out: a login on a new device; only the new one is pushed.
    bind(&env, &app, "alice", "regid-old", Some("old")).await;
    bind(&env, &app, "alice", "regid-new", Some("new")).await;
    env.sim.reset();
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(results_of(&r, "alice")[0]["device_id"], "new");
    assert_eq!(
        env.sim.requests_to("/message/send")[0].body["regId"],
        "regid-new"
    );
}

#[tokio::test]
async fn an_expired_binding_is_not_pushed_to() {
    use offpush::domain::binding::device_key;
    use offpush::domain::{Binding, CertificateId, PushToken, UserBindings, UserId};
    use offpush::store::bindings::BindingWrite;
    let (env, _app) = setup("expired").await;
    let t = PushToken::parse("t", "regid-stale").unwrap();
    let mut state = UserBindings::default();
    state.devices.insert(
        device_key(None, &t),
        Binding {
            certificate_id: CertificateId::new(1).unwrap(),
            token: t,
            device_id: None,
            reported_at_ms: 0,
            expires_at: now() - 1,
        },
    );
    let w = vec![BindingWrite::PutUser {
        user: UserId::parse("u", "alice").unwrap(),
        state,
    }];
    assert!(env.store.commit_bindings(&env.app.id, w).await.unwrap());
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "alice"), "no_device");
    let reason = &r["results"][0]["reason"];
    assert_eq!(reason["code"], "expired", "{r}");
    assert_eq!(reason["certificate_id"], 1);
    assert!(reason["at"].is_string(), "{reason}");
    assert!(env.sim.requests().is_empty());
}

#[tokio::test]
async fn many_recipients_go_through_save_list_payload_and_push_to_list() {
    let (env, app) = setup("list").await;
    for (u, t) in [
        ("alice", "regid-a"),
        ("bob", "regid-b"),
        ("carol", "regid-c"),
        ("dave", "regid-d"),
    ] {
        bind(&env, &app, u, t, None).await;
    }
    env.sim
        .set_reg_id("regid-b", RegIdVerdict::Invalid { status: 2 });
    env.sim
        .set_reg_id("regid-c", RegIdVerdict::Invalid { status: 1 });
    env.sim
        .set_reg_id("regid-d", RegIdVerdict::Invalid { status: 4 });
    let (s, r) = push(&env, &json!({
        "to": ["alice", "bob", "carol", "dave", "erin"], "title": "Team", "desc": "Standup",
        "click_action": {"type": "open_url", "url": "https://example.com/standup"}, "category": "ORDER"
    })).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(status_of(&r, "alice"), "sent");
    assert_eq!(status_of(&r, "bob"), "token_invalid");
    assert_eq!(
        results_of(&r, "bob")[0]["detail"],
        "vivo 10302 invalidUser.status=2: app uninstalled or push disabled"
    );
    assert_eq!(status_of(&r, "carol"), "token_invalid");
    assert_eq!(status_of(&r, "dave"), "failed");
    assert!(results_of(&r, "dave")[0]["detail"]
        .as_str()
        .unwrap()
        .contains("status=4"));
    assert_eq!(status_of(&r, "erin"), "no_device");
    assert_eq!(
        r["summary"],
        json!({"sent": 1, "no_device": 1, "token_invalid": 2, "throttled": 0, "rejected": 0, "failed": 1})
    );

    let saves = env.sim.requests_to("/message/saveListPayload");
    assert_eq!(saves.len(), 1);
    let p = &saves[0].body;
    assert_eq!(
        (p["skipType"].as_u64(), p["skipContent"].as_str()),
        (Some(2), Some("https://example.com/standup"))
    );
    assert_eq!(
        (p["category"].as_str(), p["classification"].as_u64()),
        (Some("ORDER"), Some(1))
    );
    assert!(p.get("regId").is_none());
    let lists = env.sim.requests_to("/message/pushToList");
    assert_eq!(lists.len(), 1);
    let ids: HashSet<&str> = lists[0].body["regIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        HashSet::from(["regid-a", "regid-b", "regid-c", "regid-d"])
    );
    assert_eq!(lists[0].body["taskId"], saves[0].response["taskId"]);
    assert_eq!(
        results_of(&r, "alice")[0]["vendor_task_id"],
        saves[0].response["taskId"]
    );
    assert!(env.sim.requests_to("/message/send").is_empty());

    // Dead tokens are unbound; the not-a-test-device one is kept.
    assert!(live_tokens(&env, "bob").await.is_empty());
    assert!(live_tokens(&env, "carol").await.is_empty());
    assert_eq!(live_tokens(&env, "dave").await, ["regid-d"]);
    assert_eq!(live_tokens(&env, "alice").await, ["regid-a"]);
    // And are not pushed again.
    env.sim.reset();
    let (_, r) = push(&env, &json!({"to": ["bob"], "desc": "again"})).await;
    assert_eq!(status_of(&r, "bob"), "no_device");
}

#[tokio::test]
async fn a_short_ttl_goes_device_by_device_to_keep_it_exact() {
    let (env, app) = setup("shortttl").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    bind(&env, &app, "bob", "regid-b", None).await;
    let (_, r) = push(
        &env,
        &json!({"to": ["alice", "bob"], "desc": "ring", "ttl_seconds": 60}),
    )
    .await;
    assert_eq!(r["summary"]["sent"], 2);
    let sends = env.sim.requests_to("/message/send");
    assert_eq!(sends.len(), 2);
    assert!(sends.iter().all(|s| s.body["timeToLive"] == 60));
    assert!(env.sim.requests_to("/message/saveListPayload").is_empty());
    let ids: HashSet<&str> = sends
        .iter()
        .map(|s| s.body["requestId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "a requestId per vivo call");
}

#[tokio::test]
async fn two_certificates_are_each_sent_with_their_own_settings() {
    let (env, app) = setup("twocerts").await;
    let page = ClickAction::OpenPage {
        intent_uri: "intent://chat#Intent;scheme=im;end".into(),
    };
    add_cert(&env, page, PushMode::Test).await;
    env.sim.add_test_device(VIVO_APP_ID, "regid-tester");
    bind(&env, &app, "alice", "regid-a", None).await;
    bind_cert(&env, &app, 2, "bob", "regid-tester", None).await;
    bind_cert(&env, &app, 2, "carol", "regid-not-tester", None).await;
    let (_, r) = push(
        &env,
        &json!({"to": ["alice", "bob", "carol"], "desc": "hi", "ttl_seconds": 60}),
    )
    .await;
    assert_eq!(status_of(&r, "alice"), "sent");
    assert_eq!(status_of(&r, "bob"), "sent");
    assert_eq!(status_of(&r, "carol"), "failed");
    assert_eq!(
        live_tokens(&env, "carol").await,
        ["regid-not-tester"],
        "status 4 keeps the binding"
    );
    let sends = env.sim.requests_to("/message/send");
    let to_bob = sends
        .iter()
        .find(|s| s.body["regId"] == "regid-tester")
        .unwrap();
    assert_eq!(to_bob.body["pushMode"], 1);
    assert_eq!(to_bob.body["skipType"], 4);
    assert_eq!(
        to_bob.body["skipContent"],
        "intent://chat#Intent;scheme=im;end"
    );
    let to_alice = sends.iter().find(|s| s.body["regId"] == "regid-a").unwrap();
    assert_eq!(to_alice.body["pushMode"], 0);
}

#[tokio::test]
async fn a_thousand_users_are_read_in_ten_requests_and_chunked_by_a_thousand() {
    use offpush::domain::UserId;
    let (env, _app) = setup("thousand").await;
    let users = env.seed_users(1000, "user", 2).await;

    let ids: Vec<UserId> = users
        .iter()
        .map(|u| UserId::parse("u", u).unwrap())
        .collect();
    let (found, requests) = env
        .store
        .get_many_user_bindings(&env.app.id, &ids)
        .await
        .unwrap();
    assert_eq!(found.len(), 1000);
    assert_eq!(requests, 10, "BatchGetItem of 100 keys each");

    let (s, r) = push(&env, &json!({"to": users, "desc": "broadcast"})).await;
    assert_eq!(s, 200);
    assert_eq!(r["summary"]["sent"], 1001);
    assert_eq!(r["results"].as_array().unwrap().len(), 1001);
    let lists = env.sim.requests_to("/message/pushToList");
    let mut sizes: Vec<usize> = lists
        .iter()
        .map(|l| l.body["regIds"].as_array().unwrap().len())
        .collect();
    sizes.sort();
    assert_eq!(sizes, [500, 501], "1001 regIds in two even chunks");
    assert_eq!(env.sim.requests_to("/message/saveListPayload").len(), 1);
    assert_eq!(env.sim.deliveries().len(), 1001);
}

#[tokio::test]
async fn a_push_without_title_takes_the_certificates_default_title() {
    let (env, app) = setup("default-title").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let (_, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    assert_eq!(
        env.sim.requests_to("/message/send")[0].body["title"],
        "a new message"
    );

    env.edit_certificate(1, |cert| cert.default_title = Some("你有一条新消息".into()))
        .await;
    env.sim.reset();
    push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    push(
        &env,
        &json!({"to": ["alice"], "desc": "hi", "title": "Alice"}),
    )
    .await;
    let titles: Vec<String> = env
        .sim
        .requests_to("/message/send")
        .iter()
        .map(|r| r.body["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        titles,
        ["你有一条新消息", "Alice"],
        "the very next push, and a push's own title wins"
    );
}

#[tokio::test]
async fn a_saved_certificate_takes_effect_for_the_very_next_push_though_the_set_is_cached() {
    let (env, app) = setup("cert-cache").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let title = |env: &TestEnv| {
        env.sim.requests_to("/message/send").last().unwrap().body["title"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for _ in 0..2 {
        let (s, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
        assert_eq!(s, 200, "{r}");
    }
    assert_eq!(title(&env), "a new message");
    // Saved between two pushes of a warm instance: the very next push
    // sees it (the set's version changed with the write).
    env.edit_certificate(1, |c| c.default_title = Some("from the edit".into()))
        .await;
    env.actions.clear();
    let (s, r) = push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(title(&env), "from the edit");
    assert!(
        env.actions.requests().contains(&"Query".to_string()),
        "the changed set was read again: {:?}",
        env.actions.requests()
    );
    env.edit_certificate(1, |c| c.default_title = Some("edited again".into()))
        .await;
    push(&env, &json!({"to": ["alice"], "desc": "hi"})).await;
    assert_eq!(title(&env), "edited again");
}
