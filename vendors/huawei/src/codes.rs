//! Huawei's answers and the one table from each to what the adapter does
//! (VENDORS_API.md 4.3 result codes, 4.1 the token endpoint, 4.5 flow
//! control).
//!
//! A send is answered `{"code":"80000000","msg":"Success","requestId":".."}`
//! with `code` a string (4.3 [C]); the HTTP status carries meaning too (400
//! with a business code, 401, 404, 500, 502, 503 = flow control), and the
//! body is read whatever the status (4.3 [C]).

use offpush::domain::DeliveryStatus::{self, Failed, Rejected, Sent, Throttled};
use offpush::vendor::kit::rules::{credentials, dead, paused, reauth, retried, row};
use offpush::vendor::kit::{self, Rule, Scope, Until};
use serde_json::Value;

/// An answer, as far as the table cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A send answered with this result code.
    Code(i64),
    /// A token listed in `illegal_tokens` of an 80100000 answer.
    IllegalToken,
    /// 80100000 whose `msg` cannot be read: which tokens were refused is
    /// unknown.
    PartialUnreadable,
    /// 80300007 taken as a token verdict: the gate passed (see
    /// [`crate::send`]).
    AllTokensInvalid,
    /// The token endpoint refused the client id.
    AuthClientId,
    /// The token endpoint refused the client secret.
    AuthSecret,
    /// The token endpoint refused the request otherwise (4xx).
    AuthRefused,
    /// The token endpoint's flow control (HTTP 503).
    AuthLimit,
    /// An HTTP status without a readable result code.
    Http(u16),
    /// No answer.
    Unreachable,
    /// A 2xx answer whose body is not Huawei's JSON.
    Unreadable,
}

