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

/// The set of IAM actions (`dynamodb:GetItem`, ...) the requests sent
/// through a recording store needed. Clones share the set.
#[derive(Clone, Debug, Default)]
pub struct ActionLog(Arc<Mutex<BTreeSet<String>>>);

impl ActionLog {
    pub fn new() -> Self {
        ActionLog::default()
    }

    /// Every action recorded so far.
    pub fn actions(&self) -> BTreeSet<String> {
        self.0.lock().expect("action log lock").clone()
    }

    /// Forgets what was recorded (e.g. after a test's own setup).
    pub fn clear(&self) {
        self.0.lock().expect("action log lock").clear();
    }

    fn record(&self, actions: impl IntoIterator<Item = String>) {
        self.0.lock().expect("action log lock").extend(actions);
    }
}

/// The IAM actions one request needs. Most operations are their own action;
/// a transaction is authorised per item (IAM has no `TransactWriteItems` or
/// `TransactGetItems` action: a Put inside one needs `PutItem`, a
/// ConditionCheck `ConditionCheckItem`, a Get `GetItem`).
fn iam_actions(
    operation: &str,
    input: &BeforeSerializationInterceptorContextRef<'_>,
) -> Vec<String> {
    let action = |name: &str| format!("dynamodb:{name}");
    match operation {
        "TransactWriteItems" => {
            let Some(tx) = input.input().downcast_ref::<TransactWriteItemsInput>() else {
                return vec![action("TransactWriteItems?")];
            };
            tx.transact_items()
                .iter()
                .flat_map(|item| {
                    [
                        item.put().map(|_| "PutItem"),
                        item.update().map(|_| "UpdateItem"),
                        item.delete().map(|_| "DeleteItem"),
                        item.condition_check().map(|_| "ConditionCheckItem"),
                    ]
                })
                .flatten()
                .map(action)
                .collect()
        }
        "TransactGetItems" => match input.input().downcast_ref::<TransactGetItemsInput>() {
            Some(tx) if !tx.transact_items().is_empty() => vec![action("GetItem")],
            Some(_) => Vec::new(),
            None => vec![action("TransactGetItems?")],
        },
        other => vec![action(other)],
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
        self.record(iam_actions(&operation, context));
        Ok(())
    }
}
