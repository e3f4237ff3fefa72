use crate::common::*;
use serde_json::{json, Value};
use vivo_sim::{Quotas, Rules, SimClock};

/// 2024-06-01 00:00 in UTC+8 (vivo's time zone).
const MIDNIGHT: i64 = 1_717_171_200_000;
const HOUR_MS: i64 = 60 * 60 * 1000;

fn window_on() -> Rules {
    Rules {
        operational_window: true,
        ..Rules::default()
    }
}

#[tokio::test]
async fn the_time_window_is_off_by_default() {
    let sim = start().await;
    let token = token(&sim).await;
    assert_eq!(sim.rules(), Rules::default());
    sim.set_clock(SimClock::Fixed(MIDNIGHT + 3 * HOUR_MS));
    assert_eq!(result(&sim, SEND, &token, &operational("a")).await, 0);
}

#[tokio::test]
async fn operational_messages_outside_7_to_23_utc8_answer_10071_when_enforced() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_rules(window_on());
    let cases = [
        (0, 10071),
        (3 * HOUR_MS, 10071),
        (7 * HOUR_MS - 1, 10071),
        (7 * HOUR_MS, 0),
        (12 * HOUR_MS, 0),
        (23 * HOUR_MS - 1, 0),
        (23 * HOUR_MS, 10071),
        (24 * HOUR_MS - 1, 10071),
    ];
    for (time_of_day, code) in cases {
        sim.set_clock(SimClock::Fixed(MIDNIGHT + time_of_day));
        let body = operational("a");
        assert_eq!(
            result(&sim, SEND, &token, &body).await,
            code,
            "at {} min after midnight UTC+8",
            time_of_day / 60_000
        );
        // By classification alone, and by default (neither given), too.
        let by_default = without(without(body, "category"), "classification");
        assert_eq!(result(&sim, SEND, &token, &by_default).await, code);
    }
    // System messages have no window.
    sim.set_clock(SimClock::Fixed(MIDNIGHT + 3 * HOUR_MS));
    assert_eq!(result(&sim, SEND, &token, &message("b")).await, 0);
    // An offset clock works the same way: 23:30 UTC+8 by vivo's clock.
    let offset = MIDNIGHT + 23 * HOUR_MS + HOUR_MS / 2 - now_ms();
    sim.set_clock(SimClock::Offset(offset));
    assert_eq!(result(&sim, SEND, &token, &operational("a")).await, 10071);
    assert_eq!(sim.deliveries().len(), 2 * 3 + 1);
}

#[tokio::test]
async fn list_push_follows_the_class_of_the_stored_message() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_rules(window_on());
    sim.set_clock(SimClock::Fixed(MIDNIGHT + 12 * HOUR_MS));
    let news = operational_list_payload();
    let operational_task = save(&sim, &token, &news).await;
    let system_task = save(&sim, &token, &list_payload()).await;

    // At night the stored bodies are still accepted; the operational one is not sent.
    sim.set_clock(SimClock::Fixed(MIDNIGHT + 23 * HOUR_MS + 1));
    let night_task = save(&sim, &token, &news).await;
    for task in [&operational_task, &night_task] {
        let body = json!({"regIds": ["a", "b"], "taskId": task, "requestId": "r"});
        assert_eq!(result(&sim, PUSH, &token, &body).await, 10071);
    }
    let body = json!({"regIds": ["a", "b"], "taskId": system_task, "requestId": "r"});
    assert_eq!(result(&sim, PUSH, &token, &body).await, 0);
    assert_eq!(sim.deliveries().len(), 2);
}

#[tokio::test]
async fn the_window_applies_to_test_pushes_and_comes_before_the_quota() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_rules(window_on());
    sim.set_quotas(
        APP_ID,
        Quotas {
            operational: Some(0),
            ..Quotas::default()
        },
    );
    sim.add_test_device(APP_ID, "tester");
    sim.set_clock(SimClock::Fixed(MIDNIGHT + 2 * HOUR_MS));
    assert_eq!(result(&sim, SEND, &token, &operational("a")).await, 10071);
    let test_push = with(operational("tester"), "pushMode", json!(1));
    assert_eq!(result(&sim, SEND, &token, &test_push).await, 10071);
    sim.set_clock(SimClock::Fixed(MIDNIGHT + 8 * HOUR_MS));
    assert_eq!(result(&sim, SEND, &token, &operational("a")).await, 10070);
    assert_eq!(result(&sim, SEND, &token, &test_push).await, 0);
}

/// `body` with this title and content.
fn titled(body: Value, title: &str, content: &str) -> Value {
    with(with(body, "title", json!(title)), "content", json!(content))
}

