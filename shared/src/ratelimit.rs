//! Per-app push rate limits: what keeps one app's flood of pushes from
//! taking the instances, the vendors' quotas and the table's capacity every
//! other app of the stack needs.
//!
//! A limit is in pushes a second per app, across every instance of the
//! stack: the app's own (`offpush-admin app set --push-rate-limit`), else the
//! deployment's `APP_PUSH_RATE_LIMIT` (template parameter `AppPushRateLimit`;
//! 0, the default, is no limit). A push over it is answered `429
//! rate_limited` with `Retry-After: 1` before anything is read or sent.
//!
//! # How instances share a limit without a write per push
//!
//! Each second of each app is a counter item (`RATE#{app}`, sk = the unix
//! second) of the pushes admitted in it. An instance takes admissions from
//! it in leases: a conditional UpdateItem ADD of `n` that applies only while
//! the second's total stays within the limit. A push spends one admission of
//! its instance's lease; a push that finds none left takes a new lease
//! first, sized to what the instance expects to push in the rest of the
//! second (its rate in this second so far or in the second before, the
//! higher), between 1 and `k` = limit / 100 (at least 1). So:
//!
//! - a second never admits more than the limit across the stack: a lease
//!   that would pass it is refused, and the instance then refuses the app's
//!   pushes until the next second without writing (what is left of the
//!   second is less than a lease: at most `k` - 1 admissions go unused);
//! - a busy instance pays one write per `k` pushes, an idle one one write
//!   per second it pushes in; at the limit an app's counter takes about 100
//!   writes a second plus one refused lease per instance (an item takes
//!   1000);
//! - admissions leased and not spent by the end of their second are lost:
//!   an instance whose pushes slow down mid-second wastes part of a lease,
//!   so an app just under its limit can see a few refusals.
//!
//! When the counter cannot be written in time ([`LEASE_BUDGET`]) the push
//! is admitted (the limit protects the other apps; it must not itself make
//! pushes fail), with a warning.

use crate::domain::AppId;
use crate::store::Store;
use crate::ServiceError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The longest a push waits for a lease.
pub const LEASE_BUDGET: Duration = Duration::from_millis(500);

/// The Retry-After of a push over its app's limit: the next second.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The largest lease: a hundredth of the limit, at least 1.
pub fn batch(limit: u32) -> u64 {
    u64::from(limit / 100).max(1)
}

/// One app's current second as this instance knows it.
#[derive(Debug, Default)]
struct Window {
    second: i64,
    /// Leased and not spent.
    left: u64,
    /// Admitted here in this second.
    used: u64,
    /// Admitted here in the second before.
    before: u64,
    /// The second's limit is all given out.
    full: bool,
}

/// What a push must do first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    Admit,
    Refuse,
    /// Lease `n` admissions of `second` (one of them for this push).
    Lease {
        second: i64,
        n: u64,
    },
}

/// How a lease went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leased {
    Granted,
    /// It would have passed the limit.
    Refused,
    /// No answer in time, or an error: the push is admitted.
    Failed,
}

/// This instance's view of every app's second. One per function instance
/// (in [`crate::Context`]).
#[derive(Debug, Default)]
pub struct PushRateLimiter {
    apps: Mutex<HashMap<AppId, Window>>,
}

impl PushRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AppId, Window>> {
        self.apps.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What one push of `app` at `now_ms` under `limit` (> 0) does first.
    pub fn take(&self, app: &AppId, limit: u32, now_ms: i64) -> Take {
        let second = now_ms.div_euclid(1000);
        let mut apps = self.lock();
        let w = apps.entry(app.clone()).or_insert_with(|| Window {
            second,
            ..Window::default()
        });
        if w.second != second {
            let before = if second == w.second + 1 { w.used } else { 0 };
            *w = Window {
                second,
                before,
                ..Window::default()
            };
        }
        if w.left > 0 {
            w.left -= 1;
            w.used += 1;
            return Take::Admit;
        }
        if w.full {
            return Take::Refuse;
        }
        // This instance's pushes a second, and what is left of this one.
        let ms = now_ms.rem_euclid(1000) as f64;
        let rate = (w.before as f64).max(w.used as f64 * 1000.0 / ms.max(1.0));
        let expected = (rate * (1000.0 - ms) / 1000.0).ceil() as u64;
        let n = expected.clamp(1, batch(limit)).min(u64::from(limit));
        Take::Lease { second, n }
    }

