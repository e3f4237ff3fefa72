//! Push requests and their per-recipient outcomes (API.md "Push dispatch").

use super::certificate::{Category, ClickAction};
use super::ids::{CertificateId, DeviceId, UserId};
use super::input::{char_len, Obj};
use crate::error::ServiceError;
use serde::Serialize;
use std::collections::HashSet;

pub const MAX_RECIPIENTS: usize = 1000;
pub const DEFAULT_TITLE: &str = "a new message";
/// vivo: title at most 40 characters, every character counting 1 (the newer
/// of the two readings in VIVO_API.md 1.3; the API contract fixes 40).
pub const MAX_TITLE_CHARS: usize = 40;
pub const MAX_DESC_CHARS: usize = 100;
/// API.md caps `ext` at 1024 bytes, but vivo counts all keys plus values of
/// clientCustomMap against 1024 characters (VIVO_API.md 1.3), and `ext`
/// travels under the 3-character key "ext". The safer reading: refuse what
/// vivo would refuse, with a 400 naming the field, rather than a vendor
/// rejection after the fact.
pub const MAX_EXT_BYTES: usize = 1024 - 3;
pub const MIN_TTL_SECS: i64 = 60;
pub const MAX_TTL_SECS: i64 = 86_400;
pub const DEFAULT_TTL_SECS: u32 = 86_400;
pub const MAX_REQUEST_ID_CHARS: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub struct PushRequest {
    pub to: Vec<UserId>,
    /// None: the certificate's `default_title`, else [`DEFAULT_TITLE`].
    pub title: Option<String>,
    pub desc: String,
    pub ext: Option<String>,
    pub category: Option<Category>,
    pub ttl_seconds: u32,
    /// None: the service generates one.
    pub request_id: Option<String>,
    pub click_action: Option<ClickAction>,
    pub notify_id: Option<u32>,
}

/// A notification text: not blank, at most `max` characters (Unicode
/// scalar values, as vivo counts), no control characters.
pub fn text(field: &str, s: &str, max: usize) -> Result<(), ServiceError> {
    if s.trim().is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    super::input::check_printable(field, s)?;
    if char_len(s) > max {
        return Err(ServiceError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

/// A request id: 1 to 64 characters, no control characters.
pub fn check_request_id(r: &str) -> Result<(), ServiceError> {
    if r.is_empty() || char_len(r) > MAX_REQUEST_ID_CHARS {
        return Err(ServiceError::invalid(
            "request_id",
            format!("must be 1 to {MAX_REQUEST_ID_CHARS} characters"),
        ));
    }
    if r.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "request_id",
            "must not contain control characters",
        ));
    }
    Ok(())
}

