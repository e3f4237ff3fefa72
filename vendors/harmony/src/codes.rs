//! Push Kit v3's answers and the one table from each to what the adapter
//! does (VENDORS_API.md 14.5 result codes and `illegalTokens` keys, 14.2
//! the JWT codes, 14.7 flow control, 14.9 the revoke codes).
//!
//! A send is answered `{"code":"80000000","msg":"Success","requestId":".."}`
//! with every field a string (14.5 [C]). Which HTTP status goes with which
//! code is undocumented (14.5 [U], 16 guess 1), so the body is read
//! whatever the status and the status decides only when there is no code.
//! 80100000 (some tokens refused) and 80300007 (all refused) carry in `msg`
//! a JSON *string* `{"illegalTokens":{"<reason>":[tokens]},..}`; its keys
//! are trimmed (the doc's example has spaces inside them, 14.5 [U]).

use offpush::domain::Delivery;
use offpush::domain::DeliveryStatus::{self, Failed, Rejected, Sent, Throttled};
use offpush::vendor::kit::rules::{credentials, dead, reauth, retried, row};
use offpush::vendor::kit::{self, Rule};
use serde_json::Value;

use crate::credentials::{FIELD_PRIVATE_KEY, FIELD_PROJECT_ID, FIELD_SERVICE_ACCOUNT};

/// An `illegalTokens` key (14.5 [C]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    TokenFormatError,
    TokenPlatformNotSupport,
    NoRight,
    NoPushTypeRight,
    NoRightToSendThisLiveNotificationEvent,
    NotSupportPlayVoice,
    AppinfoError,
    CountryNotSupport,
    DisableSendHuaweiMsgBecauseOfPenalty,
    DifferentImgVerifyPolicy,
    AtomicUnableSendUnsubscribedMsg,
    /// A key the spec does not list.
    Other,
}

impl Reason {
    pub const ALL: [Reason; 12] = [
        Reason::TokenFormatError,
        Reason::TokenPlatformNotSupport,
        Reason::NoRight,
        Reason::NoPushTypeRight,
        Reason::NoRightToSendThisLiveNotificationEvent,
        Reason::NotSupportPlayVoice,
        Reason::AppinfoError,
        Reason::CountryNotSupport,
        Reason::DisableSendHuaweiMsgBecauseOfPenalty,
        Reason::DifferentImgVerifyPolicy,
        Reason::AtomicUnableSendUnsubscribedMsg,
        Reason::Other,
    ];

    /// The key as Huawei writes it (trimmed: 14.5 [U]).
    pub fn from_key(key: &str) -> Reason {
        Reason::ALL
            .into_iter()
            .find(|r| r.key() == key.trim())
            .unwrap_or(Reason::Other)
    }

    pub fn key(self) -> &'static str {
        match self {
            Reason::TokenFormatError => "tokenFormatError",
            Reason::TokenPlatformNotSupport => "tokenPlatformNotSupport",
            Reason::NoRight => "noRight",
            Reason::NoPushTypeRight => "noPushTypeRight",
            Reason::NoRightToSendThisLiveNotificationEvent => {
                "noRightToSendThisLiveNotificationEvent"
            }
            Reason::NotSupportPlayVoice => "notSupportPlayVoice",
            Reason::AppinfoError => "appinfoError",
            Reason::CountryNotSupport => "countryNotSupport",
            Reason::DisableSendHuaweiMsgBecauseOfPenalty => "disableSendHuaweiMsgBecauseOfPenalty",
            Reason::DifferentImgVerifyPolicy => "differentImgVerifyPolicy",
            Reason::AtomicUnableSendUnsubscribedMsg => "atomicUnableSendUnsubscribedMsg",
            Reason::Other => "other",
        }
    }
}

/// An answer, as far as the table cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A send answered with this result code.
    Code(i64),
    /// A token listed under this `illegalTokens` key.
    Illegal(Reason),
    /// Every token of the call listed under `noRight`.
    AllNoRight,
    /// 80100000 / 80300007 whose list cannot be read, or a token of an
    /// 80300007 call the list leaves out: which tokens failed is unknown.
    IllegalUnreadable,
    /// The private key cannot mint a JWT.
    BadKey,
    /// An HTTP status without a readable result code.
    Http(u16),
    /// No answer.
    Unreachable,
    /// A 2xx answer whose body is not Push Kit's JSON.
    Unreadable,
}

