//! Honor's answers and the one table from each to what the adapter does
//! (VENDORS_API.md 3.3, 3.4; the Huawei-style codes of the second reading
//! of 3.3 are Huawei's own, 4.3).
//!
//! 3.3 [CONFLICT]: sendMessage answers either `{"code":200,"message":..,
//! "data":{"sendResult","requestId","failTokens","expireTokens"}}` (an int
//! code; cossim/hipush and doopush) or Huawei's `{"code":"80000000","msg":..,
//! "requestId":..}` (a string code; a Rust provider). Both are read, in what
//! we parse, whatever the HTTP status (Huawei's 4.3 [C]: the body carries
//! the code even when the status is not 200).

use offpush::domain::DeliveryStatus::{self, Failed, Rejected};
use offpush::vendor::kit::rules::{credentials, dead, paused, reauth, retried, row};
use offpush::vendor::kit::{self, Rule, Scope, Until};
use serde_json::Value;

/// The error of the OAuth2 token endpoint (RFC 6749 5.2 words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuth {
    /// `invalid_client`: unknown client or wrong secret.
    InvalidClient,
    /// `unauthorized_client`: the client may not use this grant.
    UnauthorizedClient,
    /// `invalid_request`, `unsupported_grant_type`, anything else.
    Other,
}

/// An answer, as far as the table cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A result code of either shape (`200`-family ints or Huawei-style
    /// `8xxxxxxx` strings); the two families do not overlap.
    Code(i64),
    /// A token listed in `data.expireTokens` of an accepted call (3.4 [S]).
    ExpiredToken,
    /// A token listed in `data.failTokens` (3.4 [S/U]: reason unknown).
    FailedToken,
    /// A token listed in `illegal_tokens` of a Huawei-style 80100000 (4.3).
    IllegalToken,
    /// An accepted call whose `sendResult` is false although the token is
    /// in neither list: nothing says it was delivered.
    NotSent,
    /// The token endpoint's OAuth2 error.
    OAuth(OAuth),
    /// The token endpoint answered HTTP 429 or 503 (a rate or flow
    /// control, 4.3): its status.
    AuthBusy(u16),
    /// An HTTP status other than 2xx with no code in the body.
    Http(u16),
    /// No answer.
    Unreachable,
    /// A 2xx body that is neither shape.
    Unreadable,
}

