//! The request body as Google's JSON reader and FCM check it.

use fcm_sim::Settings;
use serde_json::{json, Value};

use crate::common::*;

/// Sends `body`; asserts 400 INVALID_ARGUMENT; the body.
async fn invalid(sim: &fcm_sim::Simulator, body: &Value) -> Value {
    let answer = send(sim, body).await;
    assert_error(&answer, 400, "INVALID_ARGUMENT")
}

/// A refusal by the JSON reader: a BadRequest naming `field`, no FcmError.
async fn reader_refuses(sim: &fcm_sim::Simulator, body: &Value, field: &str) -> String {
    let answer = invalid(sim, body).await;
    assert_eq!(fcm_code(&answer), None, "{answer}");
    assert_eq!(violation_fields(&answer), [field], "{body}: {answer}");
    answer["error"]["message"].as_str().unwrap().to_owned()
}

/// A refusal by FCM: FcmError INVALID_ARGUMENT and a BadRequest naming `field`.
async fn fcm_refuses(sim: &fcm_sim::Simulator, body: &Value, field: &str) {
    let answer = invalid(sim, body).await;
    assert_eq!(
        fcm_code(&answer).as_deref(),
        Some("INVALID_ARGUMENT"),
        "{answer}"
    );
    assert_eq!(violation_fields(&answer), [field], "{body}: {answer}");
}

async fn accepted(sim: &fcm_sim::Simulator, body: &Value) {
    let (status, answer) = send(sim, body).await;
    assert_eq!(status, 200, "{body}: {answer}");
}

#[tokio::test]
async fn the_body_must_be_a_json_object_sent_as_json() {
    let sim = start().await;
    let access = sim.issue_access_token(EMAIL).unwrap();
    let auth = format!("Bearer {access}");
    let path = fcm_sim::send_path(PROJECT);
    for (content_type, body) in [
        ("text/plain", message(TOKEN).to_string()),
        ("application/x-www-form-urlencoded", "message=x".to_owned()),
        ("application/json", "{\"message\":".to_owned()),
        ("application/json", "[1]".to_owned()),
        ("application/json", String::new()),
    ] {
        let (status, text) = raw(
            &sim,
            "POST",
            &path,
            &[("authorization", &auth), ("content-type", content_type)],
            body,
        )
        .await;
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_error(&(status, answer.clone()), 400, "INVALID_ARGUMENT");
        assert_eq!(fcm_code(&answer), None);
    }
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn unknown_names_are_refused_and_both_spellings_read() {
    let sim = start().await;
    let text = reader_refuses(&sim, &set(message(TOKEN), "/dry_run", json!(true)), "").await;
    assert!(text.contains("Unknown name \"dry_run\""), "{text}");
    let text = reader_refuses(
        &sim,
        &set(
            message(TOKEN),
            "/message/notification/click_action",
            json!("X"),
        ),
        "message.notification",
    )
    .await;
    assert_eq!(
        text,
        "Invalid JSON payload received. Unknown name \"click_action\" at 'message.notification': Cannot find field."
    );
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/registration_ids", json!([TOKEN])),
        "message",
    )
    .await;
    reader_refuses(
        &sim,
        &set(
            message(TOKEN),
            "/message/android/notification/channel",
            json!("im"),
        ),
        "message.android.notification",
    )
    .await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/apns/aps", json!({})),
        "message.apns",
    )
    .await;
    reader_refuses(
        &sim,
        &json!({"message": {"token": TOKEN, "webpush": {"urgency": "high"}}}),
        "message.webpush",
    )
    .await;

    // lowerCamelCase names are the same fields; both at once are refused.
    let camel = json!({
        "validateOnly": false,
        "message": {
            "token": TOKEN,
            "android": {
                "collapseKey": "c", "directBootOk": true,
                "notification": {"channelId": "im", "clickAction": "OPEN", "notificationCount": 2},
                "fcmOptions": {"analyticsLabel": "l"},
            },
            "fcmOptions": {"analyticsLabel": "l"},
        }
    });
    accepted(&sim, &camel).await;
    let twice = set(message(TOKEN), "/message/android/collapseKey", json!("d"));
    let text = reader_refuses(&sim, &twice, "message.android").await;
    assert!(text.contains("Duplicate field"), "{text}");
    // null is absence.
    accepted(
        &sim,
        &set(message(TOKEN), "/message/notification", Value::Null),
    )
    .await;
    accepted(
        &sim,
        &json!({"message": {"token": TOKEN, "notification": null}, "validate_only": null}),
    )
    .await;
    assert_eq!(sim.deliveries()[0].message["android"]["collapseKey"], "c");
}

