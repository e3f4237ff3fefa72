use std::time::{Duration, Instant};

use crate::common;
use crate::common::*;
use serde_json::json;
use vivo_sim::{CallAction, RegIdVerdict};

#[tokio::test]
async fn a_scripted_result_is_sent_verbatim_with_its_extra_fields() {
    let sim = start().await;
    let token = token(&sim).await;
    let mut extra = serde_json::Map::new();
    extra.insert("taskId".to_owned(), json!("42"));
    sim.script_next(
        SEND,
        CallAction::Result {
            code: 10070,
            desc: "total quota exceeded".to_owned(),
            extra,
        },
    );
    let (status, answer) = send(&sim, &token, "reg-a").await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"result": 10070, "desc": "total quota exceeded", "taskId": "42"})
    );
    assert!(
        sim.deliveries().is_empty(),
        "scripted answers have no side effects"
    );

    // The queue is consumed: the next call is normal.
    let (_, answer) = send(&sim, &token, "reg-a").await;
    assert_eq!(answer["result"], 0, "{answer}");
}

#[tokio::test]
async fn a_scripted_http_status_answers_vivos_plain_text_error() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.script_next(SEND, CallAction::HttpStatus(500));
    sim.script_next(SEND, CallAction::HttpStatus(503));
    let (status, answer) = send(&sim, &token, "reg-a").await;
    assert_eq!(status, 500);
    assert_eq!(answer, json!("Internet server error!"));
    let (status, _) = send(&sim, &token, "reg-a").await;
    assert_eq!(status, 503);

    let recorded = sim.requests_to(SEND);
    assert_eq!(recorded[0].status, 500);
    assert_eq!(recorded[0].response, json!("Internet server error!"));
    assert_eq!(recorded[1].status, 503);
}

#[tokio::test]
async fn a_scripted_delay_answers_normally_afterwards() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid { status: 1 });
    sim.script_next(SEND, CallAction::Delay(Duration::from_millis(50)));
    let started = Instant::now();
    let (_, answer) = send(&sim, &token, "dead").await;
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(answer["result"], 10302, "checks still run: {answer}");

    sim.script_next(SEND, CallAction::Delay(Duration::from_millis(50)));
    let (_, answer) = send(&sim, &token, "alive").await;
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(sim.deliveries().len(), 1);
}

#[tokio::test]
async fn requests_are_recorded_in_arrival_order_even_when_delayed() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.script_next(SEND, CallAction::Delay(Duration::from_millis(150)));
    let slow = {
        let (sim, token) = (sim.clone(), token.clone());
        tokio::spawn(async move { send(&sim, &token, "slow").await })
    };
    // Let the slow call arrive (and start sleeping) before the fast one.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, fast) = send(&sim, &token, "fast").await;
    assert_eq!(fast["result"], 0);
    let (_, slow) = slow.await.unwrap();
    assert_eq!(slow["result"], 0);

    let order: Vec<String> = sim
        .requests_to(SEND)
        .iter()
        .map(|r| r.body["regId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, ["slow", "fast"]);
    let delivered: Vec<String> = sim.deliveries().into_iter().map(|d| d.reg_id).collect();
    assert_eq!(delivered, ["fast", "slow"]);
}

#[tokio::test]
async fn a_call_its_client_abandons_is_recorded_as_abandoned_without_side_effects() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.script_next(SEND, CallAction::Delay(Duration::from_secs(5)));
    let before = now_ms();
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        post(&sim, SEND, Some(&token), &message("impatient")),
    )
    .await;
    assert!(gave_up.is_err(), "the client timed out");
    // The server notices the closed connection shortly after (on a busy
    // machine, up to a few seconds; still well before the 5 s delay ends).
    let mut recorded = Vec::new();
    for _ in 0..200 {
        recorded = sim.requests_to(SEND);
        if !recorded.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(recorded.len(), 1, "abandoned calls are recorded");
    let r = &recorded[0];
    assert_eq!((r.status, &r.response), (0, &serde_json::Value::Null));
    assert_eq!(r.body["regId"], "impatient");
    assert!(before <= r.received_ms && r.received_ms <= r.answered_ms);
    assert!(
        r.answered_ms - r.received_ms < 5_000,
        "recorded when abandoned, not after the delay"
    );
    assert!(sim.deliveries().is_empty(), "no side effects");
}

