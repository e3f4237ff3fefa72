//! Meizu's answers and the one table from each to what the adapter does
//! (VENDORS_API.md 15.5 top-level and per-target codes, 15.7 and 15.8
//! quotas).
//!
//! Every answer is the envelope `{"code": "…", "message": "…", "value": …,
//! "redirect": "…", "msgId": "…"}` with `code` a string (15.5 [C]).
//! Accepted is `"200"`, whose `value` maps a per-target code to the pushIds
//! it failed for (`{}`: every target accepted).

use offpush::domain::DeliveryStatus::{self, Failed, Rejected, Sent, Throttled};
use offpush::vendor::kit::rules::{credentials, dead, paused, retried, row};
use offpush::vendor::kit::{self, Rule, Scope, Until};
use serde_json::Value;

/// Meizu's day runs midnight to midnight UTC+8 (a Chinese service, as
/// vivo's and Xiaomi's): its daily counts reset then.
pub const NEXT_MEIZU_DAY: Until = Until::NextDay { utc_offset_h: 8 };

/// An answer, as far as the table cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A top-level `code` other than 200: the whole call refused.
    Code(i64),
    /// A per-target code, a key of `value` in an accepted call.
    Target(i64),
    /// An HTTP status other than 200.
    Http(u16),
    /// No answer.
    Unreachable,
    /// HTTP 200 whose body is not Meizu's envelope.
    Unreadable,
}

