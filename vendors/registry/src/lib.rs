//! The one place naming every vendor: which adapter serves which platform,
//! and the variable that moves its host. Functions that push or verify
//! build their vendors here once per cold start ([`from_env`]); tests and
//! local runs point the hosts at the simulators ([`Registry::new`]).
//!
//! Adding a vendor: its crate, and one line in [`ENTRIES`].

use offpush::config::{base_url, var, Config, ConfigError};
use offpush::domain::Platform;
use offpush::store::Store;
use offpush::vendor::{Vendor, Vendors};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A vendor as the registry knows it.
pub struct Entry {
    pub platform: Platform,
    /// `<VENDOR>_API_BASE_URL`: overrides the vendor's production host(s).
    pub base_url_var: &'static str,
    /// The production host (for vendors with regional hosts, the default
    /// region's; the certificate's region picks among them unless the
    /// variable overrides them all).
    pub default_base_url: &'static str,
    /// Builds the adapter; `base_url` is None when the variable is unset.
    pub make: fn(Store, Option<&str>, Duration) -> Box<dyn Vendor>,
}

/// Every implemented vendor, in API.md's order.
pub const ENTRIES: &[Entry] = &[
    Entry {
        platform: Platform::Vivo,
        base_url_var: offpush_vivo::BASE_URL_VAR,
        default_base_url: offpush_vivo::DEFAULT_BASE_URL,
        make: |store, url, timeout| {
            Box::new(offpush_vivo::Vivo::new(
                store,
                url.unwrap_or(offpush_vivo::DEFAULT_BASE_URL),
                timeout,
            ))
        },
    },
    Entry {
        platform: Platform::Xiaomi,
        base_url_var: offpush_xiaomi::BASE_URL_VAR,
        default_base_url: offpush_xiaomi::DEFAULT_BASE_URL,
        make: |store, url, timeout| Box::new(offpush_xiaomi::Xiaomi::new(store, url, timeout)),
    },
    Entry {
        platform: Platform::Oppo,
        base_url_var: offpush_oppo::BASE_URL_VAR,
        default_base_url: offpush_oppo::DEFAULT_BASE_URL,
        make: |store, url, timeout| Box::new(offpush_oppo::Oppo::new(store, url, timeout)),
    },
    Entry {
        platform: Platform::Honor,
        base_url_var: offpush_honor::BASE_URL_VAR,
        default_base_url: offpush_honor::DEFAULT_BASE_URL,
        make: |store, url, timeout| Box::new(offpush_honor::Honor::new(store, url, timeout)),
    },
    Entry {
        platform: Platform::Huawei,
        base_url_var: offpush_huawei::BASE_URL_VAR,
        default_base_url: offpush_huawei::DEFAULT_BASE_URL,
        make: |store, url, timeout| Box::new(offpush_huawei::Huawei::new(store, url, timeout)),
    },
    Entry {
        platform: Platform::Meizu,
        base_url_var: offpush_meizu::BASE_URL_VAR,
        default_base_url: offpush_meizu::DEFAULT_BASE_URL,
        make: |store, url, timeout| Box::new(offpush_meizu::Meizu::new(store, url, timeout)),
    },
];

/// The registry's settings: per-call timeout, and base URLs that override
/// vendors' production hosts.
#[derive(Clone, Debug, Default)]
pub struct RegistryConfig {
    pub timeout: Duration,
    pub base_urls: BTreeMap<Platform, String>,
}

impl RegistryConfig {
    /// Every vendor pointed at the same host (a test's simulator).
    pub fn all_at(url: &str, timeout: Duration) -> Self {
        RegistryConfig {
            timeout,
            base_urls: ENTRIES
                .iter()
                .map(|e| (e.platform, url.to_string()))
                .collect(),
        }
    }

