//! The call budget and the retry session of one certificate's share of a
//! push: every vendor call checks the account's pauses, takes a slot of the
//! push's in-flight budget no later than the deadline, carries one request
//! id on every attempt, is retried with backoff on passing faults,
//! re-authenticates once when the vendor says its token went stale, and
//! ends by the deadline. A call that may have been written and then got no
//! answer is retried only for vendors that deduplicate on the request id;
//! elsewhere its targets are answered `failed` with a detail saying the
//! outcome is unknown (a device must not show a push twice).

use super::account::{Accounts, Authenticator, TokenPolicy};
use super::http::NoAnswer;
use super::rules::{pause_secs, Rule, Scope};
use crate::clock::now_secs;
use crate::domain::Delivery;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Attempts of one call when the vendor is unreachable or answers 5xx.
pub const MAX_ATTEMPTS: u32 = 3;
const BACKOFF_BASE_MS: u64 = 100;

/// Detail of a call that never started.
pub fn deadline_passed(vendor: &str) -> String {
    format!("push deadline passed before the {vendor} call could start")
}

/// Exponential backoff with full jitter before retry `attempt`; None when
/// it would not leave room for the call before `deadline`.
pub fn backoff_before(attempt: u32, deadline: Instant) -> Option<Duration> {
    use rand::Rng;
    let cap = BACKOFF_BASE_MS << attempt.min(6);
    let wait = Duration::from_millis(rand::thread_rng().gen_range(cap / 2..=cap));
    let remaining = deadline.checked_duration_since(Instant::now())?;
    (remaining > wait + Duration::from_millis(200)).then_some(wait)
}

/// Like [`backoff_before`], but at least `at_least` (a vendor's
/// Retry-After), still None when that does not fit before `deadline`.
pub fn backoff_at_least(attempt: u32, at_least: Duration, deadline: Instant) -> Option<Duration> {
    let wait = backoff_before(attempt, deadline)?.max(at_least);
    let remaining = deadline.checked_duration_since(Instant::now())?;
    (remaining > wait + Duration::from_millis(200)).then_some(wait)
}

/// A request id for one call: derived from the push and what the call
/// sends, so a retry, a repeat of the push or a takeover of a dead attempt
/// sends the same id again. 32 hex characters.
pub fn request_id(push_key: &str, endpoint: &str, cert: u64, targets: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in [push_key, endpoint, &cert.to_string()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for t in targets {
        h.update(t.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())[..32].to_string()
}

/// The push's budget of vendor calls: its deadline, and the bound on
/// calls in flight shared by every certificate's share of the push. A
/// call holds its slot for as long as it is in flight.
pub struct Budget {
    deadline: Instant,
    limit: Semaphore,
}

impl Budget {
    pub fn new(deadline: Instant, in_flight: usize) -> Self {
        Budget {
            deadline,
            limit: Semaphore::new(in_flight.max(1)),
        }
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Time left, None once the deadline has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// A slot for one call, or None when none frees before the deadline
    /// (then no call may start).
    pub async fn slot(&self) -> Option<SemaphorePermit<'_>> {
        let permit = tokio::time::timeout_at(self.deadline.into(), self.limit.acquire())
            .await
            .ok()?
            .ok()?;
        self.remaining()?;
        Some(permit)
    }

    /// Slots free now (for tests and benchmarks).
    pub fn available(&self) -> usize {
        self.limit.available_permits()
    }
}

/// A vendor answer that is not a success, classified by the vendor's table.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub rule: Rule,
    /// The vendor's numeric code, for pauses.
    pub code: Option<i64>,
    /// The vendor's code as the delivery carries it (`vendor_code`).
    pub vendor_code: Option<String>,
    /// `xiaomi 20301: meaning (vendor text)`: never a secret.
    pub detail: String,
    /// Seconds the vendor asked to wait (Retry-After), when it said.
    pub retry_after: Option<u64>,
    /// No answer came, and the request may have been written.
    pub maybe_written: bool,
}

impl Refusal {
    pub fn new(rule: Rule, detail: impl Into<String>) -> Self {
        Refusal {
            rule,
            code: None,
            vendor_code: None,
            detail: detail.into(),
            retry_after: None,
            maybe_written: false,
        }
    }

    /// A vendor code: the pause code and the delivery's `vendor_code`.
    pub fn code(mut self, code: i64) -> Self {
        self.code = Some(code);
        self.vendor_code = Some(code.to_string());
        self
    }

    pub fn vendor_code(mut self, code: impl Into<String>) -> Self {
        self.vendor_code = Some(code.into());
        self
    }

    /// The refusal of a call that got no answer (`rule`: the vendor's row
    /// for silence).
    pub fn no_answer(rule: Rule, vendor: &str, n: &NoAnswer) -> Self {
        Refusal {
            maybe_written: n.maybe_written(),
            vendor_code: Some("no_answer".into()),
            ..Refusal::new(rule, format!("{} ({vendor}: {})", rule.meaning, n.why()))
        }
    }

    /// The delivery of every target of the refused call.
    pub fn delivery(&self) -> Delivery {
        let mut d = Delivery::new(self.rule.status, Some(self.detail.clone()));
        d.vendor_code = self.vendor_code.clone();
        d.retry_after_s = self.retry_after;
        d
    }
}

/// How a call failed: the outcome of its targets, and which scope the
/// vendor paused if it did.
pub struct Failure {
    pub delivery: Delivery,
    pub scope: Scope,
}

impl From<Delivery> for Failure {
    fn from(delivery: Delivery) -> Self {
        Failure {
            delivery,
            scope: Scope::None,
        }
    }
}

/// The auth side of a session: the account's authenticator and policy.
pub struct SessionAuth<'a> {
    pub auth: &'a dyn Authenticator,
    pub policy: TokenPolicy,
}

