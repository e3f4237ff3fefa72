//! The binding rules, in one place: which bindings a push reaches ("live,
//! certificate present, newest first") and every change to a user's
//! devices (report, device logout, admin logout, dead-token cleanup) as one
//! read-modify-commit loop over the user's record.
//!
//! Each change reads the records it touches, computes the new state, and
//! commits it in one transaction whose conditions are the invariants (see
//! [`crate::store::bindings::BindingWrite`]). A lost race (a failed
//! condition, or an in-flight transaction on the same item) re-reads and
//! tries again with jittered backoff, for a bounded time.

use crate::clock::now_ms;
use crate::domain::binding::{device_key, token_device_key, DeviceSelector, EndReason, Report};
use crate::domain::{App, AppId, Binding, CertificateId, PushToken, UserBindings, UserId};
use crate::store::bindings::BindingWrite;
use crate::{Context, ServiceError};
use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

/// How long a change keeps retrying lost races before answering 409.
/// Long enough that an admin kick outlasts any burst of reports.
const RETRY_FOR: Duration = Duration::from_secs(8);

pub enum ReportOutcome {
    Bound {
        binding: Binding,
        /// Devices whose bindings this report ended (kick-out beyond the limit).
        kicked: Vec<Binding>,
    },
    Removed,
}

/// A user's bindings that a push reaches: live, through a certificate that
/// still exists, newest report first.
pub fn reachable<'a>(
    state: &'a UserBindings,
    certs: &'a HashSet<CertificateId>,
    now_secs: i64,
) -> Vec<&'a Binding> {
    let mut out: Vec<&Binding> = state
        .live(now_secs)
        .map(|(_, b)| b)
        .filter(|b| certs.contains(&b.certificate_id))
        .collect();
    out.sort_by_key(|b| std::cmp::Reverse(b.reported_at_ms));
    out
}

