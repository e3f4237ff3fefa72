//! Daily totals per class (33), the per-device cap of content & marketing
//! messages, and the configured per-second limit (55).

use oppo_sim::{
    Quotas, SimClock, Usage, AUTH_PATH, BROADCAST_PATH, SAVE_MESSAGE_PATH, UNICAST_BATCH_PATH,
};
use serde_json::{json, Value};

use crate::common::*;

/// Midnight UTC+8 after [`NOON`].
const MIDNIGHT: i64 = NOON + 12 * 3_600_000;

fn im(target: &str) -> Value {
    message_with(target, "category", json!("IM"))
}

#[tokio::test]
async fn the_daily_total_of_a_class_answers_33_once_used_up_until_the_next_oppo_day() {
    let sim = start_at_noon().await;
    sim.set_quotas(
        APP_KEY,
        Quotas {
            public: Some(2),
            ..Quotas::default()
        },
    );
    let token = token(&sim).await;
    assert_eq!(unicast(&sim, &token, &message("r1")).await["code"], 0);
    // The call that crosses the total is delivered in full.
    let batch = form(&[
        ("auth_token", &token),
        (
            "messages",
            &json!([message("r2"), message("r3")]).to_string(),
        ),
    ]);
    assert_eq!(code(&sim, UNICAST_BATCH_PATH, &batch).await, 0);
    assert_eq!(
        sim.usage(APP_KEY),
        Usage {
            public: 3,
            service: 0
        }
    );
    let refused = unicast(&sim, &token, &message("r4")).await;
    assert_eq!(
        refused,
        json!({"code": 33, "message": "Exceed Daily Message Limit"})
    );
    // Service messages have their own (here unlimited) total.
    assert_eq!(unicast(&sim, &token, &im("r4")).await["code"], 0);
    // A batch with one public message is refused as a whole.
    let mixed = form(&[
        ("auth_token", &token),
        ("messages", &json!([im("r5"), message("r6")]).to_string()),
    ]);
    assert_eq!(code(&sim, UNICAST_BATCH_PATH, &mixed).await, 33);
    // So is a broadcast of a stored public body.
    let saved = call(
        &sim,
        SAVE_MESSAGE_PATH,
        &form(&[("auth_token", &token), ("title", "T"), ("content", "C")]),
    )
    .await;
    let id = saved["data"]["message_id"].as_str().unwrap().to_owned();
    let broadcast = form(&[
        ("auth_token", &token),
        ("message_id", &id),
        ("target_type", "2"),
        ("target_value", "r7"),
    ]);
    assert_eq!(code(&sim, BROADCAST_PATH, &broadcast).await, 33);
    assert_eq!(sim.deliveries().len(), 4);

    sim.set_clock(SimClock::Fixed(MIDNIGHT - 1));
    assert_eq!(unicast(&sim, &token, &message("r8")).await["code"], 33);
    sim.set_clock(SimClock::Fixed(MIDNIGHT));
    assert_eq!(sim.usage(APP_KEY), Usage::default());
    assert_eq!(code(&sim, BROADCAST_PATH, &broadcast).await, 0);
    assert_eq!(sim.usage(APP_KEY).public, 1);
}

#[tokio::test]
async fn the_service_total_is_separate() {
    let sim = start_at_noon().await;
    sim.set_quotas(
        APP_KEY,
        Quotas {
            service: Some(1),
            ..Quotas::default()
        },
    );
    let token = token(&sim).await;
    assert_eq!(unicast(&sim, &token, &im("r1")).await["code"], 0);
    assert_eq!(unicast(&sim, &token, &im("r2")).await["code"], 33);
    assert_eq!(unicast(&sim, &token, &message("r2")).await["code"], 0);
    // Another app is not limited.
    let theirs = token_of(&sim, OTHER_KEY, OTHER_MASTER).await;
    assert_eq!(unicast(&sim, &theirs, &im("r2")).await["code"], 0);
    assert_eq!(
        sim.usage(APP_KEY),
        Usage {
            public: 1,
            service: 1
        }
    );
}

#[tokio::test]
async fn the_per_device_cap_drops_public_messages_without_an_error() {
    let sim = start_at_noon().await;
    sim.set_quotas(
        APP_KEY,
        Quotas {
            per_device_public: Some(2),
            ..Quotas::default()
        },
    );
    let token = token(&sim).await;
    for _ in 0..3 {
        let answer = unicast(&sim, &token, &message("r1")).await;
        assert_eq!(answer["code"], 0, "{answer}");
        assert!(answer["data"]["messageId"].is_string());
    }
    assert_eq!(
        unicast(&sim, &token, &im("r1")).await["code"],
        0,
        "service: not capped"
    );
    assert_eq!(
        unicast(&sim, &token, &message("r2")).await["code"],
        0,
        "another device"
    );
    let targets: Vec<(String, bool)> = sim
        .deliveries()
        .iter()
        .map(|d| (d.target.clone(), d.class == oppo_sim::MessageClass::Service))
        .collect();
    assert_eq!(
        targets,
        [
            ("r1".into(), false),
            ("r1".into(), false),
            ("r1".into(), true),
            ("r2".into(), false)
        ]
    );
    assert_eq!(sim.usage(APP_KEY).public, 3, "capped messages do not count");
    sim.set_clock(SimClock::Fixed(MIDNIGHT));
    let token = crate::common::token(&sim).await;
    assert_eq!(unicast(&sim, &token, &message("r1")).await["code"], 0);
    assert_eq!(sim.deliveries().len(), 5);
}

#[tokio::test]
async fn a_configured_rate_answers_55_within_one_second() {
    let sim = start_at_noon().await;
    sim.set_quotas(
        APP_KEY,
        Quotas {
            per_second: Some(3),
            ..Quotas::default()
        },
    );
    let token = token(&sim).await; // call 1
    assert_eq!(unicast(&sim, &token, &message("r1")).await["code"], 0);
    assert_eq!(unicast(&sim, &token, &message("r1")).await["code"], 0);
    let limited = unicast(&sim, &token, &message("r1")).await;
    assert_eq!(
        limited,
        json!({"code": 55, "message": "App Call Frequency Limit"})
    );
    assert_eq!(
        code(&sim, AUTH_PATH, &auth_form(APP_KEY, NOON, MASTER)).await,
        55
    );
    assert_eq!(
        code(&sim, AUTH_PATH, &auth_form(OTHER_KEY, NOON, OTHER_MASTER)).await,
        0
    );
    sim.set_clock(SimClock::Fixed(NOON + 1000));
    assert_eq!(unicast(&sim, &token, &message("r1")).await["code"], 0);
    assert_eq!(sim.deliveries().len(), 3);
    assert_eq!(sim.quotas(APP_KEY).per_second, Some(3));
}
