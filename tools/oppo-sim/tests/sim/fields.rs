//! The `message` object and the `notification` fields of §2.4: types, limits
//! at the limit and one past it, and what each click action needs.

use oppo_sim::{SAVE_MESSAGE_PATH, UNICAST_PATH};
use serde_json::{json, Value};

use crate::common::*;

/// Unicasts `message` with each field change; asserts each code.
async fn expect_codes(cases: &[(&str, Value, i64)]) {
    let sim = start().await;
    let token = token(&sim).await;
    for (field, value, expected) in cases {
        let answer = unicast(&sim, &token, &message_with("r1", field, value.clone())).await;
        assert_eq!(answer["code"], *expected, "{field} = {value}: {answer}");
        if *expected == 41 || *expected == 40 {
            let text = answer["message"].as_str().unwrap();
            assert!(text.contains(field), "the message names {field}: {text}");
        }
    }
}

fn text(n: usize) -> Value {
    Value::from("字".repeat(n))
}

#[tokio::test]
async fn title_sub_title_and_content_lengths_count_characters() {
    expect_codes(&[
        ("title", Value::Null, 40),
        ("title", json!(""), 40),
        ("title", json!("   "), 40),
        ("title", json!(5), 41),
        ("title", text(50), 0),
        ("title", Value::from("😀".repeat(50)), 0),
        ("title", text(51), 41),
        ("sub_title", text(10), 0),
        ("sub_title", text(11), 41),
        ("content", Value::Null, 40),
        ("content", json!(" "), 40),
        ("content", json!(["x"]), 41),
        ("content", text(200), 0),
        ("content", text(201), 41),
        ("style", json!(1), 0),
        ("style", json!(2), 0),
        ("style", json!(3), 41),
        ("style", json!(0), 41),
        ("style", json!("1"), 41),
    ])
    .await;
    // Long text (style 2): content up to 128.
    let sim = start().await;
    let token = token(&sim).await;
    for (n, expected) in [(128, 0), (129, 41)] {
        let mut m = message_with("r1", "style", json!(2));
        m["notification"]["content"] = text(n);
        assert_eq!(unicast(&sim, &token, &m).await["code"], expected, "{n}");
    }
}

#[tokio::test]
async fn click_actions_need_their_page_or_url() {
    let sim = start().await;
    let token = token(&sim).await;
    let click = |kind: i64, extra: &[(&str, Value)]| {
        let mut m = message_with("r1", "click_action_type", json!(kind));
        for (name, value) in extra {
            m["notification"][*name] = value.clone();
        }
        m
    };
    let activity = (
        "click_action_activity",
        json!("com.example.im.ChatActivity"),
    );
    let url = ("click_action_url", json!("https://example.com/chat?c=1"));
    for (m, expected) in [
        (click(0, &[]), 0),
        (click(1, std::slice::from_ref(&activity)), 0),
        (click(4, std::slice::from_ref(&activity)), 0),
        (click(2, std::slice::from_ref(&url)), 0),
        (
            click(
                5,
                &[(
                    "click_action_url",
                    json!("intent://chat#Intent;scheme=im;end"),
                )],
            ),
            0,
        ),
        (click(1, &[]), 40),
        (click(4, std::slice::from_ref(&url)), 40),
        (click(2, &[]), 40),
        (click(5, std::slice::from_ref(&activity)), 40),
        (click(2, &[("click_action_url", json!("not a url"))]), 41),
        (click(3, &[activity.clone(), url.clone()]), 41),
        (click(6, &[]), 41),
        (click(1, &[("click_action_activity", text(500))]), 0),
        (click(1, &[("click_action_activity", text(501))]), 41),
        (
            click(
                5,
                &[(
                    "click_action_url",
                    Value::from(format!("x{}", "a".repeat(1999))),
                )],
            ),
            0,
        ),
        (
            click(
                5,
                &[(
                    "click_action_url",
                    Value::from(format!("x{}", "a".repeat(2000))),
                )],
            ),
            41,
        ),
        (
            click(
                2,
                &[(
                    "click_action_url",
                    Value::from(format!("https://e.com/{}", "a".repeat(1986))),
                )],
            ),
            0,
        ),
    ] {
        assert_eq!(unicast(&sim, &token, &m).await["code"], expected, "{m}");
    }
    let mut string_type = message("r1");
    string_type["notification"]["click_action_type"] = json!("0");
    assert_eq!(unicast(&sim, &token, &string_type).await["code"], 41);
}

