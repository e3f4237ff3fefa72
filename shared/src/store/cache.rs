//! Hot reads kept per instance: the app item every request authenticates
//! with, and the certificate set every push plans with. Bounded in time,
//! and the certificate set checked against a small version item every
//! certificate write bumps in the same request, so "a saved certificate
//! takes effect for the very next push" (API.md) still holds while the
//! set itself is read once per change rather than once per push.

use crate::domain::{App, AppId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::certificates::CertificateSet;

/// How long an app item (or its absence) is served from memory. A change
/// to an app (its settings, a rotated signing secret) reaches every
/// instance within this time; a token that fails its signature against
/// a cached secret older than [`APP_REREAD_AFTER`] re-reads the app once,
/// so a token signed with a freshly rotated secret is accepted at once.
pub const APP_CACHE_TTL: Duration = Duration::from_secs(10);
/// See [`APP_CACHE_TTL`]: bounds the re-reads a flood of bad tokens can
/// cause to one per app, instance and second.
pub const APP_REREAD_AFTER: Duration = Duration::from_secs(1);
/// The longest a certificate set is served without a fresh Query even
/// when its version is unchanged (deleted certificates' tombstones age).
pub const CERT_CACHE_MAX_AGE: Duration = Duration::from_secs(300);
/// Entries kept per map: apps beyond it evict the oldest entry.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub struct Cache {
    apps: Mutex<HashMap<AppId, (Option<App>, Instant)>>,
    certs: Mutex<HashMap<AppId, (u64, CertificateSet, Instant)>>,
}

fn bounded<V>(map: &mut HashMap<AppId, V>, age: impl Fn(&V) -> Instant) {
    if map.len() >= MAX_ENTRIES {
        if let Some(oldest) = map
            .iter()
            .min_by_key(|(_, v)| age(v))
            .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
    }
}

impl Cache {
    /// The cached app (Some(None): known not to exist) and its age.
    pub(crate) fn app(&self, id: &AppId) -> Option<(Option<App>, Duration)> {
        let apps = self.apps.lock().unwrap_or_else(|p| p.into_inner());
        apps.get(id)
            .map(|(app, at)| (app.clone(), at.elapsed()))
            .filter(|(_, age)| *age < APP_CACHE_TTL)
    }

    pub(crate) fn put_app(&self, id: &AppId, app: Option<App>) {
        let mut apps = self.apps.lock().unwrap_or_else(|p| p.into_inner());
        bounded(&mut apps, |(_, at)| *at);
        apps.insert(id.clone(), (app, Instant::now()));
    }

    pub(crate) fn forget_app(&self, id: &AppId) {
        let mut apps = self.apps.lock().unwrap_or_else(|p| p.into_inner());
        apps.remove(id);
    }

    /// The cached certificate set when it is of `version` and young enough.
    pub(crate) fn certs(&self, id: &AppId, version: u64) -> Option<CertificateSet> {
        let certs = self.certs.lock().unwrap_or_else(|p| p.into_inner());
        certs
            .get(id)
            .filter(|(v, _, at)| *v == version && at.elapsed() < CERT_CACHE_MAX_AGE)
            .map(|(_, set, _)| set.clone())
    }

    pub(crate) fn put_certs(&self, id: &AppId, version: u64, set: CertificateSet) {
        let mut certs = self.certs.lock().unwrap_or_else(|p| p.into_inner());
        bounded(&mut certs, |(_, _, at)| *at);
        certs.insert(id.clone(), (version, set, Instant::now()));
    }
}
