//! Identifier newtypes, each parsed once at the edge.

use crate::error::ServiceError;
use std::fmt;

/// A tenant: 1-64 of `[A-Za-z0-9_-]` (API.md "Tenancy and auth").
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppId(String);

impl AppId {
    pub fn parse(field: &str, s: &str) -> Result<Self, ServiceError> {
        if s.is_empty() || s.len() > 64 {
            return Err(ServiceError::invalid(field, "must be 1 to 64 characters"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ServiceError::invalid(
                field,
                "may contain only A-Z, a-z, 0-9, '_' and '-'",
            ));
        }
        Ok(AppId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IM user id: 1-128 bytes of UTF-8 without control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct UserId(String);

pub const MAX_USER_ID_BYTES: usize = 128;

impl UserId {
    pub fn parse(field: &str, s: &str) -> Result<Self, ServiceError> {
        if s.is_empty() || s.len() > MAX_USER_ID_BYTES {
            return Err(ServiceError::invalid(
                field,
                format!("must be 1 to {MAX_USER_ID_BYTES} bytes"),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                field,
                "must not contain control characters",
            ));
        }
        Ok(UserId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A certificate's id: a positive integer unique within its app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct CertificateId(u64);

/// Largest id accepted (fits a JSON number exactly in every client language).
pub const MAX_CERTIFICATE_ID: u64 = (1 << 53) - 1;

impl CertificateId {
    pub fn new(id: u64) -> Option<Self> {
        (1..=MAX_CERTIFICATE_ID)
            .contains(&id)
            .then_some(CertificateId(id))
    }

    /// From a path segment such as `/v1/certificates/12`.
    pub fn parse_path(field: &str, s: &str) -> Result<Self, ServiceError> {
        let bad = || ServiceError::invalid(field, "must be a positive integer");
        if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u64>()
            .ok()
            .and_then(CertificateId::new)
            .ok_or_else(bad)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CertificateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The client's installation id: 1-128 bytes, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct DeviceId(String);

pub const MAX_DEVICE_ID_BYTES: usize = 128;

impl DeviceId {
    pub fn parse(field: &str, s: &str) -> Result<Self, ServiceError> {
        if s.is_empty() || s.len() > MAX_DEVICE_ID_BYTES {
            return Err(ServiceError::invalid(
                field,
                format!("must be 1 to {MAX_DEVICE_ID_BYTES} bytes"),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                field,
                "must not contain control characters",
            ));
        }
        Ok(DeviceId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A vendor push token (vivo regId). Opaque: 1-512 bytes, nothing else is
/// checked (VIVO_API.md 1.12: newer regIds broke old length checks). Its
/// Debug and Display show only the last 4 characters, so it cannot leak into
/// a log line by accident (which escapes any control character among them:
/// `offpush::logs`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PushToken(String);

pub const MAX_TOKEN_BYTES: usize = 512;

impl PushToken {
    pub fn parse(field: &str, s: &str) -> Result<Self, ServiceError> {
        if s.is_empty() || s.len() > MAX_TOKEN_BYTES {
            return Err(ServiceError::invalid(
                field,
                format!("must be 1 to {MAX_TOKEN_BYTES} bytes"),
            ));
        }
        Ok(PushToken(s.to_string()))
    }

    /// The whole token: only for the vendor call and the store.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `****abcd`: what responses and logs show.
    pub fn masked(&self) -> String {
        mask_tail(&self.0, 4)
    }
}

impl fmt::Debug for PushToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PushToken({})", self.masked())
    }
}

impl fmt::Display for PushToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// `****` followed by at most `keep` trailing characters, and never more
/// than a quarter of the value, so short secrets show nothing at all.
pub fn mask_tail(s: &str, keep: usize) -> String {
    let n = s.chars().count();
    let keep = keep.min(n / 4);
    let tail: String = s.chars().skip(n - keep).collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_id_accepts_the_documented_charset_only() {
        assert!(AppId::parse("app", "im-app_01").is_ok());
        assert!(AppId::parse("app", "").is_err());
        assert!(AppId::parse("app", &"a".repeat(65)).is_err());
        assert!(AppId::parse("app", "a#b").is_err());
        assert!(AppId::parse("app", "é").is_err());
    }

    #[test]
    fn certificate_id_from_path_is_a_positive_integer() {
        assert_eq!(CertificateId::parse_path("id", "42").unwrap().get(), 42);
        for bad in ["0", "-1", "1.5", "", "abc", "99999999999999999"] {
            assert!(CertificateId::parse_path("id", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_shows_only_its_last_four_characters() {
        let t = PushToken::parse("token", "0123456789abcdefghij").unwrap();
        assert_eq!(t.masked(), "****ghij");
        assert_eq!(format!("{t:?}"), "PushToken(****ghij)");
        assert!(!format!("{t}").contains("0123"));
        assert!(PushToken::parse("token", &"x".repeat(513)).is_err());
        assert!(PushToken::parse("token", &"x".repeat(512)).is_ok());
    }

    #[test]
    fn mask_never_reveals_more_than_a_quarter() {
        assert_eq!(
            mask_tail("7265f2a4-ebbb-44bf-88b9-b03e67dfdc21", 3),
            "****c21"
        );
        assert_eq!(mask_tail("abc", 3), "****");
        assert_eq!(mask_tail("abcdefgh", 3), "****gh");
    }
}
