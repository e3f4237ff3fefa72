//! Nouns of the product, parsed at the edge. No I/O here.

pub mod app;
pub mod binding;
pub mod certificate;
pub mod ids;
pub mod input;
pub mod push;
pub mod receipt;
pub mod view;

pub use app::{App, AppSettings};
pub use binding::{Binding, UserBindings};
pub use certificate::{
    credential_text, Attr, Category, Certificate, CertificateInput, ClickAction, Platform,
    PushMode, ReceiptSecret, Receipts, Secret, VendorData,
};
pub use ids::{AppId, CertificateId, DeviceId, PushToken, UserId};
pub use push::{
    Delivery, DeliveryOutcome, DeliveryStatus, DispatchReport, NoDeviceReason, PushRequest, Summary,
};
pub use view::{BindingView, CertificateView};

/// RFC 3339 with second precision, UTC (`2026-11-26T10:53:46Z`).
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The UTC date (`YYYY-MM-DD`) of a time in ms.
pub fn utc_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc_date(0), "1970-01-01");
        assert_eq!(super::utc_date(1_764_547_199_999), "2025-11-30");
        assert_eq!(super::utc_date(1_764_547_200_000), "2025-12-01");
    }
}
