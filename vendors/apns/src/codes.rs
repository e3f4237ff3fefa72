//! APNs answers and the one table from each to what the adapter does
//! (VENDORS_API.md 6 [C developer.apple.com "Handling notification
//! responses from APNs"; S a2 `ErrorReason`], 12).
//!
//! Success is HTTP 200 with an empty body and an `apns-id` header; an error
//! is an HTTP status with `{"reason": "..."}` (plus `timestamp` for 410).
//! The reason is the vendor's code: it is each delivery's `vendor_code`.

use offpush::domain::DeliveryStatus::{self, Failed, Rejected, Throttled};
use offpush::vendor::kit::rules::{credentials, dead, paused, reauth, retried, row};
use offpush::vendor::kit::{self, Rule, Scope, Until};

/// The pause code of a refused token change (the HTTP status; the reason
/// rides in the detail): the only answer that pauses the account.
pub const TOKEN_UPDATES_CODE: i64 = 429;

/// An answer, as far as the table cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP status with APNs' `reason`.
    Apns { status: u16, reason: String },
    /// 400 `BadDeviceToken` for a token no APNs environment issues (not 32
    /// bytes or more of hex), or a token that cannot be one at all (not
    /// hex): dead wherever it is sent.
    MalformedToken,
    /// An HTTP status whose body names no reason.
    Http(u16),
    /// No answer.
    Unreachable,
    /// The payload would pass APNs' 4096 bytes (checked before sending).
    TooLarge,
}

