//! Token verdicts, `illegalTokens`, project state, flow control and HTTP
//! statuses per code.

use std::collections::BTreeMap;

use harmony_sim::{Settings, SimApp, SimClock, TokenSyntax, TokenVerdict, ILLEGAL_REASONS};
use serde_json::json;

use crate::common::*;

fn illegal(reason: &str) -> TokenVerdict {
    TokenVerdict::Illegal(reason.to_owned())
}

#[tokio::test]
async fn some_illegal_tokens_answer_80100000_with_illegal_tokens_by_reason() {
    let sim = start().await;
    sim.set_token("bad-1", illegal("tokenFormatError")).unwrap();
    sim.set_token("bad-2", illegal("noRight")).unwrap();
    sim.set_token("bad-3", illegal("tokenFormatError")).unwrap();
    sim.set_token("proxy", illegal("tokenPlatformNotSupport"))
        .unwrap();
    let (status, answer) = send(
        &sim,
        &message(&["bad-3", "ok-1", "bad-1", "bad-2", "proxy", "ok-2"]),
    )
    .await;
    assert_eq!((status, code_of(&answer)), (200, "80100000".to_owned()));
    assert_eq!(
        msg_json(&answer),
        json!({
            "success": 2,
            "failure": 4,
            "illegalTokens": {
                "tokenFormatError": ["bad-3", "bad-1"],
                "noRight": ["bad-2"],
                "tokenPlatformNotSupport": ["proxy"],
            },
        })
    );
    let delivered: Vec<String> = sim.deliveries().into_iter().map(|d| d.token).collect();
    assert_eq!(delivered, ["ok-1", "ok-2"]);
}

#[tokio::test]
async fn every_token_illegal_answers_80300007_without_success() {
    let sim = start().await;
    sim.set_token("a", illegal("noRight")).unwrap();
    sim.set_token("b", illegal("noRight")).unwrap();
    let (status, answer) = send(&sim, &message(&["a", "b"])).await;
    assert_eq!((status, code_of(&answer)), (200, "80300007".to_owned()));
    assert_eq!(
        msg_json(&answer),
        json!({"failure": 2, "illegalTokens": {"noRight": ["a", "b"]}})
    );
    assert!(sim.deliveries().is_empty());
    // Every documented key can be a verdict; others cannot.
    for reason in ILLEGAL_REASONS {
        sim.set_token("c", illegal(reason)).unwrap();
        let (_, answer) = send(&sim, &message(&["c"])).await;
        assert_eq!(msg_json(&answer)["illegalTokens"][reason], json!(["c"]));
    }
    assert!(sim.set_token("c", illegal("dead")).is_err());
    // Back to valid.
    sim.set_token("a", TokenVerdict::Valid).unwrap();
    assert_eq!(code(&sim, &message(&["a", "b"])).await, "80100000");
}

#[tokio::test]
async fn illegal_token_keys_may_be_padded_with_spaces() {
    let sim = start().await;
    sim.set_token("bad", illegal("tokenFormatError")).unwrap();
    sim.set_settings(Settings {
        pad_illegal_keys: true,
        ..Settings::default()
    })
    .unwrap();
    let (_, answer) = send(&sim, &message(&["bad", "ok"])).await;
    let msg = msg_json(&answer);
    assert_eq!(msg["illegalTokens"][" tokenFormatError "], json!(["bad"]));
    assert!(msg["illegalTokens"].get("tokenFormatError").is_none());
    // Trimmed, the keys read as the unpadded ones.
    let trimmed: BTreeMap<String, serde_json::Value> = msg["illegalTokens"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.trim().to_owned(), v.clone()))
        .collect();
    assert_eq!(trimmed["tokenFormatError"], json!(["bad"]));
}

#[tokio::test]
async fn token_syntax_decides_token_format_errors() {
    let sim = start().await;
    // An empty token is never well-formed.
    let (_, answer) = send(&sim, &message(&["", "ok"])).await;
    assert_eq!(
        msg_json(&answer)["illegalTokens"]["tokenFormatError"],
        json!([""])
    );
    let short = "MAMzLg";
    let good = format!("MAMzLgAAAA{}", "x".repeat(22));
    let max = "A".repeat(512);
    let long = "A".repeat(513);
    let odd = format!("{} y", "x".repeat(40));
    let (_, answer) = send(&sim, &message(&[short, &odd])).await;
    assert_eq!(code_of(&answer), "80000000", "any syntax by default");
    sim.set_settings(Settings {
        token_syntax: TokenSyntax::Strict,
        ..Settings::default()
    })
    .unwrap();
    let (_, answer) = send(&sim, &message(&[short, &good, &max, &long, &odd])).await;
    assert_eq!(code_of(&answer), "80100000");
    assert_eq!(
        msg_json(&answer)["illegalTokens"],
        json!({"tokenFormatError": [short, long, odd]})
    );
    // The format wins over a verdict.
    sim.set_token(short, illegal("noRight")).unwrap();
    let (_, answer) = send(&sim, &message(&[short, &good])).await;
    assert_eq!(
        msg_json(&answer)["illegalTokens"],
        json!({"tokenFormatError": [short]})
    );
}