/// The table. Codes not listed fall to the last row.
pub fn rule(answer: Answer) -> Rule {
    match answer {
        // 14.5 [C]: success; partial success (the tokens not listed in
        // illegalTokens were accepted).
        Answer::Code(80_000_000) => row(Sent, "success"),
        Answer::Code(80_100_000) => row(Sent, "some tokens were illegal"),
        // 14.5 [C]: bad token, third-party proxy token, token of another
        // project or of a device upgraded 4.x->5 without a new token: the
        // binding ends.
        Answer::Illegal(Reason::TokenFormatError) => dead("illegal token (tokenFormatError)"),
        Answer::Illegal(Reason::TokenPlatformNotSupport) => {
            dead("illegal token (tokenPlatformNotSupport)")
        }
        Answer::Illegal(Reason::NoRight) => dead("illegal token (noRight)"),
        // 14.5 [C; split rule U]: when every token of the call is noRight,
        // the project (not the tokens) is wrong: a configuration error,
        // nothing ended.
        Answer::AllNoRight => row(
            Failed,
            "every token of the call is noRight: the key file's project is not the app's (bindings kept)",
        ),
        // 14.5 [C]: rights and push-type: configuration, tokens kept.
        Answer::Illegal(Reason::NoPushTypeRight) => {
            row(Failed, "the project has no right for this push-type (noPushTypeRight)")
        }
        Answer::Illegal(Reason::NoRightToSendThisLiveNotificationEvent) => row(
            Failed,
            "no right for this live notification event (noRightToSendThisLiveNotificationEvent)",
        ),
        Answer::Illegal(Reason::NotSupportPlayVoice) => {
            row(Failed, "voice notifications not supported (notSupportPlayVoice)")
        }
        // 14.5 [C]: app, region, penalty, image policy, atomic service:
        // configuration or alert, tokens kept.
        Answer::Illegal(Reason::AppinfoError) => {
            row(Failed, "the app is missing from the project (appinfoError)")
        }
        Answer::Illegal(Reason::CountryNotSupport) => {
            row(Failed, "the device's region is not served (countryNotSupport)")
        }
        Answer::Illegal(Reason::DisableSendHuaweiMsgBecauseOfPenalty) => row(
            Failed,
            "Huawei stopped the app's pushes as a penalty (disableSendHuaweiMsgBecauseOfPenalty)",
        ),
        Answer::Illegal(Reason::DifferentImgVerifyPolicy) => {
            row(Failed, "image verification policy (differentImgVerifyPolicy)")
        }
        Answer::Illegal(Reason::AtomicUnableSendUnsubscribedMsg) => row(
            Failed,
            "an atomic service cannot send unsubscribed messages (atomicUnableSendUnsubscribedMsg)",
        ),
        Answer::Illegal(Reason::Other) => {
            row(Failed, "token refused for an undocumented reason (kept)")
        }
        Answer::IllegalUnreadable => row(
            Failed,
            "tokens were refused, but Huawei's list of them could not be read: outcome unknown",
        ),
        // 14.5 [C]: parameter errors: our request is wrong, resending it
        // cannot help.
        Answer::Code(80_100_001) => row(Rejected, "parameter error"),
        Answer::Code(80_100_003) => row(Rejected, "illegal payload"),
        Answer::Code(80_100_004) => row(Rejected, "illegal expire time"),
        // 14.5 [C]: "drop image": the adapter sends none, so this is the
        // content refused.
        Answer::Code(80_100_022) => row(Rejected, "anti-spam: image not verified"),
        // 14.2, 14.5 [C]: the JWT is refused (unknown key id, another
        // project's key, wrong sub_account): the key file is at fault.
        Answer::Code(80_200_001) => credentials(
            Some(FIELD_SERVICE_ACCOUNT),
            "Huawei refused the service-account JWT (Authentication Error: check the key file's project_id, key_id and sub_account)",
        ),
        // 14.2 [C], 7: the JWT expired: mint a new one once and send again.
        Answer::Code(80_200_005) => reauth("Huawei JWT expired"),
        // 14.5 [C]: Push Kit not enabled or the project mismatched:
        // configuration, never a dead token.
        Answer::Code(80_300_002) => credentials(
            Some(FIELD_PROJECT_ID),
            "the project may not push (enable Push Kit for the key file's project in AppGallery Connect)",
        ),
        // 14.5 [C]: every token refused; read per token from illegalTokens
        // (crate::send). As a code alone: failed, kept.
        Answer::Code(80_300_007) => row(Failed, "all the tokens are invalid"),
        // 14.4, 14.5 [C]: the adapter never sends a body over 4096 bytes,
        // more than 1000 tokens or more than 10 test tokens (crate::send);
        // if Huawei says so anyway the message cannot go as it is.
        Answer::Code(80_300_008) => row(Rejected, "message body over Huawei's 4096 bytes"),
        Answer::Code(80_300_010) => row(Rejected, "token count out of range (1 to 1000)"),
        Answer::Code(80_300_030) => row(Rejected, "more than 10 tokens in a test message"),
        // 14.5, 14.7 [C]: test-message request bursts: back off and retry,
        // throttled after the attempts.
        Answer::Code(80_300_029) => Rule {
            retry: true,
            ..row(Throttled, "test-message request rate exceeded")
        },
        // 14.2 [C]: a JWT valid over a day: the adapter mints hour-long ones.
        Answer::Code(80_300_036) => row(Failed, "JWT lifetime over one day"),
        // 14.5, 14.6 [C]: penalty: failed with the code, never a dead token.
        Answer::Code(80_300_037) => row(
            Failed,
            "Huawei stopped the app's pushes as a penalty (Disable send huawei msg)",
        ),
        // 14.9 [C]: revoke codes (the adapter does not revoke).
        Answer::Code(80_300_017) => row(Failed, "tokens of several apps in one revoke"),
        Answer::Code(80_300_028) => row(Failed, "the token's app is not the revoke's client id"),
        Answer::Code(80_300_032) => row(Failed, "no revoke permission"),
        // 14.5 [C]: inner error: a passing fault.
        Answer::Code(81_000_001) => retried("Huawei inner error"),
        // 14.2: the certificate's key cannot sign.
        Answer::BadKey => credentials(
            Some(FIELD_PRIVATE_KEY),
            "the service account's private key cannot sign a JWT",
        ),
        // 14.5, 14.7 [C]: HTTP 503 is flow control (QPS): not taken, so
        // tried again with backoff and answered throttled after.
        Answer::Http(503 | 429) => Rule {
            retry: true,
            ..row(Throttled, "Huawei flow control")
        },
        // 14.5 [C]: 500 internal, 502 connection (retry).
        Answer::Http(s) if s >= 500 => retried("Huawei answered an HTTP error"),
        Answer::Http(_) => row(Failed, "Huawei answered an HTTP error"),
        Answer::Unreachable => retried("Huawei did not answer"),
        Answer::Unreadable => retried("Huawei answered an unreadable body"),
        // Every undocumented code: failed, code in the detail, kept.
        Answer::Code(_) => row(Failed, "Huawei refused the call"),
    }
}

