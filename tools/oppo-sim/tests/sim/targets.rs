//! Targets and their verdicts: unicast, unicast_batch (per-message results)
//! and save_message_content + broadcast.

use oppo_sim::{RegIdVerdict, BROADCAST_PATH, SAVE_MESSAGE_PATH, UNICAST_BATCH_PATH};
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn a_unicast_to_an_invalid_target_is_10000() {
    let sim = start().await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    let token = token(&sim).await;
    let answer = unicast(&sim, &token, &message("dead")).await;
    assert_eq!(
        answer,
        json!({"code": 10000, "message": "registration_id格式不正确"})
    );
    for bad in [" ", "a b", "r1\n"] {
        assert_eq!(
            unicast(&sim, &token, &message(bad)).await["code"],
            10000,
            "{bad:?}"
        );
    }
    sim.set_reg_id("dead", RegIdVerdict::Valid);
    assert_eq!(unicast(&sim, &token, &message("dead")).await["code"], 0);
    // Aliases (target_type 5) have verdicts too.
    sim.set_reg_id("alice", RegIdVerdict::Invalid);
    let mut alias = message("alice");
    alias["target_type"] = json!(5);
    assert_eq!(unicast(&sim, &token, &alias).await["code"], 10000);
    alias["target_value"] = json!("bob");
    assert_eq!(unicast(&sim, &token, &alias).await["code"], 0);
    let targets: Vec<(i64, String)> = sim
        .deliveries()
        .iter()
        .map(|d| (d.target_type, d.target.clone()))
        .collect();
    assert_eq!(targets, [(2, "dead".to_owned()), (5, "bob".to_owned())]);
}

fn batch_form(token: &str, messages: &[Value]) -> Form {
    form(&[
        ("auth_token", token),
        ("messages", &Value::from(messages.to_vec()).to_string()),
    ])
}

