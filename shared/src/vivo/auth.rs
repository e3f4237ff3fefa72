//! A vivo app's state in this instance: its authToken (cached here and
//! shared through the table, VIVO_API.md 1.2: valid 24 h, vivo asks for a
//! central cache and caps auth at 10 calls/s per app) and the pauses vivo
//! imposed on it (VIVO_API.md 1.9). One async lock per vivo app makes every
//! refresh single-flight across the calls of a push and across concurrent
//! pushes of a warm instance.

use super::client::{Refusal, AUTH};
use super::codes::{self, Answer, Scope};
use super::Vivo;
use crate::clock::now_secs;
use crate::domain::{Delivery, DeliveryStatus, VivoCredentials};
use crate::error::chain;
use crate::store::keys;
use crate::ServiceError;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An authToken is valid 24 h (VIVO_API.md 1.2); vivo asks for a refresh
/// every 1-2 h, so a token is reused for one hour at most.
pub const AUTH_TOKEN_REUSE_SECS: i64 = 3600;
/// vivo allows 10 auth calls a second per app (VIVO_API.md 1.2): this
/// instance spaces its own auth calls of one app at least this far apart.
pub const AUTH_SPACING: Duration = Duration::from_millis(150);
/// How long an auth failure for want of an answer (after its retries)
/// stands for the other calls of the vivo app.
pub const AUTH_FAILURE_MEMORY: Duration = Duration::from_secs(2);
/// How long this instance trusts what it read of the table's vendor state
/// (shared token, pauses set by other instances) before reading again. A
/// pause set elsewhere costs at most this long of refused calls; one set
/// here is in force at once.
pub const STATE_FRESH: Duration = Duration::from_secs(5);

/// The table partition of a vivo app with one credential set: a changed
/// key or secret starts clean (no old token, no old pause).
pub fn account_key(creds: &VivoCredentials) -> String {
    let digest = keys::credential_digest(&[&creds.app_key, creds.app_secret.expose()]);
    keys::vendor_pk("vivo", &format!("{}#{digest}", creds.app_id))
}

#[derive(Clone)]
pub(super) struct Token {
    pub value: String,
    pub obtained: i64,
    /// Bumped at every replacement: a caller refused with generation g
    /// refreshes only if nobody has since (single-flight re-auth).
    pub generation: u64,
}

#[derive(Default)]
pub(super) struct AccountState {
    token: Option<Token>,
    generation: u64,
    /// scope -> (until epoch secs, vivo code).
    pauses: HashMap<String, (i64, i64)>,
    read_at: Option<Instant>,
    last_auth: Option<Instant>,
    /// An auth call that failed for want of an answer (5xx, silence), and
    /// until when other calls take that as their answer.
    auth_failed: Option<(Instant, String)>,
}

pub(super) type Account = Arc<tokio::sync::Mutex<AccountState>>;

/// A pause in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paused {
    pub scope: String,
    pub code: i64,
    pub until: i64,
}

impl Paused {
    pub fn delivery(&self, now: i64) -> Delivery {
        Delivery {
            retry_after_s: Some((self.until - now).max(1) as u64),
            ..Delivery::new(
                DeliveryStatus::Throttled,
                Some(format!(
                    "vivo {}: {}; paused ({}) until {}",
                    self.code,
                    codes::rule(Answer::Code(self.code)).meaning,
                    self.scope,
                    crate::domain::rfc3339(
                        time::OffsetDateTime::from_unix_timestamp(self.until)
                            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
                    )
                )),
            )
        }
    }
}

/// The text of a refusal for an outcome's detail: `vivo 10070: meaning (desc)`.
pub(super) fn refusal_detail(r: &Refusal) -> String {
    let rule = codes::rule(r.answer);
    match r.answer {
        Answer::Code(c) if r.desc.is_empty() => format!("vivo {c}: {}", rule.meaning),
        Answer::Code(c) => format!("vivo {c}: {} ({})", rule.meaning, r.desc),
        Answer::InvalidUser(s) => format!("vivo 10302 invalidUser.status={s}: {}", rule.meaning),
        Answer::Http(s) => format!("{} ({s})", rule.meaning),
        Answer::Unreachable if !r.desc.is_empty() => format!("{} ({})", rule.meaning, r.desc),
        Answer::Unreachable | Answer::Unreadable => rule.meaning.to_string(),
    }
}

impl Vivo {
    pub(super) fn account(&self, key: &str) -> Account {
        // A poisoned lock (a panic while it was held) must not fail every
        // later request of the warm instance: the map stays valid.
        let mut map = self
            .accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(key.to_string()).or_default().clone()
    }

