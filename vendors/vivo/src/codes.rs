//! The one table from every vivo answer the adapter acts on to what it
//! does: the delivery status, whether the same call is tried again, whether
//! the token is dead, and which scope vivo stops serving and until when
//! (VIVO_API.md 1.2, 1.3, 1.9, 1.10). Auth codes are rows here too, with
//! the certificate field an uploader has to fix.

use offpush::domain::DeliveryStatus;
use offpush::vendor::kit::rules::{credentials, paused, retried, row};
pub use offpush::vendor::kit::{Rule, Scope, Until};

/// A vivo answer, as far as the table cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// HTTP 200 with a non-zero `result`.
    Code(i64),
    /// 10302 with `invalidUser.status`, or one entry of pushToList's
    /// `invalidUsers` (VIVO_API.md 1.3, 1.5).
    InvalidUser(i64),
    /// An HTTP status other than 200.
    Http(u16),
    /// No answer: connect error, reset, or no answer before the call's timeout.
    Unreachable,
    /// HTTP 200 whose body is not vivo's JSON.
    Unreadable,
}

/// vivo's day runs midnight to midnight UTC+8 (VIVO_API.md 1.9, 1.10):
/// its daily quotas reset then.
pub const NEXT_VIVO_DAY: Until = Until::NextDay { utc_offset_h: 8 };
/// 07:00 UTC+8, when vivo's operational-message window opens.
pub const VIVO_SEVEN_AM: Until = Until::DailyAt {
    utc_offset_h: 8,
    hour: 7,
};

use DeliveryStatus::{Failed, Rejected, TokenInvalid};

