//! What DynamoDB does under load and moto does not, shown on the emulator's
//! test front (scripts/lib/dynamodb_emulator.py, "The front"; started by
//! scripts/test.sh as AWS_ENDPOINT_URL_DYNAMODB_FRONT): transaction
//! conflicts, per-item throttling, responses lost after the write
//! committed, and TransactWriteItems' ClientRequestToken. Raw SDK calls,
//! each test on a fresh table whose behaviours it configures at
//! /_front/config and resets when it ends (the tests run in parallel; the
//! front's settings are per table).

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Get, Put, PutRequest, TransactGetItem, TransactWriteItem,
    Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use offpush::store::schema::KEY_SCHEMA;
use offpush::store::Store;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use testkit::front::{self, control};

fn front_url() -> String {
    front::endpoint()
}

/// A fresh table on the front, its behaviours reset when dropped.
struct Table {
    name: String,
}

impl Table {
    async fn new(what: &str) -> Table {
        let name = format!("t-front-{what}-{}", uuid::Uuid::new_v4().simple());
        let store = Store::for_endpoint(&front_url(), "us-east-1", name.clone()).await;
        store.create_table().await.expect("table on the front");
        Table { name }
    }

    fn configure(&self, settings: Value) {
        let mut body = settings;
        body["table"] = json!(self.name);
        let (status, answer) = control("POST", "/_front/config", Some(body));
        assert_eq!(status, 200, "{answer}");
    }

    /// Forget this table's settings, counters and tokens.
    fn reset(&self) {
        let (status, answer) = control("POST", "/_front/reset", Some(json!({"table": self.name})));
        assert_eq!(status, 200, "{answer}");
    }

    fn stats(&self) -> Value {
        let (status, answer) = control("GET", &format!("/_front/stats?table={}", self.name), None);
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// A counter: "conflicts", or "requests.UpdateItem" (0 when absent).
    fn stat(&self, path: &str) -> u64 {
        let stats = self.stats();
        let mut v = &stats;
        for part in path.split('.') {
            v = &v[part];
        }
        v.as_u64().unwrap_or(0)
    }

    fn key(&self, id: &str) -> HashMap<String, AttributeValue> {
        KEY_SCHEMA
            .iter()
            .map(|(name, _)| (name.to_string(), AttributeValue::S(format!("front#{id}"))))
            .collect()
    }

    fn add(&self, id: &str, attr: &str, n: i64) -> Update {
        Update::builder()
            .table_name(&self.name)
            .set_key(Some(self.key(id)))
            .update_expression("ADD #a :n")
            .expression_attribute_names("#a", attr)
            .expression_attribute_values(":n", AttributeValue::N(n.to_string()))
            .build()
            .unwrap()
    }

    fn put(&self, id: &str) -> Put {
        Put::builder()
            .table_name(&self.name)
            .set_item(Some(self.key(id)))
            .build()
            .unwrap()
    }

    async fn number(&self, c: &Client, id: &str, attr: &str) -> Option<i64> {
        let item = c
            .get_item()
            .table_name(&self.name)
            .set_key(Some(self.key(id)))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem")
            .item?;
        match item.get(attr)? {
            AttributeValue::N(n) => Some(n.parse().unwrap()),
            other => panic!("{attr}: {other:?}"),
        }
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // On a failing test too: caught, since a panic while panicking
        // would abort the test binary.
        let _ = std::panic::catch_unwind(|| {
            control("POST", "/_front/reset", Some(json!({"table": self.name})))
        });
    }
}

/// A raw SDK client on the front making `attempts` attempts per call
/// (1: no retries), quick backoff.
fn client(attempts: u32) -> Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(offpush::store::https_client())
        .endpoint_url(front_url())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "test"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(20)),
        )
        .build();
    Client::from_conf(conf)
}

fn codes(reasons: &[CancellationReason]) -> Vec<&str> {
    reasons.iter().map(|r| r.code().unwrap_or("-")).collect()
}

fn update(u: Update) -> TransactWriteItem {
    TransactWriteItem::builder().update(u).build()
}

fn put(p: Put) -> TransactWriteItem {
    TransactWriteItem::builder().put(p).build()
}

