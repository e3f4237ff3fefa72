//! The push use case: claim the request id, find live bindings, fan out
//! through vivo, clean up dead tokens, store and answer the report.

use crate::fanout::{self, DeadToken, Target};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use offpush::domain::{
    App, Certificate, CertificateId, DeliveryOutcome, DispatchReport, PushRequest, Summary, UserId,
};
use offpush::store::bindings::BindingWrite;
use offpush::store::pushes::{Claim, PushState};
use offpush::{Context, ServiceError};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// A pending claim older than this belongs to a call that died (functions
/// time out at 29 s), so a repeat may take it over and send.
const STALE_CLAIM_MS: i64 = 60_000;
/// How long a repeat waits for a concurrent identical call to finish.
const WAIT_FOR_TWIN: Duration = Duration::from_secs(8);

use offpush::clock::now_ms;

/// What makes two requests "the same": everything but the request id.
fn fingerprint(req: &PushRequest) -> String {
    let canonical = serde_json::json!({
        "to": req.to,
        "title": req.title,
        "desc": req.desc,
        "ext": req.ext,
        "category": req.category.map(|c| c.as_str()),
        "ttl": req.ttl_seconds,
        "click": req.click_action,
        "notify_id": req.notify_id,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn compress(report: &DispatchReport) -> Vec<u8> {
    let json = serde_json::to_vec(report).expect("report serializes");
    let mut enc = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&json).expect("write to memory");
    enc.finish().expect("finish in memory")
}

fn decompress(bytes: &[u8]) -> Result<DispatchReport, ServiceError> {
    let mut json = Vec::new();
    DeflateDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|e| ServiceError::internal("stored push result", e))?;
    serde_json::from_slice(&json).map_err(|e| ServiceError::internal("stored push result", e))
}

pub async fn push(
    ctx: &Context,
    app: &App,
    req: PushRequest,
    started: Instant,
) -> Result<DispatchReport, ServiceError> {
    let request_id = req
        .request_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let fp = fingerprint(&req);
    let waited_until = Instant::now() + WAIT_FOR_TWIN;
    loop {
        match ctx
            .store
            .claim_push(&app.id, &request_id, &fp, now_ms())
            .await?
        {
            Claim::Claimed => break,
            Claim::Taken(rec) => {
                if rec.fingerprint != fp {
                    return Err(ServiceError::Conflict(format!(
                        "request_id {request_id} was used in the last 24 h for a different push"
                    )));
                }
                match rec.state {
                    PushState::Done { result } => {
                        let mut report = decompress(&result)?;
                        report.duplicate = true;
                        tracing::info!(app = %app.id, request_id = %request_id, "duplicate push answered from the stored result");
                        return Ok(report);
                    }
                    PushState::Pending { claimed_at_ms } => {
                        if now_ms() - claimed_at_ms > STALE_CLAIM_MS
                            && ctx
                                .store
                                .take_over_push(&app.id, &request_id, claimed_at_ms, now_ms())
                                .await?
                        {
                            tracing::warn!(app = %app.id, request_id = %request_id, "took over a stale push claim");
                            break;
                        }
                        if Instant::now() >= waited_until {
                            return Err(ServiceError::Conflict(format!(
                                "a push with request_id {request_id} is still in progress; repeat it later for its result"
                            )));
                        }
                        tokio::time::sleep(Duration::from_millis(150)).await;
                    }
                }
            }
        }
    }
    let deadline = started + ctx.push_deadline;
    let report = dispatch(ctx, app, &req, request_id.clone(), deadline).await?;
    ctx.store
        .complete_push(&app.id, &request_id, compress(&report), now_ms() / 1000)
        .await?;
    let s = &report.summary;
    tracing::info!(
        app = %app.id, request_id = %request_id, users = req.to.len(), sent = s.sent, no_device = s.no_device,
        token_invalid = s.token_invalid, throttled = s.throttled, rejected = s.rejected, failed = s.failed,
        "push dispatched"
    );
    Ok(report)
}

async fn dispatch(
    ctx: &Context,
    app: &App,
    req: &PushRequest,
    request_id: String,
    deadline: Instant,
) -> Result<DispatchReport, ServiceError> {
    let (bindings, _) = ctx.store.get_many_user_bindings(&app.id, &req.to).await?;
    let certs: HashMap<CertificateId, Certificate> = ctx
        .store
        .list_certificates(&app.id)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let now_secs = now_ms() / 1000;
    let mut results: Vec<Option<DeliveryOutcome>> = Vec::new();
    let mut groups: BTreeMap<CertificateId, Vec<Target>> = BTreeMap::new();
    for user in &req.to {
        let mut any = false;
        if let Some(state) = bindings.get(user) {
            let mut live: Vec<_> = state
                .live(now_secs)
                // A deleted certificate's bindings are answered as no_device.
                .filter(|(_, b)| certs.contains_key(&b.certificate_id))
                .map(|(_, b)| b.clone())
                .collect();
            live.sort_by_key(|b| std::cmp::Reverse(b.reported_at_ms));
            for b in live {
                any = true;
                groups.entry(b.certificate_id).or_default().push(Target {
                    slot: results.len(),
                    user: user.clone(),
                    device_id: b.device_id.clone(),
                    token: b.token.clone(),
                });
                results.push(None);
            }
        }
        if !any {
            results.push(Some(DeliveryOutcome::no_device(user)));
        }
    }

    // One bound on vivo calls in flight for the whole request, across
    // certificates and chunks.
    let sem = tokio::sync::Semaphore::new(ctx.push_concurrency);
    let sem = &sem;
    let jobs = groups.into_iter().map(|(cert_id, targets)| {
        let cert = &certs[&cert_id];
        fanout::dispatch_certificate(ctx, &app.id, cert, req, targets, deadline, sem)
    });
    let outcomes = futures::future::join_all(jobs).await;
    let mut dead: Vec<DeadToken> = Vec::new();
    let mut calls = 0;
    for o in outcomes {
        calls += o.calls;
        for (slot, outcome) in o.results {
            results[slot] = Some(outcome);
        }
        dead.extend(o.dead);
    }
    tracing::debug!(app = %app.id, vivo_calls = calls, "fan-out done");
    remove_dead_tokens(ctx, app, dead).await;
    let results: Vec<DeliveryOutcome> = results
        .into_iter()
        .map(|r| r.expect("every slot answered"))
        .collect();
    let summary = Summary::of(&results);
    Ok(DispatchReport {
        request_id,
        duplicate: false,
        results,
        summary,
    })
}

/// vivo said these tokens are dead: their bindings end (only if the user
/// still has that very token; a fresh report in between wins).
async fn remove_dead_tokens(ctx: &Context, app: &App, dead: Vec<DeadToken>) {
    let mut by_user: BTreeMap<UserId, Vec<DeadToken>> = BTreeMap::new();
    for d in dead {
        by_user.entry(d.user.clone()).or_default().push(d);
    }
    let jobs = by_user.into_iter().map(|(user, tokens)| async move {
        for attempt in 0..5u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(10 << attempt)).await;
            }
            let mut state = match ctx.store.get_user_bindings(&app.id, &user).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(app = %app.id, user = %user, error = %offpush::error::chain(&e), "dead token cleanup: read failed");
                    return;
                }
            };
            let mut writes = Vec::new();
            for d in &tokens {
                let before = state.devices.len();
                state
                    .devices
                    .retain(|_, b| !(b.certificate_id == d.cert && b.token == d.token));
                if state.devices.len() != before {
                    writes.push(BindingWrite::DeleteOwner {
                        cert: d.cert,
                        token: d.token.clone(),
                        user: user.clone(),
                    });
                }
            }
            if writes.is_empty() {
                return;
            }
            writes.push(BindingWrite::PutUser { user: user.clone(), state });
            match ctx.store.commit_bindings(&app.id, writes).await {
                Ok(true) => {
                    for d in &tokens {
                        tracing::info!(app = %app.id, user = %user, token = %d.token, "binding removed: vivo says the token is dead");
                    }
                    return;
                }
                Ok(false) => continue,
                Err(e) => {
                    tracing::error!(app = %app.id, user = %user, error = %offpush::error::chain(&e), "dead token cleanup failed");
                    return;
                }
            }
        }
    });
    futures::future::join_all(jobs).await;
}