    /// The variables each vendor's entry names; the timeout from `config`.
    pub fn from_env(config: &Config) -> Result<Self, ConfigError> {
        let mut base_urls = BTreeMap::new();
        for e in ENTRIES {
            if var(e.base_url_var).is_some() {
                base_urls.insert(e.platform, base_url(e.base_url_var, e.default_base_url)?);
            }
        }
        Ok(RegistryConfig {
            timeout: config.vendor_timeout,
            base_urls,
        })
    }

    pub fn with(mut self, platform: Platform, url: &str) -> Self {
        self.base_urls.insert(platform, url.to_string());
        self
    }
}

/// One adapter per implemented platform.
pub struct Registry {
    vendors: Vec<Box<dyn Vendor>>,
}

impl Registry {
    pub fn new(store: &Store, config: &RegistryConfig) -> Self {
        Registry {
            vendors: ENTRIES
                .iter()
                .map(|e| {
                    (e.make)(
                        store.clone(),
                        config.base_urls.get(&e.platform).map(String::as_str),
                        config.timeout,
                    )
                })
                .collect(),
        }
    }

    /// The host a platform's calls go to when the certificate picks none.
    pub fn base_url(config: &RegistryConfig, platform: Platform) -> Option<String> {
        let e = ENTRIES.iter().find(|e| e.platform == platform)?;
        Some(
            config
                .base_urls
                .get(&platform)
                .cloned()
                .unwrap_or_else(|| e.default_base_url.to_string()),
        )
    }
}

impl Vendors for Registry {
    fn get(&self, platform: Platform) -> Option<&dyn Vendor> {
        self.vendors
            .iter()
            .find(|v| v.platform() == platform)
            .map(|v| v.as_ref())
    }

    fn platforms(&self) -> Vec<Platform> {
        self.vendors.iter().map(|v| v.platform()).collect()
    }
}

/// For `offpush::http::serve`: the vendors of a function that pushes or
/// verifies, from the environment.
pub fn from_env(store: &Store, config: &Config) -> Result<Arc<dyn Vendors>, ConfigError> {
    Ok(Arc::new(Registry::new(
        store,
        &RegistryConfig::from_env(config)?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::push::{MAX_DESC_CHARS, MAX_EXT_BYTES, MAX_RECIPIENTS, MAX_TITLE_CHARS};

    async fn registry() -> Registry {
        let store = Store::for_endpoint("http://127.0.0.1:9", "us-east-1", "t").await;
        Registry::new(
            &store,
            &RegistryConfig::all_at("http://127.0.0.1:9", Duration::from_secs(1)),
        )
    }

    #[tokio::test]
    async fn every_entry_is_one_platform_served_by_its_adapter() {
        let r = registry().await;
        let mut seen = std::collections::BTreeSet::new();
        for e in ENTRIES {
            assert!(seen.insert(e.platform), "{} twice", e.platform);
            assert_eq!(r.get(e.platform).map(|v| v.platform()), Some(e.platform));
            assert!(e.base_url_var.ends_with("_API_BASE_URL"));
            assert!(e.default_base_url.starts_with("https://"));
        }
        assert_eq!(
            r.platforms(),
            ENTRIES.iter().map(|e| e.platform).collect::<Vec<_>>()
        );
        let order: Vec<Platform> = Platform::ALL
            .into_iter()
            .filter(|p| seen.contains(p))
            .collect();
        assert_eq!(r.platforms(), order, "API.md's order");
    }

    #[tokio::test]
    async fn the_products_limits_fit_every_channel() {
        let r = registry().await;
        for p in r.platforms() {
            let l = r.get(p).unwrap().limits();
            assert!(MAX_TITLE_CHARS <= l.title_chars, "{p}: title");
            assert!(MAX_DESC_CHARS <= l.desc_chars, "{p}: desc");
            assert!(MAX_EXT_BYTES <= l.ext_bytes, "{p}: ext");
            assert!(
                l.targets_per_call >= 1 && l.targets_per_call <= MAX_RECIPIENTS,
                "{p}"
            );
        }
    }
}
