//! The vendor port: what every push service's adapter does for the
//! product. Certificate upload hands it the vendor's part of a certificate
//! to parse, mask and verify; push dispatch plans who gets a push (grouping
//! by certificate, single or list calls, chunks) and hands one
//! certificate's targets, their chunks, the message and the push's call
//! [`Budget`] to the certificate's [`Vendor`], getting back one [`Delivery`]
//! per target, in order (a `token_invalid` delivery is the vendor's verdict
//! that the token is dead); the receipt route hands it the vendor's
//! receipt bodies. Everything vendor-specific (credentials, auth, message
//! mapping, codes, quotas, receipts) stays behind this trait, in the
//! vendor's crate (`vendors/<platform>`).

use super::kit::Budget;
use crate::domain::input::Obj;
use crate::domain::{Category, Platform, PushRequest, VendorData};
use crate::domain::{Certificate, ClickAction, Delivery, DeviceId, PushToken, UserId};
use crate::ServiceError;
use futures::future::BoxFuture;
use serde_json::Value;

/// One device to reach.
#[derive(Clone, Debug)]
pub struct Target {
    pub user: UserId,
    pub device_id: Option<DeviceId>,
    pub token: PushToken,
}

/// What one push says, with the certificate's defaults applied.
pub struct Message<'a> {
    /// Stable across retries and takeovers of the same push (the app and
    /// the push's request id): vendors that take a request id derive theirs
    /// from it, so a repeated call can be recognised.
    pub push_key: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    pub ext: Option<&'a str>,
    pub category: Category,
    pub ttl_seconds: u32,
    pub click: &'a ClickAction,
    pub notify_id: Option<u32>,
    /// Delivery receipts asked for: the certificate's vendor receipt ID
    /// (console-registered receipts) or receipt URL (receipts the message
    /// carries), and the push reference the receipt comes back with.
    pub receipt: Option<ReceiptRequest<'a>>,
}

/// What a message carries so that the vendor reports its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptRequest<'a> {
    /// The vendor console's receipt ID, for vendors that register receipt
    /// addresses there.
    pub receipt_id: Option<&'a str>,
    /// The receipt URL, for vendors whose messages carry it; None when the
    /// URL is not known (the secret is never stored, see
    /// [`crate::domain::ReceiptSecret`]): the push then goes without it.
    pub url: Option<&'a str>,
    /// The push reference every receipt brings back
    /// ([`crate::domain::receipt::receipt_param`]).
    pub param: &'a str,
}

impl<'a> Message<'a> {
    /// The push as it goes through `cert`: its click action and category
    /// unless the push overrides them.
    pub fn new(push_key: &'a str, req: &'a PushRequest, cert: &'a Certificate) -> Self {
        Message {
            push_key,
            title: req
                .title
                .as_deref()
                .or(cert.default_title.as_deref())
                .unwrap_or(crate::domain::push::DEFAULT_TITLE),
            desc: &req.desc,
            ext: req.ext.as_deref(),
            category: req.category.unwrap_or(cert.category),
            ttl_seconds: req.ttl_seconds,
            click: req.click_action.as_ref().unwrap_or(&cert.click_action),
            notify_id: req.notify_id,
            receipt: None,
        }
    }

    /// Asks for delivery receipts when the certificate has them on;
    /// `param` comes back in every receipt (see `crate::domain::receipt`),
    /// `url` is where vendors whose messages carry it post them.
    pub fn with_receipt(
        mut self,
        cert: &'a Certificate,
        url: Option<&'a str>,
        param: &'a str,
    ) -> Self {
        self.receipt = cert.receipt.as_ref().map(|r| ReceiptRequest {
            receipt_id: r.receipt_id.as_deref(),
            url,
            param,
        });
        self
    }
}

/// How a vendor takes one message to many targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batching {
    /// Fewest targets of a list call (below it: one call per target).
    pub min_list: usize,
    /// Most targets of one call; 1: every target is a call of its own.
    pub max_list: usize,
}

/// The targets of a receipt entry (`"r1, r2,,r3"`: comma-joined, blanks
/// skipped), at most [`crate::domain::receipt::MAX_RECEIPT_TARGETS`]; more
/// is 400 naming `{entry}.targets`.
pub fn receipt_targets(entry: &str, joined: &str) -> Result<Vec<String>, ServiceError> {
    use crate::domain::receipt::MAX_RECEIPT_TARGETS;
    let targets: Vec<String> = joined
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    if targets.len() > MAX_RECEIPT_TARGETS {
        return Err(ServiceError::invalid(
            format!("{entry}.targets"),
            format!("at most {MAX_RECEIPT_TARGETS} targets per entry"),
        ));
    }
    Ok(targets)
}

