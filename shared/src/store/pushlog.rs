//! The push log: per user, one small item per push that named the user
//! (`LOG#{ms}#{ref}` under the user's partition), holding that user's lines
//! of the report. Written with the push's record (as many as its
//! transaction holds), the rest in batches of 25; kept for the
//! retention period; read newest first.

use super::item::{get_n, get_s, n, s, sdk_err, Item};
use super::keys as k;
use super::{Store, StoreError};
use crate::domain::{AppId, DeliveryOutcome, UserId};
use serde::{Deserialize, Serialize};

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

/// The item of one user's entry.
pub(crate) fn log_item(app: &AppId, user: &UserId, e: LogEntry, retention_secs: i64) -> Item {
    let lines = serde_json::to_string(&Lines {
        o: e.outcomes,
        r: e.refs,
    })
    .expect("lines serialize");
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

impl Store {
    /// Writes one entry per user, 25 per BatchWriteItem; answers the number
    /// of requests made. (A push's first entries go in its completion's
    /// transaction: [`Store::complete_push`].)
    pub async fn put_push_log(
        &self,
        app: &AppId,
        entries: Vec<(UserId, LogEntry)>,
        retention_secs: i64,
        concurrency: usize,
    ) -> Result<usize, StoreError> {
        let items: Vec<Item> = entries
            .into_iter()
            .map(|(user, e)| log_item(app, &user, e, retention_secs))
            .collect();
        self.batch_put(items, concurrency).await
    }

    /// The user's entries, newest first, at most `limit`, older than the
    /// cursor `before` when given; the cursor of the next page when there
    /// may be more. Expired entries are skipped (DynamoDB deletes lazily).
    pub async fn read_push_log(
        &self,
        app: &AppId,
        user: &UserId,
        limit: usize,
        before: Option<&str>,
        now_secs: i64,
    ) -> Result<(Vec<LogEntry>, Option<String>), StoreError> {
        let limit = limit.clamp(1, MAX_LOG_PAGE);
        let mut out = Vec::new();
        let mut start: Option<Item> = before.and_then(cursor_sk).map(|sk| {
            Item::from([
                (k::PK.to_string(), s(k::user_pk(app, user))),
                (k::SK.to_string(), s(sk)),
            ])
        });
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", k::PK)
                .expression_attribute_names("#sk", k::SK)
                .expression_attribute_values(":pk", s(k::user_pk(app, user)))
                .expression_attribute_values(":prefix", s(k::LOG_SK_PREFIX))
                .scan_index_forward(false)
                .limit((limit - out.len()) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err("Query push log"))?;
            for item in page.items() {
                let expires: i64 = get_n(item, k::EXPIRES_AT)?;
                if expires <= now_secs {
                    continue;
                }
                let lines: Lines = serde_json::from_str(get_s(item, k::LOG_OUTCOMES)?)
                    .map_err(|e| StoreError::Corrupt(format!("push log entry: {e}")))?;
                out.push(LogEntry {
                    request_id: get_s(item, k::PUSH_REQUEST_ID)?.to_string(),
                    push_ref: get_s(item, k::LOG_PUSH_REF)?.to_string(),
                    pushed_at_ms: get_n(item, k::PUSH_AT)?,
                    outcomes: lines.o,
                    refs: lines.r,
                });
            }
            let last = page.last_evaluated_key.filter(|key| !key.is_empty());
            match last {
                Some(key) if out.len() < limit => start = Some(key),
                Some(key) => {
                    return Ok((out, get_s(&key, k::SK).ok().and_then(cursor_of)));
                }
                None => return Ok((out, None)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