    /// Takes in how a lease went; true when the push is admitted.
    pub fn leased(&self, app: &AppId, second: i64, n: u64, outcome: Leased) -> bool {
        let mut apps = self.lock();
        let current = apps.get_mut(app).filter(|w| w.second == second);
        match (outcome, current) {
            (Leased::Granted, Some(w)) => {
                w.left += n - 1;
                w.used += 1;
                true
            }
            (Leased::Refused, Some(w)) => {
                w.full = true;
                false
            }
            (Leased::Refused, None) => false,
            // A lease of a second gone by: this push is admitted, the rest
            // of it is of no use. A failed lease admits (see the module doc).
            (Leased::Granted | Leased::Failed, _) => true,
        }
    }

    /// Admits one push of `app` under `limit` (0: no limit, nothing is
    /// written), or answers 429 `rate_limited`.
    pub async fn admit(&self, store: &Store, app: &AppId, limit: u32) -> Result<(), ServiceError> {
        if limit == 0 {
            return Ok(());
        }
        let now = crate::clock::now_ms();
        let admitted = self
            .admit_with(app, limit, now, |second, n| async move {
                let lease = store.lease_push_admissions(app, second, n, limit);
                match tokio::time::timeout(LEASE_BUDGET, lease).await {
                    Ok(Ok(true)) => Leased::Granted,
                    Ok(Ok(false)) => Leased::Refused,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %crate::error::chain(&e), app = %app, "the push rate counter could not be written; the push is admitted");
                        Leased::Failed
                    }
                    Err(_) => {
                        tracing::warn!(app = %app, budget_ms = LEASE_BUDGET.as_millis() as u64, "the push rate counter took too long; the push is admitted");
                        Leased::Failed
                    }
                }
            })
            .await;
        if admitted {
            Ok(())
        } else {
            Err(ServiceError::RateLimited {
                message: format!(
                    "app {app} is over its push rate limit of {limit} pushes a second; retry after a second"
                ),
                retry_after: RETRY_AFTER,
            })
        }
    }

    /// [`PushRateLimiter::admit`] with the lease written by `lease(second, n)`.
    pub async fn admit_with<F, Fut>(
        &self,
        app: &AppId,
        limit: u32,
        now_ms: i64,
        mut lease: F,
    ) -> bool
    where
        F: FnMut(i64, u64) -> Fut,
        Fut: std::future::Future<Output = Leased>,
    {
        match self.take(app, limit, now_ms) {
            Take::Admit => true,
            Take::Refuse => false,
            Take::Lease { second, n } => {
                let outcome = lease(second, n).await;
                self.leased(app, second, n, outcome)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str) -> AppId {
        AppId::parse("app_id", id).unwrap()
    }

    /// A stack of `n` instances sharing one counter per app and second, as
    /// the table would: a lease applies only within the limit.
    struct Stack {
        instances: Vec<PushRateLimiter>,
        counters: HashMap<(String, i64), u64>,
        writes: HashMap<(String, i64), u64>,
        /// Every lease fails (the table does not answer).
        broken: bool,
    }

    impl Stack {
        fn new(n: usize) -> Self {
            Stack {
                instances: (0..n).map(|_| PushRateLimiter::new()).collect(),
                counters: HashMap::new(),
                writes: HashMap::new(),
                broken: false,
            }
        }

        fn push(&mut self, i: usize, app: &AppId, limit: u32, now_ms: i64) -> bool {
            let Stack {
                instances,
                counters,
                writes,
                broken,
            } = self;
            let lease = |second: i64, n: u64| {
                let key = (app.to_string(), second);
                *writes.entry(key.clone()).or_default() += 1;
                let outcome = if *broken {
                    Leased::Failed
                } else {
                    let c = counters.entry(key).or_default();
                    if *c + n <= u64::from(limit) {
                        *c += n;
                        Leased::Granted
                    } else {
                        Leased::Refused
                    }
                };
                std::future::ready(outcome)
            };
            futures::executor::block_on(instances[i].admit_with(app, limit, now_ms, lease))
        }

        fn writes(&self) -> u64 {
            self.writes.values().sum()
        }
    }

    #[test]
    fn one_instance_admits_exactly_the_limit_each_second() {
        let a = app("a");
        for limit in [1u32, 20, 250, 1000] {
            let mut stack = Stack::new(1);
            for second in 0..3i64 {
                let admitted = (0..3000)
                    .filter(|i| stack.push(0, &a, limit, second * 1000 + i / 3))
                    .count();
                // All of it, but for what is left when a lease no longer fits.
                let admitted = admitted as u64;
                assert!(
                    admitted <= u64::from(limit) && admitted > u64::from(limit) - batch(limit),
                    "limit {limit}, second {second}: {admitted}"
                );
            }
        }
    }

    #[test]
    fn a_lease_is_at_most_a_hundredth_of_the_limit() {
        assert_eq!(batch(1), 1);
        assert_eq!(batch(199), 1);
        assert_eq!(batch(200), 2);
        assert_eq!(batch(1000), 10);
        assert_eq!(batch(100_000), 1000);
    }

    #[test]
    fn a_busy_instance_writes_once_per_lease_and_an_idle_one_once_a_second() {
        let a = app("a");
        let mut busy = Stack::new(1);
        // 1000 pushes a second for 2 s under a limit of 5000 (leases up to
        // 50): the first second learns the rate, the second leases 50 at a time.
        for i in 0..2000 {
            assert!(busy.push(0, &a, 5000, i));
        }
        assert!(busy.writes[&("a".into(), 0)] <= 25, "{:?}", busy.writes);
        assert_eq!(busy.writes.get(&("a".into(), 1)), Some(&20));
        // One push every 2 s: each writes.
        let mut idle = Stack::new(1);
        for i in 0..10 {
            assert!(idle.push(0, &a, 5000, 10_000 + i * 2000));
        }
        assert_eq!(idle.writes(), 10);
    }

    #[test]
    fn once_a_second_is_full_its_refusals_write_nothing() {
        let a = app("a");
        let mut stack = Stack::new(1);
        let admitted = (0..10_000)
            .filter(|i| stack.push(0, &a, 10, i / 20))
            .count();
        assert_eq!(admitted, 10);
        // Leases of 1 (limit 10): ten granted, one refused; then nothing.
        assert_eq!(stack.writes(), 11);
    }

    #[test]
    fn a_lease_that_cannot_be_written_admits() {
        let a = app("a");
        let mut stack = Stack::new(1);
        stack.broken = true;
        assert!((0..50).all(|i| stack.push(0, &a, 2, i)));
    }

    /// `offered` pushes a second for `seconds` s from the flood app over
    /// `instances` instances, 20 a second from a quiet app: (admitted per
    /// second of the flood, quiet pushes admitted, the most writes one
    /// counter item took in a second).
    fn flood(limit: u32, instances: usize, offered: i64, seconds: i64) -> (Vec<u64>, usize, u64) {
        let flood = app("flood");
        let quiet = app("quiet");
        let mut stack = Stack::new(instances);
        let mut per_second = Vec::new();
        let mut quiet_admitted = 0;
        for second in 0..seconds {
            let mut admitted = 0u64;
            for j in 0..offered {
                let at = second * 1000 + j * 1000 / offered;
                let i = (j as usize * 7919) % instances;
                if stack.push(i, &flood, limit, at) {
                    admitted += 1;
                }
                if j % (offered / 20) == 0 && stack.push(i, &quiet, limit, at) {
                    quiet_admitted += 1;
                }
            }
            per_second.push(admitted);
        }
        let hottest = stack.writes.values().copied().max().unwrap_or(0);
        (per_second, quiet_admitted, hottest)
    }

    #[test]
    fn a_flood_over_many_instances_gets_its_limit_and_no_more_and_other_apps_pass() {
        let limit = 1000u32;
        let instances = 200usize;
        // 10 000 pushes a second for 10 s over 200 instances (50 a second each).
        let (per_second, quiet, hottest) = flood(limit, instances, 10_000, 10);
        assert_eq!(quiet, 200, "the quiet app lost pushes");
        // Never more than the limit; less only by leases left unspent.
        for (s, &admitted) in per_second.iter().enumerate() {
            assert!(
                admitted <= u64::from(limit) && admitted >= u64::from(limit) * 9 / 10,
                "second {s}: {admitted} admitted ({per_second:?})"
            );
        }
        // No counter item near an item's 1000 writes a second.
        assert!(hottest < 500, "{hottest} writes in a second on one item");
    }

    #[test]
    fn an_app_under_its_limit_is_not_touched() {
        let (per_second, quiet, hottest) = flood(1000, 50, 900, 5);
        assert_eq!(quiet, 100);
        assert!(per_second.iter().all(|&n| n == 900), "{per_second:?}");
        assert!(hottest < 500, "{hottest} writes in a second on one item");
    }
}