/// The table. Reasons not listed fall to their status's row.
pub fn rule(answer: &Answer) -> Rule {
    let (status, reason) = match answer {
        Answer::Apns { status, reason } => (*status, reason.as_str()),
        // 6 [C]: `BadDeviceToken` of a token no environment could hold.
        Answer::MalformedToken => {
            return dead("APNs: not a valid device token (BadDeviceToken)");
        }
        // 6 [U]: 5xx are passing faults; 429 without a reason too. Other
        // statuses without a reason: something between us and APNs.
        Answer::Http(s) if *s >= 500 || *s == 429 => {
            return retried("APNs answered an HTTP error");
        }
        Answer::Http(_) => return row(Failed, "APNs answered an HTTP error"),
        Answer::Unreachable => return retried("APNs did not answer"),
        // 6 [U]: the payload is at most 4096 bytes; the adapter refuses
        // what would not fit rather than cut it (413 reads "truncate").
        Answer::TooLarge => {
            return row(
                Rejected,
                "the APNs payload would pass 4096 bytes (ext escapes to too many bytes)",
            )
        }
    };
    match (status, reason) {
        // 6 [C]: a token of the other environment (a development build's
        // token sent to production, or the reverse) is answered
        // BadDeviceToken too: the binding ends only when the environment
        // is right, which APNs' answer does not tell. A well-formed token
        // refused so is the certificate's push_mode (or the app's build)
        // being wrong for the device: failed, kept, said so.
        (400, "BadDeviceToken") => row(
            Failed,
            "APNs refused the device token: usually a token of the other APNs environment (sandbox vs production): check the certificate's push_mode against the app's build (binding kept)",
        ),
        // 6 [C], 12: the token is not for this app: stop sending to it.
        (400, "DeviceTokenNotForTopic") => {
            dead("APNs: the device token is not for this bundle id")
        }
        // 6 [C]: the collapse id (from notify_id) over 64 bytes: never from
        // a u32, kept for completeness.
        (400, "BadCollapseId") => row(Rejected, "APNs refused the collapse id"),
        (400, "PayloadEmpty") => row(Rejected, "APNs found the payload empty"),
        // 6 [C]: the topic is the certificate's bundle id.
        (400, "MissingTopic") => credentials(
            Some("credentials.bundle_id"),
            "APNs found no topic (bundle id)",
        ),
        // Apple's list (S a2): the bundle id is not one of the team's.
        (400, "BadTopic" | "TopicDisallowed") => credentials(
            Some("credentials.bundle_id"),
            "APNs refused the topic: the bundle id is not one of the team's apps",
        ),
        // Apple's list (S a2): our request's headers or body.
        (
            400,
            "BadExpirationDate" | "BadMessageId" | "BadPriority" | "DuplicateHeaders"
            | "InvalidPushType" | "MissingDeviceToken" | "BadPayload",
        ) => row(Rejected, "APNs refused the request's headers or payload"),
        // Apple's list (S a2): the connection idled out: try again.
        (400, "IdleTimeout") => retried("APNs closed an idle connection"),
        (400, _) => row(Rejected, "APNs refused the request"),
        // 6 [C]: the provider token went stale or was refused: mint a new
        // one (once) and repeat the call; refused again, the credentials.
        (403, "ExpiredProviderToken") => reauth("APNs: the provider token expired"),
        (403, "InvalidProviderToken") => reauth(
            "APNs refused the provider token (team_id, key_id and private_key must belong together)",
        ),
        (403, "MissingProviderToken") => credentials(
            Some("credentials.private_key"),
            "APNs found no provider token",
        ),
        // 6 [C] BadCertificate; Apple's list for the others: the key or
        // team does not serve this environment or app: the certificate.
        (
            403,
            "BadCertificate" | "BadCertificateEnvironment" | "UnrelatedKeyIdInToken"
            | "BadEnvironmentKeyIdInToken",
        ) => credentials(
            Some("credentials.key_id"),
            "APNs refused the signing key for this app or environment",
        ),
        (403, _) => credentials(None, "APNs refused the request (Forbidden)"),
        // 6 [C]: bad method or path: a bug of ours, never retried.
        (404 | 405, _) => row(Failed, "APNs refused the method or path"),
        // 6 [C], 12: the token is no longer active for the topic: delete.
        (410, "Unregistered") => {
            dead("APNs: the device token is no longer active for the topic (Unregistered)")
        }
        // Apple's list (S a2): the device token expired.
        (410, "ExpiredToken") => dead("APNs: the device token expired"),
        (410, _) => dead("APNs: the device token is gone"),
        // 6 [C]: the payload over 4096 bytes. The spec's action reads
        // "truncate"; the product never cuts silently: refused.
        (413, _) => row(Rejected, "APNs: payload too large"),
        // 6 [C], 12: the provider token changed too often (the connection
        // is unusable a while): this instance's calls of the account pause
        // briefly (a pause under a minute stays in the instance).
        (429, "TooManyProviderTokenUpdates") => paused(
            Scope::App,
            Until::Secs(5),
            "APNs refused a provider token change (TooManyProviderTokenUpdates)",
        ),
        // 6 [C]: too many pushes to this one device token: throttled, not
        // retried (it would meet the same limit), no pause (other devices
        // are served).
        (429, _) => row(
            Throttled,
            "APNs: too many notifications to this device (TooManyRequests)",
        ),
        // 6 [C]: InternalServerError, ServiceUnavailable, Shutdown: retry.
        (s, _) if s >= 500 => retried("APNs failed or is unavailable"),
        _ => row(Failed, "APNs refused the request"),
    }
}

/// The meaning of a pause code read back from the table.
pub fn meaning(code: i64) -> &'static str {
    match code {
        TOKEN_UPDATES_CODE => {
            rule(&Answer::Apns {
                status: 429,
                reason: "TooManyProviderTokenUpdates".into(),
            })
            .meaning
        }
        _ => "APNs paused the account",
    }
}

/// A call that was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub answer: Answer,
    /// Seconds of the answer's Retry-After, when it had one.
    pub retry_after: Option<u64>,
    /// What happened when no answer came.
    pub why: &'static str,
    pub maybe_written: bool,
}

impl Refusal {
    pub fn new(answer: Answer) -> Self {
        Refusal {
            answer,
            retry_after: None,
            why: "",
            maybe_written: false,
        }
    }

