//! Delivery visibility against the emulator and the simulator: receipts
//! (callback.id/param on sends, the receipt route, idempotent counting),
//! push records, daily statistics and the push log's no_device reasons.

use crate::common::*;
use offpush::domain::{CertificateId, ReceiptSecret, UserId};
use offpush::store::keys;
use serde_json::{json, Value};

async fn post_receipt(env: &TestEnv, secret: &str, body: &str) -> (u16, Value) {
    read(
        push_dispatch::handle(
            &env.ctx,
            request_raw("POST", &format!("/v1/receipts/vivo/{secret}"), None, body),
        )
        .await,
    )
}

/// Turns receipts on for certificate 1; the receipt URL's secret.
async fn enable_receipts(env: &TestEnv) -> ReceiptSecret {
    env.enable_vivo_receipts(1).await
}

/// Every item of the table, for "nothing changed" checks (maps compare
/// by content, whatever their order).
async fn table_items(
    env: &TestEnv,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let out = raw_client()
        .await
        .scan()
        .table_name(env.store.table())
        .send()
        .await
        .unwrap();
    let mut items = out.items().to_vec();
    let key = |i: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        format!("{:?}{:?}", i.get("pk"), i.get("sk"))
    };
    items.sort_by_key(key);
    items
}

#[tokio::test]
async fn receipts_mark_devices_delivered_once_and_feed_the_statistics() {
    let (env, app) = setup("receipts").await;
    let secret = enable_receipts(&env).await;
    bind(&env, &app, "alice", "regid-a", None).await;
    bind(&env, &app, "bob", "regid-b", None).await;
    let r = push_to(&env, "alice", "hi", json!({"request_id": "m-1"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    let sends = env.sim.requests_to("/message/send");
    let extra = &sends[0].body["extra"];
    assert_eq!(extra["callback.id"], "5001");
    let param = extra["callback.param"].as_str().unwrap().to_string();
    assert!(param.len() <= 64, "{param}");
    let tag = offpush::domain::receipt::receipt_tag(&env.app.id, CertificateId::new(1).unwrap());
    assert_eq!(
        offpush::domain::receipt::parse_receipt_param(&param),
        Some(offpush::domain::receipt::ReceiptRef {
            date: today(),
            push_ref: keys::push_ref("m-1"),
            tag: Some(tag),
        })
    );
    // A list push (two users) carries the same on its stored payload.
    let (s, r2) = push(
        &env,
        &json!({"to": ["alice", "bob"], "desc": "all", "request_id": "m-2"}),
    )
    .await;
    assert_eq!(s, 200, "{r2}");
    let saved = env.sim.requests_to("/message/saveListPayload");
    assert_eq!(saved.len(), 1, "two targets go as one list");
    assert_eq!(saved[0].body["extra"]["callback.id"], "5001");
    let list_param = saved[0].body["extra"]["callback.param"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(list_param.contains(&keys::push_ref("m-2")));

    // Before any receipt: sent, not delivered.
    let (s, rec) = admin_get(&env, "/v1/pushes/m-2").await;
    assert_eq!(s, 200, "{rec}");
    assert_eq!(rec["state"], "done");
    assert_eq!(rec["summary"]["delivered"], 0);
    for line in rec["results"].as_array().unwrap() {
        assert_eq!(line["delivery_state"], "sent", "{line}");
    }

    // vivo's legacy receipt: taskId -> {param, targets}.
    let receipt = json!({
        "task-1": {"param": param, "targets": "regid-a"},
        "task-2": {"param": list_param, "targets": "regid-a,regid-b"},
    })
    .to_string();
    let (s, ack) = post_receipt(&env, secret.expose(), &receipt).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(ack["delivered"], 3);
    // Redelivered: harmless, counted once.
    let (s, ack) = post_receipt(&env, secret.expose(), &receipt).await;
    assert_eq!(s, 200);
    assert_eq!(ack["delivered"], 0, "{ack}");

    let (_, rec) = admin_get(&env, "/v1/pushes/m-2").await;
    assert_eq!(rec["summary"]["delivered"], 2, "{rec}");
    assert!(rec["last_receipt_at"].is_string());
    for line in rec["results"].as_array().unwrap() {
        assert_eq!(line["delivery_state"], "delivered", "{line}");
    }
    let (_, rec1) = admin_get(&env, "/v1/pushes/m-1").await;
    assert_eq!(rec1["results"][0]["delivery_state"], "delivered");

    let day = day_stats(&env, &format!("from={}&to={}", today(), today())).await;
    assert_eq!(day["date"], today());
    assert_eq!(
        (
            &day["pushes"],
            &day["recipients"],
            &day["sent"],
            &day["delivered"]
        ),
        (&json!(2), &json!(3), &json!(3), &json!(3)),
        "{day}"
    );
    let cert_day = day_stats(&env, "certificate_id=1").await;
    assert_eq!(cert_day["sent"], 3, "{cert_day}");
    assert_eq!(cert_day["delivered"], 3);
    let other = day_stats(&env, "certificate_id=2").await;
    assert_eq!(other["sent"], 0);
}

#[tokio::test]
async fn the_receipt_route_refuses_garbage_with_4xx_and_changes_nothing() {
    let (env, app) = setup("receipt-garbage").await;
    let secret = enable_receipts(&env).await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let before = table_items(&env).await;
    let unknown = ReceiptSecret::generate();
    let cases: Vec<(String, String, u16)> = vec![
        (unknown.expose().to_string(), "{}".into(), 404),
        ("short".into(), "{}".into(), 404),
        (format!("{}!", &secret.expose()[..42]), "{}".into(), 404),
        (secret.expose().to_string(), "".into(), 400),
        (secret.expose().to_string(), "not json".into(), 400),
        (secret.expose().to_string(), "[1,2]".into(), 400),
        (secret.expose().to_string(), "\"x\"".into(), 400),
        (
            secret.expose().to_string(),
            format!("{{\"t\": {{\"param\": \"{}\"}}}}", "x".repeat(300 * 1024)),
            413,
        ),
    ];
    for (s, body, want) in &cases {
        let (got, r) = post_receipt(&env, s, body).await;
        assert_eq!(got, *want, "{} bytes: {r}", body.len());
        assert!(r["error"]["code"].is_string(), "{r}");
    }
    // A GET on the route is no route; no JWT needed to learn that either.
    let (s, _) = read(
        push_dispatch::handle(
            &env.ctx,
            request(
                "GET",
                &format!("/v1/receipts/vivo/{}", secret.expose()),
                None,
                None,
            ),
        )
        .await,
    );
    assert_eq!(s, 404);
    assert_eq!(
        table_items(&env).await,
        before,
        "refused receipts change nothing"
    );

    // Well-formed but not ours (a newer shape, a foreign param): 200, kept raw.
    let odd =
        json!({"t9": {"result": 300, "regId": "regid-a"}, "t8": {"param": "x", "targets": "r"}})
            .to_string();
    let (s, ack) = post_receipt(&env, secret.expose(), &odd).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(ack["unmatched"], 2);
    let kept = env.store.raw_receipts(&env.app.id, now()).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].body, odd);
    // The same body again overwrites rather than piles up.
    post_receipt(&env, secret.expose(), &odd).await;
    assert_eq!(
        env.store
            .raw_receipts(&env.app.id, now())
            .await
            .unwrap()
            .len(),
        1
    );
    // Once receipts are switched off, the old URL is unknown.
    env.edit_certificate(1, |c| c.receipt = None).await;
    let (s, _) = post_receipt(&env, secret.expose(), "{}").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn push_records_are_read_by_request_id_and_refuse_bad_ids() {
    let (env, app) = setup("records").await;
    bind(&env, &app, "alice", "regid-a", Some("phone")).await;
    let r = push_to(&env, "alice", "hi", json!({"request_id": "订单/42 ✓"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    let (s, rec) = admin_get(&env, "/v1/pushes/%E8%AE%A2%E5%8D%95%2F42%20%E2%9C%93").await;
    assert_eq!(s, 200, "{rec}");
    assert_eq!(rec["request_id"], "订单/42 ✓");
    assert_eq!(rec["results"][0]["device_id"], "phone");
    assert!(rec["pushed_at"].is_string() && rec["expires_at"].is_string());
    let text = rec.to_string();
    assert!(!text.contains("regid-a"), "no token in a record: {text}");
    let (s, e) = admin_get(&env, "/v1/pushes/nope").await;
    assert_error(&(s, e), 404, "not_found", None);
    let long = "r".repeat(65);
    let (s, e) = admin_get(&env, &format!("/v1/pushes/{long}")).await;
    assert_error(&(s, e), 400, "invalid_argument", Some("request_id"));
    let (s, e) = admin_get(&env, "/v1/pushes/a?x=1").await;
    assert_eq!(s, 400, "{e}");
    // Admin only.
    let (s, _) = read(
        push_dispatch::handle(
            &env.ctx,
            request(
                "GET",
                "/v1/pushes/nope",
                Some(&env.app.user_token("alice")),
                None,
            ),
        )
        .await,
    );
    assert_eq!(s, 403);
}

#[tokio::test]
async fn statistics_ranges_are_checked() {
    let (env, _app) = setup("stats-range").await;
    for (q, field) in [
        ("from=2026-13-01", "from"),
        ("from=2026-12-01&to=2026-11-30", "from"),
        ("from=2026-10-01&to=2026-12-01", "to"),
        ("to=yesterday", "to"),
        ("certificate_id=0", "certificate_id"),
        ("certificate_id=x", "certificate_id"),
        ("day=1", "day"),
    ] {
        let got = admin_get(&env, &format!("/v1/stats?{q}")).await;
        assert_error(&got, 400, "invalid_argument", Some(field));
    }
    let (s, r) = admin_get(&env, "/v1/stats?from=2026-11-01&to=2026-12-02").await;
    assert_eq!(s, 200, "31 days apart is the limit: {r}");
    assert_eq!(r["days"].as_array().unwrap().len(), 32);
    assert_eq!(r["days"][0]["date"], "2026-11-01");
    assert_eq!(r["days"][0]["pushes"], 0);
    let (_, r) = admin_get(&env, "/v1/stats").await;
    assert_eq!(r["days"].as_array().unwrap().len(), 7, "the last 7 days");
    assert_eq!(r["days"][6]["date"], today());
}

fn log_reason(log: &Value, i: usize) -> Value {
    log["entries"][i]["results"][0]["reason"].clone()
}

async fn push_log(env: &TestEnv, user: &str, query: &str) -> Value {
    let (s, r) = admin_get(env, &format!("/v1/users/{user}/push-log{query}")).await;
    assert_eq!(s, 200, "{r}");
    r
}

#[tokio::test]
async fn the_push_log_says_why_a_user_was_not_pushed() {
    use offpush::bindings;
    use offpush::domain::binding::DeviceSelector;
    use offpush::domain::DeviceId;
    let (env, app) = setup("why").await;
    let u = |s: &str| UserId::parse("u", s).unwrap();
    // logged out by the device
    bind(&env, &app, "dora", "regid-d", Some("phone")).await;
    bindings::logout_device(
        &env.ctx,
        &app,
        &u("dora"),
        DeviceSelector::DeviceId(DeviceId::parse("d", "phone").unwrap()),
    )
    .await
    .unwrap();
    // logged out by an admin
    bind(&env, &app, "adam", "regid-ad", None).await;
    bindings::logout_user(&env.ctx, &app, &u("adam"))
        .await
        .unwrap();
    // kicked by a login on another device
    bind(&env, &app, "kim", "regid-k1", Some("old")).await;
    bind(&env, &app, "kim", "regid-k2", Some("new")).await;
    // token moved to another user
    bind(&env, &app, "tom", "regid-shared", None).await;
    bind(&env, &app, "tim", "regid-shared", None).await;
    // token declared dead by vivo (first push), no_device afterwards
    bind(&env, &app, "dean", "regid-dead", None).await;
    env.sim
        .set_reg_id("regid-dead", RegIdVerdict::Invalid { status: 2 });
    let r = push_to(&env, "dean", "first", json!({})).await;
    assert_eq!(status_of(&r, "dean"), "token_invalid");

    let users = ["nobody", "dora", "adam", "kim", "tom", "dean"];
    let (s, r) = push(
        &env,
        &json!({"to": users, "desc": "why", "request_id": "why-1"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(status_of(&r, "kim"), "sent", "kim's new device is reached");
    let expect = [
        ("nobody", "never_reported"),
        ("dora", "logged_out"),
        ("adam", "logged_out"),
        ("tom", "token_moved"),
        ("dean", "token_dead"),
    ];
    for (user, code) in expect {
        let log = push_log(&env, user, "").await;
        let reason = log_reason(&log, 0);
        assert_eq!(reason["code"], code, "{user}: {log}");
        assert_eq!(log["entries"][0]["request_id"], "why-1");
        if code != "never_reported" {
            assert!(reason["at"].is_string(), "{user}: {reason}");
        }
    }
    assert_eq!(
        log_reason(&push_log(&env, "dora", "").await, 0)["by"],
        "device"
    );
    assert_eq!(
        log_reason(&push_log(&env, "adam", "").await, 0)["by"],
        "admin"
    );
    // The same reasons are on the push's own answer.
    let dean: Vec<&Value> = results_of(&r, "dean");
    assert_eq!(dean[0]["reason"]["code"], "token_dead");

    // kicked: kim's old device ends, the new one logged in. A push that
    // reaches neither (logout of the new device) tells the latest ending.
    bindings::logout_device(
        &env.ctx,
        &app,
        &u("kim"),
        DeviceSelector::DeviceId(DeviceId::parse("d", "new").unwrap()),
    )
    .await
    .unwrap();
    let state = env
        .store
        .get_user_bindings(&env.app.id, &u("kim"))
        .await
        .unwrap();
    let kicked = state
        .ended
        .iter()
        .find(|e| e.why.code() == "kicked")
        .expect("the kick is remembered");
    assert_eq!(
        kicked.why,
        offpush::domain::binding::EndReason::Kicked {
            by_device: Some(DeviceId::parse("d", "new").unwrap())
        }
    );
    let reason = why_for(&env, &app, "kim").await;
    assert_eq!(reason["code"], "logged_out");
}

/// The reason a one-user push gives for `user`.
async fn why_for(env: &TestEnv, _app: &offpush::domain::App, user: &str) -> Value {
    let r = push_to(env, user, "why", json!({})).await;
    results_of(&r, user)[0]["reason"].clone()
}

#[tokio::test]
async fn a_kicked_user_is_told_which_device_logged_in() {
    let (env, app) = setup("kicked").await;
    bind(&env, &app, "kim", "regid-k1", Some("old")).await;
    bind(&env, &app, "kim", "regid-k2", Some("new")).await;
    // The new device's certificate goes: the reason is the newest cause.
    env.store
        .delete_certificate(
            &env.app.id,
            offpush::domain::CertificateId::new(1).unwrap(),
            now_ms(),
        )
        .await
        .unwrap();
    let reason = why_for(&env, &app, "kim").await;
    assert_eq!(reason["code"], "certificate_deleted", "{reason}");
    // With a fresh certificate and only the kick to tell: kicked by "new".
    let (env, app) = setup("kicked-2").await;
    env.app_record().await;
    bind(&env, &app, "kim", "regid-k1", Some("old")).await;
    bind(&env, &app, "kim", "regid-k2", Some("new")).await;
    let user = UserId::parse("u", "kim").unwrap();
    let mut state = env
        .store
        .get_user_bindings(&env.app.id, &user)
        .await
        .unwrap();
    // The new device's binding expires (set in the past).
    for b in state.devices.values_mut() {
        b.expires_at = now() - 10;
    }
    let w = vec![offpush::store::bindings::BindingWrite::PutUser {
        user: user.clone(),
        state,
    }];
    assert!(env.store.commit_bindings(&env.app.id, w).await.unwrap());
    let reason = why_for(&env, &app, "kim").await;
    assert_eq!(
        reason["code"], "expired",
        "the binding still held wins: {reason}"
    );
    // After the record is rewritten the expiry is remembered as an ending,
    // and the kick before it stays in the history.
    let later = offpush::bindings::remove_dead(&env.ctx, &env.app.id, &user, &[], now_ms())
        .await
        .unwrap();
    assert_eq!(later, 0);
    let state = env
        .store
        .get_user_bindings(&env.app.id, &user)
        .await
        .unwrap();
    assert!(state
        .ended
        .iter()
        .any(|e| matches!(&e.why, offpush::domain::binding::EndReason::Kicked { by_device: Some(d) } if d.as_str() == "new")));
}

#[tokio::test]
async fn the_push_log_pages_newest_first_and_checks_its_parameters() {
    let (env, app) = setup("log-pages").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    for i in 0..5 {
        push_to(&env, "alice", "hi", json!({"request_id": format!("p-{i}")})).await;
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let page = push_log(&env, "alice", "?limit=2").await;
    let ids: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p-4", "p-3"]);
    let next = page["next"].as_str().unwrap().to_string();
    let rest = push_log(&env, "alice", &format!("?limit=50&before={next}")).await;
    let ids: Vec<&str> = rest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p-2", "p-1", "p-0"]);
    assert!(rest.get("next").is_none(), "{rest}");
    assert_eq!(rest["entries"][0]["results"][0]["delivery_state"], "sent");
    for (q, field) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=x", "limit"),
        ("?before=%23BINDINGS", "before"),
        ("?other=1", "other"),
    ] {
        let got = admin_get(&env, &format!("/v1/users/alice/push-log{q}")).await;
        assert_error(&got, 400, "invalid_argument", Some(field));
    }
    let empty = push_log(&env, "nobody", "").await;
    assert_eq!(empty["entries"], json!([]));
}

#[tokio::test]
async fn a_thousand_user_push_logs_every_user_and_counts_once() {
    let (env, _app) = setup("log-1000").await;
    let mut users = env.seed_users(700, "u", 1).await;
    users.extend((0..300).map(|i| format!("ghost-{i}")));
    let (s, r) = push(
        &env,
        &json!({"to": users, "desc": "all hands", "request_id": "big"}),
    )
    .await;
    assert_eq!(s, 200, "{}", r["summary"]);
    assert_eq!(r["summary"]["sent"], 700);
    assert_eq!(r["summary"]["no_device"], 300);
    for user in [&users[0], &users[699], &users[700], &users[999]] {
        let log = push_log(&env, user, "").await;
        assert_eq!(log["entries"].as_array().unwrap().len(), 1, "{user}: {log}");
        assert_eq!(log["entries"][0]["request_id"], "big");
    }
    let day = day_stats(&env, "").await;
    assert_eq!(day["pushes"], 1);
    assert_eq!(day["recipients"], 1000);
    assert_eq!(day["sent"], 700);
    assert_eq!(day["no_device"], 300);
    // A repeat is a duplicate: nothing counted again.
    let (_, again) = push(
        &env,
        &json!({"to": users, "desc": "all hands", "request_id": "big"}),
    )
    .await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(day_stats(&env, "").await["pushes"], 1);
}

#[tokio::test]
async fn the_push_log_merges_a_users_small_and_large_pushes_newest_first_across_pages() {
    // Small pushes keep one entry per user in the user's partition; a push
    // to more users than its transaction holds writes bucket items. One
    // user's log is both, in order, each push once, over any page size.
    let (env, app) = setup("log-merge").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let crowd = env.seed_users(150, "c", 1).await;
    let mut expected = Vec::new();
    for i in 0..6 {
        let id = format!("m-{i}");
        let to: Vec<String> = if i % 2 == 1 {
            std::iter::once("alice".to_string())
                .chain(crowd.iter().cloned())
                .collect()
        } else {
            vec!["alice".to_string()]
        };
        let (s, r) = push(&env, &json!({"to": to, "desc": "hi", "request_id": id})).await;
        assert_eq!(s, 200, "{r}");
        expected.insert(0, id);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let ids = |page: &Value| -> Vec<String> {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["request_id"].as_str().unwrap().to_string())
            .collect()
    };
    let whole = push_log(&env, "alice", "").await;
    assert_eq!(ids(&whole), expected, "{whole}");
    assert!(whole.get("next").is_none(), "{whole}");
    // Alice's own line of a large push, with its delivery state.
    let big = &whole["entries"][0];
    assert_eq!(big["request_id"], "m-5");
    assert_eq!(big["results"].as_array().unwrap().len(), 1, "{big}");
    assert_eq!(big["results"][0]["delivery_state"], "sent", "{big}");
    for limit in [1, 2, 4] {
        let mut got = Vec::new();
        let mut query = format!("?limit={limit}");
        loop {
            let page = push_log(&env, "alice", &query).await;
            let page_ids = ids(&page);
            assert!(page_ids.len() <= limit, "{page}");
            got.extend(page_ids);
            match page.get("next").and_then(Value::as_str) {
                Some(next) => query = format!("?limit={limit}&before={next}"),
                None => break,
            }
        }
        assert_eq!(got, expected, "limit {limit}");
    }
    // A crowd member saw only the large pushes.
    let member = push_log(&env, &crowd[77], "").await;
    assert_eq!(ids(&member), ["m-5", "m-3", "m-1"], "{member}");
}

#[tokio::test]
async fn expired_bucket_entries_of_the_push_log_are_not_answered() {
    // DynamoDB deletes expired items lazily: reads filter on expiry.
    let (env, app) = setup("log-bucket-expiry").await;
    let entry = |id: &str, at: i64| offpush::store::pushlog::LogEntry {
        request_id: id.to_string(),
        push_ref: keys::push_ref(id),
        pushed_at_ms: at,
        outcomes: Vec::new(),
        refs: Vec::new(),
    };
    let now_ms = offpush::clock::now_ms();
    let users: Vec<UserId> = (0..40)
        .map(|i| UserId::parse("user_id", &format!("e{i}")).unwrap())
        .collect();
    let retention = 3600;
    for (id, at) in [("old", now_ms - 2 * 3600 * 1000), ("new", now_ms - 1000)] {
        let entries = users.iter().map(|u| (u.clone(), entry(id, at))).collect();
        let requests = env
            .store
            .put_push_log(&app.id, entries, retention, 4)
            .await
            .unwrap();
        assert_eq!(requests, 1, "40 users, one batch of bucket items");
    }
    for u in [&users[0], &users[39]] {
        let (got, next) = env
            .store
            .read_push_log(&app.id, u, 50, None, now_ms / 1000)
            .await
            .unwrap();
        let ids: Vec<&str> = got.iter().map(|e| e.request_id.as_str()).collect();
        assert_eq!(ids, ["new"], "{u:?}");
        assert_eq!(next, None);
    }
}

/// vivo keys receipt addresses by its own app: two offpush apps (or two
/// stacks) sharing a vivo app and receipt ID get each other's receipts at
/// one URL. A receipt whose tag is another app's (or another certificate's)
/// changes nothing here: no stub record, no statistics; it is kept raw.
#[tokio::test]
async fn a_receipt_for_another_apps_push_changes_nothing() {
    let (env, app) = setup("receipt-foreign").await;
    let secret = enable_receipts(&env).await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let r = push_to(&env, "alice", "hi", json!({"request_id": "own-1"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    let other = env.other_app("other").await;
    let cert = CertificateId::new(1).unwrap();
    let foreign_ref = keys::push_ref("theirs-1");
    let foreign = offpush::domain::receipt::receipt_param(
        now_ms(),
        &foreign_ref,
        &offpush::domain::receipt::receipt_tag(&other.id, cert),
    );
    let own = offpush::domain::receipt::receipt_param(
        now_ms(),
        &keys::push_ref("own-1"),
        &offpush::domain::receipt::receipt_tag(&env.app.id, cert),
    );
    let before = day_stats(&env, "").await;
    let body = json!({
        "t-foreign": {"param": foreign, "targets": "regid-x"},
        "t-own": {"param": own, "targets": "regid-a"},
    })
    .to_string();
    let (s, ack) = post_receipt(&env, secret.expose(), &body).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(
        (ack["delivered"].as_u64(), ack["unmatched"].as_u64()),
        (Some(1), Some(1)),
        "{ack}"
    );
    // No record of the foreign push appeared in this app.
    let (s, _) = admin_get(&env, "/v1/pushes/theirs-1").await;
    assert_eq!(s, 404);
    let stub = env
        .raw_item(&keys::push_pk(&env.app.id, &foreign_ref), keys::PUSH_SK)
        .await;
    assert!(stub.is_none(), "no stub record: {stub:?}");
    let after = day_stats(&env, "").await;
    let day = |v: &Value| v["delivered"].as_u64();
    assert_eq!(
        day(&after),
        day(&before).map(|d| d + 1),
        "only the own push counted"
    );
}