/// The table. Codes not listed fall to the last row.
pub fn rule(answer: Answer) -> Rule {
    match answer {
        // 4.3 [C]: success.
        Answer::Code(80_000_000) => row(Sent, "success"),
        // 4.3 [C]: partial success: the tokens not listed were accepted.
        Answer::Code(80_100_000) => row(Sent, "some tokens were illegal"),
        // 4.3 [C]: a token listed in illegal_tokens: its binding ends.
        Answer::IllegalToken => dead("illegal token (listed in illegal_tokens)"),
        Answer::PartialUnreadable => row(
            Failed,
            "some tokens were illegal, but Huawei's list of them could not be read: outcome unknown",
        ),
        // 4.3 [C]: parameter / message structure errors: our request is
        // wrong, resending it cannot help.
        Answer::Code(80_100_001) => row(Rejected, "parameter error"),
        Answer::Code(80_100_003) => row(Rejected, "message structure error"),
        // 4.3 [S]: mizhousoft maps it, with no meaning the spec confirms.
        Answer::Code(80_100_002) => row(Rejected, "parameter error (undocumented code)"),
        // 4.3 [C]: TTL earlier than now, illegal collapse_key.
        Answer::Code(80_100_004) => row(Rejected, "TTL earlier than now"),
        Answer::Code(80_100_013) => row(Rejected, "illegal collapse_key"),
        // 4.3 [C]: sensitive content: not retryable.
        Answer::Code(80_100_016) => row(Rejected, "Huawei refused the content as sensitive"),
        // 4.3 [C]: topic tasks (never sent by the adapter).
        Answer::Code(80_100_017) => row(Failed, "more than 100 concurrent topic tasks"),
        // 4.3 [C]: OAuth authentication error (missing token, a token of
        // another app): configuration, never a dead token.
        Answer::Code(80_200_001) => row(
            Failed,
            "Huawei refused the access token (OAuth authentication error: check the certificate's client_id)",
        ),
        // 4.3 [C], 7: the access token expired: re-authenticate once and
        // send again.
        Answer::Code(80_200_003) => reauth("Huawei access token expired"),
        // 4.1, 4.3 [C]: the service-account JWT expired; the adapter uses
        // OAuth client credentials, so this is never ours to fix by a retry.
        Answer::Code(80_200_005) => row(Failed, "Huawei JWT expired"),
        // 4.3 [C], 7: Push Kit not enabled, overseas rights missing:
        // configuration, never a dead token.
        Answer::Code(80_300_002) => row(
            Failed,
            "the Huawei app is not permitted to push (enable Push Kit and its rights in AppGallery Connect)",
        ),
        // 4.3 [C]: "all tokens invalid", but also answered when the package
        // or app id is misconfigured: as a code alone the bindings are kept.
        // crate::send upgrades it to AllTokensInvalid when the gate passes.
        Answer::Code(80_300_007) => row(
            Failed,
            "all tokens invalid, or the Huawei app misconfigured (bindings kept: no send through this app succeeded lately)",
        ),
        Answer::AllTokensInvalid => dead(
            "all tokens invalid (a send through this Huawei app succeeded lately, so not a misconfiguration)",
        ),
        // 4.2, 4.3 [C]: body over 4096 bytes, more than 1000 tokens: the
        // adapter never sends either (message::Notification::body_size,
        // MAX_TOKENS); if Huawei says so anyway the message cannot go.
        Answer::Code(80_300_008) => row(Rejected, "message body over Huawei's 4096 bytes"),
        Answer::Code(80_300_010) => row(Rejected, "more than 1000 tokens in one call"),
        // 4.3 [C]: configuration.
        Answer::Code(80_300_011) => row(
            Failed,
            "the Huawei app has no permission for high-level notifications",
        ),
        Answer::Code(80_300_013) => row(
            Failed,
            "Huawei receipt URL error (check the certificate's receipt_id in AppGallery Connect)",
        ),
        // 4.3 [C]: OAuth service failed, internal error: passing faults.
        Answer::Code(80_600_003) => retried("Huawei OAuth service request failed"),
        Answer::Code(81_000_001) => retried("Huawei internal error"),
        // 4.1 [C]: the token endpoint refused the OAuth client.
        Answer::AuthClientId => credentials(
            Some("credentials.client_id"),
            "Huawei refused the OAuth client id",
        ),
        Answer::AuthSecret => credentials(
            Some("credentials.client_secret"),
            "Huawei refused the OAuth client secret",
        ),
        Answer::AuthRefused => credentials(None, "Huawei refused the token request"),
        // 4.1 [C]: at most 1000 tokens per 5 minutes per app. The account's
        // auth pauses a minute; a still valid token stays in use meanwhile.
        Answer::AuthLimit => paused(
            Scope::Auth,
            Until::Secs(60),
            "Huawei token flow control (1000 tokens per 5 minutes)",
        ),
        // 4.3, 4.5 [C]: HTTP 503 is flow control: the message was not
        // taken, so it is tried again with backoff (Retry-After when given)
        // and answered throttled after the attempts.
        Answer::Http(503 | 429) => Rule {
            retry: true,
            ..row(Throttled, "Huawei flow control")
        },
        // 4.3 [C]: other server errors without a code: passing faults.
        Answer::Http(s) if s >= 500 => retried("Huawei answered an HTTP error"),
        Answer::Http(_) => row(Failed, "Huawei answered an HTTP error"),
        Answer::Unreachable => retried("Huawei did not answer"),
        Answer::Unreadable => retried("Huawei answered an unreadable body"),
        // Every undocumented code: failed, code in the detail, kept.
        Answer::Code(_) => row(Failed, "Huawei refused the call"),
    }
}

/// The meaning of a code, for the detail of a pause read back from the table.
pub fn meaning(code: i64) -> &'static str {
    match code {
        // The one pause the table sets is the token endpoint's.
        503 => rule(Answer::AuthLimit).meaning,
        c => rule(Answer::Code(c)).meaning,
    }
}

/// An accepted send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// `requestId`: what receipts name.
    pub request_id: Option<String>,
    /// 80100000: the tokens Huawei refused (`illegal_tokens`).
    pub illegal_tokens: Vec<String>,
}

/// A call that was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub answer: Answer,
    /// Huawei's `msg` (or the token endpoint's description), cut short.
    pub msg: String,
    pub maybe_written: bool,
    /// Seconds Huawei asked to wait (Retry-After), when it said.
    pub retry_after: Option<u64>,
}

/// Huawei's texts are cut to this many characters in a detail.
const MSG_CHARS: usize = 100;

impl Refusal {
    pub fn new(answer: Answer, msg: impl Into<String>) -> Self {
        Refusal {
            answer,
            msg: msg.into().chars().take(MSG_CHARS).collect(),
            maybe_written: false,
            retry_after: None,
        }
    }

