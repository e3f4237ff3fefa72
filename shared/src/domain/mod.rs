//! Nouns of the product, parsed at the edge. No I/O here.

pub mod app;
pub mod binding;
pub mod certificate;
pub mod ids;
pub mod input;
pub mod push;
pub mod view;

pub use app::{App, AppSettings};
pub use binding::{Binding, UserBindings};
pub use certificate::{
    Category, Certificate, CertificateInput, ClickAction, PushMode, Secret, VivoCredentials,
};
pub use ids::{AppId, CertificateId, DeviceId, PushToken, UserId};
pub use push::{Delivery, DeliveryOutcome, DeliveryStatus, DispatchReport, PushRequest, Summary};
pub use view::{BindingView, CertificateView, CredentialsView};

/// RFC 3339 with second precision, UTC (`2026-11-26T10:53:46Z`).
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
