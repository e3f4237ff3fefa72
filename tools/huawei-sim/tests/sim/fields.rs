//! The request's shape and every field check (§4.2).

use huawei_sim::{send_path, Settings, TtlOverMax};
use serde_json::{json, Value};

use crate::common::*;

const N: &str = "/message/android/notification";

/// Each case: the body changed at a pointer, and the code it must get.
async fn expect(sim: &huawei_sim::Simulator, cases: Vec<(&str, Option<Value>, &str)>) {
    for (pointer, value, expected) in cases {
        let body = set(message(&["t1"]), pointer, value.clone());
        let (status, answer) = send(sim, &body).await;
        assert_eq!(answer["code"], expected, "{pointer} = {value:?}: {answer}");
        let want_status = if expected == "80000000" { 200 } else { 400 };
        assert_eq!(status, want_status, "{pointer} = {value:?}: {answer}");
    }
}

#[tokio::test]
async fn the_sample_message_is_accepted_and_recorded() {
    let sim = start().await;
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!(status, 200);
    assert_eq!(answer["code"], "80000000");
    assert_eq!(answer["msg"], "Success");
    let request_id = answer["requestId"].as_str().unwrap();
    assert!(
        request_id.bytes().all(|b| b.is_ascii_digit()),
        "{request_id}"
    );
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d.request_id, request_id);
    assert_eq!(d.token, "t1");
    assert_eq!(d.status, 0);
    assert_eq!(d.title.as_deref(), Some("Alice"));
    assert_eq!(d.body.as_deref(), Some("Hi, are you free tonight?"));
    assert_eq!(d.click_action, Some(json!({"type": 3})));
    assert_eq!(d.notify_id, Some(12345));
    assert_eq!(d.ttl_secs, Some(86400.0));
    assert_eq!(d.bi_tag.as_deref(), Some("push-1"));
    assert_eq!(d.data.as_deref(), Some("{\"conv\":\"c2c_alice\"}"));
    assert_eq!(d.effective_category.as_deref(), Some("IM"));
    assert!(d.notification);
}

#[tokio::test]
async fn the_request_envelope_is_checked() {
    let sim = start().await;
    let token = sim.issue_access_token(APP).unwrap();
    let auth = format!("Bearer {token}");
    let path = send_path(APP);
    let good = message(&["t1"]).to_string();
    let cases: Vec<(&str, String, &str)> = vec![
        ("application/json", good.clone(), "80000000"),
        ("Application/JSON; charset=utf-8", good.clone(), "80000000"),
        ("text/plain", good.clone(), "80100001"),
        ("application/json; charset=GBK", good.clone(), "80100001"),
        ("application/json", "{not json".into(), "80100001"),
        ("application/json", "[1]".into(), "80100001"),
        (
            "application/json",
            json!({"validate_only": "false", "message": {}}).to_string(),
            "80100001",
        ),
        (
            "application/json",
            json!({"validate_only": false}).to_string(),
            "80100001",
        ),
        (
            "application/json",
            json!({"message": "x"}).to_string(),
            "80100001",
        ),
    ];
    for (content_type, body, expected) in cases {
        let (status, text) = raw(
            &sim,
            "POST",
            &path,
            &[("authorization", &auth), ("content-type", content_type)],
            body.clone(),
        )
        .await;
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["code"], expected, "{content_type} {body}: {answer}");
        assert_eq!(status, if expected == "80000000" { 200 } else { 400 });
    }
    let (_, text) = raw(&sim, "POST", &path, &[("authorization", &auth)], good).await;
    assert!(text.contains("80100001"), "no Content-Type: {text}");
}