#[tokio::test]
async fn a_transaction_on_an_item_another_holds_is_cancelled_by_a_conflict() {
    let t = Table::new("conflict").await;
    // A transaction holds its items from arrival until applied: 400 ms.
    t.configure(json!({"conflicts": true, "transaction_latency_ms": 400}));
    let c = client(1);
    let txn = |own: &'static str| {
        c.transact_write_items()
            .transact_items(update(t.add("hot", "n", 1)))
            .transact_items(put(t.put(own)))
            .send()
    };
    let (a, b) = tokio::join!(txn("a"), txn("b"));
    let (won, lost) = match (a, b) {
        (Ok(_), Err(e)) => ("a", e),
        (Err(e), Ok(_)) => ("b", e),
        (a, b) => panic!("exactly one must be cancelled: {a:?} / {b:?}"),
    };
    assert_eq!(lost.code(), Some("TransactionCanceledException"));
    assert_eq!(
        lost.message(),
        Some("Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]")
    );
    let Some(TransactWriteItemsError::TransactionCanceledException(tc)) = lost.as_service_error()
    else {
        panic!("{lost:?}");
    };
    // The shared item conflicted; the loser's own item is None.
    assert_eq!(
        codes(tc.cancellation_reasons()),
        ["TransactionConflict", "None"]
    );
    assert_eq!(
        tc.cancellation_reasons()[0].message(),
        Some("Transaction is ongoing for the item")
    );
    let loser = if won == "a" { "b" } else { "a" };
    assert_eq!(t.number(&c, "hot", "n").await, Some(1));
    assert!(t.number(&c, won, "n").await.is_none()); // put: exists, no n
    let exists = |id| {
        c.get_item()
            .table_name(&t.name)
            .set_key(Some(t.key(id)))
            .consistent_read(true)
            .send()
    };
    assert!(exists(won).await.unwrap().item.is_some());
    assert!(
        exists(loser).await.unwrap().item.is_none(),
        "nothing of the cancelled one applied"
    );

    // A plain write, and a TransactGetItems, on the item a transaction
    // holds: TransactionConflictException, and a cancelled read.
    let holder = tokio::spawn(
        c.transact_write_items()
            .transact_items(update(t.add("hot", "n", 1)))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let single = c
        .update_item()
        .table_name(&t.name)
        .set_key(Some(t.key("hot")))
        .update_expression("ADD n :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .expect_err("the item is held");
    assert!(
        matches!(
            single.as_service_error(),
            Some(UpdateItemError::TransactionConflictException(_))
        ),
        "{single:?}"
    );
    assert_eq!(
        single.message(),
        Some("Transaction is ongoing for the item")
    );
    let read = c
        .transact_get_items()
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name(&t.name)
                        .set_key(Some(t.key("hot")))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("the item is held");
    let Some(TransactGetItemsError::TransactionCanceledException(tc)) = read.as_service_error()
    else {
        panic!("{read:?}");
    };
    assert_eq!(codes(tc.cancellation_reasons()), ["TransactionConflict"]);
    holder.await.unwrap().expect("the holder commits");
    assert_eq!(
        t.number(&c, "hot", "n").await,
        Some(2),
        "the plain ADD was not applied"
    );

    let s = t.stats();
    assert_eq!(s["conflicts"], 3, "{s}");
    assert_eq!(s["requests"]["TransactWriteItems"], 3, "{s}");
    assert_eq!(s["applied"]["TransactWriteItems"], 2, "{s}");
    assert!(s["applied"].get("UpdateItem").is_none(), "{s}");
    t.reset();

    // Off (the default): both commit, as on moto alone.
    let (a, b) = tokio::join!(txn("c"), txn("d"));
    a.unwrap();
    b.unwrap();
    assert_eq!(t.number(&c, "hot", "n").await, Some(4));
}

#[tokio::test]
async fn writes_to_one_item_past_its_rate_are_throttled() {
    let t = Table::new("throttle").await;
    let once = client(1);
    let put_hot = |c: &Client| {
        c.put_item()
            .table_name(&t.name)
            .set_item(Some(t.key("hot")))
            .send()
    };
    // Off: any rate.
    for _ in 0..5 {
        put_hot(&once).await.unwrap();
    }
    t.configure(json!({"write_rate": 3}));
    let started = Instant::now();
    for _ in 0..3 {
        put_hot(&once).await.expect("within the rate");
    }
    let e = put_hot(&once)
        .await
        .expect_err("a 4th write within the second");
    let Some(PutItemError::ThrottlingException(te)) = e.as_service_error() else {
        panic!("{e:?}");
    };
    assert!(te
        .message()
        .unwrap()
        .starts_with("Throughput exceeds the current capacity"));
    let reasons = te.throttling_reasons();
    assert_eq!(reasons.len(), 1);
    assert_eq!(
        reasons[0].reason(),
        Some("TableWriteKeyRangeThroughputExceeded")
    );
    assert_eq!(
        reasons[0].resource(),
        Some(format!("arn:aws:dynamodb:us-east-1:123456789012:table/{}", t.name).as_str())
    );
    // The SDK takes it for throttling and retries it (then gives up).
    let before = t.stat("requests.PutItem");
    let e = put_hot(&client(3)).await.expect_err("still hot");
    assert_eq!(e.code(), Some("ThrottlingException"));
    assert_eq!(t.stat("requests.PutItem") - before, 3, "three attempts");

    // Per item: another item is not throttled.
    once.put_item()
        .table_name(&t.name)
        .set_item(Some(t.key("cold")))
        .send()
        .await
        .expect("another item");
    // A transaction with the hot item: ThrottlingError for it.
    let e = once
        .transact_write_items()
        .transact_items(put(t.put("hot")))
        .transact_items(put(t.put("cold2")))
        .send()
        .await
        .expect_err("hot item");
    let Some(TransactWriteItemsError::TransactionCanceledException(tc)) = e.as_service_error()
    else {
        panic!("{e:?}");
    };
    assert_eq!(
        codes(tc.cancellation_reasons()),
        ["ThrottlingError", "None"]
    );
    // A batch: the hot entry comes back unprocessed, the other is written.
    let entry = |id| {
        WriteRequest::builder()
            .put_request(
                PutRequest::builder()
                    .set_item(Some(t.key(id)))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let out = once
        .batch_write_item()
        .request_items(&t.name, vec![entry("hot"), entry("batch")])
        .send()
        .await
        .expect("partly processed");
    let unprocessed = out.unprocessed_items().unwrap();
    assert_eq!(unprocessed[&t.name], [entry("hot")]);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "all of it within the 1 s window (took {:?}): a slow machine, not the front",
        started.elapsed()
    );
    let s = t.stats();
    assert_eq!(s["throttles"], 5, "put, 3 attempts, transaction: {s}");
    assert_eq!(s["unprocessed_entries"], 1, "{s}");
    assert_eq!(s["applied"]["PutItem"], 5 + 3 + 1, "{s}");

    // A second later the item takes writes again.
    tokio::time::sleep(Duration::from_millis(1050)).await;
    put_hot(&once).await.expect("a new second");
}

#[tokio::test]
async fn a_lost_response_makes_the_sdk_send_the_write_again() {
    let t = Table::new("lost").await;
    let c = client(3);
    for mode in ["close", "500"] {
        // UpdateItem ADD, no idempotency: applied, answer lost, sent again,
        // applied again. The defect the product must guard against.
        t.reset();
        t.configure(json!({"lose_every": 1, "lose_limit": 1, "lose_mode": mode}));
        let id = format!("update-{mode}");
        c.update_item()
            .table_name(&t.name)
            .set_key(Some(t.key(&id)))
            .update_expression("ADD n :one")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send()
            .await
            .expect("the SDK retries the lost answer");
        assert_eq!(
            t.number(&c, &id, "n").await,
            Some(2),
            "{mode}: ADD 1 counted twice"
        );
        let s = t.stats();
        assert_eq!(s["lost_responses"], 1, "{mode}: {s}");
        assert_eq!(s["requests"]["UpdateItem"], 2, "{mode}: {s}");
        assert_eq!(s["applied"]["UpdateItem"], 2, "{mode}: {s}");

        // TransactWriteItems with a ClientRequestToken (DynamoDB's
        // idempotency, on): the retry carries the same token and is
        // answered without being applied.
        t.reset();
        t.configure(
            json!({"lose_every": 1, "lose_limit": 1, "lose_mode": mode, "idempotency": true}),
        );
        let id = format!("txn-{mode}");
        c.transact_write_items()
            .transact_items(update(t.add(&id, "n", 1)))
            .client_request_token(uuid::Uuid::new_v4().to_string())
            .send()
            .await
            .expect("the SDK retries the lost answer");
        assert_eq!(
            t.number(&c, &id, "n").await,
            Some(1),
            "{mode}: applied once"
        );
        let s = t.stats();
        assert_eq!(s["lost_responses"], 1, "{mode}: {s}");
        assert_eq!(s["idempotent_replays"], 1, "{mode}: {s}");
        assert_eq!(s["requests"]["TransactWriteItems"], 2, "{mode}: {s}");
        assert_eq!(s["applied"]["TransactWriteItems"], 1, "{mode}: {s}");

        // The same without the front's idempotency (moto ignores the
        // token): applied twice.
        t.reset();
        t.configure(json!({"lose_every": 1, "lose_limit": 1, "lose_mode": mode}));
        let id = format!("moto-{mode}");
        c.transact_write_items()
            .transact_items(update(t.add(&id, "n", 1)))
            .send()
            .await
            .unwrap();
        assert_eq!(t.number(&c, &id, "n").await, Some(2), "{mode}: moto alone");
    }

    // Without retries the caller sees the failure, the write committed.
    t.reset();
    t.configure(json!({"lose_every": 1, "lose_limit": 1}));
    let e = client(1)
        .update_item()
        .table_name(&t.name)
        .set_key(Some(t.key("once")))
        .update_expression("ADD n :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .expect_err("the answer is lost");
    assert!(
        e.as_service_error().is_none(),
        "a connection failure: {e:?}"
    );
    assert_eq!(t.number(&c, "once", "n").await, Some(1));
}

#[tokio::test]
async fn a_client_request_token_makes_a_transaction_idempotent() {
    let t = Table::new("token").await;
    t.configure(json!({"idempotency": true}));
    let c = client(1);
    let token = uuid::Uuid::new_v4().to_string();
    let txn = |n: i64, token: &str| {
        c.transact_write_items()
            .transact_items(update(t.add("k", "n", n)))
            .client_request_token(token)
            .send()
    };
    txn(1, &token).await.unwrap();
    txn(1, &token).await.expect("the same request: success");
    assert_eq!(t.number(&c, "k", "n").await, Some(1), "applied once");
    let e = txn(2, &token)
        .await
        .expect_err("another request, same token");
    assert!(
        matches!(
            e.as_service_error(),
            Some(TransactWriteItemsError::IdempotentParameterMismatchException(_))
        ),
        "{e:?}"
    );
    assert_eq!(t.number(&c, "k", "n").await, Some(1));
    let s = t.stats();
    assert_eq!(s["idempotent_replays"], 1, "{s}");
    assert_eq!(s["idempotent_mismatches"], 1, "{s}");
    assert_eq!(s["applied"]["TransactWriteItems"], 1, "{s}");

    // The same token while the first is in flight.
    t.configure(json!({"transaction_latency_ms": 300}));
    let token = uuid::Uuid::new_v4().to_string();
    let (a, b) = tokio::join!(txn(1, &token), txn(1, &token));
    let e = match (a, b) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        (a, b) => panic!("one must be in progress: {a:?} / {b:?}"),
    };
    assert!(
        matches!(
            e.as_service_error(),
            Some(TransactWriteItemsError::TransactionInProgressException(_))
        ),
        "{e:?}"
    );
    assert_eq!(t.number(&c, "k", "n").await, Some(2));

    // Past the window (600 s; here 0.5 s) a token is a new request.
    t.configure(json!({"transaction_latency_ms": 0, "idempotency_window_s": 0.5}));
    let token = uuid::Uuid::new_v4().to_string();
    txn(1, &token).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    txn(1, &token).await.unwrap();
    assert_eq!(t.number(&c, "k", "n").await, Some(4), "applied twice");

    // Off (moto alone): the token is ignored.
    t.reset();
    let token = uuid::Uuid::new_v4().to_string();
    txn(1, &token).await.unwrap();
    txn(1, &token).await.unwrap();
    assert_eq!(
        t.number(&c, "k", "n").await,
        Some(6),
        "moto applies it twice"
    );
}

#[tokio::test]
async fn settings_are_per_table_and_latency_delays_requests() {
    let slow = Table::new("slow").await;
    let fast = Table::new("fast").await;
    slow.configure(json!({"latency_ms": 250, "lose_every": 1}));
    let c = client(1);
    let get = |t: &Table| {
        c.get_item()
            .table_name(&t.name)
            .set_key(Some(t.key("x")))
            .send()
    };
    let t0 = Instant::now();
    get(&slow).await.unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t0.elapsed()
    );
    let t0 = Instant::now();
    get(&fast).await.unwrap();
    assert!(
        t0.elapsed() < Duration::from_millis(250),
        "{:?}",
        t0.elapsed()
    );
    // Every write of the slow table loses its answer; the other's do not.
    c.put_item()
        .table_name(&fast.name)
        .set_item(Some(fast.key("x")))
        .send()
        .await
        .expect("the fast table's answers arrive");
    assert_eq!(fast.stat("lost_responses"), 0);
    assert_eq!(fast.stat("requests.PutItem"), 1);

    // Bad settings are refused, naming the problem.
    let (status, answer) = control(
        "POST",
        "/_front/config",
        Some(json!({"table": slow.name, "lose_mode": "sometimes"})),
    );
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("lose_mode"),
        "{answer}"
    );
    let (status, _) = control(
        "POST",
        "/_front/config",
        Some(json!({"table": slow.name, "nope": 1})),
    );
    assert_eq!(status, 400);

    // A reset table is back to the defaults (everything off).
    slow.reset();
    let t0 = Instant::now();
    get(&slow).await.unwrap();
    assert!(
        t0.elapsed() < Duration::from_millis(250),
        "{:?}",
        t0.elapsed()
    );
    let (_, config) = control("GET", "/_front/config", None);
    assert!(config["tables"].get(&slow.name).is_none(), "{config}");
    assert_eq!(config["default"]["latency_ms"], 0, "{config}");
}