/// The table. Codes not listed fall to the last row.
pub fn rule(answer: Answer) -> Rule {
    match answer {
        // 1.9: authToken invalid or expired. Drop it, re-auth once, retry.
        Answer::Code(10000) => offpush::vendor::kit::rules::reauth("authToken refused"),
        // 1.9 [S]: alias and regId both empty; message type not supported;
        // notifyType illegal; title empty; title over 40; and the rest of the
        // 1005x-1006x parameter series [U]: our request is wrong, resending
        // it cannot help.
        Answer::Code(10050..=10069) => row(Rejected, "vivo refused a message parameter"),
        // 1.9, 1.10 [C]: the operational-message daily total is used up.
        // vivo lowers the quota of apps that keep calling, so nothing of that
        // class goes to this vivo app until vivo's day ends; system-class
        // messages (IM) still go.
        Answer::Code(10070) => paused(
            Scope::Class,
            NEXT_VIVO_DAY,
            "operational-message daily quota of this vivo app used up",
        ),
        // 1.9, 1.10 [S]: operational message outside 07:00-23:00 (UTC+8):
        // no operational call succeeds before 07:00.
        Answer::Code(10071) => paused(
            Scope::Class,
            VIVO_SEVEN_AM,
            "operational messages are sent only 07:00-23:00 (UTC+8)",
        ),
        // 1.9 [U]: sending too fast: the app backs off for a second.
        Answer::Code(10072) => paused(Scope::App, Until::Secs(1), "sending too fast"),
        // 1.9, 1.10 [S]: the system-message daily total is used up; until
        // vivo's day ends (operational messages still go).
        Answer::Code(10073) => paused(
            Scope::Class,
            NEXT_VIVO_DAY,
            "system-message daily quota of this vivo app used up",
        ),
        // 1.9 [S/U]: vivo's content rules: a title or content made only of
        // digits, only Latin letters, only symbols, or symbols and digits.
        Answer::Code(10085) => row(
            Rejected,
            "content rule: a title or content of only Latin letters, digits or symbols is refused; give a title with other characters or set the certificate's default_title",
        ),
        // 1.9, 1.2 [S]: auth called more than 10 times a second.
        Answer::Code(10093) => paused(Scope::Auth, Until::Secs(1), "vivo auth rate limit (10/s)"),
        // 1.9 [C]: the body's appId is not the token's app: configuration.
        Answer::Code(10094) => row(Failed, "appId does not match the authToken's app"),
        // 1.9 [S]: invalid category; category and classification disagree.
        Answer::Code(10096) => row(Rejected, "invalid category"),
        Answer::Code(10097) => row(Rejected, "category and classification disagree"),
        // 1.9 [S/U]: vivo doc 695 push-message restrictions, e.g. the word
        // 测试 ("test") or brackets in a title or content.
        Answer::Code(10104) => row(
            Rejected,
            "content rule: vivo refuses titles or contents containing 测试 or brackets",
        ),
        // 1.2: auth codes. Empty fields and an unknown AppID, key or sign
        // are the certificate's credentials.
        Answer::Code(10200) => credentials(None, "appId empty"),
        Answer::Code(10201) => credentials(Some("credentials.app_key"), "appKey empty"),
        Answer::Code(10202) => credentials(Some("credentials.app_key"), "vivo refused the AppKey"),
        Answer::Code(10203) => credentials(None, "timestamp empty"),
        Answer::Code(10204) => credentials(None, "sign empty"),
        Answer::Code(10205) => credentials(Some("credentials.app_id"), "vivo does not know this AppID"),
        Answer::Code(10206) => credentials(
            Some("credentials.app_secret"),
            "vivo refused the sign: the AppSecret (or AppKey) is wrong",
        ),
        // 1.2: our clock is more than 10 minutes off vivo's: not the
        // credentials' fault, and retrying with the same clock cannot help.
        Answer::Code(10207) => Rule {
            credentials: true,
            ..row(Failed, "vivo refused the request timestamp: the server clock is off")
        },
        // 1.2 [CONFLICT, version change]: the old daily cap of 10 000 auth
        // calls. The safer reading of a cap that may still be in force:
        // no auth call for an hour rather than hammering a daily limit.
        Answer::Code(10250) => paused(Scope::Auth, Until::Secs(3600), "vivo auth daily call limit"),
        // 1.5 [C]: the daily limit of stored list bodies: saveListPayload
        // only; single sends still go (VIVO_API.md 1.9 quota warning: stop
        // calling that endpoint for the day).
        Answer::Code(10252) => paused(
            Scope::Endpoint,
            NEXT_VIVO_DAY,
            "saveListPayload daily limit of this vivo app used up",
        ),
        // 1.6 [C]: the /message/all daily count (the adapter never
        // broadcasts; the row keeps the endpoint's pause right if it does).
        Answer::Code(10254) => paused(
            Scope::Endpoint,
            NEXT_VIVO_DAY,
            "broadcast daily limit of this vivo app used up",
        ),
        // 1.3 [C]: invalidUser.status 1 regId unknown for the app, 2 app
        // uninstalled or notifications off, 3 offline for 90 days: dead.
        Answer::InvalidUser(1) => Rule {
            token_dead: true,
            ..row(TokenInvalid, "regId does not exist for this app")
        },
        Answer::InvalidUser(2) => Rule {
            token_dead: true,
            ..row(TokenInvalid, "app uninstalled or push disabled")
        },
        Answer::InvalidUser(3) => Rule {
            token_dead: true,
            ..row(TokenInvalid, "device offline for 90 days")
        },
        // 1.3 [C]: 4 is a test push to a device not registered as a test
        // device: configuration, the token is fine.
        Answer::InvalidUser(4) => row(Failed, "not a test device (certificate push_mode is test)"),
        // 10302 without a readable status: a binding ends only on a clear
        // verdict, so it is kept.
        Answer::InvalidUser(_) => row(Failed, "invalid target"),
        // 1.1 [C]: 5xx is a vivo-side failure; 429 a gateway's rate limit;
        // no answer or an unreadable one may be a passing fault.
        Answer::Http(s) if s >= 500 || s == 429 => retried("vivo answered an HTTP error"),
        Answer::Unreachable => retried("vivo did not answer"),
        Answer::Unreadable => retried("vivo answered an unreadable body"),
        Answer::Http(_) => row(Failed, "vivo answered an HTTP error"),
        // 10302 as a whole-call code is mapped to InvalidUser by the client;
        // 10307 (grouped with 10302 by one unconfirmed source [U]), 10040
        // [U] and every undocumented code: failed, code in the detail,
        // binding kept.
        Answer::Code(_) => row(Failed, "vivo refused the call"),
    }
}

