//! Delivery visibility answers (API.md "Delivery visibility"), built from
//! the store: push records, daily statistics, the per-user push log, and
//! the receipts kept raw. Push dispatch's routes and the operator tool
//! (`offpush-admin`) answer with these same shapes; only the names of the
//! inputs differ ([`QUERY`] parameters there, [`FLAGS`] here), so each
//! error names what its caller typed.

use crate::clock::now_ms;
use crate::domain::ids::mask_tail;
use crate::domain::push::{STATE_DELIVERED, STATE_SENT};
use crate::domain::{rfc3339, AppId, CertificateId, DeliveryOutcome, DeliveryStatus, UserId};
use crate::store::pushes::PushState;
use crate::store::pushlog::{valid_cursor, MAX_LOG_PAGE};
use crate::store::stats::COUNTERS;
use crate::store::Store;
use crate::ServiceError;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// Most days one statistics read spans (API.md: at most 31 days apart).
pub const MAX_STATS_SPAN_DAYS: i64 = 31;
/// Push log entries per page when no limit is given.
pub const DEFAULT_LOG_PAGE: usize = 50;

/// What the inputs of these reads are called where they came from.
pub struct InputNames {
    pub from: &'static str,
    pub to: &'static str,
    pub limit: &'static str,
    pub before: &'static str,
}

/// Query parameters of the HTTP routes.
pub const QUERY: InputNames = InputNames {
    from: "from",
    to: "to",
    limit: "limit",
    before: "before",
};

/// Flags of the operator tool.
pub const FLAGS: InputNames = InputNames {
    from: "--from",
    to: "--to",
    limit: "--limit",
    before: "--before",
};

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