/// The meaning of a code, for the detail of a pause read back from the
/// table (this table sets none, but the kit asks).
pub fn meaning(code: i64) -> &'static str {
    rule(Answer::Code(code)).meaning
}

/// An answered send: 80000000, 80100000 or 80300007 with its list read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    pub code: i64,
    /// `requestId`: what receipts name.
    pub request_id: Option<String>,
    /// The refused tokens and their reason, as listed.
    pub illegal: Vec<(String, Reason)>,
}

impl Reply {
    /// The reason a token was refused, if it was (its first listing).
    pub fn reason(&self, token: &str) -> Option<Reason> {
        self.illegal
            .iter()
            .find(|(t, _)| t == token)
            .map(|(_, r)| *r)
    }

    /// The outcome of each of `tokens`, the call's tokens in order.
    pub fn deliveries(&self, tokens: &[&str]) -> Vec<Delivery> {
        let all_no_right = !tokens.is_empty()
            && tokens
                .iter()
                .all(|t| self.reason(t) == Some(Reason::NoRight));
        tokens
            .iter()
            .map(|t| match (self.reason(t), all_no_right) {
                (Some(_), true) => Refusal::new(Answer::AllNoRight, "")
                    .with_code(self.code)
                    .to_kit()
                    .delivery(),
                (Some(r), false) => Refusal::new(Answer::Illegal(r), "")
                    .with_code(self.code)
                    .to_kit()
                    .delivery(),
                // 80300007 says every token failed: one it leaves out is
                // not known to be delivered.
                (None, _) if self.code == 80_300_007 => Refusal::new(Answer::IllegalUnreadable, "")
                    .with_code(self.code)
                    .to_kit()
                    .delivery(),
                (None, _) => Delivery::sent(self.request_id.clone()),
            })
            .collect()
    }
}

