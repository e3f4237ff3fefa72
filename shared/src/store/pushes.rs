//! Push records: the idempotency claim of a request id and, once done, the
//! push's report (stored deflate-compressed: a 1000-user report is JSON of
//! a few hundred KB, the item limit 400 KB).

use super::item::{conditional, get_n, get_s, key, lost_race, n, s, sdk_err};
use super::keys as k;
use super::Store;
use super::StoreError;
use crate::domain::{AppId, DispatchReport};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use std::io::{Read, Write};

fn compress(report: &DispatchReport) -> Vec<u8> {
    let json = serde_json::to_vec(report).expect("report serializes");
    let mut enc = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&json).expect("write to memory");
    enc.finish().expect("finish in memory")
}

fn decompress(bytes: &[u8]) -> Result<DispatchReport, StoreError> {
    let mut json = Vec::new();
    DeflateDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|_| StoreError::Corrupt("stored push result is not deflate".into()))?;
    serde_json::from_slice(&json)
        .map_err(|e| StoreError::Corrupt(format!("stored push result: {e}")))
}

/// The most compressed result one item holds: DynamoDB's item limit is
/// 400 KB (names and the other attributes included), which the emulator
/// does not enforce. A larger result (1000 users with 10 devices of long,
/// varied ids) is split over part items `#RESULT#{n}` of this size.
pub const MAX_STORED_RESULT_BYTES: usize = 350 * 1024;

/// A request id is remembered this long (API.md: idempotent for 24 h).
pub const IDEMPOTENCY_SECS: i64 = 24 * 3600;

#[derive(Clone, Debug, PartialEq)]
pub enum PushState {
    /// Claimed by a call that has not finished (or died). `sending`: it
    /// had begun calling the vendor, so a takeover must not send again.
    Pending { claimed_at_ms: i64, sending: bool },
    /// Finished; the stored answer.
    Done { report: Box<DispatchReport> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct PushRecord {
    pub fingerprint: String,
    pub state: PushState,
    pub expires_at: i64,
}

pub enum Claim {
    /// This call owns the request id and must send.
    Claimed,
    /// Another call has it (live, not expired).
    Taken(PushRecord),
}

impl Store {
    fn push_key(app: &AppId, request_id: &str) -> [(String, AttributeValue); 2] {
        [
            (k::PK.to_string(), s(k::push_pk(app, request_id))),
            (k::SK.to_string(), s(k::PUSH_SK)),
        ]
    }

    /// Claims `request_id` before anything is sent. The condition protects
    /// "a request id sends at most once in 24 h": it succeeds only when no
    /// live record exists (an expired one is treated as absent, as
    /// DynamoDB deletes expired items lazily).
    pub async fn claim_push(
        &self,
        app: &AppId,
        request_id: &str,
        fingerprint: &str,
        now_ms: i64,
    ) -> Result<Claim, StoreError> {
        let now_secs = now_ms / 1000;
        let [pk, sk] = Self::push_key(app, request_id);
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(pk.0, pk.1)
            .item(sk.0, sk.1)
            .item(k::PUSH_STATE, s("pending"))
            .item(k::PUSH_FINGERPRINT, s(fingerprint))
            .item(k::PUSH_CLAIMED_AT, n(now_ms))
            .item(k::EXPIRES_AT, n(now_secs + IDEMPOTENCY_SECS))
            .condition_expression("attribute_not_exists(#pk) OR #exp <= :now")
            .expression_attribute_names("#pk", k::PK)
            .expression_attribute_names("#exp", k::EXPIRES_AT)
            .expression_attribute_values(":now", n(now_secs))
            .send()
            .await;
        match res {
            Ok(_) => Ok(Claim::Claimed),
            Err(e) if lost_race(&e) => {
                match self.get_push(app, request_id, now_secs).await? {
                    Some(rec) => Ok(Claim::Taken(rec)),
                    // Expired between the two calls: claim again.
                    None => Box::pin(self.claim_push(app, request_id, fingerprint, now_ms)).await,
                }
            }
            Err(e) => Err(sdk_err("PutItem push claim")(e)),
        }
    }

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
            .set_key(Some(Self::push_key(app, request_id).into_iter().collect()))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err("GetItem push"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let expires_at: i64 = get_n(&item, k::EXPIRES_AT)?;
        if expires_at <= now_secs {
            return Ok(None);
        }
        let state = match get_s(&item, k::PUSH_STATE)? {
            "done" => match (item.get(k::PUSH_RESULT), item.get(k::PUSH_RESULT_PARTS)) {
                (Some(AttributeValue::B(b)), _) => PushState::Done {
                    report: Box::new(decompress(b.as_ref())?),
                },
                (None, Some(_)) => {
                    let parts: usize = get_n(&item, k::PUSH_RESULT_PARTS)?;
                    PushState::Done {
                        report: Box::new(decompress(
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
            fingerprint: get_s(&item, k::PUSH_FINGERPRINT)?.to_string(),
            state,
            expires_at,
        }))
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
            .set_key(Some(Self::push_key(app, request_id).into_iter().collect()))
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
            .set_key(Some(Self::push_key(app, request_id).into_iter().collect()))
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
            .set_key(Some(Self::push_key(app, request_id).into_iter().collect()))
            .condition_expression("#st = :pending AND #at = :seen")
            .expression_attribute_names("#at", k::PUSH_CLAIMED_AT)
            .expression_attribute_names("#st", k::PUSH_STATE)
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":seen", n(claimed_at_ms))
            .send()
            .await;
        conditional(res, "DeleteItem push claim")
    }

    /// Stores the answer; repeats within 24 h of now get it back.
    pub async fn complete_push(
        &self,
        app: &AppId,
        request_id: &str,
        report: &DispatchReport,
        now_secs: i64,
    ) -> Result<(), StoreError> {
        let result = compress(report);
        let expires = now_secs + IDEMPOTENCY_SECS;
        let (name, value) = if result.len() <= MAX_STORED_RESULT_BYTES {
            (k::PUSH_RESULT, AttributeValue::B(Blob::new(result)))
        } else {
            // Parts first: the record says done only once all are stored.
            let chunks: Vec<&[u8]> = result.chunks(MAX_STORED_RESULT_BYTES).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(key(
                        k::push_pk(app, request_id),
                        &k::push_result_part_sk(i),
                    )))
                    .item(k::PUSH_RESULT, AttributeValue::B(Blob::new(chunk.to_vec())))
                    .item(k::EXPIRES_AT, n(expires))
                    .send()
                    .await
                    .map_err(sdk_err("PutItem push result part"))?;
            }
            (k::PUSH_RESULT_PARTS, n(chunks.len()))
        };
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::push_key(app, request_id).into_iter().collect()))
            .update_expression("SET #st = :done, #res = :res, #exp = :exp")
            .expression_attribute_names("#st", k::PUSH_STATE)
            .expression_attribute_names("#res", name)
            .expression_attribute_names("#exp", k::EXPIRES_AT)
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":res", value)
            .expression_attribute_values(":exp", n(expires))
            .send()
            .await
            .map_err(sdk_err("UpdateItem push result"))?;
        Ok(())
    }

    /// The compressed result of a push stored in `parts` part items.
    async fn result_parts(
        &self,
        app: &AppId,
        request_id: &str,
        parts: usize,
    ) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::new();
        for i in 0..parts {
            let item = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key(
                    k::push_pk(app, request_id),
                    &k::push_result_part_sk(i),
                )))
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
