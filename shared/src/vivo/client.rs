//! HTTP calls to vivo. Every call is a JSON POST answered by HTTP 200 with
//! `{"result": int, "desc": str, ...}`; 5xx means a vivo-side failure
//! (VIVO_API.md 1.1).

use crate::domain::VivoCredentials;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// vivo's production host (VIVO_API.md 1.1).
pub const DEFAULT_BASE_URL: &str = "https://api-push.vivo.com.cn";

/// An authToken is valid 24 h (VIVO_API.md 1.2); vivo asks for a refresh
/// every 1-2 h, so a token is reused for one hour at most.
pub const AUTH_TOKEN_REUSE_SECS: i64 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum VivoError {
    /// vivo answered with a non-zero result code.
    #[error("vivo result {code}: {desc}")]
    Refused {
        code: i64,
        desc: String,
        body: Value,
    },
    /// No answer: connect error, timeout, reset.
    #[error("vivo unreachable")]
    Transport(#[source] reqwest::Error),
    /// An HTTP status other than 200.
    #[error("vivo HTTP {0}")]
    Http(u16),
    /// HTTP 200 with a body that is not vivo's JSON.
    #[error("vivo answered an unreadable body")]
    Unreadable,
}

impl VivoError {
    pub fn code(&self) -> Option<i64> {
        match self {
            VivoError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    result: i64,
    #[serde(default)]
    desc: String,
}

pub struct VivoClient {
    http: reqwest::Client,
    base_url: String,
    /// Warm-instance cache: credential key -> (authToken, obtained_at secs).
    tokens: Mutex<HashMap<String, (String, i64)>>,
}

impl VivoClient {
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .expect("reqwest client builds with static settings");
        VivoClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// POSTs `body` to `path`; Ok is the whole JSON body of a result-0 answer.
    pub async fn call(
        &self,
        path: &str,
        auth_token: Option<&str>,
        body: &Value,
    ) -> Result<Value, VivoError> {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("content-type", "application/json;charset=utf-8")
            .body(serde_json::to_vec(body).expect("json serializes"));
        if let Some(t) = auth_token {
            req = req.header("authToken", t);
        }
        let resp = req.send().await.map_err(VivoError::Transport)?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(VivoError::Transport)?;
        if status != 200 {
            return Err(VivoError::Http(status));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| VivoError::Unreadable)?;
        let env: Envelope =
            serde_json::from_value(value.clone()).map_err(|_| VivoError::Unreadable)?;
        if env.result == 0 {
            Ok(value)
        } else {
            Err(VivoError::Refused {
                code: env.result,
                desc: env.desc,
                body: value,
            })
        }
    }

    /// `/message/auth` (VIVO_API.md 1.2): a fresh authToken.
    pub async fn authenticate(
        &self,
        creds: &VivoCredentials,
        now_ms: i64,
    ) -> Result<String, VivoError> {
        let body = json!({
            // appId goes as a JSON number: the doc types it int (VIVO_API.md 1.2).
            "appId": creds.app_id,
            "appKey": creds.app_key,
            "timestamp": now_ms,
            "sign": super::sign::sign(creds.app_id, &creds.app_key, now_ms, creds.app_secret.expose()),
        });
        let v = self.call("/message/auth", None, &body).await?;
        v.get("authToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or(VivoError::Unreadable)
    }

    /// The warm-instance cached token for `key` if younger than the reuse window.
    pub fn cached_token(&self, key: &str, now_secs: i64) -> Option<String> {
        let map = self.tokens.lock().expect("token cache lock");
        map.get(key)
            .filter(|(_, at)| now_secs - at < AUTH_TOKEN_REUSE_SECS)
            .map(|(t, _)| t.clone())
    }

    pub fn remember_token(&self, key: &str, token: &str, obtained_at: i64) {
        let mut map = self.tokens.lock().expect("token cache lock");
        map.insert(key.to_string(), (token.to_string(), obtained_at));
    }

    pub fn forget_token(&self, key: &str, token: &str) {
        let mut map = self.tokens.lock().expect("token cache lock");
        if map.get(key).is_some_and(|(t, _)| t == token) {
            map.remove(key);
        }
    }
}