#[tokio::test]
async fn targets_must_be_one_token_array_of_non_empty_strings() {
    let sim = start().await;
    expect(
        &sim,
        vec![
            ("/message/token", Some(json!([])), "80100003"),
            ("/message/token", Some(json!("t1")), "80100003"),
            ("/message/token", Some(json!([1])), "80100003"),
            ("/message/token", Some(json!([""])), "80100003"),
            ("/message/token", None, "80100003"),
            ("/message/topic", Some(json!("news")), "80100003"),
            (
                "/message/condition",
                Some(json!("'a' in topics")),
                "80100003",
            ),
        ],
    )
    .await;
    // A topic alone is not simulated either.
    let body = set(
        set(message(&[]), "/message/token", None),
        "/message/topic",
        Some(json!("news")),
    );
    assert_eq!(code(&sim, &body).await, "80100003");
}

#[tokio::test]
async fn android_fields_have_strict_types_and_ranges() {
    let sim = start().await;
    expect(
        &sim,
        vec![
            ("/message/data", Some(json!({"a": 1})), "80100003"),
            ("/message/android/data", Some(json!(1)), "80100003"),
            (
                "/message/android/data",
                Some(json!("{\"b\":2}")),
                "80000000",
            ),
            ("/message/android", Some(json!("x")), "80100003"),
            ("/message/android/collapse_key", Some(json!(-1)), "80000000"),
            ("/message/android/collapse_key", Some(json!(0)), "80000000"),
            (
                "/message/android/collapse_key",
                Some(json!(100)),
                "80000000",
            ),
            (
                "/message/android/collapse_key",
                Some(json!(101)),
                "80100013",
            ),
            ("/message/android/collapse_key", Some(json!(-2)), "80100013"),
            (
                "/message/android/collapse_key",
                Some(json!("1")),
                "80100013",
            ),
            ("/message/android/urgency", Some(json!("HIGH")), "80000000"),
            (
                "/message/android/urgency",
                Some(json!("NORMAL")),
                "80000000",
            ),
            ("/message/android/urgency", Some(json!("LOW")), "80100003"),
            ("/message/android/category", Some(json!("WORK")), "80000000"),
            (
                "/message/android/category",
                Some(json!("SYSTEM_REMINDER")),
                "80000000",
            ),
            ("/message/android/category", Some(json!("im")), "80100003"),
            (
                "/message/android/category",
                Some(json!("PLAY_VOICE")),
                "80100003",
            ),
            ("/message/android/category", Some(json!(1)), "80100003"),
            ("/message/android/bi_tag", Some(json!(7)), "80100003"),
            ("/message/android/receipt_id", Some(json!(7)), "80100003"),
            (
                "/message/android/target_user_type",
                Some(json!(0)),
                "80000000",
            ),
            (
                "/message/android/target_user_type",
                Some(json!(1)),
                "80000000",
            ),
            (
                "/message/android/target_user_type",
                Some(json!(2)),
                "80100003",
            ),
            (
                "/message/android/target_user_type",
                Some(json!("1")),
                "80100003",
            ),
            (
                "/message/android/unknown_field",
                Some(json!({"x": 1})),
                "80000000",
            ),
            ("/message/apns", Some(json!({"x": 1})), "80000000"),
            ("/message/android/ttl", None, "80000000"),
        ],
    )
    .await;
}

#[tokio::test]
async fn ttl_is_a_string_of_seconds_up_to_fifteen_days() {
    let sim = start().await;
    let ok = [
        "0s",
        "1s",
        "86400s",
        "3.5s",
        "1296000s",
        "1296000.000000000s",
    ];
    let bad = [
        json!("86400"),
        json!(86400),
        json!("1d"),
        json!("s"),
        json!("-1s"),
        json!("1.s"),
        json!("1.0000000001s"),
        json!(" 1s"),
        json!("1296001s"),
        json!("1296000.5s"),
    ];
    for ttl in ok {
        expect(
            &sim,
            vec![("/message/android/ttl", Some(json!(ttl)), "80000000")],
        )
        .await;
    }
    for ttl in bad {
        expect(&sim, vec![("/message/android/ttl", Some(ttl), "80100003")]).await;
    }
    // The other reading of §16 (10): clamped, not refused.
    sim.set_settings(Settings {
        ttl_over_max: TtlOverMax::Clamp,
        ..Settings::default()
    })
    .unwrap();
    expect(
        &sim,
        vec![("/message/android/ttl", Some(json!("2000000s")), "80000000")],
    )
    .await;
    assert_eq!(sim.deliveries().last().unwrap().ttl_secs, Some(1_296_000.0));
    expect(
        &sim,
        vec![("/message/android/ttl", Some(json!("86400")), "80100003")],
    )
    .await;
}

