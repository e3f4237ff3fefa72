//! The recipient plan of one push: every reachable binding of each user
//! gets a slot in the report; slots are grouped by certificate, each
//! group's targets split into chunks as its channel batches (single sends,
//! or even lists), and every certificate's share goes to its channel
//! concurrently, all under one bound on vendor calls in flight and one
//! deadline.

use offpush::bindings::{reachable, DeadToken};
use offpush::domain::binding::why_unreachable;
use offpush::domain::receipt::{receipt_param, receipt_tag};
use offpush::domain::AppId;
use offpush::domain::{
    Certificate, CertificateId, DeliveryOutcome, DeliveryStatus, PushRequest, UserBindings, UserId,
};
use offpush::store::keys::token_ref;
use offpush::vendor::kit::Budget;
use offpush::vendor::{chunk_sizes, Message, Send, Target};
use offpush::Context;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

/// The slots of one certificate's targets.
struct Group<'a> {
    cert: &'a Certificate,
    slots: Vec<usize>,
    targets: Vec<Target>,
}

/// Where every device of the push stands, before anything is sent.
pub struct Plan<'a> {
    /// One per reachable device, or one `no_device` per user without any.
    pub slots: Vec<Option<DeliveryOutcome>>,
    groups: Vec<Group<'a>>,
}

/// `deleted`: the app's recently deleted certificates (id -> ms), for the
/// reason of a `no_device` line.
pub fn plan<'a>(
    req: &PushRequest,
    bindings: &HashMap<UserId, UserBindings>,
    certs: &'a HashMap<CertificateId, Certificate>,
    deleted: &HashMap<CertificateId, i64>,
    now_ms: i64,
) -> Plan<'a> {
    let now_secs = now_ms / 1000;
    let present: HashSet<CertificateId> = certs.keys().copied().collect();
    let mut slots = Vec::new();
    let mut groups: BTreeMap<CertificateId, Group<'a>> = BTreeMap::new();
    for user in &req.to {
        let live = bindings
            .get(user)
            .map(|state| reachable(state, &present, now_secs))
            .unwrap_or_default();
        if live.is_empty() {
            let mut line = DeliveryOutcome::no_device(user);
            line.reason = Some(why_unreachable(
                bindings.get(user),
                &present,
                deleted,
                now_ms,
            ));
            slots.push(Some(line));
        }
        for b in live {
            let g = groups.entry(b.certificate_id).or_insert_with(|| Group {
                cert: &certs[&b.certificate_id],
                slots: Vec::new(),
                targets: Vec::new(),
            });
            g.slots.push(slots.len());
            g.targets.push(Target {
                user: user.clone(),
                device_id: b.device_id.clone(),
                token: b.token.clone(),
            });
            slots.push(None);
        }
    }
    Plan {
        slots,
        groups: groups.into_values().collect(),
    }
}

/// What the fan-out produced.
pub struct Fanned {
    pub results: Vec<DeliveryOutcome>,
    /// Per result line, the device's token reference (None: no device).
    pub refs: Vec<Option<String>>,
    /// Per user, the tokens the vendor declared dead.
    pub dead: BTreeMap<UserId, Vec<DeadToken>>,
    /// Vendor HTTP calls made.
    pub calls: usize,
    /// Per platform, how long its slowest certificate's share took (ms).
    pub latency: BTreeMap<offpush::domain::Platform, u64>,
}

impl Plan<'_> {
    pub fn devices(&self) -> usize {
        self.groups.iter().map(|g| g.targets.len()).sum()
    }

    /// `receipts`: the app, the push's time and its reference, which the
    /// vendor's delivery receipts bring back (sent only through certificates
    /// with receipts on, tagged per certificate); `base_url`: where this API
    /// is reached, for the receipt URL messages carry.
    pub async fn run(
        self,
        ctx: &Context,
        req: &PushRequest,
        push_key: &str,
        receipts: (&AppId, i64, &str),
        base_url: &str,
        deadline: Instant,
    ) -> Fanned {
        let budget = &Budget::new(deadline, ctx.push_concurrency);
        let mut slots = self.slots;
        let mut refs = vec![None; slots.len()];
        let jobs = self.groups.iter().map(|g| async move {
            let started = Instant::now();
            let Ok(vendor) = ctx.vendor(g.cert.platform) else {
                let d = offpush::domain::Delivery::failed(format!(
                    "{} is not served by this deployment",
                    g.cert.platform
                ));
                let report = offpush::vendor::SendReport {
                    deliveries: vec![d; g.targets.len()],
                    calls: 0,
                };
                return (g, report, 0);
            };
            if let Some(click) = &req.click_action {
                // The push's own click action meets its vendor's rules too
                // (a certificate's met them at upload).
                if let Err(e) = vendor.check_click(click, "click_action") {
                    let d = offpush::domain::Delivery::new(
                        offpush::domain::DeliveryStatus::Rejected,
                        Some(format!("{}: {e}", g.cert.platform)),
                    );
                    let report = offpush::vendor::SendReport {
                        deliveries: vec![d; g.targets.len()],
                        calls: 0,
                    };
                    return (g, report, 0);
                }
            }
            let url = g
                .cert
                .receipt
                .as_ref()
                .and_then(|r| r.secret.as_ref())
                .map(|s| offpush::http::receipt_url(base_url, g.cert.platform, s.expose()));
            let (app, pushed_at, push_ref) = receipts;
            let param = receipt_param(pushed_at, push_ref, &receipt_tag(app, g.cert.id));
            let message =
                Message::new(push_key, req, g.cert).with_receipt(g.cert, url.as_deref(), &param);
            let chunks = chunk_sizes(g.targets.len(), vendor.batching(g.cert, &message));
            let report = vendor
                .send(Send {
                    cert: g.cert,
                    message: &message,
                    targets: &g.targets,
                    chunks: &chunks,
                    budget,
                })
                .await;
            (g, report, started.elapsed().as_millis() as u64)
        });
        let mut dead: BTreeMap<UserId, Vec<DeadToken>> = BTreeMap::new();
        let mut calls = 0;
        let mut latency: BTreeMap<offpush::domain::Platform, u64> = BTreeMap::new();
        for (g, report, ms) in futures::future::join_all(jobs).await {
            calls += report.calls;
            let slowest = latency.entry(g.cert.platform).or_default();
            *slowest = (*slowest).max(ms);
            for (i, delivery) in report.deliveries.into_iter().enumerate() {
                let t = &g.targets[i];
                if delivery.status == DeliveryStatus::TokenInvalid {
                    dead.entry(t.user.clone()).or_default().push(DeadToken {
                        cert: g.cert.id,
                        token: t.token.clone(),
                    });
                }
                refs[g.slots[i]] = Some(token_ref(t.token.expose()));
                slots[g.slots[i]] = Some(DeliveryOutcome::device(
                    &t.user,
                    g.cert.id,
                    t.device_id.as_ref(),
                    delivery,
                ));
            }
        }
        let results = slots
            .into_iter()
            .map(|r| r.expect("every slot answered"))
            .collect();
        Fanned {
            results,
            refs,
            dead,
            calls,
            latency,
        }
    }
}
