//! The body's fields (§3.3): types, rules and limits.

use honor_sim::{ResponseShape, Settings, SimApp, Simulator};
use serde_json::{json, Value};

use crate::common::*;

const PARAM: &str = "80100001";
const STRUCTURE: &str = "80100003";

/// A simulator answering in the Huawei shape (string codes tell a value
/// error from a type error) and a token.
async fn huawei() -> (Simulator, String) {
    let sim = start().await;
    sim.set_settings(Settings {
        response_shape: ResponseShape::Huawei,
        ..Settings::default()
    })
    .unwrap();
    let token = token(&sim).await;
    (sim, token)
}

async fn huawei_code(sim: &Simulator, token: &str, body: &Value) -> String {
    let (status, answer) = send(sim, token, body).await;
    let code = answer["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    let expected = if code == "80000000" { 200 } else { 400 };
    assert_eq!(status, expected, "{body}: {answer}");
    code.to_owned()
}

fn base() -> Value {
    message(&["t1"])
}

fn n(path: &str, value: Value) -> Value {
    with(base(), &format!("android.notification.{path}"), value)
}

fn button() -> Value {
    json!({"name": "Reply", "actionType": 1, "intentType": 0, "intent": "intent://reply", "data": "{}"})
}

#[tokio::test]
async fn documented_fields_at_their_limits_are_accepted() {
    let (sim, token) = huawei().await;
    let accepted = [
        json!({"token": ["t1"], "data": "{'param1':'value1','param2':'value2'}"}),
        with(
            with(
                base(),
                "notification",
                json!({"title": "Top", "body": "Top body"}),
            ),
            "android.notification",
            json!({"clickAction": {"type": 3}}),
        ),
        n("tag", Value::Null),
        with(
            with(base(), "android.category", json!("IM")),
            "unknown",
            json!(1),
        ),
        n(
            "clickAction",
            json!({"type": 1, "intent": "intent://chat#Intent;end"}),
        ),
        n(
            "clickAction",
            json!({"type": 1, "action": "com.example.OPEN"}),
        ),
        n(
            "clickAction",
            json!({"type": 2, "url": "https://example.com/c"}),
        ),
        n("importance", json!("LOW")),
        without(base(), "android.notification.importance"),
        with(
            with(
                n("style", json!(1)),
                "android.notification.bigTitle",
                json!("BT"),
            ),
            "android.notification.bigBody",
            json!("BB"),
        ),
        n("style", json!(0)),
        n("notifyId", json!(0)),
        n("notifyId", json!(2_147_483_647)),
        n("buttons", json!([button(), button(), button()])),
        n(
            "buttons",
            json!([{"name": "x".repeat(40), "actionType": 0, "data": "d".repeat(1024)}]),
        ),
        n(
            "badge",
            json!({"addNum": 1, "badgeClass": "com.example.Main"}),
        ),
        n(
            "badge",
            json!({"addNum": 99, "setNum": 99, "badgeClass": "com.example.Main"}),
        ),
        n(
            "badge",
            json!({"setNum": 0, "badgeClass": "com.example.Main"}),
        ),
        n("badge", json!({})),
        with(base(), "android.ttl", json!("1296000s")),
        with(base(), "android.ttl", json!("0.5s")),
        with(base(), "android.targetUserType", json!(0)),
        with(base(), "android.targetUserType", json!(1)),
        n("tag", json!("conv-1")),
        n("group", json!("g")),
        n("when", json!("2024-06-01T04:00:00Z")),
        n("image", json!("https://example.com/i.png")),
    ];
    for body in &accepted {
        assert_eq!(huawei_code(&sim, &token, body).await, "80000000", "{body}");
    }
    assert_eq!(sim.deliveries().len(), accepted.len());
}

#[tokio::test]
async fn broken_rules_answer_80100001_and_wrong_types_80100003() {
    let (sim, token) = huawei().await;
    let cases = [
        (json!({"token": ["t1"]}), PARAM),
        // A top-level notification alone has no clickAction.
        (
            with(
                without(base(), "android.notification"),
                "notification",
                json!({"title": "T", "body": "B"}),
            ),
            PARAM,
        ),
        (json!({"token": ["t1"], "data": 1}), STRUCTURE),
        (with(base(), "android", json!("x")), STRUCTURE),
        (with(base(), "android.notification", json!([])), STRUCTURE),
        (with(base(), "notification", json!("x")), STRUCTURE),
        (with(base(), "notification.image", json!(1)), STRUCTURE),
        (with(base(), "android.data", json!({})), STRUCTURE),
        (with(base(), "android.biTag", json!(1)), STRUCTURE),
        (without(base(), "android.notification.title"), PARAM),
        (n("body", json!("  ")), PARAM),
        (n("title", json!(5)), STRUCTURE),
        (without(base(), "android.notification.clickAction"), PARAM),
        (n("clickAction", json!("3")), STRUCTURE),
        (n("clickAction", json!({})), PARAM),
        (n("clickAction", json!({"type": "3"})), STRUCTURE),
        (n("clickAction", json!({"type": 0})), PARAM),
        (n("clickAction", json!({"type": 4})), PARAM),
        (n("clickAction", json!({"type": 1})), PARAM),
        (n("clickAction", json!({"type": 1, "intent": ""})), PARAM),
        (n("clickAction", json!({"type": 2})), PARAM),
        (
            n(
                "clickAction",
                json!({"type": 2, "url": "http://example.com"}),
            ),
            PARAM,
        ),
        (
            n("clickAction", json!({"type": 2, "url": "example.com"})),
            PARAM,
        ),
        (n("importance", json!("HIGH")), PARAM),
        (n("importance", json!("normal")), PARAM),
        (n("importance", json!(1)), STRUCTURE),
        (n("style", json!(2)), PARAM),
        (
            with(
                n("style", json!(1)),
                "android.notification.bigTitle",
                json!("BT"),
            ),
            PARAM,
        ),
        (n("notifyId", json!(-1)), PARAM),
        (n("notifyId", json!(2_147_483_648i64)), PARAM),
        (n("notifyId", json!("5")), STRUCTURE),
        (n("notifyId", json!(1.5)), STRUCTURE),
        (n("tag", json!(1)), STRUCTURE),
        (n("buttons", json!({})), STRUCTURE),
        (n("buttons", json!(["x"])), STRUCTURE),
        (
            n("buttons", json!([button(), button(), button(), button()])),
            PARAM,
        ),
        (
            n(
                "buttons",
                json!([{"name": "x".repeat(41), "actionType": 0}]),
            ),
            PARAM,
        ),
        (n("buttons", json!([{"actionType": 0}])), PARAM),
        (n("buttons", json!([{"name": "n"}])), PARAM),
        (n("buttons", json!([{"name": "n", "actionType": 3}])), PARAM),
        (n("buttons", json!([{"name": "n", "actionType": 1}])), PARAM),
        (n("buttons", json!([{"name": "n", "actionType": 2}])), PARAM),
        (
            n(
                "buttons",
                json!([{"name": "n", "actionType": 0, "intentType": 2}]),
            ),
            PARAM,
        ),
        (
            n(
                "buttons",
                json!([{"name": "n", "actionType": 0, "data": "d".repeat(1025)}]),
            ),
            PARAM,
        ),
        (n("badge", json!(1)), STRUCTURE),
        (n("badge", json!({"addNum": 0, "badgeClass": "c"})), PARAM),
        (n("badge", json!({"addNum": 100, "badgeClass": "c"})), PARAM),
        (n("badge", json!({"setNum": 100, "badgeClass": "c"})), PARAM),
        (n("badge", json!({"setNum": -1, "badgeClass": "c"})), PARAM),
        (n("badge", json!({"addNum": 1})), PARAM),
        (
            n("badge", json!({"addNum": "1", "badgeClass": "c"})),
            STRUCTURE,
        ),
        (with(base(), "android.ttl", json!("86400")), PARAM),
        (with(base(), "android.ttl", json!("1296001s")), PARAM),
        (with(base(), "android.ttl", json!(86400)), STRUCTURE),
        (with(base(), "android.targetUserType", json!(2)), PARAM),
        (
            with(base(), "android.targetUserType", json!("1")),
            STRUCTURE,
        ),
    ];
    for (body, expected) in &cases {
        assert_eq!(&huawei_code(&sim, &token, body).await, expected, "{body}");
    }
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn field_errors_are_400_in_the_code_200_shape() {
    let sim = start().await;
    let token = token(&sim).await;
    let (status, answer) = send(&sim, &token, &n("importance", json!("HIGH"))).await;
    assert_eq!(status, 400);
    assert_eq!(answer["code"], 400);
    assert!(
        answer["message"].as_str().unwrap().contains("importance"),
        "{answer}"
    );
    assert_eq!(code(&sim, &token, &n("notifyId", json!("5"))).await, 400);
}

#[tokio::test]
async fn which_notification_and_data_win() {
    let (sim, token) = huawei().await;
    let body = with(
        with(
            with(
                base(),
                "notification",
                json!({"title": "Top", "body": "Top body"}),
            ),
            "android.notification.title",
            json!("Android"),
        ),
        "android.data",
        json!("android-data"),
    );
    let body = without(body, "android.notification.body");
    assert_eq!(huawei_code(&sim, &token, &body).await, "80000000");
    let data_only = json!({"token": ["t2"], "data": "payload"});
    assert_eq!(huawei_code(&sim, &token, &data_only).await, "80000000");
    let deliveries = sim.deliveries();
    assert_eq!(deliveries[0].title.as_deref(), Some("Android"));
    assert_eq!(deliveries[0].body.as_deref(), Some("Top body"));
    assert_eq!(deliveries[0].data.as_deref(), Some("android-data"));
    assert!(!deliveries[1].notification);
    assert_eq!(deliveries[1].title, None);
    assert_eq!(deliveries[1].classification, None);
    assert_eq!(deliveries[1].data.as_deref(), Some("payload"));
}

#[tokio::test]
async fn normal_importance_is_a_service_message_only_with_the_right() {
    let sim = start().await;
    let token = token(&sim).await;
    for body in [
        base(),
        n("importance", json!("LOW")),
        without(base(), "android.notification.importance"),
    ] {
        assert_eq!(code(&sim, &token, &body).await, 200);
    }
    sim.add_app(SimApp {
        self_classification: false,
        ..app()
    });
    assert_eq!(code(&sim, &token, &base()).await, 200);
    let classes: Vec<Option<String>> = sim
        .deliveries()
        .into_iter()
        .map(|d| d.classification)
        .collect();
    let class = |c: &str| Some(c.to_owned());
    assert_eq!(
        classes,
        [
            class("service"),
            class("marketing"),
            class("marketing"),
            class("marketing")
        ]
    );
}

#[tokio::test]
async fn ttl_over_15_days_is_refused_or_clamped_by_setting() {
    let sim = start().await;
    let token = token(&sim).await;
    let long = with(base(), "android.ttl", json!("2000000s"));
    assert_eq!(code(&sim, &token, &long).await, 400);
    sim.set_settings(Settings {
        clamp_ttl: true,
        ..Settings::default()
    })
    .unwrap();
    assert_eq!(code(&sim, &token, &long).await, 200);
    assert_eq!(sim.deliveries()[0].ttl.as_deref(), Some("1296000s"));
}
