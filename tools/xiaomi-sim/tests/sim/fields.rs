//! Every field check and its code.

use xiaomi_sim::SimClock;

use crate::common::*;

/// Runs each (form, expected code) case against one simulator.
async fn expect(cases: Vec<(Form, i64)>) {
    let sim = start().await;
    for (form, expected) in cases {
        let got = code(&sim, &form).await;
        assert_eq!(got, expected, "{form:?}");
    }
}

fn m() -> Form {
    message("reg-a")
}

#[tokio::test]
async fn the_valid_message_passes_and_unknown_fields_are_ignored() {
    expect(vec![
        (m(), 0),
        (with(m(), "unknown_field", "x"), 0),
        (with(m(), "time_to_send", "1"), 0),
    ])
    .await;
}

#[tokio::test]
async fn the_three_fields_every_call_needs_answer_21305() {
    let mut cases = Vec::new();
    for field in ["registration_id", "restricted_package_name", "pass_through"] {
        cases.push((without(m(), field), 21305));
        cases.push((with(m(), field, ""), 21305));
    }
    expect(cases).await;
}

#[tokio::test]
async fn registration_ids_must_be_a_clean_comma_list() {
    expect(vec![
        (with(m(), "registration_id", "a,b,c"), 0),
        (with(m(), "registration_id", "a,,b"), 10017),
        (with(m(), "registration_id", "a,"), 10017),
        (with(m(), "registration_id", ",a"), 10017),
        (with(m(), "registration_id", "a, b"), 10017),
        (with(m(), "registration_id", "a b"), 10017),
    ])
    .await;
}

#[tokio::test]
async fn the_package_must_be_the_apps_alone_or_in_a_list() {
    let both = format!("{PACKAGE},{PACKAGE}");
    let mixed = format!("{PACKAGE},{OTHER_PACKAGE}");
    expect(vec![
        (with(m(), "restricted_package_name", &both), 0),
        (with(m(), "restricted_package_name", OTHER_PACKAGE), 22022),
        (with(m(), "restricted_package_name", &mixed), 22022),
        (with(m(), "restricted_package_name", "com.example"), 22022),
    ])
    .await;
}

#[tokio::test]
async fn pass_through_is_0_or_1() {
    expect(vec![
        (with(m(), "pass_through", "1"), 0),
        (with(m(), "pass_through", "2"), 10017),
        (with(m(), "pass_through", "true"), 10017),
    ])
    .await;
}

#[tokio::test]
async fn notifications_need_a_short_title_and_description() {
    expect(vec![
        (without(m(), "title"), 10016),
        (with(m(), "title", ""), 10016),
        (with(m(), "title", "   "), 10017),
        (with(m(), "title", "\u{3000}"), 10017),
        (with(m(), "title", &"t".repeat(49)), 0),
        (with(m(), "title", &"你".repeat(49)), 0),
        (with(m(), "title", &"😀".repeat(49)), 0),
        (with(m(), "title", &"t".repeat(50)), 10017),
        (with(m(), "title", &"你".repeat(50)), 10017),
        (without(m(), "description"), 10016),
        (with(m(), "description", " "), 10017),
        (with(m(), "description", &"d".repeat(127)), 0),
        (with(m(), "description", &"好".repeat(127)), 0),
        (with(m(), "description", &"d".repeat(128)), 10017),
    ])
    .await;
}

#[tokio::test]
async fn pass_through_messages_need_no_title_description_or_effect() {
    let bare = without(
        without(
            without(with(m(), "pass_through", "1"), "title"),
            "description",
        ),
        "extra.notify_effect",
    );
    expect(vec![
        (bare.clone(), 0),
        (with(bare.clone(), "title", " "), 0),
        (with(bare.clone(), "title", &"t".repeat(50)), 10017),
        (with(bare.clone(), "extra.notify_effect", "9"), 10017),
    ])
    .await;
}

