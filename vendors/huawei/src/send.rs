//! One certificate's share of a push through Huawei, on the vendor kit's
//! session (pauses, budget, attempts, backoff, the shared token and one
//! re-auth on 80200003): one `messages:send` per chunk of at most 1000
//! tokens (VENDORS_API.md 4.2).
//!
//! Dead tokens: 80100000 ends exactly the tokens its `illegal_tokens`
//! names. 80300007 ("all tokens invalid") is gated, as 4.3 advises,
//! because Huawei also answers it to a misconfigured app (a wrong package
//! or app id), where ending bindings would log every device out: it ends
//! the bindings of a call only when a send of the same Huawei app was
//! accepted in this push, or in this instance within the last
//! [`GATE_SECS`] (4.3 [S]: a client deletes on 80300007 only when
//! something else succeeded that round). Otherwise the targets answer
//! `failed`, bindings kept.

use super::auth::{HuaweiAuth, POLICY};
use super::codes::{self, Answer, Refusal, Reply};
use super::credentials::HuaweiCredentials;
use super::message::{Notification, MAX_BODY_BYTES, MAX_TOKENS};
use super::Huawei;
use offpush::clock::now_secs;
use offpush::domain::ids::mask_tail;
use offpush::domain::{Delivery, DeliveryStatus};
use offpush::vendor::kit::{Failure, Session, SessionAuth};
use offpush::vendor::{Send, SendReport};
use serde_json::Value;
use std::collections::HashSet;
use std::time::Instant;

/// How long an accepted send vouches for the app's configuration, for the
/// 80300007 gate.
pub const GATE_SECS: i64 = 86_400;

/// `detail` with every token of the call masked: Huawei's `msg` is never
/// trusted to hold none.
fn scrub(mut d: Delivery, tokens: &[&str]) -> Delivery {
    if let Some(detail) = d.detail.as_mut() {
        for t in tokens.iter().filter(|t| t.len() >= 8) {
            if detail.contains(*t) {
                *detail = detail.replace(*t, &mask_tail(t, 4));
            }
        }
    }
    d
}

impl Huawei {
    /// One `messages:send` call.
    async fn post(
        &self,
        creds: &HuaweiCredentials,
        token: Option<String>,
        body: &Value,
        deadline: Instant,
    ) -> Result<Reply, Refusal> {
        let req = self
            .http
            .post(&self.send_url(creds))
            .header("content-type", "application/json;charset=UTF-8")
            .header(
                "authorization",
                format!("Bearer {}", token.unwrap_or_default()),
            )
            .body(body.to_string());
        match self.http.call(req, deadline).await {
            Ok(a) => codes::read_send(a.status, &a.body, codes::retry_after(&a.headers)),
            Err(n) => Err(Refusal {
                maybe_written: n.maybe_written(),
                ..Refusal::new(Answer::Unreachable, n.why())
            }),
        }
    }

    fn note_accepted(&self, account: &str) {
        let mut m = self
            .accepted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.insert(account.to_string(), now_secs());
    }

    fn accepted_lately(&self, account: &str) -> bool {
        let m = self
            .accepted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(account).is_some_and(|at| now_secs() - at < GATE_SECS)
    }

    pub(super) async fn send_group(&self, send: Send<'_>) -> SendReport {
        let n = send.targets.len();
        let Some(creds) = HuaweiCredentials::from_data(&send.cert.credentials) else {
            return SendReport {
                deliveries: vec![
                    Delivery::failed(
                        "the certificate's Huawei credentials cannot be read"
                    );
                    n
                ],
                calls: 0,
            };
        };
        let notification = Notification::new(send.cert, send.message);
        if !notification.fits() {
            // 4.2, 4.3: never sent oversize (80300008).
            let mut d = Delivery::new(
                DeliveryStatus::Rejected,
                Some(format!(
                    "huawei 80300008: the message is {} bytes as Huawei counts it (ext escapes to more bytes than it has), over its {MAX_BODY_BYTES}; not sent",
                    notification.body_size()
                )),
            );
            d.vendor_code = Some("80300008".into());
            return SendReport {
                deliveries: vec![d; n],
                calls: 0,
            };
        }
        let account = creds.account_key();
        let auth = HuaweiAuth {
            http: &self.http,
            url: self.token_url(),
            creds: &creds,
        };
        let session = Session::new(
            &self.accounts,
            account.clone(),
            Some(SessionAuth {
                auth: &auth,
                policy: POLICY,
            }),
            send.budget,
            // Huawei's flow control is per app (4.5), not per class.
            "all",
            super::DEDUPLICATES,
            super::LIMITS.in_flight,
        );
        let deadline = send.budget.deadline();
        // The chunks as calls, each at most MAX_TOKENS (4.2: never over-count).
        let mut calls: Vec<Vec<&str>> = Vec::new();
        let mut start = 0;
        for size in send.chunks {
            let end = (start + size).min(n);
            for part in send.targets[start..end].chunks(MAX_TOKENS) {
                calls.push(part.iter().map(|t| t.token.expose()).collect());
            }
            start = end;
        }
        let (session, creds, notification) = (&session, &creds, &notification);
        let outcomes = futures::future::join_all(calls.iter().map(|tokens| async move {
            let body = notification.body(tokens);
            let got: Result<Reply, Failure> = session
                .call("messages:send", |token| {
                    let body = &body;
                    async move {
                        self.post(creds, token, body, deadline)
                            .await
                            .map_err(|r| r.to_kit())
                    }
                })
                .await;
            got
        }))
        .await;
        // The gate of 80300007 (see the module doc).
        let accepted_now = outcomes
            .iter()
            .zip(&calls)
            .any(|(o, tokens)| matches!(o, Ok(r) if r.illegal_tokens.len() < tokens.len()));
        if accepted_now {
            self.note_accepted(&account);
        }
        let vouched = accepted_now || self.accepted_lately(&account);
        let mut deliveries = Vec::with_capacity(n);
        for (outcome, tokens) in outcomes.into_iter().zip(&calls) {
            match outcome {
                Ok(reply) => {
                    let illegal: HashSet<&str> =
                        reply.illegal_tokens.iter().map(String::as_str).collect();
                    deliveries.extend(tokens.iter().map(|t| {
                        if illegal.contains(t) {
                            Refusal::new(Answer::IllegalToken, "").to_kit().delivery()
                        } else {
                            Delivery::sent(reply.request_id.clone())
                        }
                    }));
                }
                Err(f) if vouched && f.delivery.vendor_code.as_deref() == Some("80300007") => {
                    let d = Refusal::new(Answer::AllTokensInvalid, "")
                        .to_kit()
                        .delivery();
                    deliveries.extend(std::iter::repeat_n(d, tokens.len()));
                }
                Err(f) => {
                    let d = scrub(f.delivery, tokens);
                    deliveries.extend(std::iter::repeat_n(d, tokens.len()));
                }
            }
        }
        SendReport {
            deliveries,
            calls: session.calls(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_reach_a_detail() {
        let d =
            Delivery::failed("huawei 80100003: message structure error (bad token abcdefghijkl)");
        let d = scrub(d, &["abcdefghijkl", "short"]);
        let detail = d.detail.unwrap();
        assert!(!detail.contains("abcdefghijkl"), "{detail}");
        assert!(detail.contains("****"), "{detail}");
    }
}
