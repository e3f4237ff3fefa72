//! Response views, in one place: what a certificate and a binding look
//! like in answers. Secrets and whole tokens never appear: the AppSecret
//! shows its last 3 characters, a token its last 4.

use super::certificate::{Certificate, ClickAction};
use super::ids::CertificateId;
use super::{rfc3339, Binding};
use serde::Serialize;

/// The response shape: secrets are always masked (by the platform's
/// adapter, which owns the credentials' shape).
#[derive(Serialize)]
pub struct CertificateView {
    pub id: CertificateId,
    pub platform: &'static str,
    pub name: String,
    pub credentials: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_options: Option<serde_json::Value>,
    pub click_action: ClickAction,
    pub category: &'static str,
    pub push_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_id: Option<String>,
    /// Extension: whether delivery receipts are on.
    pub receipts: bool,
    /// Extension: the full URL to register in the vendor console (or, for
    /// vendors whose messages carry it, the one they carry), present only
    /// in the create or edit answer that set a new receipt secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl CertificateView {
    /// `credentials` and `options`: the adapter's masked views.
    pub fn new(
        c: &Certificate,
        credentials: serde_json::Value,
        options: Option<serde_json::Value>,
    ) -> Self {
        CertificateView {
            id: c.id,
            platform: c.platform.as_str(),
            name: c.name.clone(),
            credentials,
            vendor_options: options,
            click_action: c.click_action.clone(),
            category: c.category.as_str(),
            push_mode: c.push_mode.as_str(),
            default_title: c.default_title.clone(),
            receipt_id: c.receipt.as_ref().and_then(|r| r.receipt_id.clone()),
            receipts: c.receipt.is_some(),
            receipt_url: None,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

fn at(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(rfc3339)
        .unwrap_or_default()
}

/// The response shape of one binding.
#[derive(Serialize)]
pub struct BindingView {
    pub certificate_id: CertificateId,
    pub device_id: Option<String>,
    pub token: String,
    pub reported_at: String,
    pub expires_at: String,
    /// Extension on the report's answer: how many devices this login ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kicked_devices: Option<usize>,
}

impl From<&Binding> for BindingView {
    fn from(b: &Binding) -> Self {
        BindingView {
            certificate_id: b.certificate_id,
            device_id: b.device_id.as_ref().map(|d| d.as_str().to_string()),
            token: b.token.masked(),
            reported_at: at(b.reported_at_ms / 1000),
            expires_at: at(b.expires_at),
            kicked_devices: None,
        }
    }
}