#[tokio::test]
async fn the_payload_is_url_encoded_and_at_most_4_kb() {
    let encoded_4096 = "%7B".repeat(1365) + "a";
    assert_eq!(encoded_4096.len(), 4096);
    expect(vec![
        (without(m(), "payload"), 0),
        (with(m(), "payload", &encoded_4096), 0),
        (with(m(), "payload", &(encoded_4096.clone() + "b")), 65009),
        (with(m(), "payload", "{\"conv\":\"c2c_alice\"}"), 10017),
        (with(m(), "payload", "a b"), 10017),
        (with(m(), "payload", "%zz"), 10017),
        (with(m(), "payload", "a+b%20c-_.!~*'()"), 0),
    ])
    .await;
}

#[tokio::test]
async fn numeric_fields_are_integers_in_range() {
    let mut cases = Vec::new();
    for (field, good, bad) in [
        (
            "notify_type",
            &["-1", "1", "2", "4", "7", "0"][..],
            &["-2", "8", "x", "1.0"][..],
        ),
        (
            "time_to_live",
            &["1", "86400000", "864000000", "1209600000"][..],
            &["0", "-1", "1209600001", "1d"][..],
        ),
        (
            "notify_id",
            &["0", "2147483647"][..],
            &["-1", "2147483648", "id"][..],
        ),
    ] {
        for value in good {
            cases.push((with(m(), field, value), 0));
        }
        for value in bad {
            cases.push((with(m(), field, value), 10017));
        }
    }
    expect(cases).await;
}

#[tokio::test]
async fn time_to_send_is_at_most_7_days_ahead_by_the_simulators_clock() {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    let sim = start().await;
    let now = 1_717_214_400_000;
    sim.set_clock(SimClock::Fixed(now));
    for (at, expected) in [
        (now - DAY_MS, 0),
        (now + DAY_MS, 0),
        (now + 7 * DAY_MS, 0),
        (now + 7 * DAY_MS + 1, 10017),
    ] {
        let form = with(m(), "time_to_send", &at.to_string());
        assert_eq!(code(&sim, &form).await, expected, "{at}");
    }
    assert_eq!(code(&sim, &with(m(), "time_to_send", "soon")).await, 10017);
}

#[tokio::test]
async fn notify_effect_is_required_for_notifications_and_brings_its_target() {
    expect(vec![
        (without(m(), "extra.notify_effect"), 10016),
        (with(m(), "extra.notify_effect", "0"), 10017),
        (with(m(), "extra.notify_effect", "4"), 10017),
        (with(m(), "extra.notify_effect", "2"), 10016),
        (
            with(
                with(m(), "extra.notify_effect", "2"),
                "extra.intent_uri",
                "intent:#Intent;component=com.example.im/.Chat;S.conv=c2c_alice;end",
            ),
            0,
        ),
        (with(m(), "extra.notify_effect", "3"), 10016),
        (
            with(
                with(m(), "extra.notify_effect", "3"),
                "extra.web_uri",
                "https://example.com/chat",
            ),
            0,
        ),
        (
            with(
                with(m(), "extra.notify_effect", "3"),
                "extra.web_uri",
                "ftp://example.com/x",
            ),
            10017,
        ),
        (
            with(
                with(m(), "extra.notify_effect", "3"),
                "extra.web_uri",
                "example",
            ),
            10017,
        ),
    ])
    .await;
}

#[tokio::test]
async fn flags_and_the_jobkey_are_checked() {
    expect(vec![
        (with(m(), "extra.notify_foreground", "0"), 0),
        (with(m(), "extra.notify_foreground", "2"), 10017),
        (with(m(), "extra.only_send_once", "1"), 0),
        (with(m(), "extra.only_send_once", "yes"), 10017),
        (with(m(), "extra.jobkey", "chat_c2c-alice9"), 0),
        (with(m(), "extra.jobkey", &"j".repeat(20)), 0),
        (with(m(), "extra.jobkey", &"j".repeat(21)), 10017),
        (with(m(), "extra.jobkey", "_chat"), 10017),
        (with(m(), "extra.jobkey", "chat.alice"), 10017),
        (with(m(), "extra.jobkey", "对话"), 10017),
    ])
    .await;
}