/// One certificate's share of a push, handed to its channel.
pub struct Send<'a> {
    pub cert: &'a Certificate,
    pub message: &'a Message<'a>,
    pub targets: &'a [Target],
    /// How the targets split into calls, in order (see [`chunk_sizes`]):
    /// chunks of 1 are single sends, larger ones list sends that share one
    /// stored message body.
    pub chunks: &'a [usize],
    /// The push's deadline and its bound on vendor calls in flight, across
    /// certificates: no call starts after the deadline, calls in flight end
    /// by it.
    pub budget: &'a Budget,
}

/// What a channel answers for a call group, besides the deliveries.
#[derive(Debug, Default)]
pub struct SendReport {
    /// One per target, in the order given.
    pub deliveries: Vec<Delivery>,
    /// Vendor HTTP calls made (auth included), for logs and benchmarks.
    pub calls: usize,
}

/// The message limits a channel takes: the product's (API.md: title 40,
/// desc 100 characters, ext 1024 bytes) must fit every channel's, so that
/// nothing the API accepts is cut or refused by a vendor for its length
/// (tested over the registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most title characters (Unicode scalar values) the vendor takes.
    pub title_chars: usize,
    /// Most body characters.
    pub desc_chars: usize,
    /// Most bytes of `ext` as the adapter carries it.
    pub ext_bytes: usize,
    /// Most targets the adapter puts in one call.
    pub targets_per_call: usize,
    /// Most calls one certificate's share of a push has in flight at once,
    /// sized to the vendor's documented rate per app (the push's own bound,
    /// `PUSH_CONCURRENCY`, applies across all its certificates too).
    pub in_flight: usize,
}

/// Where a vendor's delivery receipts go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiptStyle {
    /// The vendor posts receipts to an address registered in its console
    /// under a receipt ID, which each message names (`receipt_id`).
    Console,
    /// Each message carries the receipt address itself (`receipts: true`).
    PerMessage,
    /// The vendor has no delivery receipts.
    None,
}

/// What a receipt says happened to the targets it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptEvent {
    /// Shown on the device (or at least delivered to it).
    Delivered,
    /// The vendor's verdict that the token is dead: its binding ends.
    TokenDead,
    /// Anything else the vendor reports (clicked, filtered, capped): kept
    /// in the push's record as this word, counted nowhere.
    Other(String),
}

/// One entry of a receipt body: the push reference it brings back, what
/// happened, and to which vendor tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptItem {
    /// The `param` the message carried (None when the entry has none).
    pub param: Option<String>,
    pub event: ReceiptEvent,
    pub targets: Vec<String>,
}

/// A receipt body taken apart by its vendor's adapter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiptBatch {
    pub items: Vec<ReceiptItem>,
    /// Entries the adapter could not read (kept raw by the route).
    pub unreadable: usize,
}

/// One push service, as the product uses it. Each vendor's crate
/// implements it; the registry holds one per platform.
pub trait Vendor: std::marker::Send + Sync {
    fn platform(&self) -> Platform;

    /// The limits of the vendor's messages, as this adapter sends them.
    fn limits(&self) -> Limits;

    fn receipt_style(&self) -> ReceiptStyle;

    /// The longest receipt URL the vendor's messages may carry (vendors of
    /// [`ReceiptStyle::PerMessage`]); None: no limit, or not carried.
    fn max_receipt_url(&self) -> Option<usize> {
        None
    }