    /// Reads the table's state of the app unless this instance read it
    /// within [`STATE_FRESH`]. A table failure is logged and the instance's
    /// own view is used: pauses are a courtesy to vivo, not a gate.
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
                if let Some((value, obtained)) = state.auth {
                    let newer = st.token.as_ref().is_none_or(|t| t.obtained < obtained);
                    if newer && now - obtained < AUTH_TOKEN_REUSE_SECS {
                        st.generation += 1;
                        st.token = Some(Token {
                            value,
                            obtained,
                            generation: st.generation,
                        });
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %chain(&e), "reading vivo state from the table failed")
            }
        }
    }

    /// The first pause in force among `scopes` of the app.
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

    /// Records that vivo stopped serving `scope` of the app; returns the
    /// pause. Day-long pauses go to the table so every instance honours them.
    pub(super) async fn pause(&self, key: &str, scope: &str, code: i64, secs: u64) -> Paused {
        let now = now_secs();
        let until = now + secs as i64;
        let account = self.account(key);
        account
            .lock()
            .await
            .pauses
            .insert(scope.to_string(), (until, code));
        tracing::warn!(code, scope, until, "vivo paused a scope of a vivo app");
        if secs >= 60 {
            if let Err(e) = self.store.put_pause(key, scope, code, until, now).await {
                tracing::error!(error = %chain(&e), "remembering a vivo pause failed");
            }
        }
        Paused {
            scope: scope.to_string(),
            code,
            until,
        }
    }

    /// Lifts the app's pauses in this instance (the table's are lifted by
    /// the store; see the admin tool).
    pub async fn forget_pauses(&self, key: &str) {
        let account = self.account(key);
        let mut st = account.lock().await;
        st.pauses.clear();
        st.read_at = None;
    }

    /// A usable authToken of the app: this instance's, else the table's,
    /// else a fresh `/message/auth` call whose token is then shared.
    /// Err is the outcome for every target of the caller.
    pub(super) async fn token(
        &self,
        creds: &VivoCredentials,
        key: &str,
        refused: Option<u64>,
        deadline: Instant,
        calls: &std::sync::atomic::AtomicUsize,
    ) -> Result<Token, Delivery> {
        let account = self.account(key);
        let mut st = account.lock().await;
        let now = now_secs();
        if let Some(g) = refused {
            // Refused with generation g: drop it, unless another caller
            // already replaced it.
            if st.token.as_ref().is_some_and(|t| t.generation == g) {
                let old = st.token.take().expect("present");
                if let Err(e) = self.store.drop_vendor_auth(key, &old.value).await {
                    tracing::error!(error = %chain(&e), "dropping a refused authToken failed");
                }
                st.read_at = None;
            }
        } else {
            self.refresh(key, &mut st).await;
        }
        if let Some(t) = st
            .token
            .as_ref()
            .filter(|t| now - t.obtained < AUTH_TOKEN_REUSE_SECS)
        {
            return Ok(t.clone());
        }
        if let Some((until, code)) = st.pauses.get("auth").filter(|(u, _)| *u > now) {
            return Err(Paused {
                scope: "auth".into(),
                code: *code,
                until: *until,
            }
            .delivery(now));
        }
        if let Some(last) = st.last_auth {
            let next = last + AUTH_SPACING;
            if next >= deadline {
                return Err(Delivery::failed(
                    "push deadline passed before vivo auth could be called",
                ));
            }
            tokio::time::sleep_until(next.into()).await;
        }
        if let Some((_, detail)) = st.auth_failed.as_ref().filter(|(u, _)| *u > Instant::now()) {
            return Err(Delivery::failed(format!(
                "{detail} (auth failed moments ago; not called again yet)"
            )));
        }
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            st.last_auth = Some(Instant::now());
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let got = self.authenticate(creds, deadline).await;
            // 5xx, silence, an unreadable answer: retried like any call,
            // inside the attempt limit and the deadline (codes.rs).
            let retry = match &got {
                Err(r) if codes::rule(r.answer).retry && attempt < super::send::MAX_ATTEMPTS => {
                    super::send::backoff_before(attempt, deadline)
                }
                _ => None,
            };
            match retry {
                Some(wait) => tokio::time::sleep(wait).await,
                None => break got,
            }
        };
        match outcome {
            Ok(value) => {
                let now = now_secs();
                st.auth_failed = None;
                st.generation += 1;
                let t = Token {
                    value,
                    obtained: now,
                    generation: st.generation,
                };
                st.token = Some(t.clone());
                if let Err(e) = self
                    .store
                    .put_vendor_auth(key, &t.value, now, now + AUTH_TOKEN_REUSE_SECS)
                    .await
                {
                    tracing::error!(error = %chain(&e), "sharing the vivo authToken failed");
                }
                Ok(t)
            }
            Err(r) => {
                let rule = codes::rule(r.answer);
                if rule.retry {
                    // Calls of this vivo app fail fast for a moment instead
                    // of each calling an auth endpoint that is down.
                    st.auth_failed = Some((
                        Instant::now() + AUTH_FAILURE_MEMORY,
                        format!("{} (auth, after {attempt} attempts)", refusal_detail(&r)),
                    ));
                }
                drop(st);
                match (rule.pause, rule.until, r.answer) {
                    (Scope::Auth, Some(until), Answer::Code(code)) => Err(self
                        .pause(key, "auth", code, codes::pause_secs(until, now_secs()))
                        .await
                        .delivery(now_secs())),
                    _ if rule.credential_field.is_some() || matches!(r.answer, Answer::Code(10200..=10207)) => {
                        Err(Delivery::failed(format!(
                            "{} on auth: the certificate's credentials were refused; update the certificate",
                            refusal_detail(&r)
                        )))
                    }
                    _ if rule.retry => Err(Delivery::failed(format!(
                        "{} (auth, after {attempt} attempts)",
                        refusal_detail(&r)
                    ))),
                    _ => Err(Delivery::failed(format!("{} (auth)", refusal_detail(&r)))),
                }
            }
        }
    }

    /// `/message/auth` (VIVO_API.md 1.2): a fresh authToken.
    async fn authenticate(
        &self,
        creds: &VivoCredentials,
        deadline: Instant,
    ) -> Result<String, Refusal> {
        let now_ms = crate::clock::now_ms();
        let body = json!({
            // appId goes as a JSON number: the doc types it int (VIVO_API.md 1.2).
            "appId": creds.app_id,
            "appKey": creds.app_key,
            "timestamp": now_ms,
            "sign": super::sign::sign(creds.app_id, &creds.app_key, now_ms, creds.app_secret.expose()),
        });
        let reply = self.http.post(AUTH, None, &body, deadline).await?;
        reply.auth_token.ok_or(Refusal {
            answer: Answer::Unreadable,
            desc: String::new(),
        })
    }

    /// Checks credentials with a real `/message/auth` call (never a cached
    /// token: the point is to ask vivo now). The token obtained is shared,
    /// so the first push after an upload needs no auth call of its own.
    pub async fn verify_credentials(&self, creds: &VivoCredentials) -> Result<(), ServiceError> {
        let deadline = Instant::now() + self.timeout;
        match self.authenticate(creds, deadline).await {
            Ok(token) => {
                let key = account_key(creds);
                let now = now_secs();
                let account = self.account(&key);
                let mut st = account.lock().await;
                st.generation += 1;
                st.token = Some(Token {
                    value: token.clone(),
                    obtained: now,
                    generation: st.generation,
                });
                self.store
                    .put_vendor_auth(&key, &token, now, now + AUTH_TOKEN_REUSE_SECS)
                    .await?;
                Ok(())
            }
            Err(r) => Err(credentials_error(&r)),
        }
    }
}

