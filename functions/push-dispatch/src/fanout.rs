//! Sending one push through one certificate's vivo credentials.
//!
//! One regId goes through `/message/send`; two or more through
//! `/message/saveListPayload` once and `/message/pushToList` in chunks of at
//! most 1000 (VIVO_API.md 1.5). Every call is bounded by the request's
//! deadline; the number of vivo calls in flight by the request's semaphore.

use offpush::clock::now_secs;
use offpush::domain::AppId;
use offpush::domain::{
    Certificate, CertificateId, DeliveryOutcome, DeliveryStatus, DeviceId, PushRequest, PushToken,
    UserId,
};
use offpush::vivo::codes::{self, Class};
use offpush::vivo::message::Notification;
use offpush::vivo::VivoError;
use offpush::{vendor, Context};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Most regIds in one pushToList (VIVO_API.md 1.5: 2..=1000).
pub const MAX_LIST: usize = 1000;
/// vivo's official SDK requires timeToLive >= 900 s for every push type but
/// single push; newer text speaks of single push only (VIVO_API.md 1.3,
/// CONFLICT). The safer reading keeps the caller's TTL exact: a push whose
/// TTL is below 900 s goes device by device through /message/send rather
/// than live longer than asked (a stale call invitation is worse than a
/// few more calls).
pub const LIST_MIN_TTL_SECS: u32 = 900;
/// Attempts of one call when vivo is unreachable or answers 5xx.
pub const MAX_ATTEMPTS: u32 = 3;
const BACKOFF_BASE_MS: u64 = 100;

pub struct Target {
    pub slot: usize,
    pub user: UserId,
    pub device_id: Option<DeviceId>,
    pub token: PushToken,
}

/// A token vivo declared dead; its binding is to be removed.
pub struct DeadToken {
    pub user: UserId,
    pub cert: CertificateId,
    pub token: PushToken,
}

#[derive(Default)]
pub struct CertOutcome {
    pub results: Vec<(usize, DeliveryOutcome)>,
    pub dead: Vec<DeadToken>,
    /// vivo calls made (auth included), for the report's log line and benches.
    pub calls: usize,
}

/// How a call ended after retries.
enum Answer {
    Ok(Value),
    Refused {
        code: i64,
        desc: String,
        body: Value,
    },
    /// Unreachable, 5xx, unreadable, or out of time: the detail says which.
    Unavailable(String),
    /// Not sent: an earlier call of this request was throttled.
    Stopped(Verdict),
}

#[derive(Clone)]
struct Verdict {
    status: DeliveryStatus,
    detail: Option<String>,
    retry_after_s: Option<u64>,
}

struct Session<'a> {
    ctx: &'a Context,
    app: &'a AppId,
    cert: &'a Certificate,
    deadline: Instant,
    sem: &'a Semaphore,
    /// (authToken, generation): the generation lets one caller refresh a
    /// refused token while the others wait for and reuse the new one.
    token: tokio::sync::Mutex<(String, u32)>,
    /// Set by the first throttling answer: no further calls through this
    /// certificate in this request.
    stop: Mutex<Option<Verdict>>,
    calls: Mutex<usize>,
}

fn short(desc: &str) -> String {
    desc.chars().take(100).collect()
}

/// Seconds from `now` to the next midnight of vivo's day (UTC+8).
fn secs_to_next_vivo_day(now: i64) -> i64 {
    let local = now + 8 * 3600;
    86_400 - local.rem_euclid(86_400)
}

/// Seconds from `now` to 07:00 UTC+8 (vivo's operational-message window).
fn secs_to_vivo_seven(now: i64) -> i64 {
    let local = (now + 8 * 3600).rem_euclid(86_400);
    (7 * 3600 - local).rem_euclid(86_400)
}

