//! The payload limits (both measures) and the project quota.

use fcm_sim::{PayloadMeasure, Settings, SimClock};
use serde_json::{json, Value};

use crate::common::*;

/// The payload of a message by the `message` measure: the compact JSON of
/// `message` without its target.
fn message_size(body: &Value) -> usize {
    let mut message = body["message"].as_object().unwrap().clone();
    for target in ["token", "topic", "condition"] {
        message.remove(target);
    }
    Value::Object(message).to_string().len()
}

/// A data message to `target` whose payload is exactly `size` bytes.
fn sized(target: (&str, &str), size: usize) -> Value {
    let base = json!({"message": {target.0: target.1, "data": {"p": ""}}});
    let pad = size - message_size(&base);
    let body = set(base, "/message/data/p", json!("x".repeat(pad)));
    assert_eq!(message_size(&body), size);
    body
}

async fn too_big(sim: &fcm_sim::Simulator, body: &Value) {
    let answer = send(sim, body).await;
    let error = assert_error(&answer, 400, "INVALID_ARGUMENT");
    assert_eq!(fcm_code(&error).as_deref(), Some("INVALID_ARGUMENT"));
    assert_eq!(violation_fields(&error), ["message"]);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too big"),
        "{error}"
    );
}

#[tokio::test]
async fn a_token_message_carries_at_most_4096_bytes() {
    let sim = start().await;
    assert_eq!(send(&sim, &sized(("token", TOKEN), 4096)).await.0, 200);
    too_big(&sim, &sized(("token", TOKEN), 4097)).await;
    // Bytes, not characters.
    let body = sized(("token", TOKEN), 4096 - 2);
    let text = body["message"]["data"]["p"].as_str().unwrap().to_owned();
    let wide = set(
        body.clone(),
        "/message/data/p",
        json!(format!("é{}", &text[1..])),
    );
    assert_eq!(message_size(&wide), 4096 - 2 + 1);
    assert_eq!(send(&sim, &wide).await.0, 200);
    let wider = set(body, "/message/data/p", json!(format!("€{}", &text[1..])));
    assert_eq!(message_size(&wider), 4096);
    assert_eq!(send(&sim, &wider).await.0, 200);
    let widest = set(wider.clone(), "/message/data/q", json!("é"));
    too_big(&sim, &widest).await;
    assert_eq!(sim.deliveries().len(), 3);
}

#[tokio::test]
async fn a_topic_or_condition_message_carries_at_most_2048_bytes() {
    let sim = start().await;
    for target in [("topic", "news"), ("condition", "'news' in topics")] {
        assert_eq!(send(&sim, &sized(target, 2048)).await.0, 200, "{target:?}");
        too_big(&sim, &sized(target, 2049)).await;
    }
    // The limits are settings.
    sim.set_settings(Settings {
        payload_limit: 100,
        topic_payload_limit: 4096,
        ..Settings::default()
    });
    assert_eq!(send(&sim, &sized(("topic", "news"), 4096)).await.0, 200);
    assert_eq!(send(&sim, &sized(("token", TOKEN), 100)).await.0, 200);
    too_big(&sim, &sized(("token", TOKEN), 101)).await;
}

#[tokio::test]
async fn the_content_measure_counts_data_and_texts_only() {
    let sim = start().await;
    sim.set_settings(Settings {
        payload_measure: PayloadMeasure::Content,
        ..Settings::default()
    });
    // 1 + 1000 (data) + 2 + 1000 (android.data) + 1000 + 1000 (notification)
    // + 47 + 46 (android.notification): 4096.
    let body = |extra: usize| {
        json!({"message": {
            "token": TOKEN,
            "data": {"a": "x".repeat(1000 + extra)},
            "notification": {"title": "t".repeat(1000), "body": "b".repeat(1000), "image": "i".repeat(500)},
            "android": {
                "data": {"bb": "y".repeat(1000)},
                "notification": {"title": "u".repeat(47), "body": "v".repeat(46), "channel_id": "c".repeat(500)},
                "collapse_key": "k".repeat(500),
            },
        }})
    };
    assert!(
        message_size(&body(0)) > 4096,
        "the message measure would refuse it"
    );
    assert_eq!(send(&sim, &body(0)).await.0, 200);
    too_big(&sim, &body(1)).await;
    sim.set_settings(Settings::default());
    too_big(&sim, &body(0)).await;
}