fn content_rules_on() -> Rules {
    Rules {
        content_rules: true,
        ..Rules::default()
    }
}

#[tokio::test]
async fn content_rules_are_off_by_default() {
    let sim = start().await;
    let token = token(&sim).await;
    for (title, content) in [("Alice", "2024"), ("测试", "[图片]"), ("!!!", "{}")] {
        let body = titled(message("a"), title, content);
        assert_eq!(
            result(&sim, SEND, &token, &body).await,
            0,
            "{title} / {content}"
        );
    }
}

#[tokio::test]
async fn content_rules_answer_10085_for_one_kind_of_character_and_10104_for_forbidden_text() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_rules(content_rules_on());
    let good_title = "Alice 说";
    let good_content = "Hi, are you free tonight?";
    let cases = [
        // 10085: only Latin letters, only digits, only symbols, symbols + digits.
        ("Alice", 10085),
        ("Hello World", 10085),
        ("2024", 10085),
        ("１２３", 10085),
        ("!!!", 10085),
        ("😀😀", 10085),
        ("12:30", 10085),
        ("+86 138-0000", 10085),
        // 10104: "测试" or a bracket / brace.
        ("测试", 10104),
        ("这是测试消息", 10104),
        ("[图片]", 10104),
        ("你好 {name}", 10104),
        ("Alice: [image]", 10104),
        // Mixtures pass.
        ("Bob2", 0),
        ("Hi, are you free?", 0),
        ("Alice 😀", 0),
        ("你好", 0),
        ("Café", 0),
        ("会议 10:30", 0),
    ];
    for (text, code) in cases {
        for (place, path, body) in [
            ("title", SEND, titled(message("a"), text, good_content)),
            ("content", SEND, titled(message("a"), good_title, text)),
            (
                "list title",
                SAVE,
                titled(list_payload(), text, good_content),
            ),
        ] {
            let answer = result(&sim, path, &token, &body).await;
            assert_eq!(answer, code, "{place} {text:?}");
        }
    }
    // The title is checked first; for each text, 10085 before 10104.
    let both = titled(message("a"), "测试", "OK");
    assert_eq!(result(&sim, SEND, &token, &both).await, 10104);
    let both = titled(message("a"), "OK", "测试");
    assert_eq!(result(&sim, SEND, &token, &both).await, 10085);
    let symbols_and_brackets = with(message("a"), "title", json!("{}"));
    assert_eq!(
        result(&sim, SEND, &token, &symbols_and_brackets).await,
        10085
    );
    // Field checks come first.
    let long = with(message("a"), "title", json!("a".repeat(41)));
    assert_eq!(result(&sim, SEND, &token, &long).await, 10056);

    let passing = cases.iter().filter(|(_, code)| *code == 0).count();
    assert_eq!(sim.deliveries().len(), 2 * passing);
}

#[tokio::test]
async fn reset_turns_the_rules_off() {
    let sim = start().await;
    let token = token(&sim).await;
    let all = Rules {
        operational_window: true,
        content_rules: true,
    };
    sim.set_rules(all);
    assert_eq!(sim.rules(), all);
    sim.reset();
    assert_eq!(sim.rules(), Rules::default());
    sim.set_clock(SimClock::Fixed(MIDNIGHT));
    let body = with(operational("a"), "title", json!("测试"));
    assert_eq!(result(&sim, SEND, &token, &body).await, 0);
}

#[tokio::test]
async fn rules_over_http() {
    let sim = start().await;
    assert_eq!(
        control(&sim, "rules", None).await,
        (
            200,
            json!({"operational_window": false, "content_rules": false})
        )
    );
    let on = json!({"operational_window": true});
    assert_eq!(control(&sim, "rules", Some(on)).await.0, 200);
    assert_eq!(sim.rules(), window_on());
    let both = json!({"operational_window": true, "content_rules": true});
    assert_eq!(control(&sim, "rules", Some(both.clone())).await.0, 200);
    assert_eq!(control(&sim, "rules", None).await.1, both);
    let content = json!({"content_rules": true});
    assert_eq!(control(&sim, "rules", Some(content)).await.0, 200);
    assert_eq!(sim.rules(), content_rules_on());
    assert_eq!(control(&sim, "rules", Some(json!({}))).await.0, 200);
    assert_eq!(sim.rules(), Rules::default(), "a missing rule is off");
    for bad in [
        json!({"operational_window": 1}),
        json!({"time_window": true}),
        json!([]),
    ] {
        assert_control_refuses(&sim, "rules", Some(bad)).await;
    }
}
