//! Delivery visibility (API.md "Delivery visibility"): vivo's receipts,
//! push records, daily statistics and the per-user push log.

use crate::record;
use offpush::clock::now_ms;
use offpush::domain::input::MAX_BODY_BYTES;
use offpush::domain::push::{STATE_DELIVERED, STATE_SENT};
use offpush::domain::receipt::parse_receipt;
use offpush::domain::{
    rfc3339, App, CertificateId, DeliveryOutcome, DeliveryStatus, ReceiptSecret, UserId,
};
use offpush::store::keys::token_ref;
use offpush::store::pushes::PushState;
use offpush::store::pushlog::{valid_cursor, MAX_LOG_PAGE};
use offpush::store::stats::{StatsAdd, COUNTERS};
use offpush::{Context, ServiceError};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Most distinct pushes one receipt body may name (each is one write).
pub const MAX_RECEIPT_PUSHES: usize = 1000;
/// Receipt writes in flight per receipt body.
const RECEIPT_CONCURRENCY: usize = 8;
/// Most days one statistics read spans (API.md: at most 31 days apart).
pub const MAX_STATS_SPAN_DAYS: i64 = 31;
pub const DEFAULT_LOG_PAGE: usize = 50;

fn ms_time(ms: i64) -> Value {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| json!(rfc3339(t)))
        .unwrap_or(Value::Null)
}

/// The lines with each sent device's delivery state (`delivered` once a
/// receipt named its token), and how many were delivered.
fn with_delivery(
    lines: &[DeliveryOutcome],
    refs: &[Option<String>],
    delivered: &HashSet<String>,
) -> (Vec<DeliveryOutcome>, u64) {
    let mut count = 0;
    let out = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut line = line.clone();
            if line.status() == DeliveryStatus::Sent {
                let hit = refs
                    .get(i)
                    .and_then(Option::as_ref)
                    .is_some_and(|r| delivered.contains(r));
                count += u64::from(hit);
                line.delivery_state =
                    Some(if hit { STATE_DELIVERED } else { STATE_SENT }.to_string());
            }
            line
        })
        .collect();
    (out, count)
}

/// `GET /v1/pushes/{request_id}`.
pub async fn push_record(
    ctx: &Context,
    app: &App,
    request_id: &str,
) -> Result<Value, ServiceError> {
    let now = now_ms();
    let rec = ctx
        .store
        .get_push(&app.id, request_id, now / 1000)
        .await?
        .ok_or_else(|| {
            ServiceError::NotFound(format!(
                "no push with request_id {request_id} within the retention"
            ))
        })?;
    let mut out = Map::new();
    out.insert("request_id".into(), json!(rec.request_id));
    out.insert("expires_at".into(), ms_time(rec.expires_at * 1000));
    if let Some(at) = rec.last_receipt_at_ms {
        out.insert("last_receipt_at".into(), ms_time(at));
    }
    match rec.state {
        PushState::Pending {
            claimed_at_ms,
            sending,
        } => {
            out.insert(
                "state".into(),
                json!(if sending { "sending" } else { "pending" }),
            );
            out.insert("pushed_at".into(), ms_time(claimed_at_ms));
            out.insert("results".into(), json!([]));
        }
        PushState::Done { stored } => {
            let (results, delivered) =
                with_delivery(&stored.report.results, &stored.refs, &rec.delivered);
            let mut summary = serde_json::to_value(&stored.report.summary).expect("summary");
            summary["delivered"] = json!(delivered);
            out.insert("state".into(), json!("done"));
            if stored.pushed_at_ms > 0 {
                out.insert("pushed_at".into(), ms_time(stored.pushed_at_ms));
            }
            out.insert("results".into(), json!(results));
            out.insert("summary".into(), summary);
        }
    }
    Ok(Value::Object(out))
}

fn parse_date(field: &str, s: &str) -> Result<time::Date, ServiceError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .map_err(|_| ServiceError::invalid(field, "must be a date YYYY-MM-DD"))
}

/// `GET /v1/stats?from=&to=[&certificate_id=]`: `to` defaults to today
/// (UTC), `from` to six days before `to`.
pub async fn stats(
    ctx: &Context,
    app: &App,
    from: Option<&str>,
    to: Option<&str>,
    cert: Option<CertificateId>,
) -> Result<Value, ServiceError> {
    let today = time::OffsetDateTime::now_utc().date();
    let to = to
        .map(|t| parse_date("to", t))
        .transpose()?
        .unwrap_or(today);
    let from = from
        .map(|f| parse_date("from", f))
        .transpose()?
        .unwrap_or(to - time::Duration::days(6));
    if from > to {
        return Err(ServiceError::invalid("from", "must not be after to"));
    }
    if (to - from).whole_days() > MAX_STATS_SPAN_DAYS {
        return Err(ServiceError::invalid(
            "to",
            format!("at most {MAX_STATS_SPAN_DAYS} days after from"),
        ));
    }
    let mut days = Vec::new();
    let mut d = from;
    while d <= to {
        days.push(format!(
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        ));
        d = d.next_day().expect("a date within range");
    }
    let rows = ctx.store.read_stats(&app.id, &days, cert).await?;
    let days: Vec<Value> = rows
        .into_iter()
        .map(|row| {
            let mut m = Map::new();
            m.insert("date".into(), json!(row.date));
            for name in COUNTERS {
                m.insert(
                    name.into(),
                    json!(row.counts.get(name).copied().unwrap_or(0)),
                );
            }
            Value::Object(m)
        })
        .collect();
    let mut out = json!({ "days": days });
    if let Some(c) = cert {
        out["certificate_id"] = json!(c.get());
    }
    Ok(out)
}

/// `GET /v1/users/{user_id}/push-log[?limit=&before=]`.
pub async fn push_log(
    ctx: &Context,
    app: &App,
    user: &UserId,
    limit: Option<usize>,
    before: Option<&str>,
) -> Result<Value, ServiceError> {
    if let Some(b) = before {
        if !valid_cursor(b) {
            return Err(ServiceError::invalid(
                "before",
                "must be a cursor this API answered as next",
            ));
        }
    }
    let limit = limit.unwrap_or(DEFAULT_LOG_PAGE);
    let (entries, next) = ctx
        .store
        .read_push_log(&app.id, user, limit, before, now_ms() / 1000)
        .await?;
    let mut refs: Vec<String> = entries.iter().map(|e| e.push_ref.clone()).collect();
    refs.sort();
    refs.dedup();
    let delivered = if entries.iter().any(|e| e.refs.iter().any(Option::is_some)) {
        ctx.store.delivered_of(&app.id, &refs).await?
    } else {
        HashMap::new()
    };
    let none = HashSet::new();
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            let set = delivered.get(&e.push_ref).unwrap_or(&none);
            let (results, _) = with_delivery(&e.outcomes, &e.refs, set);
            json!({
                "request_id": e.request_id,
                "pushed_at": ms_time(e.pushed_at_ms),
                "results": results,
            })
        })
        .collect();
    let mut out = json!({ "user_id": user.as_str(), "entries": entries });
    if let Some(n) = next {
        out["next"] = json!(n);
    }
    Ok(out)
}

pub fn parse_limit(raw: Option<String>) -> Result<Option<usize>, ServiceError> {
    raw.map(|l| match l.parse::<usize>() {
        Ok(n) if (1..=MAX_LOG_PAGE).contains(&n) => Ok(n),
        _ => Err(ServiceError::invalid(
            "limit",
            format!("must be an integer from 1 to {MAX_LOG_PAGE}"),
        )),
    })
    .transpose()
}

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