#[tokio::test]
async fn status_verdicts_are_accepted_and_duplicates_delivered_twice() {
    let sim = start().await;
    sim.set_token("gone", TokenVerdict::Status(5)).unwrap();
    let (_, answer) = send(&sim, &message(&["gone", "ok", "ok"])).await;
    assert_eq!(code_of(&answer), "80000000");
    let statuses: Vec<(String, u32)> = sim
        .deliveries()
        .into_iter()
        .map(|d| (d.token, d.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("gone".to_owned(), 5),
            ("ok".to_owned(), 0),
            ("ok".to_owned(), 0)
        ]
    );
    assert!(sim
        .deliveries()
        .iter()
        .all(|d| d.request_id == answer["requestId"]));
}

#[tokio::test]
async fn a_disabled_or_penalized_project_is_refused() {
    let sim = start().await;
    sim.add_app(SimApp {
        push_enabled: false,
        ..app()
    })
    .unwrap();
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!((status, code_of(&answer)), (400, "80300002".to_owned()));
    sim.add_app(SimApp {
        penalized: true,
        ..app()
    })
    .unwrap();
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!((status, code_of(&answer)), (400, "80300037".to_owned()));
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn the_project_qps_answers_503() {
    let sim = start_with(SimApp {
        qps: Some(2),
        ..app()
    })
    .await;
    sim.set_clock(SimClock::Fixed(NOON));
    let bearer = jwt(&sim);
    for _ in 0..2 {
        let (_, answer) = post(&sim, PROJECT, &bearer, &message(&["t1"])).await;
        assert_eq!(answer["code"], "80000000");
    }
    let (status, answer) = post(&sim, PROJECT, &bearer, &message(&["t1"])).await;
    assert_eq!(status, 503);
    assert_eq!(answer, "Service Unavailable");
    sim.set_clock(SimClock::Fixed(NOON + 1000));
    let (_, answer) = post(&sim, PROJECT, &bearer, &message(&["t1"])).await;
    assert_eq!(answer["code"], "80000000", "a new second");
    assert_eq!(sim.deliveries().len(), 3);
}

#[tokio::test]
async fn test_message_bursts_answer_80300029() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_settings(Settings {
        test_rate_per_sec: Some(1),
        ..Settings::default()
    })
    .unwrap();
    let test = set(
        message(&["t1"]),
        "/pushOptions/testMessage",
        Some(json!(true)),
    );
    assert_eq!(code(&sim, &test).await, "80000000");
    assert_eq!(
        code(&sim, &message(&["t1"])).await,
        "80000000",
        "not a test"
    );
    let (status, answer) = send(&sim, &test).await;
    assert_eq!((status, code_of(&answer)), (400, "80300029".to_owned()));
    sim.set_clock(SimClock::Fixed(NOON + 1000));
    assert_eq!(code(&sim, &test).await, "80000000");
}

#[tokio::test]
async fn the_http_status_of_a_code_is_configurable() {
    let sim = start().await;
    sim.set_token("a", illegal("noRight")).unwrap();
    let settings = Settings::default();
    assert_eq!(settings.http_status_of("80000000"), 200);
    assert_eq!(settings.http_status_of("80300007"), 200);
    assert_eq!(settings.http_status_of("80200005"), 401);
    assert_eq!(settings.http_status_of("81000001"), 500);
    assert_eq!(settings.http_status_of("80100003"), 400);
    sim.set_settings(Settings {
        http_status: BTreeMap::from([("80300007".to_owned(), 400), ("80200001".to_owned(), 403)]),
        ..Settings::default()
    })
    .unwrap();
    let (status, answer) = send(&sim, &message(&["a"])).await;
    assert_eq!((status, code_of(&answer)), (400, "80300007".to_owned()));
    let (status, answer) = post(&sim, PROJECT, "x", &message(&["t"])).await;
    assert_eq!((status, code_of(&answer)), (403, "80200001".to_owned()));
    assert!(sim
        .set_settings(Settings {
            http_status: BTreeMap::from([("80300007".to_owned(), 99)]),
            ..Settings::default()
        })
        .is_err());
}
