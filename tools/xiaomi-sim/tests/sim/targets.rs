//! Targets and their verdicts, the answers' shapes, deliveries, recording.

use std::collections::BTreeMap;

use serde_json::json;
use xiaomi_sim::{BadRegIdsKey, RegIdVerdict, Settings, PATH};

use crate::common::*;

#[tokio::test]
async fn success_has_xiaomis_shape_with_string_counts() {
    let sim = start().await;
    let answer = send(&sim, &message("reg-a")).await;
    let keys: Vec<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["code", "data", "description", "info", "result", "trace_id"],
        "{answer}"
    );
    assert_eq!(answer["result"], "ok");
    assert_eq!(answer["code"], 0);
    assert_eq!(answer["description"], "成功");
    assert_eq!(answer["info"], "Received push messages for 1 REGID");
    assert!(answer["trace_id"].as_str().unwrap().starts_with("Xlm"));
    let data = answer["data"].as_object().unwrap();
    assert_eq!(data.len(), 3, "{answer}");
    let id = data["id"].as_str().unwrap();
    assert!(!id.is_empty());
    assert_eq!(data["day_quota"], UNLIMITED);
    assert_eq!(data["day_acked"], "0");

    let second = send(&sim, &message("reg-b")).await;
    assert_ne!(second["data"]["id"], answer["data"]["id"]);
    assert_ne!(second["trace_id"], answer["trace_id"]);
    assert_eq!(second["data"]["day_acked"], "1");
}

#[tokio::test]
async fn a_thousand_regids_with_some_invalid_is_a_partial_success() {
    let sim = start().await;
    let targets = reg_ids("r", 1000);
    let dead = ["r-0", "r-500", "r-999"];
    for reg_id in dead {
        sim.set_reg_id(reg_id, RegIdVerdict::Invalid);
    }
    let answer = send(&sim, &message(&targets.join(","))).await;
    assert_eq!(answer["code"], 0, "{answer}");
    assert_eq!(answer["result"], "ok");
    assert_eq!(answer["data"]["bad_regids"], "r-0,r-500,r-999");
    assert!(answer["data"].get("bad_regIds").is_none());
    assert_eq!(answer["info"], "Received push messages for 1000 REGID");
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 997);
    assert!(deliveries
        .iter()
        .all(|d| !dead.contains(&d.reg_id.as_str())));
    assert!(deliveries.iter().all(|d| d.msg_id == answer["data"]["id"]));
    assert_eq!(deliveries[0].reg_id, "r-1");
}

