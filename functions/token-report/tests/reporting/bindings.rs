//! Token reporting through the real handler and service, on the DynamoDB
//! emulator: binding rules, TTL invalidation, and the invariants under
//! concurrent reports, logouts and kick-outs.

use offpush::domain::binding::device_key;
use offpush::domain::{App, Binding, CertificateId, DeviceId, PushToken, UserBindings, UserId};
use offpush::store::bindings::BindingWrite;
use serde_json::{json, Value};
use std::collections::HashMap;
use testkit::*;
use token_report::handle;
use token_report::service::{self, DeviceSelector, Report, ReportOutcome};

async fn with_cert(label: &str) -> TestEnv {
    let env = TestEnv::new(label).await;
    let id = env
        .add_certificate(
            offpush::domain::ClickAction::OpenApp,
            offpush::domain::PushMode::Production,
        )
        .await;
    assert_eq!(id.get(), 1);
    env
}

fn uid(s: &str) -> UserId {
    UserId::parse("u", s).unwrap()
}

async fn put_token(env: &TestEnv, user: &str, body: &Value) -> (u16, Value) {
    read(
        handle(
            &env.ctx,
            request(
                "PUT",
                "/v1/push-token",
                Some(&env.app.user_token(user)),
                Some(body),
            ),
        )
        .await,
    )
}

/// A report through certificate 1, as the device sends it.
async fn report(env: &TestEnv, user: &str, token: &str, device: Option<&str>) -> (u16, Value) {
    let mut body = json!({"certificate_id": 1, "token": token});
    if let Some(d) = device {
        body["device_id"] = json!(d);
    }
    put_token(env, user, &body).await
}

