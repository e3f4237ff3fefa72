//! Xiaomi's answers and the one table from each to what the adapter does
//! (VENDORS_API.md 1.7, pId=1560 error codes; 1.6 and 1.9 quotas).
//!
//! Every call is answered HTTP 200 with `{"result": "ok"|"error", "code":
//! int, "reason": str, "description": str, "data": {...}}` (1.1 [S]).

use offpush::domain::DeliveryStatus::{self, Failed, Rejected};
use offpush::vendor::kit::rules::{credentials, dead, paused, retried, row};
use offpush::vendor::kit::{self, Rule, Scope, Until};
use serde_json::Value;

/// Xiaomi's day runs midnight to midnight UTC+8: its daily totals reset then.
pub const NEXT_XIAOMI_DAY: Until = Until::NextDay { utc_offset_h: 8 };

/// An answer, as far as the table cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `result: "error"` (or a non-zero code) with this code.
    Code(i64),
    /// 20301 whose reason is "No valid targets!": every regid of the call
    /// is invalid.
    NoValidTargets,
    /// A regid listed in `data.bad_regids` of an accepted call.
    BadRegid,
    /// An HTTP status other than 200.
    Http(u16),
    /// No answer.
    Unreachable,
    /// HTTP 200 whose body is not Xiaomi's JSON.
    Unreadable,
}

