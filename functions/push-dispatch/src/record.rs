//! What a push leaves behind besides its answer: the day's statistics
//! (added in the same transaction as the push record), one push log entry
//! per named user (plain writes beside it), and CloudWatch metrics in
//! Embedded Metric Format.

use offpush::domain::{
    utc_date, App, AppId, CertificateId, DeliveryStatus, PushRequest, Summary, UserId,
};
use offpush::store::keys::push_ref;
use offpush::store::pushes::StoredPush;
use offpush::store::pushlog::LogEntry;
use offpush::store::stats::StatsAdd;
use offpush::Context;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Push log writes in flight per push (each a BatchWriteItem of 25).
const LOG_WRITE_CONCURRENCY: usize = 4;

fn status_counter(s: DeliveryStatus) -> &'static str {
    s.as_str()
}

/// The statistics one push adds: the app's for the day (pushes,
/// recipients, every status) and each certificate's it went through
/// (pushes and recipients through it, its devices' statuses), all written
/// to one statistics row. Bounded by the certificates used, never by the
/// recipients.
pub fn stats_of(req: &PushRequest, stored: &StoredPush) -> Vec<StatsAdd> {
    let date = utc_date(stored.pushed_at_ms);
    let mut all = StatsAdd::new(&date, None);
    all.add("pushes", 1);
    all.add("recipients", req.to.len() as u64);
    let mut per_cert: BTreeMap<u64, (StatsAdd, HashSet<&str>)> = BTreeMap::new();
    for line in &stored.report.results {
        all.add(status_counter(line.status()), 1);
        if let Some(c) = line.certificate_id {
            let (row, users) = per_cert
                .entry(c)
                .or_insert_with(|| (StatsAdd::new(&date, CertificateId::new(c)), HashSet::new()));
            row.add(status_counter(line.status()), 1);
            users.insert(&line.user_id);
        }
    }
    let mut out = vec![all];
    for (_, (mut row, users)) in per_cert {
        row.add("pushes", 1);
        row.add("recipients", users.len() as u64);
        out.push(row);
    }
    out
}

/// One push log entry per user the push named, with that user's lines.
pub fn log_entries(req: &PushRequest, stored: &StoredPush) -> Vec<(UserId, LogEntry)> {
    let request_id = &stored.report.request_id;
    let reference = push_ref(request_id);
    let mut by_user: HashMap<&str, LogEntry> = HashMap::new();
    for (i, line) in stored.report.results.iter().enumerate() {
        let e = by_user.entry(&line.user_id).or_insert_with(|| LogEntry {
            request_id: request_id.clone(),
            push_ref: reference.clone(),
            pushed_at_ms: stored.pushed_at_ms,
            outcomes: Vec::new(),
            refs: Vec::new(),
        });
        e.outcomes.push(line.clone());
        e.refs.push(stored.refs.get(i).cloned().flatten());
    }
    req.to
        .iter()
        .filter_map(|u| by_user.remove(u.as_str()).map(|e| (u.clone(), e)))
        .collect()
}

/// Writes the push's log entries (plain batched writes, bounded by the
/// caller beside the dead-token cleanup).
pub async fn write_push_log(ctx: &Context, app: &App, entries: Vec<(UserId, LogEntry)>) {
    if entries.is_empty() {
        return;
    }
    if let Err(e) = ctx
        .store
        .put_push_log(
            &app.id,
            entries,
            ctx.record_retention_secs,
            LOG_WRITE_CONCURRENCY,
        )
        .await
    {
        tracing::error!(app = %app.id, error = %offpush::error::chain(&e), "writing the push log failed");
    }
}

/// The EMF namespace of offpush's metrics (template.yaml's alarms use it).
pub const METRICS_NAMESPACE: &str = "offpush";

/// One Embedded Metric Format line: CloudWatch turns it into metrics per
/// app (dimension `App`) and app-wide, no API call needed. Written straight to stdout,
/// outside the log formatter, as EMF requires.
pub fn metrics_line(app: &AppId, counts: &[(&str, u64)], fan_out_ms: Option<u64>) -> String {
    let mut metrics: Vec<serde_json::Value> = counts
        .iter()
        .map(|(name, _)| serde_json::json!({"Name": name, "Unit": "Count"}))
        .collect();
    let mut root = serde_json::Map::new();
    root.insert("App".into(), serde_json::json!(app.as_str()));
    for (name, v) in counts {
        root.insert((*name).into(), serde_json::json!(v));
    }
    if let Some(ms) = fan_out_ms {
        metrics.push(serde_json::json!({"Name": "FanOutLatency", "Unit": "Milliseconds"}));
        root.insert("FanOutLatency".into(), serde_json::json!(ms));
    }
    root.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": offpush::clock::now_ms(),
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                // Per app, and app-wide (the empty set) for template.yaml's alarms.
                "Dimensions": [["App"], []],
                "Metrics": metrics,
            }],
        }),
    );
    serde_json::Value::Object(root).to_string()
}

/// One EMF line of a vendor's share of a push: how long its slowest
/// certificate's share took, with dimension `Vendor` (the platform), per
/// vendor and over all vendors.
pub fn vendor_latency_line(platform: offpush::domain::Platform, ms: u64) -> String {
    serde_json::json!({
        "Vendor": platform.as_str(),
        "VendorLatency": ms,
        "_aws": {
            "Timestamp": offpush::clock::now_ms(),
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["Vendor"], []],
                "Metrics": [{"Name": "VendorLatency", "Unit": "Milliseconds"}],
            }],
        },
    })
    .to_string()
}

