//! The whole vivo Push adapter (VIVO_API.md section 1), behind the vendor
//! port [`crate::channel::PushChannel`]:
//!
//! - [`client`]: endpoint paths, the HTTP call bounded by the deadline, and
//!   the parsing of every answer (result, desc, taskId, authToken,
//!   invalidUser, invalidUsers).
//! - [`codes`]: the one table from an answer to what the adapter does.
//! - [`auth`]: a vivo app's authToken (instance cache, table cache,
//!   single-flight refresh) and its pauses; credential checks at upload.
//! - [`send`]: the session of one call group (pauses, deadline, attempts,
//!   backoff, re-auth, derived requestIds), single and list sends.
//! - [`message`]: request bodies; [`sign`]: the auth sign.

pub mod auth;
pub mod client;
pub mod codes;
pub mod message;
pub mod send;
pub mod sign;

use crate::channel::{Batching, Message, PushChannel, Send, SendReport};
use crate::domain::Certificate;
use crate::store::Store;
use crate::ServiceError;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub use auth::account_key;
pub use client::DEFAULT_BASE_URL;

/// Most regIds in one pushToList (VIVO_API.md 1.5: 2..=1000).
pub const MAX_LIST: usize = 1000;
/// vivo's official SDK requires timeToLive >= 900 s for every push type but
/// single push; newer text speaks of single push only (VIVO_API.md 1.3,
/// CONFLICT). The safer reading keeps the caller's TTL exact: a push whose
/// TTL is below 900 s goes device by device through /message/send rather
/// than live longer than asked (a stale call invitation is worse than a
/// few more calls).
pub const LIST_MIN_TTL_SECS: u32 = 900;

/// The vivo channel of a warm instance.
pub struct Vivo {
    http: client::Http,
    store: Store,
    timeout: Duration,
    /// Per vivo app (see [`account_key`]): token and pauses.
    accounts: Mutex<HashMap<String, auth::Account>>,
}

impl Vivo {
    pub fn new(store: Store, base_url: &str, timeout: Duration) -> Self {
        Vivo {
            http: client::Http::new(base_url, timeout),
            store,
            timeout,
            accounts: Mutex::new(HashMap::new()),
        }
    }

    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }
}

impl PushChannel for Vivo {
    fn batching(&self, _cert: &Certificate, message: &Message<'_>) -> Batching {
        Batching {
            min_list: 2,
            max_list: if message.ttl_seconds < LIST_MIN_TTL_SECS {
                1
            } else {
                MAX_LIST
            },
        }
    }

    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport> {
        Box::pin(self.send_group(send))
    }

    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>> {
        Box::pin(self.verify_credentials(&cert.credentials))
    }
}
