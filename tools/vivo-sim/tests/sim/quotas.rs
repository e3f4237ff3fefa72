use crate::common::*;
use serde_json::{json, Value};
use vivo_sim::{Quotas, RegIdVerdict, SimClock, Simulator, Usage};

/// 2024-06-01 12:00 in UTC+8 (vivo's time zone).
const NOON: i64 = 1_717_214_400_000;
const HOUR_MS: i64 = 60 * 60 * 1000;
/// 2024-06-02 00:00 UTC+8: the next vivo day.
const NEXT_MIDNIGHT: i64 = NOON + 12 * HOUR_MS;

fn system(reg_id: &str) -> Value {
    message(reg_id)
}

fn usage(operational: u64, system: u64, list_payloads: u64) -> Usage {
    Usage {
        operational,
        system,
        list_payloads,
    }
}

struct Scene {
    sim: Simulator,
    token: String,
    other_token: String,
}

/// A simulator with a token per app, then its clock fixed at noon of vivo's day.
async fn at_noon() -> Scene {
    let sim = start().await;
    let token = token(&sim).await;
    let other_token = other_token(&sim).await;
    sim.set_clock(SimClock::Fixed(NOON));
    Scene {
        sim,
        token,
        other_token,
    }
}

fn push_body(task_id: &str, reg_ids: &[&str]) -> Value {
    json!({"regIds": reg_ids, "taskId": task_id, "requestId": "list-1"})
}

#[tokio::test]
async fn quotas_default_to_unlimited_and_usage_is_counted_anyway() {
    let Scene { sim, token, .. } = at_noon().await;
    assert_eq!(sim.quotas(APP_ID), Quotas::default());
    for i in 0..5 {
        let body = operational(&format!("o{i}"));
        assert_eq!(result(&sim, SEND, &token, &body).await, 0);
    }
    assert_eq!(result(&sim, SEND, &token, &system("s")).await, 0);
    save(&sim, &token, &list_payload()).await;
    assert_eq!(sim.usage(APP_ID), usage(5, 1, 1));
    assert_eq!(sim.usage(OTHER_APP_ID), Usage::default());
}

#[tokio::test]
async fn the_operational_total_answers_10070_until_vivos_midnight_and_system_still_goes() {
    let Scene {
        sim,
        token,
        other_token,
    } = at_noon().await;
    sim.set_quotas(
        APP_ID,
        Quotas {
            operational: Some(2),
            ..Quotas::default()
        },
    );
    assert_eq!(result(&sim, SEND, &token, &operational("a")).await, 0);
    assert_eq!(result(&sim, SEND, &token, &operational("b")).await, 0);
    assert_eq!(result(&sim, SEND, &token, &operational("c")).await, 10070);
    // Operational by category alone, by classification alone, or by default.
    let by_category = without(operational("d"), "classification");
    let by_classification = without(operational("d"), "category");
    let by_default = without(by_classification.clone(), "classification");
    for body in [&by_category, &by_classification, &by_default] {
        assert_eq!(result(&sim, SEND, &token, body).await, 10070, "{body}");
    }
    // System messages have their own total, by category or by classification.
    assert_eq!(result(&sim, SEND, &token, &system("e")).await, 0);
    let system_by_classification = without(system("f"), "category");
    assert_eq!(
        result(&sim, SEND, &token, &system_by_classification).await,
        0
    );
    assert_eq!(
        sim.usage(APP_ID),
        usage(2, 2, 0),
        "refused calls do not count"
    );
    // The total is the app's: another app still sends.
    let other = with(operational("g"), "appId", json!(OTHER_APP_ID));
    assert_eq!(result(&sim, SEND, &other_token, &other).await, 0);

    // Refused for the rest of vivo's day, through again after its midnight.
    sim.set_clock(SimClock::Fixed(NEXT_MIDNIGHT - 1));
    assert_eq!(result(&sim, SEND, &token, &operational("h")).await, 10070);
    sim.set_clock(SimClock::Fixed(NEXT_MIDNIGHT));
    assert_eq!(sim.usage(APP_ID), Usage::default(), "a new day starts at 0");
    assert_eq!(result(&sim, SEND, &token, &operational("i")).await, 0);
    assert_eq!(sim.usage(APP_ID), usage(1, 0, 0));

    let delivered: Vec<String> = sim.deliveries().into_iter().map(|d| d.reg_id).collect();
    assert_eq!(delivered, ["a", "b", "e", "f", "g", "i"]);
}

