//! The push log: what each push told each of its users, kept for the
//! retention period and read newest first.
//!
//! A push whose log fits in one BatchWriteItem (up to 25 users) writes one
//! small item per user (`LOG#{ms}#{ref}` under the user's partition), in
//! plain writes beside its completion. A larger push spreads its log
//! over [`LOG_BUCKETS`] bucket items (`LOGS#{app}#{bucket}`, same sort
//! key), each a map of the users hashed to that bucket to their lines:
//! one BatchWriteItem for a push to 1000 users instead of 40. A user's
//! log is both streams merged by sort key. A bucket whose item would pass
//! [`MAX_BUCKET_ITEM_BYTES`] (DynamoDB's items stop at 400 KB) writes its
//! users' items one by one instead, so no line is ever dropped.

use super::batch::BATCH_WRITE_MAX;
use super::item::{get_n, get_s, n, s, sdk_err, Item};
use super::keys as k;
use super::{Store, StoreError};
use crate::domain::{AppId, DeliveryOutcome, UserId};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// One push as one user's log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub request_id: String,
    pub push_ref: String,
    pub pushed_at_ms: i64,
    /// This user's lines of the push's report.
    pub outcomes: Vec<DeliveryOutcome>,
    /// Token refs of those lines (None for `no_device`).
    pub refs: Vec<Option<String>>,
}

#[derive(Serialize, Deserialize)]
struct Lines {
    o: Vec<DeliveryOutcome>,
    r: Vec<Option<String>>,
}

/// Most entries one read answers.
pub const MAX_LOG_PAGE: usize = 100;

/// Buckets a large push's log is spread over: as many as one BatchWriteItem
/// holds.
pub const LOG_BUCKETS: u32 = BATCH_WRITE_MAX as u32;

/// Largest bucket item written (estimated size); DynamoDB's limit is
/// 400 KB. 1000 users spread over 25 buckets make about 40 KB each.
pub const MAX_BUCKET_ITEM_BYTES: usize = 300_000;

/// Most 1 MB Query pages of the user's bucket one read evaluates: a user
/// named by few of many large pushes is answered in bounded time and
/// cost, with `next` to read on.
pub const MAX_BUCKET_PAGES: usize = 4;

/// The bucket of a user's lines in large pushes' logs: stable across
/// versions (SHA-256 of the user id, first 4 bytes, modulo the buckets).
pub fn log_bucket(user: &UserId) -> u32 {
    let d = Sha256::digest(user.as_str().as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % LOG_BUCKETS
}

/// A page cursor as the API shows it: `{ms}.{ref8}` (URL-safe), the sort
/// key of the last entry answered.
fn cursor_of(sk: &str) -> Option<String> {
    let rest = sk.strip_prefix(k::LOG_SK_PREFIX)?;
    let (ms, r) = rest.split_once('#')?;
    Some(format!("{ms}.{r}"))
}

/// The sort key a cursor stands for, if it is one this API handed out.
pub fn cursor_sk(c: &str) -> Option<String> {
    let (ms, r) = c.split_once('.')?;
    let ok = ms.len() == 13
        && ms.bytes().all(|b| b.is_ascii_digit())
        && r.len() == 8
        && r.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| format!("{}{ms}#{r}", k::LOG_SK_PREFIX))
}

/// Whether a cursor is one this API handed out.
pub fn valid_cursor(c: &str) -> bool {
    cursor_sk(c).is_some()
}

fn lines_json(e: &LogEntry) -> String {
    serde_json::to_string(&Lines {
        o: e.outcomes.clone(),
        r: e.refs.clone(),
    })
    .expect("lines serialize")
}

/// The item of one user's entry.
pub(crate) fn log_item(app: &AppId, user: &UserId, e: LogEntry, retention_secs: i64) -> Item {
    let lines = lines_json(&e);
    Item::from([
        (k::PK.to_string(), s(k::user_pk(app, user))),
        (k::SK.to_string(), s(k::log_sk(e.pushed_at_ms, &e.push_ref))),
        (k::PUSH_REQUEST_ID.to_string(), s(e.request_id)),
        (k::LOG_PUSH_REF.to_string(), s(e.push_ref)),
        (k::PUSH_AT.to_string(), n(e.pushed_at_ms)),
        (k::LOG_OUTCOMES.to_string(), s(lines)),
        (
            k::EXPIRES_AT.to_string(),
            n(e.pushed_at_ms / 1000 + retention_secs),
        ),
    ])
}

