//! The session of one certificate's share of a push: every vivo call checks the app's pauses,
//! waits for a slot of the push's limit no later than the deadline, carries
//! a requestId derived from the push (the same on every attempt, retry and
//! takeover), is retried with backoff on 5xx or silence, re-authenticates
//! once on 10000, and ends by the deadline.

use super::auth::{account_key, refusal_detail, Paused};
use super::client::{Refusal, Reply, PUSH_TO_LIST, SAVE_LIST, SEND};
use super::codes::{self, Answer, Scope};
use super::message::Notification;
use super::Vivo;
use crate::channel::{Send, SendReport, Target};
use crate::clock::now_secs;
use crate::domain::Delivery;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Attempts of one call when vivo is unreachable or answers 5xx.
pub const MAX_ATTEMPTS: u32 = 3;
const BACKOFF_BASE_MS: u64 = 100;

/// Detail of a call that never started.
pub const DEADLINE_PASSED: &str = "push deadline passed before the vivo call could start";

/// Exponential backoff with full jitter before retry `attempt`; None when
/// it would not leave room for the call before `deadline`.
pub fn backoff_before(attempt: u32, deadline: Instant) -> Option<Duration> {
    use rand::Rng;
    let cap = BACKOFF_BASE_MS << attempt.min(6);
    let wait = Duration::from_millis(rand::thread_rng().gen_range(cap / 2..=cap));
    let remaining = deadline.checked_duration_since(Instant::now())?;
    (remaining > wait + Duration::from_millis(200)).then_some(wait)
}