impl Session<'_> {
    fn count_call(&self) {
        *self.calls.lock().expect("calls lock") += 1;
    }

    fn stopped(&self) -> Option<Verdict> {
        self.stop.lock().expect("stop lock").clone()
    }

    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// Backoff before attempt `attempt` (1-based retries): exponential with
    /// full jitter; None when it would not fit before the deadline.
    fn backoff(&self, attempt: u32) -> Option<Duration> {
        use rand::Rng;
        let cap = BACKOFF_BASE_MS << attempt.min(6);
        let wait = Duration::from_millis(rand::thread_rng().gen_range(cap / 2..=cap));
        // Leave room for the call itself after the wait.
        (self.remaining()? > wait + Duration::from_millis(200)).then_some(wait)
    }

    /// An authToken, with retries when vivo is unreachable.
    async fn obtain_token(&self) -> Result<String, Verdict> {
        let mut attempt = 0;
        loop {
            self.count_call();
            let got =
                vendor::auth_token(&self.ctx.store, &self.ctx.vivo, &self.cert.credentials).await;
            let err = match got {
                Ok((t, _)) => return Ok(t),
                Err(vendor::VivoAuthError::Store(e)) => {
                    tracing::error!(app = %self.app, certificate = %self.cert.id, error = %offpush::error::chain(&e), "auth token cache failed");
                    return Err(failed("internal error obtaining the vivo authToken".into()));
                }
                Err(vendor::VivoAuthError::Vivo(e)) => e,
            };
            match err {
                VivoError::Refused { code, desc, .. } => {
                    return Err(match code {
                        10093 | 10250 => Verdict {
                            status: DeliveryStatus::Throttled,
                            detail: Some(format!("vivo {code}: auth rate limit")),
                            retry_after_s: Some(if code == 10250 { 3600 } else { 1 }),
                        },
                        10200..=10207 => failed(format!(
                            "vivo {code}: the certificate's credentials were refused ({}); update the certificate",
                            short(&desc)
                        )),
                        _ => failed(format!("vivo {code} on auth: {}", short(&desc))),
                    })
                }
                other => {
                    attempt += 1;
                    match (attempt < MAX_ATTEMPTS).then(|| self.backoff(attempt)).flatten() {
                        Some(wait) => tokio::time::sleep(wait).await,
                        None => return Err(failed(format!("{other} (auth, after {attempt} attempts)"))),
                    }
                }
            }
        }
    }

    /// Replaces a token vivo refused (10000), once per generation.
    async fn refresh_token(&self, seen_gen: u32) -> Result<(), Verdict> {
        let mut guard = self.token.lock().await;
        if guard.1 != seen_gen {
            return Ok(());
        }
        if let Err(e) = vendor::drop_token(
            &self.ctx.store,
            &self.ctx.vivo,
            &self.cert.credentials,
            &guard.0,
        )
        .await
        {
            tracing::error!(error = %offpush::error::chain(&e), "dropping a refused authToken failed");
        }
        let fresh = self.obtain_token().await?;
        *guard = (fresh, seen_gen + 1);
        Ok(())
    }

    /// One vivo call: retried with backoff on 5xx/unreachable inside the
    /// deadline; on 10000 the token is refreshed once and the call retried
    /// once. The body (and its requestId) is the same on every attempt.
    async fn call(&self, path: &str, body: &Value) -> Answer {
        let mut attempt = 0u32;
        let mut reauthed = false;
        loop {
            let (token, gen) = self.token.lock().await.clone();
            let Some(remaining) = self.remaining() else {
                return Answer::Unavailable("request deadline reached before vivo answered".into());
            };
            let result = {
                let _permit = self.sem.acquire().await.expect("semaphore open");
                // Checked once a slot is ours: calls queued behind a
                // throttled one must not go out.
                if let Some(v) = self.stopped() {
                    return Answer::Stopped(v);
                }
                self.count_call();
                tokio::time::timeout(remaining, self.ctx.vivo.call(path, Some(&token), body)).await
            };
            let err = match result {
                Err(_) => VivoError::Http(504),
                Ok(Ok(v)) => return Answer::Ok(v),
                Ok(Err(e)) => e,
            };
            let retryable = match &err {
                VivoError::Refused { code: 10000, .. } if !reauthed => {
                    reauthed = true;
                    if let Err(v) = self.refresh_token(gen).await {
                        return Answer::Unavailable(v.detail.unwrap_or_default());
                    }
                    continue;
                }
                VivoError::Refused { code, desc, body } => {
                    return Answer::Refused {
                        code: *code,
                        desc: desc.clone(),
                        body: body.clone(),
                    }
                }
                VivoError::Transport(_) | VivoError::Unreadable => true,
                VivoError::Http(s) => *s >= 500 || *s == 429,
            };
            attempt += 1;
            let detail = match &err {
                VivoError::Http(504) => "vivo did not answer in time".to_string(),
                VivoError::Transport(e) if e.is_timeout() => {
                    "vivo did not answer in time".to_string()
                }
                other => other.to_string(),
            };
            if !retryable || attempt >= MAX_ATTEMPTS {
                return Answer::Unavailable(format!("{detail} (after {attempt} attempts)"));
            }
            match self.backoff(attempt) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => {
                    return Answer::Unavailable(format!(
                        "{detail} (deadline reached after {attempt} attempts)"
                    ))
                }
            }
        }
    }

    /// The verdict for every target of a call vivo refused as a whole.
    async fn refused(&self, code: i64, desc: &str) -> Verdict {
        match codes::classify(code) {
            Class::Rejected => Verdict {
                status: DeliveryStatus::Rejected,
                detail: Some(format!("vivo {code}: {}", short(desc))),
                retry_after_s: None,
            },
            Class::Throttled { quota, retry_after } => {
                let now = now_secs();
                let retry = match (quota, retry_after, code) {
                    (true, _, _) => secs_to_next_vivo_day(now) as u64,
                    (_, _, 10071) => secs_to_vivo_seven(now).max(1) as u64,
                    (_, Some(d), _) => d.as_secs().max(1),
                    _ => 1,
                };
                if quota {
                    let until = now + retry as i64;
                    if let Err(e) = self
                        .ctx
                        .store
                        .put_quota_block(self.app, self.cert.id, code, until)
                        .await
                    {
                        tracing::error!(error = %offpush::error::chain(&e), "remembering a vivo quota block failed");
                    }
                    tracing::warn!(app = %self.app, certificate = %self.cert.id, code, until, "vivo quota reached: certificate paused until vivo's next day");
                }
                let v = Verdict {
                    status: DeliveryStatus::Throttled,
                    detail: Some(format!("vivo {code}: {}", short(desc))),
                    retry_after_s: Some(retry),
                };
                *self.stop.lock().expect("stop lock") = Some(v.clone());
                v
            }
            Class::AuthExpired => failed(format!(
                "vivo {code}: authToken refused again after a refresh"
            )),
            _ => failed(format!("vivo {code}: {}", short(desc))),
        }
    }
}