    pub fn detail(&self) -> String {
        let r = rule(&self.answer);
        match &self.answer {
            Answer::Apns { status, reason } => format!("apns {status} {reason}: {}", r.meaning),
            Answer::MalformedToken => format!("apns 400 BadDeviceToken: {}", r.meaning),
            Answer::Http(s) => format!("{} ({s})", r.meaning),
            Answer::Unreachable if !self.why.is_empty() => format!("{} ({})", r.meaning, self.why),
            Answer::Unreachable | Answer::TooLarge => r.meaning.to_string(),
        }
    }

    pub fn vendor_code(&self) -> String {
        match &self.answer {
            Answer::Apns { reason, .. } => reason.clone(),
            Answer::MalformedToken => "BadDeviceToken".into(),
            Answer::Http(s) => format!("http_{s}"),
            Answer::Unreachable => "no_answer".into(),
            Answer::TooLarge => "payload_too_large".into(),
        }
    }

    pub fn to_kit(&self) -> kit::Refusal {
        let rule = rule(&self.answer);
        let mut k = kit::Refusal::new(rule, self.detail());
        if rule.until.is_some() {
            k = k.code(TOKEN_UPDATES_CODE);
        }
        k = k.vendor_code(self.vendor_code());
        k.maybe_written = self.maybe_written;
        k.retry_after = self.retry_after;
        k
    }