/// The items of one push's log entries (all of one push): one per user
/// when they fit in one BatchWriteItem, else one per bucket, with the
/// users of a bucket too large for one item written one by one.
pub(crate) fn log_items(
    app: &AppId,
    entries: Vec<(UserId, LogEntry)>,
    retention_secs: i64,
    max_bucket_bytes: usize,
) -> Vec<Item> {
    let Some((_, first)) = entries.first() else {
        return Vec::new();
    };
    if entries.len() <= BATCH_WRITE_MAX {
        return entries
            .into_iter()
            .map(|(user, e)| log_item(app, &user, e, retention_secs))
            .collect();
    }
    let head = [
        (k::SK, s(k::log_sk(first.pushed_at_ms, &first.push_ref))),
        (k::PUSH_REQUEST_ID, s(first.request_id.clone())),
        (k::LOG_PUSH_REF, s(first.push_ref.clone())),
        (k::PUSH_AT, n(first.pushed_at_ms)),
        (k::EXPIRES_AT, n(first.pushed_at_ms / 1000 + retention_secs)),
    ];
    let mut buckets: BTreeMap<u32, Vec<(UserId, LogEntry)>> = BTreeMap::new();
    for (user, e) in entries {
        buckets
            .entry(log_bucket(&user))
            .or_default()
            .push((user, e));
    }
    let mut items = Vec::new();
    for (bucket, members) in buckets {
        let pk = k::log_bucket_pk(app, bucket);
        let lines: HashMap<String, AttributeValue> = members
            .iter()
            .map(|(u, e)| (u.as_str().to_string(), s(lines_json(e))))
            .collect();
        // Attribute names and values, plus DynamoDB's few bytes per map
        // element and per attribute: an overestimate.
        let size = pk.len()
            + head
                .iter()
                .map(|(a, v)| a.len() + value_len(v) + 4)
                .sum::<usize>()
            + k::LOG_USERS.len()
            + lines
                .iter()
                .map(|(u, v)| u.len() + value_len(v) + 4)
                .sum::<usize>();
        if size > max_bucket_bytes {
            items.extend(
                members
                    .into_iter()
                    .map(|(user, e)| log_item(app, &user, e, retention_secs)),
            );
            continue;
        }
        let mut item: Item = head
            .iter()
            .map(|(a, v)| (a.to_string(), v.clone()))
            .collect();
        item.insert(k::PK.to_string(), s(pk));
        item.insert(k::LOG_USERS.to_string(), AttributeValue::M(lines));
        items.push(item);
    }
    items
}

fn value_len(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(x) | AttributeValue::N(x) => x.len(),
        _ => 0,
    }
}

/// One stream of a user's log as read: entries by sort key, newest first,
/// and the sort key above which it is complete when it stopped early.
struct Stream {
    entries: Vec<(String, LogEntry)>,
    stopped_at: Option<String>,
}

/// Where a stream stands after a page: read on from the key, or done
/// (stopped below a sort key when it has `limit` entries and may have
/// more; None: read to its end).
enum Step {
    More(Item),
    Done(Option<String>),
}

fn step(last: Option<Item>, have: usize, limit: usize) -> Result<Step, StoreError> {
    match last.filter(|key| !key.is_empty()) {
        Some(key) if have < limit => Ok(Step::More(key)),
        Some(key) => Ok(Step::Done(Some(get_s(&key, k::SK)?.to_string()))),
        None => Ok(Step::Done(None)),
    }
}

fn entry_of(item: &Item, lines: &str) -> Result<(String, LogEntry), StoreError> {
    let lines: Lines = serde_json::from_str(lines)
        .map_err(|e| StoreError::Corrupt(format!("push log entry: {e}")))?;
    Ok((
        get_s(item, k::SK)?.to_string(),
        LogEntry {
            request_id: get_s(item, k::PUSH_REQUEST_ID)?.to_string(),
            push_ref: get_s(item, k::LOG_PUSH_REF)?.to_string(),
            pushed_at_ms: get_n(item, k::PUSH_AT)?,
            outcomes: lines.o,
            refs: lines.r,
        },
    ))
}