#[tokio::test]
async fn the_system_total_answers_10073_for_send_and_list_push_and_operational_still_goes() {
    let Scene { sim, token, .. } = at_noon().await;
    sim.set_quotas(
        APP_ID,
        Quotas {
            system: Some(3),
            ..Quotas::default()
        },
    );
    sim.set_reg_id("dead", RegIdVerdict::Invalid { status: 1 });
    let system_task = save(&sim, &token, &list_payload()).await;
    let operational_task = save(&sim, &token, &operational_list_payload()).await;

    // Invalid targets are not delivered, so they do not count.
    let first = push_body(&system_task, &["a", "dead"]);
    assert_eq!(result(&sim, PUSH, &token, &first).await, 0);
    assert_eq!(sim.usage(APP_ID).system, 1);
    // Under the total when it starts: delivered in full, even past the total.
    let crossing = push_body(&system_task, &["b", "c", "d"]);
    assert_eq!(result(&sim, PUSH, &token, &crossing).await, 0);
    assert_eq!(sim.usage(APP_ID).system, 4);
    let refused = push_body(&system_task, &["e", "f"]);
    assert_eq!(result(&sim, PUSH, &token, &refused).await, 10073);
    assert_eq!(result(&sim, SEND, &token, &system("g")).await, 10073);

    // Operational messages still go, both ways.
    let operational_push = push_body(&operational_task, &["h", "i"]);
    assert_eq!(result(&sim, PUSH, &token, &operational_push).await, 0);
    assert_eq!(result(&sim, SEND, &token, &operational("j")).await, 0);
    assert_eq!(sim.usage(APP_ID), usage(3, 4, 2));

    let delivered: Vec<String> = sim.deliveries().into_iter().map(|d| d.reg_id).collect();
    assert_eq!(delivered, ["a", "b", "c", "d", "h", "i", "j"]);

    sim.set_clock(SimClock::Fixed(NEXT_MIDNIGHT + HOUR_MS));
    assert_eq!(result(&sim, PUSH, &token, &refused).await, 0);
    assert_eq!(sim.usage(APP_ID), usage(0, 2, 0));
}

#[tokio::test]
async fn the_save_list_payload_total_answers_10252_and_single_push_is_unaffected() {
    let Scene { sim, token, .. } = at_noon().await;
    sim.set_quotas(
        APP_ID,
        Quotas {
            list_payloads: Some(2),
            ..Quotas::default()
        },
    );
    let task = save(&sim, &token, &list_payload()).await;
    // An invalid body is refused for itself and does not count.
    let invalid = with(list_payload(), "title", json!(""));
    assert_eq!(result(&sim, SAVE, &token, &invalid).await, 10055);
    save(&sim, &token, &with(list_payload(), "pushMode", json!(1))).await;
    assert_eq!(result(&sim, SAVE, &token, &list_payload()).await, 10252);
    assert_eq!(result(&sim, SAVE, &token, &list_payload()).await, 10252);
    assert_eq!(sim.usage(APP_ID).list_payloads, 2);

    // Stored tasks still push; single pushes are unaffected.
    let push = push_body(&task, &["a", "b"]);
    assert_eq!(result(&sim, PUSH, &token, &push).await, 0);
    assert_eq!(result(&sim, SEND, &token, &system("c")).await, 0);

    sim.set_clock(SimClock::Fixed(NEXT_MIDNIGHT));
    save(&sim, &token, &list_payload()).await;
}

#[tokio::test]
async fn test_pushes_are_neither_counted_nor_refused() {
    let Scene { sim, token, .. } = at_noon().await;
    sim.set_quotas(
        APP_ID,
        Quotas {
            operational: Some(0),
            system: Some(0),
            list_payloads: None,
        },
    );
    sim.add_test_device(APP_ID, "tester");
    sim.add_test_device(APP_ID, "tester-2");
    for body in [operational("tester"), system("tester")] {
        let test_push = with(body, "pushMode", json!(1));
        assert_eq!(result(&sim, SEND, &token, &test_push).await, 0);
    }
    let test_task = save(&sim, &token, &with(list_payload(), "pushMode", json!(1))).await;
    let test_list = push_body(&test_task, &["tester", "tester-2"]);
    assert_eq!(result(&sim, PUSH, &token, &test_list).await, 0);
    assert_eq!(sim.usage(APP_ID), usage(0, 0, 1));
    assert_eq!(sim.deliveries().len(), 4);

    // A zero total refuses every formal push.
    assert_eq!(result(&sim, SEND, &token, &operational("x")).await, 10070);
    assert_eq!(result(&sim, SEND, &token, &system("x")).await, 10073);
    let formal = with(test_list, "pushMode", json!(0));
    assert_eq!(result(&sim, PUSH, &token, &formal).await, 10073);
}

