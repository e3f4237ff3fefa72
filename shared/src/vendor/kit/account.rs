//! A vendor account's state in this instance: its access token (cached
//! here and shared through the table) and the pauses the vendor imposed on
//! it. One async lock per account makes every refresh single-flight within
//! an instance; across instances, a token is refreshed *before* it expires
//! by the one instance that wins a conditional write (a short lease in the
//! table), while every other instance goes on with the current token. A
//! token that is due but still valid is used whenever a refresh fails, is
//! paused, or is someone else's to make: only an expired token (or none)
//! makes a push wait for the vendor's auth endpoint.

use super::rules::{pause_secs, Rule, Scope};
use super::session::Refusal;
use crate::clock::now_secs;
use crate::domain::{Delivery, DeliveryStatus};
use crate::error::chain;
use crate::store::Store;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long this instance trusts what it read of the table's account state
/// (shared token, pauses set by other instances) before reading again. A
/// pause set elsewhere costs at most this long of refused calls; one set
/// here is in force at once.
pub const STATE_FRESH: Duration = Duration::from_secs(5);
/// How long an auth failure for want of an answer (after its retries)
/// stands for the other calls of the account.
pub const AUTH_FAILURE_MEMORY: Duration = Duration::from_secs(2);
/// The refresh lease: how long the instance that won it has to store a new
/// token before another instance may try.
pub const REFRESH_LEASE_SECS: i64 = 30;

/// A token as the vendor issued it.
#[derive(Clone, Debug)]
pub struct Fresh {
    pub value: String,
    /// Seconds it stays valid, as the vendor says (or documents).
    pub valid_secs: i64,
}

/// How an account's tokens are kept.
#[derive(Clone, Copy, Debug)]
pub struct TokenPolicy {
    /// A token is refreshed this long after it was obtained (vendors ask
    /// for early refreshes), and used until it expires.
    pub refresh_after_secs: i64,
    /// The instance's own auth calls of one account are at least this far
    /// apart (vendors cap auth calls per second).
    pub spacing: Duration,
    /// A token is treated as expired this long before its real expiry.
    pub expiry_margin_secs: i64,
}

/// A vendor's auth call for one account.
pub trait Authenticator: Send + Sync {
    fn authenticate(&self, deadline: Instant) -> BoxFuture<'_, Result<Fresh, Refusal>>;
}

#[derive(Clone, Debug)]
pub struct Token {
    pub value: String,
    pub obtained: i64,
    pub expires_at: i64,
    /// Bumped at every replacement: a caller refused with generation g
    /// refreshes only if nobody has since (single-flight re-auth).
    pub generation: u64,
}

#[derive(Default)]
struct AccountState {
    token: Option<Token>,
    generation: u64,
    /// scope -> (until epoch secs, vendor code).
    pauses: HashMap<String, (i64, i64)>,
    read_at: Option<Instant>,
    last_auth: Option<Instant>,
    /// An auth call that failed for want of an answer, and until when
    /// other calls take that as their answer.
    auth_failed: Option<(Instant, String)>,
}

type Account = Arc<tokio::sync::Mutex<AccountState>>;

/// A pause in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paused {
    pub scope: String,
    pub code: i64,
    pub until: i64,
}

/// One vendor's accounts in this instance.
pub struct Accounts {
    store: Store,
    /// The vendor's name, first word of every detail (`vivo 10070: ...`).
    vendor: &'static str,
    /// The vendor's code table, for the meaning of a paused code.
    meaning: fn(i64) -> &'static str,
    map: Mutex<HashMap<String, Account>>,
}

