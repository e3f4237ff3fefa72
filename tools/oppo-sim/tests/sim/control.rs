//! The control endpoints and reset.

use oppo_sim::{Quotas, RegIdVerdict, Settings, SimClock, SimConfig, Simulator, AUTH_PATH};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn the_control_endpoints_drive_the_simulator_over_http() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        control(&sim, "health", None).await,
        (200, json!({"status": "ok"}))
    );
    assert_eq!(
        code(&sim, AUTH_PATH, &auth_form(APP_KEY, sim.now_ms(), MASTER)).await,
        14,
        "no app yet"
    );
    let app = json!({"app_id": APP_ID, "app_key": APP_KEY, "master_secret": MASTER, "template_rule": "im"});
    assert_eq!(
        control(&sim, "apps", Some(app)).await,
        (200, json!({"ok": true}))
    );
    assert_eq!(
        control(&sim, "apps", Some(json!({"app_key": "k"}))).await.0,
        400
    );
    let token = token(&sim).await;
    let im = message_with("r1", "category", json!("IM"));
    assert_eq!(
        unicast(&sim, &token, &im).await["code"],
        67,
        "template rule applied"
    );

    let dead = json!({"registration_id": "dead", "valid": false});
    assert_eq!(control(&sim, "regids", Some(dead)).await.0, 200);
    assert_eq!(unicast(&sim, &token, &message("dead")).await["code"], 10000);
    let alive = json!({"registration_id": "dead", "valid": true});
    assert_eq!(control(&sim, "regids", Some(alive)).await.0, 200);
    assert_eq!(unicast(&sim, &token, &message("dead")).await["code"], 0);
    assert_eq!(
        control(&sim, "regids", Some(json!({"registration_id": "x"})))
            .await
            .0,
        400
    );

    let quotas = json!({"app_key": APP_KEY, "quotas": {"public": 1, "per_device_public": 2}});
    assert_eq!(control(&sim, "quotas", Some(quotas)).await.0, 200);
    assert_eq!(
        control(&sim, &format!("quotas?app_key={APP_KEY}"), None)
            .await
            .1,
        json!({"public": 1, "service": null, "per_device_public": 2, "per_second": null})
    );
    assert_eq!(unicast(&sim, &token, &message("r2")).await["code"], 33);
    assert_eq!(
        control(&sim, &format!("usage?app_key={APP_KEY}"), None)
            .await
            .1,
        json!({"public": 1, "service": 0})
    );
    assert_eq!(
        control(
            &sim,
            "quotas",
            Some(json!({"app_key": APP_KEY, "quotas": {"daily": 1}}))
        )
        .await
        .0,
        400
    );
    assert_eq!(control(&sim, "usage", None).await.0, 400);

    let (_, tokens) = control(&sim, "tokens", None).await;
    assert_eq!(tokens[0]["auth_token"], json!(token));
    assert_eq!(tokens[0]["invalidated"], false);
    let (status, answer) =
        control(&sim, "tokens/invalidate", Some(json!({"app_key": "other"}))).await;
    assert_eq!(
        (status, answer),
        (200, json!({"ok": true, "invalidated": 0}))
    );
    let (_, answer) = control(
        &sim,
        "tokens/invalidate",
        Some(json!({"auth_token": token})),
    )
    .await;
    assert_eq!(answer["invalidated"], 1);
    assert_eq!(unicast(&sim, &token, &message("r1")).await["code"], 11);
    let both = json!({"app_key": APP_KEY, "auth_token": token});
    assert_eq!(control(&sim, "tokens/invalidate", Some(both)).await.0, 400);
    let fresh = crate::common::token(&sim).await;
    assert_eq!(
        control(&sim, "tokens/invalidate", Some(json!({}))).await.1["invalidated"],
        1
    );
    assert_eq!(unicast(&sim, &fresh, &message("r1")).await["code"], 11);

    assert_eq!(
        control(&sim, "settings", None).await.1,
        json!({"create_time": "number", "header_token": true, "camel_case": false, "future_skew_ms": 0, "receipt_targets": 100})
    );
    assert_eq!(
        control(
            &sim,
            "settings",
            Some(json!({"create_time": "string", "camel_case": true}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        control(&sim, "settings", None).await.1["create_time"],
        "string"
    );
    assert!(sim.settings().camel_case);
    assert!(
        sim.settings().header_token,
        "missing fields keep their value"
    );
    for bad in [
        json!({"create_time": "text"}),
        json!({"receipt_targets": 0}),
        json!({"receipt_targets": 1001}),
        json!({"colour": "red"}),
    ] {
        assert_eq!(
            control(&sim, "settings", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }

    let clock = json!({"fixed_ms": NOON});
    assert_eq!(control(&sim, "clock", Some(clock.clone())).await.0, 200);
    assert_eq!(
        control(&sim, "clock", None).await.1,
        json!({"now_ms": NOON, "clock": clock})
    );

    assert!(!control(&sim, "requests", None)
        .await
        .1
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        control(&sim, "deliveries", None)
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (status, _) = raw(&sim, "GET", "/_sim/unknown", &[], String::new()).await;
    assert_eq!(status, 404);
    assert_eq!(control(&sim, "reset", Some(json!({}))).await.0, 200);
    assert_eq!(control(&sim, "requests", None).await.1, json!([]));
    assert_eq!(control(&sim, "deliveries", None).await.1, json!([]));
}

#[tokio::test]
async fn reset_keeps_apps_tokens_and_start_up_settings_and_clears_the_rest() {
    let start_up = Settings {
        create_time: oppo_sim::CreateTime::String,
        ..Settings::default()
    };
    let sim = Simulator::start(SimConfig {
        apps: vec![app()],
        settings: start_up,
    })
    .await
    .unwrap();
    let token = token(&sim).await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    sim.set_quotas(
        APP_KEY,
        Quotas {
            public: Some(0),
            ..Quotas::default()
        },
    );
    sim.set_settings(Settings {
        camel_case: true,
        ..start_up
    })
    .unwrap();
    assert_eq!(unicast(&sim, &token, &message("r1")).await["code"], 33);
    sim.set_clock(SimClock::Fixed(1));
    sim.reset();
    assert!(sim.requests().is_empty());
    assert_eq!(sim.clock(), SimClock::Real);
    assert_eq!(sim.settings(), start_up);
    assert_eq!(sim.quotas(APP_KEY), Quotas::default());
    assert_eq!(
        unicast(&sim, &token, &message("dead")).await["code"],
        0,
        "token kept, verdict cleared"
    );
    assert_eq!(sim.deliveries().len(), 1);
    assert!(sim
        .set_settings(Settings {
            receipt_targets: 0,
            ..start_up
        })
        .is_err());
    let bad = SimConfig {
        apps: vec![],
        settings: Settings {
            receipt_targets: 5000,
            ..Settings::default()
        },
    };
    assert!(Simulator::start(bad).await.is_err());
}
