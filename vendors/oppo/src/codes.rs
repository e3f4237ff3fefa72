//! OPPO's answers and the one table from each to what the adapter does
//! (VENDORS_API.md 2.2, 2.5, 2.6; 2.10 for the clients' readings).
//!
//! Every call is answered with JSON `{"code": int, "message": str, "data":
//! ...}`; code 0 is success (2.1 [C]).

use offpush::domain::DeliveryStatus::{self, Failed, Rejected};
use offpush::vendor::kit::rules::{credentials, dead, paused, reauth, retried, row};
use offpush::vendor::kit::{self, Rule, Scope, Until};
use serde_json::Value;

/// OPPO's day runs midnight to midnight UTC+8 (2.2: GMT+8 timestamps; the
/// daily totals of 2.5 are per OPPO day).
pub const NEXT_OPPO_DAY: Until = Until::NextDay { utc_offset_h: 8 };

/// An answer, as far as the table cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A non-zero `code`.
    Code(i64),
    /// One item of an accepted `unicast_batch` with `errorCode` (2.6 [C]):
    /// the verdict on that target alone. 10000 is a dead token.
    Item(i64),
    /// A whole `unicast_batch` answered 10000: OPPO does not say which of
    /// its targets is meant (2.10: mizhousoft reads 10000 as "the whole
    /// request is invalid"), so no binding is ended on it.
    BatchInvalid,
    /// An HTTP status other than 200.
    Http(u16),
    /// No answer.
    Unreachable,
    /// A body that is not OPPO's JSON (the official SDK's local -3).
    Unreadable,
}

/// The table. Codes not listed fall to the last rows.
pub fn rule(answer: Answer) -> Rule {
    match answer {
        // 2.6 [C]: service unavailable, retry later.
        Answer::Code(-1) => retried("OPPO service unavailable"),
        // 2.6 [C]: server flow control: back off; the app pauses a second.
        Answer::Code(-2) => paused(Scope::App, Until::Secs(1), "OPPO server flow control"),
        // 2.2, 2.6 [C; S official SDK]: invalid auth_token: drop it,
        // re-authenticate once and repeat the call.
        Answer::Code(11) => reauth("OPPO refused the auth_token"),
        // 2.6 [C]: method not allowed; 20-24 method / version errors; 25
        // encoding; 29 missing auth_token: our request is wrong.
        Answer::Code(12) => row(Failed, "HTTP method not allowed"),
        Answer::Code(20..=24) => row(Failed, "OPPO refused the API method or version"),
        Answer::Code(25) => row(Failed, "OPPO refused the encoding (not UTF-8)"),
        Answer::Code(29) => row(Failed, "the auth_token was missing"),
        // 2.6 [C]: app call limit (including frequency), app call frequency
        // limit: the app backs off for a second.
        Answer::Code(13) => paused(Scope::App, Until::Secs(1), "OPPO app call limit exceeded"),
        Answer::Code(55) => paused(
            Scope::App,
            Until::Secs(1),
            "OPPO app call frequency limit",
        ),
        // 2.2, 2.6 [C]: the AppKey or the sign (made with the MasterSecret)
        // was refused: the certificate's credentials, never a dead token.
        Answer::Code(14) => credentials(
            Some("credentials.app_key"),
            "OPPO does not know the AppKey",
        ),
        Answer::Code(15) => credentials(Some("credentials.app_key"), "the AppKey was missing"),
        Answer::Code(16) => credentials(
            Some("credentials.master_secret"),
            "OPPO refused the sign (wrong MasterSecret)",
        ),
        Answer::Code(17) => credentials(
            Some("credentials.master_secret"),
            "the sign was missing",
        ),
        // 2.2 [C]: the timestamp must be within the last 10 minutes: a
        // clock off by more, not the credentials.
        Answer::Code(18 | 19) => row(
            Failed,
            "OPPO refused the auth timestamp (server clock off by over 10 minutes)",
        ),
        // 2.6 [C]: configuration of the OPPO app: alert, never a dead token.
        Answer::Code(26) => row(Failed, "OPPO blacklisted the calling IP"),
        Answer::Code(27) => row(Failed, "OPPO denied access: no permission for this feature"),
        Answer::Code(28) => credentials(None, "the OPPO app is disabled"),
        Answer::Code(30) => row(Failed, "the OPPO app has no API push permission"),
        Answer::Code(31) => row(Failed, "OPPO: data does not exist"),
        Answer::Code(32) => row(Failed, "OPPO: duplicate data"),
        // 2.5, 2.6 [C]: the daily message total of the class is used up:
        // nothing of that class goes to this OPPO app until OPPO's day ends.
        Answer::Code(33) => paused(
            Scope::Class,
            NEXT_OPPO_DAY,
            "daily message total of this OPPO app used up",
        ),
        Answer::Code(34) => row(Failed, "OPPO daily picture-upload limit exceeded"),
        // 2.4, 2.6 [C]: missing / invalid arguments, invalid picture: OPPO
        // refused this message's content or parameters; resending cannot help.
        Answer::Code(40) => row(Rejected, "OPPO: a required argument is missing"),
        Answer::Code(41) => row(Rejected, "OPPO refused an argument"),
        Answer::Code(51) => row(Rejected, "OPPO refused the picture"),
        Answer::Code(59) => row(Failed, "no permission for the secondary link"),
        // 2.5 [C]: category or private channel / notify_level refused: the
        // certificate's vendor_options (channel not approved), not the text.
        Answer::Code(67) => Rule {
            credential_field: Some("vendor_options.channel_id"),
            ..row(
                Failed,
                "OPPO refused the category, private channel or notify_level (vendor_options.channel_id)",
            )
        },
        // 2.6 [C]: unicast 10000: the registration id is invalid.
        Answer::Code(10000) | Answer::Item(10000) => {
            dead("OPPO: invalid registration_id (app uninstalled or token expired)")
        }
        Answer::BatchInvalid => row(
            Failed,
            "OPPO refused the batch as invalid registration ids without naming them",
        ),
        // 2.6 [C range; U meanings]: other business codes. 2.10: doopush's
        // meanings for 10001-10007 are not OPPO's table: never a dead token.
        Answer::Code(10001..=20000) | Answer::Item(_) => {
            row(Failed, "OPPO refused the message for this target")
        }
        // 2.1 [U]: non-200 answers are undocumented: 5xx and 429 are
        // passing faults, anything else our request's.
        Answer::Http(s) if s >= 500 || s == 429 => retried("OPPO answered an HTTP error"),
        Answer::Http(_) => row(Failed, "OPPO answered an HTTP error"),
        Answer::Unreachable => retried("OPPO did not answer"),
        Answer::Unreadable => retried("OPPO answered an unreadable body"),
        // Every undocumented code: failed, code in the detail, kept.
        Answer::Code(_) => row(Failed, "OPPO refused the call"),
    }
}