/// The same, which must bind.
async fn bound_device(env: &TestEnv, user: &str, token: &str, device: Option<&str>) -> Value {
    let (s, v) = report(env, user, token, device).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// A report that must bind (200); its answer.
async fn bound(env: &TestEnv, user: &str, body: &Value) -> Value {
    let (s, v) = put_token(env, user, body).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// A body-less call with the app's admin token.
async fn as_admin(env: &TestEnv, method: &str, uri: &str) -> (u16, Value) {
    read(
        handle(
            &env.ctx,
            request(method, uri, Some(&env.app.admin_token()), None),
        )
        .await,
    )
}

async fn devices(env: &TestEnv, user: &str) -> Vec<Value> {
    let (s, v) = as_admin(env, "GET", &format!("/v1/users/{user}/devices")).await;
    assert_eq!(s, 200, "{v}");
    if !user.contains('%') {
        assert_eq!(v["user_id"], user);
    }
    v["devices"].as_array().unwrap().clone()
}

async fn app(env: &TestEnv) -> App {
    env.store.get_app(&env.app.id).await.unwrap().unwrap()
}

async fn user_state(env: &TestEnv, user: &str) -> UserBindings {
    env.store
        .get_user_bindings(&env.app.id, &uid(user))
        .await
        .unwrap()
}

async fn set_app(env: &TestEnv, max_devices: Option<u32>, ttl_days: Option<u32>) {
    assert!(env
        .store
        .update_app_settings(&env.app.id, max_devices, ttl_days)
        .await
        .unwrap());
}

async fn owner_of(env: &TestEnv, token: &str) -> Option<offpush::store::bindings::TokenOwner> {
    env.store
        .get_token_owner(&env.app.id, cert1(), &tok(token))
        .await
        .unwrap()
}

/// The user's one stored binding.
async fn only_binding(env: &TestEnv, user: &str) -> Binding {
    let state = user_state(env, user).await;
    assert_eq!(state.devices.len(), 1, "{state:?}");
    state.devices.values().next().unwrap().clone()
}

fn cert1() -> CertificateId {
    CertificateId::new(1).unwrap()
}

fn tok(s: &str) -> PushToken {
    PushToken::parse("token", s).unwrap()
}

#[tokio::test]
async fn a_report_binds_the_caller_and_answers_the_masked_binding() {
    let env = with_cert("bind").await;
    let (s, b) = report(&env, "alice", "regid-alice-0001", Some("phone-1")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["certificate_id"], 1);
    assert_eq!(b["device_id"], "phone-1");
    assert_eq!(b["token"], "****0001");
    assert_eq!(b["kicked_devices"], 0);
    let reported = time::OffsetDateTime::parse(
        b["reported_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        b["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(
        (expires - reported).whole_days(),
        30,
        "default binding_ttl_days"
    );
    assert!(!b.to_string().contains("regid-alice"));

    let listed = devices(&env, "alice").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["token"], "****0001");
    let owner = owner_of(&env, "regid-alice-0001").await.unwrap();
    assert_eq!(owner.user.as_str(), "alice");
    // Stored in the TTL attribute too.
    let state = user_state(&env, "alice").await;
    assert_eq!(
        state.item_expiry(service::now_ms()),
        state.devices.values().next().unwrap().expires_at
    );
}

#[tokio::test]
async fn an_empty_token_removes_the_binding() {
    let env = with_cert("empty").await;
    report(&env, "alice", "regid-1", Some("phone-1")).await;
    let (s, _) = report(&env, "alice", "", Some("phone-1")).await;
    assert_eq!(s, 204);
    assert!(devices(&env, "alice").await.is_empty());
    assert!(owner_of(&env, "regid-1").await.is_none());
    let got = report(&env, "alice", "", None).await;
    assert_error(&got, 400, "invalid_argument", Some("device_id"));
}

#[tokio::test]
async fn an_unknown_certificate_is_404_and_binds_nothing() {
    let env = with_cert("unknown-cert").await;
    let got = put_token(
        &env,
        "alice",
        &json!({"certificate_id": 7, "token": "regid-1"}),
    )
    .await;
    assert_error(&got, 404, "not_found", None);
    assert_eq!(user_state(&env, "alice").await, UserBindings::default());
    // Another app's certificate 1 is not ours either.
    let other = env.other_app("rival").await;
    let got = read(
        handle(
            &env.ctx,
            request(
                "PUT",
                "/v1/push-token",
                Some(&other.user_token("bob")),
                Some(&json!({"certificate_id": 1, "token": "regid-x"})),
            ),
        )
        .await,
    );
    assert_error(&got, 404, "not_found", None);
}

#[tokio::test]
async fn a_token_reported_by_another_user_moves_to_them() {
    let env = with_cert("move").await;
    report(&env, "alice", "shared-regid", Some("tablet")).await;
    let (s, _) = report(&env, "bob", "shared-regid", Some("tablet")).await;
    assert_eq!(s, 200);
    assert!(
        devices(&env, "alice").await.is_empty(),
        "alice's binding ended"
    );
    assert_eq!(devices(&env, "bob").await.len(), 1);
    let owner = owner_of(&env, "shared-regid").await.unwrap();
    assert_eq!(owner.user.as_str(), "bob");
}

#[tokio::test]
async fn a_new_device_kicks_the_old_one_by_default() {
    let env = with_cert("kick").await;
    report(&env, "alice", "regid-old", Some("old-phone")).await;
    let (s, b) = report(&env, "alice", "regid-new", Some("new-phone")).await;
    assert_eq!(s, 200);
    assert_eq!(b["kicked_devices"], 1);
    let listed = devices(&env, "alice").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["device_id"], "new-phone");
    assert!(owner_of(&env, "regid-old").await.is_none());
}

#[tokio::test]
async fn past_max_devices_per_user_the_oldest_binding_ends() {
    let env = with_cert("maxdev").await;
    set_app(&env, Some(3), None).await;
    for i in 1..=3 {
        let (s, b) = put_token(&env, "alice", &json!({"certificate_id": 1, "token": format!("regid-{i}"), "device_id": format!("dev-{i}")})).await;
        assert_eq!((s, b["kicked_devices"].as_u64()), (200, Some(0)));
    }
    // Re-reporting dev-1 makes dev-2 the oldest.
    report(&env, "alice", "regid-1", Some("dev-1")).await;
    let (_, b) = report(&env, "alice", "regid-4", Some("dev-4")).await;
    assert_eq!(b["kicked_devices"], 1);
    let mut ids: Vec<String> = devices(&env, "alice")
        .await
        .iter()
        .map(|d| d["device_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, ["dev-1", "dev-3", "dev-4"]);
}

#[tokio::test]
async fn re_reporting_the_same_device_refreshes_its_expiry() {
    let env = with_cert("refresh").await;
    let body = json!({"certificate_id": 1, "token": "regid-1", "device_id": "phone"});
    put_token(&env, "alice", &body).await;
    let first = only_binding(&env, "alice").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    put_token(&env, "alice", &body).await;
    let state = user_state(&env, "alice").await;
    assert_eq!(state.devices.len(), 1, "same device, one binding");
    let second = state.devices.values().next().unwrap();
    assert!(second.reported_at_ms > first.reported_at_ms);
    assert!(second.expires_at > first.expires_at);
    // The same token later reported with a device_id stays one device.
    report(&env, "bob", "regid-b", None).await;
    report(&env, "bob", "regid-b", Some("bob-phone")).await;
    assert_eq!(user_state(&env, "bob").await.devices.len(), 1);
}

#[tokio::test]
async fn logout_ends_bindings_at_once() {
    let env = with_cert("logout").await;
    set_app(&env, Some(3), None).await;
    report(&env, "alice", "regid-1", Some("phone")).await;
    report(&env, "alice", "regid-2", None).await;
    report(&env, "alice", "regid-3", Some("tablet")).await;
    let user = env.app.user_token("alice");
    // This device logs out by device_id, then one by token.
    let (s, _) = read(
        handle(
            &env.ctx,
            request(
                "DELETE",
                "/v1/push-token?device_id=phone",
                Some(&user),
                None,
            ),
        )
        .await,
    );
    assert_eq!(s, 204);
    let (s, _) = read(
        handle(
            &env.ctx,
            request("DELETE", "/v1/push-token?token=regid-2", Some(&user), None),
        )
        .await,
    );
    assert_eq!(s, 204);
    let listed = devices(&env, "alice").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["device_id"], "tablet");
    // Idempotent.
    assert_eq!(
        read(
            handle(
                &env.ctx,
                request(
                    "DELETE",
                    "/v1/push-token?device_id=phone",
                    Some(&user),
                    None
                )
            )
            .await
        )
        .0,
        204
    );
    // Admin logout: out everywhere.
    let (s, _) = as_admin(&env, "POST", "/v1/users/alice/logout").await;
    assert_eq!(s, 204);
    assert!(devices(&env, "alice").await.is_empty());
    for t in ["regid-1", "regid-2", "regid-3"] {
        assert!(owner_of(&env, t).await.is_none(), "{t}");
    }
    // A later login binds again.
    bound_device(&env, "alice", "regid-9", None).await;
    assert_eq!(devices(&env, "alice").await.len(), 1);
}

#[tokio::test]
async fn an_expired_binding_is_neither_listed_nor_owned() {
    let env = with_cert("expired").await;
    let now = now();
    let user = uid("alice");
    let mut state = UserBindings::default();
    let t = tok("regid-stale");
    let key = device_key(None, &t);
    state.devices.insert(
        key.clone(),
        Binding {
            certificate_id: cert1(),
            token: t.clone(),
            device_id: None,
            reported_at_ms: (now - 40 * 86400) * 1000,
            expires_at: now - 10,
        },
    );
    let writes = vec![
        BindingWrite::PutUser {
            user: user.clone(),
            state,
        },
        BindingWrite::PutOwner {
            cert: cert1(),
            token: t.clone(),
            user: user.clone(),
            device_key: key,
            expires_at: now - 10,
            seen_version: None,
        },
    ];
    assert!(env
        .store
        .commit_bindings(&env.app.id, writes)
        .await
        .unwrap());
    // The emulator (like DynamoDB) still holds the item...
    assert_eq!(user_state(&env, "alice").await.devices.len(), 1);
    // ...but it is absent to every read.
    assert!(devices(&env, "alice").await.is_empty());
    // And the expired token may be taken by someone else without touching alice.
    bound_device(&env, "bob", "regid-stale", None).await;
    assert_eq!(devices(&env, "bob").await.len(), 1);
}

#[tokio::test]
async fn bindings_expire_after_the_apps_binding_ttl_days() {
    let env = with_cert("ttl-days").await;
    set_app(&env, None, Some(2)).await;
    report(&env, "alice", "regid-1", None).await;
    let b = only_binding(&env, "alice").await;
    assert_eq!(b.expires_at - b.reported_at_ms / 1000, 2 * 86400);
}

#[tokio::test]
async fn a_deleted_certificates_bindings_are_not_listed() {
    let env = with_cert("deleted-cert").await;
    report(&env, "alice", "regid-1", None).await;
    assert!(env
        .store
        .delete_certificate(&env.app.id, cert1(), testkit::now_ms())
        .await
        .unwrap());
    assert!(devices(&env, "alice").await.is_empty());
}

#[tokio::test]
async fn a_report_that_started_before_a_logout_cannot_undo_it() {
    let env = with_cert("logout-order").await;
    let app = app(&env).await;
    let alice = uid("alice");
    let started = service::now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    service::logout_user(&env.ctx, &app, &alice).await.unwrap();
    let report = Report {
        certificate_id: cert1(),
        token: Some(tok("regid-1")),
        device_id: Some(DeviceId::parse("d", "phone").unwrap()),
    };
    let err = match service::report(&env.ctx, &app, &alice, report, started).await {
        Err(e) => e,
        Ok(_) => panic!("a report older than the logout must not bind"),
    };
    assert_eq!(err.status(), 409);
    assert!(devices(&env, "alice").await.is_empty());
    // The same for a single device's logout.
    let started = service::now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    service::logout_device(
        &env.ctx,
        &app,
        &alice,
        DeviceSelector::DeviceId(DeviceId::parse("d", "tablet").unwrap()),
    )
    .await
    .unwrap();
    let report = Report {
        certificate_id: cert1(),
        token: Some(tok("regid-2")),
        device_id: Some(DeviceId::parse("d", "tablet").unwrap()),
    };
    assert!(service::report(&env.ctx, &app, &alice, report, started)
        .await
        .is_err());
    // A report started after the logout binds.
    let report = Report {
        certificate_id: cert1(),
        token: Some(tok("regid-2")),
        device_id: Some(DeviceId::parse("d", "tablet").unwrap()),
    };
    assert!(matches!(
        service::report(&env.ctx, &app, &alice, report, service::now_ms()).await,
        Ok(ReportOutcome::Bound { .. })
    ));
}

/// Many users report one token at once: exactly one ends up with it.
#[tokio::test]
async fn concurrent_reports_of_one_token_leave_one_owner() {
    let env = with_cert("race-token").await;
    let app = app(&env).await;
    let users: Vec<UserId> = (0..8).map(|i| uid(&format!("user-{i}"))).collect();
    let tasks = users.iter().map(|u| {
        let report = Report {
            certificate_id: cert1(),
            token: Some(tok("contested")),
            device_id: None,
        };
        service::report(&env.ctx, &app, u, report, service::now_ms())
    });
    let results = futures::future::join_all(tasks).await;
    assert!(results.iter().any(|r| r.is_ok()));
    let owner = owner_of(&env, "contested").await.unwrap();
    let mut holders = Vec::new();
    for u in &users {
        let state = env.store.get_user_bindings(&env.app.id, u).await.unwrap();
        if state.live(now()).any(|(_, b)| b.token == tok("contested")) {
            holders.push(u.clone());
        }
    }
    assert_eq!(
        holders,
        vec![owner.user.clone()],
        "exactly the owner holds the token"
    );
}

/// One user logs in on many devices at once: never more than the limit.
#[tokio::test]
async fn concurrent_logins_never_exceed_the_device_limit() {
    let env = with_cert("race-devices").await;
    set_app(&env, Some(2), None).await;
    let app = app(&env).await;
    let alice = uid("alice");
    let tasks = (0..10).map(|i| {
        let report = Report {
            certificate_id: cert1(),
            token: Some(tok(&format!("regid-{i}"))),
            device_id: Some(DeviceId::parse("d", &format!("dev-{i}")).unwrap()),
        };
        service::report(&env.ctx, &app, &alice, report, service::now_ms())
    });
    let results = futures::future::join_all(tasks).await;
    assert!(results.iter().filter(|r| r.is_ok()).count() >= 2);
    let state = user_state(&env, "alice").await;
    assert_eq!(state.live(now()).count(), 2);
    // Every token not bound to alice has no owner item left behind.
    let mut owned = HashMap::new();
    for i in 0..10 {
        let t = tok(&format!("regid-{i}"));
        owned.insert(
            i,
            env.store
                .get_token_owner(&env.app.id, cert1(), &t)
                .await
                .unwrap()
                .is_some(),
        );
    }
    let bound: Vec<bool> = (0..10)
        .map(|i| {
            state
                .devices
                .values()
                .any(|b| b.token == tok(&format!("regid-{i}")))
        })
        .collect();
    for i in 0..10 {
        assert_eq!(
            owned[&i], bound[i],
            "owner item and binding agree for regid-{i}"
        );
    }
}

/// Reports and logouts race; a logout that answered is never undone by a
/// report that started before the logout began.
#[tokio::test]
async fn concurrent_reports_and_logouts_keep_logouts() {
    let env = with_cert("race-logout").await;
    let app = app(&env).await;
    for round in 0..4 {
        let alice = uid(&format!("alice-{round}"));
        let report_task = |i: usize| {
            let app = &app;
            let alice = &alice;
            let env = &env;
            async move {
                let started = service::now_ms();
                tokio::time::sleep(std::time::Duration::from_millis((i as u64 * 3) % 17)).await;
                let report = Report {
                    certificate_id: cert1(),
                    token: Some(tok(&format!("r{round}-{i}"))),
                    device_id: Some(DeviceId::parse("d", "phone").unwrap()),
                };
                let res = service::report(&env.ctx, app, alice, report, started).await;
                (started, res.is_ok())
            }
        };
        let logout = async {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            let began = service::now_ms();
            service::logout_user(&env.ctx, &app, &alice).await.unwrap();
            began
        };
        let (reports, logout_began) =
            futures::join!(futures::future::join_all((0..8).map(report_task)), logout);
        let state = env
            .store
            .get_user_bindings(&env.app.id, &alice)
            .await
            .unwrap();
        let live: Vec<Binding> = state.live(now()).map(|(_, b)| b.clone()).collect();
        if let Some(b) = live.first() {
            let survivor = reports
                .iter()
                .zip(0..)
                .find(|(_, i)| b.token == tok(&format!("r{round}-{i}")))
                .map(|((started, ok), _)| (*started, *ok))
                .unwrap();
            assert!(
                survivor.1,
                "a surviving binding came from a successful report"
            );
            assert!(
                survivor.0 >= logout_began,
                "round {round}: a report that started before the logout survived it"
            );
        }
    }
}

#[tokio::test]
async fn bad_input_is_400_naming_the_field_and_changes_nothing() {
    let env = with_cert("bad-input").await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"certificate_id": "1", "token": "x"}),
            "certificate_id",
        ),
        (json!({"certificate_id": 0, "token": "x"}), "certificate_id"),
        (
            json!({"certificate_id": 1.5, "token": "x"}),
            "certificate_id",
        ),
        (json!({"token": "x"}), "certificate_id"),
        (json!({"certificate_id": 1}), "token"),
        (json!({"certificate_id": 1, "token": 12345}), "token"),
        (
            json!({"certificate_id": 1, "token": "x".repeat(513)}),
            "token",
        ),
        (
            json!({"certificate_id": 1, "token": "x", "device_id": ""}),
            "device_id",
        ),
        (
            json!({"certificate_id": 1, "token": "x", "device_id": "d".repeat(129)}),
            "device_id",
        ),
        (
            json!({"certificate_id": 1, "token": "x", "device_id": 7}),
            "device_id",
        ),
        (
            json!({"certificate_id": 1, "token": "x", "user_id": "bob"}),
            "user_id",
        ),
    ];
    for (body, field) in cases {
        let got = put_token(&env, "alice", &body).await;
        assert_error(&got, 400, "invalid_argument", Some(field));
    }
    // A token of exactly 512 bytes is fine.
    bound(
        &env,
        "carol",
        &json!({"certificate_id": 1, "token": "y".repeat(512)}),
    )
    .await;
    let user = env.app.user_token("alice");
    let bad_deletes = [
        ("/v1/push-token", "device_id"),
        ("/v1/push-token?device_id=a&token=b", "token"),
        ("/v1/push-token?devce_id=a", "devce_id"),
    ];
    for (uri, field) in bad_deletes {
        assert_error(
            &read(handle(&env.ctx, request("DELETE", uri, Some(&user), None)).await),
            400,
            "invalid_argument",
            Some(field),
        );
    }
    let long_user = "u".repeat(129);
    let got = as_admin(&env, "GET", &format!("/v1/users/{long_user}/devices")).await;
    assert_error(&got, 400, "invalid_argument", Some("user_id"));
    assert_eq!(
        user_state(&env, "alice").await,
        UserBindings::default(),
        "nothing written"
    );
}

