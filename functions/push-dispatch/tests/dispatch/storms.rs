//! Race storms around pushes: bounded bursts of concurrent pushes and
//! reports (bindings made through the shared binding rules, testkit), with
//! the invariants checked once the burst is over.
//!
//! | storm | ops | invariants |
//! |-------|-----|------------|
//! | `twin_pushes_with_one_request_id_send_each_device_once` (list and single-send rounds) | 2 x 12 pushes with one request_id, spread over 0.6 s, vivo answering in 300 ms | one answer with `duplicate: false`, the rest `duplicate: true` (or 409 "in progress"); every answer has the same request_id, results and summary; one saveListPayload and one pushToList (or one send per device); every device delivered exactly once |
//! | `dead_token_verdicts_racing_re_reports_on_the_list_path` / `..._on_single_sends` | a push to 24 users whose tokens vivo calls dead, answered in 400 ms, racing 16 re-reports of those tokens (by their user, or by a new user) spread over 2 s (list) or 4 s (single sends) | a binding re-reported after vivo received the call that judged its token is kept; a token that moved to another user is never taken from the new owner; untouched dead bindings (and their owner items) are removed |

use crate::common::*;
use offpush::domain::{CertificateId, PushToken};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const SEND: &str = "/message/send";
const SAVE_LIST: &str = "/message/saveListPayload";
const PUSH_TO_LIST: &str = "/message/pushToList";

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

async fn owner(env: &TestEnv, token: &str) -> Option<String> {
    env.store
        .get_token_owner(
            &env.app.id,
            CertificateId::new(1).unwrap(),
            &PushToken::parse("t", token).unwrap(),
        )
        .await
        .unwrap()
        .map(|o| o.user.as_str().to_string())
}

#[tokio::test]
async fn twin_pushes_with_one_request_id_send_each_device_once() {
    let (env, app) = setup("twins").await;
    let users = ["alice", "bob", "carol", "dave", "erin"];
    for u in users {
        bind(&env, &app, u, &format!("regid-{u}"), None).await;
    }
    let mut rng = Rng(0x7a11_5eed_0000_0001);
    // Round 0: a list push; round 1: single sends (a TTL under 900 s).
    for (round, ttl) in [(0, 86_400), (1, 60)] {
        env.sim.reset();
        let slow = CallAction::Delay(Duration::from_millis(300));
        env.sim.script_always(PUSH_TO_LIST, Some(slow.clone()));
        env.sim.script_always(SEND, Some(slow));
        let body = json!({
            "to": users,
            "desc": "hi",
            "ttl_seconds": ttl,
            "request_id": format!("storm-twin-{round}"),
        });
        let twins = (0..12).map(|_| {
            let delay = rng.below(600);
            let (env, body) = (&env, &body);
            async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                push(env, body).await
            }
        });
        let answers: Vec<(u16, Value)> = futures::future::join_all(twins).await;
        let ok: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == 200)
            .map(|(_, v)| v)
            .collect();
        for (s, v) in &answers {
            if *s != 200 {
                assert_eq!(*s, 409, "round {round}: {v}");
                assert!(
                    v["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("in progress"),
                    "round {round}: {v}"
                );
            }
        }
        let first: Vec<&&Value> = ok.iter().filter(|v| v["duplicate"] == false).collect();
        assert_eq!(first.len(), 1, "round {round}: one call sent: {answers:?}");
        let first = first[0];
        assert_eq!(
            first["summary"]["sent"],
            users.len(),
            "round {round}: {first}"
        );
        for v in &ok {
            assert_eq!(v["request_id"], first["request_id"], "round {round}");
            assert_eq!(v["results"], first["results"], "round {round}: one result");
            assert_eq!(v["summary"], first["summary"], "round {round}");
        }
        if ttl >= 900 {
            assert_eq!(env.sim.requests_to(SAVE_LIST).len(), 1, "round {round}");
            assert_eq!(env.sim.requests_to(PUSH_TO_LIST).len(), 1, "round {round}");
            assert!(env.sim.requests_to(SEND).is_empty(), "round {round}");
        } else {
            assert_eq!(
                env.sim.requests_to(SEND).len(),
                users.len(),
                "round {round}"
            );
            assert!(
                env.sim.requests_to(PUSH_TO_LIST).is_empty(),
                "round {round}"
            );
        }
        let mut per_device: HashMap<String, usize> = HashMap::new();
        for d in env.sim.deliveries() {
            *per_device.entry(d.reg_id).or_default() += 1;
        }
        for u in users {
            assert_eq!(
                per_device.get(&format!("regid-{u}")),
                Some(&1),
                "round {round}: {u} delivered exactly once"
            );
        }
        assert_eq!(per_device.len(), users.len());
    }
}

/// Who re-reports a dead token during the push.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Nobody: the verdict ends the binding.
    Untouched,
    /// Its user, on the same device (a reinstall that got the same regId).
    SameUser,
    /// Another user (the device changed hands).
    NewUser,
}