/// The meaning of a code, for the detail of a pause read back from the table.
pub fn meaning(code: i64) -> &'static str {
    rule(Answer::Code(code)).meaning
}

/// A call that was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub answer: Answer,
    /// OPPO's `message`, cut short; OPPO's text about our request, never a
    /// secret.
    pub message: String,
    pub maybe_written: bool,
}

impl Refusal {
    pub fn new(answer: Answer, message: impl Into<String>) -> Self {
        Refusal {
            answer,
            message: message.into(),
            maybe_written: false,
        }
    }

    /// `oppo 33: meaning (OPPO's message)`.
    pub fn detail(&self) -> String {
        let r = rule(self.answer);
        let with = |head: String| {
            if self.message.is_empty() {
                format!("{head}: {}", r.meaning)
            } else {
                format!("{head}: {} ({})", r.meaning, self.message)
            }
        };
        match self.answer {
            Answer::Code(c) | Answer::Item(c) => with(format!("oppo {c}")),
            Answer::BatchInvalid => with("oppo 10000".into()),
            Answer::Http(s) => format!("{} ({s})", r.meaning),
            Answer::Unreachable if !self.message.is_empty() => {
                format!("{} ({})", r.meaning, self.message)
            }
            Answer::Unreachable | Answer::Unreadable => r.meaning.to_string(),
        }
    }

