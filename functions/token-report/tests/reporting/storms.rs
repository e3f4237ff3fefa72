//! Race storms on the binding rules: bounded bursts of concurrent reports,
//! device logouts and admin kicks through the token-report service, on the
//! DynamoDB emulator, with the invariants checked once the burst is over.
//!
//! | storm | ops | invariants |
//! |-------|-----|------------|
//! | `reports_logouts_and_kicks_storm_keep_every_binding_invariant` | 3 rounds x 70 reports / device logouts / kicks (13:4:3), spread over 1.5 s, over 6 users, 3 devices each, 5 contested tokens, max 2 devices | a token has at most one holder, and its owner item names exactly that user and device (none without a holder); at most 2 live bindings per user; every live binding is the answer of a successful report; no logout or kick that started after that report completed, or at or after it started, ended without removing it; no later report of the same device or of the same token by another user left it in place; every 409 is earned: a refused report overlapped a successful logout of its device or kick of its user, or hit the retry bound |
//! | `an_admin_kick_racing_the_first_report_is_never_lost` | 60 rounds x (first report + kick), all at once: the kick 1-15 ms after the report, both within 15 ms, or the report once the kick answered | every kick succeeds; a kick that started at or after the report started leaves no binding and no owner item; a report that started after the kick answered binds; any surviving binding is the report's own, from a report that started after the kick, and the owner item agrees |
//!
//! The two storms take turns (one lock): each measures its own races.
//!
//! Time order comes from a shared sequence (completion order) and the wall
//! clock in ms (what the service compares): a report's `started_ms` is the
//! value the test passes to the service.

use offpush::domain::binding::{DeviceSelector, Report};
use offpush::domain::{App, Binding, CertificateId, DeviceId, PushToken, UserId};
use offpush::ServiceError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use testkit::*;
use token_report::service::{self, ReportOutcome};

/// A small deterministic generator (xorshift64*): a storm replays alike.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn cert1() -> CertificateId {
    CertificateId::new(1).unwrap()
}

fn uid(s: &str) -> UserId {
    UserId::parse("u", s).unwrap()
}

fn tok(s: &str) -> PushToken {
    PushToken::parse("token", s).unwrap()
}

fn dev(s: &str) -> DeviceId {
    DeviceId::parse("d", s).unwrap()
}

async fn env_with(label: &str, max_devices: Option<u32>) -> (TestEnv, App) {
    let env = TestEnv::new(label).await;
    let id = env
        .add_certificate(
            offpush::domain::ClickAction::OpenApp,
            offpush::domain::PushMode::Production,
        )
        .await;
    assert_eq!(id.get(), 1);
    if max_devices.is_some() {
        assert!(env
            .store
            .update_app_settings(&env.app.id, max_devices, None)
            .await
            .unwrap());
    }
    let app = env.app_record().await;
    (env, app)
}

#[derive(Clone, Debug)]
enum Op {
    Report {
        user: String,
        device: String,
        token: String,
    },
    Logout {
        user: String,
        device: String,
    },
    Kick {
        user: String,
    },
}

impl Op {
    fn user(&self) -> &str {
        match self {
            Op::Report { user, .. } | Op::Logout { user, .. } | Op::Kick { user } => user,
        }
    }

    /// Does this logout or kick end the binding of `user`'s `device`?
    fn covers(&self, u: &str, d: &str) -> bool {
        match self {
            Op::Logout { user, device } => user == u && device == d,
            Op::Kick { user } => user == u,
            Op::Report { .. } => false,
        }
    }
}

/// One finished operation.
#[derive(Debug)]
struct Done {
    op: Op,
    /// Sequence numbers from one counter: start < end; a.end < b.start means
    /// a completed before b started.
    start_seq: u64,
    end_seq: u64,
    /// Wall clock (ms) just before the call; for a report, its started_ms.
    start_ms: i64,
    /// Wall clock (ms) just after the call.
    end_ms: i64,
    ok: bool,
    /// The 409's message, when refused.
    refusal: Option<String>,
    /// A successful report's binding, as answered.
    binding: Option<Binding>,
}