    pub fn detail(&self) -> String {
        let r = rule(self.answer);
        let code = match self.answer {
            Answer::Code(c) => Some(c),
            Answer::IllegalToken | Answer::PartialUnreadable => Some(80_100_000),
            Answer::AllTokensInvalid => Some(80_300_007),
            _ => None,
        };
        let msg = if self.msg.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.msg)
        };
        match (code, self.answer) {
            (Some(c), _) => format!("huawei {c}: {}{msg}", r.meaning),
            (None, Answer::Http(s)) => format!("huawei: {} (HTTP {s})", r.meaning),
            (None, _) => format!("huawei: {}{msg}", r.meaning),
        }
    }

    pub fn vendor_code(&self) -> String {
        match self.answer {
            Answer::Code(c) => c.to_string(),
            Answer::IllegalToken | Answer::PartialUnreadable => "80100000".into(),
            Answer::AllTokensInvalid => "80300007".into(),
            Answer::AuthClientId | Answer::AuthSecret | Answer::AuthRefused => "oauth".into(),
            Answer::AuthLimit => "http_503".into(),
            Answer::Http(s) => format!("http_{s}"),
            Answer::Unreachable => "no_answer".into(),
            Answer::Unreadable => "unreadable".into(),
        }
    }

    pub fn to_kit(&self) -> kit::Refusal {
        let mut k = kit::Refusal::new(rule(self.answer), self.detail());
        k.maybe_written = self.maybe_written;
        k.retry_after = self.retry_after;
        k = match self.answer {
            Answer::Code(c) => k.code(c),
            // The auth pause is kept under the HTTP status that set it.
            Answer::AuthLimit => k.code(503),
            _ => k,
        };
        k.vendor_code(self.vendor_code())
    }

    pub fn status(&self) -> DeliveryStatus {
        rule(self.answer).status
    }
}

/// Seconds of a `Retry-After` header given in seconds.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn code_of(v: &Value) -> Option<i64> {
    match v.get("code")? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Reads an 80100000 `msg`: a JSON *string* such as
/// `{"success":3,"failure":1,"illegal_tokens":["…"]}` (4.3 [C]); an object
/// is taken too.
pub fn illegal_tokens(msg: &Value) -> Option<Vec<String>> {
    let parsed;
    let obj = match msg {
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).ok()?;
            &parsed
        }
        v => v,
    };
    obj.get("illegal_tokens")?
        .as_array()?
        .iter()
        .map(|t| t.as_str().map(str::to_string))
        .collect()
}