/// The table. Codes not listed fall to the last row.
pub fn rule(answer: Answer) -> Rule {
    match answer {
        // --- The `code:200` shape (3.3, 3.4 [S]: doopush's HTTP-like codes).
        // 3.4 [S]: a parameter error: our request is wrong, resending it
        // cannot help.
        Answer::Code(400) => row(Rejected, "parameter error"),
        // 3.4 [U]: re-auth once on 401: the shape does not tell an expired
        // token from a refused one, so both get one fresh token.
        Answer::Code(401) => reauth("Honor refused the access token"),
        // 3.4 [S]: forbidden: the app may not push (configuration).
        Answer::Code(403) => Rule {
            credential_field: Some("credentials.app_id"),
            ..row(Failed, "the Honor app is not permitted to push")
        },
        // 3.4 [S, unverified]: doopush reads 404 as an invalid token, its
        // own reading; a 404 is as likely a wrong path or app. The safer
        // reading keeps the binding.
        Answer::Code(404) => row(
            Failed,
            "Honor answered 404 (read by one client as an invalid token; unverified, so kept)",
        ),
        // 3.4 [S], 3.5 [U]: rate or quota: the app pauses for a second.
        Answer::Code(429) => paused(Scope::App, Until::Secs(1), "Honor rate limit or quota"),
        // 3.4 [S]: server errors: retried with backoff.
        Answer::Code(500 | 502 | 503 | 504) => retried("Honor server error"),
        // --- The Huawei-style shape (3.3 second reading; codes of 4.3 [C]).
        Answer::Code(80100001) => row(Rejected, "parameter error"),
        Answer::Code(80100003) => row(Rejected, "message structure error"),
        Answer::Code(80100004) => row(Rejected, "TTL earlier than now"),
        Answer::Code(80100013) => row(Rejected, "illegal collapse key"),
        Answer::Code(80100016) => row(Rejected, "sensitive content"),
        Answer::Code(80100017) => row(Failed, "too many concurrent topic tasks"),
        // 4.3 [C]: 80200001 OAuth error, 80200003 token expired, 80200005
        // JWT expired: one fresh token, then the call again (3.4 [U]).
        Answer::Code(80200001) => reauth("Honor OAuth authentication error"),
        Answer::Code(80200003) => reauth("Honor access token expired"),
        Answer::Code(80200005) => reauth("Honor JWT expired"),
        // 4.3 [C]: not permitted to push: configuration, never a dead token.
        Answer::Code(80300002) => Rule {
            credential_field: Some("credentials.app_id"),
            ..row(Failed, "the Honor app is not permitted to push")
        },
        // 3.3 (the Rust provider reads 80300007 as "invalid token"), 4.3:
        // every token of the call is invalid. Huawei warns it also comes
        // for a misconfigured app ID; Honor's app ID is checked by the
        // credential check at upload (a harmless send naming it).
        Answer::Code(80300007) => dead("Honor: all tokens invalid"),
        Answer::Code(80300008) => row(Rejected, "message too large"),
        Answer::Code(80300010) => row(Rejected, "too many tokens in one call"),
        Answer::Code(80300011) => row(Failed, "no permission for high-level notifications"),
        Answer::Code(80300013) => row(Failed, "receipt configuration error"),
        Answer::Code(80600003) => retried("Honor OAuth service request failed"),
        Answer::Code(81000001) => retried("Honor internal error"),
        // --- Per-token verdicts of an accepted call.
        // 3.4 [S]: expireTokens: dead, delete.
        Answer::ExpiredToken => dead("Honor: token expired (expireTokens)"),
        // 3.4 [S/U]: failTokens: reason unknown; kept.
        Answer::FailedToken => row(Failed, "Honor could not deliver to this token (failTokens)"),
        // 4.3 [C]: 80100000's illegal_tokens: delete those bindings.
        Answer::IllegalToken => dead("Honor: illegal token (80100000 illegal_tokens)"),
        Answer::NotSent => row(Failed, "Honor answered sendResult false"),
        // --- The token endpoint (3.2 [C]: OAuth2 client credentials).
        Answer::OAuth(OAuth::InvalidClient | OAuth::UnauthorizedClient) => credentials(
            Some("credentials.client_secret"),
            "Honor refused the client ID or client secret",
        ),
        Answer::OAuth(OAuth::Other) => row(Failed, "Honor refused the token request"),
        // 3.2 [U]: no auth rate limit is documented; a 429 or 503 of the
        // token endpoint pauses auth calls of the account for a second.
        Answer::AuthBusy(_) => paused(Scope::Auth, Until::Secs(1), "Honor auth busy"),
        // --- HTTP without a code. 4.3 [C]: Huawei's flow control is HTTP
        // 503, which the Huawei-style reading of 3.3 borrows; 429 the
        // same. A second's pause of the app, not a retry storm.
        Answer::Http(s @ (429 | 503)) => paused(
            Scope::App,
            Until::Secs(1),
            if s == 429 {
                "Honor rate limit (HTTP 429)"
            } else {
                "Honor flow control (HTTP 503)"
            },
        ),
        Answer::Http(s) if s >= 500 => retried("Honor answered an HTTP error"),
        Answer::Http(401) => reauth("Honor refused the access token (HTTP 401)"),
        Answer::Http(_) => row(Failed, "Honor answered an HTTP error"),
        Answer::Unreachable => retried("Honor did not answer"),
        Answer::Unreadable => retried("Honor answered an unreadable body"),
        // Every undocumented code: failed, code in the detail, kept.
        Answer::Code(_) => row(Failed, "Honor refused the call"),
    }
}

