//! Scripted answers, delays and the kit's plumbing on FCM's paths.

use std::time::{Duration, Instant};

use fcm_sim::{error_action, ErrorCode, TokenVerdict};
use serde_json::{json, Value};
use sim_kit::CallAction;

use crate::common::*;

#[tokio::test]
async fn error_action_scripts_every_code_with_its_status() {
    let sim = start().await;
    let path = fcm_sim::send_path(PROJECT);
    for code in ErrorCode::ALL {
        sim.script_next(&path, error_action(code, None));
        let answer = send(&sim, &message(TOKEN)).await;
        let body = assert_error(&answer, code.http_status(), code.status());
        assert_eq!(fcm_code(&body).as_deref(), Some(code.as_str()));
        assert_eq!(body["error"]["message"], code.message());
    }
    sim.script_next(
        &path,
        error_action(ErrorCode::Unavailable, Some("try later")),
    );
    let answer = send(&sim, &message(TOKEN)).await;
    assert_eq!(answer.1["error"]["message"], "try later");
    assert_eq!(answer.0, 503);
    assert!(
        sim.deliveries().is_empty(),
        "scripted answers have no side effects"
    );
    assert_eq!(
        send(&sim, &message(TOKEN)).await.0,
        200,
        "the queue is used up"
    );
    assert_eq!(
        ErrorCode::parse("UNREGISTERED"),
        Some(ErrorCode::Unregistered)
    );
    assert_eq!(ErrorCode::parse("unregistered"), None);
}

#[tokio::test]
async fn bodies_statuses_garbage_and_a_sticky_action() {
    let sim = start().await;
    let path = fcm_sim::send_path(PROJECT);
    let body = json!({"name": "projects/x/messages/1"});
    sim.script_next(&path, CallAction::Body(body.clone()));
    assert_eq!(send(&sim, &message(TOKEN)).await, (200, body));
    sim.script_always(&path, Some(CallAction::HttpStatus(502)));
    sim.script_next(&path, CallAction::Garbage);
    let (status, text) = send(&sim, &message(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(text.as_str().unwrap().contains("<html>"), "{text}");
    for _ in 0..2 {
        assert_eq!(
            send(&sim, &message(TOKEN)).await,
            (502, json!("Bad Gateway"))
        );
    }
    sim.script_always(&path, None);
    assert_eq!(send(&sim, &message(TOKEN)).await.0, 200);
    let statuses: Vec<u16> = sim.requests_to(&path).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 502, 502, 200]);
    assert_eq!(sim.deliveries().len(), 1);
}

#[tokio::test]
async fn the_token_endpoint_can_be_scripted_too() {
    let sim = start().await;
    let oauth = json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."});
    sim.script_next(
        "/token",
        CallAction::Vendor(fcm_sim::JsonReply {
            status: 400,
            body: oauth.clone(),
        }),
    );
    sim.script_next("/token", CallAction::HttpStatus(503));
    let assertion = sign(KEY_PEM, &header(), &claims(&sim));
    assert_eq!(grant(&sim, &assertion).await, (400, oauth));
    assert_eq!(grant(&sim, &assertion).await.0, 503);
    assert_eq!(grant(&sim, &assertion).await.0, 200);
}

#[tokio::test]
async fn a_delay_answers_normally_afterwards() {
    let sim = start().await;
    let path = fcm_sim::send_path(PROJECT);
    sim.set_token("dead", TokenVerdict::Unregistered);
    sim.script_next(&path, CallAction::Delay(Duration::from_millis(50)));
    let started = Instant::now();
    assert_eq!(
        send(&sim, &message("dead")).await.0,
        404,
        "checks still run"
    );
    assert!(started.elapsed() >= Duration::from_millis(50));
    sim.script_next(&path, CallAction::Delay(Duration::from_millis(20)));
    assert_eq!(send(&sim, &message(TOKEN)).await.0, 200);
    assert_eq!(
        sim.deliveries().len(),
        1,
        "a delayed call has its side effects"
    );
}

#[tokio::test]
async fn requests_are_recorded_with_their_answers() {
    let sim = start().await;
    send(&sim, &message(TOKEN)).await;
    grant(&sim, "x.y.z").await;
    let requests = sim.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, fcm_sim::send_path(PROJECT));
    assert_eq!(requests[0].body, message(TOKEN));
    assert!(requests[0]
        .header("authorization")
        .unwrap()
        .starts_with("Bearer ya29."));
    assert!(requests[0].response["name"].is_string());
    assert_eq!(requests[1].path, "/token");
    assert_eq!(requests[1].status, 400);
    assert_eq!(requests[1].response["error"], "invalid_grant");
    assert!(
        matches!(requests[1].body, Value::String(_)),
        "a form is recorded as text"
    );
}

#[tokio::test]
async fn a_client_that_gives_up_during_a_delay_is_recorded_as_abandoned() {
    let sim = start().await;
    let path = fcm_sim::send_path(PROJECT);
    // The call passes the front before the kit records it: the client
    // waits long enough for it to arrive on a loaded machine, and gives up
    // well before the delay ends.
    sim.script_next(&path, CallAction::Delay(Duration::from_millis(3000)));
    let access = sim.issue_access_token(EMAIL).unwrap();
    let client = fcm_sim::http_client_builder()
        .timeout(Duration::from_millis(1000))
        .build()
        .unwrap();
    let sent = client
        .post(sim.send_url(PROJECT))
        .bearer_auth(access)
        .json(&message(TOKEN))
        .send()
        .await;
    assert!(sent.is_err(), "the client timed out");
    let mut waited = 0;
    while sim.requests().is_empty() && waited < 5000 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 20;
    }
    let requests = sim.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, 0, "abandoned");
    assert_eq!(requests[0].response, Value::Null);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        sim.deliveries().is_empty(),
        "an abandoned call has no side effects"
    );
}
