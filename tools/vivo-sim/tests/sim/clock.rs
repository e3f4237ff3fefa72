use crate::common::*;
use serde_json::{json, Value};
use vivo_sim::SimClock;

const HOUR_MS: i64 = 60 * 60 * 1000;
const MINUTE_MS: i64 = 60 * 1000;

async fn auth_at(sim: &vivo_sim::Simulator, timestamp: i64) -> Value {
    post(
        sim,
        AUTH,
        None,
        &auth_body(APP_ID, APP_KEY, APP_SECRET, timestamp),
    )
    .await
    .1["result"]
        .clone()
}

#[tokio::test]
async fn the_auth_window_follows_an_offset_clock() {
    let sim = start().await;
    assert_eq!(sim.clock(), SimClock::Real);
    let token = token(&sim).await;

    sim.set_clock(SimClock::Offset(HOUR_MS));
    let sim_now = sim.now_ms();
    assert!((sim_now - now_ms() - HOUR_MS).abs() < MINUTE_MS);
    assert_eq!(
        auth_at(&sim, now_ms()).await,
        10207,
        "the real time is an hour off"
    );
    assert_eq!(auth_at(&sim, now_ms() + HOUR_MS).await, 0);
    assert_eq!(auth_at(&sim, now_ms() + HOUR_MS - 9 * MINUTE_MS).await, 0);
    // Tokens obtained earlier keep working: their lifetime follows the real clock.
    let (_, answer) = send(&sim, &token, "reg-a").await;
    assert_eq!(answer["result"], 0, "{answer}");

    sim.set_clock(SimClock::Offset(-HOUR_MS));
    assert_eq!(auth_at(&sim, now_ms()).await, 10207);
    assert_eq!(auth_at(&sim, now_ms() - HOUR_MS).await, 0);

    sim.set_clock(SimClock::Real);
    assert_eq!(auth_at(&sim, now_ms()).await, 0);
}

#[tokio::test]
async fn a_fixed_clock_stands_still_and_reset_makes_it_real_again() {
    let sim = start().await;
    let fixed = 1_717_000_000_000;
    sim.set_clock(SimClock::Fixed(fixed));
    assert_eq!(sim.now_ms(), fixed);
    assert_eq!(auth_at(&sim, fixed).await, 0);
    assert_eq!(auth_at(&sim, fixed + 10 * MINUTE_MS).await, 0);
    assert_eq!(auth_at(&sim, fixed - 10 * MINUTE_MS - 1).await, 10207);
    assert_eq!(auth_at(&sim, now_ms()).await, 10207);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(sim.now_ms(), fixed);

    sim.reset();
    assert_eq!(sim.clock(), SimClock::Real);
    assert_eq!(auth_at(&sim, now_ms()).await, 0);
}

#[tokio::test]
async fn the_clock_is_set_and_read_over_http() {
    let sim = start().await;
    let (status, answer) = control(&sim, "clock", None).await;
    assert_eq!(status, 200);
    assert_eq!(answer["clock"], json!({"real": true}));
    assert!((answer["now_ms"].as_i64().unwrap() - now_ms()).abs() < MINUTE_MS);

    let fixed = 1_717_000_000_000i64;
    assert_eq!(
        control(&sim, "clock", Some(json!({"fixed_ms": fixed})))
            .await
            .0,
        200
    );
    assert_eq!(sim.clock(), SimClock::Fixed(fixed));
    assert_eq!(
        control(&sim, "clock", None).await.1,
        json!({"now_ms": fixed, "clock": {"fixed_ms": fixed}})
    );
    assert_eq!(
        control(&sim, "clock", Some(json!({"offset_ms": -HOUR_MS})))
            .await
            .0,
        200
    );
    assert_eq!(sim.clock(), SimClock::Offset(-HOUR_MS));
    assert_eq!(
        control(&sim, "clock", None).await.1["clock"],
        json!({"offset_ms": -HOUR_MS})
    );
    assert_eq!(
        control(&sim, "clock", Some(json!({"real": true}))).await.0,
        200
    );
    assert_eq!(sim.clock(), SimClock::Real);

    for bad in [
        json!({}),
        json!({"real": false}),
        json!({"offset_ms": "1"}),
        json!({"fixed_ms": 1.5}),
        json!({"fixed_ms": 1, "offset_ms": 1}),
        json!({"later": 1}),
        json!([1]),
    ] {
        assert_control_refuses(&sim, "clock", Some(bad)).await;
    }
    assert_eq!(sim.clock(), SimClock::Real);
}
