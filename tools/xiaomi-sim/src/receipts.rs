//! Receipts (VENDORS_API.md §1.8): one entry per target and receipt type,
//! POSTed as `data=<json>` (or raw JSON) keyed by message id. The rules are
//! in lib.rs, "Receipts".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Map, Value};
use sim_kit::{Receipt, ReceiptBody, ReceiptFormat, ReceiptGroup};

/// At most this many targets in one entry of one receipt POST; more go in
/// further POSTs (Xiaomi's own batch size is undocumented).
pub const MAX_RECEIPT_TARGETS: usize = 100;

/// One receipt waiting for the next flush: one target, one type.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingReceipt {
    /// The message's `extra.callback`.
    pub url: String,
    pub msg_id: String,
    /// The receipt type: one bit of §1.8 (1 delivered, 2 clicked, 16 invalid
    /// target, 32, 64, 128 daily cap, 1024 TTL expired), or any number sent
    /// on command.
    #[serde(rename = "type")]
    pub receipt_type: u32,
    /// `extra.callback.param` as sent, `""` when none was.
    pub param: String,
    /// `extra.jobkey` as sent, `""` when none was.
    pub jobkey: String,
    /// `Enable` (types 1, 2) or `Unknown`.
    pub bar_status: String,
    /// The simulator's clock when it was queued, ms.
    pub timestamp: i64,
    pub reg_id: String,
    /// Further fields of the entry (type 128: `{"ack":..,"quota":..}`).
    pub extra: Option<Value>,
}

impl Receipt for PendingReceipt {
    fn url(&self) -> &str {
        &self.url
    }

    fn target(&self) -> &str {
        &self.reg_id
    }

    /// One entry per message and type (and extra fields).
    fn group(&self) -> String {
        let extra = self
            .extra
            .as_ref()
            .map(Value::to_string)
            .unwrap_or_default();
        format!("{}\n{}\n{extra}", self.msg_id, self.receipt_type)
    }

    /// The body is keyed by message id: two types of one message never
    /// share a POST.
    fn body_key(&self) -> String {
        self.msg_id.clone()
    }
}

/// The receipt format (the kit's `ReceiptFormat`): form `data=<json>` or raw
/// JSON, as [`crate::Settings::receipt_body`] says when the POST is made.
pub struct XiaomiReceipts {
    pub(crate) json: Arc<AtomicBool>,
}

impl ReceiptFormat for XiaomiReceipts {
    type Receipt = PendingReceipt;

    fn max_targets(&self) -> usize {
        MAX_RECEIPT_TARGETS
    }

    fn render(&self, groups: &[ReceiptGroup<'_, PendingReceipt>]) -> ReceiptBody {
        let mut data = Map::new();
        for group in groups {
            let first = group.first;
            let mut entry = json!({
                "param": first.param,
                "type": first.receipt_type,
                "targets": group.targets.join(","),
                "jobkey": first.jobkey,
                "barStatus": first.bar_status,
                "timestamp": first.timestamp,
            });
            if let Some(extra) = &first.extra {
                entry["extra"] = extra.clone();
            }
            data.insert(first.msg_id.clone(), entry);
        }
        let data = Value::Object(data);
        if self.json.load(Ordering::SeqCst) {
            ReceiptBody::json(data)
        } else {
            ReceiptBody::form(&[("data", &data.to_string())])
        }
    }
}