/// A push record (`GET /v1/pushes/{request_id}`); NotFound outside its
/// retention.
pub async fn push_record(
    store: &Store,
    app: &AppId,
    request_id: &str,
) -> Result<Value, ServiceError> {
    let now = now_ms();
    let rec = store
        .get_push(app, request_id, now / 1000)
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

/// The UTC days `from..=to` (`YYYY-MM-DD`): `to` defaults to today, `from`
/// to six days before `to`; at most [`MAX_STATS_SPAN_DAYS`] apart.
pub fn stats_days(
    from: Option<&str>,
    to: Option<&str>,
    today: time::Date,
    names: &InputNames,
) -> Result<Vec<String>, ServiceError> {
    let to = to
        .map(|t| parse_date(names.to, t))
        .transpose()?
        .unwrap_or(today);
    let from = from
        .map(|f| parse_date(names.from, f))
        .transpose()?
        .unwrap_or(to - time::Duration::days(6));
    if from > to {
        return Err(ServiceError::invalid(
            names.from,
            format!("must not be after {}", names.to),
        ));
    }
    if (to - from).whole_days() > MAX_STATS_SPAN_DAYS {
        return Err(ServiceError::invalid(
            names.to,
            format!("at most {MAX_STATS_SPAN_DAYS} days after {}", names.from),
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
    Ok(days)
}

/// How long a statistics read may spend adding statistics kept due.
const SETTLE_BUDGET: std::time::Duration = std::time::Duration::from_secs(5);

/// Daily statistics (`GET /v1/stats`): the days of [`stats_days`], each
/// with every counter, for the app or one certificate.
pub async fn stats(
    store: &Store,
    app: &AppId,
    from: Option<&str>,
    to: Option<&str>,
    cert: Option<CertificateId>,
    names: &InputNames,
) -> Result<Value, ServiceError> {
    let today = time::OffsetDateTime::now_utc().date();
    let days = stats_days(from, to, today, names)?;
    // Statistics a write could not add in time are added first (exactly
    // once), so the answer holds every push and receipt taken. When that
    // cannot be done now (a throttled table), the rows are answered as
    // they are and the next read adds what is still due.
    if let Err(e) = store
        .settle_due_stats(app, std::time::Instant::now() + SETTLE_BUDGET)
        .await
    {
        tracing::warn!(app = %app, error = %crate::error::chain(&e), "statistics kept due not added yet: answering the rows as they are");
    }
    let rows = store.read_stats(app, &days, cert).await?;
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

/// A page of the user's push log (`GET /v1/users/{user_id}/push-log`),
/// newest first, with `next` when there may be more.
pub async fn push_log(
    store: &Store,
    app: &AppId,
    user: &UserId,
    limit: Option<usize>,
    before: Option<&str>,
    names: &InputNames,
) -> Result<Value, ServiceError> {
    if let Some(b) = before {
        if !valid_cursor(b) {
            return Err(ServiceError::invalid(
                names.before,
                "must be a cursor a push log answered as next",
            ));
        }
    }
    let limit = limit.unwrap_or(DEFAULT_LOG_PAGE);
    let (entries, next) = store
        .read_push_log(app, user, limit, before, now_ms() / 1000)
        .await?;
    let mut refs: Vec<String> = entries.iter().map(|e| e.push_ref.clone()).collect();
    refs.sort();
    refs.dedup();
    let delivered = if entries.iter().any(|e| e.refs.iter().any(Option::is_some)) {
        store.delivered_of(app, &refs).await?
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

/// A push log page size as given: 1 to [`MAX_LOG_PAGE`].
pub fn parse_limit(raw: Option<String>, names: &InputNames) -> Result<Option<usize>, ServiceError> {
    raw.map(|l| match l.parse::<usize>() {
        Ok(n) if (1..=MAX_LOG_PAGE).contains(&n) => Ok(n),
        _ => Err(ServiceError::invalid(
            names.limit,
            format!("must be an integer from 1 to {MAX_LOG_PAGE}"),
        )),
    })
    .transpose()
}

/// Keys whose string values in a kept receipt are shown whole: vivo's
/// references and texts, never a device's.
const PLAIN_RECEIPT_KEYS: [&str; 5] = ["param", "callback.param", "taskId", "requestId", "desc"];

/// A kept receipt body for an operator: its shape, numbers and references
/// as received, every other string (regIds, aliases, whatever a newer
/// shape carries) masked to its last characters, each comma-separated
/// part on its own, so no whole token is shown.
pub fn masked_receipt_body(body: &str) -> Value {
    fn mask(v: Value, plain: bool) -> Value {
        match v {
            Value::String(s) if !plain => Value::String(
                s.split(',')
                    .map(|p| mask_tail(p.trim(), 4))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Value::Array(a) => Value::Array(a.into_iter().map(|v| mask(v, plain)).collect()),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| {
                        let plain = PLAIN_RECEIPT_KEYS.contains(&k.as_str());
                        (k, mask(v, plain))
                    })
                    .collect(),
            ),
            other => other,
        }
    }
    match serde_json::from_str(body) {
        Ok(v) => mask(v, false),
        // The receipt route keeps JSON only; anything else is not shown.
        Err(_) => Value::Null,
    }
}

/// The app's receipts kept raw (those that named no push of ours, in whole
/// or in part), newest first, bodies masked as [`masked_receipt_body`].
pub async fn raw_receipts(store: &Store, app: &AppId) -> Result<Value, ServiceError> {
    let kept = store.raw_receipts(app, now_ms() / 1000).await?;
    let receipts: Vec<Value> = kept
        .into_iter()
        .map(|r| {
            json!({
                "certificate_id": r.certificate_id,
                "received_at": ms_time(r.received_at_ms),
                "body": masked_receipt_body(&r.body),
            })
        })
        .collect();
    Ok(json!({ "app_id": app.as_str(), "receipts": receipts }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> time::Date {
        parse_date("d", s).unwrap()
    }

    #[test]
    fn stats_days_default_to_the_week_up_to_today_and_name_the_input() {
        let today = date("2026-03-02");
        let week = stats_days(None, None, today, &QUERY).unwrap();
        assert_eq!(week.len(), 7);
        assert_eq!(week[0], "2026-02-24");
        assert_eq!(week[6], "2026-03-02");
        let one = stats_days(Some("2025-12-31"), Some("2025-12-31"), today, &QUERY).unwrap();
        assert_eq!(one, ["2025-12-31"]);
        assert_eq!(
            stats_days(Some("2026-01-01"), Some("2026-02-01"), today, &QUERY)
                .unwrap()
                .len(),
            32,
            "31 days apart is the most"
        );
        let e = stats_days(Some("2026-01-01"), Some("2026-02-02"), today, &FLAGS).unwrap_err();
        assert_eq!(e.field(), Some("--to"));
        assert_eq!(e.to_string(), "--to: at most 31 days after --from");
        let e = stats_days(Some("2026-01-02"), Some("2026-01-01"), today, &QUERY).unwrap_err();
        assert_eq!(e.to_string(), "from: must not be after to");
        let e = stats_days(Some("2026-1-2"), None, today, &FLAGS).unwrap_err();
        assert_eq!(e.field(), Some("--from"));
        let e = stats_days(None, Some("2026-02-30"), today, &QUERY).unwrap_err();
        assert_eq!(e.field(), Some("to"));
    }

    #[test]
    fn limits_are_one_to_a_page() {
        assert_eq!(parse_limit(None, &QUERY).unwrap(), None);
        assert_eq!(parse_limit(Some("100".into()), &QUERY).unwrap(), Some(100));
        for bad in ["0", "101", "-1", "x", ""] {
            let e = parse_limit(Some(bad.into()), &FLAGS).unwrap_err();
            assert_eq!(e.field(), Some("--limit"), "{bad}");
        }
    }

    #[test]
    fn kept_receipts_show_their_shape_but_no_whole_token() {
        let body = json!({
            "t1": {"param": "someone-else", "targets": "regid-0001-x-aaaa, regid-0002-x-bbbb"},
            "t2": {"result": 301, "regIds": ["regid-0003-x-cccc"], "taskId": "t2"},
        })
        .to_string();
        let shown = masked_receipt_body(&body);
        assert_eq!(shown["t1"]["param"], "someone-else");
        assert_eq!(shown["t1"]["targets"], "****aaaa,****bbbb");
        assert_eq!(shown["t2"]["result"], 301);
        assert_eq!(shown["t2"]["regIds"], json!(["****cccc"]));
        assert_eq!(shown["t2"]["taskId"], "t2");
        let text = shown.to_string();
        for token in [
            "regid-0001-x-aaaa",
            "regid-0002-x-bbbb",
            "regid-0003-x-cccc",
        ] {
            assert!(!text.contains(token), "{text}");
        }
        assert_eq!(
            masked_receipt_body("not json regid-0001-x-aaaa"),
            Value::Null
        );
    }
}