    pub fn status(&self) -> DeliveryStatus {
        rule(&self.answer).status
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::DeliveryStatus::TokenInvalid;

    fn apns(status: u16, reason: &str) -> Rule {
        rule(&Answer::Apns {
            status,
            reason: reason.into(),
        })
    }

    #[test]
    fn every_documented_reason_has_its_row() {
        // (status, reason, delivery status, retry, reauth, dead, credentials field)
        type Row = (
            u16,
            &'static str,
            DeliveryStatus,
            bool,
            bool,
            bool,
            Option<&'static str>,
        );
        let rows: [Row; 29] = [
            (400, "BadDeviceToken", Failed, false, false, false, None),
            (
                400,
                "DeviceTokenNotForTopic",
                TokenInvalid,
                false,
                false,
                true,
                None,
            ),
            (400, "BadCollapseId", Rejected, false, false, false, None),
            (400, "PayloadEmpty", Rejected, false, false, false, None),
            (
                400,
                "MissingTopic",
                Failed,
                false,
                false,
                false,
                Some("credentials.bundle_id"),
            ),
            (
                400,
                "BadTopic",
                Failed,
                false,
                false,
                false,
                Some("credentials.bundle_id"),
            ),
            (
                400,
                "TopicDisallowed",
                Failed,
                false,
                false,
                false,
                Some("credentials.bundle_id"),
            ),
            (
                400,
                "BadExpirationDate",
                Rejected,
                false,
                false,
                false,
                None,
            ),
            (400, "BadMessageId", Rejected, false, false, false, None),
            (400, "BadPriority", Rejected, false, false, false, None),
            (400, "DuplicateHeaders", Rejected, false, false, false, None),
            (400, "InvalidPushType", Rejected, false, false, false, None),
            (
                400,
                "MissingDeviceToken",
                Rejected,
                false,
                false,
                false,
                None,
            ),
            (400, "BadPayload", Rejected, false, false, false, None),
            (400, "IdleTimeout", Failed, true, false, false, None),
            (
                403,
                "ExpiredProviderToken",
                Failed,
                false,
                true,
                false,
                None,
            ),
            (
                403,
                "InvalidProviderToken",
                Failed,
                false,
                true,
                false,
                None,
            ),
            (
                403,
                "MissingProviderToken",
                Failed,
                false,
                false,
                false,
                Some("credentials.private_key"),
            ),
            (
                403,
                "BadCertificate",
                Failed,
                false,
                false,
                false,
                Some("credentials.key_id"),
            ),
            (
                403,
                "BadCertificateEnvironment",
                Failed,
                false,
                false,
                false,
                Some("credentials.key_id"),
            ),
            (403, "Forbidden", Failed, false, false, false, None),
            (405, "MethodNotAllowed", Failed, false, false, false, None),
            (410, "Unregistered", TokenInvalid, false, false, true, None),
            (410, "ExpiredToken", TokenInvalid, false, false, true, None),
            (413, "PayloadTooLarge", Rejected, false, false, false, None),
            (429, "TooManyRequests", Throttled, false, false, false, None),
            (500, "InternalServerError", Failed, true, false, false, None),
            (503, "ServiceUnavailable", Failed, true, false, false, None),
            (503, "Shutdown", Failed, true, false, false, None),
        ];
        for (status, reason, st, retry, re, is_dead, field) in rows {
            let r = apns(status, reason);
            assert_eq!(
                (
                    r.status,
                    r.retry,
                    r.reauth,
                    r.token_dead,
                    r.credential_field
                ),
                (st, retry, re, is_dead, field),
                "{status} {reason}"
            );
            assert_eq!(r.pause, Scope::None, "{status} {reason}");
        }
        let updates = apns(429, "TooManyProviderTokenUpdates");
        assert_eq!(
            (updates.status, updates.pause, updates.until),
            (Throttled, Scope::App, Some(Until::Secs(5)))
        );
        assert!(meaning(TOKEN_UPDATES_CODE).contains("TooManyProviderTokenUpdates"));
        // Unlisted reasons fall to their status's row.
        assert_eq!(apns(400, "Whatever").status, Rejected);
        assert!(apns(410, "Whatever").token_dead);
        assert!(apns(502, "Whatever").retry);
        assert!(apns(403, "Whatever").credentials);
    }

    #[test]
    fn answers_without_a_reason() {
        let malformed = rule(&Answer::MalformedToken);
        assert!(malformed.token_dead && malformed.status == TokenInvalid);
        assert!(rule(&Answer::Http(503)).retry);
        assert!(rule(&Answer::Http(429)).retry);
        assert!(!rule(&Answer::Http(404)).retry);
        assert!(rule(&Answer::Unreachable).retry);
        assert_eq!(rule(&Answer::TooLarge).status, Rejected);
        // Well-formed BadDeviceToken is never a dead token (environment).
        assert!(!apns(400, "BadDeviceToken").token_dead);
    }

    #[test]
    fn refusals_carry_reason_codes_and_details() {
        let r = Refusal::new(Answer::Apns {
            status: 410,
            reason: "Unregistered".into(),
        });
        let k = r.to_kit();
        assert_eq!(k.vendor_code.as_deref(), Some("Unregistered"));
        assert!(k.detail.starts_with("apns 410 Unregistered: "));
        assert_eq!(k.code, None);
        let d = k.delivery();
        assert_eq!(d.status, TokenInvalid);
        let p = Refusal::new(Answer::Apns {
            status: 429,
            reason: "TooManyProviderTokenUpdates".into(),
        })
        .to_kit();
        assert_eq!(p.code, Some(TOKEN_UPDATES_CODE));
        assert_eq!(
            p.vendor_code.as_deref(),
            Some("TooManyProviderTokenUpdates")
        );
        let mut t = Refusal::new(Answer::Apns {
            status: 429,
            reason: "TooManyRequests".into(),
        });
        t.retry_after = Some(30);
        assert_eq!(t.to_kit().delivery().retry_after_s, Some(30));
        let mut silent = Refusal::new(Answer::Unreachable);
        silent.why = "no answer in time";
        silent.maybe_written = true;
        let k = silent.to_kit();
        assert!(k.maybe_written && k.detail.contains("no answer in time"));
        assert_eq!(k.vendor_code.as_deref(), Some("no_answer"));
        assert_eq!(Refusal::new(Answer::Http(502)).vendor_code(), "http_502");
        assert_eq!(Refusal::new(Answer::TooLarge).status(), Rejected);
    }
}
