//! Receipts (VENDORS_API.md §15.6): one entry per target and receipt type,
//! POSTed as `cb=<json>&access_token=..` (or the raw JSON), `cb` keyed by
//! `"<msgId>-<type>"`. The rules are in lib.rs, "Receipts".

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Map, Value};
use sim_kit::{Receipt, ReceiptBody, ReceiptFormat, ReceiptGroup};

/// One receipt waiting for the next flush: one target, one type.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingReceipt {
    /// The message's `extra.callback`.
    pub url: String,
    pub msg_id: String,
    /// 1 delivered, 2 clicked, or any number sent on command.
    #[serde(rename = "type")]
    pub receipt_type: u32,
    /// `extra["callback.param"]` as sent, `""` when none was.
    pub param: String,
    /// The app's `access_token`.
    pub access_token: String,
    pub push_id: String,
}

impl PendingReceipt {
    /// The key of its entry in `cb`.
    pub fn cb_key(&self) -> String {
        format!("{}-{}", self.msg_id, self.receipt_type)
    }
}

impl Receipt for PendingReceipt {
    fn url(&self) -> &str {
        &self.url
    }

    fn target(&self) -> &str {
        &self.push_id
    }

    /// One `cb` entry per message and type; the token is part of the group
    /// so that one POST never mixes two apps' tokens under one key.
    fn group(&self) -> String {
        format!("{}\n{}\n{}", self.cb_key(), self.param, self.access_token)
    }

    fn body_key(&self) -> String {
        self.cb_key()
    }
}

/// The receipt format (the kit's `ReceiptFormat`), reading
/// [`crate::Settings::receipt_body`] and
/// [`crate::Settings::receipt_max_targets`] when a POST is made.
pub struct MeizuReceipts {
    pub(crate) json: Arc<AtomicBool>,
    pub(crate) max_targets: Arc<AtomicUsize>,
}

impl ReceiptFormat for MeizuReceipts {
    type Receipt = PendingReceipt;

    fn max_targets(&self) -> usize {
        self.max_targets.load(Ordering::SeqCst).max(1)
    }

    /// `access_token` is the first group's (one URL belongs to one app's
    /// console, so all of a POST's groups share it).
    fn render(&self, groups: &[ReceiptGroup<'_, PendingReceipt>]) -> ReceiptBody {
        let mut cb = Map::new();
        for group in groups {
            let first = group.first;
            cb.insert(
                first.cb_key(),
                json!({
                    "param": first.param,
                    "type": first.receipt_type,
                    "targets": group.targets,
                }),
            );
        }
        let cb = Value::Object(cb);
        if self.json.load(Ordering::SeqCst) {
            ReceiptBody::json(cb)
        } else {
            let token = groups
                .first()
                .map(|group| group.first.access_token.as_str())
                .unwrap_or("");
            ReceiptBody::form(&[("cb", &cb.to_string()), ("access_token", token)])
        }
    }
}