/// A call that was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub answer: Answer,
    /// The result code the answer came with, when it is not `answer`'s own.
    pub code: Option<i64>,
    /// Huawei's `msg`, cut short (never trusted to hold no token: the send
    /// scrubs the call's tokens out of every detail).
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
            code: match answer {
                Answer::Code(c) => Some(c),
                _ => None,
            },
            msg: msg.into().chars().take(MSG_CHARS).collect(),
            maybe_written: false,
            retry_after: None,
        }
    }

    pub fn with_code(mut self, code: i64) -> Self {
        self.code = Some(code);
        self
    }

    pub fn detail(&self) -> String {
        let r = rule(self.answer);
        let msg = if self.msg.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.msg)
        };
        match (self.code, self.answer) {
            (Some(c), _) => format!("harmony {c}: {}{msg}", r.meaning),
            (None, Answer::Http(s)) => format!("harmony: {} (HTTP {s})", r.meaning),
            (None, _) => format!("harmony: {}{msg}", r.meaning),
        }
    }

    pub fn vendor_code(&self) -> String {
        match (self.code, self.answer) {
            (Some(c), _) => c.to_string(),
            (None, Answer::BadKey) => "jwt".into(),
            (None, Answer::Http(s)) => format!("http_{s}"),
            (None, Answer::Unreachable) => "no_answer".into(),
            (None, _) => "unreadable".into(),
        }
    }

    pub fn to_kit(&self) -> kit::Refusal {
        let mut k = kit::Refusal::new(rule(self.answer), self.detail());
        k.maybe_written = self.maybe_written;
        k.retry_after = self.retry_after;
        if let Some(c) = self.code {
            k = k.code(c);
        }
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

/// Reads the `msg` of 80100000 / 80300007: a JSON string (an object is
/// taken too) whose `illegalTokens` maps each reason to its tokens. Keys
/// are trimmed (14.5 [U]). 14.5 [CONFLICT] with Android v1's flat
/// `illegal_tokens` array: that shape names no reason, so it is read as
/// unreadable (failed, nothing ended), the safer reading.
pub fn illegal_tokens(msg: &Value) -> Option<Vec<(String, Reason)>> {
    let parsed;
    let obj = match msg {
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).ok()?;
            &parsed
        }
        v => v,
    };
    let map = obj
        .as_object()?
        .iter()
        .find(|(k, _)| k.trim() == "illegalTokens")?
        .1
        .as_object()?;
    let mut out = Vec::new();
    for (key, tokens) in map {
        let reason = Reason::from_key(key);
        for t in tokens.as_array()? {
            out.push((t.as_str()?.to_string(), reason));
        }
    }
    Some(out)
}