#[tokio::test]
async fn the_quota_check_comes_after_the_fields_and_before_the_target_verdict() {
    let Scene { sim, token, .. } = at_noon().await;
    sim.set_quotas(
        APP_ID,
        Quotas {
            system: Some(0),
            ..Quotas::default()
        },
    );
    sim.set_reg_id("dead", RegIdVerdict::Invalid { status: 1 });
    let bad_title = with(system("a"), "title", json!(""));
    assert_eq!(result(&sim, SEND, &token, &bad_title).await, 10055);
    assert_eq!(result(&sim, SEND, &token, &system("dead")).await, 10073);
}

#[tokio::test]
async fn reset_drops_quotas_and_counters() {
    let Scene { sim, token, .. } = at_noon().await;
    let quotas = Quotas {
        operational: Some(1),
        system: Some(1),
        list_payloads: Some(1),
    };
    sim.set_quotas(APP_ID, quotas);
    assert_eq!(sim.quotas(APP_ID), quotas);
    assert_eq!(result(&sim, SEND, &token, &system("a")).await, 0);
    assert_eq!(result(&sim, SEND, &token, &system("a")).await, 10073);

    sim.reset();
    assert_eq!(sim.quotas(APP_ID), Quotas::default());
    assert_eq!(sim.usage(APP_ID), Usage::default());
    assert_eq!(result(&sim, SEND, &token, &system("a")).await, 0);
    assert_eq!(sim.usage(APP_ID), usage(0, 1, 0));
}

#[tokio::test]
async fn quotas_and_usage_over_http() {
    let Scene { sim, token, .. } = at_noon().await;
    let unlimited = json!({"operational": null, "system": null, "list_payloads": null});
    assert_eq!(
        control(&sim, &format!("quotas?app_id={APP_ID}"), None).await,
        (200, unlimited)
    );
    let set = json!({"app_id": APP_ID, "operational": 1, "list_payloads": 0});
    assert_eq!(control(&sim, "quotas", Some(set)).await.0, 200);
    assert_eq!(
        sim.quotas(APP_ID),
        Quotas {
            operational: Some(1),
            system: None,
            list_payloads: Some(0),
        }
    );
    assert_eq!(
        control(&sim, &format!("quotas?app_id={APP_ID}"), None)
            .await
            .1,
        json!({"operational": 1, "system": null, "list_payloads": 0})
    );
    assert_eq!(result(&sim, SEND, &token, &operational("a")).await, 0);
    assert_eq!(result(&sim, SEND, &token, &operational("b")).await, 10070);
    assert_eq!(result(&sim, SAVE, &token, &list_payload()).await, 10252);
    assert_eq!(result(&sim, SEND, &token, &system("c")).await, 0);
    assert_eq!(
        control(&sim, &format!("usage?app_id={APP_ID}"), None).await,
        (
            200,
            json!({"operational": 1, "system": 1, "list_payloads": 0})
        )
    );

    for bad in [
        json!({"operational": 1}),
        json!({"app_id": APP_ID, "operational": -1}),
        json!({"app_id": APP_ID, "operational": "1"}),
        json!({"app_id": APP_ID, "daily": 1}),
    ] {
        assert_control_refuses(&sim, "quotas", Some(bad)).await;
    }
    for bad in ["usage", "usage?app_id=x", "quotas", "quotas?app=1"] {
        assert_control_refuses(&sim, bad, None).await;
    }
    let clear = json!({"app_id": APP_ID});
    assert_eq!(control(&sim, "quotas", Some(clear)).await.0, 200);
    assert_eq!(sim.quotas(APP_ID), Quotas::default());
}
