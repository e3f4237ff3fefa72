//! Receipts (VENDORS_API.md §2.7): one entry per target and event, POSTed as
//! a JSON array of events. The rules are in lib.rs, "Receipts".

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use sim_kit::{Receipt, ReceiptBody, ReceiptFormat, ReceiptGroup};

/// The most registration ids one receipt item may carry
/// ([`crate::Settings::receipt_targets`] at most this).
pub const MAX_RECEIPT_TARGETS: usize = 1000;

/// Registration ids per receipt item unless set otherwise (OPPO's own batch
/// size is undocumented).
pub const DEFAULT_RECEIPT_TARGETS: usize = 100;

/// One receipt waiting for the next flush: one target, one event.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingReceipt {
    /// The message's `call_back_url`.
    pub url: String,
    /// The unicast `messageId`, or the stored body's `message_id`.
    pub message_id: String,
    pub app_id: String,
    /// The broadcast `task_id`; the message id for unicasts.
    pub task_id: String,
    /// `call_back_parameter` as sent, `""` when none was.
    pub param: String,
    /// `push_arrive`, `regid_invalid`, `user_daily_limit`, or any text sent
    /// on command.
    pub event_type: String,
    /// The simulator's clock when it was queued, ms.
    pub event_time: i64,
    pub registration_id: String,
}

impl Receipt for PendingReceipt {
    fn url(&self) -> &str {
        &self.url
    }

    fn target(&self) -> &str {
        &self.registration_id
    }

    /// One item per message, task, event and time.
    fn group(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.message_id, self.task_id, self.event_type, self.event_time
        )
    }
}

/// The receipt format (the kit's `ReceiptFormat`): a JSON array of items.
pub struct OppoReceipts {
    pub(crate) targets: Arc<AtomicUsize>,
}

impl ReceiptFormat for OppoReceipts {
    type Receipt = PendingReceipt;

    fn max_targets(&self) -> usize {
        self.targets.load(Ordering::SeqCst).max(1)
    }

    fn render(&self, groups: &[ReceiptGroup<'_, PendingReceipt>]) -> ReceiptBody {
        let items: Vec<Value> = groups
            .iter()
            .map(|group| {
                let first = group.first;
                json!({
                    "messageId": first.message_id,
                    "appId": first.app_id,
                    "taskId": first.task_id,
                    "registrationIds": group.targets.join(","),
                    "eventTime": first.event_time,
                    "param": first.param,
                    "eventType": first.event_type,
                })
            })
            .collect();
        ReceiptBody::json(Value::Array(items))
    }
}
