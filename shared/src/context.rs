//! What a warm function instance holds between requests: the store, the
//! vendor channels (with their auth-token caches) and the push limits.

use crate::channel::PushChannel;
use crate::config::Config;
use crate::domain::Certificate;
use crate::store::Store;
use crate::vivo::Vivo;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub vivo: Arc<Vivo>,
    pub push_deadline: Duration,
    pub push_concurrency: usize,
    pub default_binding_ttl_days: u32,
    /// Push records, push log entries and kept receipts live this long.
    pub record_retention_secs: i64,
}

impl Context {
    pub fn new(store: Store, config: &Config) -> Self {
        Context {
            vivo: Arc::new(Vivo::new(
                store.clone(),
                &config.vivo_base_url,
                config.vivo_timeout,
            )),
            store,
            push_deadline: config.push_deadline,
            push_concurrency: config.push_concurrency,
            default_binding_ttl_days: config.default_binding_ttl_days,
            record_retention_secs: i64::from(config.record_retention_days) * 86_400,
        }
    }

    /// Reads the store settings from the standard AWS environment.
    pub async fn from_config(config: &Config) -> Self {
        Context::new(Store::from_env(config.table_name.clone()).await, config)
    }

    /// The channel that serves a certificate's platform.
    pub fn channel(&self, _cert: &Certificate) -> &dyn PushChannel {
        // vivo is the only platform so far; a certificate's platform picks
        // the channel once there are more (see the README's "Adding a vendor").
        self.vivo.as_ref()
    }
}