fn failed(detail: String) -> Verdict {
    Verdict {
        status: DeliveryStatus::Failed,
        detail: Some(detail),
        retry_after_s: None,
    }
}

fn outcome(
    cert: CertificateId,
    t: &Target,
    v: &Verdict,
    task_id: Option<&str>,
) -> (usize, DeliveryOutcome) {
    let mut o = DeliveryOutcome::device(&t.user, cert, t.device_id.as_ref(), v.status);
    o.detail = v.detail.clone();
    o.retry_after_s = v.retry_after_s;
    o.vendor_task_id = task_id.map(str::to_string);
    (t.slot, o)
}

fn sent() -> Verdict {
    Verdict {
        status: DeliveryStatus::Sent,
        detail: None,
        retry_after_s: None,
    }
}

/// The verdict for one target named in an invalidUser(s) answer.
fn invalid_user(status: i64) -> Verdict {
    let reason = codes::invalid_user_reason(status);
    let detail = Some(format!("vivo 10302 invalidUser.status={status}: {reason}"));
    match codes::classify_invalid_user(status) {
        Class::TokenDead => Verdict {
            status: DeliveryStatus::TokenInvalid,
            detail,
            retry_after_s: None,
        },
        _ => Verdict {
            status: DeliveryStatus::Failed,
            detail,
            retry_after_s: None,
        },
    }
}