/// One certificate's share of a push, as its vendor calls go.
pub struct Session<'a> {
    pub accounts: &'a Accounts,
    /// The vendor account the calls belong to (its table partition).
    pub account: String,
    /// None: the vendor needs no token (a static key on every call).
    pub auth: Option<SessionAuth<'a>>,
    pub budget: &'a Budget,
    /// The vendor's message class of this push (for class-scoped pauses).
    pub class: &'static str,
    /// The vendor deduplicates calls on their request id, so a call that
    /// may have been written can be sent again.
    pub dedupes: bool,
    calls: AtomicUsize,
    /// The vendor's own bound on this share's calls in flight
    /// ([`crate::vendor::Limits::in_flight`]), inside the push's budget.
    own: Semaphore,
}

impl<'a> Session<'a> {
    pub fn new(
        accounts: &'a Accounts,
        account: String,
        auth: Option<SessionAuth<'a>>,
        budget: &'a Budget,
        class: &'static str,
        dedupes: bool,
        in_flight: usize,
    ) -> Self {
        Session {
            accounts,
            account,
            auth,
            budget,
            class,
            dedupes,
            calls: AtomicUsize::new(0),
            own: Semaphore::new(in_flight.max(1)),
        }
    }

    /// Vendor HTTP calls made so far (auth included).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// The pause scope name of `scope` for a call to `endpoint`.
    pub fn scope_name(&self, scope: Scope, endpoint: &str) -> String {
        match scope {
            Scope::App | Scope::None => "app".into(),
            Scope::Class => format!("class:{}", self.class),
            Scope::Endpoint => format!("endpoint:{endpoint}"),
            Scope::Auth => "auth".into(),
        }
    }

    /// The failure of a call to `endpoint` while the vendor pauses one of
    /// its scopes (scope `Endpoint` when the paused scope is the endpoint
    /// itself, so that a caller may fall back to another endpoint).
    pub async fn paused_failure(&self, endpoint: &str) -> Option<Failure> {
        let names = [
            self.scope_name(Scope::App, endpoint),
            self.scope_name(Scope::Class, endpoint),
            self.scope_name(Scope::Endpoint, endpoint),
        ];
        let scopes: Vec<&str> = names.iter().map(String::as_str).collect();
        let p = self.accounts.paused(&self.account, &scopes).await?;
        let scope = if p.scope == names[2] {
            Scope::Endpoint
        } else {
            Scope::None
        };
        Some(Failure {
            delivery: self.accounts.paused_delivery(&p, now_secs()),
            scope,
        })
    }