#[tokio::test]
async fn a_sticky_delay_holds_every_call_and_concurrent_delayed_calls_overlap() {
    let sim = start().await;
    let token = token(&sim).await;
    let delay_ms = 300;
    sim.script_always(
        SEND,
        Some(CallAction::Delay(Duration::from_millis(delay_ms))),
    );
    let before = now_ms();
    let started = Instant::now();
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let (sim, token) = (sim.clone(), token.clone());
            tokio::spawn(async move { send(&sim, &token, &format!("reg-{i}")).await })
        })
        .collect();
    for call in calls {
        let (status, answer) = call.await.unwrap();
        assert_eq!((status, &answer["result"]), (200, &json!(0)), "{answer}");
    }
    let elapsed = started.elapsed();
    let after = now_ms();
    assert!(elapsed >= Duration::from_millis(delay_ms));
    assert!(
        elapsed < Duration::from_millis(10 * delay_ms),
        "{elapsed:?}: delayed calls must not wait for each other"
    );

    let recorded = sim.requests_to(SEND);
    assert_eq!(recorded.len(), 20);
    assert_eq!(sim.deliveries().len(), 20);
    for request in &recorded {
        assert!(before <= request.received_ms && request.answered_ms <= after);
        // Whole milliseconds on both ends: at most 1 ms is lost to rounding.
        let held = request.answered_ms - request.received_ms;
        assert!(held >= delay_ms as i64 - 1, "held {held} ms");
    }
    // All 20 had arrived before the first was answered: all were in flight at once.
    let last_arrival = recorded.iter().map(|r| r.received_ms).max().unwrap();
    let first_answer = recorded.iter().map(|r| r.answered_ms).min().unwrap();
    assert!(
        last_arrival < first_answer,
        "last arrival {last_arrival}, first answer {first_answer}"
    );
    // ...and they finished together, not one delay after another.
    let last_answer = recorded.iter().map(|r| r.answered_ms).max().unwrap();
    assert!(
        last_answer - first_answer < delay_ms as i64,
        "answers spread over {} ms",
        last_answer - first_answer
    );
}

#[tokio::test]
async fn a_garbage_answer_is_http_200_and_not_json() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.script_next(SEND, CallAction::Garbage);
    let response = vivo_sim::http_client()
        .post(format!("{}{SEND}", sim.base_url()))
        .header("authToken", &token)
        .json(&message("reg-a"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );
    assert!(sim.requests_to(SEND)[0].response.is_string());
}

#[tokio::test]
async fn expire_token_kills_only_the_token_of_that_call() {
    let sim = start().await;
    let doomed = token(&sim).await;
    let survivor = token(&sim).await;
    sim.script_next(SEND, CallAction::ExpireToken);
    let (_, answer) = send(&sim, &doomed, "reg-a").await;
    assert_eq!(answer["result"], 10000, "{answer}");
    let (_, answer) = send(&sim, &doomed, "reg-a").await;
    assert_eq!(answer["result"], 10000, "the token stays unknown: {answer}");
    let (_, answer) = send(&sim, &survivor, "reg-a").await;
    assert_eq!(answer["result"], 0, "{answer}");
}

#[tokio::test]
async fn a_sticky_script_answers_until_cleared_and_the_queue_goes_first() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.script_always(SEND, Some(CallAction::result(10072, "too fast")));
    sim.script_next(SEND, CallAction::HttpStatus(502));

    let (status, _) = send(&sim, &token, "reg-a").await;
    assert_eq!(status, 502);
    for _ in 0..2 {
        let (_, answer) = send(&sim, &token, "reg-a").await;
        assert_eq!(answer, json!({"result": 10072, "desc": "too fast"}));
    }
    // Scripts are per path: auth is unaffected.
    let _ = common::token(&sim).await;

    sim.script_always(SEND, None);
    let (_, answer) = send(&sim, &token, "reg-a").await;
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(sim.requests_to(SEND).len(), 4);
}

#[tokio::test]
async fn the_auth_endpoint_can_be_scripted_too() {
    let sim = start().await;
    sim.script_next(AUTH, CallAction::result(10093, "auth too frequent"));
    let (_, answer) = auth(&sim).await;
    assert_eq!(
        answer,
        json!({"result": 10093, "desc": "auth too frequent"})
    );
}

#[tokio::test]
async fn reset_clears_scenario_state_but_keeps_apps_and_tokens() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid { status: 1 });
    sim.add_test_device(APP_ID, "tester");
    sim.script_always(SEND, Some(CallAction::HttpStatus(500)));
    sim.script_next(PUSH, CallAction::Garbage);
    let (status, _) = send(&sim, &token, "dead").await;
    assert_eq!(status, 500);
    sim.script_always(SEND, None);
    send(&sim, &token, "alive").await;
    assert_eq!(sim.deliveries().len(), 1);
    assert_eq!(sim.requests().len(), 3);

    sim.reset();
    assert!(sim.requests().is_empty());
    assert!(sim.deliveries().is_empty());
    sim.script_always(SEND, Some(CallAction::HttpStatus(500)));
    sim.reset();

    let (status, answer) = send(&sim, &token, "dead").await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["result"], 0,
        "verdict and script cleared, token kept: {answer}"
    );
    let test_push = with(message("tester"), "pushMode", json!(1));
    let (_, answer) = post(&sim, SEND, Some(&token), &test_push).await;
    assert_eq!(
        answer["invalidUser"]["status"], 4,
        "test devices cleared: {answer}"
    );
    let (_, answer) = post(&sim, "/message/pushToList", Some(&token), &json!({})).await;
    assert_eq!(answer["result"], 10050, "queued script cleared: {answer}");
    let _ = common::token(&sim).await; // the app is kept
    assert_eq!(sim.requests().len(), 4);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let sim = start().await;
    let url = format!("{}/_sim/health", sim.base_url());
    assert!(reqwest::get(&url).await.unwrap().status().is_success());
    sim.shutdown().await;
    assert!(reqwest::get(&url).await.is_err());
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_server() {
    let sim = start().await;
    let clone = sim.clone();
    let url = format!("{}/_sim/health", sim.base_url());
    drop(sim);
    assert!(reqwest::get(&url).await.unwrap().status().is_success());
    drop(clone);
    let mut stopped = false;
    for _ in 0..100 {
        if reqwest::get(&url).await.is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(stopped);
}
