//! Exactly once toward the caller: a push that failed before sending gives
//! its request id back at once; vivo requestIds are derived from the push,
//! so any repeat of a call carries the same id; the stored result of the
//! largest push fits.

use crate::common::*;
use offpush::store::keys;
use serde_json::json;

#[tokio::test]
async fn a_push_that_failed_before_sending_can_be_retried_at_once() {
    let (env, app) = setup("release").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    // A record the store cannot read: the push fails before any vivo call.
    let pk = keys::user_pk(
        &env.app.id,
        &offpush::domain::UserId::parse("u", "alice").unwrap(),
    );
    let good = env.raw_item(&pk, keys::USER_SK).await.unwrap();
    let mut bad = good.clone();
    bad.insert(
        keys::USER_VERSION.into(),
        aws_sdk_dynamodb::types::AttributeValue::S("not a number".into()),
    );
    let put = |item| async {
        raw_client()
            .await
            .put_item()
            .table_name(env.store.table())
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    };
    put(bad).await;
    let body = json!({"to": ["alice"], "desc": "hi", "request_id": "msg-1"});
    let (s, r) = push(&env, &body).await;
    assert_eq!(s, 500, "{r}");
    assert!(env.sim.requests_to("/message/send").is_empty());
    put(good).await;
    let (s, r) = push(&env, &body).await;
    assert_eq!(s, 200, "the honest retry runs at once, not 409: {r}");
    assert_eq!(r["duplicate"], false);
    assert_eq!(status_of(&r, "alice"), "sent");
}

#[tokio::test]
async fn vivo_request_ids_derive_from_the_push_and_repeat_across_attempts() {
    // The same push (app, request_id, certificate, targets) sent in two
    // separate tables gives vivo the very same requestIds: what a takeover
    // or a retry after a lost result sends again is recognisable.
    let mut seen = Vec::new();
    for label in ["rid-a", "rid-b"] {
        let (env, app) = setup(label).await;
        bind(&env, &app, "alice", "regid-a", None).await;
        bind(&env, &app, "bob", "regid-b", None).await;
        bind(&env, &app, "carol", "regid-c", None).await;
        push(
            &env,
            &json!({"to": ["alice"], "desc": "hi", "request_id": "msg-7"}),
        )
        .await;
        push(
            &env,
            &json!({"to": ["bob", "carol"], "desc": "hi", "request_id": "msg-8"}),
        )
        .await;
        let ids: Vec<String> = env
            .sim
            .requests()
            .iter()
            .filter(|r| r.path != "/message/auth")
            .map(|r| r.body["requestId"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 3, "send, saveListPayload, pushToList");
        assert!(ids.iter().all(|i| i.len() <= 64));
        seen.push(ids);
    }
    assert_eq!(seen[0], seen[1]);
    let distinct: std::collections::HashSet<_> = seen[0].iter().collect();
    assert_eq!(distinct.len(), 3, "every call has its own id");
}

#[tokio::test]
async fn the_largest_push_result_is_stored_and_answered_again() {
    // 1000 users at the largest device limit (10), with long device ids.
    let (mut env, _app) = setup("largest").await;
    // The emulator reads 1000 records of 10 devices slowly: a deadline
    // for it, not for vivo.
    let mut cfg = config(env.store.table(), &env.sim.base_url());
    cfg.push_deadline = std::time::Duration::from_secs(25);
    env.ctx = testkit::context(env.store.clone(), &cfg);
    env.store
        .update_app_settings(&env.app.id, Some(10), None)
        .await
        .unwrap();
    use futures::StreamExt;
    use offpush::domain::binding::device_key;
    use offpush::domain::{Binding, CertificateId, DeviceId, PushToken, UserBindings, UserId};
    use offpush::store::bindings::BindingWrite;
    let users: Vec<String> = (0..1000).map(|i| format!("user-{i:04}")).collect();
    let writes = users.iter().map(|u| {
        let env = &env;
        async move {
            let mut state = UserBindings::default();
            for d in 0..10 {
                let t = PushToken::parse("t", &format!("regid-{u}-{d}")).unwrap();
                // 128 bytes, varied: what compresses least.
                let id = format!("{u}-{d}-{}", hex_of(&format!("{u}/{d}")));
                let device = DeviceId::parse("d", &id[..128]).unwrap();
                state.devices.insert(
                    device_key(Some(&device), &t),
                    Binding {
                        certificate_id: CertificateId::new(1).unwrap(),
                        token: t,
                        device_id: Some(device),
                        reported_at_ms: d,
                        expires_at: now() + 3600,
                    },
                );
            }
            let w = vec![BindingWrite::PutUser {
                user: UserId::parse("u", u).unwrap(),
                state,
            }];
            assert!(env.store.commit_bindings(&env.app.id, w).await.unwrap());
        }
    });
    futures::stream::iter(writes)
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let body = json!({"to": users, "desc": "all hands", "request_id": "big-1"});
    let (s, r) = push(&env, &body).await;
    assert_eq!(s, 200);
    assert_eq!(
        r["summary"]["sent"], 10_000,
        "{} {}",
        r["summary"], r["results"][0]
    );
    let pk = keys::push_pk(&env.app.id, &keys::push_ref("big-1"));
    let record = env.raw_item(&pk, keys::PUSH_SK).await.unwrap();
    let parts: usize = record[keys::PUSH_RESULT_PARTS]
        .as_n()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        parts >= 2,
        "too large for one item, so split: {parts} parts"
    );
    for i in 0..parts {
        let part = env
            .raw_item(&pk, &keys::push_result_part_sk(i))
            .await
            .unwrap();
        let bytes = part[keys::PUSH_RESULT].as_b().unwrap().as_ref().len();
        assert!(
            bytes <= offpush::store::pushes::MAX_STORED_RESULT_BYTES,
            "part {i}: {bytes} bytes, within DynamoDB's 400 KB item limit (the emulator does not enforce it)"
        );
    }
    let (s, again) = push(&env, &body).await;
    assert_eq!(s, 200);
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        again["results"], r["results"],
        "the stored result is the whole result"
    );
}

