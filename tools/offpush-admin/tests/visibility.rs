//! Delivery visibility from the operator's side: pushes made through the
//! real push dispatch handler (with the simulator as vivo) and a receipt
//! through its receipt route, then `push show`, `stats`, `push-log` and
//! `receipts raw` read the table and must answer what the API answers.

mod common;

use common::admin;
use offpush::domain::ReceiptSecret;
use serde_json::{json, Value};
use std::cell::RefCell;
use testkit::{read, request, request_raw, TestEnv};

const ALICE_TOKEN: &str = "regid-alice-0001";
const BOB_TOKEN: &str = "regid-bob-0002";
/// A regId in the receipt that names no push of ours.
const STRANGER_TOKEN: &str = "regid-stranger-9999";

/// A table with: certificate 1 with receipts on; alice and bob bound,
/// carol not; push `m-1` to alice and carol, `m-2` to alice and bob; a
/// receipt naming alice for `m-1` plus a part that is not ours (kept raw).
struct Seeded {
    env: TestEnv,
    receipt_secret: ReceiptSecret,
}

/// The admin tool, keeping everything it printed for the secrets check.
struct Admin {
    table: String,
    printed: RefCell<String>,
}

impl Admin {
    fn run(&self, args: &[&str]) -> std::process::Output {
        let out = admin(&self.table, args);
        let mut p = self.printed.borrow_mut();
        p.push_str(&String::from_utf8_lossy(&out.stdout));
        p.push_str(&String::from_utf8_lossy(&out.stderr));
        out
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> Value {
        common::json_of(&self.run(args))
    }

    /// Runs a command that must fail; its message, which must contain `says`.
    #[track_caller]
    fn refused(&self, args: &[&str], says: &str) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        stderr
    }

    /// Nothing printed held a secret or a whole token.
    fn assert_no_secrets(&self, s: &Seeded) {
        let printed = self.printed.borrow();
        assert!(!printed.is_empty());
        for secret in [
            s.env.app.secret.expose(),
            testkit::VIVO_APP_SECRET,
            s.receipt_secret.expose(),
            ALICE_TOKEN,
            BOB_TOKEN,
            STRANGER_TOKEN,
        ] {
            assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
        }
    }
}

async fn get(env: &TestEnv, uri: &str) -> Value {
    let (status, body) = read(
        push_dispatch::handle(
            &env.ctx,
            request("GET", uri, Some(&env.app.admin_token()), None),
        )
        .await,
    );
    assert_eq!(status, 200, "{uri}: {body}");
    body
}

async fn push(env: &TestEnv, body: Value) {
    let (status, report) = read(
        push_dispatch::handle(
            &env.ctx,
            request(
                "POST",
                "/v1/push",
                Some(&env.app.admin_token()),
                Some(&body),
            ),
        )
        .await,
    );
    assert_eq!(status, 200, "{report}");
}

async fn seed(label: &str) -> (Seeded, Admin) {
    use offpush::domain::{ClickAction, PushMode};
    let env = TestEnv::new(label).await;
    env.add_certificate(ClickAction::OpenApp, PushMode::Production)
        .await;
    let receipt_secret = env.enable_vivo_receipts(1).await;
    env.bind(1, "alice", ALICE_TOKEN, Some("phone-a")).await;
    env.bind(1, "bob", BOB_TOKEN, None).await;
    push(
        &env,
        json!({"to": ["alice", "carol"], "desc": "one", "request_id": "m-1"}),
    )
    .await;
    push(
        &env,
        json!({"to": ["alice", "bob"], "desc": "two", "request_id": "m-2"}),
    )
    .await;
    // m-1 went to alice alone: one single send, with its receipt reference.
    let sends = env.sim.requests_to("/message/send");
    assert_eq!(sends.len(), 1);
    let param = sends[0].body["extra"]["callback.param"]
        .as_str()
        .unwrap()
        .to_string();
    let receipt = json!({
        "task-1": {"param": param, "targets": ALICE_TOKEN},
        "task-x": {"param": "someone-else", "targets": STRANGER_TOKEN},
    })
    .to_string();
    let (status, ack) = read(
        push_dispatch::handle(
            &env.ctx,
            request_raw(
                "POST",
                &format!("/v1/receipts/vivo/{}", receipt_secret.expose()),
                None,
                &receipt,
            ),
        )
        .await,
    );
    assert_eq!(status, 200, "{ack}");
    assert_eq!(
        (&ack["delivered"], &ack["unmatched"]),
        (&json!(1), &json!(1))
    );
    let table = env.store.table().to_string();
    (
        Seeded {
            env,
            receipt_secret,
        },
        Admin {
            table,
            printed: RefCell::new(String::new()),
        },
    )
}

/// A token as every answer shows one: its last characters only.
fn masked(token: &str) -> String {
    let shown = offpush::domain::PushToken::parse("token", token)
        .unwrap()
        .masked();
    assert!(shown.starts_with("****") && shown.len() < token.len());
    shown
}

fn today() -> String {
    offpush::domain::utc_date(testkit::now_ms())
}