/// The table. Codes not listed fall to the last rows.
pub fn rule(answer: Answer) -> Rule {
    match answer {
        // 15.5 [C]: other error / system error / busy: retry.
        Answer::Code(500) => retried("Meizu error"),
        Answer::Code(1001) => retried("Meizu system error"),
        Answer::Code(1003) => retried("Meizu is busy"),
        // 15.5 [C]: parameter error / empty parameter: this request is
        // wrong (over-long text or too many targets too, 16 guess 1):
        // sending it again cannot help.
        Answer::Code(1005) => row(Rejected, "Meizu refused a parameter"),
        Answer::Code(110004) => row(Rejected, "Meizu found a parameter empty"),
        // 15.2, 15.5 [C]: the signature failed: the sign is made with the
        // appSecret, so the certificate's secret is wrong.
        Answer::Code(1006) => credentials(
            Some("credentials.app_secret"),
            "Meizu refused the signature (wrong appSecret)",
        ),
        // 15.5 [C]: bad appId / appKey / appSecret. The server never sends
        // the appKey (15.2): 110001 means the secret given is not the
        // server's (often the appKey pasted in its place).
        Answer::Code(110000) => {
            credentials(Some("credentials.app_id"), "Meizu does not know the appId")
        }
        Answer::Code(110001) => credentials(
            Some("credentials.app_secret"),
            "Meizu refused the appKey (give the appSecret, not the appKey)",
        ),
        Answer::Code(110033) => credentials(
            Some("credentials.app_secret"),
            "Meizu refused the appSecret",
        ),
        // 15.5 [C]: the app is blacklisted: configuration; stop; never a
        // dead token.
        Answer::Code(110009) => row(Failed, "the Meizu app is blacklisted"),
        // 15.5 [C], 15.8 [U: 200 QPS]: request rate too high: the app
        // pauses for a second.
        Answer::Code(110010) => paused(Scope::App, Until::Secs(1), "Meizu request rate too high"),
        // VENDORS_API.md 15.5 [CONFLICT]: commit 2b84cb4 swapped 110019 and
        // 110031; a39667d and the official JavaSdk read 110019 as the app's
        // daily push count and 110031 as a bad package name. The adapter
        // sends no `restrictedPackageNames`, so a package refusal cannot be
        // ours: 110019 is read as the daily count under either reading
        // (the safer: the app stops for the day rather than calling Meizu
        // on), and 110031 fails the call without ending anything.
        Answer::Code(110019) => paused(
            Scope::App,
            NEXT_MEIZU_DAY,
            "the Meizu app's daily push count is used up",
        ),
        Answer::Code(110031) => row(
            Failed,
            "Meizu refused the package name (or, in one reading, the daily push count is used up)",
        ),
        // 15.5 [C]: the app's count limit: stop for the day.
        Answer::Code(110051) => paused(
            Scope::App,
            NEXT_MEIZU_DAY,
            "the Meizu app's daily message count is used up",
        ),
        // 15.5 [C]: bad taskId; pass-through over its limit: neither is
        // sent by the adapter (no task API, no pass-through).
        Answer::Code(110032) => row(Failed, "Meizu refused the taskId"),
        Answer::Code(110053) => row(Failed, "Meizu pass-through messages over their limit"),
        // 15.5 [C] per target: pushId not subscribed / illegal: the token
        // is dead, its binding ends.
        Answer::Target(110002) => dead("Meizu: pushId not subscribed"),
        Answer::Target(110003) => dead("Meizu: illegal pushId"),
        // 15.5 [C]: alias not subscribed (the adapter sends no alias).
        Answer::Target(110005) => row(Failed, "Meizu: alias not subscribed or switched off"),
        // 15.5 [C]: per target, 110010 is the device's notification switch
        // (not the rate): the user muted the app; the binding is kept.
        Answer::Target(110010) => row(Failed, "Meizu: notifications switched off on the device"),
        // 15.5, 15.7 [C code; U caps]: the device's daily public-message cap:
        // no public message reaches it until Meizu's next day. Only this
        // target: nothing of the account is paused.
        Answer::Target(110011) => Rule {
            until: Some(NEXT_MEIZU_DAY),
            ..row(
                Throttled,
                "Meizu: the device's daily public-message cap is reached",
            )
        },
        // 15.5 [C]: collapsed (more than 5 messages to the device in a
        // minute): not a failure, the device shows the newest.
        Answer::Target(520) => row(
            Sent,
            "Meizu collapsed it with the device's newer messages (over 5 in a minute)",
        ),
        // 15.5 [C; 518 JavaSdk]: speed limit: a passing rate limit of the
        // device's delivery.
        Answer::Target(518) => Rule {
            until: Some(Until::Secs(1)),
            ..row(Throttled, "Meizu: speed limit")
        },
        // 15.5 [C]: refused / db error / failed / overload: "retry later";
        // a target of an accepted call is not sent again (the call was
        // written), so it fails and stays bound.
        Answer::Target(201) => row(Failed, "Meizu refused it for this device (retry later)"),
        Answer::Target(501) => row(Failed, "Meizu database error (retry later)"),
        Answer::Target(513) => row(Failed, "Meizu failed to send it (retry later)"),
        Answer::Target(519) => row(Failed, "Meizu overloaded (retry later)"),
        Answer::Target(_) => row(Failed, "Meizu refused this target"),
        // 15.5 [S: JavaSdk retries HTTP 5xx]: 5xx and 429 are passing
        // faults, any other status our request's.
        Answer::Http(s) if s >= 500 || s == 429 => retried("Meizu answered an HTTP error"),
        Answer::Http(_) => row(Failed, "Meizu answered an HTTP error"),
        Answer::Unreachable => retried("Meizu did not answer"),
        Answer::Unreadable => retried("Meizu answered an unreadable body"),
        // Every undocumented code: failed, code in the detail, kept.
        Answer::Code(_) => row(Failed, "Meizu refused the call"),
    }
}

/// The meaning of a top-level code, for the detail of a pause read back
/// from the table.
pub fn meaning(code: i64) -> &'static str {
    rule(Answer::Code(code)).meaning
}

/// An accepted call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// `msgId`: the message id receipts name.
    pub msg_id: Option<String>,
    /// `value`: per-target code -> the pushIds it failed for.
    pub failed: Vec<(i64, Vec<String>)>,
}

impl Reply {
    /// The per-target code of `push_id`, None when it was accepted.
    pub fn code_of(&self, push_id: &str) -> Option<i64> {
        self.failed
            .iter()
            .find(|(_, ids)| ids.iter().any(|i| i == push_id))
            .map(|(c, _)| *c)
    }
}

