//! Binding use cases: report, device logout, user logout, listing.
//!
//! Each change reads the records it touches, computes the new state, and
//! commits it in one transaction whose conditions are the invariants (see
//! `offpush::store::bindings::BindingWrite`). A lost race re-reads and tries
//! again, a bounded number of times.

use offpush::domain::binding::{device_key, token_device_key};
use offpush::domain::{App, Binding, CertificateId, DeviceId, PushToken, UserBindings, UserId};
use offpush::store::bindings::BindingWrite;
use offpush::{Context, ServiceError};
use std::time::Duration;

const MAX_ATTEMPTS: u32 = 10;

pub use offpush::clock::now_ms;

/// A parsed report body.
pub struct Report {
    pub certificate_id: CertificateId,
    /// None: the empty token, "disable offline push for this device".
    pub token: Option<PushToken>,
    pub device_id: Option<DeviceId>,
}

pub enum ReportOutcome {
    Bound {
        binding: Binding,
        /// Devices whose bindings this report ended (kick-out beyond the limit).
        kicked: Vec<Binding>,
    },
    Removed,
}

/// Which device a logout names.
pub enum DeviceSelector {
    DeviceId(DeviceId),
    Token(PushToken),
}

async fn backoff(attempt: u32) {
    use rand::Rng;
    let cap = 5u64 << attempt.min(5);
    let ms = rand::thread_rng().gen_range(1..=cap);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

fn contention() -> ServiceError {
    ServiceError::Conflict("too many concurrent changes to this user's devices; retry".into())
}

pub async fn report(
    ctx: &Context,
    app: &App,
    user: &UserId,
    report: Report,
    started_ms: i64,
) -> Result<ReportOutcome, ServiceError> {
    if ctx
        .store
        .get_certificate(&app.id, report.certificate_id)
        .await?
        .is_none()
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
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            backoff(attempt).await;
        }
        let mut me = ctx.store.get_user_bindings(&app.id, user).await?;
        if me.logged_out_since(&key, started_ms) {
            return Err(ServiceError::Conflict(
                "this device was logged out while the report was in flight; report again after login".into(),
            ));
        }
        let owner = ctx.store.get_token_owner(&app.id, cert, &token).await?;
        let now = now_ms();
        let now_secs = now / 1000;
        me.prune(now);
        let mut writes = Vec::new();

        // The token moves: its previous owner's binding ends.
        if let Some(o) = owner.as_ref().filter(|o| o.user != *user) {
            let mut other = ctx.store.get_user_bindings(&app.id, &o.user).await?;
            other.prune(now);
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
            .retain(|k, b| k == &key || !(b.certificate_id == cert && b.token == token));
        // If this device had another token, that token's ownership ends.
        if let Some(old) = me.devices.get(&key) {
            if old.token != token || old.certificate_id != cert {
                writes.push(BindingWrite::DeleteOwner {
                    cert: old.certificate_id,
                    token: old.token.clone(),
                    user: user.clone(),
                });
            }
        }
        let binding = Binding {
            certificate_id: cert,
            token: token.clone(),
            device_id: report.device_id.clone(),
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
            writes.push(BindingWrite::DeleteOwner {
                cert: gone.certificate_id,
                token: gone.token.clone(),
                user: user.clone(),
            });
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
        if ctx.store.commit_bindings(&app.id, writes).await? {
            if let Some(o) = owner.filter(|o| o.user != *user && o.expires_at > now_secs) {
                tracing::info!(app = %app.id, user = %user, from = %o.user, token = %token, "token moved to another user");
            }
            for k in &kicked {
                tracing::info!(app = %app.id, user = %user, token = %k.token, "binding ended: device limit");
            }
            return Ok(ReportOutcome::Bound { binding, kicked });
        }
    }
    Err(contention())
}

/// Ends the binding(s) of one device, and marks the device logged out so a
/// report that started before this call cannot bring it back.
pub async fn logout_device(
    ctx: &Context,
    app: &App,
    user: &UserId,
    which: DeviceSelector,
) -> Result<(), ServiceError> {
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            backoff(attempt).await;
        }
        let mut me = ctx.store.get_user_bindings(&app.id, user).await?;
        let now = now_ms();
        me.prune(now);
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
                writes.push(BindingWrite::DeleteOwner {
                    cert: b.certificate_id,
                    token: b.token,
                    user: user.clone(),
                });
            }
            me.device_logouts.insert(k.clone(), now);
        }
        writes.push(BindingWrite::PutUser {
            user: user.clone(),
            state: me,
        });
        if ctx.store.commit_bindings(&app.id, writes).await? {
            tracing::info!(app = %app.id, user = %user, "device logged out");
            return Ok(());
        }
    }
    Err(contention())
}

/// Logs the user out everywhere (admin kick): every binding ends at once.
pub async fn logout_user(ctx: &Context, app: &App, user: &UserId) -> Result<usize, ServiceError> {
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            backoff(attempt).await;
        }
        let mut me: UserBindings = ctx.store.get_user_bindings(&app.id, user).await?;
        let now = now_ms();
        me.prune(now);
        let ended = std::mem::take(&mut me.devices);
        me.logged_out_at_ms = Some(now);
        let mut writes: Vec<BindingWrite> = ended
            .values()
            .map(|b| BindingWrite::DeleteOwner {
                cert: b.certificate_id,
                token: b.token.clone(),
                user: user.clone(),
            })
            .collect();
        writes.push(BindingWrite::PutUser {
            user: user.clone(),
            state: me,
        });
        if ctx.store.commit_bindings(&app.id, writes).await? {
            tracing::info!(app = %app.id, user = %user, ended = ended.len(), "user logged out everywhere");
            return Ok(ended.len());
        }
    }
    Err(contention())
}

/// The user's live bindings whose certificate still exists.
pub async fn list_devices(
    ctx: &Context,
    app: &App,
    user: &UserId,
) -> Result<Vec<Binding>, ServiceError> {
    let me = ctx.store.get_user_bindings(&app.id, user).await?;
    let now_secs = now_ms() / 1000;
    let certs: Vec<CertificateId> = ctx
        .store
        .list_certificates(&app.id)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut out: Vec<Binding> = me
        .live(now_secs)
        .filter(|(_, b)| certs.contains(&b.certificate_id))
        .map(|(_, b)| b.clone())
        .collect();
    out.sort_by_key(|b| std::cmp::Reverse(b.reported_at_ms));
    Ok(out)
}
