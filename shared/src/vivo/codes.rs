//! The one table from vivo's answers to delivery outcomes (VIVO_API.md 1.9).
//! Each row says which outcome, whether to retry, whether the binding ends.

use std::time::Duration;

/// What an answer means for the devices of the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// The token is dead: outcome token_invalid, the binding is removed.
    TokenDead,
    /// A push-mode test send to a device not registered as a test device:
    /// outcome failed, binding kept (configuration, not the token).
    NotTestDevice,
    /// Rate limit or quota: outcome throttled; no more calls through this
    /// certificate in this request. `quota`: remembered until vivo's next
    /// day, so later requests do not hammer vivo (vivo lowers the quota of
    /// apps that keep calling after a quota code, VIVO_API.md 1.9).
    Throttled {
        quota: bool,
        retry_after: Option<Duration>,
    },
    /// vivo refused this message's content or parameters: outcome
    /// rejected, never retried (retrying sends the same refusal).
    Rejected,
    /// authToken refused: drop it, obtain a new one once, retry the call once.
    AuthExpired,
    /// Anything else vivo answered with a code: outcome failed, code in detail.
    Failed,
}

/// Classifies a non-zero vivo result code. For 10302 the caller first looks
/// at `invalidUser.status` (see [`classify_invalid_user`]).
pub fn classify(code: i64) -> Class {
    match code {
        // authToken invalid or expired: re-auth once, retry once.
        10000 => Class::AuthExpired,
        // alias and regId both empty; message type not supported; notifyType
        // illegal; title empty; title too long; and the rest of the 1005x
        // parameter series: our request is wrong, resending it cannot help.
        10050..=10057 => Class::Rejected,
        // Total send quota of operational messages used up for today.
        10070 => Class::Throttled {
            quota: true,
            retry_after: None,
        },
        // Operational message outside vivo's 07:00-23:00 (UTC+8) window:
        // not a quota, but no call succeeds before 07:00.
        10071 => Class::Throttled {
            quota: false,
            retry_after: None,
        },
        // Sending too fast.
        10072 => Class::Throttled {
            quota: false,
            retry_after: Some(Duration::from_secs(1)),
        },
        // System-message total quota used up for today.
        10073 => Class::Throttled {
            quota: true,
            retry_after: None,
        },
        // Content rules (only digits/letters/symbols, forbidden words).
        10085 => Class::Rejected,
        // Auth called more than 10 times a second for this app.
        10093 => Class::Throttled {
            quota: false,
            retry_after: Some(Duration::from_secs(1)),
        },
        // Invalid category; category and classification disagree.
        10096 | 10097 => Class::Rejected,
        // Content restrictions of vivo doc 695.
        10104 => Class::Rejected,
        // Daily limit of stored list bodies (saveListPayload).
        10252 => Class::Throttled {
            quota: true,
            retry_after: None,
        },
        // 10302 without a readable invalidUser: the target is invalid but
        // we do not know why. Keep the binding: a binding ends only on a
        // clear verdict. 10307 is grouped with 10302 by one unconfirmed
        // source (VIVO_API.md 1.9, [U]): failed, binding kept.
        // 10094 (appId does not match the token), 10200-10207 (credentials),
        // and every undocumented code: failed with the code in detail.
        _ => Class::Failed,
    }
}

/// `invalidUser.status` of a 10302 answer (VIVO_API.md 1.3).
pub fn classify_invalid_user(status: i64) -> Class {
    match status {
        // 1: regId unknown for this app; 2: app uninstalled, notifications
        // off or unsubscribed; 3: device offline for 90 days.
        1..=3 => Class::TokenDead,
        // 4: not a test device (pushMode test): configuration, keep it.
        4 => Class::NotTestDevice,
        _ => Class::Failed,
    }
}

pub fn invalid_user_reason(status: i64) -> &'static str {
    match status {
        1 => "regId does not exist for this app",
        2 => "app uninstalled or push disabled",
        3 => "device offline for 90 days",
        4 => "not a test device (certificate push_mode is test)",
        _ => "invalid target",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test per row of the table.
    #[test]
    fn auth_expired() {
        assert_eq!(classify(10000), Class::AuthExpired);
    }
    #[test]
    fn parameter_series_is_rejected() {
        for c in 10050..=10057 {
            assert_eq!(classify(c), Class::Rejected, "{c}");
        }
    }
    #[test]
    fn operational_quota_is_remembered() {
        assert_eq!(
            classify(10070),
            Class::Throttled {
                quota: true,
                retry_after: None
            }
        );
    }
    #[test]
    fn time_window_is_throttled_not_remembered() {
        assert_eq!(
            classify(10071),
            Class::Throttled {
                quota: false,
                retry_after: None
            }
        );
    }
    #[test]
    fn sending_too_fast_is_throttled() {
        assert_eq!(
            classify(10072),
            Class::Throttled {
                quota: false,
                retry_after: Some(Duration::from_secs(1))
            }
        );
    }
    #[test]
    fn system_quota_is_remembered() {
        assert_eq!(
            classify(10073),
            Class::Throttled {
                quota: true,
                retry_after: None
            }
        );
    }
    #[test]
    fn content_rules_are_rejected() {
        assert_eq!(classify(10085), Class::Rejected);
        assert_eq!(classify(10104), Class::Rejected);
    }
    #[test]
    fn auth_frequency_is_throttled() {
        assert!(matches!(
            classify(10093),
            Class::Throttled { quota: false, .. }
        ));
    }
    #[test]
    fn category_errors_are_rejected() {
        assert_eq!(classify(10096), Class::Rejected);
        assert_eq!(classify(10097), Class::Rejected);
    }
    #[test]
    fn list_body_quota_is_remembered() {
        assert_eq!(
            classify(10252),
            Class::Throttled {
                quota: true,
                retry_after: None
            }
        );
    }
    #[test]
    fn unknown_and_configuration_codes_fail() {
        for c in [10094, 10205, 10302, 10307, 10040, 99999, -1] {
            assert_eq!(classify(c), Class::Failed, "{c}");
        }
    }
    #[test]
    fn invalid_user_statuses() {
        for s in 1..=3 {
            assert_eq!(classify_invalid_user(s), Class::TokenDead);
        }
        assert_eq!(classify_invalid_user(4), Class::NotTestDevice);
        assert_eq!(classify_invalid_user(0), Class::Failed);
        assert_eq!(classify_invalid_user(5), Class::Failed);
    }
}