/// The table. Codes not listed fall to the last row.
pub fn rule(answer: Answer) -> Rule {
    match answer {
        // 1.7 [C]: unknown / internal error: retry with backoff.
        Answer::Code(-1 | 1) => retried("Xiaomi internal error"),
        // 1.7 [C/S]: system error, busy, remote error (the PHP port of the
        // official SDK retries 10002, 10003).
        Answer::Code(10001..=10003) => retried("Xiaomi busy or failing"),
        // 1.7 [C]: parameter error, missing, illegal value: our request is
        // wrong, resending it cannot help.
        Answer::Code(10008) => row(Rejected, "parameter error"),
        Answer::Code(10016) => row(Rejected, "a required parameter is missing"),
        Answer::Code(10017) => row(Rejected, "a parameter has an illegal value"),
        // 1.7 [C/S]: API called too often: back off (the official SDK
        // retries): the app pauses for a second.
        Answer::Code(10027) => paused(Scope::App, Until::Secs(1), "Xiaomi API called too often"),
        // 1.7 [C]: app blacklisted: configuration, stop; never a dead token.
        Answer::Code(10031) => row(
            Failed,
            "the Xiaomi app is blacklisted: sending is forbidden",
        ),
        // 1.7 [C]: the app sent too many messages today: stop for the day.
        Answer::Code(10034) => paused(
            Scope::App,
            NEXT_XIAOMI_DAY,
            "the Xiaomi app sent too many messages today",
        ),
        // 1.7 [C]: operation forbidden: configuration.
        Answer::Code(10036) => row(Failed, "operation forbidden for this Xiaomi app"),
        // 1.7 [C/S]: request expired: retry (the official SDK does).
        Answer::Code(10037) => retried("request expired"),
        // 1.7 [C code; S semantics]: 20301 without the "No valid targets!"
        // reason: the send failed for another reason; nothing is dead.
        Answer::Code(20301) => row(Failed, "Xiaomi could not send the message"),
        // 1.7 [S]: "No valid targets!": every regid of the call is dead.
        Answer::NoValidTargets => {
            dead("Xiaomi: no valid targets (regid invalid or app uninstalled)")
        }
        // 1.7 [S]: `data.bad_regids` of an accepted call.
        Answer::BadRegid => dead("Xiaomi: invalid regid (bad_regids)"),
        // 1.2, 1.7 [C]: the AppSecret was refused: the certificate's
        // credentials, never a dead token.
        Answer::Code(21301) => credentials(
            Some("credentials.app_secret"),
            "Xiaomi refused the AppSecret (Invalid application secret)",
        ),
        Answer::Code(21302) => credentials(
            Some("credentials.app_secret"),
            "Xiaomi refused the authentication",
        ),
        // 1.7 [C]: restricted request: back off.
        Answer::Code(21303) => paused(Scope::App, Until::Secs(5), "Xiaomi restricted the request"),
        // 1.7 [C]: missing required parameter.
        Answer::Code(21305) => row(Rejected, "a required parameter is missing"),
        // 1.7 [C]: illegal app, app id, app key: configuration.
        Answer::Code(22000 | 22006 | 22007) => credentials(None, "Xiaomi does not know this app"),
        // 1.7 [C]: illegal package name.
        Answer::Code(22022) => credentials(
            Some("credentials.package_name"),
            "Xiaomi refused the package name",
        ),
        // 1.7 [C]: broadcast too frequent (never sent by the adapter).
        Answer::Code(26004) => row(Failed, "Xiaomi broadcast too frequent"),
        // 1.6, 1.7 [C code; U semantics]: the channel does not match the
        // app: the certificate's vendor_options.channel_id.
        Answer::Code(27001) => Rule {
            credential_field: Some("vendor_options.channel_id"),
            ..row(
                Failed,
                "Xiaomi refused the channel (vendor_options.channel_id)",
            )
        },
        // 1.7 [C]: device not found, usually offline: not dead, kept.
        Answer::Code(65003) => row(Failed, "Xiaomi did not find the device (usually offline)"),
        // 1.7 [C]: content too long; too many or too long extras.
        Answer::Code(65009) => row(Rejected, "content too long"),
        Answer::Code(65014) => row(Rejected, "too many extra key/values"),
        Answer::Code(65015) => row(Rejected, "an extra key/value is too long"),
        // 1.7, 1.8 [C]: callback param too long, URL too long, URL illegal:
        // the receipt configuration.
        Answer::Code(65036) => row(Failed, "receipt callback parameter too long"),
        Answer::Code(65037) => row(Failed, "receipt callback URL too long"),
        Answer::Code(65038) => row(Failed, "receipt callback URL illegal"),
        // 1.6, 1.7 [C pId=1656]: the daily total of the message class is
        // used up: nothing of that class goes to this Xiaomi app until
        // Xiaomi's day ends.
        Answer::Code(200001) => paused(
            Scope::Class,
            NEXT_XIAOMI_DAY,
            "daily quota of this Xiaomi app used up",
        ),
        // 1.1 [U]: non-200 answers are undocumented: 5xx and 429 are
        // passing faults, anything else our request's.
        Answer::Http(s) if s >= 500 || s == 429 => retried("Xiaomi answered an HTTP error"),
        Answer::Http(_) => row(Failed, "Xiaomi answered an HTTP error"),
        Answer::Unreachable => retried("Xiaomi did not answer"),
        Answer::Unreadable => retried("Xiaomi answered an unreadable body"),
        // Every undocumented code: failed, code in the detail, kept.
        Answer::Code(_) => row(Failed, "Xiaomi refused the call"),
    }
}

/// The meaning of a code, for the detail of a pause read back from the table.
pub fn meaning(code: i64) -> &'static str {
    rule(Answer::Code(code)).meaning
}

/// An accepted call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// `data.id`: the message id receipts name.
    pub msg_id: Option<String>,
    /// `data.bad_regids`: regids Xiaomi says are invalid.
    pub bad_regids: Vec<String>,
}

/// A call that was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub answer: Answer,
    /// Xiaomi's `reason` (or `description`), cut short; never a secret.
    pub reason: String,
    pub maybe_written: bool,
}

impl Refusal {
    pub fn new(answer: Answer, reason: impl Into<String>) -> Self {
        Refusal {
            answer,
            reason: reason.into(),
            maybe_written: false,
        }
    }