async fn backoff(attempt: u32) {
    use rand::Rng;
    let cap = 5u64 << attempt.min(6);
    let ms = rand::thread_rng().gen_range(1..=cap);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// What one round of a change decided.
pub enum Step<T> {
    /// Commit these writes; on success the change answers `T`.
    Commit(Vec<BindingWrite>, T),
    /// Answer `T` without writing.
    Done(T),
}

/// The read-modify-commit loop over one user's record: `round` gets the
/// freshly read (and pruned) record and the time, and says what to write.
pub async fn change<T, F, Fut>(
    ctx: &Context,
    app: &AppId,
    user: &UserId,
    mut round: F,
) -> Result<T, ServiceError>
where
    F: FnMut(UserBindings, i64) -> Fut,
    Fut: Future<Output = Result<Step<T>, ServiceError>>,
{
    let give_up = Instant::now() + RETRY_FOR;
    let mut attempt = 0;
    loop {
        if attempt > 0 {
            if Instant::now() >= give_up {
                return Err(ServiceError::Conflict(
                    "too many concurrent changes to this user's devices; retry".into(),
                ));
            }
            backoff(attempt).await;
        }
        attempt += 1;
        let mut me = ctx.store.get_user_bindings(app, user).await?;
        let now = now_ms();
        me.prune(now);
        match round(me, now).await? {
            Step::Done(t) => return Ok(t),
            Step::Commit(writes, t) => {
                if ctx.store.commit_bindings(app, writes).await? {
                    return Ok(t);
                }
            }
        }
    }
}

fn delete_owner(user: &UserId, b: &Binding) -> BindingWrite {
    BindingWrite::DeleteOwner {
        cert: b.certificate_id,
        token: b.token.clone(),
        user: user.clone(),
    }
}

/// A device reports its token after login. `started_ms`: when the request
/// arrived; a logout at or after it wins over this report.
pub async fn report(
    ctx: &Context,
    app: &App,
    user: &UserId,
    report: Report,
    started_ms: i64,
) -> Result<ReportOutcome, ServiceError> {
    if !ctx
        .store
        .certificate_exists(&app.id, report.certificate_id)
        .await?
    {
        return Err(ServiceError::NotFound(format!(
            "certificate {} not found",
            report.certificate_id
        )));
    }
    let Some(token) = report.token else {
        // An empty token disables offline push for this device: a device
        // logout, so it needs to say which device.
        let device = report
            .device_id
            .ok_or_else(|| ServiceError::invalid("device_id", "is required when token is empty"))?;
        logout_device(ctx, app, user, DeviceSelector::DeviceId(device)).await?;
        return Ok(ReportOutcome::Removed);
    };
    let cert = report.certificate_id;
    let key = device_key(report.device_id.as_ref(), &token);
    let ttl_secs = i64::from(app.settings.ttl_days(ctx.default_binding_ttl_days)) * 86_400;
    let max_devices = app.settings.max_devices_per_user as usize;
    let outcome = change(ctx, &app.id, user, |mut me, now| {
        let (token, key, device_id) = (token.clone(), key.clone(), report.device_id.clone());
        async move {
            if me.logged_out_since(&key, started_ms) {
                return Err(ServiceError::Conflict(
                    "this device was logged out while the report was in flight; report again after login".into(),
                ));
            }
            let owner = ctx.store.get_token_owner(&app.id, cert, &token).await?;
            let now_secs = now / 1000;
            let mut writes = Vec::new();
            // The token moves: its previous owner's binding ends.
            if let Some(o) = owner.as_ref().filter(|o| o.user != *user) {
                let mut other = ctx.store.get_user_bindings(&app.id, &o.user).await?;
                other.prune(now);
                let moved: Vec<Binding> = other
                    .devices
                    .values()
                    .filter(|b| b.certificate_id == cert && b.token == token)
                    .cloned()
                    .collect();
                for b in &moved {
                    other.record_end(b, EndReason::TokenMoved, now);
                }
                other
                    .devices
                    .retain(|_, b| !(b.certificate_id == cert && b.token == token));
                writes.push(BindingWrite::PutUser {
                    user: o.user.clone(),
                    state: other,
                });
            }
            // The same token under another key of this user (it was first
            // reported without a device_id, say) is the same device.
            me.devices
                .retain(|k, b| *k == key || !(b.certificate_id == cert && b.token == token));
            // If this device had another token, that token's ownership ends.
            if let Some(old) = me.devices.get(&key) {
                if old.token != token || old.certificate_id != cert {
                    writes.push(delete_owner(user, old));
                }
            }
            let binding = Binding {
                certificate_id: cert,
                token: token.clone(),
                device_id,
                reported_at_ms: now,
                expires_at: now_secs + ttl_secs,
            };
            me.devices.insert(key.clone(), binding.clone());
            // Login on another device: past the limit, the oldest bindings end.
            let mut kicked = Vec::new();
            while me.devices.len() > max_devices {
                let oldest = me
                    .devices
                    .iter()
                    .filter(|(k, _)| **k != key)
                    .min_by_key(|(_, b)| b.reported_at_ms)
                    .map(|(k, _)| k.clone())
                    .expect("more than one device");
                let gone = me.devices.remove(&oldest).expect("present");
                me.record_end(
                    &gone,
                    EndReason::Kicked {
                        by_device: binding.device_id.clone(),
                    },
                    now,
                );
                writes.push(delete_owner(user, &gone));
                kicked.push(gone);
            }
            writes.push(BindingWrite::PutUser {
                user: user.clone(),
                state: me,
            });
            writes.push(BindingWrite::PutOwner {
                cert,
                token: token.clone(),
                user: user.clone(),
                device_key: key.clone(),
                expires_at: binding.expires_at,
                seen_version: owner.as_ref().map(|o| o.version),
            });
            let moved_from = owner
                .filter(|o| o.user != *user && o.expires_at > now_secs)
                .map(|o| o.user);
            Ok(Step::Commit(writes, (binding, kicked, moved_from)))
        }
    })
    .await?;
    let (binding, kicked, moved_from) = outcome;
    if let Some(from) = moved_from {
        tracing::info!(app = %app.id, user = %user, from = %from, token = %token, "token moved to another user");
    }
    for k in &kicked {
        tracing::info!(app = %app.id, user = %user, token = %k.token, "binding ended: device limit");
    }
    Ok(ReportOutcome::Bound { binding, kicked })
}

/// Ends the binding(s) of one device, and marks the device logged out so a
/// report that started before this call cannot bring it back.
pub async fn logout_device(
    ctx: &Context,
    app: &App,
    user: &UserId,
    which: DeviceSelector,
) -> Result<(), ServiceError> {
    change(ctx, &app.id, user, |mut me, now| {
        let keys: Vec<String> = match &which {
            DeviceSelector::DeviceId(d) => vec![format!("d:{}", d.as_str())],
            DeviceSelector::Token(t) => {
                let mut keys: Vec<String> = me
                    .devices
                    .iter()
                    .filter(|(_, b)| b.token == *t)
                    .map(|(k, _)| k.clone())
                    .collect();
                keys.push(token_device_key(t));
                keys.sort();
                keys.dedup();
                keys
            }
        };
        let mut writes = Vec::new();
        for k in &keys {
            if let Some(b) = me.devices.remove(k) {
                me.record_end(&b, EndReason::LoggedOutByDevice, now);
                writes.push(delete_owner(user, &b));
            }
            me.mark_device_logout(k, now);
        }
        writes.push(BindingWrite::PutUser {
            user: user.clone(),
            state: me,
        });
        std::future::ready(Ok(Step::Commit(writes, ())))
    })
    .await?;
    tracing::info!(app = %app.id, user = %user, "device logged out");
    Ok(())
}

/// Logs the user out everywhere (admin kick): every binding ends at once.
pub async fn logout_user(ctx: &Context, app: &App, user: &UserId) -> Result<usize, ServiceError> {
    let ended = change(ctx, &app.id, user, |mut me, now| {
        let ended = std::mem::take(&mut me.devices);
        for b in ended.values() {
            me.record_end(b, EndReason::LoggedOutByAdmin, now);
        }
        me.logged_out_at_ms = Some(now);
        let mut writes: Vec<BindingWrite> = ended.values().map(|b| delete_owner(user, b)).collect();
        writes.push(BindingWrite::PutUser {
            user: user.clone(),
            state: me,
        });
        std::future::ready(Ok(Step::Commit(writes, ended.len())))
    })
    .await?;
    tracing::info!(app = %app.id, user = %user, ended, "user logged out everywhere");
    Ok(ended)
}

/// The user's bindings a push would reach.
pub async fn list_devices(
    ctx: &Context,
    app: &App,
    user: &UserId,
) -> Result<Vec<Binding>, ServiceError> {
    let me = ctx.store.get_user_bindings(&app.id, user).await?;
    let certs: HashSet<CertificateId> = ctx
        .store
        .list_certificates(&app.id)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    Ok(reachable(&me, &certs, now_ms() / 1000)
        .into_iter()
        .cloned()
        .collect())
}

/// A token the vendor declared dead during a push.
pub struct DeadToken {
    pub cert: CertificateId,
    pub token: PushToken,
}

/// Ends the bindings of `dead` tokens of `user`, but only those not
/// reported again since `push_started_ms`: a fresh report (a reinstall that
/// got the same regId, say) wins over the verdict on the older one.
pub async fn remove_dead(
    ctx: &Context,
    app: &AppId,
    user: &UserId,
    dead: &[DeadToken],
    push_started_ms: i64,
) -> Result<usize, ServiceError> {
    change(ctx, app, user, |mut me, now| {
        let mut writes = Vec::new();
        let mut gone = Vec::new();
        me.devices.retain(|_, b| {
            let verdict = dead
                .iter()
                .any(|d| b.certificate_id == d.cert && b.token == d.token);
            let stale = verdict && b.reported_at_ms <= push_started_ms;
            if stale {
                gone.push(b.clone());
            }
            !stale
        });
        for b in &gone {
            me.record_end(b, EndReason::TokenDead, now);
            writes.push(delete_owner(user, b));
        }
        if writes.is_empty() {
            return std::future::ready(Ok(Step::Done(0)));
        }
        writes.push(BindingWrite::PutUser {
            user: user.clone(),
            state: me,
        });
        std::future::ready(Ok(Step::Commit(writes, gone.len())))
    })
    .await
}