#[tokio::test]
async fn a_thousand_and_one_regids_are_refused() {
    let sim = start().await;
    let answer = send(&sim, &message(&reg_ids("r", 1001).join(","))).await;
    assert_eq!(answer["code"], 10017, "{answer}");
    assert_eq!(answer["result"], "error");
    assert!(answer["trace_id"].as_str().unwrap().starts_with("Xlm"));
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn all_targets_invalid_answers_20301_no_valid_targets() {
    let sim = start().await;
    sim.set_reg_id("dead-1", RegIdVerdict::Invalid);
    sim.set_reg_id("dead-2", RegIdVerdict::Invalid);
    let mut answer = send(&sim, &message("dead-1,dead-2")).await;
    let trace_id = answer.as_object_mut().unwrap().remove("trace_id").unwrap();
    assert!(trace_id.as_str().unwrap().starts_with("Xlm"));
    assert_eq!(
        answer,
        json!({"result": "error", "reason": "No valid targets!", "code": 20301, "description": "发送消息失败"})
    );
    assert!(sim.deliveries().is_empty());

    sim.set_reg_id("dead-1", RegIdVerdict::Valid);
    let answer = send(&sim, &message("dead-1,dead-2")).await;
    assert_eq!(answer["data"]["bad_regids"], "dead-2");
}

#[tokio::test]
async fn the_bad_regids_spelling_is_a_setting() {
    let sim = start().await;
    assert_eq!(sim.settings(), Settings::default());
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    sim.set_settings(Settings {
        bad_regids_key: BadRegIdsKey::Camel,
        ..Settings::default()
    });
    let answer = send(&sim, &message("alive,dead")).await;
    assert_eq!(answer["data"]["bad_regIds"], "dead");
    assert!(answer["data"].get("bad_regids").is_none());

    let (status, _) = control(
        &sim,
        "settings",
        Some(json!({"bad_regids_key": "bad_regids"})),
    )
    .await;
    assert_eq!(status, 200);
    let answer = send(&sim, &message("alive,dead")).await;
    assert_eq!(answer["data"]["bad_regids"], "dead");
}

#[tokio::test]
async fn a_regid_given_twice_is_delivered_twice() {
    let sim = start().await;
    let answer = send(&sim, &message("a,b,a")).await;
    assert_eq!(answer["info"], "Received push messages for 3 REGID");
    let delivered: Vec<String> = sim.deliveries().into_iter().map(|d| d.reg_id).collect();
    assert_eq!(delivered, ["a", "b", "a"]);
}

#[tokio::test]
async fn deliveries_record_the_message() {
    let sim = start().await;
    let form = with(
        with(
            with(message("reg-a"), "extra.channel_id", "im-1"),
            "extra.notify_effect",
            "2",
        ),
        "extra.intent_uri",
        "intent:#Intent;end",
    );
    let form = with(form, "title", "你好 Alice");
    let answer = send(&sim, &form).await;
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d.msg_id, answer["data"]["id"].as_str().unwrap());
    assert_eq!(d.reg_id, "reg-a");
    assert_eq!(d.package_name, PACKAGE);
    assert_eq!(d.pass_through, 0);
    assert_eq!(d.title.as_deref(), Some("你好 Alice"));
    assert_eq!(d.description.as_deref(), Some("Hi, are you free tonight?"));
    assert_eq!(
        d.payload.as_deref(),
        Some("%7B%22conv%22%3A%22c2c_alice%22%7D")
    );
    assert_eq!(d.notify_type, Some(-1));
    assert_eq!(d.notify_id, Some(12345));
    assert_eq!(d.time_to_live, Some(86_400_000));
    assert_eq!(d.notify_effect.as_deref(), Some("2"));
    assert_eq!(d.channel_id.as_deref(), Some("im-1"));
    let extra: BTreeMap<&str, &str> = d
        .extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        extra,
        BTreeMap::from([
            ("channel_id", "im-1"),
            ("ext", "{\"conv\":\"c2c_alice\"}"),
            ("intent_uri", "intent:#Intent;end"),
            ("notify_effect", "2"),
        ])
    );
    assert_eq!(d.fields["registration_id"], "reg-a");
    assert_eq!(d.fields.len(), form.len());

    let (status, listed) = control(&sim, "deliveries", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["msg_id"], answer["data"]["id"]);
    assert_eq!(listed[0]["title"], "你好 Alice");
    assert_eq!(listed[0]["extra"]["ext"], "{\"conv\":\"c2c_alice\"}");
    assert_eq!(listed[0]["notify_effect"], "2");
}

#[tokio::test]
async fn requests_are_recorded_with_the_form_as_an_object() {
    let sim = start().await;
    let answer = send(&sim, &message("reg-a")).await;
    let recorded = sim.requests_to(PATH);
    assert_eq!(recorded.len(), 1);
    let r = &recorded[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.status, 200);
    assert_eq!(r.response, answer);
    assert_eq!(
        r.header("Authorization"),
        Some(format!("key={SECRET}").as_str())
    );
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/x-www-form-urlencoded"));
    assert_eq!(r.body["registration_id"], "reg-a");
    assert_eq!(r.body["extra.ext"], "{\"conv\":\"c2c_alice\"}");
    assert!(r.received_ms <= r.answered_ms);

    let (_, listed) = control(&sim, "requests", None).await;
    assert_eq!(listed[0]["body"]["title"], "Alice");
    assert_eq!(
        listed[0]["headers"]["authorization"],
        format!("key={SECRET}")
    );
    assert_eq!(listed[0]["response"]["code"], 0);
}
