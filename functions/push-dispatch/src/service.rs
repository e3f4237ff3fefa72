//! The push use case: claim the request id, plan the recipients, fan out
//! through the certificates' channels, clean up dead tokens, store and
//! answer the report.

use crate::{fanout, record};
use offpush::clock::now_ms;
use offpush::domain::{
    App, Certificate, CertificateId, Delivery, DeliveryOutcome, DispatchReport, PushRequest,
    Summary,
};
use offpush::store::keys::push_ref;
use offpush::store::pushes::{Claim, Completion, PushState, StoredPush};
use offpush::{bindings, Context, ServiceError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A pending claim older than this belongs to a call that died (functions
/// time out at 29 s), so a repeat may take it over and send.
const STALE_CLAIM_MS: i64 = 60_000;
/// What a push may spend after its vendor deadline: dead-token cleanup
/// (best effort, at most [`CLEANUP_BUDGET`]) and storing the result.
/// template.yaml's PushDeadlineMs leaves this much (and a margin) before
/// the function's timeout; a test checks it.
pub const AFTER_DEADLINE_BUDGET: Duration = Duration::from_secs(5);
/// Storing the record and statistics, retries included (within
/// [`AFTER_DEADLINE_BUDGET`] with the cleanup).
pub const COMPLETION_BUDGET: Duration = Duration::from_secs(2);
/// Dead-token cleanup and the push log, side by side, after completion.
pub const CLEANUP_BUDGET: Duration = Duration::from_millis(2500);
/// How long a repeat waits for a concurrent identical call to finish.
const WAIT_FOR_TWIN: Duration = Duration::from_secs(8);

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

/// The answer of a push whose earlier attempt died after it began sending:
/// nothing is sent again (a device must not get a push twice), and the
/// caller learns that the outcome of that attempt is unknown.
fn interrupted(req: &PushRequest, request_id: &str) -> DispatchReport {
    let results: Vec<DeliveryOutcome> = req
        .to
        .iter()
        .map(|u| DeliveryOutcome {
            delivery: Delivery::failed(
                "an earlier attempt of this push stopped after it began sending; not sent again, so no device gets it twice",
            ),
            ..DeliveryOutcome::no_device(u)
        })
        .collect();
    DispatchReport {
        request_id: request_id.to_string(),
        duplicate: true,
        summary: Summary::of(&results),
        results,
    }
}

/// How a claim ended.
enum Claimed {
    /// This call sends; the claim's time.
    Send(i64),
    /// A repeat: the stored result, or the interrupted attempt's answer.
    Answer(DispatchReport),
}

/// Claims the request id: a repeat is answered from the stored result; a
/// claim left by a call that died is taken over.
async fn claim(
    ctx: &Context,
    app: &App,
    req: &PushRequest,
    request_id: &str,
    fp: &str,
) -> Result<Claimed, ServiceError> {
    let waited_until = Instant::now() + WAIT_FOR_TWIN;
    loop {
        let now = now_ms();
        let rec = match ctx
            .store
            .claim_push(&app.id, request_id, fp, now, ctx.record_retention_secs)
            .await?
        {
            Claim::Claimed => return Ok(Claimed::Send(now)),
            Claim::Taken(rec) => rec,
        };
        if rec.fingerprint != fp {
            return Err(ServiceError::Conflict(format!(
                "request_id {request_id} was used in the last 24 h for a different push"
            )));
        }
        match rec.state {
            PushState::Done { stored } => {
                let mut report = stored.report;
                report.duplicate = true;
                tracing::info!(app = %app.id, request_id = %request_id, "duplicate push answered from the stored result");
                return Ok(Claimed::Answer(report));
            }
            PushState::Pending {
                claimed_at_ms,
                sending,
            } => {
                let now = now_ms();
                if now - claimed_at_ms > STALE_CLAIM_MS
                    && ctx
                        .store
                        .take_over_push(&app.id, request_id, claimed_at_ms, now)
                        .await?
                {
                    if sending {
                        tracing::warn!(app = %app.id, request_id = %request_id, "took over a push that died while sending: not sent again");
                        let report = interrupted(req, request_id);
                        let stored = StoredPush {
                            refs: vec![None; report.results.len()],
                            report,
                            pushed_at_ms: claimed_at_ms,
                        };
                        ctx.store
                            .complete_push(
                                &app.id,
                                Completion {
                                    request_id,
                                    fingerprint: fp,
                                    stored: &stored,
                                    now_secs: now / 1000,
                                    retention_secs: ctx.record_retention_secs,
                                    stats: &[],
                                    deadline: Instant::now() + COMPLETION_BUDGET,
                                },
                            )
                            .await?;
                        return Ok(Claimed::Answer(stored.report));
                    }
                    tracing::warn!(app = %app.id, request_id = %request_id, "took over a stale push claim");
                    return Ok(Claimed::Send(now));
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

/// `base_url`: where this API is reached (the receipt URL messages carry).
pub async fn push(
    ctx: &Context,
    app: &App,
    req: PushRequest,
    started: Instant,
    base_url: &str,
) -> Result<DispatchReport, ServiceError> {
    let fp = fingerprint(&req);
    // A caller's request_id is claimed first (it may repeat); a generated
    // one can never repeat, so that push makes no idempotency writes: no
    // claim, no "sending" mark, nothing to give back. Its record is written
    // once, at completion.
    let (request_id, claimed_at) = match &req.request_id {
        Some(given) => match claim(ctx, app, &req, given, &fp).await? {
            Claimed::Send(at) => (given.clone(), Some(at)),
            Claimed::Answer(report) => return Ok(report),
        },
        None => (uuid::Uuid::new_v4().to_string(), None),
    };
    let pushed_at = claimed_at.unwrap_or_else(now_ms);
    let deadline = started + ctx.push_deadline;
    let plan_read = async {
        let (bindings, _) = ctx.store.get_many_user_bindings(&app.id, &req.to).await?;
        let set = ctx.store.certificate_set_current(&app.id).await?;
        let certs: HashMap<CertificateId, Certificate> =
            set.live.into_iter().map(|c| (c.id, c)).collect();
        Ok::<_, ServiceError>((bindings, certs, set.deleted))
    };
    let marked = async {
        let read = plan_read.await?;
        // Durable before the first vendor call: a takeover after this
        // point never sends again.
        if let Some(at) = claimed_at {
            if !ctx
                .store
                .mark_push_sending(&app.id, &request_id, at, now_ms())
                .await?
            {
                return Err(ServiceError::Conflict(format!(
                    "the claim of request_id {request_id} was taken over; repeat the push for its result"
                )));
            }
        }
        Ok(read)
    };
    // The reads are bounded by the push's deadline too: what follows it
    // (completion, cleanup) is budgeted from there.
    let marked = async {
        match tokio::time::timeout_at(deadline.into(), marked).await {
            Ok(read) => read,
            Err(_) => Err(ServiceError::internal(
                "reading the recipients",
                std::io::Error::other("took the whole push deadline; nothing was sent"),
            )),
        }
    };
    let (bindings, certs, deleted) = match marked.await {
        Ok(read) => read,
        Err(e) => {
            // Nothing was sent: give the request id back so an honest
            // retry runs at once rather than waiting for the claim to go stale.
            if let Some(at) = claimed_at {
                if let Err(release) = ctx.store.release_push(&app.id, &request_id, at).await {
                    tracing::error!(error = %offpush::error::chain(&release), "releasing a push claim failed");
                }
            }
            return Err(e);
        }
    };
    let plan = fanout::plan(&req, &bindings, &certs, &deleted, now_ms());
    let devices = plan.devices();
    let push_key = format!("{}/{request_id}", app.id);
    let reference = push_ref(&request_id);
    let fan_started = Instant::now();
    let fanned = plan
        .run(
            ctx,
            &req,
            &push_key,
            (&app.id, pushed_at, &reference),
            base_url,
            deadline,
        )
        .await;
    let vendor_ms = fan_started.elapsed().as_millis() as u64;
    tracing::debug!(app = %app.id, devices, vendor_calls = fanned.calls, "fan-out done");
    let summary = Summary::of(&fanned.results);
    let fanned_latency = fanned.latency;
    let stored = StoredPush {
        report: DispatchReport {
            request_id: request_id.clone(),
            duplicate: false,
            results: fanned.results,
            summary,
        },
        refs: fanned.refs,
        pushed_at_ms: pushed_at,
    };
    // The devices have the push: a result that cannot be stored is logged,
    // and the caller still gets it (a repeat then finds the claim sending
    // and never sends again).
    let stats = record::stats_of(&req, &stored);
    let log = record::log_entries(&req, &stored);
    // The record and statistics first, bounded: the answer must leave
    // within the function's time (see AFTER_DEADLINE_BUDGET).
    let complete_by = (Instant::now() + COMPLETION_BUDGET).min(deadline + COMPLETION_BUDGET);
    if let Err(e) = ctx
        .store
        .complete_push(
            &app.id,
            Completion {
                request_id: &request_id,
                fingerprint: &fp,
                stored: &stored,
                now_secs: now_ms() / 1000,
                retention_secs: ctx.record_retention_secs,
                stats: &stats,
                deadline: complete_by,
            },
        )
        .await
    {
        tracing::error!(app = %app.id, request_id = %request_id, error = %offpush::error::chain(&e), "storing the push result failed");
    }
    // Best effort and bounded, side by side: a binding the cleanup could
    // not end is answered token_invalid again by the next push, which
    // retries it; a log entry not written leaves the push record and the
    // statistics intact.
    let after = async {
        futures::future::join(
            remove_dead_tokens(ctx, app, fanned.dead, pushed_at),
            record::write_push_log(ctx, app, log),
        )
        .await
    };
    if tokio::time::timeout(CLEANUP_BUDGET, after).await.is_err() {
        tracing::warn!(app = %app.id, request_id = %request_id, "dead-token cleanup or push log cut short by its time budget");
    }
    let report = stored.report;
    let s = &report.summary;
    record::emit_metrics(&app.id, s, vendor_ms);
    record::emit_vendor_latency(&fanned_latency);
    tracing::info!(
        app = %app.id, request_id = %request_id, users = req.to.len(), sent = s.sent, no_device = s.no_device,
        token_invalid = s.token_invalid, throttled = s.throttled, rejected = s.rejected, failed = s.failed,
        "push dispatched"
    );
    Ok(report)
}

/// The vendor said these tokens are dead: their bindings end, unless
/// reported again since the push started.
async fn remove_dead_tokens(
    ctx: &Context,
    app: &App,
    dead: std::collections::BTreeMap<offpush::domain::UserId, Vec<bindings::DeadToken>>,
    push_started_ms: i64,
) {
    let jobs = dead.iter().map(|(user, tokens)| async move {
        match bindings::remove_dead(ctx, &app.id, user, tokens, push_started_ms).await {
            Ok(n) if n > 0 => {
                for d in tokens {
                    tracing::info!(app = %app.id, user = %user, token = %d.token, "binding removed: the vendor says the token is dead");
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(app = %app.id, user = %user, error = %offpush::error::chain(&e), "dead token cleanup failed")
            }
        }
    });
    futures::future::join_all(jobs).await;
}