/// The meaning of a code, for the detail of a pause read back from the
/// table (pauses of HTTP answers carry the status as their code).
pub fn meaning(code: i64) -> &'static str {
    match code {
        // Only a bare HTTP 503 pauses with 503 (code 503 is retried).
        503 => rule(Answer::Http(503)).meaning,
        c => rule(Answer::Code(c)).meaning,
    }
}

/// An accepted call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// Honor's `requestId` (receipts name it).
    pub request_id: Option<String>,
    /// `data.sendResult`, when the answer has it.
    pub send_result: Option<bool>,
    /// `data.expireTokens` (or Huawei-style `illegal_tokens`): dead.
    pub expired: Vec<String>,
    /// `data.failTokens`.
    pub failed: Vec<String>,
    /// The dead tokens came as Huawei-style `illegal_tokens`.
    pub illegal: bool,
}

impl Reply {
    /// What the answer says of one token.
    pub fn verdict(&self, token: &str) -> Option<Answer> {
        if self.expired.iter().any(|t| t == token) {
            Some(if self.illegal {
                Answer::IllegalToken
            } else {
                Answer::ExpiredToken
            })
        } else if self.failed.iter().any(|t| t == token) {
            Some(Answer::FailedToken)
        } else if self.send_result == Some(false) {
            Some(Answer::NotSent)
        } else {
            None
        }
    }
}

