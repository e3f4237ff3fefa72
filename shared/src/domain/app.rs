//! Apps (tenants) and their settings.

use super::certificate::Secret;
use super::ids::AppId;
use crate::error::ServiceError;

pub const DEFAULT_MAX_DEVICES_PER_USER: u32 = 1;
pub const MAX_MAX_DEVICES_PER_USER: u32 = 10;
pub const DEFAULT_BINDING_TTL_DAYS: u32 = 30;
pub const MAX_BINDING_TTL_DAYS: u32 = 365;
/// The highest per-app push rate limit an app or a deployment can set
/// (pushes a second; 0 is "no limit").
pub const MAX_PUSH_RATE_LIMIT: u32 = 100_000;

#[derive(Clone, Debug)]
pub struct App {
    pub id: AppId,
    /// HS256 key for this app's JWTs (at least 32 random bytes).
    pub signing_secret: Secret,
    pub settings: AppSettings,
    pub created_at: time::OffsetDateTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppSettings {
    pub max_devices_per_user: u32,
    /// None: the deployment's default (`DEFAULT_BINDING_TTL_DAYS`).
    pub binding_ttl_days: Option<u32>,
    /// Pushes a second this app may start across the stack (`Some(0)`: no
    /// limit); None: the deployment's `APP_PUSH_RATE_LIMIT`. See
    /// [`crate::ratelimit`].
    pub push_rate_limit: Option<u32>,
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            max_devices_per_user: DEFAULT_MAX_DEVICES_PER_USER,
            binding_ttl_days: None,
            push_rate_limit: None,
        }
    }
}

impl AppSettings {
    /// The TTL in force: the app's own, else the deployment's default.
    pub fn ttl_days(&self, deployment_default: u32) -> u32 {
        self.binding_ttl_days.unwrap_or(deployment_default)
    }

    /// The push rate limit in force (0: none): the app's own, else the
    /// deployment's.
    pub fn push_rate_limit(&self, deployment_default: u32) -> u32 {
        self.push_rate_limit.unwrap_or(deployment_default)
    }

    pub fn check_push_rate_limit(n: u32) -> Result<u32, ServiceError> {
        if n <= MAX_PUSH_RATE_LIMIT {
            Ok(n)
        } else {
            Err(ServiceError::invalid(
                "push_rate_limit",
                format!("must be 0 (no limit) to {MAX_PUSH_RATE_LIMIT}"),
            ))
        }
    }

    pub fn check_max_devices(n: u32) -> Result<u32, ServiceError> {
        if (1..=MAX_MAX_DEVICES_PER_USER).contains(&n) {
            Ok(n)
        } else {
            Err(ServiceError::invalid(
                "max_devices_per_user",
                format!("must be 1 to {MAX_MAX_DEVICES_PER_USER}"),
            ))
        }
    }

    pub fn check_ttl_days(n: u32) -> Result<u32, ServiceError> {
        if (1..=MAX_BINDING_TTL_DAYS).contains(&n) {
            Ok(n)
        } else {
            Err(ServiceError::invalid(
                "binding_ttl_days",
                format!("must be 1 to {MAX_BINDING_TTL_DAYS}"),
            ))
        }
    }
}