async fn dead_tokens_racing_re_reports(label: &str, ttl: u32, spread_ms: u64) {
    let (mut env, app) = setup(label).await;
    // A deadline with room for every single send (6 waves of 4 at 400 ms)
    // even on a busy machine: this storm is about the verdicts.
    let mut cfg = config(env.store.table(), &env.sim.base_url());
    cfg.push_deadline = Duration::from_secs(20);
    cfg.push_concurrency = 4;
    env.ctx = testkit::context(env.store.clone(), &cfg);
    let users: Vec<String> = (0..24).map(|i| format!("d{i:02}")).collect();
    let kind = |i: usize| match i % 3 {
        0 => Kind::Untouched,
        1 => Kind::SameUser,
        _ => Kind::NewUser,
    };
    for u in &users {
        let t = format!("dead-{u}");
        bind(&env, &app, u, &t, Some("phone")).await;
        env.sim.set_reg_id(&t, RegIdVerdict::Invalid { status: 2 });
    }
    let slow = CallAction::Delay(Duration::from_millis(400));
    env.sim.script_always(PUSH_TO_LIST, Some(slow.clone()));
    env.sim.script_always(SEND, Some(slow));
    let mut rng = Rng(0xdead_0000_beef_0001 ^ u64::from(ttl));
    let plan: Vec<(usize, u64)> = (0..users.len())
        .filter(|i| kind(*i) != Kind::Untouched)
        .map(|i| (i, rng.below(spread_ms)))
        .collect();
    let body = json!({"to": users, "desc": "hi", "ttl_seconds": ttl});
    let pushing = push(&env, &body);
    let reports = plan.iter().map(|&(i, delay)| {
        let (env, users) = (&env, &users);
        async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let u = &users[i];
            let t = format!("dead-{u}");
            let started = offpush::clock::now_ms();
            match kind(i) {
                Kind::SameUser => env.bind(1, u, &t, Some("phone")).await,
                _ => env.bind(1, &format!("new-{u}"), &t, Some("phone")).await,
            }
            (i, started)
        }
    });
    let ((s, r), started): ((u16, Value), Vec<(usize, i64)>) =
        futures::join!(pushing, futures::future::join_all(reports));
    assert_eq!(s, 200, "{r}");
    let started: HashMap<usize, i64> = started.into_iter().collect();

    // When vivo received the call that judged each token.
    let mut judged_at: HashMap<String, i64> = HashMap::new();
    let mut answered_at: HashMap<String, i64> = HashMap::new();
    for req in env.sim.requests() {
        let ids: Vec<String> = match req.path.as_str() {
            SEND => vec![req.body["regId"].as_str().unwrap().to_string()],
            PUSH_TO_LIST => req.body["regIds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect(),
            _ => continue,
        };
        for id in ids {
            judged_at.insert(id.clone(), req.received_ms);
            answered_at.insert(id, req.answered_ms);
        }
    }
    let mut after_verdict = 0;
    for (i, u) in users.iter().enumerate() {
        let t = format!("dead-{u}");
        let new = format!("new-{u}");
        match kind(i) {
            Kind::Untouched => {
                assert_eq!(status_of(&r, u), "token_invalid", "{u}: {r}");
                assert!(live_tokens(&env, u).await.is_empty(), "{u}: removed");
                assert_eq!(owner(&env, &t).await, None, "{u}: owner item removed");
            }
            Kind::SameUser => {
                let late = judged_at.get(&t).is_some_and(|at| started[&i] > *at);
                if late {
                    after_verdict += 1;
                    assert_eq!(
                        live_tokens(&env, u).await,
                        [t.as_str()],
                        "{u}: re-reported after vivo got the call, yet removed"
                    );
                    assert_eq!(owner(&env, &t).await.as_deref(), Some(u.as_str()));
                }
            }
            Kind::NewUser => {
                // The verdict was about the old owner's binding: the new
                // owner keeps the token, whenever it reported.
                assert_eq!(live_tokens(&env, &new).await, [t.as_str()], "{new}: kept");
                assert_eq!(owner(&env, &t).await.as_deref(), Some(new.as_str()));
                assert!(
                    live_tokens(&env, u).await.is_empty(),
                    "{u}: the token moved"
                );
                if judged_at.get(&t).is_some_and(|at| started[&i] > *at) {
                    after_verdict += 1;
                }
            }
        }
    }
    // Those that came while vivo was still judging: the closest race with
    // the cleanup that follows the answer.
    let in_flight = plan
        .iter()
        .filter(|(i, _)| {
            let t = format!("dead-{}", users[*i]);
            let s = started[i];
            judged_at.get(&t).is_some_and(|at| s > *at)
                && answered_at.get(&t).is_some_and(|at| s <= *at)
        })
        .count();
    eprintln!(
        "{after_verdict} of {} re-reports came after vivo got their call, {in_flight} before its answer",
        plan.len()
    );
    assert!(after_verdict > 0, "some re-reports raced the verdict");
}

#[tokio::test]
async fn dead_token_verdicts_racing_re_reports_on_the_list_path() {
    dead_tokens_racing_re_reports("dead-race-list", 86_400, 2_000).await;
}

#[tokio::test]
async fn dead_token_verdicts_racing_re_reports_on_single_sends() {
    dead_tokens_racing_re_reports("dead-race-single", 60, 4_000).await;
}