#[tokio::test]
async fn push_show_prints_the_push_record_the_api_answers() {
    let (s, cli) = seed("admin-push-show").await;
    let shown = cli.ok(&["push", "show", "--app", "demo", "--request-id", "m-1"]);
    assert_eq!(shown, get(&s.env, "/v1/pushes/m-1").await);
    assert_eq!(shown["request_id"], "m-1");
    assert_eq!(shown["state"], "done");
    assert!(shown["pushed_at"].is_string() && shown["expires_at"].is_string());
    assert!(shown["last_receipt_at"].is_string(), "{shown}");
    let results = shown["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{shown}");
    let line = |user: &str| results.iter().find(|r| r["user_id"] == user).unwrap();
    assert_eq!(line("alice")["status"], "sent");
    assert_eq!(line("alice")["device_id"], "phone-a");
    assert_eq!(line("alice")["delivery_state"], "delivered");
    assert_eq!(line("carol")["status"], "no_device");
    assert_eq!(shown["summary"]["delivered"], 1);

    // m-2: sent to both, no receipt yet.
    let two = cli.ok(&["push", "show", "--app", "demo", "--request-id", "m-2"]);
    assert_eq!(two, get(&s.env, "/v1/pushes/m-2").await);
    assert_eq!(two["summary"]["delivered"], 0);
    for line in two["results"].as_array().unwrap() {
        assert_eq!(line["delivery_state"], "sent", "{line}");
    }

    cli.refused(
        &["push", "show", "--app", "demo", "--request-id", "m-9"],
        "no push with request_id m-9",
    );
    cli.refused(
        &["push", "show", "--app", "demo", "--request-id", ""],
        "--request-id: must be 1 to",
    );
    cli.refused(
        &["push", "show", "--app", "ghost", "--request-id", "m-1"],
        "no app ghost",
    );
    cli.refused(&["push", "show", "--app", "demo"], "--request-id");
    cli.assert_no_secrets(&s);
}

#[tokio::test]
async fn stats_prints_the_days_the_api_answers_with_its_defaults_and_limits() {
    let (s, cli) = seed("admin-stats").await;
    let day = today();
    let one = cli.ok(&["stats", "--app", "demo", "--from", &day, "--to", &day]);
    assert_eq!(
        one,
        get(&s.env, &format!("/v1/stats?from={day}&to={day}")).await
    );
    let counts = &one["days"][0];
    assert_eq!(counts["date"], day.as_str());
    for (name, n) in [
        ("pushes", 2),
        ("recipients", 4),
        ("sent", 3),
        ("delivered", 1),
        ("no_device", 1),
        ("failed", 0),
    ] {
        assert_eq!(counts[name], n, "{name}: {one}");
    }
    assert!(one.get("certificate_id").is_none());

    let cert = cli.ok(&[
        "stats",
        "--app",
        "demo",
        "--from",
        &day,
        "--to",
        &day,
        "--certificate",
        "1",
    ]);
    assert_eq!(
        cert,
        get(
            &s.env,
            &format!("/v1/stats?from={day}&to={day}&certificate_id=1")
        )
        .await
    );
    assert_eq!(cert["certificate_id"], 1);
    assert_eq!(cert["days"][0]["sent"], 3);
    let other = cli.ok(&[
        "stats",
        "--app",
        "demo",
        "--from",
        &day,
        "--to",
        &day,
        "--certificate",
        "2",
    ]);
    assert_eq!(other["days"][0]["pushes"], 0, "no push went through 2");

    // Defaults: the week up to today (unless the day turned meanwhile).
    let default = cli.ok(&["stats", "--app", "demo"]);
    if today() == day {
        assert_eq!(default, get(&s.env, "/v1/stats").await);
        let days = default["days"].as_array().unwrap();
        assert_eq!(days.len(), 7);
        assert_eq!(days[6]["date"], day.as_str());
        assert_eq!(days[6]["pushes"], 2);
        assert!(days[..6].iter().all(|d| d["pushes"] == 0), "{default}");
    }
    let month = cli.ok(&[
        "stats",
        "--app",
        "demo",
        "--from",
        "2026-01-01",
        "--to",
        "2026-02-01",
    ]);
    assert_eq!(month["days"].as_array().unwrap().len(), 32);

    cli.refused(
        &["stats", "--app", "demo", "--from", "2026-13-01"],
        "--from: must be a date YYYY-MM-DD",
    );
    cli.refused(
        &["stats", "--app", "demo", "--to", "yesterday"],
        "--to: must be a date YYYY-MM-DD",
    );
    cli.refused(
        &[
            "stats",
            "--app",
            "demo",
            "--from",
            "2026-01-01",
            "--to",
            "2026-02-02",
        ],
        "--to: at most 31 days after --from",
    );
    cli.refused(
        &[
            "stats",
            "--app",
            "demo",
            "--from",
            "2026-01-02",
            "--to",
            "2026-01-01",
        ],
        "--from: must not be after --to",
    );
    cli.refused(
        &["stats", "--app", "demo", "--certificate", "0"],
        "--certificate must be a positive integer",
    );
    cli.refused(&["stats", "--app", "ghost"], "no app ghost");
    cli.assert_no_secrets(&s);
}

