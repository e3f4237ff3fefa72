//! One certificate's share of a push through vivo, on the vendor kit's
//! session (pauses, budget, attempts, backoff, re-auth once on 10000, one
//! requestId across attempts): single sends through `/message/send`, lists
//! through `saveListPayload` once and `pushToList` per chunk.

use super::auth::{VivoAuth, POLICY};
use super::client::{self, Refusal, Reply, PUSH_TO_LIST, SAVE_LIST, SEND};
use super::codes::Answer;
use super::credentials::VivoCredentials;
use super::message::{classification, Notification};
use super::Vivo;
use offpush::domain::Delivery;
use offpush::vendor::kit::{request_id, Failure, Scope, Session, SessionAuth};
use offpush::vendor::{Send, SendReport, Target};
use serde_json::Value;
use std::collections::HashMap;

/// vivo is not known to deduplicate on requestId (VIVO_API.md 1.3 marks
/// it unconfirmed): a call that may have been written is not sent again.
pub const DEDUPLICATES: bool = false;

struct Group<'a> {
    vivo: &'a Vivo,
    session: Session<'a>,
    send: &'a Send<'a>,
}

impl Group<'_> {
    async fn call(&self, path: &str, body: &Value) -> Result<Reply, Failure> {
        let http = &self.vivo.http;
        self.session
            .call(path, |token| async move {
                client::post(
                    http,
                    path,
                    token.as_deref(),
                    body,
                    self.send.budget.deadline(),
                )
                .await
                .map_err(|r| r.to_kit())
            })
            .await
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
                        Some(status) => Refusal::new(Answer::InvalidUser(*status), "")
                            .to_kit()
                            .delivery(),
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
        let Some(creds) = VivoCredentials::from_data(&send.cert.credentials) else {
            return SendReport {
                deliveries: vec![
                    Delivery::failed(
                        "the certificate's vivo credentials cannot be read"
                    );
                    send.targets.len()
                ],
                calls: 0,
            };
        };
        let auth = VivoAuth {
            http: &self.http,
            creds: &creds,
        };
        let class = if classification(send.message.category) == 1 {
            "system"
        } else {
            "operational"
        };
        let group = Group {
            vivo: self,
            session: Session::new(
                &self.accounts,
                creds.account_key(),
                Some(SessionAuth {
                    auth: &auth,
                    policy: POLICY,
                }),
                send.budget,
                class,
                DEDUPLICATES,
                super::LIMITS.in_flight,
            ),
            send: &send,
        };
        let n = Notification::new(send.cert, &creds, send.message);
        let deliveries = if send.chunks.iter().all(|c| *c == 1) {
            group.singles(send.targets, &n).await
        } else {
            group.lists(&n).await
        };
        SendReport {
            deliveries,
            calls: group.session.calls(),
        }
    }
}