#[tokio::test]
async fn user_routes_need_a_token_and_admin_routes_an_admin() {
    let env = with_cert("auth").await;
    let body = json!({"certificate_id": 1, "token": "x"});
    let user = env.app.user_token("alice");
    let user = Some(user.as_str());
    // An admin token does not bind devices (its sub is an operator).
    let admin = env.app.admin_token();
    let admin = Some(admin.as_str());
    let refused = [
        (
            "PUT",
            "/v1/push-token",
            None,
            Some(&body),
            401,
            "unauthenticated",
        ),
        (
            "POST",
            "/v1/users/bob/logout",
            user,
            None,
            403,
            "permission_denied",
        ),
        (
            "GET",
            "/v1/users/alice/devices",
            user,
            None,
            403,
            "permission_denied",
        ),
        (
            "PUT",
            "/v1/push-token",
            admin,
            Some(&body),
            403,
            "permission_denied",
        ),
        (
            "DELETE",
            "/v1/push-token?device_id=x",
            admin,
            None,
            403,
            "permission_denied",
        ),
    ];
    for (method, uri, bearer, body, status, code) in refused {
        let got = read(handle(&env.ctx, request(method, uri, bearer, body)).await);
        assert_error(&got, status, code, None);
    }
    // Another app's admin sees nothing of this app's users.
    put_token(&env, "alice", &body).await;
    let other = env.other_app("rival").await;
    let (s, v) = read(
        handle(
            &env.ctx,
            request(
                "GET",
                "/v1/users/alice/devices",
                Some(&other.admin_token()),
                None,
            ),
        )
        .await,
    );
    assert_eq!(s, 200);
    assert_eq!(v["devices"], json!([]));
    // User ids with reserved characters travel percent-encoded.
    put_token(&env, "a/b c", &body).await;
    assert_eq!(devices(&env, "a%2Fb%20c").await.len(), 1);
}