/// A call that was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub answer: Answer,
    /// Honor's `message` / `msg` / `error_description`, cut short: Honor's
    /// text about our request, never a secret.
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
        let with_reason = |head: String| {
            if self.reason.is_empty() {
                head
            } else {
                format!("{head} ({})", self.reason)
            }
        };
        match self.answer {
            Answer::Code(c) => with_reason(format!("honor {c}: {}", r.meaning)),
            Answer::OAuth(_) => with_reason(format!("honor auth: {}", r.meaning)),
            Answer::Http(s) | Answer::AuthBusy(s) => format!("{} ({s})", r.meaning),
            Answer::Unreachable => with_reason(r.meaning.to_string()),
            Answer::ExpiredToken
            | Answer::FailedToken
            | Answer::IllegalToken
            | Answer::NotSent
            | Answer::Unreadable => r.meaning.to_string(),
        }
    }

    /// The vendor code a delivery carries.
    pub fn vendor_code(&self) -> String {
        match self.answer {
            Answer::Code(c) => c.to_string(),
            Answer::ExpiredToken => "expireTokens".into(),
            Answer::FailedToken => "failTokens".into(),
            Answer::IllegalToken => "80100000".into(),
            Answer::NotSent => "sendResult_false".into(),
            Answer::OAuth(OAuth::InvalidClient) => "invalid_client".into(),
            Answer::OAuth(OAuth::UnauthorizedClient) => "unauthorized_client".into(),
            Answer::OAuth(OAuth::Other) => "oauth_error".into(),
            Answer::Http(s) | Answer::AuthBusy(s) => format!("http_{s}"),
            Answer::Unreachable => "no_answer".into(),
            Answer::Unreadable => "unreadable".into(),
        }
    }

    pub fn to_kit(&self) -> kit::Refusal {
        let mut k = kit::Refusal::new(rule(self.answer), self.detail());
        k.maybe_written = self.maybe_written;
        match self.answer {
            Answer::Code(c) => k.code(c),
            // A pause needs a code: the HTTP status stands for it.
            Answer::Http(s) | Answer::AuthBusy(s) => {
                k.code(i64::from(s)).vendor_code(self.vendor_code())
            }
            _ => k.vendor_code(self.vendor_code()),
        }
    }

    pub fn status(&self) -> DeliveryStatus {
        rule(self.answer).status
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn short(s: &str) -> String {
    s.chars().take(100).collect()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A result code of either shape: an int, or a string of digits.
fn code_of(v: &Value) -> Option<i64> {
    match v.get("code")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What a sendMessage answer means, in either shape of 3.3.
pub fn read(status: u16, body: &[u8]) -> Result<Reply, Refusal> {
    let ok_status = (200..300).contains(&status);
    let fallback = || {
        if ok_status {
            Refusal::new(Answer::Unreadable, "")
        } else {
            Refusal::new(Answer::Http(status), "")
        }
    };
    let v: Value = serde_json::from_slice(body).map_err(|_| fallback())?;
    let Some(code) = v.is_object().then(|| code_of(&v)).flatten() else {
        return Err(fallback());
    };
    let reason = v
        .get("message")
        .or_else(|| v.get("msg"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match code {
        // The `code:200` shape.
        200 if ok_status => {
            let data = v.get("data");
            Ok(Reply {
                request_id: data
                    .and_then(|d| d.get("requestId"))
                    .or_else(|| v.get("requestId"))
                    .and_then(text),
                send_result: data
                    .and_then(|d| d.get("sendResult"))
                    .and_then(Value::as_bool),
                expired: strings(data.and_then(|d| d.get("expireTokens"))),
                failed: strings(data.and_then(|d| d.get("failTokens"))),
                illegal: false,
            })
        }
        // The Huawei-style shape: success.
        80000000 if ok_status => Ok(Reply {
            request_id: v.get("requestId").and_then(text),
            ..Reply::default()
        }),
        // 4.3 [C]: some tokens illegal; `msg` is a JSON string holding
        // `illegal_tokens`. The other tokens were taken.
        80100000 if ok_status => {
            let inner: Value = serde_json::from_str(reason).unwrap_or(Value::Null);
            Ok(Reply {
                request_id: v.get("requestId").and_then(text),
                send_result: None,
                expired: strings(inner.get("illegal_tokens")),
                failed: Vec::new(),
                illegal: true,
            })
        }
        c => Err(Refusal::new(Answer::Code(c), short(reason))),
    }
}

/// A token from the token endpoint, or its refusal (3.2: `{access_token,
/// expires_in, token_type}`; errors as OAuth2's `{error,
/// error_description}`).
pub fn read_token(status: u16, body: &[u8]) -> Result<(String, Option<i64>), Refusal> {
    let ok_status = (200..300).contains(&status);
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if ok_status {
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        return match token {
            Some(t) => Ok((
                t.to_string(),
                v.get("expires_in").and_then(|e| match e {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                }),
            )),
            None => Err(Refusal::new(Answer::Unreadable, "")),
        };
    }
    let reason = short(
        v.get("error_description")
            .and_then(Value::as_str)
            .unwrap_or(""),
    );
    match v.get("error").map(|e| (e.as_str(), e)) {
        Some((Some("invalid_client"), _)) => {
            Err(Refusal::new(Answer::OAuth(OAuth::InvalidClient), reason))
        }
        Some((Some("unauthorized_client"), _)) => Err(Refusal::new(
            Answer::OAuth(OAuth::UnauthorizedClient),
            reason,
        )),
        // A 5xx or 429 is a passing fault or a rate, whatever it says.
        Some(_) if status < 500 && status != 429 => {
            Err(Refusal::new(Answer::OAuth(OAuth::Other), reason))
        }
        // A bare 401 from the token endpoint refuses the client.
        None if status == 401 => Err(Refusal::new(Answer::OAuth(OAuth::InvalidClient), "")),
        _ if status == 429 || status == 503 => Err(Refusal::new(Answer::AuthBusy(status), "")),
        _ => Err(Refusal::new(Answer::Http(status), "")),
    }
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
            (400, Rejected, false, false, false, Scope::None),
            (401, Failed, false, true, false, Scope::None),
            (403, Failed, false, false, false, Scope::None),
            (404, Failed, false, false, false, Scope::None),
            (429, Throttled, false, false, false, Scope::App),
            (500, Failed, true, false, false, Scope::None),
            (502, Failed, true, false, false, Scope::None),
            (503, Failed, true, false, false, Scope::None),
            (504, Failed, true, false, false, Scope::None),
            (80100001, Rejected, false, false, false, Scope::None),
            (80100003, Rejected, false, false, false, Scope::None),
            (80100004, Rejected, false, false, false, Scope::None),
            (80100013, Rejected, false, false, false, Scope::None),
            (80100016, Rejected, false, false, false, Scope::None),
            (80100017, Failed, false, false, false, Scope::None),
            (80200001, Failed, false, true, false, Scope::None),
            (80200003, Failed, false, true, false, Scope::None),
            (80200005, Failed, false, true, false, Scope::None),
            (80300002, Failed, false, false, false, Scope::None),
            (80300007, TokenInvalid, false, false, true, Scope::None),
            (80300008, Rejected, false, false, false, Scope::None),
            (80300010, Rejected, false, false, false, Scope::None),
            (80300011, Failed, false, false, false, Scope::None),
            (80300013, Failed, false, false, false, Scope::None),
            (80600003, Failed, true, false, false, Scope::None),
            (81000001, Failed, true, false, false, Scope::None),
            (12345, Failed, false, false, false, Scope::None),
        ];
        for &(c, status, retry, re, token_dead, pause) in rows {
            let r = code(c);
            assert_eq!(
                (r.status, r.retry, r.reauth, r.token_dead, r.pause),
                (status, retry, re, token_dead, pause),
                "{c}"
            );
        }
        assert_eq!(code(429).until, Some(Until::Secs(1)));
        assert_eq!(code(403).credential_field, Some("credentials.app_id"));
        assert_eq!(code(80300002).credential_field, Some("credentials.app_id"));
    }

    #[test]
    fn per_token_verdicts_and_other_answers_are_rows() {
        let r = rule(Answer::ExpiredToken);
        assert!(r.token_dead && r.status == TokenInvalid);
        let r = rule(Answer::IllegalToken);
        assert!(r.token_dead && r.status == TokenInvalid);
        let r = rule(Answer::FailedToken);
        assert!(!r.token_dead && !r.retry && r.status == Failed);
        assert_eq!(rule(Answer::NotSent).status, Failed);
        let c = rule(Answer::OAuth(OAuth::InvalidClient));
        assert!(c.credentials && c.credential_field == Some("credentials.client_secret"));
        assert!(rule(Answer::OAuth(OAuth::UnauthorizedClient)).credentials);
        let o = rule(Answer::OAuth(OAuth::Other));
        assert!(!o.credentials && !o.retry && o.status == Failed);
        for a in [Answer::Http(429), Answer::Http(503)] {
            let r = rule(a);
            assert_eq!((r.status, r.pause), (Throttled, Scope::App), "{a:?}");
        }
        for a in [
            Answer::Http(500),
            Answer::Http(502),
            Answer::Unreachable,
            Answer::Unreadable,
        ] {
            assert!(rule(a).retry, "{a:?}");
        }
        assert!(rule(Answer::Http(401)).reauth);
        let r = rule(Answer::Http(404));
        assert!(!r.retry && !r.token_dead && r.status == Failed);
    }

    #[test]
    fn both_response_shapes_parse() {
        let ok = br#"{"code":200,"message":"Success","data":{"sendResult":true,"requestId":"r-1","failTokens":["f"],"expireTokens":["e"]}}"#;
        let r = read(200, ok).unwrap();
        assert_eq!(r.request_id.as_deref(), Some("r-1"));
        assert_eq!(r.verdict("e"), Some(Answer::ExpiredToken));
        assert_eq!(r.verdict("f"), Some(Answer::FailedToken));
        assert_eq!(r.verdict("x"), None);
        let none = br#"{"code":200,"message":"Success","data":{"sendResult":false,"requestId":"r","failTokens":[],"expireTokens":[]}}"#;
        assert_eq!(read(200, none).unwrap().verdict("x"), Some(Answer::NotSent));
        let hw = br#"{"code":"80000000","msg":"Success","requestId":"r-2"}"#;
        let r = read(200, hw).unwrap();
        assert_eq!(
            (r.request_id.as_deref(), r.verdict("x")),
            (Some("r-2"), None)
        );
        let some = br#"{"code":"80100000","msg":"{\"success\":1,\"failure\":1,\"illegal_tokens\":[\"bad\"]}","requestId":"r-3"}"#;
        let r = read(200, some).unwrap();
        assert_eq!(r.verdict("bad"), Some(Answer::IllegalToken));
        assert_eq!(r.verdict("good"), None);
        // Errors in both shapes, whatever the HTTP status.
        let e = read(401, br#"{"code":401,"message":"Oauth Token expired"}"#).unwrap_err();
        assert_eq!(e.answer, Answer::Code(401));
        assert!(e.detail().starts_with("honor 401:"));
        assert!(e.detail().contains("Oauth Token expired"));
        let e = read(
            400,
            br#"{"code":"80300007","msg":"all invalid","requestId":"x"}"#,
        )
        .unwrap_err();
        assert_eq!(e.answer, Answer::Code(80300007));
        let e = read(200, br#"{"code":"80200003","msg":"expired"}"#).unwrap_err();
        assert_eq!(e.answer, Answer::Code(80200003));
        // No code: the HTTP status, or unreadable on 2xx.
        assert_eq!(
            read(503, b"Service Unavailable").unwrap_err().answer,
            Answer::Http(503)
        );
        for garbage in [&b"<html>"[..], b"[]", b"{}", br#"{"code":"x"}"#, b""] {
            assert_eq!(
                read(200, garbage).unwrap_err().answer,
                Answer::Unreadable,
                "{garbage:?}"
            );
        }
        // A success code under an error status is not a success.
        assert_eq!(read(500, ok).unwrap_err().answer, Answer::Code(200));
    }

    #[test]
    fn token_answers_parse() {
        let (t, ttl) = read_token(
            200,
            br#"{"access_token":"abc","expires_in":3600,"token_type":"Bearer"}"#,
        )
        .unwrap();
        assert_eq!((t.as_str(), ttl), ("abc", Some(3600)));
        assert_eq!(
            read_token(200, br#"{"access_token":"abc"}"#).unwrap().1,
            None
        );
        assert_eq!(
            read_token(200, b"{}").unwrap_err().answer,
            Answer::Unreadable
        );
        let e = read_token(
            401,
            br#"{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}"#,
        )
        .unwrap_err();
        assert_eq!(e.answer, Answer::OAuth(OAuth::InvalidClient));
        assert_eq!(e.vendor_code(), "invalid_client");
        let e = read_token(400, br#"{"error":"unsupported_grant_type"}"#).unwrap_err();
        assert_eq!(e.answer, Answer::OAuth(OAuth::Other));
        assert_eq!(
            read_token(401, b"").unwrap_err().answer,
            Answer::OAuth(OAuth::InvalidClient)
        );
        assert_eq!(
            read_token(503, br#"{"error":"x"}"#).unwrap_err().answer,
            Answer::AuthBusy(503)
        );
        assert_eq!(
            read_token(429, b"").unwrap_err().answer,
            Answer::AuthBusy(429)
        );
        let r = rule(Answer::AuthBusy(429));
        assert_eq!((r.status, r.pause), (Throttled, Scope::Auth));
        assert_eq!(
            read_token(500, b"oops").unwrap_err().answer,
            Answer::Http(500)
        );
    }

    #[test]
    fn http_pauses_carry_the_status_as_their_code() {
        let k = Refusal::new(Answer::Http(503), "").to_kit();
        assert_eq!(
            (k.code, k.vendor_code.as_deref()),
            (Some(503), Some("http_503"))
        );
        let k = Refusal::new(Answer::ExpiredToken, "").to_kit();
        assert_eq!(
            (k.code, k.vendor_code.as_deref()),
            (None, Some("expireTokens"))
        );
    }
}
