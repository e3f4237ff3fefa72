//! vivo delivery receipts (VIVO_API.md 1.8): the reference a push sends as
//! `callback.param`, and the receipt bodies vivo posts back.
//!
//! `callback.param` is `op1.{YYYYMMDD}.{push_ref}` (45 characters, within
//! the older 64-character limit): the push's UTC day, so the delivered count
//! lands on the day the push was counted, and its reference, so the record
//! is found without an index.

use crate::error::ServiceError;
use serde_json::Value;

const PARAM_PREFIX: &str = "op1.";

/// The `callback.param` of a push made at `pushed_at_ms`.
pub fn receipt_param(pushed_at_ms: i64, push_ref: &str) -> String {
    let day = super::utc_date(pushed_at_ms).replace('-', "");
    format!("{PARAM_PREFIX}{day}.{push_ref}")
}

/// The push a `callback.param` names: (`YYYY-MM-DD`, push_ref), or None
/// when it is not one of ours.
pub fn parse_receipt_param(param: &str) -> Option<(String, String)> {
    let rest = param.strip_prefix(PARAM_PREFIX)?;
    let (day, push_ref) = rest.split_once('.')?;
    let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    let hex = push_ref.len() == 32
        && push_ref
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !digits(day, 8) || !hex {
        return None;
    }
    let (y, md) = day.split_at(4);
    let (m, d) = md.split_at(2);
    let (mi, di): (u8, u8) = (m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&mi) || !(1..=31).contains(&di) {
        return None;
    }
    Some((format!("{y}-{m}-{d}"), push_ref.to_string()))
}

/// The regIds one receipt entry reports delivered, for one push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptEntry {
    pub task_id: String,
    pub date: String,
    pub push_ref: String,
    pub targets: Vec<String>,
}

/// A receipt body, taken apart: the entries that name a push of ours, and
/// whether anything else was in it (then the body is kept raw).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedReceipt {
    pub entries: Vec<ReceiptEntry>,
    pub unmatched: usize,
}

/// Most targets one receipt entry may list (vivo's own list limit is 1000
/// per call; a receipt batches at most that per taskId).
pub const MAX_RECEIPT_TARGETS: usize = 1000;

/// Parses a receipt body. The legacy shape is an object keyed by taskId
/// whose values are `{"param": ..., "targets": "reg1,reg2"}`; anything else
/// inside a well-formed object (a newer shape, a param not ours) counts as
/// unmatched, not as an error, so vivo is answered 200 and the body kept.
/// Not JSON, or not an object: 400.
pub fn parse_receipt(body: &[u8]) -> Result<ParsedReceipt, ServiceError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ServiceError::invalid_body("receipt body: not valid JSON"))?;
    let Value::Object(map) = value else {
        return Err(ServiceError::invalid_body(
            "receipt body: a JSON object keyed by taskId is required",
        ));
    };
    let mut out = ParsedReceipt::default();
    for (task_id, v) in map {
        let param = v.get("param").and_then(Value::as_str);
        let targets = v.get("targets").and_then(Value::as_str);
        let (Some(param), Some(targets)) = (param, targets) else {
            out.unmatched += 1;
            continue;
        };
        let Some((date, push_ref)) = parse_receipt_param(param) else {
            out.unmatched += 1;
            continue;
        };
        let targets: Vec<String> = targets
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if targets.len() > MAX_RECEIPT_TARGETS {
            return Err(ServiceError::invalid(
                format!("{task_id}.targets"),
                format!("at most {MAX_RECEIPT_TARGETS} targets per taskId"),
            ));
        }
        out.entries.push(ReceiptEntry {
            task_id,
            date,
            push_ref,
            targets,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REF: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn params_round_trip_and_fit_vivos_smaller_limit() {
        let p = receipt_param(1_764_547_200_000, REF);
        assert_eq!(p, format!("op1.20251201.{REF}"));
        assert!(p.chars().count() <= 64);
        assert_eq!(
            parse_receipt_param(&p),
            Some(("2025-12-01".to_string(), REF.to_string()))
        );
        for bad in [
            "",
            "op1.",
            "op2.20251201.0123456789abcdef0123456789abcdef",
            "op1.2025120.0123456789abcdef0123456789abcdef",
            "op1.20251301.0123456789abcdef0123456789abcdef",
            "op1.20251201.0123456789ABCDEF0123456789abcdef",
            "op1.20251201.0123",
            "user-param",
        ] {
            assert_eq!(parse_receipt_param(bad), None, "{bad}");
        }
    }

    #[test]
    fn legacy_bodies_split_into_entries_and_the_rest_is_unmatched() {
        let body = serde_json::json!({
            "t1": {"param": format!("op1.20251201.{REF}"), "targets": "r1, r2,,r3"},
            "t2": {"param": "someone-else", "targets": "r9"},
            "t3": {"result": 300},
        });
        let p = parse_receipt(body.to_string().as_bytes()).unwrap();
        assert_eq!(p.unmatched, 2);
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.entries[0].targets, ["r1", "r2", "r3"]);
        assert_eq!(p.entries[0].date, "2025-12-01");
        for bad in ["", "[]", "\"x\"", "{", "null"] {
            assert!(parse_receipt(bad.as_bytes()).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..1001).map(|i| format!("r{i}")).collect();
        let body = serde_json::json!({"t": {"param": format!("op1.20251201.{REF}"), "targets": many.join(",")}});
        let e = parse_receipt(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.field(), Some("t.targets"));
    }
}