impl PushRequest {
    pub fn parse(mut body: Obj) -> Result<Self, ServiceError> {
        body.deny_unknown(&[
            "to",
            "title",
            "desc",
            "ext",
            "category",
            "ttl_seconds",
            "request_id",
            "click_action",
            "notify_id",
        ])?;
        let raw_to = body
            .opt_array("to")?
            .ok_or_else(|| ServiceError::invalid("to", "is required"))?;
        if raw_to.is_empty() || raw_to.len() > MAX_RECIPIENTS {
            return Err(ServiceError::invalid(
                "to",
                format!("must list 1 to {MAX_RECIPIENTS} user ids"),
            ));
        }
        let mut to = Vec::with_capacity(raw_to.len());
        let mut seen = HashSet::with_capacity(raw_to.len());
        for (i, v) in raw_to.iter().enumerate() {
            let field = format!("to[{i}]");
            let s = v
                .as_str()
                .ok_or_else(|| ServiceError::invalid(field.clone(), "must be a string"))?;
            let user = UserId::parse(&field, s)?;
            if !seen.insert(user.clone()) {
                return Err(ServiceError::invalid(field, "duplicate user id"));
            }
            to.push(user);
        }
        let title = body.opt_str("title")?;
        if let Some(t) = &title {
            text("title", t, MAX_TITLE_CHARS)?;
        }
        let desc = body.req_str("desc")?;
        text("desc", &desc, MAX_DESC_CHARS)?;
        let ext = body.opt_str("ext")?;
        if let Some(e) = &ext {
            if e.len() > MAX_EXT_BYTES {
                return Err(ServiceError::invalid(
                    "ext",
                    format!("at most {MAX_EXT_BYTES} bytes (vivo counts the key \"ext\" within its 1024)"),
                ));
            }
        }
        let category = body
            .opt_str("category")?
            .map(|c| Category::parse("category", &c))
            .transpose()?;
        let ttl_seconds = body
            .opt_int("ttl_seconds", MIN_TTL_SECS, MAX_TTL_SECS)?
            .map(|t| t as u32)
            .unwrap_or(DEFAULT_TTL_SECS);
        let request_id = body.opt_str("request_id")?;
        if let Some(r) = &request_id {
            check_request_id(r)?;
        }
        let click_action = body
            .opt_obj("click_action")?
            .map(ClickAction::parse)
            .transpose()?;
        let notify_id = body
            .opt_int("notify_id", 1, i64::from(i32::MAX))?
            .map(|n| n as u32);
        Ok(PushRequest {
            to,
            title,
            desc,
            ext,
            category,
            ttl_seconds,
            request_id,
            click_action,
            notify_id,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    NoDevice,
    TokenInvalid,
    Throttled,
    Rejected,
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 6] = [
        DeliveryStatus::Sent,
        DeliveryStatus::NoDevice,
        DeliveryStatus::TokenInvalid,
        DeliveryStatus::Throttled,
        DeliveryStatus::Rejected,
        DeliveryStatus::Failed,
    ];

    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::NoDevice => "no_device",
            DeliveryStatus::TokenInvalid => "token_invalid",
            DeliveryStatus::Throttled => "throttled",
            DeliveryStatus::Rejected => "rejected",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// What a vendor channel made of one target: the status and what goes
/// with it. Part of every [`DeliveryOutcome`].
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Delivery {
    pub status: DeliveryStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Extension: the vendor's own code for this outcome (`"10302"`,
    /// `"20301"`, `"no_answer"`), beside the prose of `detail`, so that
    /// statistics and alarms need not parse prose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_code: Option<String>,
}

impl Delivery {
    pub fn new(status: DeliveryStatus, detail: Option<String>) -> Self {
        Delivery {
            status,
            vendor_task_id: None,
            retry_after_s: None,
            detail,
            vendor_code: None,
        }
    }

    pub fn sent(task_id: Option<String>) -> Self {
        Delivery {
            vendor_task_id: task_id,
            ..Delivery::new(DeliveryStatus::Sent, None)
        }
    }

    pub fn failed(detail: impl Into<String>) -> Self {
        Delivery::new(DeliveryStatus::Failed, Some(detail.into()))
    }
}

/// Why a user had no device to push to (API.md "Delivery visibility":
/// push-log reasons; also on every `no_device` line of a push's answer,
/// an extension).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct NoDeviceReason {
    /// never_reported, logged_out, kicked, token_moved, token_dead,
    /// expired or certificate_deleted.
    pub code: String,
    /// When it happened (RFC 3339), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// logged_out: `device` or `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// kicked: the device whose login ended the binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The certificate of the binding that ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<u64>,
}

impl NoDeviceReason {
    pub fn never_reported() -> Self {
        NoDeviceReason {
            code: "never_reported".into(),
            at: None,
            by: None,
            device_id: None,
            certificate_id: None,
        }
    }
}

/// Per-device delivery state in a push record: `sent`, then `delivered`
/// once the vendor's receipt names the device.
pub const STATE_SENT: &str = "sent";
pub const STATE_DELIVERED: &str = "delivered";

/// One line of the report: a device of a user, or a user with none.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct DeliveryOutcome {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(flatten)]
    pub delivery: Delivery,
    /// `no_device` only: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<NoDeviceReason>,
    /// Push records only (`GET /v1/pushes/...`, push log): `sent` or
    /// `delivered` for a device vivo accepted the push for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_state: Option<String>,
}

impl DeliveryOutcome {
    pub fn no_device(user: &UserId) -> Self {
        DeliveryOutcome {
            user_id: user.as_str().to_string(),
            certificate_id: None,
            device_id: None,
            delivery: Delivery::new(DeliveryStatus::NoDevice, None),
            reason: None,
            delivery_state: None,
        }
    }

    pub fn device(
        user: &UserId,
        cert: CertificateId,
        device: Option<&DeviceId>,
        delivery: Delivery,
    ) -> Self {
        DeliveryOutcome {
            user_id: user.as_str().to_string(),
            certificate_id: Some(cert.get()),
            device_id: device.map(|d| d.as_str().to_string()),
            delivery,
            reason: None,
            delivery_state: None,
        }
    }