    pub fn to_kit(&self) -> kit::Refusal {
        let mut k = kit::Refusal::new(rule(self.answer), self.detail());
        k.maybe_written = self.maybe_written;
        match self.answer {
            Answer::Code(c) => k.code(c),
            Answer::Item(c) => k.vendor_code(c.to_string()),
            Answer::BatchInvalid => k.vendor_code("10000"),
            Answer::Http(s) => k.vendor_code(format!("http_{s}")),
            Answer::Unreachable => k.vendor_code("no_answer"),
            Answer::Unreadable => k.vendor_code("unreadable"),
        }
    }

    pub fn status(&self) -> DeliveryStatus {
        rule(self.answer).status
    }
}

/// A number OPPO may write as a JSON number or a string.
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An id OPPO may write as a string or a number.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What an answer means: a status other than 200 is [`Answer::Http`]
/// whatever the body; a 200 body is [`parse`]d to its `data`.
pub fn read(status: u16, body: &[u8]) -> Result<Value, Refusal> {
    if status != 200 {
        return Err(Refusal::new(Answer::Http(status), ""));
    }
    parse(body)
}

/// Parses a body of HTTP 200: `data` (Null when absent) of a code-0 answer.
pub fn parse(body: &[u8]) -> Result<Value, Refusal> {
    let unreadable = || Refusal::new(Answer::Unreadable, "");
    let v: Value = serde_json::from_slice(body).map_err(|_| unreadable())?;
    let Value::Object(mut map) = v else {
        return Err(unreadable());
    };
    let code = map.get("code").and_then(int).ok_or_else(unreadable)?;
    if code != 0 {
        let message: String = map
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        return Err(Refusal::new(Answer::Code(code), message));
    }
    Ok(map.remove("data").unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::DeliveryStatus::*;

    fn code(c: i64) -> Rule {
        rule(Answer::Code(c))
    }

    #[test]
    fn every_documented_code_is_a_row() {
        // (code, status, retry, reauth, dead, pause scope)
        let rows: &[(i64, DeliveryStatus, bool, bool, bool, Scope)] = &[
            (-1, Failed, true, false, false, Scope::None),
            (-2, Throttled, false, false, false, Scope::App),
            (11, Failed, false, true, false, Scope::None),
            (12, Failed, false, false, false, Scope::None),
            (13, Throttled, false, false, false, Scope::App),
            (14, Failed, false, false, false, Scope::None),
            (15, Failed, false, false, false, Scope::None),
            (16, Failed, false, false, false, Scope::None),
            (17, Failed, false, false, false, Scope::None),
            (18, Failed, false, false, false, Scope::None),
            (19, Failed, false, false, false, Scope::None),
            (20, Failed, false, false, false, Scope::None),
            (21, Failed, false, false, false, Scope::None),
            (22, Failed, false, false, false, Scope::None),
            (23, Failed, false, false, false, Scope::None),
            (24, Failed, false, false, false, Scope::None),
            (25, Failed, false, false, false, Scope::None),
            (26, Failed, false, false, false, Scope::None),
            (27, Failed, false, false, false, Scope::None),
            (28, Failed, false, false, false, Scope::None),
            (29, Failed, false, false, false, Scope::None),
            (30, Failed, false, false, false, Scope::None),
            (31, Failed, false, false, false, Scope::None),
            (32, Failed, false, false, false, Scope::None),
            (33, Throttled, false, false, false, Scope::Class),
            (34, Failed, false, false, false, Scope::None),
            (40, Rejected, false, false, false, Scope::None),
            (41, Rejected, false, false, false, Scope::None),
            (51, Rejected, false, false, false, Scope::None),
            (55, Throttled, false, false, false, Scope::App),
            (59, Failed, false, false, false, Scope::None),
            (67, Failed, false, false, false, Scope::None),
            (10000, TokenInvalid, false, false, true, Scope::None),
            (10001, Failed, false, false, false, Scope::None),
            (10004, Failed, false, false, false, Scope::None),
            (20000, Failed, false, false, false, Scope::None),
            (99, Failed, false, false, false, Scope::None),
        ];
        for &(c, status, retry, re, token_dead, pause) in rows {
            let r = code(c);
            assert_eq!(
                (r.status, r.retry, r.reauth, r.token_dead, r.pause),
                (status, retry, re, token_dead, pause),
                "{c}"
            );
        }
    }

    #[test]
    fn only_definite_verdicts_kill_a_token() {
        assert!(rule(Answer::Item(10000)).token_dead);
        assert!(code(10000).token_dead);
        assert!(!rule(Answer::BatchInvalid).token_dead);
        assert_eq!(rule(Answer::Item(10004)).status, Failed);
        for c in [11, 14, 16, 28, 30, 33, 41, 67, 10001, 10004, 20000] {
            assert!(!code(c).token_dead, "{c}");
        }
        assert_eq!(code(14).credential_field, Some("credentials.app_key"));
        assert_eq!(code(15).credential_field, Some("credentials.app_key"));
        assert_eq!(code(16).credential_field, Some("credentials.master_secret"));
        assert_eq!(code(17).credential_field, Some("credentials.master_secret"));
        assert!(code(28).credentials && code(28).credential_field.is_none());
        assert!(!code(19).credentials);
        assert_eq!(code(67).credential_field, Some("vendor_options.channel_id"));
    }

    #[test]
    fn the_daily_total_pauses_the_class_until_oppos_next_day() {
        assert_eq!(code(33).until, Some(NEXT_OPPO_DAY));
        assert_eq!(code(55).until, Some(Until::Secs(1)));
        assert_eq!(code(13).until, Some(Until::Secs(1)));
        assert_eq!(code(-2).until, Some(Until::Secs(1)));
    }

    #[test]
    fn server_errors_and_silence_are_retried() {
        for a in [
            Answer::Http(500),
            Answer::Http(503),
            Answer::Http(429),
            Answer::Unreachable,
            Answer::Unreadable,
            Answer::Code(-1),
        ] {
            assert!(rule(a).retry, "{a:?}");
        }
        assert!(!rule(Answer::Http(404)).retry);
        assert!(!rule(Answer::Http(415)).retry);
    }

    #[test]
    fn answers_parse_in_every_documented_shape() {
        let ok = br#"{"code":0,"message":"","data":{"messageId":"123-1-1-abc"}}"#;
        assert_eq!(parse(ok).unwrap()["messageId"], "123-1-1-abc");
        let auth = br#"{"code":0,"message":"success","data":{"auth_token":"t","create_time":"1700000000000"}}"#;
        assert_eq!(parse(auth).unwrap()["auth_token"], "t");
        let batch = br#"{"code":0,"data":[{"messageId":"m","registrationId":"r"}]}"#;
        assert!(parse(batch).unwrap().is_array());
        let dead = "{\"code\":10000,\"message\":\"registration_id格式不正确\"}";
        let e = parse(dead.as_bytes()).unwrap_err();
        assert_eq!(e.answer, Answer::Code(10000));
        assert_eq!(e.status(), TokenInvalid);
        assert!(e.detail().starts_with("oppo 10000: "), "{}", e.detail());
        let quota = br#"{"code":"33","message":"exceed"}"#;
        assert_eq!(parse(quota).unwrap_err().answer, Answer::Code(33));
        assert_eq!(parse(br#"{"code":0}"#).unwrap(), Value::Null);
        for garbage in [&b"<html>"[..], b"[]", b"{}", br#"{"code":"x"}"#, b""] {
            assert_eq!(
                parse(garbage).unwrap_err().answer,
                Answer::Unreadable,
                "{garbage:?}"
            );
        }
        assert_eq!(read(502, ok).unwrap_err().answer, Answer::Http(502));
        assert_eq!(read(200, ok).unwrap()["messageId"], "123-1-1-abc");
    }

    #[test]
    fn kit_refusals_carry_the_vendor_code() {
        let k = Refusal::new(Answer::Code(33), "").to_kit();
        assert_eq!((k.code, k.vendor_code.as_deref()), (Some(33), Some("33")));
        let k = Refusal::new(Answer::Item(10000), "x").to_kit();
        assert_eq!(k.vendor_code.as_deref(), Some("10000"));
        assert!(k.rule.token_dead);
        let k = Refusal::new(Answer::Http(503), "").to_kit();
        assert_eq!(k.vendor_code.as_deref(), Some("http_503"));
        let mut r = Refusal::new(Answer::Unreachable, "no answer in time");
        r.maybe_written = true;
        let k = r.to_kit();
        assert!(k.maybe_written && k.rule.retry);
        assert_eq!(k.vendor_code.as_deref(), Some("no_answer"));
    }
}