#[tokio::test]
async fn the_event_files_drive_the_handler() {
    let env = with_cert("events").await;
    let vars = [("CERT_ID", "1"), ("REG_ID", "regid-from-event-0042")];
    let (s, b) = read(handle(&env.ctx, event("token-report-put.json", &env.app, &vars)).await);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["token"], "****0042");
    let (s, d) = read(
        handle(
            &env.ctx,
            event("token-report-devices.json", &env.app, &vars),
        )
        .await,
    );
    assert_eq!(s, 200);
    assert_eq!(d["devices"].as_array().unwrap().len(), 1);
    assert_eq!(
        read(handle(&env.ctx, event("token-report-delete.json", &env.app, &vars)).await).0,
        204
    );
    assert!(devices(&env, "alice").await.is_empty());
    assert_eq!(
        read(handle(&env.ctx, event("token-report-put.json", &env.app, &vars)).await).0,
        200
    );
    assert_eq!(
        read(
            handle(
                &env.ctx,
                event("token-report-put-empty.json", &env.app, &vars)
            )
            .await
        )
        .0,
        204
    );
    assert_eq!(
        read(handle(&env.ctx, event("token-report-put.json", &env.app, &vars)).await).0,
        200
    );
    assert_eq!(
        read(handle(&env.ctx, event("token-report-logout.json", &env.app, &vars)).await).0,
        204
    );
    assert!(devices(&env, "alice").await.is_empty());
}

#[tokio::test]
async fn a_xiaomi_token_is_reported_with_its_certificate_like_any_other() {
    let env = with_cert("events-xiaomi").await;
    let cert = env
        .add_xiaomi_certificate(offpush::domain::ClickAction::OpenApp, false)
        .await;
    let id = cert.to_string();
    let vars = [
        ("XIAOMI_CERT_ID", id.as_str()),
        ("XIAOMI_REG_ID", "xm-regid-from-event-0077"),
    ];
    let (s, b) = read(
        handle(
            &env.ctx,
            event("token-report-put-xiaomi.json", &env.app, &vars),
        )
        .await,
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["certificate_id"].as_u64(), b["token"].as_str()),
        (Some(2), Some("****0077"))
    );
    assert_eq!(devices(&env, "bob").await.len(), 1);
    assert!(
        devices(&env, "alice").await.is_empty(),
        "bob's, not alice's"
    );
}
