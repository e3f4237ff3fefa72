//! A user's record over its whole life: bounded however many devices log
//! out, always carrying an expiry, and an admin kick that no concurrent
//! first report can lose.

use offpush::domain::binding::{DeviceSelector, Report, MAX_LOGOUT_MARKS};
use offpush::domain::{App, CertificateId, DeviceId, PushToken, UserId};
use offpush::store::keys;
use testkit::*;
use token_report::service;

async fn with_cert(label: &str) -> (TestEnv, App) {
    let env = TestEnv::new(label).await;
    env.add_certificate(
        offpush::domain::ClickAction::OpenApp,
        offpush::domain::PushMode::Production,
    )
    .await;
    let app = env.app_record().await;
    (env, app)
}

fn report(token: &str, device: &str) -> Report {
    Report {
        certificate_id: CertificateId::new(1).unwrap(),
        token: Some(PushToken::parse("token", token).unwrap()),
        device_id: Some(DeviceId::parse("device_id", device).unwrap()),
    }
}

fn uid(s: &str) -> UserId {
    UserId::parse("u", s).unwrap()
}

/// The stored size of an item, as DynamoDB counts it (names plus values),
/// close enough for bounds.
fn size(
    item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> usize {
    fn av(v: &aws_sdk_dynamodb::types::AttributeValue) -> usize {
        use aws_sdk_dynamodb::types::AttributeValue as A;
        match v {
            A::S(s) | A::N(s) => s.len(),
            A::M(m) => m.iter().map(|(k, v)| k.len() + av(v) + 3).sum(),
            A::L(l) => l.iter().map(|v| av(v) + 1).sum(),
            A::B(b) => b.as_ref().len(),
            _ => 1,
        }
    }
    item.iter().map(|(k, v)| k.len() + av(v)).sum()
}

#[tokio::test]
async fn thousands_of_logouts_leave_the_user_record_small_and_working() {
    let (env, app) = with_cert("logout-storm").await;
    let alice = uid("alice");
    service::report(
        &env.ctx,
        &app,
        &alice,
        report("regid-real", "phone"),
        now_ms(),
    )
    .await
    .unwrap();
    for i in 0..3000 {
        let device = DeviceId::parse("d", &format!("made-up-{i:04}-{}", i * 7919 % 10007)).unwrap();
        service::logout_device(&env.ctx, &app, &alice, DeviceSelector::DeviceId(device))
            .await
            .unwrap();
    }
    let state = env.store.get_user_bindings(&app.id, &alice).await.unwrap();
    assert_eq!(state.device_logouts.len(), MAX_LOGOUT_MARKS);
    assert_eq!(state.devices.len(), 1, "the real device is still bound");
    let item = env
        .raw_item(&keys::user_pk(&app.id, &alice), keys::USER_SK)
        .await
        .unwrap();
    assert!(
        size(&item) < 4096,
        "the record stays small: {} bytes",
        size(&item)
    );
    // A report that started before the storm's logouts is refused (it may
    // have been one of the folded devices), a fresh one binds.
    let before_storm = now_ms() - 60_000;
    let late = service::report(
        &env.ctx,
        &app,
        &alice,
        report("regid-x", "made-up-0000-0"),
        before_storm,
    )
    .await;
    assert!(
        late.is_err(),
        "a report older than a folded logout cannot undo it"
    );
    assert_eq!(
        service::logout_user(&env.ctx, &app, &alice).await.unwrap(),
        1
    );
    service::report(
        &env.ctx,
        &app,
        &alice,
        report("regid-new", "tablet"),
        now_ms(),
    )
    .await
    .unwrap();
    let state = env.store.get_user_bindings(&app.id, &alice).await.unwrap();
    assert_eq!(state.devices.len(), 1);
}

#[tokio::test]
async fn a_user_record_keeps_an_expiry_after_its_last_binding_ends() {
    let (env, app) = with_cert("record-expiry").await;
    let bob = uid("bob");
    service::report(&env.ctx, &app, &bob, report("regid-b", "phone"), now_ms())
        .await
        .unwrap();
    let device = DeviceId::parse("d", "phone").unwrap();
    service::logout_device(&env.ctx, &app, &bob, DeviceSelector::DeviceId(device))
        .await
        .unwrap();
    let item = env
        .raw_item(&keys::user_pk(&app.id, &bob), keys::USER_SK)
        .await
        .unwrap();
    let expires: i64 = item[keys::EXPIRES_AT].as_n().unwrap().parse().unwrap();
    // The ending is remembered (the push log's "logged out at T"), so the
    // emptied record lives as long as that memory, and no longer.
    let retention = offpush::domain::binding::ENDED_RETENTION_MS / 1000;
    assert!(
        expires > now() + retention - 5 && expires <= now() + retention + 2,
        "an emptied record is deleted after its ending's retention: {expires}"
    );
    let state = env.store.get_user_bindings(&app.id, &bob).await.unwrap();
    assert_eq!(state.ended.len(), 1);
    assert_eq!(
        state.ended[0].why,
        offpush::domain::binding::EndReason::LoggedOutByDevice
    );
    // The admin kick of a user that never reported leaves an expiring record too.
    let ghost = uid("ghost");
    service::logout_user(&env.ctx, &app, &ghost).await.unwrap();
    let item = env
        .raw_item(&keys::user_pk(&app.id, &ghost), keys::USER_SK)
        .await
        .unwrap();
    let expires: i64 = item[keys::EXPIRES_AT].as_n().unwrap().parse().unwrap();
    assert!(expires > now(), "{expires}");
}

#[tokio::test]
async fn an_admin_kick_racing_a_first_report_is_never_lost() {
    let (env, app) = with_cert("kick-race").await;
    for round in 0..30 {
        let user = uid(&format!("racer-{round}"));
        let started = now_ms();
        let (reported, kicked) = futures::join!(
            service::report(
                &env.ctx,
                &app,
                &user,
                report(&format!("regid-{round}"), "phone"),
                started
            ),
            service::logout_user(&env.ctx, &app, &user),
        );
        assert!(
            kicked.is_ok(),
            "round {round}: the kick answered {:?}",
            kicked.err()
        );
        let state = env.store.get_user_bindings(&app.id, &user).await.unwrap();
        assert!(
            state.devices.is_empty(),
            "round {round}: a report that started before the kick survived it (report: {:?})",
            reported
                .as_ref()
                .map(|_| "bound")
                .map_err(|e| e.to_string())
        );
        let owner = env
            .store
            .get_token_owner(
                &app.id,
                CertificateId::new(1).unwrap(),
                &PushToken::parse("t", &format!("regid-{round}")).unwrap(),
            )
            .await
            .unwrap();
        assert!(
            owner.is_none_or(|o| o.expires_at <= now()),
            "round {round}: no owner left behind"
        );
    }
}