/// A requestId for one call (vivo: at most 64 characters, VIVO_API.md 1.3):
/// derived from the push and what the call sends, so a retry, a repeat of
/// the push or a takeover of a dead attempt sends the same id again.
pub fn request_id(push_key: &str, path: &str, cert: u64, reg_ids: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in [push_key, path, &cert.to_string()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for r in reg_ids {
        h.update(r.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())[..32].to_string()
}

/// How a call failed: the outcome of its targets, and which scope vivo
/// paused if it did.
struct Failure {
    delivery: Delivery,
    scope: Scope,
}

impl From<Delivery> for Failure {
    fn from(delivery: Delivery) -> Self {
        Failure {
            delivery,
            scope: Scope::None,
        }
    }
}

struct Session<'a> {
    vivo: &'a Vivo,
    send: &'a Send<'a>,
    account: String,
    class: &'static str,
    calls: AtomicUsize,
}

impl Session<'_> {
    /// The pause scope names this call is subject to.
    fn scope_name(&self, scope: Scope, path: &str) -> String {
        match scope {
            Scope::App | Scope::None => "app".into(),
            Scope::Class => format!("class:{}", self.class),
            Scope::Endpoint => format!("endpoint:{path}"),
            Scope::Auth => "auth".into(),
        }
    }

    async fn check_pauses(&self, path: &str) -> Option<Paused> {
        let scopes = [
            self.scope_name(Scope::App, path),
            self.scope_name(Scope::Class, path),
            self.scope_name(Scope::Endpoint, path),
        ];
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        self.vivo.paused(&self.account, &scopes).await
    }

    fn remaining(&self) -> Option<Duration> {
        self.send
            .deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    fn backoff(&self, attempt: u32) -> Option<Duration> {
        backoff_before(attempt, self.send.deadline)
    }

    /// The failure of a call to `path` while vivo pauses one of its scopes.
    /// The list path falls back to single sends only when the paused scope
    /// is the list endpoint itself.
    async fn paused_failure(&self, path: &str) -> Option<Failure> {
        let p = self.check_pauses(path).await?;
        let scope = if p.scope == self.scope_name(Scope::Endpoint, path) {
            Scope::Endpoint
        } else {
            Scope::None
        };
        Some(Failure {
            delivery: p.delivery(now_secs()),
            scope,
        })
    }

    async fn call(&self, path: &str, body: &Value) -> Result<Reply, Failure> {
        let mut attempt = 0u32;
        let mut refused_token = None;
        let mut reauthed = false;
        loop {
            if let Some(f) = self.paused_failure(path).await {
                return Err(f);
            }
            let token = self
                .vivo
                .token(
                    &self.send.cert.credentials,
                    &self.account,
                    refused_token.take(),
                    self.send.deadline,
                    &self.calls,
                )
                .await?;
            let permit =
                tokio::time::timeout_at(self.send.deadline.into(), self.send.limit.acquire()).await;
            let Ok(Ok(_permit)) = permit else {
                return Err(Delivery::failed(DEADLINE_PASSED).into());
            };
            if self.remaining().is_none() {
                return Err(Delivery::failed(DEADLINE_PASSED).into());
            }
            // Checked again once a slot is ours: calls queued behind one
            // that vivo paused must not go out.
            if let Some(f) = self.paused_failure(path).await {
                return Err(f);
            }
            self.calls.fetch_add(1, Ordering::Relaxed);
            let refusal = match self
                .vivo
                .http
                .post(path, Some(&token.value), body, self.send.deadline)
                .await
            {
                Ok(reply) => return Ok(reply),
                Err(r) => r,
            };
            drop(_permit);
            let rule = codes::rule(refusal.answer);
            if rule.reauth {
                if reauthed {
                    return Err(Delivery::failed(format!(
                        "{} again after a refresh",
                        refusal_detail(&refusal)
                    ))
                    .into());
                }
                reauthed = true;
                refused_token = Some(token.generation);
                continue;
            }
            if let (Some(until), Answer::Code(code)) = (rule.until, refusal.answer) {
                let scope = self.scope_name(rule.pause, path);
                let secs = codes::pause_secs(until, now_secs());
                let p = self.vivo.pause(&self.account, &scope, code, secs).await;
                let mut delivery = p.delivery(now_secs());
                delivery.detail = Some(format!(
                    "{}; paused ({scope}) for {secs} s",
                    refusal_detail(&refusal)
                ));
                return Err(Failure {
                    delivery,
                    scope: rule.pause,
                });
            }
            attempt += 1;
            if rule.retry && attempt < MAX_ATTEMPTS {
                if let Some(wait) = self.backoff(attempt) {
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            let detail = refusal_detail(&refusal);
            let detail = if rule.retry {
                format!("{detail} (after {attempt} attempts)")
            } else {
                detail
            };
            return Err(Delivery::new(rule.status, Some(detail)).into());
        }
    }

    async fn single(&self, t: &Target, n: &Notification<'_>) -> Delivery {
        let token = t.token.expose();
        let rid = request_id(
            self.send.message.push_key,
            SEND,
            self.send.cert.id.get(),
            &[token],
        );
        match self.call(SEND, &n.send_body(token, &rid)).await {
            Ok(reply) => Delivery::sent(reply.task_id),
            Err(f) => f.delivery,
        }
    }

    async fn singles(&self, targets: &[Target], n: &Notification<'_>) -> Vec<Delivery> {
        futures::future::join_all(targets.iter().map(|t| self.single(t, n))).await
    }

    /// saveListPayload once, then pushToList per chunk (VIVO_API.md 1.5).
    /// When vivo's list-body limit is reached (10252, endpoint scope), the
    /// targets go one by one through /message/send, which that limit does
    /// not touch.
    async fn lists(&self, n: &Notification<'_>) -> Vec<Delivery> {
        let targets = self.send.targets;
        let reg_ids: Vec<&str> = targets.iter().map(|t| t.token.expose()).collect();
        let cert = self.send.cert.id.get();
        let key = self.send.message.push_key;
        let saved = self
            .call(
                SAVE_LIST,
                &n.save_list_body(&request_id(key, SAVE_LIST, cert, &reg_ids)),
            )
            .await;
        let task_id = match saved {
            Ok(Reply {
                task_id: Some(t), ..
            }) => t,
            Ok(_) => {
                return vec![
                    Delivery::failed("vivo saveListPayload answered no taskId");
                    targets.len()
                ]
            }
            Err(f) if f.scope == Scope::Endpoint => return self.singles(targets, n).await,
            Err(f) => return vec![f.delivery; targets.len()],
        };
        let mut start = 0;
        let chunks = self.send.chunks.iter().map(|size| {
            let ids = &reg_ids[start..start + size];
            start += size;
            self.push_to_list(n, &task_id, ids)
        });
        futures::future::join_all(chunks).await.concat()
    }

    async fn push_to_list(
        &self,
        n: &Notification<'_>,
        task_id: &str,
        reg_ids: &[&str],
    ) -> Vec<Delivery> {
        let rid = request_id(
            self.send.message.push_key,
            PUSH_TO_LIST,
            self.send.cert.id.get(),
            reg_ids,
        );
        match self
            .call(PUSH_TO_LIST, &n.push_to_list_body(task_id, reg_ids, &rid))
            .await
        {
            Ok(reply) => {
                let invalid: HashMap<&str, i64> = reply
                    .invalid_users
                    .iter()
                    .map(|(id, s)| (id.as_str(), *s))
                    .collect();
                reg_ids
                    .iter()
                    .map(|r| match invalid.get(r) {
                        Some(status) => {
                            let refusal = Refusal {
                                answer: Answer::InvalidUser(*status),
                                desc: String::new(),
                            };
                            let rule = codes::rule(refusal.answer);
                            Delivery::new(rule.status, Some(refusal_detail(&refusal)))
                        }
                        None => Delivery::sent(Some(task_id.to_string())),
                    })
                    .collect()
            }
            Err(f) => vec![f.delivery; reg_ids.len()],
        }
    }
}

impl Vivo {
    pub(super) async fn send_group(&self, send: Send<'_>) -> SendReport {
        let n = Notification::new(send.cert, send.message);
        let session = Session {
            vivo: self,
            send: &send,
            account: account_key(&send.cert.credentials),
            class: if send.message.category.classification() == 1 {
                "system"
            } else {
                "operational"
            },
            calls: AtomicUsize::new(0),
        };
        let deliveries = if send.chunks.iter().all(|c| *c == 1) {
            session.singles(send.targets, &n).await
        } else {
            session.lists(&n).await
        };
        SendReport {
            deliveries,
            calls: session.calls.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_stable_per_call_and_distinct_across_calls() {
        let a = request_id("app/req-1", SEND, 1, &["r1"]);
        assert_eq!(a, request_id("app/req-1", SEND, 1, &["r1"]));
        assert_eq!(a.len(), 32);
        assert_ne!(a, request_id("app/req-1", SEND, 1, &["r2"]));
        assert_ne!(a, request_id("app/req-2", SEND, 1, &["r1"]));
        assert_ne!(a, request_id("app/req-1", SEND, 2, &["r1"]));
        assert_ne!(
            request_id("k", SAVE_LIST, 1, &["a", "b"]),
            request_id("k", PUSH_TO_LIST, 1, &["a", "b"])
        );
        assert_ne!(
            request_id("k", PUSH_TO_LIST, 1, &["ab", "c"]),
            request_id("k", PUSH_TO_LIST, 1, &["a", "bc"])
        );
    }
}
