//! One certificate's share of a push through Push Kit v3, on the vendor
//! kit's session (pauses, budget, attempts, backoff, the shared JWT and one
//! re-mint on 80200005): one `messages:send` per chunk of at most 1000
//! tokens, 10 for a test message (VENDORS_API.md 14.4), with `push-type: 0`.
//!
//! Dead tokens: 80100000 and 80300007 end exactly the tokens their
//! `illegalTokens` lists under `tokenFormatError`, `tokenPlatformNotSupport`
//! or `noRight`, except when every token of the call is `noRight`: then the
//! key file's project is not the app's (14.5), a configuration error, and
//! nothing ends (see [`crate::codes::Reply::deliveries`]).

use super::codes::{self, Answer, Refusal, Reply};
use super::credentials::HarmonyCredentials;
use super::jwt::{JwtAuth, POLICY};
use super::message::{Notification, MAX_BODY_BYTES, PUSH_TYPE_ALERT};
use super::Harmony;
use offpush::domain::ids::mask_tail;
use offpush::domain::{Delivery, DeliveryStatus};
use offpush::vendor::kit::{Failure, Session, SessionAuth};
use offpush::vendor::{Send, SendReport};
use serde_json::Value;
use std::time::Instant;

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

impl Harmony {
    /// One `messages:send` call with the JWT `token`.
    pub(crate) async fn post(
        &self,
        creds: &HarmonyCredentials,
        token: Option<String>,
        body: &Value,
        deadline: Instant,
    ) -> Result<Reply, Refusal> {
        let req = self
            .http
            .post(&super::send_path(&creds.project_id))
            .header("content-type", "application/json; charset=UTF-8")
            .header("push-type", PUSH_TYPE_ALERT)
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

    pub(super) async fn send_group(&self, send: Send<'_>) -> SendReport {
        let n = send.targets.len();
        let Some(creds) = HarmonyCredentials::from_data(&send.cert.credentials) else {
            return SendReport {
                deliveries: vec![
                    Delivery::failed(
                        "the certificate's HarmonyOS credentials cannot be read"
                    );
                    n
                ],
                calls: 0,
            };
        };
        let notification = Notification::new(send.cert, send.message);
        if !notification.fits() {
            // 14.4, 14.5: never sent oversize (80300008), never cut.
            let mut d = Delivery::new(
                DeliveryStatus::Rejected,
                Some(format!(
                    "harmony 80300008: the message is {} bytes as Huawei counts it (ext escapes to more bytes than it has), over its {MAX_BODY_BYTES}; not sent",
                    notification.body_size()
                )),
            );
            d.vendor_code = Some("80300008".into());
            return SendReport {
                deliveries: vec![d; n],
                calls: 0,
            };
        }
        let auth = JwtAuth { creds: &creds };
        let session = Session::new(
            &self.accounts,
            creds.account_key(),
            Some(SessionAuth {
                auth: &auth,
                policy: POLICY,
            }),
            send.budget,
            // Push Kit's flow control is per project (14.7), not per class.
            "all",
            super::DEDUPLICATES,
            super::LIMITS.in_flight,
        );
        let deadline = send.budget.deadline();
        // The chunks as calls, each within the per-call maximum (14.4:
        // 80300010 / 80300030 are prevented, never provoked).
        let max = notification.max_tokens();
        let mut calls: Vec<Vec<&str>> = Vec::new();
        let mut start = 0;
        for size in send.chunks {
            let end = (start + size).min(n);
            for part in send.targets[start..end].chunks(max) {
                calls.push(part.iter().map(|t| t.token.expose()).collect());
            }
            start = end;
        }
        if start < n {
            // Targets the chunks left out still get their call.
            for part in send.targets[start..].chunks(max) {
                calls.push(part.iter().map(|t| t.token.expose()).collect());
            }
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
        let mut deliveries = Vec::with_capacity(n);
        for (outcome, tokens) in outcomes.into_iter().zip(&calls) {
            match outcome {
                Ok(reply) => deliveries.extend(reply.deliveries(tokens)),
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
        let d = Delivery::failed("harmony 80100003: illegal payload (bad token abcdefghijkl)");
        let d = scrub(d, &["abcdefghijkl", "short"]);
        let detail = d.detail.unwrap();
        assert!(!detail.contains("abcdefghijkl"), "{detail}");
        assert!(detail.contains("****"), "{detail}");
    }
}
