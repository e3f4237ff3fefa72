//! Push records: the idempotency claim of a request id and, once done, the
//! push's report (stored deflate-compressed: a 1000-user report is JSON of
//! a few hundred KB, the item limit 400 KB), kept for the retention period
//! with the set of devices vivo's receipts reported delivered.
//!
//! One item per push, keyed by the push's reference (a digest of its
//! request id, see [`k::push_ref`]): a receipt that brings the reference
//! back finds the record without an index.

use super::batch::Exact;
use super::item::{conditional, get_n, get_s, key, lost_race, n, opt_n, opt_s, s, sdk_err, Item};
use super::keys as k;
use super::stats::StatsAdd;
use super::Store;
use super::StoreError;
use crate::domain::{AppId, DispatchReport};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};
use sha2::Digest;
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

/// The largest compressed result kept on the record itself: larger ones
/// go to part items, so the record (read by receipts and repeats) is one
/// read unit and the completion's transactional write stays small.
pub const INLINE_RESULT_BYTES: usize = 3 * 1024;

/// Of a completion's budget, what its plain record write (the fallback
/// of a transaction that cannot apply) keeps.
pub const FALLBACK_RESERVE: std::time::Duration = std::time::Duration::from_millis(600);

/// Items a push's delivered set is spread over: 10 000 devices (1000
/// users with 10 each) of 16-character refs make about 12 KB per item.
pub const DELIVERED_SHARDS: u32 = 16;