async fn run(env: &TestEnv, app: &App, seq: &AtomicU64, op: Op, delay_ms: u64) -> Done {
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    let start_seq = seq.fetch_add(1, Ordering::SeqCst);
    let start_ms = service::now_ms();
    let user = uid(op.user());
    let res: Result<Option<Binding>, ServiceError> = match &op {
        Op::Report { device, token, .. } => {
            let report = Report {
                certificate_id: cert1(),
                token: Some(tok(token)),
                device_id: Some(dev(device)),
            };
            service::report(&env.ctx, app, &user, report, start_ms)
                .await
                .map(|o| match o {
                    ReportOutcome::Bound { binding, .. } => Some(binding),
                    ReportOutcome::Removed => None,
                })
        }
        Op::Logout { device, .. } => {
            service::logout_device(&env.ctx, app, &user, DeviceSelector::DeviceId(dev(device)))
                .await
                .map(|_| None)
        }
        Op::Kick { .. } => service::logout_user(&env.ctx, app, &user)
            .await
            .map(|_| None),
    };
    let end_seq = seq.fetch_add(1, Ordering::SeqCst);
    let end_ms = service::now_ms();
    let (ok, binding, refusal) = match res {
        Ok(b) => (true, b, None),
        // Lost races past the retry budget, and reports refused because a
        // logout overtook them, are 409s: allowed answers, never a 5xx.
        Err(ServiceError::Conflict(m)) => (false, None, Some(m)),
        Err(e) => panic!("{op:?}: {e}"),
    };
    Done {
        op,
        start_seq,
        end_seq,
        start_ms,
        end_ms,
        ok,
        refusal,
        binding,
    }
}

/// Every live binding of `users`, by user: (device key, binding).
async fn live_of(env: &TestEnv, users: &[String]) -> HashMap<String, Vec<(String, Binding)>> {
    let mut out = HashMap::new();
    for u in users {
        let state = env
            .store
            .get_user_bindings(&env.app.id, &uid(u))
            .await
            .unwrap();
        let live = state
            .live(now())
            .map(|(k, b)| (k.clone(), b.clone()))
            .collect();
        out.insert(u.clone(), live);
    }
    out
}

/// A token has at most one holder, and its owner item names exactly that
/// holder and device key (and is absent when nobody holds it).
async fn assert_one_owner_per_token(
    env: &TestEnv,
    tokens: &[String],
    live: &HashMap<String, Vec<(String, Binding)>>,
) {
    for t in tokens {
        let holders: Vec<(&String, &String)> = live
            .iter()
            .flat_map(|(u, bs)| {
                bs.iter()
                    .filter(|(_, b)| b.token == tok(t))
                    .map(move |(k, _)| (u, k))
            })
            .collect();
        assert!(holders.len() <= 1, "{t} is held by {holders:?}");
        let owner = env
            .store
            .get_token_owner(&env.app.id, cert1(), &tok(t))
            .await
            .unwrap();
        match (holders.first(), owner) {
            (None, None) => {}
            (Some((u, k)), Some(o)) => {
                assert_eq!(
                    o.user.as_str(),
                    u.as_str(),
                    "{t}: owner item and holder agree"
                );
                assert_eq!(
                    &o.device_key, *k,
                    "{t}: owner item names the holder's device"
                );
            }
            (h, o) => panic!("{t}: holder {h:?} but owner item {o:?}"),
        }
    }
}

