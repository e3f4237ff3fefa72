//! The IAM actions a store's requests need, as they are sent: an SDK
//! interceptor that records, for every DynamoDB request of a
//! [`Store::recording`](super::Store::recording)'s
//! client, the `dynamodb:*` actions IAM checks for it. The functions' tests
//! drive every path of a function through a recording store and compare the
//! set with the function's policy in template.yaml. Deployed functions never
//! attach it.

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// The IAM actions (`dynamodb:GetItem`, ...) the requests sent through a
/// recording store needed, each with the partition key prefix (`APP#`,
/// `USER#`, ...) it touched: what `dynamodb:LeadingKeys` conditions see.
/// Also every request's operation name in the order sent (what the
/// benchmarks and the request-count tests count). Clones share both.
#[derive(Clone, Debug, Default)]
pub struct ActionLog {
    keyed: Arc<Mutex<BTreeSet<(String, String)>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ActionLog {
    pub fn new() -> Self {
        ActionLog::default()
    }

    /// Every action recorded so far.
    pub fn actions(&self) -> BTreeSet<String> {
        self.keyed().into_iter().map(|(a, _)| a).collect()
    }

    /// Every (action, partition key prefix) recorded so far.
    pub fn keyed(&self) -> BTreeSet<(String, String)> {
        self.keyed.lock().expect("action log lock").clone()
    }

    /// The operations (`GetItem`, `TransactWriteItems`, ...) of the requests
    /// sent so far, in order: one entry per request the code made (an SDK
    /// retry of the same request is not another one).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("action log lock").clone()
    }

    /// Forgets what was recorded (e.g. after a test's own setup).
    pub fn clear(&self) {
        self.keyed.lock().expect("action log lock").clear();
        self.requests.lock().expect("action log lock").clear();
    }

    fn record(&self, operation: &str, actions: impl IntoIterator<Item = (String, String)>) {
        self.keyed.lock().expect("action log lock").extend(actions);
        self.requests
            .lock()
            .expect("action log lock")
            .push(operation.to_string());
    }
}

/// `USER#demo#alice` -> `USER#`: the part a LeadingKeys pattern names.
pub fn key_prefix(pk: &str) -> String {
    match pk.find('#') {
        Some(i) => pk[..=i].to_string(),
        None => pk.to_string(),
    }
}

type Attrs = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

fn pk_of(m: &Attrs) -> String {
    m.get(super::keys::PK)
        .and_then(|v| v.as_s().ok())
        .map(|s| key_prefix(s))
        .unwrap_or_else(|| "?".into())
}

/// The partition key prefixes one request touches.
fn prefixes(operation: &str, input: &BeforeSerializationInterceptorContextRef<'_>) -> Vec<String> {
    use aws_sdk_dynamodb::operation::{
        batch_get_item::BatchGetItemInput, batch_write_item::BatchWriteItemInput,
        delete_item::DeleteItemInput, get_item::GetItemInput, put_item::PutItemInput,
        query::QueryInput, update_item::UpdateItemInput,
    };
    let i = input.input();
    let one = |m: Option<&Attrs>| m.map(pk_of).into_iter().collect::<Vec<_>>();
    match operation {
        "GetItem" => one(i.downcast_ref::<GetItemInput>().and_then(|x| x.key())),
        "PutItem" => one(i.downcast_ref::<PutItemInput>().and_then(|x| x.item())),
        "UpdateItem" => one(i.downcast_ref::<UpdateItemInput>().and_then(|x| x.key())),
        "DeleteItem" => one(i.downcast_ref::<DeleteItemInput>().and_then(|x| x.key())),
        "Query" => i
            .downcast_ref::<QueryInput>()
            .and_then(|q| q.expression_attribute_values())
            .and_then(|v| v.get(":pk"))
            .and_then(|v| v.as_s().ok())
            .map(|s| vec![key_prefix(s)])
            .unwrap_or_else(|| vec!["?".into()]),
        "BatchGetItem" => i
            .downcast_ref::<BatchGetItemInput>()
            .and_then(|b| b.request_items())
            .into_iter()
            .flat_map(|r| r.values())
            .flat_map(|ka| ka.keys().iter().map(pk_of))
            .collect(),
        "BatchWriteItem" => i
            .downcast_ref::<BatchWriteItemInput>()
            .and_then(|b| b.request_items())
            .into_iter()
            .flat_map(|r| r.values())
            .flatten()
            .map(|w| {
                w.put_request()
                    .map(|p| pk_of(p.item()))
                    .or_else(|| w.delete_request().map(|d| pk_of(d.key())))
                    .unwrap_or_else(|| "?".into())
            })
            .collect(),
        _ => vec!["?".into()],
    }
}

/// The IAM actions one request needs. Most operations are their own action;
/// a transaction is authorised per item (IAM has no `TransactWriteItems` or
/// `TransactGetItems` action: a Put inside one needs `PutItem`, a
/// ConditionCheck `ConditionCheckItem`, a Get `GetItem`).
fn iam_actions(
    operation: &str,
    input: &BeforeSerializationInterceptorContextRef<'_>,
) -> Vec<(String, String)> {
    let action = |name: &str| format!("dynamodb:{name}");
    match operation {
        "TransactWriteItems" => {
            let Some(tx) = input.input().downcast_ref::<TransactWriteItemsInput>() else {
                return vec![(action("TransactWriteItems?"), "?".into())];
            };
            tx.transact_items()
                .iter()
                .flat_map(|item| {
                    [
                        item.put().map(|p| ("PutItem", pk_of(p.item()))),
                        item.update().map(|u| ("UpdateItem", pk_of(u.key()))),
                        item.delete().map(|d| ("DeleteItem", pk_of(d.key()))),
                        item.condition_check()
                            .map(|c| ("ConditionCheckItem", pk_of(c.key()))),
                    ]
                })
                .flatten()
                .map(|(a, p)| (action(a), p))
                .collect()
        }
        "TransactGetItems" => match input.input().downcast_ref::<TransactGetItemsInput>() {
            Some(tx) => tx
                .transact_items()
                .iter()
                .filter_map(|g| g.get().map(|g| (action("GetItem"), pk_of(g.key()))))
                .collect(),
            None => vec![(action("TransactGetItems?"), "?".into())],
        },
        other => prefixes(other, input)
            .into_iter()
            .map(|p| (action(other), p))
            .collect(),
    }
}

impl Intercept for ActionLog {
    fn name(&self) -> &'static str {
        "ActionLog"
    }

    // Not `read_before_execution`: for a client's own interceptors that runs
    // before the operation's configuration (its Metadata) is in the bag.
    // Serialization happens once per request, retries or not.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "UnnamedOperation".to_string());
        self.record(&operation, iam_actions(&operation, context));
        Ok(())
    }
}
