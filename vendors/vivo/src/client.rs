//! HTTP calls to vivo and the parsing of their answers. Every call is a
//! JSON POST answered by HTTP 200 with `{"result": int, "desc": str, ...}`;
//! 5xx means a vivo-side failure (VIVO_API.md 1.1).

use super::codes::{self, Answer};
use offpush::vendor::kit::{self, NoAnswer, VendorHttp};
use serde_json::Value;
use std::time::Instant;

/// vivo's production host (VIVO_API.md 1.1).
pub const DEFAULT_BASE_URL: &str = "https://api-push.vivo.com.cn";

/// Endpoint paths (VIVO_API.md 1.1).
pub const AUTH: &str = "/message/auth";
pub const SEND: &str = "/message/send";
pub const SAVE_LIST: &str = "/message/saveListPayload";
pub const PUSH_TO_LIST: &str = "/message/pushToList";

/// A result-0 answer, parsed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reply {
    pub task_id: Option<String>,
    pub auth_token: Option<String>,
    /// pushToList's `invalidUsers`: (userid, status) (VIVO_API.md 1.5).
    pub invalid_users: Vec<(String, i64)>,
}

/// A call that did not end in result 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub answer: Answer,
    /// vivo's `desc`, cut short; vivo's text about our request, never a secret.
    pub desc: String,
    /// No answer came, and the request may have been written.
    pub maybe_written: bool,
}

impl Refusal {
    pub fn new(answer: Answer, desc: impl Into<String>) -> Self {
        Refusal {
            answer,
            desc: desc.into(),
            maybe_written: false,
        }
    }

    /// The text of a refusal for an outcome's detail: `vivo 10070: meaning (desc)`.
    pub fn detail(&self) -> String {
        let rule = codes::rule(self.answer);
        match self.answer {
            Answer::Code(c) if self.desc.is_empty() => format!("vivo {c}: {}", rule.meaning),
            Answer::Code(c) => format!("vivo {c}: {} ({})", rule.meaning, self.desc),
            Answer::InvalidUser(s) => {
                format!("vivo 10302 invalidUser.status={s}: {}", rule.meaning)
            }
            Answer::Http(s) => format!("{} ({s})", rule.meaning),
            Answer::Unreachable if !self.desc.is_empty() => {
                format!("{} ({})", rule.meaning, self.desc)
            }
            Answer::Unreachable | Answer::Unreadable => rule.meaning.to_string(),
        }
    }

    /// The refusal as the vendor kit's session takes it.
    pub fn to_kit(&self) -> kit::Refusal {
        let mut r = kit::Refusal::new(codes::rule(self.answer), self.detail());
        r.maybe_written = self.maybe_written;
        match self.answer {
            Answer::Code(c) => r.code(c),
            Answer::InvalidUser(_) => r.vendor_code("10302"),
            Answer::Http(s) => r.vendor_code(format!("http_{s}")),
            Answer::Unreachable => r.vendor_code("no_answer"),
            Answer::Unreadable => r.vendor_code("unreadable"),
        }
    }
}

/// vivo sends ids as strings; some clients have seen numbers.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What an answer of vivo means: an HTTP status other than 200 is
/// [`Answer::Http`], whatever the body; a 200 body is [`parse`]d.
pub fn read(status: u16, bytes: &[u8]) -> Result<Reply, Refusal> {
    if status != 200 {
        return Err(Refusal::new(Answer::Http(status), ""));
    }
    parse(bytes)
}

/// Parses a vivo body (HTTP 200). 10302 becomes the invalidUser answer
/// of its status (VIVO_API.md 1.3).
pub fn parse(bytes: &[u8]) -> Result<Reply, Refusal> {
    let unreadable = || Refusal::new(Answer::Unreadable, "");
    let v: Value = serde_json::from_slice(bytes).map_err(|_| unreadable())?;
    let result = v
        .get("result")
        .and_then(Value::as_i64)
        .ok_or_else(unreadable)?;
    let desc: String = v
        .get("desc")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(100)
        .collect();
    if result == 10302 {
        let status = v["invalidUser"]["status"].as_i64().unwrap_or(0);
        return Err(Refusal::new(Answer::InvalidUser(status), desc));
    }
    if result != 0 {
        return Err(Refusal::new(Answer::Code(result), desc));
    }
    let invalid_users = v
        .get("invalidUsers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|u| {
                    let id = u.get("userid").and_then(id_text)?;
                    Some((id, u.get("status").and_then(Value::as_i64).unwrap_or(0)))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Reply {
        task_id: v.get("taskId").and_then(id_text),
        auth_token: v
            .get("authToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        invalid_users,
    })
}

/// POSTs `body` to vivo's `path`, ending by `deadline` whatever vivo does.
pub async fn post(
    http: &VendorHttp,
    path: &str,
    auth_token: Option<&str>,
    body: &Value,
    deadline: Instant,
) -> Result<Reply, Refusal> {
    let mut req = http
        .post(path)
        .header("content-type", "application/json;charset=utf-8")
        .body(serde_json::to_vec(body).expect("json serializes"));
    if let Some(t) = auth_token {
        req = req.header("authToken", t);
    }
    match http.call(req, deadline).await {
        Ok(a) => read(a.status, &a.body),
        Err(n) => Err(Refusal {
            maybe_written: matches!(n, NoAnswer::Lost(_)),
            ..Refusal::new(Answer::Unreachable, n.why())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_success_task_ids_and_invalid_users() {
        let r = parse(br#"{"result":0,"desc":"ok","taskId":"t-1"}"#).unwrap();
        assert_eq!(r.task_id.as_deref(), Some("t-1"));
        let r = parse(br#"{"result":0,"taskId":12345}"#).unwrap();
        assert_eq!(r.task_id.as_deref(), Some("12345"));
        let r = parse(
            br#"{"result":0,"invalidUsers":[{"status":1,"userid":"a"},{"status":4,"userid":"b"},{"status":2}]}"#,
        )
        .unwrap();
        assert_eq!(r.invalid_users, [("a".into(), 1), ("b".into(), 4)]);
        let r = parse(br#"{"result":0,"authToken":"tok"}"#).unwrap();
        assert_eq!(r.auth_token.as_deref(), Some("tok"));
    }

    #[test]
    fn refusals_carry_the_answer() {
        let e = parse(br#"{"result":10070,"desc":"quota"}"#).unwrap_err();
        assert_eq!((e.answer, e.desc.as_str()), (Answer::Code(10070), "quota"));
        let e = parse(br#"{"result":10302,"invalidUser":{"status":2,"userid":"x"}}"#).unwrap_err();
        assert_eq!(e.answer, Answer::InvalidUser(2));
        let e = parse(br#"{"result":10302}"#).unwrap_err();
        assert_eq!(e.answer, Answer::InvalidUser(0));
        for garbage in [&b"<html>"[..], b"{}", b"{\"result\":\"0\"}", b"[]"] {
            assert_eq!(parse(garbage).unwrap_err().answer, Answer::Unreadable);
        }
    }

    #[test]
    fn a_status_other_than_200_is_the_answer_whatever_the_body() {
        let ok = br#"{"result":0,"taskId":"t-1"}"#;
        assert_eq!(read(200, ok).unwrap().task_id.as_deref(), Some("t-1"));
        for status in [201, 429, 500, 503] {
            let e = read(status, ok).unwrap_err();
            assert_eq!((e.answer, e.desc.as_str()), (Answer::Http(status), ""));
        }
    }
}