    /// Parses the `credentials` object of a create or edit body. On an
    /// edit, `stored` holds the stored credentials, whose secrets an edit
    /// may omit to keep them. Errors name the field (`credentials.x`).
    fn parse_credentials(
        &self,
        raw: Obj,
        stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError>;

    /// Parses `vendor_options` (None: absent). The default takes none.
    fn parse_options(
        &self,
        raw: Option<Obj>,
        _stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        if let Some(raw) = raw {
            raw.deny_unknown(&[])?;
        }
        Ok(VendorData::new())
    }

    /// Refuses what the vendor cannot carry for this certificate (a click
    /// action it has no form for, a URL scheme it refuses): 400 naming the
    /// field. Checked at upload and for a push's own click action.
    fn check_click(&self, _click: &ClickAction, _field: &str) -> Result<(), ServiceError> {
        Ok(())
    }

    /// Whether the vendor has a test mode for `push_mode: test` (API.md:
    /// vivo test push, Huawei and Honor test messages, HarmonyOS
    /// testMessage, APNs sandbox, FCM validate_only). A certificate in test
    /// mode for a vendor without one is 400 `push_mode` at upload.
    fn has_test_mode(&self) -> bool {
        true
    }

    /// The credentials as answers show them: secrets masked.
    fn view_credentials(&self, credentials: &VendorData) -> Value;

    /// The options as answers show them (None: no options); secrets masked.
    fn view_options(&self, options: &VendorData) -> Option<Value> {
        (!options.is_empty()).then(|| {
            Value::Object(
                options
                    .iter()
                    .map(|(k, v)| {
                        let v = match v {
                            crate::domain::Attr::S(s) => Value::from(s.as_str()),
                            crate::domain::Attr::N(n) => Value::from(*n),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            )
        })
    }

    /// A certificate's name when the body gives none.
    fn default_name(&self, credentials: &VendorData) -> String;

    /// The vendor account a certificate's calls belong to (its quotas,
    /// tokens and pauses), as the table partition of its state; None when
    /// the credentials cannot be read.
    fn account(&self, cert: &Certificate) -> Option<String>;

    /// How this channel batches `message` through `cert`.
    fn batching(&self, cert: &Certificate, message: &Message<'_>) -> Batching;

    /// Sends one certificate's share of a push within its budget.
    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport>;

    /// Checks a certificate's credentials with the vendor now (upload):
    /// refused ones are 422 `invalid_credentials` naming the field.
    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>>;

    /// Checks that a receipt posted to `cert`'s receipt URL comes from the
    /// vendor, for vendors that sign their receipts (Huawei's
    /// `X-HUAWEI-CALLBACK-ID`), before anything is read from it: `header`
    /// gives the request's headers by (lower-case) name, `now_ms` the time
    /// a signature's freshness is judged by. Refused: 401
    /// `unauthenticated`, and the receipt changes nothing. The default
    /// takes every receipt (the URL's secret authenticates the vendor).
    fn authenticate_receipt(
        &self,
        _cert: &Certificate,
        _header: &dyn Fn(&str) -> Option<String>,
        _now_ms: i64,
    ) -> Result<(), ServiceError> {
        Ok(())
    }

    /// Takes a receipt body apart (`content_type`: the request's header).
    /// Not a body of this vendor: 400.
    fn parse_receipt(
        &self,
        _body: &[u8],
        _content_type: Option<&str>,
    ) -> Result<ReceiptBatch, ServiceError> {
        Err(ServiceError::invalid_body(format!(
            "{} sends no delivery receipts",
            self.platform()
        )))
    }

    /// Lifts an account's pauses in this instance (the admin tool lifts
    /// the table's).
    fn forget_pauses<'a>(&'a self, _account: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// The vendors a function holds, by platform: the registry.
pub trait Vendors: std::marker::Send + Sync {
    fn get(&self, platform: Platform) -> Option<&dyn Vendor>;
    /// The implemented platforms, in API.md's order.
    fn platforms(&self) -> Vec<Platform>;
}

/// No vendor at all: for functions that neither push nor verify.
pub struct NoVendors;

impl Vendors for NoVendors {
    fn get(&self, _platform: Platform) -> Option<&dyn Vendor> {
        None
    }
    fn platforms(&self) -> Vec<Platform> {
        Vec::new()
    }
}

/// Splits `n` targets into the fewest chunks of at most `b.max_list`,
/// sized evenly; with fewer than `b.min_list` targets (or a channel that
/// takes one target per call), one chunk per target.
pub fn chunk_sizes(n: usize, b: Batching) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    if n < b.min_list.max(2) || b.max_list <= 1 {
        return vec![1; n];
    }
    let chunks = n.div_ceil(b.max_list);
    let base = n / chunks;
    let extra = n % chunks;
    (0..chunks).map(|i| base + usize::from(i < extra)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIVO_LIKE: Batching = Batching {
        min_list: 2,
        max_list: 1000,
    };

    #[test]
    fn chunks_are_even_within_the_limits() {
        assert_eq!(chunk_sizes(0, VIVO_LIKE), Vec::<usize>::new());
        assert_eq!(chunk_sizes(1, VIVO_LIKE), [1]);
        assert_eq!(chunk_sizes(2, VIVO_LIKE), [2]);
        assert_eq!(chunk_sizes(1000, VIVO_LIKE), [1000]);
        assert_eq!(chunk_sizes(1001, VIVO_LIKE), [501, 500]);
        assert_eq!(chunk_sizes(2500, VIVO_LIKE), [834, 833, 833]);
        let big = chunk_sizes(10_000, VIVO_LIKE);
        assert_eq!(big.len(), 10);
        assert!(big.iter().all(|s| (2..=1000).contains(s)));
        assert_eq!(big.iter().sum::<usize>(), 10_000);
    }

    #[test]
    fn single_target_channels_get_one_chunk_per_target() {
        let single = Batching {
            min_list: 2,
            max_list: 1,
        };
        assert_eq!(chunk_sizes(3, single), [1, 1, 1]);
    }
}
