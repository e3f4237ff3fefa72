//! `sendMessage`: headers, body, token lists, verdicts, deliveries.

use honor_sim::{Settings, SimApp, SimClock, Simulator, TimestampUnit, TokenVerdict};
use serde_json::{json, Value};

use crate::common::*;

/// A send at NOON with this `timestamp` header (or none); the status and code.
async fn at_noon(sim: &Simulator, token: &str, ts: Option<&str>) -> (u16, Value) {
    sim.set_clock(SimClock::Fixed(NOON));
    let auth = format!("Bearer {token}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    if let Some(ts) = ts {
        headers.push(("timestamp", ts));
    }
    let (status, answer) = send_with(sim, APP_ID, &headers, &message(&["t1"])).await;
    (status, answer["code"].clone())
}

#[tokio::test]
async fn the_timestamp_header_is_ms_or_seconds_within_ten_minutes() {
    let sim = start().await;
    let token = token(&sim).await;
    let ok = (200, json!(200));
    let bad = (400, json!(400));
    for (ts, expected) in [
        (Some(NOON.to_string()), &ok),
        (Some((NOON + 600_000).to_string()), &ok),
        (Some((NOON - 600_000).to_string()), &ok),
        (Some((NOON + 600_001).to_string()), &bad),
        (Some((NOON - 600_001).to_string()), &bad),
        (Some((NOON / 1000).to_string()), &ok),
        (Some((NOON / 1000 + 600).to_string()), &ok),
        (Some((NOON / 1000 + 601).to_string()), &bad),
        (None, &bad),
        (Some(String::new()), &bad),
        (Some(format!("{NOON}.0")), &bad),
        (Some(format!("-{NOON}")), &bad),
        (Some(format!("+{NOON}")), &bad),
        (Some((NOON * 10).to_string()), &bad),
        (Some((NOON / 10).to_string()), &bad),
    ] {
        assert_eq!(
            &at_noon(&sim, &token, ts.as_deref()).await,
            expected,
            "{ts:?}"
        );
    }
    assert_eq!(sim.deliveries().len(), 5);
}

