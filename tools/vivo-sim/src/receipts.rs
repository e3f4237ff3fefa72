//! Delivery receipts (VIVO_API.md §1.8): receipt URLs as registered in vivo's
//! console, the receipt entry of one delivered target, and vivo's legacy POST
//! shape. The kit's engine queues, batches and sends them (the rules are in
//! lib.rs, "Delivery receipts").

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Map, Value};
use sim_kit::{Receipt, ReceiptBody, ReceiptEngine, ReceiptFormat, ReceiptGroup};

use crate::Inner;

/// At most this many regIds under one taskId in one receipt POST; more are
/// split over further POSTs (vivo's own batch size is undocumented).
pub const MAX_RECEIPT_TARGETS: usize = 100;

/// The longest `extra["callback.id"]` (and registered receipt id) accepted.
/// vivo documents no limit for the receipt id; 64 matches the other ids it
/// bounds (`requestId`, the older `callback.param`), and console receipt ids
/// are short numbers.
pub const MAX_RECEIPT_ID_CHARS: usize = 64;

/// A receipt URL registered for an app, as in vivo's console ("APP回执地址").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReceiptUrl {
    pub app_id: u64,
    pub receipt_id: String,
    pub url: String,
}

/// One delivered target waiting for the next flush.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingReceipt {
    /// Where it goes: the registered URL of `callback.id`, or the legacy
    /// `callback` URL.
    pub url: String,
    pub app_id: u64,
    pub task_id: String,
    /// `extra["callback.param"]` as sent, `""` when none was.
    pub param: String,
    pub reg_id: String,
}

impl Receipt for PendingReceipt {
    fn url(&self) -> &str {
        &self.url
    }

    fn target(&self) -> &str {
        &self.reg_id
    }

    /// One entry per taskId (its `param` is the same for every target).
    fn group(&self) -> String {
        self.task_id.clone()
    }
}

/// vivo's legacy shape: `{"<taskId>":{"param":"..","targets":"r1,r2"},..}`,
/// at most [`MAX_RECEIPT_TARGETS`] targets per taskId per POST.
pub(crate) struct VivoReceipts;

impl ReceiptFormat for VivoReceipts {
    type Receipt = PendingReceipt;

    fn max_targets(&self) -> usize {
        MAX_RECEIPT_TARGETS
    }

    fn render(&self, groups: &[ReceiptGroup<'_, PendingReceipt>]) -> ReceiptBody {
        let mut body = Map::new();
        for group in groups {
            body.insert(
                group.first.task_id.clone(),
                json!({ "param": group.first.param, "targets": group.targets.join(",") }),
            );
        }
        ReceiptBody::json(Value::Object(body))
    }
}

/// A receipt registration or setting the simulator refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidReceipt(String);

impl fmt::Display for InvalidReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidReceipt {}

/// A receipt id as the console would issue it: non-empty, at most
/// [`MAX_RECEIPT_ID_CHARS`].
pub(crate) fn check_receipt_id(receipt_id: &str) -> Result<(), InvalidReceipt> {
    if receipt_id.is_empty() || receipt_id.chars().count() > MAX_RECEIPT_ID_CHARS {
        return Err(InvalidReceipt(format!(
            "receipt_id must be 1..={MAX_RECEIPT_ID_CHARS} characters"
        )));
    }
    Ok(())
}

/// An absolute `http://` or `https://` URL with a host.
pub(crate) fn check_url(url: &str) -> Result<(), InvalidReceipt> {
    match reqwest::Url::parse(url) {
        Ok(parsed)
            if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() =>
        {
            Ok(())
        }
        _ => Err(InvalidReceipt(
            "url must be an absolute http:// or https:// URL".to_owned(),
        )),
    }
}

/// The receipt URLs registered per app and receipt id (inside [`Inner`]).
#[derive(Default)]
pub(crate) struct ReceiptUrls(BTreeMap<(u64, String), String>);

impl ReceiptUrls {
    pub(crate) fn set(&mut self, app_id: u64, receipt_id: &str, url: Option<&str>) {
        let key = (app_id, receipt_id.to_owned());
        match url {
            Some(url) => self.0.insert(key, url.to_owned()),
            None => self.0.remove(&key),
        };
    }

    pub(crate) fn list(&self) -> Vec<ReceiptUrl> {
        self.0
            .iter()
            .map(|((app_id, receipt_id), url)| ReceiptUrl {
                app_id: *app_id,
                receipt_id: receipt_id.clone(),
                url: url.clone(),
            })
            .collect()
    }

    fn get(&self, app_id: u64, receipt_id: &str) -> Option<&String> {
        self.0.get(&(app_id, receipt_id.to_owned()))
    }
}

impl Inner {
    /// Queues the receipt of one delivered target, if its message asked for
    /// one: `extra["callback.id"]` registered for the app (it wins over
    /// `callback`), else, when `legacy` allows it (a formal single push), the
    /// `extra.callback` URL.
    pub(crate) fn queue_receipt(
        &self,
        receipts: &ReceiptEngine<VivoReceipts>,
        app_id: u64,
        message: &Map<String, Value>,
        task_id: &str,
        reg_id: &str,
        legacy: bool,
    ) {
        let Some(extra) = message.get("extra").and_then(Value::as_object) else {
            return;
        };
        let text = |field: &str| {
            extra
                .get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let url = match (text("callback.id"), text("callback")) {
            (Some(id), _) => self.receipt_urls.get(app_id, id).cloned(),
            (None, Some(callback)) if legacy => Some(callback.to_owned()),
            (None, _) => None,
        };
        let Some(url) = url else {
            return;
        };
        receipts.queue(PendingReceipt {
            url,
            app_id,
            task_id: task_id.to_owned(),
            param: text("callback.param").unwrap_or("").to_owned(),
            reg_id: reg_id.to_owned(),
        });
    }
}