/// What a failed auth call means for the uploader.
pub fn credentials_error(r: &Refusal) -> ServiceError {
    let rule = codes::rule(r.answer);
    match r.answer {
        Answer::Code(code @ (10200..=10206)) => ServiceError::InvalidCredentials {
            field: rule.credential_field.map(str::to_string),
            message: format!("{} (vivo {code}: {})", rule.meaning, r.desc),
        },
        Answer::Code(code) if rule.pause == Scope::Auth => ServiceError::RateLimited {
            message: format!("vivo auth rate limit ({code}); try again shortly"),
            retry_after: Duration::from_secs(codes::pause_secs(
                rule.until.expect("auth pauses end"),
                now_secs(),
            )),
        },
        Answer::Code(code) => ServiceError::VendorUnavailable {
            message: format!("vivo auth answered {code}: {}", rule.meaning),
            unavailable: false,
        },
        _ => ServiceError::VendorUnavailable {
            message: "vivo could not be reached to verify the credentials (use ?verify=false to store them unverified)".into(),
            unavailable: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: i64) -> Refusal {
        Refusal {
            answer: Answer::Code(code),
            desc: "x".into(),
        }
    }

    #[test]
    fn refused_credentials_are_422_naming_the_field() {
        let e = credentials_error(&refused(10206));
        assert_eq!(e.status(), 422);
        assert_eq!(e.field(), Some("credentials.app_secret"));
        assert_eq!(
            credentials_error(&refused(10205)).field(),
            Some("credentials.app_id")
        );
        assert_eq!(credentials_error(&refused(10202)).status(), 422);
        assert_eq!(credentials_error(&refused(10204)).status(), 422);
        assert_eq!(credentials_error(&refused(10204)).field(), None);
    }

    #[test]
    fn rate_limits_and_outages_are_not_blamed_on_credentials() {
        assert_eq!(credentials_error(&refused(10093)).status(), 429);
        assert_eq!(credentials_error(&refused(10250)).status(), 429);
        assert_eq!(credentials_error(&refused(10207)).status(), 502);
        let http = Refusal {
            answer: Answer::Http(500),
            desc: String::new(),
        };
        assert_eq!(credentials_error(&http).status(), 502);
    }

    #[test]
    fn accounts_are_per_vivo_app_and_credential_set() {
        let creds = |id: u64, secret: &str| VivoCredentials {
            app_id: id,
            app_key: "k".into(),
            app_secret: crate::domain::Secret::new(secret),
        };
        assert_eq!(account_key(&creds(1, "s")), account_key(&creds(1, "s")));
        assert_ne!(account_key(&creds(1, "s")), account_key(&creds(2, "s")));
        assert_ne!(account_key(&creds(1, "s")), account_key(&creds(1, "t")));
        assert!(!account_key(&creds(1, "secret-value")).contains("secret-value"));
    }
}
