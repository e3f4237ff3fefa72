//! The recording store: every request is recorded as the IAM actions it
//! needs (a transaction as its items' actions), refused requests included,
//! and only through the recording clone.

use offpush::store::actions::ActionLog;
use offpush::store::Store;
use std::collections::BTreeSet;

fn set(actions: &[&str]) -> BTreeSet<String> {
    actions.iter().map(|a| format!("dynamodb:{a}")).collect()
}

async fn store() -> Store {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") else {
        panic!("AWS_ENDPOINT_URL_DYNAMODB is not set: run with scripts/test.sh (the emulator)");
    };
    let name = format!("t-actions-{}", uuid::Uuid::new_v4().simple());
    let store = Store::for_endpoint(&endpoint, "us-east-1", name).await;
    store.create_table().await.expect("table on the emulator");
    store
}

#[tokio::test]
async fn requests_are_recorded_as_their_iam_actions() {
    let plain = store().await;
    let log = ActionLog::new();
    let rec = plain.recording(&log);
    assert_eq!(rec.table(), plain.table());
    assert!(log.actions().is_empty());

    // Through the plain store: nothing recorded.
    let app = offpush::domain::AppId::parse("app", "demo").unwrap();
    assert!(plain.get_app(&app).await.unwrap().is_none());
    assert!(log.actions().is_empty());

    // Through the recording one: each operation, whatever it finds.
    assert!(rec.get_app(&app).await.unwrap().is_none());
    assert_eq!(log.actions(), set(&["GetItem"]));
    assert!(rec.list_certificates(&app).await.unwrap().is_empty());
    assert_eq!(log.actions(), set(&["GetItem", "Query"]));

    log.clear();
    assert!(log.actions().is_empty());
}

#[tokio::test]
async fn a_transaction_is_recorded_as_its_items_actions() {
    use offpush::domain::{CertificateId, PushToken, UserBindings, UserId};
    use offpush::store::bindings::BindingWrite;
    let plain = store().await;
    let log = ActionLog::new();
    let rec = plain.recording(&log);
    let app = offpush::domain::AppId::parse("app", "demo").unwrap();
    let alice = UserId::parse("u", "alice").unwrap();
    let writes = vec![
        BindingWrite::PutUser {
            user: alice.clone(),
            state: UserBindings::default(),
        },
        // Whether or not its condition holds, the request needs DeleteItem.
        BindingWrite::DeleteOwner {
            cert: CertificateId::new(1).unwrap(),
            token: PushToken::parse("t", "regid-0123456789").unwrap(),
            user: alice,
        },
    ];
    rec.commit_bindings(&app, writes).await.unwrap();
    assert_eq!(log.actions(), set(&["PutItem", "DeleteItem"]));
    assert!(
        !log.actions().contains("dynamodb:TransactWriteItems"),
        "IAM has no such action"
    );
}