/// What a send answer means. The body is read whatever the status (14.5);
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
    let request_id = match v.get("requestId") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match code {
        80_000_000 => Ok(Reply {
            code,
            request_id,
            illegal: Vec::new(),
        }),
        80_100_000 | 80_300_007 => match illegal_tokens(&msg) {
            Some(illegal) => Ok(Reply {
                code,
                request_id,
                illegal,
            }),
            None => Err(Refusal::new(Answer::IllegalUnreadable, "").with_code(code)),
        },
        c => {
            let text = match &msg {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            Err(Refusal {
                retry_after: retry,
                ..Refusal::new(Answer::Code(c), text)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::DeliveryStatus::TokenInvalid;
    use offpush::vendor::kit::Scope;
    use serde_json::json;

    /// Every documented code (14.2, 14.5, 14.9) and what it makes of a
    /// target: status, retry, re-auth, dead token.
    #[test]
    fn every_documented_code_has_its_row() {
        let table: [(i64, DeliveryStatus, bool, bool); 22] = [
            (80_000_000, Sent, false, false),
            (80_100_000, Sent, false, false),
            (80_100_001, Rejected, false, false),
            (80_100_003, Rejected, false, false),
            (80_100_004, Rejected, false, false),
            (80_100_022, Rejected, false, false),
            (80_200_001, Failed, false, false),
            (80_200_005, Failed, false, true),
            (80_300_002, Failed, false, false),
            (80_300_007, Failed, false, false),
            (80_300_008, Rejected, false, false),
            (80_300_010, Rejected, false, false),
            (80_300_029, Throttled, true, false),
            (80_300_030, Rejected, false, false),
            (80_300_036, Failed, false, false),
            (80_300_037, Failed, false, false),
            (80_300_017, Failed, false, false),
            (80_300_028, Failed, false, false),
            (80_300_032, Failed, false, false),
            (81_000_001, Failed, true, false),
            (80_999_999, Failed, false, false),
            (1, Failed, false, false),
        ];
        for (code, status, retry, re) in table {
            let r = rule(Answer::Code(code));
            assert_eq!((r.status, r.retry, r.reauth), (status, retry, re), "{code}");
            assert!(!r.token_dead, "{code}: a code alone never ends a binding");
            assert_eq!(r.pause, Scope::None, "{code}");
        }
        assert_eq!(
            rule(Answer::Code(80_200_001)).credential_field,
            Some(FIELD_SERVICE_ACCOUNT)
        );
        assert_eq!(
            rule(Answer::Code(80_300_002)).credential_field,
            Some(FIELD_PROJECT_ID)
        );
        assert_eq!(
            rule(Answer::BadKey).credential_field,
            Some(FIELD_PRIVATE_KEY)
        );
    }

    #[test]
    fn illegal_token_reasons() {
        for r in Reason::ALL {
            let rule = rule(Answer::Illegal(r));
            let dead = matches!(
                r,
                Reason::TokenFormatError | Reason::TokenPlatformNotSupport | Reason::NoRight
            );
            assert_eq!(rule.token_dead, dead, "{r:?}");
            assert_eq!(
                rule.status,
                if dead { TokenInvalid } else { Failed },
                "{r:?}"
            );
            assert_eq!(Reason::from_key(&format!(" {} ", r.key())), r);
        }
        assert_eq!(Reason::from_key("somethingNew"), Reason::Other);
        let all = rule(Answer::AllNoRight);
        assert!(!all.token_dead && all.status == Failed);
        assert!(!rule(Answer::IllegalUnreadable).token_dead);
    }

    #[test]
    fn http_and_silence() {
        let t = rule(Answer::Http(503));
        assert_eq!((t.status, t.retry), (Throttled, true));
        assert!(rule(Answer::Http(500)).retry && rule(Answer::Http(502)).retry);
        assert!(!rule(Answer::Http(401)).retry && !rule(Answer::Http(404)).retry);
        assert!(rule(Answer::Unreachable).retry && rule(Answer::Unreadable).retry);
    }

    #[test]
    fn lists_are_read_from_a_json_string_with_trimmed_keys() {
        let msg = json!(
            r#"{"illegalTokens":{" tokenFormatError ":["MAAA1"],"noRight":["MAAA2","MAAA3"]},"success":1,"failure":3}"#
        );
        let mut got = illegal_tokens(&msg).unwrap();
        got.sort();
        assert_eq!(
            got,
            [
                ("MAAA1".to_string(), Reason::TokenFormatError),
                ("MAAA2".to_string(), Reason::NoRight),
                ("MAAA3".to_string(), Reason::NoRight)
            ]
        );
        let obj = json!({"failure": 1, "illegalTokens": {"appinfoError": ["x"]}});
        assert_eq!(
            illegal_tokens(&obj).unwrap(),
            [("x".to_string(), Reason::AppinfoError)]
        );
        for bad in [
            json!("not json"),
            json!("{}"),
            json!({"illegalTokens": ["a"]}),
            json!(r#"{"success":1,"failure":1,"illegal_tokens":["a"]}"#),
            json!(null),
        ] {
            assert!(illegal_tokens(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn answers_are_read_by_code_then_status() {
        let ok = br#"{"code":"80000000","msg":"Success","requestId":"17650000000001234567"}"#;
        let r = read_send(200, ok, None).unwrap();
        assert_eq!(r.request_id.as_deref(), Some("17650000000001234567"));
        assert!(r.illegal.is_empty());
        let partial = json!({"code": "80100000", "msg": r#"{"illegalTokens":{"tokenFormatError":["t2"]},"success":1,"failure":1}"#, "requestId": "9"});
        let r = read_send(200, partial.to_string().as_bytes(), None).unwrap();
        assert_eq!(r.illegal, [("t2".to_string(), Reason::TokenFormatError)]);
        let all = json!({"code": "80300007", "msg": r#"{"failure":2,"illegalTokens":{"noRight":["t1","t2"]}}"#});
        assert_eq!(
            read_send(400, all.to_string().as_bytes(), None)
                .unwrap()
                .code,
            80_300_007
        );
        let unreadable = json!({"code": "80100000", "msg": "garbled"});
        let e = read_send(200, unreadable.to_string().as_bytes(), None).unwrap_err();
        assert_eq!(
            (e.answer, e.code),
            (Answer::IllegalUnreadable, Some(80_100_000))
        );
        let e = read_send(
            401,
            br#"{"code":"80200005","msg":"Jwt token expired"}"#,
            None,
        )
        .unwrap_err();
        assert_eq!(e.answer, Answer::Code(80_200_005));
        let e = read_send(503, b"Service Unavailable", None).unwrap_err();
        assert_eq!((e.answer, e.retry_after), (Answer::Http(503), Some(1)));
        assert_eq!(
            read_send(503, b"", Some(4)).unwrap_err().retry_after,
            Some(4)
        );
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
    fn per_token_verdicts_of_a_reply() {
        let reply = |code, illegal: &[(&str, Reason)]| Reply {
            code,
            request_id: Some("r1".into()),
            illegal: illegal.iter().map(|(t, r)| (t.to_string(), *r)).collect(),
        };
        let st = |ds: Vec<Delivery>| ds.into_iter().map(|d| d.status).collect::<Vec<_>>();
        // Partial: exactly the listed dead ones end; a kept reason fails.
        let r = reply(
            80_100_000,
            &[
                ("b", Reason::TokenFormatError),
                ("c", Reason::NoRight),
                ("d", Reason::AppinfoError),
            ],
        );
        let ds = r.deliveries(&["a", "b", "c", "d"]);
        assert_eq!(ds[0].vendor_task_id.as_deref(), Some("r1"));
        assert_eq!(ds[1].vendor_code.as_deref(), Some("80100000"));
        assert!(ds[3].detail.as_deref().unwrap().contains("appinfoError"));
        assert_eq!(st(ds), [Sent, TokenInvalid, TokenInvalid, Failed]);
        // Every token noRight: configuration, nothing ends.
        let r = reply(
            80_300_007,
            &[("a", Reason::NoRight), ("b", Reason::NoRight)],
        );
        let ds = r.deliveries(&["a", "b"]);
        assert!(ds[0].detail.as_deref().unwrap().contains("bindings kept"));
        assert_eq!(ds[0].vendor_code.as_deref(), Some("80300007"));
        assert_eq!(st(ds), [Failed, Failed]);
        // noRight beside another dead reason: each ends.
        let r = reply(
            80_300_007,
            &[
                ("a", Reason::NoRight),
                ("b", Reason::TokenPlatformNotSupport),
            ],
        );
        assert_eq!(st(r.deliveries(&["a", "b"])), [TokenInvalid, TokenInvalid]);
        // 80300007 leaving a token out: unknown, failed.
        let r = reply(80_300_007, &[("a", Reason::TokenFormatError)]);
        assert_eq!(st(r.deliveries(&["a", "b"])), [TokenInvalid, Failed]);
    }

    #[test]
    fn details_and_vendor_codes() {
        let r = Refusal::new(Answer::Code(80_300_002), "x".repeat(300));
        assert!(r
            .detail()
            .starts_with("harmony 80300002: the project may not push"));
        assert!(r.detail().len() < 300);
        assert_eq!(r.to_kit().vendor_code.as_deref(), Some("80300002"));
        assert_eq!(r.to_kit().code, Some(80_300_002));
        let r = Refusal::new(Answer::Http(503), "");
        assert_eq!(r.to_kit().vendor_code.as_deref(), Some("http_503"));
        assert_eq!(r.detail(), "harmony: Huawei flow control (HTTP 503)");
        assert_eq!(Refusal::new(Answer::BadKey, "").vendor_code(), "jwt");
        assert_eq!(
            Refusal::new(Answer::Unreachable, "").vendor_code(),
            "no_answer"
        );
        assert_eq!(meaning(81_000_001), "Huawei inner error");
    }
}
