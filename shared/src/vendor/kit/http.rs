//! A vendor's HTTP client and the deadline-bounded call every vendor makes:
//! it ends by the push's deadline whatever the vendor does, and tells a
//! call that never reached the vendor from one that may have been written
//! and then lost (the retry session retries the latter only where the
//! vendor deduplicates).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The answer of a call that got one.
#[derive(Debug)]
pub struct Answered {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
}

/// A call that got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoAnswer {
    /// The connection was never made: the vendor saw nothing.
    NotSent(&'static str),
    /// The request may have been written: the vendor may have acted on it.
    Lost(&'static str),
}

impl NoAnswer {
    pub fn why(&self) -> &'static str {
        match self {
            NoAnswer::NotSent(w) | NoAnswer::Lost(w) => w,
        }
    }
    pub fn maybe_written(&self) -> bool {
        matches!(self, NoAnswer::Lost(_))
    }
}

/// One vendor's HTTP client: a base URL, a per-call timeout, and a
/// reqwest client built on first use (requests that never call the vendor
/// do not pay for loading the TLS roots).
pub struct VendorHttp {
    client: OnceLock<reqwest::Client>,
    timeout: Duration,
    base_url: String,
}

impl VendorHttp {
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        VendorHttp {
            client: OnceLock::new(),
            timeout,
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            crate::tls::client_builder()
                .timeout(self.timeout)
                .connect_timeout(self.timeout.min(Duration::from_secs(3)))
                .pool_idle_timeout(Duration::from_secs(50))
                .build()
                .expect("reqwest client builds with static settings")
        })
    }

    /// `base_url` + `path`, or `path` itself when it is a whole URL.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base_url)
        }
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client().post(self.url(path))
    }

    /// Sends `req`, ending by `deadline` whatever the vendor does.
    pub async fn call(
        &self,
        req: reqwest::RequestBuilder,
        deadline: Instant,
    ) -> Result<Answered, NoAnswer> {
        call(req, deadline).await
    }
}

/// Sends `req`, ending by `deadline` whatever the other side does.
pub async fn call(req: reqwest::RequestBuilder, deadline: Instant) -> Result<Answered, NoAnswer> {
    let silent = |e: reqwest::Error| {
        if e.is_connect() {
            NoAnswer::NotSent("connection failed")
        } else if e.is_timeout() {
            NoAnswer::Lost("no answer in time")
        } else {
            NoAnswer::Lost("connection lost")
        }
    };
    let go = async {
        let resp = req.send().await.map_err(silent)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(silent)?;
        Ok(Answered {
            status,
            headers,
            body,
        })
    };
    tokio::time::timeout_at(deadline.into(), go)
        .await
        .unwrap_or(Err(NoAnswer::Lost(
            "no answer in time: the push deadline passed",
        )))
}
