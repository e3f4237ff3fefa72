//! Receipts kept raw: a receipt body (or the part of one) that matched no
//! push of ours, or came in a shape we do not know, is stored as received
//! for inspection (`offpush-admin receipts raw`), keyed by its digest so a
//! redelivery overwrites rather than piles up, and expires with the
//! retention.

use super::item::{get_n, get_s, n, opt_n, s, sdk_err};
use super::keys as k;
use super::{Store, StoreError};
use crate::domain::{AppId, CertificateId};
use sha2::{Digest, Sha256};

/// A receipt as kept.
#[derive(Clone, Debug, PartialEq)]
pub struct RawReceipt {
    pub certificate_id: Option<u64>,
    pub received_at_ms: i64,
    pub body: String,
}

impl Store {
    pub async fn keep_raw_receipt(
        &self,
        app: &AppId,
        cert: CertificateId,
        body: &str,
        now_ms: i64,
        retention_secs: i64,
    ) -> Result<(), StoreError> {
        let digest = hex::encode(Sha256::digest(body.as_bytes()));
        self.client
            .put_item()
            .table_name(&self.table)
            .item(k::PK, s(k::raw_receipts_pk(app)))
            .item(
                k::SK,
                s(format!("{}{}", k::RAW_RECEIPT_SK_PREFIX, &digest[..32])),
            )
            .item(k::CERT_ID, n(cert.get()))
            .item(k::RECEIVED_AT, n(now_ms))
            .item(k::RAW_RECEIPT_BODY, s(body))
            .item(k::EXPIRES_AT, n(now_ms / 1000 + retention_secs))
            .send()
            .await
            .map_err(sdk_err("PutItem raw receipt"))?;
        Ok(())
    }

    /// The app's kept receipts, newest first.
    pub async fn raw_receipts(
        &self,
        app: &AppId,
        now_secs: i64,
    ) -> Result<Vec<RawReceipt>, StoreError> {
        let mut out = Vec::new();
        for item in &self
            .query_partition(k::raw_receipts_pk(app), "Query raw receipts")
            .await?
        {
            if get_n::<i64>(item, k::EXPIRES_AT)? <= now_secs {
                continue;
            }
            out.push(RawReceipt {
                certificate_id: opt_n(item, k::CERT_ID)?,
                received_at_ms: get_n(item, k::RECEIVED_AT)?,
                body: get_s(item, k::RAW_RECEIPT_BODY)?.to_string(),
            });
        }
        out.sort_by_key(|r| std::cmp::Reverse(r.received_at_ms));
        Ok(out)
    }
}