#[tokio::test]
async fn notification_fields_are_checked() {
    let sim = start().await;
    let n = |name: &str| format!("{N}/{name}");
    let cases: Vec<(String, Option<Value>, &str)> = vec![
        (n("title"), Some(json!(1)), "80100003"),
        (n("title"), Some(json!("")), "80100003"),
        (n("body"), None, "80100003"),
        (n("importance"), Some(json!("LOW")), "80000000"),
        // §4.2 CONFLICT: HIGH (older doc) is accepted too.
        (n("importance"), Some(json!("HIGH")), "80000000"),
        (n("importance"), Some(json!("URGENT")), "80100003"),
        (n("notify_id"), Some(json!(2_147_483_647)), "80000000"),
        (n("notify_id"), Some(json!(-1)), "80000000"),
        (n("notify_id"), Some(json!(2_147_483_648i64)), "80100003"),
        (n("notify_id"), Some(json!("5")), "80100003"),
        (n("tag"), Some(json!(["x"])), "80100003"),
        (n("style"), Some(json!(1)), "80000000"),
        (n("style"), Some(json!(3)), "80000000"),
        (n("style"), Some(json!(2)), "80100003"),
        (
            n("inbox_content"),
            Some(json!(["a", "b", "c", "d", "e"])),
            "80000000",
        ),
        (
            n("inbox_content"),
            Some(json!(["a", "b", "c", "d", "e", "f"])),
            "80100003",
        ),
        (n("buttons"), Some(json!([{}, {}, {}])), "80000000"),
        (n("buttons"), Some(json!([{}, {}, {}, {}])), "80100003"),
        (n("foreground_show"), Some(json!(false)), "80000000"),
        (n("foreground_show"), Some(json!("false")), "80100003"),
        (n("profile_id"), Some(json!("p".repeat(64))), "80000000"),
        (n("profile_id"), Some(json!("p".repeat(65))), "80100003"),
        (n("visibility"), Some(json!("PUBLIC")), "80000000"),
        (n("visibility"), Some(json!("OPEN")), "80100003"),
        (n("channel_id"), Some(json!(5)), "80100003"),
        (
            n("badge"),
            Some(json!({"add_num": 1, "class": "com.example.Main"})),
            "80000000",
        ),
        (
            n("badge"),
            Some(json!({"add_num": 99, "set_num": 0, "class": "c"})),
            "80000000",
        ),
        (
            n("badge"),
            Some(json!({"add_num": 0, "class": "c"})),
            "80100003",
        ),
        (
            n("badge"),
            Some(json!({"add_num": 100, "class": "c"})),
            "80100003",
        ),
        (
            n("badge"),
            Some(json!({"set_num": 99, "class": "c"})),
            "80000000",
        ),
        (
            n("badge"),
            Some(json!({"set_num": 100, "class": "c"})),
            "80100003",
        ),
        (
            n("badge"),
            Some(json!({"set_num": -1, "class": "c"})),
            "80100003",
        ),
        (n("badge"), Some(json!({"add_num": 1})), "80100003"),
        (n("badge"), Some(json!(1)), "80100003"),
    ];
    for (pointer, value, expected) in cases {
        expect(&sim, vec![(pointer.as_str(), value, expected)]).await;
    }
}

