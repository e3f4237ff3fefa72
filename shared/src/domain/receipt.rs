//! Delivery receipts: the reference a push sends with its messages (vivo
//! `callback.param`, Xiaomi `extra.callback.param`, ...), which every
//! receipt brings back. Each vendor's adapter parses its own receipt bodies
//! (`vendor::Vendor::parse_receipt`).
//!
//! The reference is `op2.{YYYYMMDD}.{push_ref}.{tag}` (62 characters,
//! within the smallest vendor limit, vivo's and Xiaomi's 64): the push's
//! UTC day, so the delivered count lands on the day the push was counted;
//! its reference, so the record is found without an index; and a tag of the
//! app and certificate that sent it, so that a receipt for another app's or
//! another stack's push (vendors key receipt addresses by their own app,
//! which several offpush apps or stacks may share) never touches this
//! app's records. References made before the tag (`op1.{YYYYMMDD}.{ref}`)
//! are still read, untagged.

use super::ids::{AppId, CertificateId};
use sha2::{Digest, Sha256};

const PARAM_PREFIX: &str = "op2.";
const LEGACY_PREFIX: &str = "op1.";
const TAG_LEN: usize = 16;

/// The tag of the pushes an app sends through a certificate.
pub fn receipt_tag(app: &AppId, cert: CertificateId) -> String {
    let mut h = Sha256::new();
    h.update(app.as_str().as_bytes());
    h.update([0]);
    h.update(cert.get().to_string().as_bytes());
    hex::encode(h.finalize())[..TAG_LEN].to_string()
}

/// The `callback.param` of a push made at `pushed_at_ms`, through the
/// certificate whose [`receipt_tag`] is `tag`.
pub fn receipt_param(pushed_at_ms: i64, push_ref: &str, tag: &str) -> String {
    let day = super::utc_date(pushed_at_ms).replace('-', "");
    format!("{PARAM_PREFIX}{day}.{push_ref}.{tag}")
}

/// What a `callback.param` of ours names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptRef {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub push_ref: String,
    /// None for references made before tags.
    pub tag: Option<String>,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The push a `callback.param` names, or None when it is not one of ours.
pub fn parse_receipt_param(param: &str) -> Option<ReceiptRef> {
    let (rest, tag) = match param.strip_prefix(PARAM_PREFIX) {
        Some(rest) => {
            let (rest, tag) = rest.rsplit_once('.')?;
            if !is_hex(tag, TAG_LEN) {
                return None;
            }
            (rest, Some(tag.to_string()))
        }
        None => (param.strip_prefix(LEGACY_PREFIX)?, None),
    };
    let (day, push_ref) = rest.split_once('.')?;
    let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(day, 8) || !is_hex(push_ref, 32) {
        return None;
    }
    let (y, md) = day.split_at(4);
    let (m, d) = md.split_at(2);
    let (mi, di): (u8, u8) = (m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&mi) || !(1..=31).contains(&di) {
        return None;
    }
    Some(ReceiptRef {
        date: format!("{y}-{m}-{d}"),
        push_ref: push_ref.to_string(),
        tag,
    })
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
        let app = AppId::parse("a", "demo").unwrap();
        let tag = receipt_tag(&app, CertificateId::new(1).unwrap());
        assert_eq!(tag.len(), 16);
        assert_ne!(tag, receipt_tag(&app, CertificateId::new(2).unwrap()));
        let other = AppId::parse("a", "demo2").unwrap();
        assert_ne!(tag, receipt_tag(&other, CertificateId::new(1).unwrap()));
        let p = receipt_param(1_764_547_200_000, REF, &tag);
        assert_eq!(p, format!("op2.20251201.{REF}.{tag}"));
        assert!(p.chars().count() <= 64, "{}", p.len());
        assert_eq!(
            parse_receipt_param(&p),
            Some(ReceiptRef {
                date: "2025-12-01".into(),
                push_ref: REF.into(),
                tag: Some(tag.clone())
            })
        );
        // References made before tags are still read, untagged.
        assert_eq!(
            parse_receipt_param(&format!("op1.20251201.{REF}")),
            Some(ReceiptRef {
                date: "2025-12-01".into(),
                push_ref: REF.into(),
                tag: None
            })
        );
        for bad in [
            "",
            "op1.",
            "op2.",
            &format!("op2.20251201.{REF}"),
            &format!("op2.20251201.{REF}.abc"),
            &format!("op2.20251201.{REF}.{}", "G".repeat(16)),
            &format!("op3.20251201.{REF}.{tag}"),
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