/// The meaning of a code, for the detail of a pause read back from the table.
pub fn meaning(code: i64) -> &'static str {
    rule(Answer::Code(code)).meaning
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    fn code(c: i64) -> Rule {
        rule(Answer::Code(c))
    }

    #[test]
    fn auth_token_refused_reauthenticates() {
        let r = code(10000);
        assert!(r.reauth && !r.retry && !r.token_dead);
    }

    #[test]
    fn parameter_series_is_rejected_and_never_retried() {
        for c in 10050..=10069 {
            let r = code(c);
            assert_eq!(
                (r.status, r.retry, r.pause),
                (Rejected, false, Scope::None),
                "{c}"
            );
        }
    }

    #[test]
    fn daily_quotas_pause_their_class_until_vivos_next_day() {
        for c in [10070, 10073] {
            let r = code(c);
            assert_eq!(r.status, Throttled);
            assert_eq!(
                (r.pause, r.until),
                (Scope::Class, Some(NEXT_VIVO_DAY)),
                "{c}"
            );
        }
    }

    #[test]
    fn the_time_window_pauses_operational_messages_until_seven() {
        assert_eq!(
            (code(10071).status, code(10071).pause, code(10071).until),
            (Throttled, Scope::Class, Some(VIVO_SEVEN_AM))
        );
    }

    #[test]
    fn sending_too_fast_pauses_the_app_for_a_second() {
        assert_eq!(
            (code(10072).pause, code(10072).until),
            (Scope::App, Some(Until::Secs(1)))
        );
    }

    #[test]
    fn content_rules_are_rejected_naming_the_rule() {
        for c in [10085, 10104] {
            let r = code(c);
            assert_eq!(r.status, Rejected);
            assert!(r.meaning.starts_with("content rule"), "{c}");
        }
        assert!(code(10085).meaning.contains("default_title"));
        assert!(code(10104).meaning.contains("测试"));
    }

    #[test]
    fn auth_rate_limits_pause_auth_only() {
        assert_eq!(code(10093).pause, Scope::Auth);
        assert_eq!(code(10093).status, Throttled);
        assert_eq!(code(10250).pause, Scope::Auth);
        assert_eq!(code(10250).until, Some(Until::Secs(3600)));
    }

    #[test]
    fn category_errors_are_rejected() {
        assert_eq!(code(10096).status, Rejected);
        assert_eq!(code(10097).status, Rejected);
    }

    #[test]
    fn list_body_and_broadcast_limits_pause_their_endpoint() {
        for c in [10252, 10254] {
            assert_eq!(
                (code(c).pause, code(c).until),
                (Scope::Endpoint, Some(NEXT_VIVO_DAY))
            );
        }
    }

    #[test]
    fn credential_codes_name_the_field() {
        assert_eq!(code(10205).credential_field, Some("credentials.app_id"));
        assert_eq!(code(10202).credential_field, Some("credentials.app_key"));
        assert_eq!(code(10201).credential_field, Some("credentials.app_key"));
        assert_eq!(code(10206).credential_field, Some("credentials.app_secret"));
        for c in [10200, 10203, 10204] {
            assert_eq!(code(c).credential_field, None);
            assert_eq!(code(c).status, Failed);
        }
        assert_eq!(code(10207).credential_field, None);
    }

    #[test]
    fn invalid_user_statuses_one_to_three_are_dead() {
        for s in 1..=3 {
            let r = rule(Answer::InvalidUser(s));
            assert!(r.token_dead && r.status == TokenInvalid, "{s}");
        }
        for s in [0, 4, 5] {
            let r = rule(Answer::InvalidUser(s));
            assert!(!r.token_dead && r.status == Failed, "{s}");
        }
    }

    #[test]
    fn server_errors_and_silence_are_retried() {
        for a in [
            Answer::Http(500),
            Answer::Http(503),
            Answer::Http(429),
            Answer::Unreachable,
            Answer::Unreadable,
        ] {
            assert!(rule(a).retry, "{a:?}");
        }
        assert!(!rule(Answer::Http(404)).retry);
    }

    #[test]
    fn unknown_and_configuration_codes_fail_and_keep_the_token() {
        for c in [10094, 10302, 10307, 10040, 99999, -1] {
            let r = code(c);
            assert_eq!(
                (r.status, r.token_dead, r.retry),
                (Failed, false, false),
                "{c}"
            );
        }
    }
}
