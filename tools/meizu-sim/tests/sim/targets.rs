//! `pushIds`: the count limit (§15.8 CONFLICT), verdicts and the failure map.

use meizu_sim::{PushIdSyntax, PushIdVerdict, Settings, Simulator, UnknownPushIds, MAX_PUSH_IDS};
use serde_json::json;

use crate::common::*;

fn set(sim: &Simulator, change: impl FnOnce(&mut Settings)) {
    let mut settings = sim.settings();
    change(&mut settings);
    sim.set_settings(settings);
}

#[tokio::test]
async fn one_hundred_push_ids_pass_and_one_more_is_refused() {
    let sim = start().await;
    assert_eq!(MAX_PUSH_IDS, 100);
    assert_eq!(sim.settings().max_push_ids, 100);
    assert_eq!(failures(&sim, &push_ids("p", 100)).await, json!({}));
    assert_eq!(sim.deliveries().len(), 100);
    let answer = send(&sim, &form(&push_ids("q", 101))).await;
    assert_eq!(answer["code"], "1005");
    assert_eq!(answer["message"], "参数错误：推送目标数超过限制");
    assert_eq!(sim.deliveries().len(), 100);
}

#[tokio::test]
async fn the_older_reading_takes_one_thousand() {
    let sim = start().await;
    set(&sim, |s| s.max_push_ids = meizu_sim::OLD_MAX_PUSH_IDS);
    assert_eq!(failures(&sim, &push_ids("p", 1000)).await, json!({}));
    assert_eq!(code(&sim, &form(&push_ids("q", 1001))).await, "1005");
}

#[tokio::test]
async fn the_too_many_targets_code_and_message_are_settings() {
    let sim = start().await;
    set(&sim, |s| {
        s.too_many_targets_code = "110004".to_owned();
        s.too_many_targets_message = "pushIds 超过 100".to_owned();
    });
    let answer = send(&sim, &form(&push_ids("q", 101))).await;
    assert_eq!(answer["code"], "110004");
    assert_eq!(answer["message"], "pushIds 超过 100");
}

#[tokio::test]
async fn push_ids_must_be_given_and_well_formed() {
    let sim = start().await;
    assert_eq!(
        code(&sim, &signed_with(without(form("x"), "pushIds"), SECRET)).await,
        "110004"
    );
    for list in ["a,,b", "a,", ",a", "a b"] {
        assert_eq!(code(&sim, &form(list)).await, "1005", "{list:?}");
    }
}

#[tokio::test]
async fn verdicts_fill_the_failure_map_by_code() {
    let sim = start().await;
    sim.set_push_id("gone", PushIdVerdict::NotSubscribed);
    sim.set_push_id("junk", PushIdVerdict::Illegal);
    sim.set_push_id("muted", PushIdVerdict::SwitchOff);
    sim.set_push_id("capped", PushIdVerdict::PublicCap);
    sim.set_push_id("busy", PushIdVerdict::Code("513".to_owned()));
    sim.set_push_id("junk2", PushIdVerdict::Illegal);
    let value = failures(&sim, "ok1,gone,junk,muted,capped,busy,junk2,ok2").await;
    assert_eq!(
        value,
        json!({
            "110002": ["gone"],
            "110003": ["junk", "junk2"],
            "110010": ["muted"],
            "110011": ["capped"],
            "513": ["busy"],
        })
    );
    let delivered: Vec<String> = sim.deliveries().into_iter().map(|d| d.push_id).collect();
    assert_eq!(delivered, ["ok1", "ok2"]);
    // A verdict can be set back.
    sim.set_push_id("gone", PushIdVerdict::Valid);
    assert_eq!(failures(&sim, "gone").await, json!({}));
}

#[tokio::test]
async fn every_target_failing_is_still_code_200() {
    let sim = start().await;
    sim.set_push_id("gone", PushIdVerdict::NotSubscribed);
    let answer = send(&sim, &form("gone")).await;
    assert_eq!(answer["code"], "200");
    assert_eq!(answer["value"], json!({"110002": ["gone"]}));
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn unset_push_ids_follow_the_settings() {
    let sim = start().await;
    sim.set_push_id("known", PushIdVerdict::Valid);
    set(&sim, |s| s.unknown_push_ids = UnknownPushIds::NotSubscribed);
    assert_eq!(
        failures(&sim, "known,new").await,
        json!({"110002": ["new"]})
    );
    set(&sim, |s| s.unknown_push_ids = UnknownPushIds::Illegal);
    assert_eq!(
        failures(&sim, "known,new").await,
        json!({"110003": ["new"]})
    );
}

#[tokio::test]
async fn a_push_id_syntax_makes_the_others_illegal() {
    let sim = start().await;
    set(&sim, |s| {
        s.push_id_syntax = Some(PushIdSyntax {
            min_len: 4,
            max_len: 6,
        })
    });
    sim.set_push_id("ab", PushIdVerdict::Valid);
    let value = failures(&sim, "abcd,abcdef,abc,abcdefg,ab-cd,ab").await;
    assert_eq!(value, json!({"110003": ["abc", "abcdefg", "ab-cd"]}));
}

#[tokio::test]
async fn a_push_id_given_twice_is_delivered_once() {
    let sim = start().await;
    assert_eq!(failures(&sim, "a,b,a").await, json!({}));
    let delivered: Vec<String> = sim.deliveries().into_iter().map(|d| d.push_id).collect();
    assert_eq!(delivered, ["a", "b"]);
    assert_eq!(sim.usage(APP_ID).targets, 2);
}

#[tokio::test]
async fn verdicts_hold_for_every_app() {
    let sim = start().await;
    sim.set_push_id("gone", PushIdVerdict::NotSubscribed);
    let other = signed_with(with(form("gone"), "appId", OTHER_APP_ID), OTHER_SECRET);
    assert_eq!(
        send(&sim, &other).await["value"],
        json!({"110002": ["gone"]})
    );
}