/// A call that was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub answer: Answer,
    /// Meizu's `message`, cut short; never a secret.
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

    pub fn detail(&self) -> String {
        let r = rule(self.answer);
        match self.answer {
            Answer::Code(c) | Answer::Target(c) if self.message.is_empty() => {
                format!("meizu {c}: {}", r.meaning)
            }
            Answer::Code(c) | Answer::Target(c) => {
                format!("meizu {c}: {} ({})", r.meaning, self.message)
            }
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
            Answer::Code(c) | Answer::Target(c) => k.code(c),
            Answer::Http(s) => k.vendor_code(format!("http_{s}")),
            Answer::Unreachable => k.vendor_code("no_answer"),
            Answer::Unreadable => k.vendor_code("unreadable"),
        }
    }

    pub fn status(&self) -> DeliveryStatus {
        rule(self.answer).status
    }
}

/// A code as Meizu writes it: a string (15.5 [C]), or a number.
fn code_of(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
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
    let code = v.get("code").and_then(code_of).ok_or_else(unreadable)?;
    let message: String = v
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(100)
        .collect();
    if code != 200 {
        return Err(Refusal::new(Answer::Code(code), message));
    }
    let mut failed = Vec::new();
    match v.get("value") {
        // 15.5 [C]: `{}` is every target accepted; otherwise code ->
        // pushIds. An empty string or null is read as nothing failed.
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.is_empty() => {}
        Some(Value::Object(map)) => {
            for (k, ids) in map {
                let code = k.trim().parse::<i64>().map_err(|_| unreadable())?;
                let ids: Vec<String> = match ids {
                    Value::Array(a) => a
                        .iter()
                        .map(|i| i.as_str().map(str::to_string))
                        .collect::<Option<_>>()
                        .ok_or_else(unreadable)?,
                    // A comma-joined string, should Meizu write one.
                    Value::String(s) => s
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    _ => return Err(unreadable()),
                };
                failed.push((code, ids));
            }
        }
        Some(_) => return Err(unreadable()),
    }
    Ok(Reply {
        msg_id: v
            .get("msgId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::DeliveryStatus::*;

    #[test]
    fn every_documented_code_is_a_row() {
        // (answer, status, retry, dead, credentials field, pause scope, until)
        type R = (
            Answer,
            DeliveryStatus,
            bool,
            bool,
            Option<&'static str>,
            Scope,
            Option<Until>,
        );
        let c = Answer::Code;
        let t = Answer::Target;
        let app = Some("credentials.app_id");
        let secret = Some("credentials.app_secret");
        let n = Scope::None;
        let rows: &[R] = &[
            (c(500), Failed, true, false, None, n, None),
            (c(1001), Failed, true, false, None, n, None),
            (c(1003), Failed, true, false, None, n, None),
            (c(1005), Rejected, false, false, None, n, None),
            (c(110004), Rejected, false, false, None, n, None),
            (c(1006), Failed, false, false, secret, n, None),
            (c(110000), Failed, false, false, app, n, None),
            (c(110001), Failed, false, false, secret, n, None),
            (c(110031), Failed, false, false, None, n, None),
            (c(110033), Failed, false, false, secret, n, None),
            (c(110009), Failed, false, false, None, n, None),
            (
                c(110010),
                Throttled,
                false,
                false,
                None,
                Scope::App,
                Some(Until::Secs(1)),
            ),
            (
                c(110019),
                Throttled,
                false,
                false,
                None,
                Scope::App,
                Some(NEXT_MEIZU_DAY),
            ),
            (
                c(110051),
                Throttled,
                false,
                false,
                None,
                Scope::App,
                Some(NEXT_MEIZU_DAY),
            ),
            (c(110032), Failed, false, false, None, n, None),
            (c(110053), Failed, false, false, None, n, None),
            (c(99999), Failed, false, false, None, n, None),
            (t(110002), TokenInvalid, false, true, None, n, None),
            (t(110003), TokenInvalid, false, true, None, n, None),
            (t(110005), Failed, false, false, None, n, None),
            (t(110010), Failed, false, false, None, n, None),
            (
                t(110011),
                Throttled,
                false,
                false,
                None,
                n,
                Some(NEXT_MEIZU_DAY),
            ),
            (t(520), Sent, false, false, None, n, None),
            (t(201), Failed, false, false, None, n, None),
            (t(501), Failed, false, false, None, n, None),
            (t(513), Failed, false, false, None, n, None),
            (
                t(518),
                Throttled,
                false,
                false,
                None,
                n,
                Some(Until::Secs(1)),
            ),
            (t(519), Failed, false, false, None, n, None),
            (t(12345), Failed, false, false, None, n, None),
            (Answer::Http(500), Failed, true, false, None, n, None),
            (Answer::Http(503), Failed, true, false, None, n, None),
            (Answer::Http(429), Failed, true, false, None, n, None),
            (Answer::Http(404), Failed, false, false, None, n, None),
            (Answer::Unreachable, Failed, true, false, None, n, None),
            (Answer::Unreadable, Failed, true, false, None, n, None),
        ];
        for &(a, status, retry, token_dead, field, pause, until) in rows {
            let r = rule(a);
            assert_eq!(
                (
                    r.status,
                    r.retry,
                    r.token_dead,
                    r.credential_field,
                    r.pause,
                    r.until
                ),
                (status, retry, token_dead, field, pause, until),
                "{a:?}"
            );
            assert_eq!(r.credentials, field.is_some(), "{a:?}");
            assert!(!r.reauth, "Meizu has no token to refresh: {a:?}");
        }
    }

    #[test]
    fn only_the_two_pushid_verdicts_kill_a_token() {
        for a in [Answer::Target(110002), Answer::Target(110003)] {
            assert!(rule(a).token_dead);
        }
        // The same numbers at the top level, and every other code, never do.
        for a in [
            Answer::Code(110002),
            Answer::Code(110003),
            Answer::Target(110010),
            Answer::Target(110011),
            Answer::Code(1006),
            Answer::Code(110009),
        ] {
            assert!(!rule(a).token_dead, "{a:?}");
        }
        // 110010 means the rate at the top level, the device's switch per target.
        assert_eq!(rule(Answer::Code(110010)).pause, Scope::App);
        assert_eq!(rule(Answer::Target(110010)).until, None);
    }

    #[test]
    fn answers_parse_in_every_documented_shape() {
        let ok = br#"{"code":"200","message":"","value":{},"redirect":"","msgId":"0123456789abcdef0123456789abcdef"}"#;
        let r = parse(ok).unwrap();
        assert_eq!(
            r.msg_id.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert!(r.failed.is_empty());
        let some = br#"{"code":"200","message":"","value":{"110002":["a","b"],"110003":["c"]},"msgId":"m"}"#;
        let r = parse(some).unwrap();
        assert_eq!(r.code_of("a"), Some(110002));
        assert_eq!(r.code_of("c"), Some(110003));
        assert_eq!(r.code_of("d"), None);
        let rate = r#"{"code":"110010","message":"应用请求频率超过限制","value":""}"#;
        let e = parse(rate.as_bytes()).unwrap_err();
        assert_eq!(e.answer, Answer::Code(110010));
        assert_eq!(
            e.detail(),
            "meizu 110010: Meizu request rate too high (应用请求频率超过限制)"
        );
        assert_eq!(e.to_kit().vendor_code.as_deref(), Some("110010"));
        let numeric = br#"{"code":1006,"message":"sign error"}"#;
        assert_eq!(parse(numeric).unwrap_err().answer, Answer::Code(1006));
        let empty_value = br#"{"code":"200","value":"","msgId":"m"}"#;
        assert!(parse(empty_value).unwrap().failed.is_empty());
        for garbage in [
            &b"<html>"[..],
            b"[]",
            b"{}",
            br#"{"code":"x"}"#,
            b"",
            br#"{"code":"200","value":{"x":["a"]}}"#,
            br#"{"code":"200","value":{"110002":[1]}}"#,
            br#"{"code":"200","value":7}"#,
        ] {
            assert_eq!(
                parse(garbage).unwrap_err().answer,
                Answer::Unreadable,
                "{garbage:?}"
            );
        }
        assert_eq!(read(502, ok).unwrap_err().answer, Answer::Http(502));
        assert_eq!(
            Refusal::new(Answer::Http(502), "")
                .to_kit()
                .vendor_code
                .as_deref(),
            Some("http_502")
        );
    }
}