#[tokio::test]
async fn the_timestamp_unit_and_window_are_settings() {
    let sim = start().await;
    let token = token(&sim).await;
    let ms = NOON.to_string();
    let secs = (NOON / 1000).to_string();
    for (unit, ms_code, secs_code) in [
        (TimestampUnit::Millis, 200, 400),
        (TimestampUnit::Seconds, 400, 200),
        (TimestampUnit::Either, 200, 200),
    ] {
        sim.set_settings(Settings {
            timestamp_unit: unit,
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(
            at_noon(&sim, &token, Some(&ms)).await.1,
            ms_code,
            "{unit:?}"
        );
        assert_eq!(
            at_noon(&sim, &token, Some(&secs)).await.1,
            secs_code,
            "{unit:?}"
        );
    }
    let far = (NOON - 86_400_000).to_string();
    assert_eq!(at_noon(&sim, &token, Some(&far)).await.1, 400);
    sim.set_settings(Settings {
        timestamp_window_ms: None,
        ..Settings::default()
    })
    .unwrap();
    assert_eq!(at_noon(&sim, &token, Some(&far)).await.1, 200);
    assert_eq!(
        at_noon(&sim, &token, Some("12345")).await.1,
        400,
        "format still checked"
    );
}

#[tokio::test]
async fn the_body_must_be_a_json_object_sent_as_json() {
    let sim = start().await;
    let token = token(&sim).await;
    let auth = format!("Bearer {token}");
    let ts = now_ts(&sim);
    for (content_type, status) in [
        (Some("application/json"), 200),
        (Some("application/json;charset=utf-8"), 200),
        (Some("Application/JSON; charset=\"UTF-8\""), 200),
        (None, 415),
        (Some("text/plain"), 415),
        (Some("application/json; charset=GBK"), 415),
        (Some("application/x-www-form-urlencoded"), 415),
    ] {
        let mut headers = vec![("authorization", auth.as_str()), ("timestamp", ts.as_str())];
        if let Some(content_type) = content_type {
            headers.push(("content-type", content_type));
        }
        let (got, answer) = send_with(&sim, APP_ID, &headers, &message(&["t1"])).await;
        assert_eq!(got, status, "{content_type:?}: {answer}");
    }
    let headers = [
        ("authorization", auth.as_str()),
        ("timestamp", ts.as_str()),
        ("content-type", "application/json"),
    ];
    for body in ["[1]", "{\"token\":", "\"text\"", ""] {
        let (status, answer) = raw(
            &sim,
            "POST",
            &honor_sim::send_path(APP_ID),
            &headers,
            body.to_owned(),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(answer.is_string(), "plain text: {answer}");
    }
    // Over the kit's 4 MiB: HTTP 413.
    let huge = format!("{{\"data\":\"{}\"}}", "a".repeat(4 * 1024 * 1024));
    let (status, _) = raw(&sim, "POST", &honor_sim::send_path(APP_ID), &headers, huge).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn an_app_without_push_gets_403() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.add_app(SimApp {
        push_enabled: false,
        ..app()
    });
    assert_eq!(code(&sim, &token, &message(&["t1"])).await, 403);
    sim.add_app(app());
    assert_eq!(code(&sim, &token, &message(&["t1"])).await, 200);
}

#[tokio::test]
async fn the_token_list_holds_1_to_1000_strings() {
    let sim = start().await;
    let token = token(&sim).await;
    let list = |n: usize| json!({"token": tokens("t", n), "data": "x"});
    assert_eq!(code(&sim, &token, &list(1000)).await, 200);
    assert_eq!(sim.deliveries().len(), 1000);
    for body in [
        list(1001),
        list(0),
        json!({"data": "x"}),
        json!({"token": null, "data": "x"}),
        json!({"token": "t1", "data": "x"}),
        json!({"token": ["t1", 2], "data": "x"}),
        json!({"token": ["t1", ""], "data": "x"}),
        json!({"message": {"token": ["t1"], "data": "x"}}),
    ] {
        assert_eq!(code(&sim, &token, &body).await, 400, "{body}");
    }
    assert_eq!(sim.deliveries().len(), 1000);
    sim.set_settings(Settings {
        max_tokens: 2,
        ..Settings::default()
    })
    .unwrap();
    assert_eq!(code(&sim, &token, &list(2)).await, 200);
    assert_eq!(code(&sim, &token, &list(3)).await, 400);
}

#[tokio::test]
async fn the_message_without_tokens_is_at_most_4096_bytes() {
    let sim = start().await;
    let token = token(&sim).await;
    // {"data":"…"} is 11 bytes plus the data.
    let body = |n: usize| json!({"token": tokens("t", 50), "data": "x".repeat(n)});
    assert_eq!(code(&sim, &token, &body(4085)).await, 200);
    assert_eq!(code(&sim, &token, &body(4086)).await, 400);
    sim.set_settings(Settings {
        max_message_bytes: 100,
        ..Settings::default()
    })
    .unwrap();
    assert_eq!(code(&sim, &token, &body(89)).await, 200);
    assert_eq!(code(&sim, &token, &body(90)).await, 400);
}

#[tokio::test]
async fn success_lists_expired_and_failed_tokens_and_delivers_the_rest() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_token("dead", TokenVerdict::Expired);
    sim.set_token("flaky", TokenVerdict::Failed);
    let (status, answer) = send(&sim, &token, &message(&["ok-1", "dead", "flaky", "ok-2"])).await;
    assert_eq!(status, 200);
    let request_id = answer["data"]["requestId"].as_str().unwrap().to_owned();
    assert!(!request_id.is_empty());
    assert_eq!(
        answer,
        json!({
            "code": 200,
            "message": "Success",
            "data": {
                "sendResult": true,
                "requestId": request_id,
                "failTokens": ["flaky"],
                "expireTokens": ["dead"],
            }
        })
    );
    let deliveries = sim.deliveries();
    let delivered: Vec<&str> = deliveries.iter().map(|d| d.token.as_str()).collect();
    assert_eq!(delivered, ["ok-1", "ok-2"]);
    let first = &deliveries[0];
    assert_eq!(first.request_id, request_id);
    assert_eq!(first.app_id, APP_ID);
    assert!(first.notification && !first.test);
    assert_eq!(first.title.as_deref(), Some("Alice"));
    assert_eq!(first.body.as_deref(), Some("Hi, are you free tonight?"));
    assert_eq!(first.click_type, Some(3));
    assert_eq!(first.importance.as_deref(), Some("NORMAL"));
    assert_eq!(first.classification.as_deref(), Some("service"));
    assert_eq!(first.ttl.as_deref(), Some("86400s"));
    assert_eq!(first.bi_tag.as_deref(), Some("chat-1"));
    assert_eq!(first.data.as_deref(), Some("{\"conv\":\"c2c_alice\"}"));
    assert_eq!(first.notify_id, Some(12345));
    assert_eq!(first.request["android"]["biTag"], "chat-1");

    // Every token dead: still code 200, nothing delivered.
    let (status, answer) = send(&sim, &token, &message(&["dead", "flaky"])).await;
    assert_eq!(status, 200);
    assert_eq!(answer["data"]["sendResult"], false);
    assert_eq!(answer["data"]["expireTokens"], json!(["dead"]));
    assert_eq!(answer["data"]["failTokens"], json!(["flaky"]));
    assert_eq!(sim.deliveries().len(), 2);

    // Verdicts can be set back, and the answer has empty lists.
    sim.set_token("dead", TokenVerdict::Valid);
    let (_, answer) = send(&sim, &token, &message(&["dead"])).await;
    assert_eq!(answer["data"]["expireTokens"], json!([]));
    assert_eq!(answer["data"]["failTokens"], json!([]));
    assert_ne!(answer["data"]["requestId"], request_id.as_str());
}

#[tokio::test]
async fn a_token_given_twice_is_delivered_twice() {
    let sim = start().await;
    let token = token(&sim).await;
    assert_eq!(code(&sim, &token, &message(&["t1", "t1"])).await, 200);
    assert_eq!(sim.deliveries().len(), 2);
}