/// A 409 is one of the two the binding rules give, and a refused report
/// was refused for a reason the storm shows:
/// - "logged out while the report was in flight": a successful logout of
///   that device, or kick of that user, whose mark is at or after the
///   report's start (it ended at or after the report's start, since its
///   mark is at most its end) and that started before the report ended;
/// - "too many concurrent changes": the bounded retry gave up, allowed for
///   any change.
fn assert_refusal_is_earned(round: u64, d: &Done, done: &[Done]) {
    let m = d.refusal.as_deref().unwrap_or_default();
    if m.starts_with("too many concurrent changes to this user's devices") {
        return;
    }
    let Op::Report { user, device, .. } = &d.op else {
        panic!("round {round}: {:?} refused: {m}", d.op);
    };
    assert!(
        m.starts_with("this device was logged out while the report was in flight"),
        "round {round}: {:?} refused: {m}",
        d.op
    );
    assert!(
        done.iter().any(|l| l.ok
            && l.op.covers(user, device)
            && l.end_ms >= d.start_ms
            && l.start_seq < d.end_seq),
        "round {round}: {:?} (started {} ms) was refused as logged out, but no logout of it overlapped",
        d.op,
        d.start_ms
    );
}

/// The storms run one at a time: each measures its own races. Run
/// together on one emulator, a storm's calls queue behind the other's and
/// take seconds each, so every report overlaps a kick of its user and is
/// (rightly) refused, and nothing is left to check the invariants on.
static ONE_STORM_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn reports_logouts_and_kicks_storm_keep_every_binding_invariant() {
    let _alone = ONE_STORM_AT_A_TIME.lock().await;
    const MAX_DEVICES: usize = 2;
    let (env, app) = env_with("storm", Some(MAX_DEVICES as u32)).await;
    for round in 0..3u64 {
        let users: Vec<String> = (0..6).map(|i| format!("r{round}-user{i}")).collect();
        let devices = ["p0", "p1", "p2"];
        let tokens: Vec<String> = (0..5).map(|i| format!("r{round}-tok{i}")).collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (round + 1));
        let mut ops = Vec::new();
        for _ in 0..70 {
            let user = users[rng.below(users.len() as u64) as usize].clone();
            let device = devices[rng.below(3) as usize].to_string();
            let op = match rng.below(20) {
                0..=12 => Op::Report {
                    user,
                    device,
                    token: tokens[rng.below(tokens.len() as u64) as usize].clone(),
                },
                13..=16 => Op::Logout { user, device },
                _ => Op::Kick { user },
            };
            // Spread over 1.5 s: bursts overlap, and some reports also
            // land between logouts.
            ops.push((op, rng.below(1500)));
        }
        let seq = AtomicU64::new(0);
        let done: Vec<Done> = futures::future::join_all(
            ops.into_iter()
                .map(|(op, delay)| run(&env, &app, &seq, op, delay)),
        )
        .await;
        for d in done.iter().filter(|d| !d.ok) {
            eprintln!("round {round}: 409 {:?}: {:?}", d.op, d.refusal);
            assert_refusal_is_earned(round, d, &done);
        }
        let reports_ok = done
            .iter()
            .filter(|d| d.ok && matches!(d.op, Op::Report { .. }))
            .count();
        eprintln!("round {round}: {reports_ok} reports bound");
        assert!(reports_ok > 0, "round {round}: some reports went through");

        let live = live_of(&env, &users).await;
        assert_one_owner_per_token(&env, &tokens, &live).await;
        for (u, bindings) in &live {
            assert!(
                bindings.len() <= MAX_DEVICES,
                "round {round}: {u} has {} live bindings",
                bindings.len()
            );
            for (key, b) in bindings {
                // The report whose answer this binding is.
                let r = done
                    .iter()
                    .find(|d| d.ok && d.op.user() == u && d.binding.as_ref() == Some(b))
                    .unwrap_or_else(|| {
                        panic!("round {round}: {u} {key}: no report answered {b:?}")
                    });
                let Op::Report { device, token, .. } = &r.op else {
                    unreachable!()
                };
                assert_eq!(key, &format!("d:{device}"));
                for l in done.iter().filter(|l| l.ok && l.op.covers(u, device)) {
                    assert!(
                        l.start_seq < r.end_seq,
                        "round {round}: {u}/{device}: {:?} started after the report completed, yet the binding survived",
                        l.op
                    );
                    assert!(
                        l.start_ms < r.start_ms,
                        "round {round}: {u}/{device}: {:?} started at {} ms, the report at {} ms, yet the report's binding survived",
                        l.op,
                        l.start_ms,
                        r.start_ms
                    );
                }
                for later in done.iter().filter(|d| d.ok && d.start_seq > r.end_seq) {
                    if let Op::Report {
                        user: u2,
                        device: d2,
                        token: t2,
                    } = &later.op
                    {
                        assert!(
                            !(u2 == u && d2 == device),
                            "round {round}: a later report of {u}/{device} did not replace the binding"
                        );
                        assert!(
                            !(u2 != u && t2 == token),
                            "round {round}: {token} was reported later by {u2} but is still {u}'s"
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn an_admin_kick_racing_the_first_report_is_never_lost() {
    let _alone = ONE_STORM_AT_A_TIME.lock().await;
    let (env, app) = env_with("kick-first", None).await;
    let seq = AtomicU64::new(0);
    let mut rng = Rng(0x5151_7a7a_0101_4242);
    // Rounds i % 3 == 0: the kick starts 1-15 ms after the report (at or
    // after it: the kick must win). 1: both within 15 ms, either first.
    // 2: the report starts once the kick has answered, and must bind.
    // All 60 rounds at once, so every call queues behind the others.
    let rounds: Vec<(usize, u64, u64)> = (0..60)
        .map(|i| match i % 3 {
            0 => (i, 0, 1 + rng.below(15)),
            1 => (i, rng.below(15), rng.below(15)),
            _ => (i, rng.below(15), 0),
        })
        .collect();
    let races = rounds.iter().map(|&(i, report_delay, kick_delay)| {
        let (env, app, seq) = (&env, &app, &seq);
        async move {
            let user = format!("first-{i:02}");
            let report = Op::Report {
                user: user.clone(),
                device: "phone".into(),
                token: format!("first-tok-{i:02}"),
            };
            let kick = Op::Kick { user };
            if i % 3 == 2 {
                let kick = run(env, app, seq, kick, kick_delay).await;
                (run(env, app, seq, report, report_delay).await, kick)
            } else {
                futures::join!(
                    run(env, app, seq, report, report_delay),
                    run(env, app, seq, kick, kick_delay)
                )
            }
        }
    });
    let results: Vec<(Done, Done)> = futures::future::join_all(races).await;
    let mut kick_won = 0;
    let mut survived = 0;
    for (i, (report, kick)) in results.iter().enumerate() {
        let user = report.op.user().to_string();
        let t = format!("first-tok-{i:02}");
        assert!(kick.ok, "{user}: the kick was lost");
        let live = live_of(&env, std::slice::from_ref(&user)).await;
        let live = &live[&user];
        assert_one_owner_per_token(
            &env,
            std::slice::from_ref(&t),
            &HashMap::from([(user.clone(), live.clone())]),
        )
        .await;
        if kick.start_ms >= report.start_ms {
            kick_won += 1;
            assert!(
                live.is_empty(),
                "{user}: a kick that started at or after the report ({} >= {} ms) was overwritten: {live:?}",
                kick.start_ms,
                report.start_ms
            );
        }
        if kick.end_seq < report.start_seq {
            assert!(
                report.ok && live.len() == 1,
                "{user}: a report that started after the kick answered must bind: {:?}, {live:?}",
                report.refusal
            );
        }
        if let Some((_, b)) = live.first() {
            survived += 1;
            assert!(report.ok, "{user}: a binding without a successful report");
            assert_eq!(
                report.binding.as_ref(),
                Some(b),
                "{user}: the report's own binding"
            );
            assert!(
                kick.start_ms < report.start_ms,
                "{user}: the report outlived a kick that started at or after it"
            );
        }
    }
    let refused = results.iter().filter(|(r, _)| !r.ok).count();
    eprintln!(
        "{kick_won} kicks started at or after their report; {refused} reports answered 409; {survived} bindings survived"
    );
    assert!(
        kick_won >= 20,
        "every third round starts the kick after the report"
    );
}
