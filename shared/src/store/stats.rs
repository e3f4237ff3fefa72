//! Daily statistics: per app and UTC day one row for the whole app
//! (`{date}#ALL`) and one per certificate a push went through
//! (`{date}#C{cert}`), counters changed only by atomic ADDs. A push adds
//! one row per certificate it used plus the app's row, in the same
//! transaction as its record; a receipt adds its newly delivered devices.

use super::item::{get_s, n, s, Item};
use super::keys as k;
use super::{Store, StoreError};
use crate::domain::{AppId, CertificateId};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use std::collections::BTreeMap;

/// The counters, in the order `GET /v1/stats` shows them.
pub const COUNTERS: [&str; 9] = [
    "pushes",
    "recipients",
    "sent",
    "delivered",
    "no_device",
    "token_invalid",
    "throttled",
    "rejected",
    "failed",
];

/// How long a statistics row is kept (epoch-seconds TTL from its last
/// change): long enough for a year-on-year look.
pub const STATS_RETENTION_SECS: i64 = 400 * 86_400;

/// Counter increments for one row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsAdd {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// None: the app's row for the day.
    pub cert: Option<CertificateId>,
    /// Counter name (one of [`COUNTERS`]) -> increment; zeros are left out.
    pub counts: BTreeMap<&'static str, u64>,
}

impl StatsAdd {
    pub fn new(date: &str, cert: Option<CertificateId>) -> Self {
        StatsAdd {
            date: date.to_string(),
            cert,
            counts: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, counter: &'static str, by: u64) {
        debug_assert!(COUNTERS.contains(&counter), "{counter}");
        if by > 0 {
            *self.counts.entry(counter).or_default() += by;
        }
    }
}

/// One day's counters as read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DayCounts {
    pub date: String,
    pub counts: BTreeMap<&'static str, u64>,
}

pub use crate::domain::utc_date;

impl Store {
    pub(crate) fn stats_update(
        &self,
        app: &AppId,
        add: &StatsAdd,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut u = Update::builder()
            .table_name(&self.table)
            .key(k::PK, s(k::stats_pk(app)))
            .key(k::SK, s(k::stats_sk(&add.date, add.cert)))
            .expression_attribute_names("#exp", k::EXPIRES_AT)
            .expression_attribute_values(":exp", n(now_secs() + STATS_RETENTION_SECS));
        let mut adds = Vec::new();
        for (i, (name, by)) in add.counts.iter().enumerate() {
            adds.push(format!("#c{i} :c{i}"));
            u = u
                .expression_attribute_names(format!("#c{i}"), *name)
                .expression_attribute_values(format!(":c{i}"), n(by));
        }
        let expr = if adds.is_empty() {
            "SET #exp = :exp".to_string()
        } else {
            format!("SET #exp = :exp ADD {}", adds.join(", "))
        };
        let u = u
            .update_expression(expr)
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(u).build())
    }

    /// Adds to several rows at once (one transaction per 100 rows).
    pub async fn add_stats(&self, app: &AppId, adds: &[StatsAdd]) -> Result<(), StoreError> {
        for chunk in adds.chunks(super::bindings::TRANSACT_MAX) {
            let items = chunk
                .iter()
                .map(|a| self.stats_update(app, a))
                .collect::<Result<Vec<_>, _>>()?;
            self.transact(items, "TransactWriteItems statistics")
                .await?;
        }
        Ok(())
    }

    /// Days `from..=to` (`YYYY-MM-DD`, at most a few dozen), each with its
    /// counters: the app's rows, or one certificate's. Days without pushes
    /// are present with zeros.
    pub async fn read_stats(
        &self,
        app: &AppId,
        days: &[String],
        cert: Option<CertificateId>,
    ) -> Result<Vec<DayCounts>, StoreError> {
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Ok(Vec::new());
        };
        let wanted_suffix = match cert {
            None => "#ALL".to_string(),
            Some(c) => format!("#C{:016}", c.get()),
        };
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .expression_attribute_names("#pk", k::PK)
            .expression_attribute_names("#sk", k::SK)
            .expression_attribute_values(":pk", s(k::stats_pk(app)))
            .expression_attribute_values(":from", s(format!("{first}#")))
            .expression_attribute_values(":to", s(format!("{last}#~")));
        let mut rows: BTreeMap<String, Item> = BTreeMap::new();
        for item in self.query_all(query, "Query statistics").await? {
            let date = get_s(&item, k::SK)?
                .strip_suffix(wanted_suffix.as_str())
                .map(str::to_string);
            if let Some(date) = date {
                rows.insert(date, item);
            }
        }
        Ok(days
            .iter()
            .map(|date| {
                let mut counts = BTreeMap::new();
                for name in COUNTERS {
                    let v = rows
                        .get(date)
                        .and_then(|item| item.get(name))
                        .and_then(|v| match v {
                            AttributeValue::N(x) => x.parse().ok(),
                            _ => None,
                        })
                        .unwrap_or(0u64);
                    counts.insert(name, v);
                }
                DayCounts {
                    date: date.clone(),
                    counts,
                }
            })
            .collect())
    }
}

fn now_secs() -> i64 {
    crate::clock::now_ms() / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_increments_are_left_out() {
        let mut a = StatsAdd::new("2026-12-01", None);
        a.add("sent", 0);
        a.add("sent", 2);
        a.add("failed", 0);
        assert_eq!(a.counts.into_iter().collect::<Vec<_>>(), [("sent", 2)]);
    }
}