    pub fn detail(&self) -> String {
        let r = rule(self.answer);
        match self.answer {
            Answer::Code(c) if self.reason.is_empty() => format!("xiaomi {c}: {}", r.meaning),
            Answer::Code(c) => format!("xiaomi {c}: {} ({})", r.meaning, self.reason),
            Answer::NoValidTargets => format!("xiaomi 20301: {}", r.meaning),
            Answer::BadRegid => r.meaning.to_string(),
            Answer::Http(s) => format!("{} ({s})", r.meaning),
            Answer::Unreachable if !self.reason.is_empty() => {
                format!("{} ({})", r.meaning, self.reason)
            }
            Answer::Unreachable | Answer::Unreadable => r.meaning.to_string(),
        }
    }

    pub fn to_kit(&self) -> kit::Refusal {
        let mut k = kit::Refusal::new(rule(self.answer), self.detail());
        k.maybe_written = self.maybe_written;
        match self.answer {
            Answer::Code(c) => k.code(c),
            Answer::NoValidTargets => k.vendor_code("20301"),
            Answer::BadRegid => k.vendor_code("bad_regids"),
            Answer::Http(s) => k.vendor_code(format!("http_{s}")),
            Answer::Unreachable => k.vendor_code("no_answer"),
            Answer::Unreadable => k.vendor_code("unreadable"),
        }
    }

    pub fn status(&self) -> DeliveryStatus {
        rule(self.answer).status
    }
}

/// Xiaomi sends some numbers as strings and ids as either.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What an answer means: a status other than 200 is [`Answer::Http`]
/// whatever the body; a 200 body is [`parse`]d.
pub fn read(status: u16, body: &[u8]) -> Result<Reply, Refusal> {
    if status != 200 {
        return Err(Refusal::new(Answer::Http(status), ""));
    }
    parse(body)
}