pub fn emit_vendor_latency(latency: &std::collections::BTreeMap<offpush::domain::Platform, u64>) {
    for (platform, ms) in latency {
        println!("{}", vendor_latency_line(*platform, *ms));
    }
}

pub fn emit_metrics(app: &AppId, s: &Summary, vendor_ms: u64) {
    let counts = [
        ("Sent", u64::from(s.sent)),
        ("NoDevice", u64::from(s.no_device)),
        ("TokenInvalid", u64::from(s.token_invalid)),
        ("Throttled", u64::from(s.throttled)),
        ("Rejected", u64::from(s.rejected)),
        ("Failed", u64::from(s.failed)),
    ];
    println!("{}", metrics_line(app, &counts, Some(vendor_ms)));
}

pub fn emit_delivered(app: &AppId, delivered: u64) {
    println!("{}", metrics_line(app, &[("Delivered", delivered)], None));
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::input::parse_body;
    use offpush::domain::{Delivery, DeliveryOutcome, DispatchReport};

    fn req(to: &[&str]) -> PushRequest {
        let body = serde_json::json!({"to": to, "desc": "d"}).to_string();
        PushRequest::parse(parse_body(body.as_bytes()).unwrap()).unwrap()
    }

    fn stored(lines: Vec<DeliveryOutcome>) -> StoredPush {
        StoredPush {
            refs: lines
                .iter()
                .map(|l| l.certificate_id.map(|_| "r".to_string()))
                .collect(),
            report: DispatchReport {
                request_id: "r1".into(),
                duplicate: false,
                summary: Summary::of(&lines),
                results: lines,
            },
            pushed_at_ms: 1_764_547_200_000,
        }
    }

    #[test]
    fn statistics_rows_are_bounded_by_certificates_not_recipients() {
        let users: Vec<String> = (0..1000).map(|i| format!("u{i}")).collect();
        let refs: Vec<&str> = users.iter().map(String::as_str).collect();
        let r = req(&refs);
        let c1 = CertificateId::new(1).unwrap();
        let c2 = CertificateId::new(2).unwrap();
        let mut lines = Vec::new();
        for (i, u) in r.to.iter().enumerate() {
            lines.push(match i % 4 {
                0 => DeliveryOutcome::no_device(u),
                1 => DeliveryOutcome::device(u, c1, None, Delivery::sent(None)),
                2 => DeliveryOutcome::device(u, c2, None, Delivery::failed("x")),
                _ => DeliveryOutcome::device(u, c1, None, Delivery::sent(None)),
            });
        }
        let rows = stats_of(&r, &stored(lines));
        assert_eq!(rows.len(), 3, "the app's row and one per certificate");
        let all = &rows[0];
        assert_eq!(all.date, "2025-12-01");
        assert_eq!(all.cert, None);
        assert_eq!(all.counts["pushes"], 1);
        assert_eq!(all.counts["recipients"], 1000);
        assert_eq!(all.counts["no_device"], 250);
        assert_eq!(all.counts["sent"], 500);
        assert_eq!(all.counts["failed"], 250);
        assert_eq!(rows[1].cert, Some(c1));
        assert_eq!(rows[1].counts["recipients"], 500);
        assert_eq!(rows[1].counts["sent"], 500);
        assert!(!rows[1].counts.contains_key("no_device"));
        assert_eq!(rows[2].counts["failed"], 250);
    }

    #[test]
    fn log_entries_are_one_per_named_user_with_that_users_lines() {
        let r = req(&["a", "b"]);
        let c = CertificateId::new(1).unwrap();
        let lines = vec![
            DeliveryOutcome::device(&r.to[0], c, None, Delivery::sent(None)),
            DeliveryOutcome::device(&r.to[0], c, None, Delivery::sent(None)),
            DeliveryOutcome::no_device(&r.to[1]),
        ];
        let entries = log_entries(&r, &stored(lines));
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0.as_str(), "a");
        assert_eq!(entries[0].1.outcomes.len(), 2);
        assert_eq!(
            entries[0].1.refs,
            [Some("r".to_string()), Some("r".to_string())]
        );
        assert_eq!(entries[1].1.refs, [None]);
        assert_eq!(entries[1].1.push_ref, push_ref("r1"));
    }

    #[test]
    fn metrics_lines_are_embedded_metric_format() {
        let app = AppId::parse("app", "demo").unwrap();
        let line = metrics_line(&app, &[("Sent", 3), ("Failed", 1)], Some(42));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["App"], "demo");
        assert_eq!(v["Sent"], 3);
        assert_eq!(v["FanOutLatency"], 42);
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], METRICS_NAMESPACE);
        assert_eq!(cw["Dimensions"], serde_json::json!([["App"], []]));
        let names: Vec<&str> = cw["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Sent", "Failed", "FanOutLatency"]);
        assert!(v["_aws"]["Timestamp"].is_i64());
    }

    #[test]
    fn vendor_latency_has_a_vendor_dimension() {
        let line = vendor_latency_line(offpush::domain::Platform::Xiaomi, 17);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (v["Vendor"].as_str(), v["VendorLatency"].as_u64()),
            (Some("xiaomi"), Some(17))
        );
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Dimensions"], serde_json::json!([["Vendor"], []]));
        assert_eq!(cw["Metrics"][0]["Name"], "VendorLatency");
    }
}