/// Merges the two streams newest first: entries above the higher of their
/// stopping points (below it one stream has not been read), at most
/// `limit`; the sort key the next page starts below, when there may be
/// more.
fn merge(a: Stream, b: Stream, limit: usize) -> (Vec<LogEntry>, Option<String>) {
    let horizon = a.stopped_at.clone().max(b.stopped_at.clone());
    let mut all: Vec<(String, LogEntry)> = a
        .entries
        .into_iter()
        .chain(b.entries)
        .filter(|(sk, _)| horizon.as_ref().is_none_or(|h| sk >= h))
        .collect();
    all.sort_by(|x, y| y.0.cmp(&x.0));
    let next = if all.len() > limit {
        all.truncate(limit);
        all.last().map(|(sk, _)| sk.clone())
    } else {
        horizon
    };
    (all.into_iter().map(|(_, e)| e).collect(), next)
}

impl Store {
    /// Writes one push's log entries ([`log_items`]), 25 items per
    /// BatchWriteItem; answers the number of requests made.
    pub async fn put_push_log(
        &self,
        app: &AppId,
        entries: Vec<(UserId, LogEntry)>,
        retention_secs: i64,
        concurrency: usize,
    ) -> Result<usize, StoreError> {
        let items = log_items(app, entries, retention_secs, MAX_BUCKET_ITEM_BYTES);
        self.batch_put(items, concurrency).await
    }

    /// The user's entries, newest first, at most `limit`, older than the
    /// cursor `before` when given; the cursor of the next page when there
    /// may be more. Expired entries are skipped (DynamoDB deletes lazily).
    /// Two Queries at least: the user's own entries and the user's bucket
    /// of large pushes (at most [`MAX_BUCKET_PAGES`] pages of it).
    pub async fn read_push_log(
        &self,
        app: &AppId,
        user: &UserId,
        limit: usize,
        before: Option<&str>,
        now_secs: i64,
    ) -> Result<(Vec<LogEntry>, Option<String>), StoreError> {
        let limit = limit.clamp(1, MAX_LOG_PAGE);
        let before = before.and_then(cursor_sk);
        let (own, bucket) = futures::try_join!(
            self.read_own_log(app, user, limit, before.as_deref(), now_secs),
            self.read_bucket_log(app, user, limit, before.as_deref(), now_secs),
        )?;
        let (entries, next) = merge(own, bucket, limit);
        Ok((entries, next.as_deref().and_then(cursor_of)))
    }

    fn log_start(pk: String, before: Option<&str>) -> Option<Item> {
        before.map(|sk| {
            Item::from([
                (k::PK.to_string(), s(pk)),
                (k::SK.to_string(), s(sk.to_string())),
            ])
        })
    }