impl Accounts {
    pub fn new(store: Store, vendor: &'static str, meaning: fn(i64) -> &'static str) -> Self {
        Accounts {
            store,
            vendor,
            meaning,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub fn vendor(&self) -> &'static str {
        self.vendor
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn account(&self, key: &str) -> Account {
        // A poisoned lock (a panic while it was held) must not fail every
        // later request of the warm instance: the map stays valid.
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(key.to_string()).or_default().clone()
    }

    /// The delivery of a target refused by a pause.
    pub fn paused_delivery(&self, p: &Paused, now: i64) -> Delivery {
        let mut d = Delivery::new(
            DeliveryStatus::Throttled,
            Some(format!(
                "{} {}: {}; paused ({}) until {}",
                self.vendor,
                p.code,
                (self.meaning)(p.code),
                p.scope,
                crate::domain::rfc3339(
                    time::OffsetDateTime::from_unix_timestamp(p.until)
                        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
                )
            )),
        );
        d.retry_after_s = Some((p.until - now).max(1) as u64);
        d.vendor_code = Some(p.code.to_string());
        d
    }

    /// Reads the table's state of the account unless this instance read it
    /// within [`STATE_FRESH`]. A table failure is logged and the instance's
    /// own view is used: pauses are a courtesy to the vendor, not a gate.
    async fn refresh(&self, key: &str, st: &mut AccountState) {
        if st.read_at.is_some_and(|at| at.elapsed() < STATE_FRESH) {
            return;
        }
        let now = now_secs();
        match self.store.vendor_state(key, now).await {
            Ok(state) => {
                st.read_at = Some(Instant::now());
                for p in state.pauses {
                    st.pauses.insert(p.scope, (p.until, p.code));
                }
                if let Some(t) = state.auth {
                    let newer = st.token.as_ref().is_none_or(|o| o.obtained < t.obtained);
                    if newer && t.expires_at > now {
                        st.generation += 1;
                        st.token = Some(Token {
                            value: t.value,
                            obtained: t.obtained,
                            expires_at: t.expires_at,
                            generation: st.generation,
                        });
                    }
                }
            }
            Err(e) => {
                tracing::error!(vendor = self.vendor, error = %chain(&e), "reading vendor state from the table failed")
            }
        }
    }

    /// The first pause in force among `scopes` of the account.
    pub async fn paused(&self, key: &str, scopes: &[&str]) -> Option<Paused> {
        let account = self.account(key);
        let mut st = account.lock().await;
        self.refresh(key, &mut st).await;
        let now = now_secs();
        st.pauses.retain(|_, (until, _)| *until > now);
        scopes.iter().find_map(|s| {
            st.pauses.get(*s).map(|(until, code)| Paused {
                scope: s.to_string(),
                code: *code,
                until: *until,
            })
        })
    }

    /// Records that the vendor stopped serving `scope` of the account.
    /// Pauses of a minute or more go to the table so every instance
    /// honours them.
    pub async fn pause(&self, key: &str, scope: &str, code: i64, secs: u64) -> Paused {
        let now = now_secs();
        let until = now + secs as i64;
        let account = self.account(key);
        account
            .lock()
            .await
            .pauses
            .insert(scope.to_string(), (until, code));
        tracing::warn!(
            vendor = self.vendor,
            code,
            scope,
            until,
            "the vendor paused a scope of an account"
        );
        if secs >= 60 {
            if let Err(e) = self.store.put_pause(key, scope, code, until, now).await {
                tracing::error!(vendor = self.vendor, error = %chain(&e), "remembering a vendor pause failed");
            }
        }
        Paused {
            scope: scope.to_string(),
            code,
            until,
        }
    }

    /// Lifts the account's pauses in this instance (the table's are lifted
    /// by the store; see the admin tool).
    pub async fn forget_pauses(&self, key: &str) {
        let account = self.account(key);
        let mut st = account.lock().await;
        st.pauses.clear();
        st.read_at = None;
    }

    /// Stores a token obtained outside a send (a credential check at
    /// upload), so the next push needs no auth call of its own.
    pub async fn remember(
        &self,
        key: &str,
        fresh: Fresh,
        policy: &TokenPolicy,
    ) -> Result<(), crate::store::StoreError> {
        let now = now_secs();
        let account = self.account(key);
        let mut st = account.lock().await;
        let t = self.install(&mut st, fresh, now, policy);
        self.store
            .put_vendor_auth(key, &t.value, now, t.expires_at)
            .await
    }

    fn install(
        &self,
        st: &mut AccountState,
        fresh: Fresh,
        now: i64,
        policy: &TokenPolicy,
    ) -> Token {
        st.auth_failed = None;
        st.generation += 1;
        let t = Token {
            value: fresh.value,
            obtained: now,
            expires_at: now + (fresh.valid_secs - policy.expiry_margin_secs).max(1),
            generation: st.generation,
        };
        st.token = Some(t.clone());
        t
    }

    /// A usable token of the account: this instance's, else the table's,
    /// else a fresh auth call whose token is then shared. A token due for
    /// refresh is refreshed by the one instance that wins the table's
    /// lease, the others (and the winner, if the vendor fails it) going on
    /// with it until it expires. Err is the outcome for every target of
    /// the caller.
    pub async fn token(
        &self,
        key: &str,
        auth: &dyn Authenticator,
        policy: &TokenPolicy,
        refused: Option<u64>,
        deadline: Instant,
        calls: &AtomicUsize,
    ) -> Result<Token, Delivery> {
        let account = self.account(key);
        let mut st = account.lock().await;
        if let Some(g) = refused {
            // Refused with generation g: drop it, unless another caller
            // already replaced it.
            if st.token.as_ref().is_some_and(|t| t.generation == g) {
                let old = st.token.take().expect("present");
                if let Err(e) = self.store.drop_vendor_auth(key, &old.value).await {
                    tracing::error!(vendor = self.vendor, error = %chain(&e), "dropping a refused token failed");
                }
                st.read_at = None;
            }
        } else {
            self.refresh(key, &mut st).await;
        }
        let now = now_secs();
        let current = st.token.clone().filter(|t| t.expires_at > now);
        if let Some(t) = &current {
            if now - t.obtained < policy.refresh_after_secs {
                return Ok(t.clone());
            }
            // Due, still valid: refresh only if nothing says not to, and
            // only as the one instance holding the lease.
            let auth_paused = st.pauses.get("auth").is_some_and(|(u, _)| *u > now);
            let failing = st
                .auth_failed
                .as_ref()
                .is_some_and(|(u, _)| *u > Instant::now());
            let spaced = st
                .last_auth
                .is_some_and(|last| last.elapsed() < policy.spacing);
            if auth_paused || failing || spaced {
                return Ok(t.clone());
            }
            match self
                .store
                .claim_vendor_refresh(key, now, now + REFRESH_LEASE_SECS)
                .await
            {
                Ok(true) => {}
                Ok(false) => return Ok(t.clone()),
                Err(e) => {
                    tracing::error!(vendor = self.vendor, error = %chain(&e), "claiming a token refresh failed");
                    return Ok(t.clone());
                }
            }
        }
        if current.is_none() {
            if let Some((until, code)) = st.pauses.get("auth").filter(|(u, _)| *u > now) {
                return Err(self.paused_delivery(
                    &Paused {
                        scope: "auth".into(),
                        code: *code,
                        until: *until,
                    },
                    now,
                ));
            }
            if let Some(last) = st.last_auth {
                let next = last + policy.spacing;
                if next >= deadline {
                    return Err(Delivery::failed(format!(
                        "push deadline passed before {} auth could be called",
                        self.vendor
                    )));
                }
                tokio::time::sleep_until(next.into()).await;
            }
            if let Some((_, detail)) = st.auth_failed.as_ref().filter(|(u, _)| *u > Instant::now())
            {
                return Err(Delivery::failed(format!(
                    "{detail} (auth failed moments ago; not called again yet)"
                )));
            }
        }
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            st.last_auth = Some(Instant::now());
            calls.fetch_add(1, Ordering::Relaxed);
            let got = auth.authenticate(deadline).await;
            // 5xx, silence, an unreadable answer: retried like any call,
            // inside the attempt limit and the deadline.
            let retry = match &got {
                Err(r) if r.rule.retry && attempt < super::session::MAX_ATTEMPTS => {
                    super::session::backoff_before(attempt, deadline)
                }
                _ => None,
            };
            match retry {
                Some(wait) => tokio::time::sleep(wait).await,
                None => break got,
            }
        };
        match outcome {
            Ok(fresh) => {
                let now = now_secs();
                let t = self.install(&mut st, fresh, now, policy);
                if let Err(e) = self
                    .store
                    .put_vendor_auth(key, &t.value, now, t.expires_at)
                    .await
                {
                    tracing::error!(vendor = self.vendor, error = %chain(&e), "sharing the vendor token failed");
                }
                Ok(t)
            }
            Err(r) => {
                if r.rule.retry {
                    // Calls of this account fail fast for a moment instead
                    // of each calling an auth endpoint that is down.
                    st.auth_failed = Some((
                        Instant::now() + AUTH_FAILURE_MEMORY,
                        format!("{} (auth, after {attempt} attempts)", r.detail),
                    ));
                }
                drop(st);
                if let (Some(until), Some(code), Scope::Auth) = (r.rule.until, r.code, r.rule.pause)
                {
                    let p = self
                        .pause(key, "auth", code, pause_secs(until, now_secs()))
                        .await;
                    if let Some(t) = current {
                        return Ok(t);
                    }
                    return Err(self.paused_delivery(&p, now_secs()));
                }
                if let Some(t) = current {
                    tracing::warn!(vendor = self.vendor, detail = %r.detail, "token refresh failed; the current token is still valid and stays in use");
                    return Ok(t);
                }
                Err(auth_failure(&r, attempt))
            }
        }
    }
}

/// The delivery of every target whose call could not get a token.
fn auth_failure(r: &Refusal, attempts: u32) -> Delivery {
    let Rule {
        credentials, retry, ..
    } = r.rule;
    let detail = if credentials {
        format!(
            "{} on auth: the certificate's credentials were refused; update the certificate",
            r.detail
        )
    } else if retry {
        format!("{} (auth, after {attempts} attempts)", r.detail)
    } else {
        format!("{} (auth)", r.detail)
    };
    let mut d = Delivery::failed(detail);
    d.vendor_code = r.vendor_code.clone();
    d
}
