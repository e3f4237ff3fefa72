//! The control endpoints and reset.

use serde_json::json;
use xiaomi_sim::{RegIdVerdict, Settings, SimClock, SimConfig, Simulator};

use crate::common::*;

#[tokio::test]
async fn the_control_endpoints_drive_the_simulator_over_http() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        control(&sim, "health", None).await,
        (200, json!({"status": "ok"}))
    );
    assert_eq!(code(&sim, &message("a")).await, 21301, "no app yet");
    let app = json!({"app_secret": SECRET, "package_name": PACKAGE});
    assert_eq!(
        control(&sim, "apps", Some(app)).await,
        (200, json!({"ok": true}))
    );
    assert_eq!(code(&sim, &message("a")).await, 0);

    let dead = json!({"reg_id": "dead", "valid": false});
    assert_eq!(control(&sim, "regids", Some(dead)).await.0, 200);
    assert_eq!(code(&sim, &message("dead")).await, 20301);
    let alive = json!({"reg_id": "dead", "valid": true});
    assert_eq!(control(&sim, "regids", Some(alive)).await.0, 200);
    assert_eq!(code(&sim, &message("dead")).await, 0);
    for bad in [
        json!({"reg_id": "x"}),
        json!({"reg_id": "x", "valid": 0}),
        json!({"reg_id": "x", "status": 2, "valid": true}),
    ] {
        assert_eq!(
            control(&sim, "regids", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }

    let clock = json!({"fixed_ms": 1_717_214_400_000_i64});
    assert_eq!(control(&sim, "clock", Some(clock.clone())).await.0, 200);
    let (_, now) = control(&sim, "clock", None).await;
    assert_eq!(
        now,
        json!({"now_ms": 1_717_214_400_000_i64, "clock": clock})
    );

    for bad in [
        json!({"bad_regids_key": "badRegIds"}),
        json!({"receipt_body": "xml"}),
        json!({"colour": "red"}),
    ] {
        assert_eq!(
            control(&sim, "settings", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    assert_eq!(control(&sim, "settings", Some(json!({}))).await.0, 200);

    let (_, requests) = control(&sim, "requests", None).await;
    assert_eq!(requests.as_array().unwrap().len(), 4);
    let (_, deliveries) = control(&sim, "deliveries", None).await;
    assert_eq!(deliveries.as_array().unwrap().len(), 2);
    let (status, _) = raw(&sim, "GET", "/_sim/unknown", &[], String::new()).await;
    assert_eq!(status, 404);
    assert_eq!(control(&sim, "reset", Some(json!({}))).await.0, 200);
    assert_eq!(control(&sim, "requests", None).await.1, json!([]));
    assert_eq!(control(&sim, "deliveries", None).await.1, json!([]));
}

#[tokio::test]
async fn reset_clears_the_scenario_and_keeps_apps() {
    let sim = start().await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    sim.set_quota(SECRET, Some(0));
    sim.set_clock(SimClock::Fixed(1));
    sim.set_settings(Settings {
        receipt_body: xiaomi_sim::ReceiptBody::Json,
        bad_regids_key: xiaomi_sim::BadRegIdsKey::Camel,
    });
    assert_eq!(code(&sim, &message("a")).await, 200001);
    sim.reset();
    assert!(sim.requests().is_empty());
    assert_eq!(sim.clock(), SimClock::Real);
    assert_eq!(sim.settings(), Settings::default());
    assert_eq!(
        code(&sim, &message("dead,a")).await,
        0,
        "verdict and quota cleared"
    );
    assert_eq!(sim.deliveries().len(), 2);
}