#[tokio::test]
async fn exactly_one_target_is_needed() {
    let sim = start().await;
    fcm_refuses(&sim, &json!({"validate_only": true}), "message").await;
    fcm_refuses(
        &sim,
        &set(message(TOKEN), "/message/token", Value::Null),
        "message",
    )
    .await;
    let text = reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/topic", json!("news")),
        "message",
    )
    .await;
    assert!(
        text.contains("Oneof field 'target' is already set"),
        "{text}"
    );
    reader_refuses(
        &sim,
        &json!({"message": {"topic": "news", "condition": "'a' in topics"}}),
        "message",
    )
    .await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/token", json!(5)),
        "message.token",
    )
    .await;
    reader_refuses(&sim, &json!({"message": "x"}), "message").await;
    accepted(
        &sim,
        &json!({"message": {"topic": "news", "data": {"k": "v"}}}),
    )
    .await;
    accepted(
        &sim,
        &json!({"message": {"topic": "/topics/news-1_a.b~%25", "data": {"k": "v"}}}),
    )
    .await;
    accepted(
        &sim,
        &json!({"message": {"condition": "'a' in topics && 'b' in topics"}}),
    )
    .await;
    fcm_refuses(
        &sim,
        &json!({"message": {"topic": "bad topic"}}),
        "message.topic",
    )
    .await;
    fcm_refuses(&sim, &json!({"message": {"topic": ""}}), "message.topic").await;
    fcm_refuses(
        &sim,
        &json!({"message": {"condition": " "}}),
        "message.condition",
    )
    .await;
    let targets: Vec<_> = sim
        .deliveries()
        .iter()
        .map(|d| serde_json::to_value(&d.target).unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            json!({"topic": "news"}),
            json!({"topic": "/topics/news-1_a.b~%25"}),
            json!({"condition": "'a' in topics && 'b' in topics"})
        ]
    );
}

#[tokio::test]
async fn a_malformed_token_is_an_invalid_argument_on_message_token() {
    let sim = start().await;
    for token in ["", "bad token", "tok/en", "tökén"] {
        let answer = invalid(&sim, &message(token)).await;
        assert_eq!(
            answer["error"]["message"],
            fcm_sim::INVALID_TOKEN,
            "{token:?}"
        );
        assert_eq!(fcm_code(&answer).as_deref(), Some("INVALID_ARGUMENT"));
        assert_eq!(violation_fields(&answer), ["message.token"]);
    }
    accepted(&sim, &message("a-Z_0:9")).await;
}

#[tokio::test]
async fn data_values_must_be_strings_and_keys_not_reserved() {
    let sim = start().await;
    let text = reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/data", json!({"a": "x", "b": 12})),
        "message.data[1].value",
    )
    .await;
    assert_eq!(
        text,
        "Invalid value at 'message.data[1].value' (TYPE_STRING), 12"
    );
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/data", json!({"a": true})),
        "message.data[0].value",
    )
    .await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/data", json!({"a": {"b": "c"}})),
        "message.data[0].value",
    )
    .await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/data", json!(["a"])),
        "message.data",
    )
    .await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/android/data", json!({"a": 1})),
        "message.android.data[0].value",
    )
    .await;
    for key in [
        "from",
        "notification",
        "message_type",
        "google.sent_time",
        "gcm.n.e",
        "GOOGLE",
        "Gcm",
    ] {
        fcm_refuses(
            &sim,
            &set(message(TOKEN), "/message/data", json!({ key: "v" })),
            "message.data",
        )
        .await;
        fcm_refuses(
            &sim,
            &set(message(TOKEN), "/message/android/data", json!({ key: "v" })),
            "message.android.data",
        )
        .await;
    }
    accepted(
        &sim,
        &set(
            message(TOKEN),
            "/message/data",
            json!({"fromage": "v", "message": "v", "": "v"}),
        ),
    )
    .await;
    accepted(&sim, &set(message(TOKEN), "/message/data", json!({}))).await;
}

#[tokio::test]
async fn notification_and_android_fields_have_their_types() {
    let sim = start().await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/notification/title", json!(1)),
        "message.notification.title",
    )
    .await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/notification", json!("t")),
        "message.notification",
    )
    .await;
    accepted(
        &sim,
        &set(
            message(TOKEN),
            "/message/notification/image",
            json!("https://example.com/a.png"),
        ),
    )
    .await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/android/collapse_key", json!(1)),
        "message.android.collapse_key",
    )
    .await;
    reader_refuses(
        &sim,
        &set(
            message(TOKEN),
            "/message/android/direct_boot_ok",
            json!("true"),
        ),
        "message.android.direct_boot_ok",
    )
    .await;
    reader_refuses(
        &sim,
        &set(
            message(TOKEN),
            "/message/android/restricted_package_name",
            json!(["a"]),
        ),
        "message.android.restricted_package_name",
    )
    .await;
    reader_refuses(
        &sim,
        &set(
            message(TOKEN),
            "/message/android/fcm_options",
            json!({"label": "x"}),
        ),
        "message.android.fcm_options",
    )
    .await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/validate_only", json!(true)),
        "message",
    )
    .await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/validate_only", json!("true")),
        "validate_only",
    )
    .await;
}

#[tokio::test]
async fn priority_reads_both_spellings_of_its_enum() {
    let sim = start().await;
    for priority in ["HIGH", "NORMAL", "high", "normal", "High"] {
        accepted(
            &sim,
            &set(message(TOKEN), "/message/android/priority", json!(priority)),
        )
        .await;
    }
    for priority in [json!("URGENT"), json!("PRIORITY_HIGH"), json!(1), json!("")] {
        let text = reader_refuses(
            &sim,
            &set(
                message(TOKEN),
                "/message/android/priority",
                priority.clone(),
            ),
            "message.android.priority",
        )
        .await;
        assert!(text.contains("AndroidMessagePriority"), "{text}");
    }
}

