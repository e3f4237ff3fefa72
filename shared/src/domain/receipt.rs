//! Delivery receipts: the reference a push sends with its messages (vivo
//! `callback.param`, Xiaomi `extra.callback.param`, ...), which every
//! receipt brings back. Each vendor's adapter parses its own receipt bodies
//! (`vendor::Vendor::parse_receipt`).
//!
//! The reference is `op1.{YYYYMMDD}.{push_ref}` (45 characters, within the
//! smallest vendor limit, vivo's and Xiaomi's 64): the push's UTC day, so
//! the delivered count lands on the day the push was counted, and its
//! reference, so the record is found without an index.

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

/// Most targets one receipt entry may list (the vendors' own list limit is
/// 1000 per call; a receipt batches at most that per message).
pub const MAX_RECEIPT_TARGETS: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    const REF: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn params_round_trip_and_fit_the_smallest_vendor_limit() {
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
}