/// Splits `n` targets into the fewest chunks of at most MAX_LIST, sized
/// evenly, so no chunk is a lone regId (pushToList needs at least 2).
pub fn chunk_sizes(n: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let chunks = n.div_ceil(MAX_LIST);
    let base = n / chunks;
    let extra = n % chunks;
    (0..chunks).map(|i| base + usize::from(i < extra)).collect()
}

pub async fn dispatch_certificate(
    ctx: &Context,
    app: &AppId,
    cert: &Certificate,
    req: &PushRequest,
    targets: Vec<Target>,
    deadline: Instant,
    sem: &Semaphore,
) -> CertOutcome {
    let mut out = CertOutcome::default();
    let all = |v: &Verdict, out: &mut CertOutcome| {
        for t in &targets {
            out.results.push(outcome(cert.id, t, v, None));
        }
    };
    // A quota vivo reported earlier today: do not call at all.
    match ctx.store.get_quota_block(app, cert.id, now_secs()).await {
        Ok(Some((code, until))) => {
            let v = Verdict {
                status: DeliveryStatus::Throttled,
                detail: Some(format!(
                    "vivo {code}: daily quota reached earlier; paused until vivo's next day"
                )),
                retry_after_s: Some((until - now_secs()).max(1) as u64),
            };
            all(&v, &mut out);
            return out;
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %offpush::error::chain(&e), "reading the quota block failed; sending anyway")
        }
    }
    let session = Session {
        ctx,
        app,
        cert,
        deadline,
        sem,
        token: tokio::sync::Mutex::new((String::new(), 0)),
        stop: Mutex::new(None),
        calls: Mutex::new(0),
    };
    match session.obtain_token().await {
        Ok(t) => *session.token.lock().await = (t, 0),
        Err(v) => {
            all(&v, &mut out);
            out.calls = *session.calls.lock().expect("calls lock");
            return out;
        }
    }
    let click = req.click_action.as_ref().unwrap_or(&cert.click_action);
    let n = Notification {
        vivo_app_id: cert.credentials.app_id,
        title: &req.title,
        content: &req.desc,
        ext: req.ext.as_deref(),
        category: req.category.unwrap_or(cert.category),
        ttl_seconds: req.ttl_seconds,
        click,
        push_mode: cert.push_mode,
        notify_id: req.notify_id,
    };
    let mut verdicts: Vec<(usize, Verdict, Option<String>)> = Vec::new();
    if targets.len() == 1 || req.ttl_seconds < LIST_MIN_TTL_SECS {
        let sends = targets.iter().enumerate().map(|(i, t)| {
            let session = &session;
            let n = &n;
            async move {
                if let Some(v) = session.stopped() {
                    return (i, v, None);
                }
                let body = n.send_body(t.token.expose(), &new_request_id());
                match session.call("/message/send", &body).await {
                    Answer::Ok(v) => (i, sent(), v.get("taskId").and_then(task_id_str)),
                    Answer::Refused {
                        code: 10302, body, ..
                    } => {
                        let status = body["invalidUser"]["status"].as_i64().unwrap_or(0);
                        (i, invalid_user(status), None)
                    }
                    Answer::Refused { code, desc, .. } => {
                        (i, session.refused(code, &desc).await, None)
                    }
                    Answer::Unavailable(d) => (i, failed(d), None),
                    Answer::Stopped(v) => (i, v, None),
                }
            }
        });
        verdicts = futures::future::join_all(sends).await;
    } else {
        match session
            .call(
                "/message/saveListPayload",
                &n.save_list_body(&new_request_id()),
            )
            .await
        {
            Answer::Ok(v) => match v.get("taskId").and_then(task_id_str) {
                Some(task_id) => {
                    let mut start = 0;
                    let mut chunks = Vec::new();
                    for size in chunk_sizes(targets.len()) {
                        chunks.push((start, start + size));
                        start += size;
                    }
                    let pushes = chunks.into_iter().map(|(a, b)| {
                        let session = &session;
                        let n = &n;
                        let task_id = task_id.clone();
                        let targets = &targets;
                        async move { push_chunk(session, n, &task_id, targets, a, b).await }
                    });
                    for part in futures::future::join_all(pushes).await {
                        verdicts.extend(part);
                    }
                }
                None => {
                    let v = failed("vivo saveListPayload answered no taskId".into());
                    verdicts = (0..targets.len()).map(|i| (i, v.clone(), None)).collect();
                }
            },
            Answer::Refused { code, desc, .. } => {
                let v = session.refused(code, &desc).await;
                verdicts = (0..targets.len()).map(|i| (i, v.clone(), None)).collect();
            }
            Answer::Unavailable(d) => {
                let v = failed(d);
                verdicts = (0..targets.len()).map(|i| (i, v.clone(), None)).collect();
            }
            Answer::Stopped(v) => {
                verdicts = (0..targets.len()).map(|i| (i, v.clone(), None)).collect();
            }
        }
    }
    for (i, v, task) in verdicts {
        let t = &targets[i];
        if v.status == DeliveryStatus::TokenInvalid {
            out.dead.push(DeadToken {
                user: t.user.clone(),
                cert: cert.id,
                token: t.token.clone(),
            });
        }
        out.results.push(outcome(cert.id, t, &v, task.as_deref()));
    }
    out.calls = *session.calls.lock().expect("calls lock");
    out
}