#[tokio::test]
async fn a_batch_answers_per_message_with_error_code_10000_for_invalid_targets() {
    let sim = start().await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid);
    let token = token(&sim).await;
    let answer = call(
        &sim,
        UNICAST_BATCH_PATH,
        &batch_form(&token, &[message("r1"), message("dead"), message("r2")]),
    )
    .await;
    assert_eq!(answer["code"], 0, "{answer}");
    let items = answer["data"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for (item, target) in items.iter().zip(["r1", "dead", "r2"]) {
        assert_eq!(item["registrationId"], target);
        assert!(item["messageId"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{APP_ID}-1-1-")));
    }
    assert!(items[0].get("errorCode").is_none());
    assert_eq!(items[1]["errorCode"], 10000);
    assert_eq!(items[1]["errorMessage"], "registration_id格式不正确");
    assert_ne!(items[0]["messageId"], items[2]["messageId"]);
    let delivered: Vec<String> = sim.deliveries().iter().map(|d| d.target.clone()).collect();
    assert_eq!(delivered, ["r1", "r2"]);
    assert!(sim
        .deliveries()
        .iter()
        .all(|d| d.endpoint == "unicast_batch"));

    // Every target invalid: still code 0.
    let answer = call(
        &sim,
        UNICAST_BATCH_PATH,
        &batch_form(&token, &[message("dead")]),
    )
    .await;
    assert_eq!(answer["code"], 0);
    assert_eq!(answer["data"][0]["errorCode"], 10000);
}

#[tokio::test]
async fn a_batch_holds_1_to_1000_well_formed_messages() {
    let sim = start().await;
    let token = token(&sim).await;
    let many = |n: usize| -> Vec<Value> { reg_ids("r", n).iter().map(|r| message(r)).collect() };
    let answer = call(&sim, UNICAST_BATCH_PATH, &batch_form(&token, &many(1000))).await;
    assert_eq!(answer["code"], 0);
    assert_eq!(answer["data"].as_array().unwrap().len(), 1000);
    assert_eq!(sim.deliveries().len(), 1000);
    assert_eq!(
        code(&sim, UNICAST_BATCH_PATH, &batch_form(&token, &many(1001))).await,
        41
    );
    assert_eq!(
        code(&sim, UNICAST_BATCH_PATH, &batch_form(&token, &[])).await,
        41
    );
    assert_eq!(
        code(&sim, UNICAST_BATCH_PATH, &form(&[("auth_token", &token)])).await,
        40
    );
    let not_array = form(&[
        ("auth_token", &token),
        ("messages", &message("r1").to_string()),
    ]);
    assert_eq!(code(&sim, UNICAST_BATCH_PATH, &not_array).await, 41);
    // One bad message refuses the whole call, naming it.
    let bad = [message("r1"), message_with("r2", "title", Value::Null)];
    let answer = call(&sim, UNICAST_BATCH_PATH, &batch_form(&token, &bad)).await;
    assert_eq!(answer["code"], 40);
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("messages[1].notification.title"));
    let answer = call(
        &sim,
        UNICAST_BATCH_PATH,
        &batch_form(&token, &[message("r1"), json!("r2")]),
    )
    .await;
    assert_eq!(answer["code"], 41);
    assert_eq!(
        sim.deliveries().len(),
        1000,
        "refused calls deliver nothing"
    );
}

/// Saves a body; its message_id.
async fn save(sim: &oppo_sim::Simulator, token: &str, extra: &[(&str, &str)]) -> String {
    let mut body = form(&[
        ("auth_token", token),
        ("title", "Hello"),
        ("content", "Broadcast body"),
    ]);
    for (name, value) in extra {
        body = with(body, name, value);
    }
    let answer = call(sim, SAVE_MESSAGE_PATH, &body).await;
    assert_eq!(answer["code"], 0, "{answer}");
    answer["data"]["message_id"].as_str().unwrap().to_owned()
}

fn broadcast_form(token: &str, message_id: &str, target_type: &str, targets: &str) -> Form {
    form(&[
        ("auth_token", token),
        ("message_id", message_id),
        ("target_type", target_type),
        ("target_value", targets),
    ])
}

#[tokio::test]
async fn a_broadcast_lists_invalid_targets_under_10000() {
    let sim = start().await;
    sim.set_reg_id("dead-1", RegIdVerdict::Invalid);
    sim.set_reg_id("dead-2", RegIdVerdict::Invalid);
    let token = token(&sim).await;
    let id = save(&sim, &token, &[]).await;
    let answer = call(
        &sim,
        BROADCAST_PATH,
        &broadcast_form(&token, &id, "2", "r1;dead-1;r2;dead-2"),
    )
    .await;
    assert_eq!(answer["code"], 0, "{answer}");
    assert_eq!(answer["data"]["message_id"], json!(id));
    let task_id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    assert!(!task_id.is_empty());
    assert_eq!(answer["data"]["10000"], json!(["dead-1", "dead-2"]));
    let deliveries = sim.deliveries();
    let delivered: Vec<&str> = deliveries.iter().map(|d| d.target.as_str()).collect();
    assert_eq!(delivered, ["r1", "r2"]);
    assert!(deliveries
        .iter()
        .all(|d| d.endpoint == "broadcast" && d.task_id == task_id && d.message_id == id));

    // No invalid target: no "10000"; a second broadcast of the body is a new task.
    let answer = call(
        &sim,
        BROADCAST_PATH,
        &broadcast_form(&token, &id, "2", "r3"),
    )
    .await;
    assert!(answer["data"].get("10000").is_none(), "{answer}");
    assert_ne!(answer["data"]["task_id"], json!(task_id));
    // Every target invalid: still code 0.
    let answer = call(
        &sim,
        BROADCAST_PATH,
        &broadcast_form(&token, &id, "2", "dead-1"),
    )
    .await;
    assert_eq!(
        (answer["code"].clone(), answer["data"]["10000"].clone()),
        (json!(0), json!(["dead-1"]))
    );
}

#[tokio::test]
async fn a_broadcast_takes_up_to_1000_targets_of_a_stored_body_of_the_same_app() {
    let sim = start().await;
    let token = token(&sim).await;
    let id = save(&sim, &token, &[]).await;
    let join = |n: usize| reg_ids("r", n).join(";");
    assert_eq!(
        code(
            &sim,
            BROADCAST_PATH,
            &broadcast_form(&token, &id, "2", &join(1000))
        )
        .await,
        0
    );
    assert_eq!(sim.deliveries().len(), 1000);
    assert_eq!(
        code(
            &sim,
            BROADCAST_PATH,
            &broadcast_form(&token, &id, "2", &join(1001))
        )
        .await,
        41
    );
    for (form, expected) in [
        (broadcast_form(&token, &id, "2", "r1;;r2"), 41),
        (broadcast_form(&token, &id, "2", "r1;"), 41),
        (broadcast_form(&token, &id, "3", "r1"), 41),
        (broadcast_form(&token, &id, "two", "r1"), 41),
        (
            without(broadcast_form(&token, &id, "2", "r1"), "target_type"),
            40,
        ),
        (
            without(broadcast_form(&token, &id, "2", "r1"), "target_value"),
            40,
        ),
        (
            without(broadcast_form(&token, &id, "2", "r1"), "message_id"),
            40,
        ),
        (broadcast_form(&token, "30012345-1-2-999", "2", "r1"), 31),
    ] {
        assert_eq!(
            code(&sim, BROADCAST_PATH, &form).await,
            expected,
            "{form:?}"
        );
    }
    let theirs = token_of(&sim, OTHER_KEY, OTHER_MASTER).await;
    assert_eq!(
        code(
            &sim,
            BROADCAST_PATH,
            &broadcast_form(&theirs, &id, "2", "r1")
        )
        .await,
        31
    );
    assert_eq!(sim.deliveries().len(), 1000);

    // Aliases and a tag.
    assert_eq!(
        code(
            &sim,
            BROADCAST_PATH,
            &broadcast_form(&token, &id, "5", "alice;bob")
        )
        .await,
        0
    );
    assert_eq!(
        code(
            &sim,
            BROADCAST_PATH,
            &broadcast_form(&token, &id, "6", "vip")
        )
        .await,
        0
    );
    let tail: Vec<(i64, String)> = sim.deliveries()[1000..]
        .iter()
        .map(|d| (d.target_type, d.target.clone()))
        .collect();
    assert_eq!(
        tail,
        [(5, "alice".into()), (5, "bob".into()), (6, "vip".into())]
    );
}

#[tokio::test]
async fn app_message_id_pushes_a_unicast_once_per_target() {
    let sim = start().await;
    let token = token(&sim).await;
    let once = |target: &str| message_with(target, "app_message_id", json!("chat-42"));
    for target in ["r1", "r1", "r2"] {
        let answer = unicast(&sim, &token, &once(target)).await;
        assert_eq!(answer["code"], 0);
        assert!(answer["data"]["messageId"].is_string());
    }
    let answer = call(
        &sim,
        UNICAST_BATCH_PATH,
        &batch_form(&token, &[once("r2"), once("r3")]),
    )
    .await;
    assert_eq!(answer["code"], 0);
    let delivered: Vec<String> = sim.deliveries().iter().map(|d| d.target.clone()).collect();
    assert_eq!(delivered, ["r1", "r2", "r3"]);
    // Another app's id space is its own.
    let theirs = token_of(&sim, OTHER_KEY, OTHER_MASTER).await;
    unicast(&sim, &theirs, &once("r1")).await;
    assert_eq!(sim.deliveries().len(), 4);
}