/// What a send answer means. The body is read whatever the status (4.3);
/// without a result code the status decides.
pub fn read_send(status: u16, body: &[u8], retry: Option<u64>) -> Result<Reply, Refusal> {
    let v: Option<Value> = serde_json::from_slice(body).ok().filter(Value::is_object);
    let Some((v, code)) = v.and_then(|v| code_of(&v).map(|c| (v, c))) else {
        let answer = if (200..300).contains(&status) {
            Answer::Unreadable
        } else {
            Answer::Http(status)
        };
        return Err(Refusal {
            retry_after: retry.or((status == 503).then_some(1)),
            ..Refusal::new(answer, "")
        });
    };
    let msg = v.get("msg").cloned().unwrap_or(Value::Null);
    let text = match &msg {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let request_id = match v.get("requestId") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match code {
        80_000_000 => Ok(Reply {
            request_id,
            illegal_tokens: Vec::new(),
        }),
        80_100_000 => match illegal_tokens(&msg) {
            Some(illegal_tokens) => Ok(Reply {
                request_id,
                illegal_tokens,
            }),
            None => Err(Refusal::new(Answer::PartialUnreadable, "")),
        },
        // The msg of an 80100000 may list tokens; other codes' msg is
        // Huawei's prose, still never trusted to hold no token: the send
        // scrubs the call's tokens out of every detail.
        c => Err(Refusal {
            retry_after: retry,
            ..Refusal::new(Answer::Code(c), text)
        }),
    }
}

/// What a token endpoint answer means: the token and its lifetime.
pub fn read_token(status: u16, body: &[u8]) -> Result<(String, i64), Refusal> {
    let v: Option<Value> = serde_json::from_slice(body).ok().filter(Value::is_object);
    if status == 200 {
        let v = v.ok_or_else(|| Refusal::new(Answer::Unreadable, ""))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Refusal::new(Answer::Unreadable, ""))?;
        // 4.1 [C]: 3600 s; a missing or odd value is read as that.
        let secs = v
            .get("expires_in")
            .and_then(Value::as_i64)
            .filter(|s| *s > 0)
            .unwrap_or(3600);
        return Ok((token.to_string(), secs));
    }
    if status == 503 {
        return Err(Refusal::new(Answer::AuthLimit, ""));
    }
    if status >= 500 {
        return Err(Refusal::new(Answer::Http(status), ""));
    }
    // 4.1 gives no error shape. The token endpoint answers OAuth errors
    // `{"error":..,"sub_error":..,"error_description":".."}`: a description
    // or sub-error naming the client id blames it, else the secret.
    let description = v
        .as_ref()
        .and_then(|v| v.get("error_description"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let sub_error = v
        .as_ref()
        .and_then(|v| v.get("sub_error"))
        .and_then(Value::as_i64);
    let lower = description.to_ascii_lowercase();
    let answer =
        if sub_error == Some(20158) || lower.contains("client_id") || lower.contains("client id") {
            Answer::AuthClientId
        } else if (400..500).contains(&status) && v.is_some() || lower.contains("secret") {
            Answer::AuthSecret
        } else if (400..500).contains(&status) {
            Answer::AuthRefused
        } else {
            Answer::Http(status)
        };
    Err(Refusal::new(answer, description))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: i64) -> Rule {
        rule(Answer::Code(c))
    }

    #[test]
    fn every_documented_code_is_a_row() {
        // (code, status, retry, reauth, dead)
        let rows: &[(i64, DeliveryStatus, bool, bool, bool)] = &[
            (80_000_000, Sent, false, false, false),
            (80_100_000, Sent, false, false, false),
            (80_100_001, Rejected, false, false, false),
            (80_100_002, Rejected, false, false, false),
            (80_100_003, Rejected, false, false, false),
            (80_100_004, Rejected, false, false, false),
            (80_100_013, Rejected, false, false, false),
            (80_100_016, Rejected, false, false, false),
            (80_100_017, Failed, false, false, false),
            (80_200_001, Failed, false, false, false),
            (80_200_003, Failed, false, true, false),
            (80_200_005, Failed, false, false, false),
            (80_300_002, Failed, false, false, false),
            (80_300_007, Failed, false, false, false),
            (80_300_008, Rejected, false, false, false),
            (80_300_010, Rejected, false, false, false),
            (80_300_011, Failed, false, false, false),
            (80_300_013, Failed, false, false, false),
            (80_600_003, Failed, true, false, false),
            (81_000_001, Failed, true, false, false),
            (82_000_001, Failed, false, false, false),
            (99_999_999, Failed, false, false, false),
        ];
        for &(c, status, retry, re, token_dead) in rows {
            let r = code(c);
            assert_eq!(
                (r.status, r.retry, r.reauth, r.token_dead),
                (status, retry, re, token_dead),
                "{c}"
            );
            assert_eq!(r.pause, Scope::None, "{c}");
        }
    }

    #[test]
    fn only_definite_verdicts_kill_a_token() {
        assert!(rule(Answer::IllegalToken).token_dead);
        assert!(rule(Answer::AllTokensInvalid).token_dead);
        // 80300007 alone may be a misconfigured app (4.3): kept.
        for c in [80_300_007, 80_300_002, 80_200_001, 80_200_003, 80_100_003] {
            assert!(!code(c).token_dead, "{c}");
        }
        assert!(!rule(Answer::PartialUnreadable).token_dead);
    }

    #[test]
    fn auth_answers_name_the_field_and_pause_on_flow_control() {
        let r = rule(Answer::AuthSecret);
        assert!(r.credentials);
        assert_eq!(r.credential_field, Some("credentials.client_secret"));
        assert_eq!(
            rule(Answer::AuthClientId).credential_field,
            Some("credentials.client_id")
        );
        let l = rule(Answer::AuthLimit);
        assert_eq!(
            (l.status, l.pause, l.until),
            (Throttled, Scope::Auth, Some(Until::Secs(60)))
        );
        assert_eq!(meaning(503), l.meaning);
        assert_eq!(meaning(80_300_002), code(80_300_002).meaning);
    }

    #[test]
    fn flow_control_and_server_errors_are_retried() {
        let t = rule(Answer::Http(503));
        assert!(t.retry && t.status == Throttled && t.pause == Scope::None);
        for a in [
            Answer::Http(500),
            Answer::Http(502),
            Answer::Unreachable,
            Answer::Unreadable,
        ] {
            let r = rule(a);
            assert!(r.retry && r.status == Failed, "{a:?}");
        }
        assert!(!rule(Answer::Http(404)).retry);
    }

    #[test]
    fn send_answers_are_read_whatever_the_status() {
        let ok = br#"{"code":"80000000","msg":"Success","requestId":"1765000000000123"}"#;
        assert_eq!(
            read_send(200, ok, None).unwrap().request_id.as_deref(),
            Some("1765000000000123")
        );
        // 80100000: msg is a JSON string naming the illegal tokens.
        let partial = serde_json::json!({
            "code": "80100000",
            "msg": r#"{"success":1,"failure":2,"illegal_tokens":["t2","t3"]}"#,
            "requestId": "9"
        });
        let r = read_send(200, partial.to_string().as_bytes(), None).unwrap();
        assert_eq!(r.illegal_tokens, ["t2", "t3"]);
        let bad = br#"{"code":"80100000","msg":"not json","requestId":"9"}"#;
        assert_eq!(
            read_send(200, bad, None).unwrap_err().answer,
            Answer::PartialUnreadable
        );
        // A code in a 400 or 401 body is the code's row.
        let b = br#"{"code":"80300002","msg":"no permission"}"#;
        assert_eq!(
            read_send(400, b, None).unwrap_err().answer,
            Answer::Code(80_300_002)
        );
        let b = br#"{"code":80200003,"msg":"expired"}"#;
        assert_eq!(
            read_send(401, b, None).unwrap_err().answer,
            Answer::Code(80_200_003)
        );
        // Without a code: the status.
        let r = read_send(503, b"Service Unavailable", None).unwrap_err();
        assert_eq!((r.answer, r.retry_after), (Answer::Http(503), Some(1)));
        let r = read_send(503, b"", Some(4)).unwrap_err();
        assert_eq!(r.retry_after, Some(4));
        assert_eq!(
            read_send(200, b"<html>", None).unwrap_err().answer,
            Answer::Unreadable
        );
        assert_eq!(
            read_send(502, b"{}", None).unwrap_err().answer,
            Answer::Http(502)
        );
    }

    #[test]
    fn details_and_vendor_codes() {
        let r = Refusal::new(Answer::Code(80_300_002), "x".repeat(300));
        assert!(r
            .detail()
            .starts_with("huawei 80300002: the Huawei app is not permitted"));
        assert!(r.detail().len() < 300);
        assert_eq!(r.to_kit().vendor_code.as_deref(), Some("80300002"));
        assert_eq!(r.to_kit().code, Some(80_300_002));
        let r = Refusal::new(Answer::IllegalToken, "");
        assert_eq!(r.to_kit().vendor_code.as_deref(), Some("80100000"));
        assert_eq!(r.to_kit().delivery().status, DeliveryStatus::TokenInvalid);
        let r = Refusal::new(Answer::Http(503), "");
        assert_eq!(r.to_kit().vendor_code.as_deref(), Some("http_503"));
        assert_eq!(r.detail(), "huawei: Huawei flow control (HTTP 503)");
    }

    #[test]
    fn token_answers() {
        let ok = br#"{"access_token":"CF3\/Bx==","expires_in":3600,"token_type":"Bearer"}"#;
        assert_eq!(read_token(200, ok).unwrap(), ("CF3/Bx==".to_string(), 3600));
        let e = |status, sub: i64, d: &str| {
            let b = serde_json::json!({"error": 1101, "sub_error": sub, "error_description": d});
            read_token(status, b.to_string().as_bytes())
                .unwrap_err()
                .answer
        };
        assert_eq!(e(400, 20158, "invalid client_id"), Answer::AuthClientId);
        assert_eq!(e(400, 12304, "invalid client_secret"), Answer::AuthSecret);
        assert_eq!(e(401, 0, "refused"), Answer::AuthSecret);
        assert_eq!(
            read_token(400, b"no").unwrap_err().answer,
            Answer::AuthRefused
        );
        assert_eq!(read_token(503, b"").unwrap_err().answer, Answer::AuthLimit);
        assert_eq!(read_token(500, b"").unwrap_err().answer, Answer::Http(500));
        assert_eq!(
            read_token(200, b"{}").unwrap_err().answer,
            Answer::Unreadable
        );
    }
}
