//! What a warm function instance holds between requests: the store, the
//! vendors it pushes through or verifies with (with their token caches),
//! and the push limits.

use crate::config::Config;
use crate::domain::Platform;
use crate::ratelimit::PushRateLimiter;
use crate::store::Store;
use crate::vendor::{Vendor, Vendors};
use crate::ServiceError;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Context {
    pub store: Store,
    /// The registry's vendors (none in functions that neither push nor verify).
    pub vendors: Arc<dyn Vendors>,
    pub push_deadline: Duration,
    pub push_concurrency: usize,
    pub default_binding_ttl_days: u32,
    /// Push records, push log entries and kept receipts live this long.
    pub record_retention_secs: i64,
    /// Pushes a second per app for apps that set no limit of their own (0: none).
    pub app_push_rate_limit: u32,
    /// This instance's share of the per-app push rate limits.
    pub push_rate: Arc<PushRateLimiter>,
}

impl Context {
    pub fn new(store: Store, config: &Config, vendors: Arc<dyn Vendors>) -> Self {
        Context {
            vendors,
            store,
            push_deadline: config.push_deadline,
            push_concurrency: config.push_concurrency,
            default_binding_ttl_days: config.default_binding_ttl_days,
            record_retention_secs: i64::from(config.record_retention_days) * 86_400,
            app_push_rate_limit: config.app_push_rate_limit,
            push_rate: Arc::new(PushRateLimiter::new()),
        }
    }

    /// The vendor that serves `platform`. A stored certificate of a
    /// platform this build does not serve is an internal error: the API
    /// refuses such platforms at upload.
    pub fn vendor(&self, platform: Platform) -> Result<&dyn Vendor, ServiceError> {
        self.vendors.get(platform).ok_or_else(|| {
            ServiceError::internal(
                "vendor lookup",
                format!("no vendor for platform {platform} in this function"),
            )
        })
    }
}