    async fn read_own_log(
        &self,
        app: &AppId,
        user: &UserId,
        limit: usize,
        before: Option<&str>,
        now_secs: i64,
    ) -> Result<Stream, StoreError> {
        let pk = k::user_pk(app, user);
        let mut out = Vec::new();
        let mut start = Self::log_start(pk.clone(), before);
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", k::PK)
                .expression_attribute_names("#sk", k::SK)
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(k::LOG_SK_PREFIX))
                .scan_index_forward(false)
                .limit((limit - out.len()) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err("Query push log"))?;
            for item in page.items() {
                if get_n::<i64>(item, k::EXPIRES_AT)? <= now_secs {
                    continue;
                }
                out.push(entry_of(item, get_s(item, k::LOG_OUTCOMES)?)?);
            }
            match step(page.last_evaluated_key, out.len(), limit)? {
                Step::More(key) => start = Some(key),
                Step::Done(stopped_at) => {
                    return Ok(Stream {
                        entries: out,
                        stopped_at,
                    })
                }
            }
        }
    }

    async fn read_bucket_log(
        &self,
        app: &AppId,
        user: &UserId,
        limit: usize,
        before: Option<&str>,
        now_secs: i64,
    ) -> Result<Stream, StoreError> {
        let pk = k::log_bucket_pk(app, log_bucket(user));
        let mut out = Vec::new();
        let mut start = Self::log_start(pk.clone(), before);
        for _ in 0..MAX_BUCKET_PAGES {
            // Only this user's lines come back (a projection of one map
            // key); items without them are filtered out by DynamoDB.
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .filter_expression("attribute_exists(#users.#user) AND #exp > :now")
                .projection_expression("#sk, #rid, #ref, #at, #users.#user")
                .expression_attribute_names("#pk", k::PK)
                .expression_attribute_names("#sk", k::SK)
                .expression_attribute_names("#users", k::LOG_USERS)
                .expression_attribute_names("#user", user.as_str())
                .expression_attribute_names("#exp", k::EXPIRES_AT)
                .expression_attribute_names("#rid", k::PUSH_REQUEST_ID)
                .expression_attribute_names("#ref", k::LOG_PUSH_REF)
                .expression_attribute_names("#at", k::PUSH_AT)
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(k::LOG_SK_PREFIX))
                .expression_attribute_values(":now", n(now_secs))
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err("Query push log bucket"))?;
            for item in page.items() {
                let lines = item
                    .get(k::LOG_USERS)
                    .and_then(|v| v.as_m().ok())
                    .and_then(|m| m.get(user.as_str()))
                    .and_then(|v| v.as_s().ok())
                    .ok_or_else(|| {
                        StoreError::Corrupt("push log bucket without the user".into())
                    })?;
                out.push(entry_of(item, lines)?);
            }
            match step(page.last_evaluated_key, out.len(), limit)? {
                Step::More(key) => start = Some(key),
                Step::Done(stopped_at) => {
                    return Ok(Stream {
                        entries: out,
                        stopped_at,
                    })
                }
            }
        }
        let stopped_at = start
            .as_ref()
            .map(|key| get_s(key, k::SK).map(str::to_string))
            .transpose()?;
        Ok(Stream {
            entries: out,
            stopped_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, at: i64, lines: usize) -> LogEntry {
        LogEntry {
            request_id: id.to_string(),
            push_ref: k::push_ref(id),
            pushed_at_ms: at,
            outcomes: (0..lines)
                .map(|i| DeliveryOutcome {
                    device_id: Some(format!("device-{i}")),
                    ..DeliveryOutcome::no_device(&UserId::parse("user_id", "someone").unwrap())
                })
                .collect(),
            refs: vec![None; lines],
        }
    }

    fn users(n: usize) -> Vec<UserId> {
        (0..n)
            .map(|i| UserId::parse("user_id", &format!("user-{i}")).unwrap())
            .collect()
    }

    fn logged_users(items: &[Item]) -> Vec<String> {
        let mut out = Vec::new();
        for item in items {
            let pk = get_s(item, k::PK).unwrap();
            if let Some(m) = item.get(k::LOG_USERS) {
                assert!(pk.starts_with("LOGS#app#"), "{pk}");
                out.extend(m.as_m().unwrap().keys().cloned());
            } else {
                out.push(pk.strip_prefix("USER#app#").unwrap().to_string());
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_large_push_logs_every_user_once_in_at_most_one_batch_of_buckets() {
        let app = AppId::parse("app_id", "app").unwrap();
        for n in [26, 98, 1000] {
            let us = users(n);
            let entries = us.iter().map(|u| (u.clone(), entry("big", 1, 2))).collect();
            let items = log_items(&app, entries, 60, MAX_BUCKET_ITEM_BYTES);
            assert!(items.len() <= BATCH_WRITE_MAX, "{n}: {} items", items.len());
            let mut want: Vec<String> = us.iter().map(|u| u.as_str().to_string()).collect();
            want.sort();
            assert_eq!(logged_users(&items), want, "{n}");
            for item in &items {
                assert_eq!(
                    get_s(item, k::SK).unwrap(),
                    k::log_sk(1, &k::push_ref("big"))
                );
                assert_eq!(get_n::<i64>(item, k::EXPIRES_AT).unwrap(), 60);
            }
        }
        // At most 25 users: one item each (one BatchWriteItem either way).
        let us = users(25);
        let entries = us
            .iter()
            .map(|u| (u.clone(), entry("small", 1, 1)))
            .collect();
        let items = log_items(&app, entries, 60, MAX_BUCKET_ITEM_BYTES);
        assert_eq!(items.len(), 25);
        assert!(items.iter().all(|i| !i.contains_key(k::LOG_USERS)));
    }

    #[test]
    fn a_bucket_too_large_for_one_item_logs_its_users_one_by_one() {
        let app = AppId::parse("app_id", "app").unwrap();
        let us = users(1000);
        // One user with a very long report (its bucket would pass the
        // limit), the rest with two lines each.
        let heavy = &us[123];
        let entries: Vec<(UserId, LogEntry)> = us
            .iter()
            .map(|u| {
                (
                    u.clone(),
                    entry("big", 1, if u == heavy { 6000 } else { 2 }),
                )
            })
            .collect();
        let items = log_items(&app, entries, 60, MAX_BUCKET_ITEM_BYTES);
        let buckets = items
            .iter()
            .filter(|i| i.contains_key(k::LOG_USERS))
            .count();
        let singles: Vec<&Item> = items
            .iter()
            .filter(|i| !i.contains_key(k::LOG_USERS))
            .collect();
        assert_eq!(buckets, LOG_BUCKETS as usize - 1);
        let heavy_bucket = us
            .iter()
            .filter(|u| log_bucket(u) == log_bucket(heavy))
            .count();
        assert_eq!(singles.len(), heavy_bucket);
        assert!(singles
            .iter()
            .any(|i| get_s(i, k::PK).unwrap() == k::user_pk(&app, heavy)));
        let mut want: Vec<String> = us.iter().map(|u| u.as_str().to_string()).collect();
        want.sort();
        assert_eq!(logged_users(&items), want);
    }

    #[test]
    fn buckets_are_stable_and_spread() {
        let us = users(1000);
        let mut counts = [0usize; LOG_BUCKETS as usize];
        for u in &us {
            counts[log_bucket(u) as usize] += 1;
        }
        // 40 each on average; none empty, none holding a quarter.
        assert!(counts.iter().all(|&c| c > 0 && c < 250), "{counts:?}");
        // Fixed by the hash: a change would orphan stored entries.
        // (Python: int.from_bytes(sha256(b"alice").digest()[:4], "big") % 25.)
        let bucket = |u: &str| log_bucket(&UserId::parse("user_id", u).unwrap());
        assert_eq!((bucket("alice"), bucket("bob")), (1, 12));
    }

    fn stream(sks: &[&str], stopped_at: Option<&str>) -> Stream {
        Stream {
            entries: sks
                .iter()
                .map(|sk| (sk.to_string(), entry(sk, 0, 0)))
                .collect(),
            stopped_at: stopped_at.map(str::to_string),
        }
    }

    fn ids(v: &[LogEntry]) -> Vec<&str> {
        v.iter().map(|e| e.request_id.as_str()).collect()
    }

    #[test]
    fn merging_keeps_order_and_stops_where_either_stream_stopped() {
        // Both complete: everything, newest first, no cursor.
        let (got, next) = merge(
            stream(&["9", "5", "1"], None),
            stream(&["7", "3"], None),
            10,
        );
        assert_eq!(ids(&got), ["9", "7", "5", "3", "1"]);
        assert_eq!(next, None);
        // The limit cuts: the cursor is the last answered.
        let (got, next) = merge(stream(&["9", "5", "1"], None), stream(&["7", "3"], None), 3);
        assert_eq!(ids(&got), ["9", "7", "5"]);
        assert_eq!(next.as_deref(), Some("5"));
        // One stream stopped at 6 (not read below it): nothing older than
        // 6 from the other is answered yet, and the next page starts at 6.
        let (got, next) = merge(
            stream(&["9", "5", "1"], None),
            stream(&["7"], Some("6")),
            10,
        );
        assert_eq!(ids(&got), ["9", "7"]);
        assert_eq!(next.as_deref(), Some("6"));
        // A stream stopped with no match at all (its page budget spent).
        let (got, next) = merge(stream(&["5"], None), stream(&[], Some("8")), 10);
        assert!(got.is_empty());
        assert_eq!(next.as_deref(), Some("8"));
        // The higher stopping point rules.
        let (got, next) = merge(
            stream(&["9", "4"], Some("4")),
            stream(&["7", "6"], Some("6")),
            10,
        );
        assert_eq!(ids(&got), ["9", "7", "6"]);
        assert_eq!(next.as_deref(), Some("6"));
    }

    #[test]
    fn cursors_are_log_sort_keys_only() {
        let sk = k::log_sk(1_764_547_200_000, "0123456789abcdef0123456789abcdef");
        let c = cursor_of(&sk).unwrap();
        assert_eq!(c, "1764547200000.01234567");
        assert!(valid_cursor(&c), "{c}");
        assert_eq!(cursor_sk(&c).as_deref(), Some(sk.as_str()));
        for bad in [
            "",
            ".",
            "LOG#1764547200000#01234567",
            "#BINDINGS",
            "1764547200000.0123456z",
            "176454720000.01234567",
            "1764547200000.012345678",
        ] {
            assert!(!valid_cursor(bad), "{bad}");
        }
    }
}
