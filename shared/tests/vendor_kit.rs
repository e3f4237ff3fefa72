//! The vendor kit's account state against the real emulator: a token due
//! for refresh is refreshed by one instance while every other goes on with
//! the current one (the hourly herd), a refresh that fails keeps the still
//! valid token in use, and an expired token is replaced once per instance.
//! "Instances" are separate `Accounts` on one table, as warm Lambda
//! instances are.

use futures::future::BoxFuture;
use offpush::domain::DeliveryStatus;
use offpush::store::Store;
use offpush::vendor::kit::rules::{credentials, retried};
use offpush::vendor::kit::{Accounts, Authenticator, Fresh, Refusal, TokenPolicy};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn store() -> Store {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") else {
        panic!("AWS_ENDPOINT_URL_DYNAMODB is not set: run with scripts/test.sh (the emulator)");
    };
    let name = format!("t-kit-{}", uuid::Uuid::new_v4().simple());
    let store = Store::for_endpoint(&endpoint, "us-east-1", name).await;
    store.create_table().await.expect("table on the emulator");
    store
}

const ACCOUNT: &str = "VENDOR#test#app-1";

/// A vendor auth endpoint: counts its calls, answers tokens `t1`, `t2`...
/// or the refusal it is told to give.
#[derive(Default)]
struct FakeAuth {
    calls: AtomicUsize,
    refuse: std::sync::Mutex<Option<Refusal>>,
    delay: Duration,
}

impl Authenticator for FakeAuth {
    fn authenticate(&self, _deadline: Instant) -> BoxFuture<'_, Result<Fresh, Refusal>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(self.delay).await;
            if let Some(r) = self.refuse.lock().unwrap().clone() {
                return Err(r);
            }
            Ok(Fresh {
                value: format!("t{n}"),
                valid_secs: 86_400,
            })
        })
    }
}

const POLICY: TokenPolicy = TokenPolicy {
    refresh_after_secs: 3600,
    spacing: Duration::from_millis(0),
    expiry_margin_secs: 600,
};

fn meaning(_: i64) -> &'static str {
    "test"
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

/// Stores a shared token obtained `age_secs` ago, valid 24 h from then.
async fn stored_token(store: &Store, value: &str, age_secs: i64) {
    let now = offpush::clock::now_secs();
    let obtained = now - age_secs;
    store
        .put_vendor_auth(ACCOUNT, value, obtained, obtained + 86_400 - 600)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_hourly_herd_makes_one_auth_call_and_nobody_waits_for_it() {
    let store = store().await;
    stored_token(&store, "t0", 3601).await;
    // Fifty warm instances serve a push each at the same moment, an hour
    // after the token was obtained; vivo's auth takes 300 ms.
    let auth = Arc::new(FakeAuth {
        delay: Duration::from_millis(300),
        ..FakeAuth::default()
    });
    let instances: Vec<Accounts> = (0..50)
        .map(|_| Accounts::new(store.clone(), "test", meaning))
        .collect();
    let calls = AtomicUsize::new(0);
    let got = futures::future::join_all(instances.iter().map(|a| {
        let auth = auth.clone();
        let calls = &calls;
        async move {
            a.token(ACCOUNT, auth.as_ref(), &POLICY, None, deadline(), calls)
                .await
                .unwrap()
                .value
        }
    }))
    .await;
    assert_eq!(
        auth.calls.load(Ordering::SeqCst),
        1,
        "one instance refreshed: the herd made one auth call"
    );
    let refreshed = got.iter().filter(|t| *t == "t1").count();
    let old = got.iter().filter(|t| *t == "t0").count();
    assert_eq!((refreshed, old), (1, 49), "{got:?}");
    // The new token is shared: an instance that reads the table afresh
    // takes it, with no auth call of its own.
    let late = Accounts::new(store.clone(), "test", meaning);
    let t = late
        .token(ACCOUNT, auth.as_ref(), &POLICY, None, deadline(), &calls)
        .await
        .unwrap();
    assert_eq!(t.value, "t1");
    assert_eq!(auth.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_still_valid_token_in_use() {
    let store = store().await;
    stored_token(&store, "t0", 5 * 3600).await;
    let auth = FakeAuth::default();
    *auth.refuse.lock().unwrap() = Some(Refusal::new(retried("auth endpoint down"), "down"));
    let a = Accounts::new(store.clone(), "test", meaning);
    let calls = AtomicUsize::new(0);
    let t = a
        .token(ACCOUNT, &auth, &POLICY, None, deadline(), &calls)
        .await
        .expect("the old token, valid for hours yet, is served");
    assert_eq!(t.value, "t0");
    assert!(
        auth.calls.load(Ordering::SeqCst) >= 1,
        "a refresh was tried"
    );
    // Refused credentials do not stop pushes either while the old token lasts.
    *auth.refuse.lock().unwrap() = Some(Refusal::new(credentials(None, "refused"), "no"));
    let b = Accounts::new(store.clone(), "test", meaning);
    // The lease of the first refresh stands: b does not call, and serves t0.
    let before = auth.calls.load(Ordering::SeqCst);
    let t = b
        .token(ACCOUNT, &auth, &POLICY, None, deadline(), &calls)
        .await
        .unwrap();
    assert_eq!(
        (t.value.as_str(), auth.calls.load(Ordering::SeqCst)),
        ("t0", before)
    );
}

#[tokio::test]
async fn without_a_valid_token_a_refusal_is_every_targets_outcome() {
    let store = store().await;
    let auth = FakeAuth::default();
    *auth.refuse.lock().unwrap() = Some(Refusal::new(
        credentials(Some("credentials.app_secret"), "refused"),
        "test 1: refused",
    ));
    let a = Accounts::new(store.clone(), "test", meaning);
    let calls = AtomicUsize::new(0);
    let d = a
        .token(ACCOUNT, &auth, &POLICY, None, deadline(), &calls)
        .await
        .unwrap_err();
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert!(
        d.detail.unwrap().contains("credentials were refused"),
        "never a dead token"
    );
    assert!(store
        .vendor_state(ACCOUNT, offpush::clock::now_secs())
        .await
        .unwrap()
        .auth
        .is_none());
}

#[tokio::test]
async fn a_fresh_token_is_used_without_any_auth_call() {
    let store = store().await;
    stored_token(&store, "t0", 60).await;
    let auth = FakeAuth::default();
    let a = Accounts::new(store.clone(), "test", meaning);
    let calls = AtomicUsize::new(0);
    for _ in 0..3 {
        let t = a
            .token(ACCOUNT, &auth, &POLICY, None, deadline(), &calls)
            .await
            .unwrap();
        assert_eq!(t.value, "t0");
    }
    assert_eq!(auth.calls.load(Ordering::SeqCst), 0);
    // Refused by the vendor (generation of t0): replaced once, shared.
    let t0 = a
        .token(ACCOUNT, &auth, &POLICY, None, deadline(), &calls)
        .await
        .unwrap();
    let t = a
        .token(
            ACCOUNT,
            &auth,
            &POLICY,
            Some(t0.generation),
            deadline(),
            &calls,
        )
        .await
        .unwrap();
    assert_eq!(
        (t.value.as_str(), auth.calls.load(Ordering::SeqCst)),
        ("t1", 1)
    );
    let shared = store
        .vendor_state(ACCOUNT, offpush::clock::now_secs())
        .await
        .unwrap()
        .auth
        .unwrap();
    assert_eq!(shared.value, "t1");
    assert!(shared.expires_at > offpush::clock::now_secs() + 20 * 3600);
}
