//! Quotas: rate (110010), the app's daily counts (110019 / 110051), the
//! per-device public cap (110011) and the per-minute collapse (520).

use meizu_sim::{Quota, Settings, SimClock, Simulator, Usage};
use serde_json::{json, Value};

use crate::common::*;

/// 2024-06-01 12:00 UTC+8.
const NOON: i64 = 1_717_214_400_000;
/// Midnight after NOON, UTC+8.
const MIDNIGHT: i64 = NOON + 12 * 3_600_000;

fn set(sim: &Simulator, change: impl FnOnce(&mut Settings)) {
    let mut settings = sim.settings();
    change(&mut settings);
    sim.set_settings(settings);
}

fn public(push_ids: &str) -> Form {
    let mut m = message_json();
    m["noticeBarInfo"]["noticeMsgType"] = json!(0);
    form_for(push_ids, &m)
}

#[tokio::test]
async fn requests_over_the_qps_answer_110010_within_one_second() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_quota(
        APP_ID,
        Quota {
            qps: Some(2),
            ..Quota::default()
        },
    );
    assert_eq!(code(&sim, &form("a")).await, "200");
    assert_eq!(code(&sim, &form("a")).await, "200");
    let answer = send(&sim, &form("a")).await;
    assert_eq!(
        answer,
        json!({"code": "110010", "message": "应用请求频率超过限制", "value": "", "redirect": ""})
    );
    // Another app has its own count; a wrong sign does not count.
    let other = signed_with(with(form("a"), "appId", OTHER_APP_ID), OTHER_SECRET);
    assert_eq!(code(&sim, &other).await, "200");
    sim.set_clock(SimClock::Fixed(NOON + 1000));
    assert_eq!(code(&sim, &with(form("a"), "sign", "bad")).await, "1006");
    assert_eq!(code(&sim, &form("a")).await, "200");
    assert_eq!(code(&sim, &form("a")).await, "200");
    assert_eq!(code(&sim, &form("a")).await, "110010");
    assert_eq!(sim.deliveries().len(), 5);
}

#[tokio::test]
async fn the_daily_target_count_answers_110019_once_reached() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_quota(
        APP_ID,
        Quota {
            daily_targets: Some(3),
            ..Quota::default()
        },
    );
    // The call that crosses the quota goes through in full.
    assert_eq!(failures(&sim, "a,b").await, json!({}));
    assert_eq!(failures(&sim, "c,d").await, json!({}));
    let answer = send(&sim, &form("e")).await;
    assert_eq!(answer["code"], "110019");
    assert_eq!(answer["message"], "超过该应用的当天推送总数限制");
    assert_eq!(
        sim.usage(APP_ID),
        Usage {
            targets: 4,
            messages: 2,
            quota: Quota {
                daily_targets: Some(3),
                ..Quota::default()
            },
        }
    );
    // The next Meizu day (midnight UTC+8) starts again.
    sim.set_clock(SimClock::Fixed(MIDNIGHT - 1));
    assert_eq!(code(&sim, &form("e")).await, "110019");
    sim.set_clock(SimClock::Fixed(MIDNIGHT));
    assert_eq!(code(&sim, &form("e")).await, "200");
    assert_eq!(sim.usage(APP_ID).targets, 1);
}

#[tokio::test]
async fn the_swapped_reading_answers_the_daily_count_with_110031() {
    let sim = start().await;
    set(&sim, |s| s.swap_110019_110031 = true);
    sim.set_quota(
        APP_ID,
        Quota {
            daily_targets: Some(0),
            ..Quota::default()
        },
    );
    assert_eq!(code(&sim, &form("a")).await, "110031");
}

#[tokio::test]
async fn the_daily_call_count_answers_110051() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_quota(
        APP_ID,
        Quota {
            daily_messages: Some(2),
            ..Quota::default()
        },
    );
    assert_eq!(code(&sim, &form("a")).await, "200");
    assert_eq!(code(&sim, &form("a,b,c")).await, "200");
    assert_eq!(code(&sim, &form("a")).await, "110051");
    // Refused calls do not count.
    assert_eq!(sim.usage(APP_ID).messages, 2);
    // Quotas are checked after the fields.
    let mut bad = message_json();
    bad["noticeBarInfo"]["title"] = json!("");
    assert_eq!(code(&sim, &form_for("a", &bad)).await, "110004");
}

#[tokio::test]
async fn public_messages_over_the_device_cap_answer_110011_per_target() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    sim.set_quota(
        APP_ID,
        Quota {
            public_per_device: Some(2),
            ..Quota::default()
        },
    );
    assert_eq!(send(&sim, &public("a")).await["value"], json!({}));
    assert_eq!(send(&sim, &public("a,b")).await["value"], json!({}));
    assert_eq!(
        send(&sim, &public("a,b")).await["value"],
        json!({"110011": ["a"]})
    );
    // Private messages are not capped and do not count.
    assert_eq!(failures(&sim, "a").await, json!({}));
    assert_eq!(
        send(&sim, &public("b")).await["value"],
        json!({"110011": ["b"]})
    );
    // Next day.
    sim.set_clock(SimClock::Fixed(MIDNIGHT));
    assert_eq!(send(&sim, &public("a")).await["value"], json!({}));
}

#[tokio::test]
async fn more_than_five_messages_a_minute_to_one_device_collapse_with_520() {
    let sim = start().await;
    assert_eq!(Settings::default().per_device_per_minute, Some(5));
    set(&sim, |s| s.per_device_per_minute = Some(5));
    sim.set_clock(SimClock::Fixed(NOON));
    for _ in 0..5 {
        assert_eq!(failures(&sim, "a").await, json!({}));
    }
    let value: Value = failures(&sim, "a,b").await;
    assert_eq!(value, json!({"520": ["a"]}));
    assert_eq!(sim.deliveries().len(), 6);
    // The window is 60 s of the simulator's clock.
    sim.set_clock(SimClock::Fixed(NOON + 59_999));
    assert_eq!(failures(&sim, "a").await, json!({"520": ["a"]}));
    sim.set_clock(SimClock::Fixed(NOON + 60_000));
    assert_eq!(failures(&sim, "a").await, json!({}));
    // Off.
    set(&sim, |s| s.per_device_per_minute = None);
    for _ in 0..6 {
        assert_eq!(failures(&sim, "b").await, json!({}));
    }
}

#[tokio::test]
async fn a_verdict_wins_over_the_caps() {
    let sim = start().await;
    sim.set_quota(
        APP_ID,
        Quota {
            public_per_device: Some(0),
            ..Quota::default()
        },
    );
    sim.set_push_id("gone", meizu_sim::PushIdVerdict::NotSubscribed);
    assert_eq!(
        send(&sim, &public("gone,a")).await["value"],
        json!({"110002": ["gone"], "110011": ["a"]})
    );
}