#[tokio::test]
async fn action_parameters_is_a_json_object_in_a_string_of_at_most_4000() {
    let padded = |n: usize| {
        // {"k":"aaa"} is 8 characters plus the a's.
        Value::from(format!("{{\"k\":\"{}\"}}", "a".repeat(n - 8)))
    };
    expect_codes(&[
        ("action_parameters", json!("{\"conv\":\"c2c_alice\"}"), 0),
        ("action_parameters", json!({"conv": "c2c_alice"}), 41),
        ("action_parameters", json!("[1,2]"), 41),
        ("action_parameters", json!("conv=c2c_alice"), 41),
        ("action_parameters", padded(4000), 0),
        ("action_parameters", padded(4001), 41),
    ])
    .await;
}

#[tokio::test]
async fn numbers_flags_and_ranges() {
    expect_codes(&[
        ("off_line", json!(true), 0),
        ("off_line", json!("true"), 41),
        ("off_line", json!(1), 41),
        ("off_line_ttl", json!(0), 0),
        ("off_line_ttl", json!(864_000), 0),
        ("off_line_ttl", json!(864_001), 0),
        ("off_line_ttl", json!(-1), 41),
        ("off_line_ttl", json!("3600"), 41),
        ("off_line_ttl", json!(3600.5), 41),
        ("notify_id", json!(0), 0),
        ("notify_id", json!(2_147_483_647_i64), 0),
        ("notify_id", json!(2_147_483_648_i64), 41),
        ("notify_id", json!(-1), 41),
        ("show_ttl", json!(0), 0),
        ("show_ttl", json!(172_800), 0),
        ("show_ttl", json!(172_801), 41),
        ("show_time_type", json!(0), 0),
        ("show_time_type", json!(2), 41),
        ("network_type", json!(1), 0),
        ("network_type", json!(2), 41),
        ("badge_operation_type", json!(1), 0),
        ("badge_operation_type", json!(2), 41),
        ("badge_message_count", json!(-1), 41),
        ("channel_id", json!(7), 41),
        ("app_message_id", json!(7), 41),
        (
            "call_back_url",
            Value::from(format!("https://r.example/{}", "a".repeat(182))),
            0,
        ),
        (
            "call_back_url",
            Value::from(format!("https://r.example/{}", "a".repeat(183))),
            41,
        ),
        ("call_back_url", json!("ftp://r.example/x"), 41),
        ("call_back_parameter", text(100), 0),
        ("call_back_parameter", text(101), 41),
    ])
    .await;
}

#[tokio::test]
async fn off_line_ttl_over_10_days_is_clamped() {
    let sim = start().await;
    let token = token(&sim).await;
    unicast(
        &sim,
        &token,
        &message_with("r1", "off_line_ttl", json!(2_000_000)),
    )
    .await;
    unicast(&sim, &token, &message_with("r2", "off_line_ttl", json!(60))).await;
    let ttls: Vec<Option<i64>> = sim.deliveries().iter().map(|d| d.off_line_ttl).collect();
    assert_eq!(ttls, [Some(864_000), Some(60)]);
}

#[tokio::test]
async fn timed_display_needs_a_start_before_its_end() {
    let sim = start().await;
    let token = token(&sim).await;
    let timed = |start: Option<i64>, end: Option<i64>| {
        let mut m = message_with("r1", "show_time_type", json!(1));
        if let Some(start) = start {
            m["notification"]["show_start_time"] = json!(start);
        }
        if let Some(end) = end {
            m["notification"]["show_end_time"] = json!(end);
        }
        m
    };
    for (m, expected) in [
        (timed(Some(NOON), Some(NOON + 1)), 0),
        (timed(None, Some(NOON)), 40),
        (timed(Some(NOON), None), 40),
        (timed(Some(NOON), Some(NOON)), 41),
    ] {
        assert_eq!(unicast(&sim, &token, &m).await["code"], expected, "{m}");
    }
}

#[tokio::test]
async fn the_message_object_is_checked_before_its_notification() {
    let sim = start().await;
    let token = token(&sim).await;
    let base = message("r1");
    let change = |field: &str, value: Value| {
        let mut m = base.clone();
        if value.is_null() {
            m.as_object_mut().unwrap().remove(field);
        } else {
            m[field] = value;
        }
        m
    };
    for (m, expected) in [
        (change("target_type", Value::Null), 40),
        (change("target_type", json!("2")), 41),
        (change("target_type", json!(6)), 41),
        (change("target_type", json!(3)), 41),
        (change("target_type", json!(5)), 0),
        (change("target_value", Value::Null), 40),
        (change("target_value", json!("")), 40),
        (change("target_value", json!(["r1"])), 41),
        (change("notification", Value::Null), 40),
        (change("notification", json!("{\"title\":\"x\"}")), 41),
        (change("verify_registration_id", json!("true")), 41),
        (change("verify_registration_id", json!(true)), 0),
    ] {
        assert_eq!(unicast(&sim, &token, &m).await["code"], expected, "{m}");
    }
    // Notification fields at the top level (a known client bug) are not read.
    let flat = json!({"target_type": 2, "target_value": "r1", "title": "A", "content": "B"});
    assert_eq!(unicast(&sim, &token, &flat).await["code"], 40);
    for text in ["", "not json", "[1]", "\"x\""] {
        let body = form(&[("auth_token", &token), ("message", text)]);
        let expected = if text.is_empty() { 40 } else { 41 };
        assert_eq!(code(&sim, UNICAST_PATH, &body).await, expected, "{text:?}");
    }
}

