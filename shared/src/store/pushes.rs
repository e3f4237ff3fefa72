//! Push records: the idempotency claim of a request id and, once done, the
//! push's report (stored deflate-compressed: a 1000-user report is JSON of
//! a few hundred KB, the item limit 400 KB), kept for the retention period
//! with the set of devices vivo's receipts reported delivered.
//!
//! One item per push, keyed by the push's reference (a digest of its
//! request id, see [`k::push_ref`]): a receipt that brings the reference
//! back finds the record without an index.

use super::bindings::TRANSACT_MAX;
use super::item::{conditional, get_n, get_s, key, lost_race, n, opt_n, opt_s, s, sdk_err, Item};
use super::keys as k;
use super::pushlog::{log_item, LogEntry};
use super::stats::StatsAdd;
use super::Store;
use super::StoreError;
use crate::domain::{AppId, DispatchReport, UserId};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::{Read, Write};

/// What a push record stores: the report as answered, and per result line
/// the device's token reference (None for `no_device` lines), so receipts
/// (which name tokens) can be matched to lines without storing tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredPush {
    pub report: DispatchReport,
    pub refs: Vec<Option<String>>,
    pub pushed_at_ms: i64,
}

/// Records written before token references existed hold the bare report.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredShape {
    Current(StoredPush),
    Bare(DispatchReport),
}

fn compress(stored: &StoredPush) -> Vec<u8> {
    let json = serde_json::to_vec(stored).expect("record serializes");
    let mut enc = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&json).expect("write to memory");
    enc.finish().expect("finish in memory")
}

fn decompress(bytes: &[u8]) -> Result<StoredPush, StoreError> {
    let mut json = Vec::new();
    DeflateDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|_| StoreError::Corrupt("stored push result is not deflate".into()))?;
    match serde_json::from_slice(&json)
        .map_err(|e| StoreError::Corrupt(format!("stored push result: {e}")))?
    {
        StoredShape::Current(s) => Ok(s),
        StoredShape::Bare(report) => Ok(StoredPush {
            refs: vec![None; report.results.len()],
            report,
            pushed_at_ms: 0,
        }),
    }
}

/// The most compressed result one item holds: DynamoDB's item limit is
/// 400 KB (names and the other attributes included), which the emulator
/// does not enforce, and the record also carries the delivered set (up to
/// 10 000 refs of 16 characters). A larger result (1000 users with 10
/// devices of long, varied ids) is split over part items `#RESULT#{n}`.
pub const MAX_STORED_RESULT_BYTES: usize = 200 * 1024;

/// A request id is remembered this long (API.md: idempotent for 24 h).
pub const IDEMPOTENCY_SECS: i64 = 24 * 3600;

#[derive(Clone, Debug, PartialEq)]
pub enum PushState {
    /// Claimed by a call that has not finished (or died). `sending`: it
    /// had begun calling the vendor, so a takeover must not send again.
    Pending { claimed_at_ms: i64, sending: bool },
    /// Finished; the stored answer.
    Done { stored: Box<StoredPush> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct PushRecord {
    pub request_id: String,
    pub fingerprint: String,
    pub state: PushState,
    /// Epoch seconds: a repeat of the request id before it is a duplicate.
    pub idempotent_until: i64,
    /// Epoch seconds: the record's retention.
    pub expires_at: i64,
    /// Token refs vivo reported delivered.
    pub delivered: HashSet<String>,
    pub last_receipt_at_ms: Option<i64>,
}

pub enum Claim {
    /// This call owns the request id and must send.
    Claimed,
    /// Another call has it (live, not expired).
    Taken(PushRecord),
}

/// How a push record is written at the end: with the statistics of the
/// push and its first push log entries in the same request.
pub struct Completion<'a> {
    pub request_id: &'a str,
    /// The push's fingerprint (kept when a claim already wrote it).
    pub fingerprint: &'a str,
    pub stored: &'a StoredPush,
    pub now_secs: i64,
    pub retention_secs: i64,
    pub stats: &'a [StatsAdd],
    /// One entry per named user; those the transaction has no room for are
    /// answered back, for the caller to write ([`Store::put_push_log`]).
    pub log: Vec<(UserId, LogEntry)>,
}

impl Store {
    fn push_key(app: &AppId, request_id: &str) -> Item {
        key(k::push_pk(app, &k::push_ref(request_id)), k::PUSH_SK)
    }

