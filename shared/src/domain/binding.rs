//! Bindings: which devices (vendor tokens) of a user get offline pushes.
//!
//! All of a user's bindings live in one record ([`UserBindings`]), so push
//! dispatch reads 100 users per BatchGetItem, and every change to a user's
//! devices is one versioned write.

use super::ids::{CertificateId, DeviceId, PushToken, MAX_CERTIFICATE_ID};
use super::input::Obj;
use crate::error::ServiceError;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Most per-device logout marks a user's record keeps. Older marks fold
/// into [`UserBindings::logouts_floor_ms`], so a storm of logouts of made-up
/// device ids cannot grow the item toward DynamoDB's 400 KB limit.
pub const MAX_LOGOUT_MARKS: usize = 32;

/// Most binding endings a user's record remembers, newest kept: enough to
/// say why a user is not reached ("kicked at T by a login on D"), bounded
/// so that the record never grows with churn.
pub const MAX_ENDED: usize = 16;
/// How long an ending is remembered: the longest push record retention
/// (31 days), so a push log entry can always be explained.
pub const ENDED_RETENTION_MS: i64 = 31 * 86_400_000;

/// Why a binding ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// `DELETE /v1/push-token` or an empty-token report from the device.
    LoggedOutByDevice,
    /// `POST /v1/users/{user_id}/logout`.
    LoggedOutByAdmin,
    /// A login on another device past the device limit.
    Kicked { by_device: Option<DeviceId> },
    /// Another user of the app reported the same token.
    TokenMoved,
    /// The vendor said the token is dead.
    TokenDead,
    /// Not re-reported within the app's binding TTL.
    Expired,
}

impl EndReason {
    pub fn code(&self) -> &'static str {
        match self {
            EndReason::LoggedOutByDevice | EndReason::LoggedOutByAdmin => "logged_out",
            EndReason::Kicked { .. } => "kicked",
            EndReason::TokenMoved => "token_moved",
            EndReason::TokenDead => "token_dead",
            EndReason::Expired => "expired",
        }
    }
}

/// One remembered binding ending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ended {
    pub certificate_id: CertificateId,
    pub device_id: Option<DeviceId>,
    pub why: EndReason,
    pub at_ms: i64,
}

/// A token report (`PUT /v1/push-token`), parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub certificate_id: CertificateId,
    /// None: the empty token, "disable offline push for this device".
    pub token: Option<PushToken>,
    pub device_id: Option<DeviceId>,
}

impl Report {
    pub fn parse(mut obj: Obj) -> Result<Self, ServiceError> {
        obj.deny_unknown(&["certificate_id", "token", "device_id"])?;
        let id = obj
            .opt_int("certificate_id", 1, MAX_CERTIFICATE_ID as i64)?
            .ok_or_else(|| ServiceError::invalid("certificate_id", "is required"))?;
        let certificate_id = CertificateId::new(id as u64).expect("range checked");
        let token = obj.req_str("token")?;
        let token = if token.is_empty() {
            None
        } else {
            Some(PushToken::parse("token", &token)?)
        };
        let device_id = obj
            .opt_str("device_id")?
            .map(|d| DeviceId::parse("device_id", &d))
            .transpose()?;
        Ok(Report {
            certificate_id,
            token,
            device_id,
        })
    }
}

/// Which device a logout names.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceSelector {
    DeviceId(DeviceId),
    Token(PushToken),
}

/// How long logout tombstones are kept: longer than any request can run
/// (API Gateway: 30 s), so a report that started before a logout always
/// finds the logout's mark when it tries to write.
pub const TOMBSTONE_RETENTION_MS: i64 = 15 * 60 * 1000;

#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub certificate_id: CertificateId,
    pub token: PushToken,
    pub device_id: Option<DeviceId>,
    pub reported_at_ms: i64,
    /// Epoch seconds; past it the binding is absent, whatever the table holds.
    pub expires_at: i64,
}

impl Binding {
    pub fn is_live(&self, now_secs: i64) -> bool {
        self.expires_at > now_secs
    }
}

/// The key of a device within its user: its device_id when it reported one,
/// else its token (hashed: the key is not where a token should be read).
pub fn device_key(device_id: Option<&DeviceId>, token: &PushToken) -> String {
    match device_id {
        Some(d) => format!("d:{}", d.as_str()),
        None => token_device_key(token),
    }
}