#[tokio::test]
async fn deliveries_carry_the_notification_as_read() {
    let sim = start().await;
    let token = token(&sim).await;
    let mut m = message("CN_r1");
    m["notification"]["action_parameters"] = json!("{\"conv\":\"c2c_alice\"}");
    m["notification"]["category"] = json!("IM");
    m["notification"]["notify_level"] = json!(2);
    let answer = unicast(&sim, &token, &m).await;
    assert_eq!(answer["message"], "");
    let id = answer["data"]["messageId"].as_str().unwrap().to_owned();
    let prefix = format!("{APP_ID}-1-1-");
    assert!(
        id.starts_with(&prefix) && id.len() > prefix.len() + 8,
        "{id}"
    );
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d.endpoint, "unicast");
    assert_eq!(
        (d.message_id.as_str(), d.task_id.as_str()),
        (id.as_str(), id.as_str())
    );
    assert_eq!((d.target_type, d.target.as_str()), (2, "CN_r1"));
    assert_eq!(
        (d.title.as_str(), d.content.as_str()),
        ("Alice", "Hi, are you free tonight?")
    );
    assert_eq!(d.category.as_deref(), Some("IM"));
    assert_eq!(d.channel_id.as_deref(), Some("im_messages"));
    assert_eq!(d.notify_level, Some(2));
    assert_eq!(d.notification["click_action_type"], json!(0));
    assert_eq!(
        d.notification["action_parameters"],
        json!("{\"conv\":\"c2c_alice\"}")
    );
}

#[tokio::test]
async fn saved_bodies_are_flat_form_fields_read_as_text() {
    let sim = start().await;
    let token = token(&sim).await;
    let base = form(&[
        ("auth_token", &token),
        ("title", "News"),
        ("content", "Something happened"),
        ("click_action_type", "2"),
        ("click_action_url", "https://example.com/n/1"),
        ("off_line", "true"),
        ("off_line_ttl", "3600"),
        ("channel_id", "news"),
        ("category", "NEWS"),
    ]);
    let answer = call(&sim, SAVE_MESSAGE_PATH, &base).await;
    assert_eq!(answer["code"], 0, "{answer}");
    assert!(answer["data"]["message_id"]
        .as_str()
        .unwrap()
        .starts_with(APP_ID));
    for (field, value, expected) in [
        ("title", "", 40),
        ("content", "", 40),
        ("click_action_type", "two", 41),
        ("click_action_type", "+2", 41),
        ("click_action_type", "0", 0),
        ("off_line", "yes", 41),
        ("off_line", "false", 0),
        ("off_line_ttl", "1h", 41),
        ("style", "3", 40),
        ("fix_speed", "true", 40),
        ("fix_speed_rate", "999", 41),
        ("fix_speed_rate", "1000", 0),
        ("fix_speed_rate", "10000", 0),
        ("fix_speed_rate", "10001", 41),
        ("push_time_type", "1", 40),
        ("push_time_type", "2", 41),
        ("category", "news", 67),
    ] {
        let got = code(&sim, SAVE_MESSAGE_PATH, &with(base.clone(), field, value)).await;
        assert_eq!(got, expected, "{field} = {value}");
    }
    // Big pictures are for broadcasts: a stored body may use style 3 with a
    // picture and content up to 50.
    let picture = with(with(base.clone(), "style", "3"), "big_picture_id", "pic-1");
    assert_eq!(code(&sim, SAVE_MESSAGE_PATH, &picture).await, 0);
    let long = "字".repeat(51);
    assert_eq!(
        code(
            &sim,
            SAVE_MESSAGE_PATH,
            &with(picture.clone(), "content", &long)
        )
        .await,
        41
    );
    let timed = with(
        with(base.clone(), "push_time_type", "1"),
        "push_start_time",
        "1717214400000",
    );
    assert_eq!(code(&sim, SAVE_MESSAGE_PATH, &timed).await, 0);
    let speed = with(with(base, "fix_speed", "true"), "fix_speed_rate", "5000");
    assert_eq!(code(&sim, SAVE_MESSAGE_PATH, &speed).await, 0);
    assert!(sim.deliveries().is_empty(), "saving delivers nothing");
}