#[tokio::test]
async fn the_project_quota_counts_accepted_messages_in_a_sliding_window() {
    let sim = start().await;
    sim.set_quota(PROJECT, Some(2));
    // validate_only and refused calls do not count.
    let (status, _) = send(&sim, &set(message(TOKEN), "/validate_only", json!(true))).await;
    assert_eq!(status, 200);
    assert_eq!(send(&sim, &message("bad token")).await.0, 400);
    assert_eq!(send(&sim, &message(TOKEN)).await.0, 200);
    sim.set_clock(SimClock::Fixed(NOW_MS + 30_000));
    assert_eq!(send(&sim, &message(TOKEN)).await.0, 200);
    let answer = send(&sim, &message(TOKEN)).await;
    let body = assert_error(&answer, 429, "RESOURCE_EXHAUSTED");
    assert_eq!(fcm_code(&body).as_deref(), Some("QUOTA_EXCEEDED"));
    // validate_only is refused too once the quota is reached.
    assert_eq!(
        send(&sim, &set(message(TOKEN), "/validate_only", json!(true)))
            .await
            .0,
        429
    );
    // The other project has its own (unlimited) quota.
    let other = sim.issue_access_token(OTHER_EMAIL).unwrap();
    assert_eq!(
        send_as(&sim, &other, OTHER_PROJECT, &message(TOKEN))
            .await
            .0,
        200
    );
    // 60 s after the first message, one slot frees up.
    sim.set_clock(SimClock::Fixed(NOW_MS + 60_000 - 1));
    assert_eq!(send(&sim, &message(TOKEN)).await.0, 429);
    sim.set_clock(SimClock::Fixed(NOW_MS + 60_000));
    assert_eq!(send(&sim, &message(TOKEN)).await.0, 200);
    assert_eq!(send(&sim, &message(TOKEN)).await.0, 429);
    // A longer window, then no quota.
    sim.set_settings(Settings {
        quota_window_secs: 3600,
        ..Settings::default()
    });
    sim.set_clock(SimClock::Fixed(NOW_MS + 600_000));
    assert_eq!(send(&sim, &message(TOKEN)).await.0, 429);
    sim.set_quota(PROJECT, None);
    assert_eq!(send(&sim, &message(TOKEN)).await.0, 200);
    assert_eq!(sim.deliveries().len(), 5);
}

#[tokio::test]
async fn quota_and_unavailable_answers_carry_retry_after() {
    let sim = start().await;
    let access = sim.issue_access_token(EMAIL).unwrap();
    let retry_after = |sim: fcm_sim::Simulator, token: &'static str| {
        let access = access.clone();
        async move {
            let response = fcm_sim::http_client()
                .post(sim.send_url(PROJECT))
                .bearer_auth(access)
                .json(&message(token))
                .send()
                .await
                .unwrap();
            let header = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (response.status().as_u16(), header)
        }
    };
    sim.set_token("busy", fcm_sim::TokenVerdict::QuotaExceeded);
    sim.set_token("down", fcm_sim::TokenVerdict::Unavailable);
    sim.set_token("broken", fcm_sim::TokenVerdict::Internal);
    assert_eq!(
        retry_after(sim.clone(), "busy").await,
        (429, Some("60".to_owned()))
    );
    assert_eq!(
        retry_after(sim.clone(), "down").await,
        (503, Some("60".to_owned()))
    );
    assert_eq!(retry_after(sim.clone(), "broken").await, (500, None));
    assert_eq!(retry_after(sim.clone(), TOKEN).await, (200, None));
    // The project quota too, and scripted answers; a bare 503 has none.
    sim.set_quota(PROJECT, Some(1));
    assert_eq!(
        retry_after(sim.clone(), "busy2").await,
        (429, Some("60".to_owned()))
    );
    let path = fcm_sim::send_path(PROJECT);
    sim.set_quota(PROJECT, None);
    sim.script_next(
        &path,
        fcm_sim::error_action(fcm_sim::ErrorCode::Unavailable, None),
    );
    sim.script_next(&path, sim_kit::CallAction::HttpStatus(503));
    assert_eq!(
        retry_after(sim.clone(), TOKEN).await,
        (503, Some("60".to_owned()))
    );
    assert_eq!(retry_after(sim.clone(), TOKEN).await, (503, None));
    sim.set_settings(Settings {
        retry_after_secs: Some(7),
        ..Settings::default()
    });
    assert_eq!(
        retry_after(sim.clone(), "busy").await,
        (429, Some("7".to_owned()))
    );
    sim.set_settings(Settings {
        retry_after_secs: None,
        ..Settings::default()
    });
    assert_eq!(retry_after(sim.clone(), "busy").await, (429, None));
}

#[tokio::test]
async fn a_body_over_the_kits_limit_is_refused() {
    let sim = start().await;
    let body = "x".repeat(4 * 1024 * 1024 + 1);
    let (status, _) = raw(&sim, "POST", &fcm_sim::send_path(PROJECT), &[], body).await;
    assert_eq!(status, 413);
    assert_eq!(sim.requests()[0].status, 413, "recorded by the kit");
    sim.shutdown().await;
}