#[tokio::test]
async fn push_log_prints_the_pages_the_api_answers() {
    let (s, cli) = seed("admin-push-log").await;
    let log = cli.ok(&["push-log", "--app", "demo", "--user", "alice"]);
    assert_eq!(log, get(&s.env, "/v1/users/alice/push-log").await);
    assert_eq!(log["user_id"], "alice");
    let entries = log["entries"].as_array().unwrap();
    let ids: Vec<&str> = entries
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["m-2", "m-1"], "newest first");
    assert_eq!(entries[1]["results"][0]["delivery_state"], "delivered");
    assert_eq!(entries[0]["results"][0]["delivery_state"], "sent");
    assert!(log.get("next").is_none(), "{log}");

    // One at a time: the cursor of the first page opens the second.
    let first = cli.ok(&[
        "push-log", "--app", "demo", "--user", "alice", "--limit", "1",
    ]);
    assert_eq!(first, get(&s.env, "/v1/users/alice/push-log?limit=1").await);
    assert_eq!(first["entries"].as_array().unwrap().len(), 1);
    assert_eq!(first["entries"][0]["request_id"], "m-2");
    let next = first["next"].as_str().expect("a next cursor").to_string();
    let second = cli.ok(&[
        "push-log", "--app", "demo", "--user", "alice", "--limit", "1", "--before", &next,
    ]);
    assert_eq!(
        second,
        get(
            &s.env,
            &format!("/v1/users/alice/push-log?limit=1&before={next}")
        )
        .await
    );
    assert_eq!(second["entries"][0]["request_id"], "m-1");

    let carol = cli.ok(&["push-log", "--app", "demo", "--user", "carol"]);
    assert_eq!(carol, get(&s.env, "/v1/users/carol/push-log").await);
    let line = &carol["entries"][0]["results"][0];
    assert_eq!(line["status"], "no_device");
    assert_eq!(line["reason"]["code"], "never_reported", "{carol}");
    let nobody = cli.ok(&["push-log", "--app", "demo", "--user", "dave"]);
    assert_eq!(nobody["entries"], json!([]));

    for limit in ["0", "101", "x"] {
        cli.refused(
            &[
                "push-log", "--app", "demo", "--user", "alice", "--limit", limit,
            ],
            "--limit: must be an integer from 1 to 100",
        );
    }
    cli.refused(
        &[
            "push-log", "--app", "demo", "--user", "alice", "--before", "m-1",
        ],
        "--before: must be a cursor",
    );
    cli.refused(&["push-log", "--app", "demo", "--user", ""], "--user");
    cli.refused(
        &["push-log", "--app", "ghost", "--user", "alice"],
        "no app ghost",
    );
    cli.assert_no_secrets(&s);
}

#[tokio::test]
async fn receipts_raw_prints_the_kept_receipts_with_tokens_masked() {
    let (s, cli) = seed("admin-receipts-raw").await;
    let kept = cli.ok(&["receipts", "raw", "--app", "demo"]);
    assert_eq!(kept["app_id"], "demo");
    let receipts = kept["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 1, "{kept}");
    let r = &receipts[0];
    assert_eq!(r["certificate_id"], 1);
    let at = r["received_at"].as_str().unwrap();
    let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{at}: {e}"));
    assert!((at.unix_timestamp() - testkit::now()).abs() < 3600, "{at}");
    assert_eq!(r["body"]["task-x"]["param"], "someone-else");
    assert_eq!(r["body"]["task-x"]["targets"], masked(STRANGER_TOKEN));
    assert_eq!(r["body"]["task-1"]["targets"], masked(ALICE_TOKEN));

    // A second body: newest first; a redelivery is not kept twice.
    let again = json!({"task-y": {"result": 301, "targets": BOB_TOKEN}}).to_string();
    for _ in 0..2 {
        let (status, ack) = read(
            push_dispatch::handle(
                &s.env.ctx,
                request_raw(
                    "POST",
                    &format!("/v1/receipts/vivo/{}", s.receipt_secret.expose()),
                    None,
                    &again,
                ),
            )
            .await,
        );
        assert_eq!(status, 200, "{ack}");
    }
    let kept = cli.ok(&["receipts", "raw", "--app", "demo"]);
    let receipts = kept["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 2, "{kept}");
    assert_eq!(receipts[0]["body"]["task-y"]["result"], 301);
    assert_eq!(receipts[0]["body"]["task-y"]["targets"], masked(BOB_TOKEN));
    assert!(receipts[1]["body"].get("task-x").is_some());

    // Another app of the table has none.
    s.env.other_app("other").await;
    let none = cli.ok(&["receipts", "raw", "--app", "other"]);
    assert_eq!(none["receipts"], json!([]));
    cli.refused(&["receipts", "raw", "--app", "ghost"], "no app ghost");
    cli.refused(&["receipts", "raw", "--app", "Not An App!"], "--app");
    cli.assert_no_secrets(&s);
}
