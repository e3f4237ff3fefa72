//! The per-app push rate limit's counters (`RATE#{app}`, one item per
//! second): see [`crate::ratelimit`].

use super::item::{conditional, key, n};
use super::keys as k;
use super::{Store, StoreError};
use crate::domain::AppId;

/// A window's counter outlives its second by this much (TTL).
const RATE_ITEM_TTL_SECS: i64 = 120;

impl Store {
    /// Leases `count` (1..=limit) admissions of the app's second `second`:
    /// false when the second's total would pass `limit` (nothing written).
    pub async fn lease_push_admissions(
        &self,
        app: &AppId,
        second: i64,
        count: u64,
        limit: u32,
    ) -> Result<bool, StoreError> {
        let room = u64::from(limit).saturating_sub(count);
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(k::rate_pk(app), &second.to_string())))
            .update_expression("ADD #a :n SET #exp = :exp")
            // Protects: a second never admits more than the limit.
            .condition_expression("attribute_not_exists(#a) OR #a <= :room")
            .expression_attribute_names("#a", k::RATE_ADMITTED)
            .expression_attribute_names("#exp", k::EXPIRES_AT)
            .expression_attribute_values(":n", n(count))
            .expression_attribute_values(":room", n(room))
            .expression_attribute_values(":exp", n(second + RATE_ITEM_TTL_SECS))
            .send()
            .await;
        conditional(res, "UpdateItem push rate lease")
    }
}
