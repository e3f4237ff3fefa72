//! Daily statistics, write-sharded: per app and UTC day, [`STATS_SHARDS`]
//! rows (`{date}#S{nn}`), each holding the app's counters under their own
//! names and each certificate's as `c{id}_{counter}`. A push (or a
//! receipt) adds to ONE row it picks at random, in the same exact-once
//! transaction as its record (or its delivered marks): no row is hot (at
//! 1000 pushes/s per app a row takes 1000 / 32 transactional writes per
//! second, about 62 write units, against DynamoDB's 1000 per item), and
//! two concurrent pushes rarely touch the same row (a conflict is retried
//! on another). Reads sum the day's rows, with the unsharded rows of
//! earlier versions (`{date}#ALL`, `{date}#C{cert}`).

use super::item::{get_s, n, s};
use super::keys as k;
use super::{Store, StoreError};
use crate::domain::{AppId, CertificateId};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use std::collections::BTreeMap;

/// Statistics rows per app and day (see the module's docs).
pub const STATS_SHARDS: u32 = 32;

/// A random statistics row.
pub fn random_shard() -> u32 {
    rand::random::<u32>() % STATS_SHARDS
}

/// The attribute of `counter` in a sharded row: the app's under its own
/// name, a certificate's prefixed by it.
fn shard_attr(cert: Option<CertificateId>, counter: &str) -> String {
    match cert {
        None => counter.to_string(),
        Some(c) => format!("c{}_{counter}", c.get()),
    }
}

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
    /// The write adding `adds` (all of one day) to row `shard`: one
    /// item, whatever the certificates.
    pub(crate) fn stats_shard_update(
        &self,
        app: &AppId,
        adds: &[StatsAdd],
        shard: u32,
    ) -> Result<TransactWriteItem, StoreError> {
        let date = adds.first().map(|a| a.date.as_str()).unwrap_or_default();
        debug_assert!(adds.iter().all(|a| a.date == date), "one day per row");
        let mut u = Update::builder()
            .table_name(&self.table)
            .key(k::PK, s(k::stats_pk(app)))
            .key(k::SK, s(k::stats_shard_sk(date, shard)))
            .expression_attribute_names("#exp", k::EXPIRES_AT)
            .expression_attribute_values(":exp", n(now_secs() + STATS_RETENTION_SECS));
        let mut clauses = Vec::new();
        let mut totals: BTreeMap<String, u64> = BTreeMap::new();
        for add in adds {
            for (name, by) in &add.counts {
                *totals.entry(shard_attr(add.cert, name)).or_default() += by;
            }
        }
        for (i, (name, by)) in totals.into_iter().enumerate() {
            clauses.push(format!("#c{i} :c{i}"));
            u = u
                .expression_attribute_names(format!("#c{i}"), name)
                .expression_attribute_values(format!(":c{i}"), n(by));
        }
        let expr = if clauses.is_empty() {
            "SET #exp = :exp".to_string()
        } else {
            format!("SET #exp = :exp ADD {}", clauses.join(", "))
        };
        let u = u
            .update_expression(expr)
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(u).build())
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
        let legacy_suffix = match cert {
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
        let mut sums: BTreeMap<String, BTreeMap<&'static str, u64>> = BTreeMap::new();
        for item in self.query_all(query, "Query statistics").await? {
            let sk = get_s(&item, k::SK)?;
            let Some((date, row)) = sk.split_once('#') else {
                continue;
            };
            let sharded = row.starts_with('S');
            if !sharded && format!("#{row}") != legacy_suffix {
                continue;
            }
            let day = sums.entry(date.to_string()).or_default();
            for name in COUNTERS {
                let attr = if sharded {
                    shard_attr(cert, name)
                } else {
                    name.to_string()
                };
                if let Some(AttributeValue::N(x)) = item.get(&attr) {
                    *day.entry(name).or_default() += x.parse::<u64>().unwrap_or(0);
                }
            }
        }
        Ok(days
            .iter()
            .map(|date| {
                let row = sums.get(date);
                let counts = COUNTERS
                    .iter()
                    .map(|name| (*name, row.and_then(|r| r.get(name)).copied().unwrap_or(0)))
                    .collect();
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
