//! Receipts (VENDORS_API.md §3.6): one entry per token and status, POSTed as
//! `{"statuses":[{biTag, appid, token, status, timestamp, requestId}]}` to
//! the app's receipt address. The rules are in lib.rs, "Receipts".

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use sim_kit::{Receipt, ReceiptBody, ReceiptFormat, ReceiptGroup};

/// One receipt waiting for the next flush: one token, one status.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingReceipt {
    /// The app's receipt address when the receipt was queued.
    pub url: String,
    pub app_id: String,
    pub request_id: String,
    /// `android.biTag` of the message, if it had one.
    pub bi_tag: Option<String>,
    pub status: i64,
    /// The simulator's clock when it was queued, ms.
    pub timestamp: i64,
    pub token: String,
}

impl Receipt for PendingReceipt {
    fn url(&self) -> &str {
        &self.url
    }

    fn target(&self) -> &str {
        &self.token
    }

    /// One group per message, status and queueing instant.
    fn group(&self) -> String {
        format!("{}\n{}\n{}", self.request_id, self.status, self.timestamp)
    }
}

/// The receipt format (the kit's `ReceiptFormat`): a JSON `statuses` list.
pub struct HonorReceipts {
    pub(crate) max: Arc<AtomicUsize>,
}

impl ReceiptFormat for HonorReceipts {
    type Receipt = PendingReceipt;

    fn max_targets(&self) -> usize {
        self.max.load(Ordering::SeqCst).max(1)
    }

    fn render(&self, groups: &[ReceiptGroup<'_, PendingReceipt>]) -> ReceiptBody {
        let mut statuses = Vec::new();
        for group in groups {
            let first = group.first;
            for token in group.targets {
                let mut status = json!({
                    "appid": first.app_id,
                    "token": token,
                    "status": first.status,
                    "timestamp": first.timestamp,
                    "requestId": first.request_id,
                });
                if let Some(bi_tag) = &first.bi_tag {
                    status["biTag"] = Value::from(bi_tag.as_str());
                }
                statuses.push(status);
            }
        }
        ReceiptBody::json(json!({ "statuses": statuses }))
    }
}