fn task_id_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A requestId per vivo call (vivo: at most 64 characters). Retries of the
/// same call reuse it, so vivo can recognise a repeat if it deduplicates.
fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

async fn push_chunk(
    session: &Session<'_>,
    n: &Notification<'_>,
    task_id: &str,
    targets: &[Target],
    a: usize,
    b: usize,
) -> Vec<(usize, Verdict, Option<String>)> {
    if let Some(v) = session.stopped() {
        return (a..b).map(|i| (i, v.clone(), None)).collect();
    }
    let reg_ids: Vec<&str> = targets[a..b].iter().map(|t| t.token.expose()).collect();
    let body = n.push_to_list_body(task_id, &reg_ids, &new_request_id());
    match session.call("/message/pushToList", &body).await {
        Answer::Ok(v) => {
            let invalid: HashMap<String, i64> = v
                .get("invalidUsers")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|u| {
                            let id = u.get("userid").and_then(task_id_str)?;
                            Some((id, u.get("status").and_then(Value::as_i64).unwrap_or(0)))
                        })
                        .collect()
                })
                .unwrap_or_default();
            (a..b)
                .map(|i| match invalid.get(targets[i].token.expose()) {
                    Some(status) => (i, invalid_user(*status), None),
                    None => (i, sent(), Some(task_id.to_string())),
                })
                .collect()
        }
        Answer::Refused { code, desc, .. } => {
            let v = session.refused(code, &desc).await;
            (a..b).map(|i| (i, v.clone(), None)).collect()
        }
        Answer::Unavailable(d) => (a..b).map(|i| (i, failed(d.clone()), None)).collect(),
        Answer::Stopped(v) => (a..b).map(|i| (i, v.clone(), None)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_even_and_never_single() {
        assert_eq!(chunk_sizes(2), [2]);
        assert_eq!(chunk_sizes(1000), [1000]);
        assert_eq!(chunk_sizes(1001), [501, 500]);
        assert_eq!(chunk_sizes(2500), [834, 833, 833]);
        assert!(chunk_sizes(10_000).iter().all(|s| (2..=1000).contains(s)));
        assert_eq!(chunk_sizes(10_000).iter().sum::<usize>(), 10_000);
    }

    #[test]
    fn vivo_day_boundaries_are_utc_plus_8() {
        // 2026-11-26T15:59:59Z is 23:59:59 in UTC+8.
        let t = time::macros::datetime!(2026-11-26 15:59:59 UTC).unix_timestamp();
        assert_eq!(secs_to_next_vivo_day(t), 1);
        // 23:00Z is 07:00 UTC+8: the window opens now, next in 24 h.
        let seven = time::macros::datetime!(2026-11-26 23:00:00 UTC).unix_timestamp();
        assert_eq!(secs_to_vivo_seven(seven), 0);
        assert_eq!(secs_to_vivo_seven(seven - 60), 60);
    }
}