/// A long hex string that differs per input (device ids that compress badly).
fn hex_of(s: &str) -> String {
    use sha2::{Digest, Sha256};
    (0..4)
        .map(|i| hex::encode(Sha256::digest(format!("{s}#{i}").as_bytes())))
        .collect()
}

#[tokio::test]
async fn a_push_that_died_while_sending_is_never_sent_again() {
    let (env, app) = setup("died-sending").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let body = json!({"to": ["alice"], "desc": "hi", "request_id": "msg-9"});
    let (s, _) = push(&env, &body).await;
    assert_eq!(s, 200);
    assert_eq!(env.sim.deliveries().len(), 1);
    // Make the record what a call that crashed mid-send leaves behind: a
    // pending claim, long stale, marked as sending, no result.
    make_stale(&env, "msg-9", true).await;
    env.sim.reset();
    let (s, r) = push(&env, &body).await;
    assert_eq!(s, 200, "{r}");
    assert!(env.sim.requests().is_empty(), "taken over, not sent again");
    assert_eq!(r["duplicate"], true);
    assert_eq!(status_of(&r, "alice"), "failed");
    assert!(results_of(&r, "alice")[0]["detail"]
        .as_str()
        .unwrap()
        .contains("not sent again"));
    let (_, again) = push(&env, &body).await;
    assert_eq!(
        again["results"], r["results"],
        "later repeats get the same answer"
    );
    assert!(env.sim.requests().is_empty());
}

#[tokio::test]
async fn a_stale_claim_that_never_began_sending_is_taken_over_and_sent() {
    let (env, app) = setup("died-claimed").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let body = json!({"to": ["alice"], "desc": "hi", "request_id": "msg-10"});
    push(&env, &body).await;
    make_stale(&env, "msg-10", false).await;
    env.sim.reset();
    let (s, r) = push(&env, &body).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        status_of(&r, "alice"),
        "sent",
        "nothing was sent before: send now"
    );
    assert_eq!(env.sim.deliveries().len(), 1);
}
