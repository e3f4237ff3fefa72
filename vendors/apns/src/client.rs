//! The APNs HTTP/2 client (VENDORS_API.md 12: HTTP/2 is required; keep the
//! connection across warm invocations, a new connection per request is
//! treated as abuse): one reqwest client per instance, built on first use
//! with the process's rustls provider (ALPN h2 over TLS), or cleartext
//! HTTP/2 with prior knowledge for an `http://` base (the simulator).

use crate::codes::{Answer, Refusal};
use crate::message::Notification;
use offpush::vendor::kit::http::call;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The send path (6): `POST /3/device/<hex token>`.
pub const DEVICE_PATH: &str = "/3/device/";

pub struct ApnsHttp {
    client: OnceLock<reqwest::Client>,
    timeout: Duration,
    /// Cleartext base: HTTP/2 with prior knowledge.
    cleartext: bool,
}

impl ApnsHttp {
    pub fn new(cleartext: bool, timeout: Duration) -> Self {
        ApnsHttp {
            client: OnceLock::new(),
            timeout,
            cleartext,
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            let b = offpush::tls::client_builder()
                .timeout(self.timeout)
                .connect_timeout(self.timeout.min(Duration::from_secs(3)))
                .pool_idle_timeout(Duration::from_secs(50));
            let b = if self.cleartext {
                b.http2_prior_knowledge()
            } else {
                // TLS offers h2 through ALPN (reqwest's http2 feature);
                // APNs answers nothing else.
                b
            };
            b.build()
                .expect("reqwest client builds with static settings")
        })
    }

    /// One device's request; Ok is the `apns-id` APNs answered.
    pub async fn push(
        &self,
        base: &str,
        device_token: &str,
        jwt: &str,
        apns_id: &str,
        n: &Notification,
        deadline: Instant,
    ) -> Result<Option<String>, Refusal> {
        let mut req = self
            .client()
            .post(format!("{base}{DEVICE_PATH}{device_token}"))
            .header("authorization", format!("bearer {jwt}"))
            .header("apns-topic", &n.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", n.priority.to_string())
            .header("apns-expiration", n.expiration.to_string())
            .header("apns-id", apns_id)
            .header("content-type", "application/json")
            .body(n.body.clone());
        if let Some(c) = &n.collapse_id {
            req = req.header("apns-collapse-id", c);
        }
        let answered = call(req, deadline).await.map_err(|e| Refusal {
            why: e.why(),
            maybe_written: e.maybe_written(),
            ..Refusal::new(Answer::Unreachable)
        })?;
        if answered.status == 200 {
            return Ok(answered
                .headers
                .get("apns-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string));
        }
        let retry_after = answered
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let reason = serde_json::from_slice::<serde_json::Value>(&answered.body)
            .ok()
            .and_then(|v| v.get("reason")?.as_str().map(str::to_string))
            // A reason is an identifier; anything else is not APNs' JSON.
            .filter(|r| {
                !r.is_empty() && r.len() <= 64 && r.chars().all(|c| c.is_ascii_alphanumeric())
            });
        let answer = match reason {
            Some(reason) => Answer::Apns {
                status: answered.status,
                reason,
            },
            None => Answer::Http(answered.status),
        };
        Err(Refusal {
            retry_after,
            ..Refusal::new(answer)
        })
    }
}