pub fn token_device_key(token: &PushToken) -> String {
    let digest = hex::encode(Sha256::digest(token.expose().as_bytes()));
    format!("t:{}", &digest[..32])
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserBindings {
    /// 0 when the user has no record yet; every write increments it and is
    /// conditioned on the value it read (optimistic concurrency).
    pub version: u64,
    pub devices: BTreeMap<String, Binding>,
    /// device key -> when that device logged out (ms).
    pub device_logouts: BTreeMap<String, i64>,
    /// When the user was logged out everywhere (ms).
    pub logged_out_at_ms: Option<i64>,
    /// The newest device logout mark that was folded away (ms): a report
    /// that started at or before it is refused as if its own device's mark
    /// were still there (the client reports again after login).
    pub logouts_floor_ms: Option<i64>,
    /// The newest binding endings, oldest first, at most [`MAX_ENDED`].
    pub ended: Vec<Ended>,
}

impl UserBindings {
    /// Live bindings only: expired ones are absent (DynamoDB deletes lazily).
    pub fn live(&self, now_secs: i64) -> impl Iterator<Item = (&String, &Binding)> {
        self.devices
            .iter()
            .filter(move |(_, b)| b.is_live(now_secs))
    }

    /// Remembers that `b` ended at `at_ms` for `why` (bounded: the oldest
    /// ending is forgotten first).
    pub fn record_end(&mut self, b: &Binding, why: EndReason, at_ms: i64) {
        self.ended.push(Ended {
            certificate_id: b.certificate_id,
            device_id: b.device_id.clone(),
            why,
            at_ms,
        });
        self.ended.sort_by_key(|e| e.at_ms);
        if self.ended.len() > MAX_ENDED {
            let extra = self.ended.len() - MAX_ENDED;
            self.ended.drain(..extra);
        }
    }

    /// Drops expired bindings (remembering them as expired) and tombstones
    /// nobody can race any more.
    pub fn prune(&mut self, now_ms: i64) {
        let now_secs = now_ms / 1000;
        let expired: Vec<Binding> = self
            .devices
            .values()
            .filter(|b| !b.is_live(now_secs))
            .cloned()
            .collect();
        for b in &expired {
            self.record_end(b, EndReason::Expired, b.expires_at * 1000);
        }
        self.ended.retain(|e| now_ms - e.at_ms < ENDED_RETENTION_MS);
        self.devices.retain(|_, b| b.is_live(now_secs));
        self.device_logouts
            .retain(|_, at| now_ms - *at < TOMBSTONE_RETENTION_MS);
        for mark in [&mut self.logged_out_at_ms, &mut self.logouts_floor_ms] {
            if mark.is_some_and(|at| now_ms - at >= TOMBSTONE_RETENTION_MS) {
                *mark = None;
            }
        }
    }

    /// Marks a device logged out at `now_ms`, keeping at most
    /// [`MAX_LOGOUT_MARKS`] marks: the oldest fold into the floor.
    pub fn mark_device_logout(&mut self, key: &str, now_ms: i64) {
        self.device_logouts.insert(key.to_string(), now_ms);
        while self.device_logouts.len() > MAX_LOGOUT_MARKS {
            let (oldest, at) = self
                .device_logouts
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, at)| (k.clone(), *at))
                .expect("over the limit");
            self.device_logouts.remove(&oldest);
            self.logouts_floor_ms = Some(self.logouts_floor_ms.map_or(at, |f| f.max(at)));
        }
    }

    /// True when a logout of this device (or of the whole user) happened at
    /// or after `started_ms`: a report that started before it must not undo it.
    pub fn logged_out_since(&self, device_key: &str, started_ms: i64) -> bool {
        self.logged_out_at_ms.is_some_and(|at| at >= started_ms)
            || self.logouts_floor_ms.is_some_and(|at| at >= started_ms)
            || self
                .device_logouts
                .get(device_key)
                .is_some_and(|at| *at >= started_ms)
    }

    /// The item's TTL: when nothing in it matters any more. Always set,
    /// also once the last binding ended: at least the tombstone retention
    /// from `now_ms`, so an emptied record is deleted, never kept forever.
    pub fn item_expiry(&self, now_ms: i64) -> i64 {
        let bindings = self.devices.values().map(|b| b.expires_at);
        let marks = self
            .device_logouts
            .values()
            .chain(self.logged_out_at_ms.iter())
            .chain(self.logouts_floor_ms.iter())
            .chain(std::iter::once(&now_ms))
            .map(|at| (at + TOMBSTONE_RETENTION_MS) / 1000 + 1);
        let endings = self
            .ended
            .iter()
            .map(|e| (e.at_ms + ENDED_RETENTION_MS) / 1000 + 1);
        bindings
            .chain(marks)
            .chain(endings)
            .max()
            .expect("now is always there")
    }
}

fn ms_rfc3339(ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .map(super::rfc3339)
}

