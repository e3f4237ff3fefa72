//! Vendors' delivery receipts (API.md "Delivery visibility"). The other
//! visibility answers (push records, statistics, push log) are built in
//! [`offpush::visibility`], shared with the operator tool.

use crate::record;
use offpush::bindings::{self, DeadToken};
use offpush::clock::now_ms;
use offpush::domain::input::MAX_BODY_BYTES;
use offpush::domain::receipt::{parse_receipt_param, receipt_tag};
use offpush::domain::{Platform, PushToken, ReceiptSecret};
use offpush::store::keys::token_ref;
use offpush::vendor::ReceiptEvent;
use offpush::{Context, ServiceError};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};

/// Most distinct pushes one receipt body may name (each is one write).
pub const MAX_RECEIPT_PUSHES: usize = 1000;
/// How long a receipt's delivered marks may take, retries included.
const RECEIPT_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// `POST /v1/receipts/{platform}/{receipt_secret}`: a vendor's delivery
/// receipts, taken apart by its adapter. The secret in the path is the
/// authentication; an unknown one, or one of another platform's
/// certificate, is 404. Redelivery is harmless: delivered devices are a
/// set, and only devices new to it are counted; a dead-token verdict ends
/// a binding once.
pub async fn receipt(
    ctx: &Context,
    platform: &str,
    raw_secret: &str,
    content_type: Option<&str>,
    header: &(dyn Fn(&str) -> Option<String> + Sync),
    body: &[u8],
) -> Result<Value, ServiceError> {
    let unknown = || ServiceError::NotFound("no such receipt URL".into());
    let platform = Platform::from_name(platform).ok_or_else(unknown)?;
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
        .filter(|(_, c)| c.platform == platform)
        .ok_or_else(unknown)?;
    let vendor = ctx.vendor(platform)?;
    vendor.authenticate_receipt(&cert, header, offpush::clock::now_ms())?;
    let parsed = vendor.parse_receipt(body, content_type)?;
    let mut unmatched = parsed.unreadable;
    // Per push: its day and the token refs now reported delivered.
    let mut pushes: BTreeMap<String, (String, HashSet<String>)> = BTreeMap::new();
    // Tokens the vendor says are dead, with the time of the push that learnt it.
    let mut dead: Vec<(String, i64)> = Vec::new();
    let mut other = 0usize;
    for item in parsed.items {
        let Some(r) = item.param.as_deref().and_then(parse_receipt_param) else {
            unmatched += 1;
            continue;
        };
        // A push of another app or stack (the vendor keys receipt addresses
        // by its own app, which they may share): not ours, kept raw.
        if r.tag
            .as_ref()
            .is_some_and(|t| *t != receipt_tag(&app, cert.id))
        {
            unmatched += 1;
            continue;
        }
        let (date, push_ref) = (r.date, r.push_ref);
        match item.event {
            ReceiptEvent::Delivered => {
                let (_, refs) = pushes
                    .entry(push_ref)
                    .or_insert_with(|| (date, HashSet::new()));
                refs.extend(item.targets.iter().map(|t| token_ref(t)));
            }
            ReceiptEvent::TokenDead => {
                let at = match ctx.store.pushed_at(&app, &push_ref).await? {
                    Some(ms) => ms,
                    None => day_start_ms(&date),
                };
                dead.extend(item.targets.into_iter().map(|t| (t, at)));
            }
            ReceiptEvent::Other(_) => other += 1,
        }
    }
    if pushes.len() > MAX_RECEIPT_PUSHES {
        return Err(ServiceError::PayloadTooLarge(format!(
            "a receipt body may name at most {MAX_RECEIPT_PUSHES} pushes"
        )));
    }
    let now = now_ms();
    let retention = ctx.record_retention_secs;
    let marks: Vec<(String, String, HashSet<String>)> = pushes
        .into_iter()
        .map(|(push_ref, (date, refs))| (push_ref, date, refs))
        .collect();
    // Marks and their count in one exact-once write: a failure here is a
    // 500, and the vendor's redelivery counts what was not counted.
    let counted = ctx
        .store
        .mark_delivered(
            &app,
            cert.id,
            &marks,
            now,
            retention,
            std::time::Instant::now() + RECEIPT_BUDGET,
        )
        .await?;
    let delivered: u64 = counted.values().sum();
    let ended = end_dead_tokens(ctx, &app, cert.id, &dead).await?;
    if unmatched > 0 {
        let text = String::from_utf8_lossy(body);
        ctx.store
            .keep_raw_receipt(&app, cert.id, &text, now, retention)
            .await?;
    }
    if delivered > 0 {
        record::emit_delivered(&app, delivered);
    }
    tracing::info!(app = %app, certificate = %cert.id, platform = %platform, delivered, ended, other, unmatched, "receipt taken");
    Ok(json!({
        "errno": 0,
        "errmsg": "success",
        "delivered": delivered,
        "ended": ended,
        "unmatched": unmatched,
    }))
}

/// 00:00 UTC of a `YYYY-MM-DD` day, in ms (0 when it does not parse).
fn day_start_ms(date: &str) -> i64 {
    time::Date::parse(
        date,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
    .unwrap_or(0)
}

/// Ends the bindings of tokens a receipt declared dead: each token's owner
/// loses the binding, unless it was reported again since the push that
/// learnt it (a fresh report wins). The push's time is its record's; a
/// push whose record is gone counts from the start of its UTC day (the
/// safe side: a binding reported that day is kept).
async fn end_dead_tokens(
    ctx: &Context,
    app: &offpush::domain::AppId,
    cert: offpush::domain::CertificateId,
    dead: &[(String, i64)],
) -> Result<usize, ServiceError> {
    let mut ended = 0;
    for (raw, pushed_at) in dead.iter().take(MAX_RECEIPT_PUSHES) {
        let Ok(token) = PushToken::parse("token", raw) else {
            continue;
        };
        let Some(owner) = ctx.store.get_token_owner(app, cert, &token).await? else {
            continue;
        };
        let gone = bindings::remove_dead(
            ctx,
            app,
            &owner.user,
            &[DeadToken { cert, token }],
            *pushed_at,
        )
        .await?;
        if gone > 0 {
            tracing::info!(app = %app, certificate = %cert, user = %owner.user, "binding removed: the vendor's receipt says the token is dead");
        }
        ended += gone;
    }
    Ok(ended)
}
