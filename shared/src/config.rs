//! Typed configuration, read once per cold start from the environment that
//! template.yaml sets. Handlers never read the environment.

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    /// `TABLE_NAME`: the DynamoDB table.
    pub table_name: String,
    /// `VENDOR_TIMEOUT_MS` (formerly `VIVO_TIMEOUT_MS`, still read):
    /// per-call timeout towards every vendor (default 5000). Each vendor's
    /// host comes from its own `<VENDOR>_API_BASE_URL`, read by the
    /// registry (`vendors/registry`).
    pub vendor_timeout: Duration,
    /// `PUSH_DEADLINE_MS`: how long one push request may spend on vendors
    /// in total, retries included (default 20000; API Gateway gives up at 29 s).
    pub push_deadline: Duration,
    /// `PUSH_CONCURRENCY`: vendor calls in flight per push request, across
    /// its certificates (default 64, 1-64); each vendor bounds its own share
    /// further (`vendor::Limits::in_flight`).
    pub push_concurrency: usize,
    /// `DEFAULT_BINDING_TTL_DAYS`: binding lifetime for apps that set none
    /// of their own (default 30, 1-365).
    pub default_binding_ttl_days: u32,
    /// `PUSH_RECORD_RETENTION_DAYS`: how long push records, push log
    /// entries and kept receipts live (default 7, 1-31).
    pub record_retention_days: u32,
    /// `APP_PUSH_RATE_LIMIT`: pushes a second an app may start across the
    /// stack unless it sets its own limit (default 0: no limit; at most
    /// `domain::app::MAX_PUSH_RATE_LIMIT`). See `ratelimit`.
    pub app_push_rate_limit: u32,
}

pub const DEFAULT_RECORD_RETENTION_DAYS: u32 = 7;
/// Binding endings and certificate tombstones are remembered this long,
/// so every record within the retention can be explained.
pub const MAX_RECORD_RETENTION_DAYS: u32 = 31;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// An environment variable, None when unset or blank.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn num<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("{name} must be a number"))),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        let table_name =
            var("TABLE_NAME").ok_or_else(|| ConfigError("TABLE_NAME is not set".into()))?;
        let push_concurrency: usize = num("PUSH_CONCURRENCY", 64)?;
        let default_binding_ttl_days: u32 = num(
            "DEFAULT_BINDING_TTL_DAYS",
            crate::domain::app::DEFAULT_BINDING_TTL_DAYS,
        )?;
        crate::domain::AppSettings::check_ttl_days(default_binding_ttl_days)
            .map_err(|_| ConfigError("DEFAULT_BINDING_TTL_DAYS must be 1 to 365".into()))?;
        let record_retention_days: u32 =
            num("PUSH_RECORD_RETENTION_DAYS", DEFAULT_RECORD_RETENTION_DAYS)?;
        if !(1..=MAX_RECORD_RETENTION_DAYS).contains(&record_retention_days) {
            return Err(ConfigError(format!(
                "PUSH_RECORD_RETENTION_DAYS must be 1 to {MAX_RECORD_RETENTION_DAYS}"
            )));
        }
        let app_push_rate_limit: u32 = num("APP_PUSH_RATE_LIMIT", 0)?;
        crate::domain::AppSettings::check_push_rate_limit(app_push_rate_limit).map_err(|_| {
            ConfigError(format!(
                "APP_PUSH_RATE_LIMIT must be 0 to {}",
                crate::domain::app::MAX_PUSH_RATE_LIMIT
            ))
        })?;
        Ok(Config {
            app_push_rate_limit,
            record_retention_days,
            default_binding_ttl_days,
            table_name,
            vendor_timeout: Duration::from_millis(match var("VENDOR_TIMEOUT_MS") {
                Some(_) => num("VENDOR_TIMEOUT_MS", 5000)?,
                None => num("VIVO_TIMEOUT_MS", 5000)?,
            }),
            push_deadline: Duration::from_millis(num("PUSH_DEADLINE_MS", 20_000)?),
            push_concurrency: push_concurrency.clamp(1, 64),
        })
    }
}

/// A vendor's base URL: `name` (e.g. `XIAOMI_API_BASE_URL`) when set, else
/// `default` (the vendor's production host); an http(s) URL either way.
pub fn base_url(name: &str, default: &str) -> Result<String, ConfigError> {
    let url = var(name).unwrap_or_else(|| default.to_string());
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(ConfigError(format!("{name} must be an http(s) URL")));
    }
    Ok(url)
}

pub use crate::logs::init_tracing;
