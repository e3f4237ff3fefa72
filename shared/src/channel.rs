//! The vendor port. Push dispatch plans who gets a push (grouping by
//! certificate, single or list calls, chunks) and hands one certificate's
//! targets, their chunks, the message and the deadline to the certificate's
//! [`PushChannel`]; it gets back one [`Delivery`] per target, in order. A
//! delivery whose status is `token_invalid` is the vendor's verdict that the
//! token is dead. Everything vendor-specific (auth, sessions, codes, quotas)
//! stays behind this trait, in the vendor's module (`vivo`).

use crate::domain::{Category, PushRequest};
use crate::domain::{Certificate, ClickAction, Delivery, DeviceId, PushToken, UserId};
use crate::ServiceError;
use futures::future::BoxFuture;
use std::time::Instant;
use tokio::sync::Semaphore;

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
    /// and the push reference the receipt comes back with.
    pub receipt: Option<ReceiptRequest<'a>>,
}

/// What a message carries so that the vendor reports its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptRequest<'a> {
    pub receipt_id: &'a str,
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
    /// `param` comes back in every receipt (see `crate::receipts`).
    pub fn with_receipt(mut self, cert: &'a Certificate, param: &'a str) -> Self {
        self.receipt = cert.receipt.as_ref().map(|r| ReceiptRequest {
            receipt_id: &r.receipt_id,
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

/// One certificate's share of a push, handed to its channel.
pub struct Send<'a> {
    pub cert: &'a Certificate,
    pub message: &'a Message<'a>,
    pub targets: &'a [Target],
    /// How the targets split into calls, in order (see [`chunk_sizes`]):
    /// chunks of 1 are single sends, larger ones list sends that share one
    /// stored message body.
    pub chunks: &'a [usize],
    /// No vendor call starts after it; calls in flight end by it.
    pub deadline: Instant,
    /// Vendor calls in flight for the whole push, across certificates.
    pub limit: &'a Semaphore,
}

/// What a channel answers for a call group, besides the deliveries.
#[derive(Debug, Default)]
pub struct SendReport {
    /// One per target, in the order given.
    pub deliveries: Vec<Delivery>,
    /// Vendor HTTP calls made (auth included), for logs and benchmarks.
    pub calls: usize,
}

pub trait PushChannel: std::marker::Send + Sync {
    /// How this channel batches `message` through `cert`.
    fn batching(&self, cert: &Certificate, message: &Message<'_>) -> Batching;

    /// Sends one certificate's share of a push before its deadline.
    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport>;

    /// Checks a certificate's credentials with the vendor now (upload).
    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>>;
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