#[tokio::test]
async fn callback_fields_answer_65036_to_65038_and_10017() {
    let url_128 = format!("https://example.com/{}", "r".repeat(128 - 20));
    assert_eq!(url_128.len(), 128);
    let cb = |value: &str| with(m(), "extra.callback", value);
    expect(vec![
        (cb(&url_128), 0),
        (cb(&(url_128.clone() + "x")), 65037),
        (cb("not a url"), 65038),
        (cb("ftp://example.com/r"), 65038),
        (cb("/relative"), 65038),
        (
            with(cb(&url_128), "extra.callback.param", &"p".repeat(64)),
            0,
        ),
        (
            with(cb(&url_128), "extra.callback.param", &"p".repeat(65)),
            0,
        ),
        (
            with(cb(&url_128), "extra.callback.param", &"p".repeat(256)),
            0,
        ),
        (
            with(cb(&url_128), "extra.callback.param", &"p".repeat(257)),
            65036,
        ),
        (
            with(cb(&url_128), "extra.callback.param", &"你".repeat(86)),
            65036,
        ),
        (with(cb(&url_128), "extra.callback.type", "3"), 0),
        (with(cb(&url_128), "extra.callback.type", "19"), 0),
        (with(cb(&url_128), "extra.callback.type", "1267"), 0),
        (with(cb(&url_128), "extra.callback.type", "1024"), 0),
        (with(cb(&url_128), "extra.callback.type", "246"), 10017),
        (with(cb(&url_128), "extra.callback.type", "4"), 10017),
        (with(cb(&url_128), "extra.callback.type", "0"), 10017),
        (with(cb(&url_128), "extra.callback.type", "-1"), 10017),
        (with(cb(&url_128), "extra.callback.type", "x"), 10017),
    ])
    .await;
}

#[tokio::test]
async fn at_most_10_custom_extras_each_at_most_1024_characters() {
    let customs = |n: usize| {
        (0..n).fold(without(m(), "extra.ext"), |form, i| {
            with(form, &format!("extra.k{i}"), "v")
        })
    };
    // Known extras are not custom pairs.
    let known = [
        ("extra.sound_uri", "android.resource://x/raw/ding"),
        ("extra.ticker", "t"),
        ("extra.locale", "zh_CN"),
        ("extra.connpt", "wifi"),
        ("extra.notify_foreground", "1"),
    ]
    .iter()
    .fold(customs(10), |form, (n, v)| with(form, n, v));
    // "k" + 1023 characters = 1024.
    expect(vec![
        (customs(10), 0),
        (customs(11), 65014),
        (known, 0),
        (with(m(), "extra.k", &"v".repeat(1023)), 0),
        (with(m(), "extra.k", &"值".repeat(1023)), 0),
        (with(m(), "extra.k", &"v".repeat(1024)), 65015),
        // An empty custom value counts as absent.
        (with(customs(10), "extra.k10", ""), 0),
    ])
    .await;
}

#[tokio::test]
async fn checks_go_in_the_documented_order() {
    // Several mistakes at once: the first in lib.rs's order answers.
    let broken = with(
        with(with(m(), "title", ""), "notify_id", "-1"),
        "extra.callback",
        "nope",
    );
    expect(vec![
        (with(broken.clone(), "pass_through", "x"), 10017),
        (broken.clone(), 10016),
        (with(broken.clone(), "title", "t"), 10017),
        (with(with(broken, "title", "t"), "notify_id", "1"), 65038),
        (
            with(
                without(m(), "registration_id"),
                "restricted_package_name",
                "x",
            ),
            21305,
        ),
    ])
    .await;
}