    pub fn status(&self) -> DeliveryStatus {
        self.delivery.status
    }
}

/// The whole answer of a push.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct DispatchReport {
    pub request_id: String,
    pub duplicate: bool,
    pub results: Vec<DeliveryOutcome>,
    pub summary: Summary,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Summary {
    pub sent: u32,
    pub no_device: u32,
    pub token_invalid: u32,
    pub throttled: u32,
    pub rejected: u32,
    pub failed: u32,
}

impl Summary {
    pub fn of(results: &[DeliveryOutcome]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            let n = match r.status() {
                DeliveryStatus::Sent => &mut s.sent,
                DeliveryStatus::NoDevice => &mut s.no_device,
                DeliveryStatus::TokenInvalid => &mut s.token_invalid,
                DeliveryStatus::Throttled => &mut s.throttled,
                DeliveryStatus::Rejected => &mut s.rejected,
                DeliveryStatus::Failed => &mut s.failed,
            };
            *n += 1;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::input::parse_body;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<PushRequest, ServiceError> {
        PushRequest::parse(parse_body(v.to_string().as_bytes()).unwrap())
    }

    fn field(v: serde_json::Value) -> String {
        parse(v).unwrap_err().field().unwrap().to_string()
    }

    #[test]
    fn defaults() {
        let p = parse(json!({"to": ["a"], "desc": "hi"})).unwrap();
        assert_eq!(
            p.title, None,
            "the certificate's default_title, else \"a new message\""
        );
        assert_eq!(p.ttl_seconds, 86_400);
        assert!(p.request_id.is_none() && p.category.is_none() && p.click_action.is_none());
    }

    #[test]
    fn limits_count_unicode_scalar_values() {
        let forty = "你".repeat(40);
        assert!(parse(json!({"to": ["a"], "desc": "d", "title": forty})).is_ok());
        assert_eq!(
            field(json!({"to": ["a"], "desc": "d", "title": "你".repeat(41)})),
            "title"
        );
        assert!(parse(json!({"to": ["a"], "desc": "😀".repeat(100)})).is_ok());
        assert_eq!(
            field(json!({"to": ["a"], "desc": "😀".repeat(101)})),
            "desc"
        );
    }

    #[test]
    fn every_rule_names_its_field() {
        let users: Vec<String> = (0..1001).map(|i| format!("u{i}")).collect();
        let cases = [
            (json!({"desc": "d"}), "to"),
            (json!({"to": [], "desc": "d"}), "to"),
            (json!({"to": users, "desc": "d"}), "to"),
            (json!({"to": ["a", "a"], "desc": "d"}), "to[1]"),
            (json!({"to": ["a", 5], "desc": "d"}), "to[1]"),
            (json!({"to": "a", "desc": "d"}), "to"),
            (json!({"to": ["a"]}), "desc"),
            (json!({"to": ["a"], "desc": "  "}), "desc"),
            (json!({"to": ["a"], "desc": "d", "title": ""}), "title"),
            (
                json!({"to": ["a"], "desc": "d", "title": "a\u{0}b"}),
                "title",
            ),
            (json!({"to": ["a"], "desc": "ring\u{7}"}), "desc"),
            (
                json!({"to": ["a"], "desc": "d", "ext": "x".repeat(1022)}),
                "ext",
            ),
            (json!({"to": ["a"], "desc": "d", "ext": {"a": 1}}), "ext"),
            (
                json!({"to": ["a"], "desc": "d", "ttl_seconds": 59}),
                "ttl_seconds",
            ),
            (
                json!({"to": ["a"], "desc": "d", "ttl_seconds": 86401}),
                "ttl_seconds",
            ),
            (
                json!({"to": ["a"], "desc": "d", "request_id": "r".repeat(65)}),
                "request_id",
            ),
            (
                json!({"to": ["a"], "desc": "d", "category": "im"}),
                "category",
            ),
            (
                json!({"to": ["a"], "desc": "d", "click_action": {"type": "open_url"}}),
                "click_action.url",
            ),
            (
                json!({"to": ["a"], "desc": "d", "notify_id": 0}),
                "notify_id",
            ),
            (
                json!({"to": ["a"], "desc": "d", "notify_id": 2147483648u64}),
                "notify_id",
            ),
            (json!({"to": ["a"], "desc": "d", "priority": 1}), "priority"),
        ];
        for (v, f) in cases {
            assert_eq!(field(v.clone()), f, "{v}");
        }
        let thousand: Vec<String> = (0..1000).map(|i| format!("u{i}")).collect();
        assert!(parse(json!({"to": thousand, "desc": "d", "ext": "x".repeat(1021), "ttl_seconds": 60, "request_id": "r".repeat(64)})).is_ok());
    }

    #[test]
    fn summary_counts_each_status() {
        let u = UserId::parse("u", "a").unwrap();
        let c = CertificateId::new(1).unwrap();
        let rs = vec![
            DeliveryOutcome::no_device(&u),
            DeliveryOutcome::device(&u, c, None, Delivery::sent(None)),
            DeliveryOutcome::device(&u, c, None, Delivery::sent(None)),
            DeliveryOutcome::device(&u, c, None, Delivery::failed("x")),
        ];
        let s = Summary::of(&rs);
        assert_eq!((s.sent, s.no_device, s.failed, s.throttled), (2, 1, 1, 0));
    }
}

#[cfg(test)]
mod outcome_tests {
    use super::*;

    #[test]
    fn wire_names_are_serdes() {
        for s in DeliveryStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn outcomes_serialize_flat_and_read_back_as_the_enum() {
        let u = UserId::parse("u", "a").unwrap();
        let c = CertificateId::new(7).unwrap();
        let mut d = Delivery::sent(Some("t1".into()));
        d.retry_after_s = None;
        let o = DeliveryOutcome::device(&u, c, None, d);
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"user_id": "a", "certificate_id": 7, "status": "sent", "vendor_task_id": "t1"})
        );
        let back: DeliveryOutcome = serde_json::from_value(v).unwrap();
        assert_eq!(back, o);
        assert_eq!(back.status(), DeliveryStatus::Sent);
        let bad = serde_json::json!({"user_id": "a", "status": "delivered_maybe"});
        assert!(serde_json::from_value::<DeliveryOutcome>(bad).is_err());
    }
}