/// Why a user with this record (None: no record at all) has no binding a
/// push reaches, given the app's live certificates, its recently deleted
/// ones (id -> ms) and the time. The newest cause wins: a binding still
/// held but unusable (expired, certificate deleted), else the latest
/// remembered ending, else an admin logout, else never reported.
pub fn why_unreachable(
    state: Option<&UserBindings>,
    live_certs: &std::collections::HashSet<CertificateId>,
    deleted_certs: &std::collections::HashMap<CertificateId, i64>,
    now_ms: i64,
) -> super::push::NoDeviceReason {
    use super::push::NoDeviceReason;
    let Some(state) = state else {
        return NoDeviceReason::never_reported();
    };
    let reason = |code: &str, at_ms: Option<i64>, cert: CertificateId| NoDeviceReason {
        code: code.into(),
        at: at_ms.and_then(ms_rfc3339),
        by: None,
        device_id: None,
        certificate_id: Some(cert.get()),
    };
    let now_secs = now_ms / 1000;
    // Held bindings a push cannot use, newest first.
    let held = state
        .devices
        .values()
        .filter_map(|b| {
            if !live_certs.contains(&b.certificate_id) {
                let at = deleted_certs.get(&b.certificate_id).copied();
                Some((
                    at.unwrap_or(i64::MIN),
                    reason("certificate_deleted", at, b.certificate_id),
                ))
            } else if !b.is_live(now_secs) {
                let at = b.expires_at * 1000;
                Some((at, reason("expired", Some(at), b.certificate_id)))
            } else {
                None
            }
        })
        .max_by_key(|(at, _)| *at);
    if let Some((_, r)) = held {
        return r;
    }
    if let Some(e) = state.ended.iter().max_by_key(|e| e.at_ms) {
        let mut r = reason(e.why.code(), Some(e.at_ms), e.certificate_id);
        match &e.why {
            EndReason::LoggedOutByDevice => r.by = Some("device".into()),
            EndReason::LoggedOutByAdmin => r.by = Some("admin".into()),
            EndReason::Kicked { by_device } => {
                r.device_id = by_device.as_ref().map(|d| d.as_str().to_string())
            }
            _ => {}
        }
        return r;
    }
    if let Some(at) = state.logged_out_at_ms {
        return NoDeviceReason {
            code: "logged_out".into(),
            at: ms_rfc3339(at),
            by: Some("admin".into()),
            device_id: None,
            certificate_id: None,
        };
    }
    NoDeviceReason::never_reported()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(expires_at: i64) -> Binding {
        Binding {
            certificate_id: CertificateId::new(1).unwrap(),
            token: PushToken::parse("t", "tok").unwrap(),
            device_id: None,
            reported_at_ms: 0,
            expires_at,
        }
    }

    #[test]
    fn expired_bindings_are_not_live_and_are_pruned() {
        let mut u = UserBindings::default();
        u.devices.insert("a".into(), binding(100));
        u.devices.insert("b".into(), binding(200));
        assert_eq!(u.live(150).count(), 1);
        assert_eq!(u.live(100).count(), 1, "expiry is exclusive");
        u.prune(150_000);
        assert_eq!(u.devices.keys().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn logout_marks_block_reports_that_started_before_them() {
        let mut u = UserBindings::default();
        u.device_logouts.insert("d:x".into(), 5_000);
        assert!(u.logged_out_since("d:x", 4_000));
        assert!(u.logged_out_since("d:x", 5_000));
        assert!(!u.logged_out_since("d:x", 5_001));
        assert!(!u.logged_out_since("d:y", 1_000));
        u.logged_out_at_ms = Some(9_000);
        assert!(u.logged_out_since("d:y", 8_000));
        u.prune(9_000 + TOMBSTONE_RETENTION_MS);
        assert!(u.logged_out_at_ms.is_none() && u.device_logouts.is_empty());
    }

    #[test]
    fn device_keys_never_contain_the_token() {
        let t = PushToken::parse("t", "secret-regid-0001").unwrap();
        let k = device_key(None, &t);
        assert!(k.starts_with("t:") && !k.contains("secret"));
        let d = DeviceId::parse("d", "phone").unwrap();
        assert_eq!(device_key(Some(&d), &t), "d:phone");
    }

    #[test]
    fn item_expiry_covers_bindings_and_marks_and_is_never_zero() {
        let mut u = UserBindings::default();
        let now = 2_000_000_000_000;
        assert_eq!(
            u.item_expiry(now),
            (now + TOMBSTONE_RETENTION_MS) / 1000 + 1
        );
        u.devices.insert("a".into(), binding(500));
        u.logged_out_at_ms = Some(1_000_000);
        assert_eq!(
            u.item_expiry(1_000_000),
            (1_000_000 + TOMBSTONE_RETENTION_MS) / 1000 + 1
        );
        u.devices.insert("b".into(), binding(9_000_000_000));
        assert_eq!(u.item_expiry(now), 9_000_000_000);
    }

    #[test]
    fn logout_marks_are_bounded_and_fold_into_a_floor() {
        let mut u = UserBindings::default();
        for i in 0..3000 {
            u.mark_device_logout(&format!("d:{i}"), 1_000 + i);
        }
        assert_eq!(u.device_logouts.len(), MAX_LOGOUT_MARKS);
        let floor = u.logouts_floor_ms.unwrap();
        assert_eq!(floor, 1_000 + 3000 - MAX_LOGOUT_MARKS as i64 - 1);
        // A report of a folded device that started before its logout is
        // still refused; one that started after every mark is not.
        assert!(u.logged_out_since("d:0", 900));
        assert!(u.logged_out_since("d:never", floor));
        assert!(!u.logged_out_since("d:never", 1_000 + 3000));
        assert!(u.logged_out_since("d:2999", 3_999));
    }
}
