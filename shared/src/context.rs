//! What a warm function instance holds between requests: the store, the
//! vivo client (with its authToken cache) and the push limits.

use crate::config::Config;
use crate::store::Store;
use crate::vivo::VivoClient;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub vivo: Arc<VivoClient>,
    pub push_deadline: Duration,
    pub push_concurrency: usize,
    pub default_binding_ttl_days: u32,
}

impl Context {
    pub fn new(store: Store, config: &Config) -> Self {
        Context {
            store,
            vivo: Arc::new(VivoClient::new(&config.vivo_base_url, config.vivo_timeout)),
            push_deadline: config.push_deadline,
            push_concurrency: config.push_concurrency,
            default_binding_ttl_days: config.default_binding_ttl_days,
        }
    }

    /// Reads the store settings from the standard AWS environment.
    pub async fn from_config(config: &Config) -> Self {
        Context::new(Store::from_env(config.table_name.clone()).await, config)
    }
}
