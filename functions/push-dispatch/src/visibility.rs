//! vivo's delivery receipts (API.md "Delivery visibility"). The other
//! visibility answers (push records, statistics, push log) are built in
//! [`offpush::visibility`], shared with the operator tool.

use crate::record;
use offpush::clock::now_ms;
use offpush::domain::input::MAX_BODY_BYTES;
use offpush::domain::receipt::parse_receipt;
use offpush::domain::ReceiptSecret;
use offpush::store::keys::token_ref;
use offpush::store::stats::StatsAdd;
use offpush::{Context, ServiceError};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};

/// Most distinct pushes one receipt body may name (each is one write).
pub const MAX_RECEIPT_PUSHES: usize = 1000;
/// Receipt writes in flight per receipt body.
const RECEIPT_CONCURRENCY: usize = 8;

/// `POST /v1/receipts/vivo/{receipt_secret}`: vivo's delivery receipts.
/// The secret in the path is the authentication; an unknown one is 404.
/// Redelivery is harmless: delivered devices are a set, and only devices
/// new to it are counted.
pub async fn receipt(ctx: &Context, raw_secret: &str, body: &[u8]) -> Result<Value, ServiceError> {
    let unknown = || ServiceError::NotFound("no such receipt URL".into());
    let secret = ReceiptSecret::from_path(raw_secret).ok_or_else(unknown)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ServiceError::PayloadTooLarge(format!(
            "receipt body is over {MAX_BODY_BYTES} bytes"
        )));
    }
    let (app, cert) = ctx
        .store
        .receipt_target(&secret.hash())
        .await?
        .ok_or_else(unknown)?;
    let parsed = parse_receipt(body)?;
    // Per push: its day and the token refs now reported delivered.
    let mut pushes: BTreeMap<String, (String, HashSet<String>)> = BTreeMap::new();
    for e in parsed.entries {
        let (_, refs) = pushes
            .entry(e.push_ref)
            .or_insert_with(|| (e.date, HashSet::new()));
        refs.extend(e.targets.iter().map(|t| token_ref(t)));
    }
    if pushes.len() > MAX_RECEIPT_PUSHES {
        return Err(ServiceError::PayloadTooLarge(format!(
            "a receipt body may name at most {MAX_RECEIPT_PUSHES} pushes"
        )));
    }
    let now = now_ms();
    let retention = ctx.record_retention_secs;
    use futures::StreamExt;
    let results: Vec<Result<(String, u64), ServiceError>> = futures::stream::iter(pushes)
        .map(|(push_ref, (date, refs))| {
            let app = &app;
            async move {
                let new = ctx
                    .store
                    .add_delivered(app, &push_ref, &refs, now, retention)
                    .await?;
                Ok((date, new.len() as u64))
            }
        })
        .buffer_unordered(RECEIPT_CONCURRENCY)
        .collect()
        .await;
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    for r in results {
        let (date, n) = r?;
        *per_day.entry(date).or_default() += n;
    }
    let mut adds = Vec::new();
    let mut delivered = 0;
    for (date, n) in per_day.into_iter().filter(|(_, n)| *n > 0) {
        delivered += n;
        for row in [None, Some(cert.id)] {
            let mut a = StatsAdd::new(&date, row);
            a.add("delivered", n);
            adds.push(a);
        }
    }
    ctx.store.add_stats(&app, &adds).await?;
    if parsed.unmatched > 0 {
        let text = String::from_utf8_lossy(body);
        ctx.store
            .keep_raw_receipt(&app, cert.id, &text, now, retention)
            .await?;
    }
    if delivered > 0 {
        record::emit_delivered(&app, delivered);
    }
    tracing::info!(app = %app, certificate = %cert.id, delivered, unmatched = parsed.unmatched, "receipt taken");
    Ok(json!({
        "errno": 0,
        "errmsg": "success",
        "delivered": delivered,
        "unmatched": parsed.unmatched,
    }))
}