#[tokio::test]
async fn click_actions_need_what_their_type_needs() {
    let sim = start().await;
    let click = format!("{N}/click_action");
    for (value, expected) in [
        (
            json!({"type": 1, "intent": "intent://x#Intent;end"}),
            "80000000",
        ),
        (json!({"type": 1, "action": "com.example.OPEN"}), "80000000"),
        (json!({"type": 1}), "80100003"),
        (json!({"type": 1, "intent": ""}), "80100003"),
        (json!({"type": 1, "intent": 5}), "80100003"),
        (
            json!({"type": 2, "url": "https://example.com/chat?c=1"}),
            "80000000",
        ),
        (json!({"type": 2, "url": "HTTPS://example.com"}), "80000000"),
        (json!({"type": 2, "url": "http://example.com"}), "80100003"),
        (json!({"type": 2, "url": "https://"}), "80100003"),
        (
            json!({"type": 2, "url": "https://exa mple.com"}),
            "80100003",
        ),
        (json!({"type": 2}), "80100003"),
        (json!({"type": 3}), "80000000"),
        (json!({"type": 3, "url": "http://ignored"}), "80000000"),
        (json!({"type": 4}), "80100003"),
        (json!({"type": "3"}), "80100003"),
        (json!({}), "80100003"),
        (json!("3"), "80100003"),
    ] {
        expect(&sim, vec![(click.as_str(), Some(value), expected)]).await;
    }
    expect(&sim, vec![(click.as_str(), None, "80100003")]).await;
}

#[tokio::test]
async fn notifications_and_data_messages_need_their_parts() {
    let sim = start().await;
    // message.notification supplies the title and body; android's win.
    let body = set(
        set(
            set(message(&["t1"]), &format!("{N}/title"), None),
            &format!("{N}/body"),
            None,
        ),
        "/message/notification",
        Some(json!({"title": "T", "body": "B", "image": "https://example.com/i.png"})),
    );
    assert_eq!(code(&sim, &body).await, "80000000");
    let d = sim.deliveries().pop().unwrap();
    assert_eq!(
        (d.title.as_deref(), d.body.as_deref()),
        (Some("T"), Some("B"))
    );
    let body = set(
        message(&["t1"]),
        "/message/notification",
        Some(json!({"title": "T", "body": "B"})),
    );
    assert_eq!(code(&sim, &body).await, "80000000");
    assert_eq!(
        sim.deliveries().pop().unwrap().title.as_deref(),
        Some("Alice")
    );
    let body = set(
        message(&["t1"]),
        "/message/notification",
        Some(json!({"title": 1})),
    );
    assert_eq!(code(&sim, &body).await, "80100003");
    // message.notification without android.notification: no click_action.
    let body = set(
        set(message(&["t1"]), N, None),
        "/message/notification",
        Some(json!({"title": "T", "body": "B"})),
    );
    assert_eq!(code(&sim, &body).await, "80100003");
    // A data message needs data; PLAY_VOICE is allowed there.
    let data_only = set(message(&["t1"]), N, None);
    assert_eq!(code(&sim, &data_only).await, "80000000");
    let d = sim.deliveries().pop().unwrap();
    assert!(!d.notification);
    assert_eq!(d.effective_category, None);
    assert_eq!(
        code(&sim, &set(data_only.clone(), "/message/data", None)).await,
        "80100003"
    );
    assert_eq!(
        code(
            &sim,
            &set(data_only.clone(), "/message/data", Some(json!("")))
        )
        .await,
        "80100003"
    );
    let voice = set(
        data_only,
        "/message/android/category",
        Some(json!("PLAY_VOICE")),
    );
    assert_eq!(code(&sim, &voice).await, "80000000");
}

#[tokio::test]
async fn null_counts_as_absent_and_validate_only_delivers_nothing() {
    let sim = start().await;
    let body = set(
        message(&["t1"]),
        "/message/android/bi_tag",
        Some(Value::Null),
    );
    assert_eq!(code(&sim, &body).await, "80000000");
    assert_eq!(sim.deliveries().pop().unwrap().bi_tag, None);
    let before = sim.deliveries().len();
    let body = set(message(&["t1"]), "/validate_only", Some(json!(true)));
    assert_eq!(code(&sim, &body).await, "80000000");
    assert_eq!(sim.deliveries().len(), before);
    // It still checks the fields.
    let bad = set(body, "/message/android/ttl", Some(json!("1")));
    assert_eq!(code(&sim, &bad).await, "80100003");
}