/// The delivered-set item of a token ref.
pub fn delivered_shard(token_ref: &str) -> u32 {
    let d = sha2::Sha256::digest(token_ref.as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % DELIVERED_SHARDS
}

/// Refs new to one delivered-set item: (push ref, item), the push's day,
/// the refs, and the item's version when read (None: no item yet).
type NewMarks = ((String, u32), String, Vec<String>, Option<i64>);

/// Statistics kept due, as [`Store::due_stats_put`] wrote them.
fn due_adds(json: &str) -> Result<Vec<StatsAdd>, StoreError> {
    let bad = || StoreError::Corrupt("statistics due are malformed".into());
    let v: Vec<serde_json::Value> = serde_json::from_str(json).map_err(|_| bad())?;
    v.iter()
        .map(|a| {
            let date = a["date"].as_str().ok_or_else(bad)?;
            let cert = a["cert"]
                .as_u64()
                .map(|c| crate::domain::CertificateId::new(c).ok_or_else(bad))
                .transpose()?;
            let mut add = StatsAdd::new(date, cert);
            for (name, by) in a["counts"].as_object().ok_or_else(bad)? {
                let counter = super::stats::COUNTERS
                    .iter()
                    .find(|c| **c == name.as_str())
                    .ok_or_else(bad)?;
                add.add(counter, by.as_u64().ok_or_else(bad)?);
            }
            Ok(add)
        })
        .collect()
}

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
    /// The id of the claim that wrote it (records of earlier versions: none).
    pub claim_id: Option<String>,
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
/// push in the same exact-once request.
pub struct Completion<'a> {
    pub request_id: &'a str,
    /// The push's fingerprint (kept when a claim already wrote it).
    pub fingerprint: &'a str,
    pub stored: &'a StoredPush,
    pub now_secs: i64,
    pub retention_secs: i64,
    /// The push's statistics, all of one day (its own).
    pub stats: &'a [StatsAdd],
    /// When the completion must have ended (retries included).
    pub deadline: std::time::Instant,
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
        let claim_id = format!("{:016x}", rand::random::<u64>());
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::push_key(app, request_id)))
            .item(k::PUSH_CLAIM_ID, s(&claim_id))
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
            Err(e) if lost_race(&e) => match self.push_record(app, request_id, now_secs).await? {
                // This very claim, written by an attempt whose answer was
                // lost (the SDK sent it again and met its own item).
                Some(rec) if rec.claim_id.as_deref() == Some(claim_id.as_str()) => {
                    Ok(Claim::Claimed)
                }
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
        let Some(mut rec) = self.push_record(app, request_id, now_secs).await? else {
            return Ok(None);
        };
        let (dlv, dlv_last) = self.delivered_items(app, &k::push_ref(request_id)).await?;
        rec.delivered.extend(dlv);
        rec.last_receipt_at_ms = rec.last_receipt_at_ms.max(dlv_last);
        Ok(Some(rec))
    }

    /// The record alone, without the delivered-set items (a claim that
    /// met another needs its state, not its receipts); `delivered` holds
    /// only what records of earlier versions kept on themselves.
    async fn push_record(
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
            claim_id: opt_s(&item, k::PUSH_CLAIM_ID).map(str::to_string),
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
    /// record is kept for the retention) and adds the push's statistics to
    /// one random statistics row, in one TransactWriteItems applied exactly
    /// once ([`Store::transact_exact`]: retried on conflicts and throttling
    /// until `c.deadline`, never counted twice after a lost answer). An
    /// UpdateItem, never a replace, conditioned on the record being this
    /// push's claim (or absent: a push without a caller's request_id made
    /// no claim, and its request id, fingerprint and time are set here).
    /// The result is on the record when small ([`INLINE_RESULT_BYTES`]),
    /// else in part items written first, so the record stays small.
    ///
    /// When the transaction cannot apply in time, the record is still
    /// written (plainly: the vendors' answers are never lost) and the
    /// statistics are kept due ([`Store::settle_due_stats`] adds them,
    /// exactly once). The push log is the caller's ([`Store::put_push_log`]).
    pub async fn complete_push(&self, app: &AppId, c: Completion<'_>) -> Result<(), StoreError> {
        let result = compress(c.stored);
        let expires = c.now_secs + c.retention_secs.max(IDEMPOTENCY_SECS);
        let reference = k::push_ref(c.request_id);
        let (name, value) = if result.len() <= INLINE_RESULT_BYTES {
            (k::PUSH_RESULT, AttributeValue::B(Blob::new(result)))
        } else {
            // Parts first: the record says done only once all are stored.
            let chunks: Vec<&[u8]> = result.chunks(MAX_STORED_RESULT_BYTES).collect();
            let pk = k::push_pk(app, &reference);
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
        let record = |conditioned: bool| {
            let mut u = Update::builder()
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
                .expression_attribute_values(":res", value.clone())
                .expression_attribute_values(":exp", n(expires))
                .expression_attribute_values(":rid", s(c.request_id))
                .expression_attribute_values(":fp", s(c.fingerprint))
                .expression_attribute_values(":at", n(c.stored.pushed_at_ms));
            if conditioned {
                // Still this push's claim, or no record yet (a generated
                // request id): a record a takeover finished is left alone.
                u = u
                    .condition_expression("attribute_not_exists(#st) OR #st = :pending")
                    .expression_attribute_values(":pending", s("pending"));
            }
            u.build().map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        // What the plain record write keeps for itself when the
        // transaction cannot apply.
        let tx_deadline = c.deadline - FALLBACK_RESERVE;
        let shard0 = super::stats::random_shard();
        let outcome = self
            .transact_exact("TransactWriteItems push completion", tx_deadline, |round| {
                let shard = (shard0 + round) % super::stats::STATS_SHARDS;
                let mut items = vec![TransactWriteItem::builder().update(record(true)?).build()];
                if !c.stats.is_empty() {
                    items.push(self.stats_shard_update(app, c.stats, shard)?);
                }
                Ok((
                    items,
                    format!("p{}{shard:02}", &reference[..32.min(reference.len())]),
                ))
            })
            .await;
        match outcome {
            Ok(Exact::Applied) => Ok(()),
            Ok(Exact::ConditionFailed(_)) => {
                tracing::warn!(app = %app, request_id = %c.request_id, "push record already done (an earlier attempt of this completion, or a takeover): left as it is");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(app = %app, request_id = %c.request_id, error = %crate::error::chain(&e), "push completion did not apply (in time, or at all): storing the record with its statistics kept due");
                // The record with the statistics kept due instead of
                // added, under the same condition: if the transaction did
                // apply (its answer lost), the record is done and this is
                // cancelled; if this applies, a transaction still in flight
                // can never apply after it. Either way counted once.
                let due = self.due_stats_put(app, &reference, c.stats, c.retention_secs)?;
                let outcome = self
                    .transact_exact("TransactWriteItems push record", c.deadline, |_| {
                        let mut items =
                            vec![TransactWriteItem::builder().update(record(true)?).build()];
                        if let Some(put) = &due {
                            items.push(TransactWriteItem::builder().put(put.clone()).build());
                        }
                        Ok((items, format!("f{}", &reference[..32.min(reference.len())])))
                    })
                    .await?;
                if outcome != Exact::Applied {
                    tracing::info!(app = %app, request_id = %c.request_id, "the push's transaction had applied after all");
                }
                Ok(())
            }
        }
    }

    /// The item keeping `adds` due (None when there are none), for
    /// [`Store::settle_due_stats`]; `reference`: whose they are, the
    /// push's reference.
    fn due_stats_put(
        &self,
        app: &AppId,
        reference: &str,
        adds: &[StatsAdd],
        retention_secs: i64,
    ) -> Result<Option<aws_sdk_dynamodb::types::Put>, StoreError> {
        if adds.is_empty() {
            return Ok(None);
        }
        let json = serde_json::to_string(
            &adds
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "date": a.date,
                        "cert": a.cert.map(|c| c.get()),
                        "counts": a.counts,
                    })
                })
                .collect::<Vec<_>>(),
        )
        .expect("statistics serialize");
        aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .item(k::PK, s(k::stats_due_pk(app)))
            .item(k::SK, s(reference))
            .item(k::STATS_DUE, s(json))
            .item(
                k::EXPIRES_AT,
                n(crate::clock::now_ms() / 1000 + retention_secs.max(IDEMPOTENCY_SECS)),
            )
            .build()
            .map(Some)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Adds the statistics kept due (pushes and receipts whose exact
    /// write did not apply in time), each exactly once: its due item is
    /// deleted in the same transaction as its addition. Called before
    /// statistics are read. Answers how many were settled.
    pub async fn settle_due_stats(
        &self,
        app: &AppId,
        deadline: std::time::Instant,
    ) -> Result<usize, StoreError> {
        let mut settled = 0;
        for item in self
            .query_partition(k::stats_due_pk(app), "Query statistics due")
            .await?
        {
            let sk = get_s(&item, k::SK)?.to_string();
            let adds = due_adds(get_s(&item, k::STATS_DUE)?)?;
            let mut by_date: std::collections::BTreeMap<String, Vec<StatsAdd>> = Default::default();
            for a in adds {
                by_date.entry(a.date.clone()).or_default().push(a);
            }
            // One transaction: the due item's deletion and every day's row.
            let shard0 = super::stats::random_shard();
            let digest = hex::encode(sha2::Sha256::digest(sk.as_bytes()));
            let outcome = self
                .transact_exact("TransactWriteItems statistics due", deadline, |round| {
                    let shard = (shard0 + round) % super::stats::STATS_SHARDS;
                    let del = aws_sdk_dynamodb::types::Delete::builder()
                        .table_name(&self.table)
                        .key(k::PK, s(k::stats_due_pk(app)))
                        .key(k::SK, s(sk.clone()))
                        .condition_expression("attribute_exists(#pk)")
                        .expression_attribute_names("#pk", k::PK)
                        .build()
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let mut items = vec![TransactWriteItem::builder().delete(del).build()];
                    for day in by_date.values() {
                        items.push(self.stats_shard_update(app, day, shard)?);
                    }
                    Ok((items, format!("d{}{shard:02}", &digest[..32])))
                })
                .await?;
            if outcome == Exact::Applied {
                settled += 1;
            }
        }
        Ok(settled)
    }

    /// Marks the token refs a receipt reported delivered, per push, and
    /// adds the devices new to each push's delivered set to the day's
    /// statistics (`delivered`, app-wide and for `cert`), exactly once:
    /// the marks and their count are one transaction, conditioned on the
    /// version of each delivered-set item read just before (a concurrent
    /// receipt makes it read again). A redelivery after any failure counts
    /// what was not counted, and nothing twice. Each push's set is spread
    /// over [`DELIVERED_SHARDS`] small items (`#DLV#{n}`) apart from its
    /// record, so no item grows past a bound and the record is never
    /// rewritten. Answers the devices newly counted, per day.
    pub async fn mark_delivered(
        &self,
        app: &AppId,
        cert: crate::domain::CertificateId,
        marks: &[(String, String, HashSet<String>)],
        now_ms: i64,
        retention_secs: i64,
        deadline: std::time::Instant,
    ) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        use std::collections::BTreeMap;
        // (push ref, shard) -> (day, refs).
        let mut groups: BTreeMap<(String, u32), (String, HashSet<String>)> = BTreeMap::new();
        for (push_ref, date, refs) in marks {
            for r in refs {
                groups
                    .entry((push_ref.clone(), delivered_shard(r)))
                    .or_insert_with(|| (date.clone(), HashSet::new()))
                    .1
                    .insert(r.clone());
            }
        }
        let mut counted: BTreeMap<String, u64> = BTreeMap::new();
        for _round in 0..16 {
            if groups.is_empty() {
                return Ok(counted);
            }
            let keys: Vec<Item> = groups
                .keys()
                .map(|(p, sh)| key(k::push_pk(app, p), &k::delivered_sk(*sh)))
                .collect();
            let found = self
                .batch_get(
                    keys,
                    Some(format!(
                        "{}, {}, {}, {}",
                        k::PK,
                        k::SK,
                        k::PUSH_DELIVERED,
                        k::DLV_VERSION
                    )),
                )
                .await?;
            let mut seen: std::collections::HashMap<(String, String), (HashSet<String>, i64)> =
                Default::default();
            for item in &found {
                seen.insert(
                    (
                        get_s(item, k::PK)?.to_string(),
                        get_s(item, k::SK)?.to_string(),
                    ),
                    (
                        delivered_set(item),
                        opt_n(item, k::DLV_VERSION)?.unwrap_or(0),
                    ),
                );
            }
            // What is new in each group, with the version it was read at.
            let mut todo: Vec<NewMarks> = Vec::new();
            for ((p, sh), (date, refs)) in &groups {
                let at = seen.get(&(k::push_pk(app, p), k::delivered_sk(*sh)));
                let new: Vec<String> = match at {
                    Some((set, _)) => refs.difference(set).cloned().collect(),
                    None => refs.iter().cloned().collect(),
                };
                if !new.is_empty() {
                    todo.push(((p.clone(), *sh), date.clone(), new, at.map(|(_, v)| *v)));
                }
            }
            // Groups with nothing new are done.
            let pending: std::collections::HashSet<&(String, u32)> =
                todo.iter().map(|(g, ..)| g).collect();
            groups.retain(|g, _| pending.contains(g));
            if todo.is_empty() {
                return Ok(counted);
            }
            // One transaction per day and 99 groups (the 100th item is the
            // statistics row).
            todo.sort_by(|a, b| a.1.cmp(&b.1));
            let mut raced = false;
            let mut i = 0;
            while i < todo.len() {
                let date = todo[i].1.clone();
                let mut j = i;
                while j < todo.len()
                    && j - i < super::bindings::TRANSACT_MAX - 1
                    && todo[j].1 == date
                {
                    j += 1;
                }
                let chunk = &todo[i..j];
                i = j;
                let n_new: u64 = chunk.iter().map(|c| c.2.len() as u64).sum();
                let mut add_all = StatsAdd::new(&date, None);
                add_all.add("delivered", n_new);
                let mut add_cert = StatsAdd::new(&date, Some(cert));
                add_cert.add("delivered", n_new);
                let adds = [add_all, add_cert];
                let mut h = sha2::Sha256::new();
                for ((p, sh), _, new, v) in chunk {
                    h.update(format!("{p}/{sh}/{v:?}/{};", new.len()).as_bytes());
                }
                let digest = hex::encode(h.finalize());
                let shard0 = super::stats::random_shard();
                let outcome = self
                    .transact_exact("TransactWriteItems receipt", deadline, |round| {
                        let shard = (shard0 + round) % super::stats::STATS_SHARDS;
                        let mut items = Vec::with_capacity(chunk.len() + 1);
                        for ((p, sh), _, new, v) in chunk {
                            let mut u = Update::builder()
                                .table_name(&self.table)
                                .key(k::PK, s(k::push_pk(app, p)))
                                .key(k::SK, s(k::delivered_sk(*sh)))
                                .update_expression(
                                    "ADD #dlv :refs SET #v = :v1, #lr = :now, #exp = if_not_exists(#exp, :exp)",
                                )
                                .expression_attribute_names("#dlv", k::PUSH_DELIVERED)
                                .expression_attribute_names("#v", k::DLV_VERSION)
                                .expression_attribute_names("#lr", k::PUSH_LAST_RECEIPT)
                                .expression_attribute_names("#exp", k::EXPIRES_AT)
                                .expression_attribute_values(":refs", AttributeValue::Ss(new.clone()))
                                .expression_attribute_values(":v1", n(v.unwrap_or(0) + 1))
                                .expression_attribute_values(":now", n(now_ms))
                                .expression_attribute_values(
                                    ":exp",
                                    n(now_ms / 1000 + retention_secs),
                                );
                            u = match v {
                                Some(v) => u
                                    .condition_expression("#v = :v0")
                                    .expression_attribute_values(":v0", n(v)),
                                None => u.condition_expression("attribute_not_exists(#v)"),
                            };
                            let u = u.build().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                            items.push(TransactWriteItem::builder().update(u).build());
                        }
                        items.push(self.stats_shard_update(app, &adds, shard)?);
                        Ok((items, format!("r{}{shard:02}", &digest[..32])))
                    })
                    .await;
                match outcome {
                    Ok(Exact::Applied) => {
                        *counted.entry(date.clone()).or_default() += n_new;
                        for (g, ..) in chunk {
                            groups.remove(g);
                        }
                    }
                    // Another receipt changed a set meanwhile: read again.
                    Ok(Exact::ConditionFailed(_)) => raced = true,
                    Err(e) => {
                        // Not applied in time: the marks are not written
                        // either, so the vendor's redelivery counts them.
                        return Err(e);
                    }
                }
            }
            if !raced {
                return Ok(counted);
            }
        }
        Err(StoreError::Corrupt(
            "delivered marks kept racing with other receipts".into(),
        ))
    }

    /// The delivered set of one push: its delivered-set items, and the set
    /// records made before them held themselves.
    async fn delivered_items(
        &self,
        app: &AppId,
        push_ref: &str,
    ) -> Result<(HashSet<String>, Option<i64>), StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :dlv)")
            .expression_attribute_names("#pk", k::PK)
            .expression_attribute_names("#sk", k::SK)
            .expression_attribute_values(":pk", s(k::push_pk(app, push_ref)))
            .expression_attribute_values(":dlv", s(k::DELIVERED_SK_PREFIX))
            .consistent_read(true);
        let mut out = HashSet::new();
        let mut last: Option<i64> = None;
        for item in self.query_all(query, "Query delivered").await? {
            out.extend(delivered_set(&item));
            last = last.max(opt_n(&item, k::PUSH_LAST_RECEIPT)?);
        }
        Ok((out, last))
    }

    /// The delivered sets of several pushes (by reference), for the push
    /// log: per push a Query of its delivered-set items, and one
    /// BatchGetItem per 100 records for the sets records made before
    /// those items held themselves.
    pub async fn delivered_of(
        &self,
        app: &AppId,
        push_refs: &[String],
    ) -> Result<std::collections::HashMap<String, HashSet<String>>, StoreError> {
        use futures::StreamExt;
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
        let sets: Vec<Result<(String, HashSet<String>), StoreError>> =
            futures::stream::iter(push_refs.to_vec())
                .map(|r| async move {
                    let (set, _) = self.delivered_items(app, &r).await?;
                    Ok((r, set))
                })
                .buffer_unordered(8)
                .collect()
                .await;
        for r in sets {
            let (push_ref, set) = r?;
            out.entry(push_ref).or_default().extend(set);
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