#[tokio::test]
async fn ttl_is_a_duration_of_at_most_four_weeks() {
    let sim = start().await;
    for ttl in [
        "0s",
        "3600s",
        "3.5s",
        "1.000000001s",
        "2419200s",
        "2419200.9s",
    ] {
        accepted(
            &sim,
            &set(message(TOKEN), "/message/android/ttl", json!(ttl)),
        )
        .await;
    }
    for ttl in [
        json!("3600"),
        json!(3600),
        json!("-1s"),
        json!("1.0000000001s"),
        json!("1h"),
        json!("s"),
    ] {
        reader_refuses(
            &sim,
            &set(message(TOKEN), "/message/android/ttl", ttl),
            "message.android.ttl",
        )
        .await;
    }
    fcm_refuses(
        &sim,
        &set(message(TOKEN), "/message/android/ttl", json!("2419201s")),
        "message.android.ttl",
    )
    .await;
    sim.set_settings(Settings {
        max_ttl_secs: None,
        ..Settings::default()
    });
    accepted(
        &sim,
        &set(message(TOKEN), "/message/android/ttl", json!("2419201s")),
    )
    .await;
}

#[tokio::test]
async fn android_notification_fields_have_their_types() {
    let sim = start().await;
    let at = |name: &str, value: Value| {
        set(
            message(TOKEN),
            &format!("/message/android/notification/{name}"),
            value,
        )
    };
    for (name, value) in [
        ("color", json!("#a0B1c2")),
        ("notification_priority", json!("PRIORITY_HIGH")),
        ("visibility", json!("PRIVATE")),
        ("proxy", json!("DENY")),
        ("notification_count", json!(3)),
        ("notification_count", json!("3")),
        ("sticky", json!(true)),
        ("body_loc_args", json!(["a", "b"])),
        ("vibrate_timings", json!(["0.5s", "1s"])),
        ("light_settings", json!({"color": {"red": 1}})),
        ("event_time", json!("2026-01-01T00:00:00Z")),
        ("sound", json!("default")),
    ] {
        accepted(&sim, &at(name, value)).await;
    }
    fcm_refuses(
        &sim,
        &at("color", json!("red")),
        "message.android.notification.color",
    )
    .await;
    fcm_refuses(
        &sim,
        &at("color", json!("#12345")),
        "message.android.notification.color",
    )
    .await;
    for (name, value, field) in [
        (
            "notification_priority",
            json!("HIGH"),
            "message.android.notification.notification_priority",
        ),
        (
            "visibility",
            json!("HIDDEN"),
            "message.android.notification.visibility",
        ),
        (
            "notification_count",
            json!("x"),
            "message.android.notification.notification_count",
        ),
        (
            "notification_count",
            json!(1.5),
            "message.android.notification.notification_count",
        ),
        (
            "sticky",
            json!("true"),
            "message.android.notification.sticky",
        ),
        (
            "body_loc_args",
            json!([1]),
            "message.android.notification.body_loc_args[0]",
        ),
        (
            "body_loc_args",
            json!("a"),
            "message.android.notification.body_loc_args",
        ),
        (
            "vibrate_timings",
            json!(["1"]),
            "message.android.notification.vibrate_timings[0]",
        ),
        (
            "channel_id",
            json!(7),
            "message.android.notification.channel_id",
        ),
        ("tag", json!(null), ""),
    ] {
        if field.is_empty() {
            accepted(&sim, &at(name, value)).await;
        } else {
            reader_refuses(&sim, &at(name, value), field).await;
        }
    }
}

#[tokio::test]
async fn apns_is_checked_for_shape_only() {
    let sim = start().await;
    accepted(
        &sim,
        &set(
            message(TOKEN),
            "/message/apns",
            json!({
                "headers": {"apns-push-type": "alert"},
                "payload": {"aps": {"alert": {"title": "t"}, "anything": [1, 2]}, "custom": 1},
                "fcm_options": {"analytics_label": "l", "image": "https://example.com/i.png"},
                "live_activity_token": "abc",
            }),
        ),
    )
    .await;
    reader_refuses(
        &sim,
        &set(
            message(TOKEN),
            "/message/apns/headers",
            json!({"apns-priority": 10}),
        ),
        "message.apns.headers[0].value",
    )
    .await;
    reader_refuses(
        &sim,
        &set(message(TOKEN), "/message/apns/payload", json!("aps")),
        "message.apns.payload",
    )
    .await;
    reader_refuses(
        &sim,
        &set(
            message(TOKEN),
            "/message/apns/fcm_options",
            json!({"link": "x"}),
        ),
        "message.apns.fcm_options",
    )
    .await;
    reader_refuses(
        &sim,
        &set(
            message(TOKEN),
            "/message/fcm_options",
            json!({"analytics_label": 1}),
        ),
        "message.fcm_options.analytics_label",
    )
    .await;
}