/// Parses a body of HTTP 200.
pub fn parse(body: &[u8]) -> Result<Reply, Refusal> {
    let unreadable = || Refusal::new(Answer::Unreadable, "");
    let v: Value = serde_json::from_slice(body).map_err(|_| unreadable())?;
    if !v.is_object() {
        return Err(unreadable());
    }
    let code = match v.get("code") {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(unreadable)?,
        Some(Value::String(s)) => s.trim().parse().map_err(|_| unreadable())?,
        None => match v.get("result").and_then(Value::as_str) {
            Some("ok") => 0,
            _ => return Err(unreadable()),
        },
        Some(_) => return Err(unreadable()),
    };
    let reason: String = v
        .get("reason")
        .and_then(Value::as_str)
        .or_else(|| v.get("description").and_then(Value::as_str))
        .unwrap_or("")
        .chars()
        .take(100)
        .collect();
    let result_error = v.get("result").and_then(Value::as_str) == Some("error");
    if code == 20301 && reason.to_ascii_lowercase().contains("no valid targets") {
        return Err(Refusal::new(Answer::NoValidTargets, reason));
    }
    if code != 0 || result_error {
        return Err(Refusal::new(Answer::Code(code), reason));
    }
    let data = v.get("data");
    // 1.7 [CONFLICT]: `bad_regids` (most clients) or `bad_regIds` (one Go
    // client): both are read.
    let bad = data
        .and_then(|d| d.get("bad_regids").or_else(|| d.get("bad_regIds")))
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(Reply {
        msg_id: data.and_then(|d| d.get("id")).and_then(text),
        bad_regids: bad
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
    })
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
        // (code, status, retry, dead, pause scope)
        let rows: &[(i64, DeliveryStatus, bool, bool, Scope)] = &[
            (-1, Failed, true, false, Scope::None),
            (1, Failed, true, false, Scope::None),
            (10001, Failed, true, false, Scope::None),
            (10002, Failed, true, false, Scope::None),
            (10003, Failed, true, false, Scope::None),
            (10008, Rejected, false, false, Scope::None),
            (10016, Rejected, false, false, Scope::None),
            (10017, Rejected, false, false, Scope::None),
            (10027, Throttled, false, false, Scope::App),
            (10031, Failed, false, false, Scope::None),
            (10034, Throttled, false, false, Scope::App),
            (10036, Failed, false, false, Scope::None),
            (10037, Failed, true, false, Scope::None),
            (20301, Failed, false, false, Scope::None),
            (21301, Failed, false, false, Scope::None),
            (21302, Failed, false, false, Scope::None),
            (21303, Throttled, false, false, Scope::App),
            (21305, Rejected, false, false, Scope::None),
            (22000, Failed, false, false, Scope::None),
            (22006, Failed, false, false, Scope::None),
            (22007, Failed, false, false, Scope::None),
            (22022, Failed, false, false, Scope::None),
            (26004, Failed, false, false, Scope::None),
            (27001, Failed, false, false, Scope::None),
            (65003, Failed, false, false, Scope::None),
            (65009, Rejected, false, false, Scope::None),
            (65014, Rejected, false, false, Scope::None),
            (65015, Rejected, false, false, Scope::None),
            (65036, Failed, false, false, Scope::None),
            (65037, Failed, false, false, Scope::None),
            (65038, Failed, false, false, Scope::None),
            (200001, Throttled, false, false, Scope::Class),
            (99999, Failed, false, false, Scope::None),
        ];
        for &(c, status, retry, token_dead, pause) in rows {
            let r = code(c);
            assert_eq!(
                (r.status, r.retry, r.token_dead, r.pause),
                (status, retry, token_dead, pause),
                "{c}"
            );
        }
    }

    #[test]
    fn only_definite_verdicts_kill_a_token() {
        assert!(rule(Answer::NoValidTargets).token_dead);
        assert!(rule(Answer::BadRegid).token_dead);
        for c in [20301, 21301, 21302, 22022, 27001, 65003, 10031] {
            assert!(!code(c).token_dead, "{c}");
        }
        assert!(code(21301).credentials);
        assert_eq!(code(21301).credential_field, Some("credentials.app_secret"));
        assert_eq!(
            code(22022).credential_field,
            Some("credentials.package_name")
        );
    }

    #[test]
    fn quotas_pause_until_xiaomis_next_day() {
        assert_eq!(code(200001).until, Some(NEXT_XIAOMI_DAY));
        assert_eq!(code(10034).until, Some(NEXT_XIAOMI_DAY));
        assert_eq!(code(10027).until, Some(Until::Secs(1)));
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
    fn answers_parse_in_every_documented_shape() {
        let ok = br#"{"result":"ok","trace_id":"Xlm1","code":0,"data":{"id":"slm1","day_quota":"50000","day_acked":"0"},"description":"ok","info":"Received push messages for 1 REGID"}"#;
        assert_eq!(parse(ok).unwrap().msg_id.as_deref(), Some("slm1"));
        let some = br#"{"result":"ok","code":0,"data":{"id":"m2","bad_regids":"r1, r3"}}"#;
        assert_eq!(parse(some).unwrap().bad_regids, ["r1", "r3"]);
        let go = br#"{"result":"ok","code":0,"data":{"id":"m3","bad_regIds":"r2"}}"#;
        assert_eq!(parse(go).unwrap().bad_regids, ["r2"]);
        let none = br#"{"result":"error","reason":"No valid targets!","code":20301,"description":"x","trace_id":"t"}"#;
        assert_eq!(parse(none).unwrap_err().answer, Answer::NoValidTargets);
        let other = br#"{"result":"error","reason":"something else","code":20301}"#;
        assert_eq!(parse(other).unwrap_err().answer, Answer::Code(20301));
        let auth = br#"{"result":"error","code":21301,"description":"x","reason":"Invalid application secret."}"#;
        let e = parse(auth).unwrap_err();
        assert_eq!(e.answer, Answer::Code(21301));
        assert!(e.detail().starts_with("xiaomi 21301"));
        let quota = br#"{"result":"error","code":"200001","reason":"exceed quota, quota: 5, have acked: 5"}"#;
        assert_eq!(parse(quota).unwrap_err().answer, Answer::Code(200001));
        for garbage in [&b"<html>"[..], b"[]", b"{}", br#"{"code":"x"}"#, b""] {
            assert_eq!(
                parse(garbage).unwrap_err().answer,
                Answer::Unreadable,
                "{garbage:?}"
            );
        }
        assert_eq!(read(502, ok).unwrap_err().answer, Answer::Http(502));
    }
}