    /// One vendor call to `endpoint` under the session's rules. `attempt`
    /// makes the call with the account's token (None for vendors without
    /// one) and classifies the answer.
    pub async fn call<R, F, Fut>(&self, endpoint: &str, mut attempt: F) -> Result<R, Failure>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<R, Refusal>>,
    {
        let mut tries = 0u32;
        let mut refused_token = None;
        let mut reauthed = false;
        loop {
            if let Some(f) = self.paused_failure(endpoint).await {
                return Err(f);
            }
            let token = match &self.auth {
                Some(a) => Some(
                    self.accounts
                        .token(
                            &self.account,
                            a.auth,
                            &a.policy,
                            refused_token.take(),
                            self.budget.deadline(),
                            &self.calls,
                        )
                        .await?,
                ),
                None => None,
            };
            let own = tokio::time::timeout_at(self.budget.deadline().into(), self.own.acquire())
                .await
                .ok()
                .and_then(Result::ok);
            let Some(own) = own else {
                return Err(Delivery::failed(deadline_passed(self.accounts.vendor())).into());
            };
            let Some(permit) = self.budget.slot().await else {
                return Err(Delivery::failed(deadline_passed(self.accounts.vendor())).into());
            };
            // Checked again once a slot is ours: calls queued behind one
            // that the vendor paused must not go out.
            if let Some(f) = self.paused_failure(endpoint).await {
                return Err(f);
            }
            self.calls.fetch_add(1, Ordering::Relaxed);
            let refusal = match attempt(token.as_ref().map(|t| t.value.clone())).await {
                Ok(reply) => return Ok(reply),
                Err(r) => r,
            };
            drop(permit);
            drop(own);
            let rule = refusal.rule;
            if rule.reauth {
                if reauthed || token.is_none() {
                    let mut d = refusal.delivery();
                    d.detail = Some(format!("{} again after a refresh", refusal.detail));
                    return Err(d.into());
                }
                reauthed = true;
                refused_token = token.map(|t| t.generation);
                continue;
            }
            if let (Some(until), Some(code)) = (rule.until, refusal.code) {
                let scope = self.scope_name(rule.pause, endpoint);
                let secs = pause_secs(until, now_secs());
                let p = self.accounts.pause(&self.account, &scope, code, secs).await;
                let mut delivery = self.accounts.paused_delivery(&p, now_secs());
                delivery.detail =
                    Some(format!("{}; paused ({scope}) for {secs} s", refusal.detail));
                return Err(Failure {
                    delivery,
                    scope: rule.pause,
                });
            }
            tries += 1;
            if rule.retry && refusal.maybe_written && !self.dedupes {
                let mut d = refusal.delivery();
                d.detail = Some(format!(
                    "{}: the outcome is unknown (the request may have reached {}, which does not deduplicate it, so it was not sent again)",
                    refusal.detail,
                    self.accounts.vendor()
                ));
                return Err(d.into());
            }
            if rule.retry && tries < MAX_ATTEMPTS {
                let wait = match refusal.retry_after {
                    Some(s) => {
                        backoff_at_least(tries, Duration::from_secs(s), self.budget.deadline())
                    }
                    None => backoff_before(tries, self.budget.deadline()),
                };
                if let Some(wait) = wait {
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            let mut d = refusal.delivery();
            if rule.retry {
                d.detail = Some(format!("{} (after {tries} attempts)", refusal.detail));
            }
            return Err(d.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_stable_per_call_and_distinct_across_calls() {
        let a = request_id("app/req-1", "/send", 1, &["r1"]);
        assert_eq!(a, request_id("app/req-1", "/send", 1, &["r1"]));
        assert_eq!(a.len(), 32);
        assert_ne!(a, request_id("app/req-1", "/send", 1, &["r2"]));
        assert_ne!(a, request_id("app/req-2", "/send", 1, &["r1"]));
        assert_ne!(a, request_id("app/req-1", "/send", 2, &["r1"]));
        assert_ne!(
            request_id("k", "/a", 1, &["x", "y"]),
            request_id("k", "/b", 1, &["x", "y"])
        );
        assert_ne!(
            request_id("k", "/a", 1, &["ab", "c"]),
            request_id("k", "/a", 1, &["a", "bc"])
        );
    }

    #[tokio::test]
    async fn no_slot_is_given_after_the_deadline() {
        let budget = Budget::new(Instant::now() + Duration::from_millis(50), 1);
        let held = budget.slot().await.expect("a slot before the deadline");
        assert_eq!(budget.available(), 0);
        // The only slot is held: the next waits, and gets none by the deadline.
        assert!(budget.slot().await.is_none());
        drop(held);
        // Free again, but the deadline has passed.
        assert!(budget.slot().await.is_none());
    }

    #[test]
    fn backoff_never_overruns_the_deadline() {
        let soon = Instant::now() + Duration::from_millis(100);
        assert!(backoff_before(1, soon).is_none());
        let later = Instant::now() + Duration::from_secs(10);
        let w = backoff_before(1, later).unwrap();
        assert!(w <= Duration::from_millis(200));
        let w = backoff_at_least(1, Duration::from_secs(2), later).unwrap();
        assert!(w >= Duration::from_secs(2));
        assert!(backoff_at_least(1, Duration::from_secs(20), later).is_none());
    }
}