    /// Claims `request_id` before anything is sent. The condition protects
    /// "a request id sends at most once in 24 h": it succeeds only when no
    /// claim of the last 24 h exists (an older record, or one that only
    /// holds receipts, is replaced).
    pub async fn claim_push(
        &self,
        app: &AppId,
        request_id: &str,
        fingerprint: &str,
        now_ms: i64,
        retention_secs: i64,
    ) -> Result<Claim, StoreError> {
        let now_secs = now_ms / 1000;
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::push_key(app, request_id)))
            .item(k::PUSH_REQUEST_ID, s(request_id))
            .item(k::PUSH_STATE, s("pending"))
            .item(k::PUSH_FINGERPRINT, s(fingerprint))
            .item(k::PUSH_CLAIMED_AT, n(now_ms))
            .item(k::PUSH_AT, n(now_ms))
            .item(k::PUSH_IDEM_UNTIL, n(now_secs + IDEMPOTENCY_SECS))
            .item(
                k::EXPIRES_AT,
                n(now_secs + retention_secs.max(IDEMPOTENCY_SECS)),
            )
            .condition_expression("attribute_not_exists(#st) OR #idem <= :now OR #exp <= :now")
            .expression_attribute_names("#st", k::PUSH_STATE)
            .expression_attribute_names("#idem", k::PUSH_IDEM_UNTIL)
            .expression_attribute_names("#exp", k::EXPIRES_AT)
            .expression_attribute_values(":now", n(now_secs))
            .send()
            .await;
        match res {
            Ok(_) => Ok(Claim::Claimed),
            Err(e) if lost_race(&e) => match self.get_push(app, request_id, now_secs).await? {
                Some(rec) if rec.idempotent_until > now_secs => Ok(Claim::Taken(rec)),
                // Out of its 24 h between the two calls: claim again.
                _ => {
                    Box::pin(self.claim_push(app, request_id, fingerprint, now_ms, retention_secs))
                        .await
                }
            },
            Err(e) => Err(sdk_err("PutItem push claim")(e)),
        }
    }

    /// The push record of `request_id`, within its retention; None also
    /// for an item that only holds receipts (no push ever claimed it).
    pub async fn get_push(
        &self,
        app: &AppId,
        request_id: &str,
        now_secs: i64,
    ) -> Result<Option<PushRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::push_key(app, request_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err("GetItem push"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let expires_at: i64 = get_n(&item, k::EXPIRES_AT)?;
        if expires_at <= now_secs || !item.contains_key(k::PUSH_STATE) {
            return Ok(None);
        }
        let state = match get_s(&item, k::PUSH_STATE)? {
            "done" => match (item.get(k::PUSH_RESULT), item.get(k::PUSH_RESULT_PARTS)) {
                (Some(AttributeValue::B(b)), _) => PushState::Done {
                    stored: Box::new(decompress(b.as_ref())?),
                },
                (None, Some(_)) => {
                    let parts: usize = get_n(&item, k::PUSH_RESULT_PARTS)?;
                    PushState::Done {
                        stored: Box::new(decompress(
                            &self.result_parts(app, request_id, parts).await?,
                        )?),
                    }
                }
                _ => return Err(StoreError::Corrupt("push result missing".into())),
            },
            _ => PushState::Pending {
                claimed_at_ms: get_n(&item, k::PUSH_CLAIMED_AT)?,
                sending: item.contains_key(k::PUSH_SENDING_AT),
            },
        };
        Ok(Some(PushRecord {
            request_id: opt_s(&item, k::PUSH_REQUEST_ID)
                .unwrap_or(request_id)
                .to_string(),
            fingerprint: get_s(&item, k::PUSH_FINGERPRINT)?.to_string(),
            state,
            idempotent_until: opt_n(&item, k::PUSH_IDEM_UNTIL)?.unwrap_or(expires_at),
            expires_at,
            delivered: delivered_set(&item),
            last_receipt_at_ms: opt_n(&item, k::PUSH_LAST_RECEIPT)?,
        }))
    }

    /// When the push of `push_ref` was made (ms), if its record says: for a
    /// receipt's dead-token verdict, which must not end a binding reported
    /// again after the push. One projected read.
    pub async fn pushed_at(&self, app: &AppId, push_ref: &str) -> Result<Option<i64>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(k::PK, s(k::push_pk(app, push_ref)))
            .key(k::SK, s(k::PUSH_SK))
            .projection_expression("#at")
            .expression_attribute_names("#at", k::PUSH_AT)
            .send()
            .await
            .map_err(sdk_err("GetItem push time"))?;
        Ok(out
            .item
            .as_ref()
            .map(|i| opt_n(i, k::PUSH_AT))
            .transpose()?
            .flatten())
    }

    /// Takes over a claim whose owner died (still pending long after any
    /// request could have finished). Condition: still the same pending
    /// claim, so two callers cannot both take it over.
    pub async fn take_over_push(
        &self,
        app: &AppId,
        request_id: &str,
        seen_claimed_at_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::push_key(app, request_id)))
            .update_expression("SET #at = :now")
            .condition_expression("#st = :pending AND #at = :seen")
            .expression_attribute_names("#at", k::PUSH_CLAIMED_AT)
            .expression_attribute_names("#st", k::PUSH_STATE)
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":seen", n(seen_claimed_at_ms))
            .send()
            .await;
        conditional(res, "UpdateItem push take-over")
    }

    /// Records, before the first vendor call, that this claim is sending:
    /// from then on a takeover of it never sends again (devices may already
    /// have the push). Condition: still this very pending claim.
    pub async fn mark_push_sending(
        &self,
        app: &AppId,
        request_id: &str,
        claimed_at_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::push_key(app, request_id)))
            .update_expression("SET #send = :now")
            .condition_expression("#st = :pending AND #at = :seen")
            .expression_attribute_names("#send", k::PUSH_SENDING_AT)
            .expression_attribute_names("#at", k::PUSH_CLAIMED_AT)
            .expression_attribute_names("#st", k::PUSH_STATE)
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":seen", n(claimed_at_ms))
            .send()
            .await;
        conditional(res, "UpdateItem push sending")
    }

    /// Gives up a claim nothing was sent under (the push failed before its
    /// first vendor call), so an honest retry runs at once instead of
    /// waiting for the claim to go stale. Condition: still this very
    /// pending claim.
    pub async fn release_push(
        &self,
        app: &AppId,
        request_id: &str,
        claimed_at_ms: i64,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::push_key(app, request_id)))
            .condition_expression("#st = :pending AND #at = :seen")
            .expression_attribute_names("#at", k::PUSH_CLAIMED_AT)
            .expression_attribute_names("#st", k::PUSH_STATE)
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":seen", n(claimed_at_ms))
            .send()
            .await;
        conditional(res, "DeleteItem push claim")
    }

    /// Stores the answer (repeats within 24 h of the claim get it back; the
    /// record is kept for the retention), adds the push's statistics and
    /// writes its log entries, in one TransactWriteItems: a
    /// one-recipient push ends with a single write request. An UpdateItem,
    /// never a replace: receipts that arrived while the push was still
    /// sending are kept. A push without a caller's request_id made no claim
    /// (a generated id never repeats), so the request id, fingerprint and
    /// time are set here when no claim set them. Answers the log entries
    /// left for [`Store::put_push_log`]: all of them when they do not fit
    /// in the transaction's 100 items beside the record and the statistics
    /// rows (statistics rows past 99 go in their own transactions).
    pub async fn complete_push(
        &self,
        app: &AppId,
        c: Completion<'_>,
    ) -> Result<Vec<(UserId, LogEntry)>, StoreError> {
        let result = compress(c.stored);
        let expires = c.now_secs + c.retention_secs.max(IDEMPOTENCY_SECS);
        let (name, value) = if result.len() <= MAX_STORED_RESULT_BYTES {
            (k::PUSH_RESULT, AttributeValue::B(Blob::new(result)))
        } else {
            // Parts first: the record says done only once all are stored.
            let chunks: Vec<&[u8]> = result.chunks(MAX_STORED_RESULT_BYTES).collect();
            let pk = k::push_pk(app, &k::push_ref(c.request_id));
            for (i, chunk) in chunks.iter().enumerate() {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(key(pk.clone(), &k::push_result_part_sk(i))))
                    .item(k::PUSH_RESULT, AttributeValue::B(Blob::new(chunk.to_vec())))
                    .item(k::EXPIRES_AT, n(expires))
                    .send()
                    .await
                    .map_err(sdk_err("PutItem push result part"))?;
            }
            (k::PUSH_RESULT_PARTS, n(chunks.len()))
        };
        let record = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::push_key(app, c.request_id)))
            .update_expression(
                "SET #st = :done, #res = :res, #exp = :exp, #rid = if_not_exists(#rid, :rid), \
                 #fp = if_not_exists(#fp, :fp), #at = if_not_exists(#at, :at)",
            )
            .expression_attribute_names("#st", k::PUSH_STATE)
            .expression_attribute_names("#res", name)
            .expression_attribute_names("#exp", k::EXPIRES_AT)
            .expression_attribute_names("#rid", k::PUSH_REQUEST_ID)
            .expression_attribute_names("#fp", k::PUSH_FINGERPRINT)
            .expression_attribute_names("#at", k::PUSH_AT)
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":res", value)
            .expression_attribute_values(":exp", n(expires))
            .expression_attribute_values(":rid", s(c.request_id))
            .expression_attribute_values(":fp", s(c.fingerprint))
            .expression_attribute_values(":at", n(c.stored.pushed_at_ms))
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().update(record).build()];
        let room = TRANSACT_MAX - 1;
        let (now_stats, later_stats) = c.stats.split_at(c.stats.len().min(room));
        for add in now_stats {
            items.push(self.stats_update(app, add)?);
        }
        // All of the push log or none of it: a push to more users than the
        // transaction holds writes its log in batches alone (the emulator
        // copies the whole table once per transaction item, so a 100-item
        // transaction per large push would measure the emulator).
        let (log, rest) = if c.log.len() <= TRANSACT_MAX - items.len() {
            (c.log, Vec::new())
        } else {
            (Vec::new(), c.log)
        };
        for (user, entry) in log {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(log_item(app, &user, entry, c.retention_secs)))
                .build()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        self.transact(items, "TransactWriteItems push result")
            .await?;
        self.add_stats(app, later_stats).await?;
        Ok(rest)
    }

    /// Adds the token refs a receipt reported delivered to the push's
    /// record and answers which of them are new (so a redelivered receipt
    /// counts nothing twice). A receipt may overtake the push's own
    /// completion: the record item is then created or merged, never
    /// replaced, and expires with the retention.
    pub async fn add_delivered(
        &self,
        app: &AppId,
        push_ref: &str,
        refs: &HashSet<String>,
        now_ms: i64,
        retention_secs: i64,
    ) -> Result<HashSet<String>, StoreError> {
        if refs.is_empty() {
            return Ok(HashSet::new());
        }
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(k::push_pk(app, push_ref), k::PUSH_SK)))
            .update_expression("ADD #dlv :refs SET #lr = :now, #exp = if_not_exists(#exp, :exp)")
            .expression_attribute_names("#dlv", k::PUSH_DELIVERED)
            .expression_attribute_names("#lr", k::PUSH_LAST_RECEIPT)
            .expression_attribute_names("#exp", k::EXPIRES_AT)
            .expression_attribute_values(
                ":refs",
                AttributeValue::Ss(refs.iter().cloned().collect()),
            )
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":exp", n(now_ms / 1000 + retention_secs))
            // ALL_OLD, not UPDATED_OLD: both give the old set on DynamoDB
            // (return values cost no capacity), but the emulator answers
            // UPDATED_OLD of an ADD with nothing, which would count a
            // redelivered receipt again.
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_err("UpdateItem push delivered"))?;
        let old = delivered_set(&out.attributes.unwrap_or_default());
        Ok(refs.difference(&old).cloned().collect())
    }

    /// The delivered sets of several pushes (by reference), for the push
    /// log: one BatchGetItem per 100.
    pub async fn delivered_of(
        &self,
        app: &AppId,
        push_refs: &[String],
    ) -> Result<std::collections::HashMap<String, HashSet<String>>, StoreError> {
        let mut out = std::collections::HashMap::new();
        let keys: Vec<Item> = push_refs
            .iter()
            .map(|r| key(k::push_pk(app, r), k::PUSH_SK))
            .collect();
        let by_pk: std::collections::HashMap<String, &String> =
            push_refs.iter().map(|r| (k::push_pk(app, r), r)).collect();
        for item in self
            .batch_get(keys, Some(format!("{}, {}", k::PK, k::PUSH_DELIVERED)))
            .await?
        {
            if let Some(r) = by_pk.get(get_s(&item, k::PK)?) {
                out.insert((*r).clone(), delivered_set(&item));
            }
        }
        Ok(out)
    }

    /// The compressed result of a push stored in `parts` part items.
    async fn result_parts(
        &self,
        app: &AppId,
        request_id: &str,
        parts: usize,
    ) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::new();
        let pk = k::push_pk(app, &k::push_ref(request_id));
        for i in 0..parts {
            let item = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), &k::push_result_part_sk(i))))
                .consistent_read(true)
                .send()
                .await
                .map_err(sdk_err("GetItem push result part"))?
                .item
                .ok_or_else(|| StoreError::Corrupt("push result part missing".into()))?;
            match item.get(k::PUSH_RESULT) {
                Some(AttributeValue::B(b)) => out.extend_from_slice(b.as_ref()),
                _ => return Err(StoreError::Corrupt("push result part empty".into())),
            }
        }
        Ok(out)
    }
}

fn delivered_set(item: &Item) -> HashSet<String> {
    match item.get(k::PUSH_DELIVERED) {
        Some(AttributeValue::Ss(v)) => v.iter().cloned().collect(),
        _ => HashSet::new(),
    }
}
