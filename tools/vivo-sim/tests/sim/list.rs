use crate::common::*;
use serde_json::{json, Value};
use vivo_sim::RegIdVerdict;

/// [`common::save`], also checking the HTTP status and that the taskId is digits.
async fn save(sim: &vivo_sim::Simulator, token: &str, body: &Value) -> String {
    let (status, answer) = post(sim, SAVE, Some(token), body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["result"], 0, "{answer}");
    let task_id = answer["taskId"].as_str().expect("taskId").to_owned();
    assert!(task_id.bytes().all(|b| b.is_ascii_digit()), "{task_id}");
    task_id
}

fn push_body(task_id: &str, reg_ids: &[&str]) -> Value {
    json!({"appId": APP_ID, "regIds": reg_ids, "taskId": task_id, "requestId": "list-1"})
}

#[tokio::test]
async fn list_push_delivers_the_stored_payload_and_lists_invalid_users() {
    let sim = start().await;
    let token = token(&sim).await;
    let payload = list_payload();
    let task_id = save(&sim, &token, &payload).await;
    sim.set_reg_id("dead", RegIdVerdict::Invalid { status: 2 });
    sim.set_reg_id("gone", RegIdVerdict::Invalid { status: 3 });

    let body = push_body(&task_id, &["alive-1", "dead", "alive-2", "gone"]);
    let (status, answer) = post(&sim, PUSH, Some(&token), &body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(answer["requestId"], "list-1");
    assert_eq!(
        answer["invalidUsers"],
        json!([{"status": 2, "userid": "dead"}, {"status": 3, "userid": "gone"}])
    );

    let deliveries = sim.deliveries();
    let reg_ids: Vec<&str> = deliveries.iter().map(|d| d.reg_id.as_str()).collect();
    assert_eq!(reg_ids, ["alive-1", "alive-2"]);
    for delivery in &deliveries {
        assert_eq!(delivery.app_id, APP_ID);
        assert_eq!(delivery.task_id, task_id);
        assert_eq!(delivery.via, "pushToList");
        assert_eq!(delivery.payload, payload);
    }
}

#[tokio::test]
async fn list_push_without_invalid_users_omits_the_list() {
    let sim = start().await;
    let token = token(&sim).await;
    let task_id = save(&sim, &token, &list_payload()).await;
    let (_, answer) = post(&sim, PUSH, Some(&token), &push_body(&task_id, &["a", "b"])).await;
    assert_eq!(answer["result"], 0, "{answer}");
    assert!(answer.get("invalidUsers").is_none(), "{answer}");
    assert_eq!(sim.deliveries().len(), 2);
}

#[tokio::test]
async fn list_push_takes_2_to_1000_reg_ids() {
    let sim = start().await;
    let token = token(&sim).await;
    let task_id = save(&sim, &token, &list_payload()).await;
    let ids: Vec<String> = (0..1001).map(|i| format!("reg-{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();

    for count in [0, 1, 1001] {
        let body = push_body(&task_id, &ids[..count]);
        let (_, answer) = post(&sim, PUSH, Some(&token), &body).await;
        assert_eq!(answer["result"], 10061, "{count} regIds: {answer}");
    }
    let not_strings = with(push_body(&task_id, &[]), "regIds", json!([1, 2]));
    let (_, answer) = post(&sim, PUSH, Some(&token), &not_strings).await;
    assert_eq!(answer["result"], 10061, "{answer}");
    let missing = without(push_body(&task_id, &[]), "regIds");
    let (_, answer) = post(&sim, PUSH, Some(&token), &missing).await;
    assert_eq!(answer["result"], 10050, "{answer}");
    assert!(sim.deliveries().is_empty());

    let body = push_body(&task_id, &ids[..1000]);
    let (_, answer) = post(&sim, PUSH, Some(&token), &body).await;
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(sim.deliveries().len(), 1000);
}

#[tokio::test]
async fn list_push_needs_a_known_task_of_the_same_app_and_a_request_id() {
    let sim = start().await;
    let token = token(&sim).await;
    let other_token = other_token(&sim).await;
    let other_payload = with(list_payload(), "appId", json!(OTHER_APP_ID));
    let other_task = save(&sim, &other_token, &other_payload).await;
    let own_task = save(&sim, &token, &list_payload()).await;
    let ok = push_body(&own_task, &["a", "b"]);
    let set = |field: &str, value: Value| with(ok.clone(), field, value);
    let unset = |field: &str| without(ok.clone(), field);

    let cases = [
        ("unknown taskId", push_body("123456", &["a", "b"]), 10062),
        (
            "another app's taskId",
            push_body(&other_task, &["a", "b"]),
            10062,
        ),
        ("no taskId", unset("taskId"), 10062),
        ("no requestId", unset("requestId"), 10052),
        (
            "requestId 65",
            set("requestId", json!("r".repeat(65))),
            10052,
        ),
        ("pushMode 3", set("pushMode", json!(3)), 10060),
        ("appId not a number", set("appId", json!("x")), 10200),
        (
            "appId of another app",
            set("appId", json!(OTHER_APP_ID)),
            10094,
        ),
    ];
    for (name, body, code) in &cases {
        let (_, answer) = post(&sim, PUSH, Some(&token), body).await;
        assert_eq!(answer["result"], *code, "{name}: {answer}");
    }
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn test_list_push_marks_non_test_devices_with_status_4() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.add_test_device(APP_ID, "tester");
    let task_id = save(&sim, &token, &with(list_payload(), "pushMode", json!(1))).await;
    let (_, answer) = post(
        &sim,
        PUSH,
        Some(&token),
        &push_body(&task_id, &["tester", "stranger"]),
    )
    .await;
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(
        answer["invalidUsers"],
        json!([{"status": 4, "userid": "stranger"}])
    );
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].reg_id, "tester");
}

#[tokio::test]
async fn save_list_payload_checks_the_message_like_send() {
    let sim = start().await;
    let token = token(&sim).await;
    let ok = list_payload();
    let set = |field: &str, value: Value| with(ok.clone(), field, value);
    let unset = |field: &str| without(ok.clone(), field);
    let cases = [
        ("requestId missing", unset("requestId"), 10052),
        ("title 41", set("title", json!("t".repeat(41))), 10056),
        ("title empty", set("title", json!("")), 10055),
        ("content empty", set("content", json!("")), 10053),
        ("notifyType 9", set("notifyType", json!(9)), 10054),
        ("skipType 0", set("skipType", json!(0)), 10057),
        ("timeToLive 899", set("timeToLive", json!(899)), 10058),
        (
            "timeToLive 604801",
            set("timeToLive", json!(604_801)),
            10058,
        ),
        ("category", set("category", json!("Im")), 10096),
        ("classification", set("classification", json!(0)), 10097),
        ("clientCustomMap", set("clientCustomMap", json!([])), 10059),
        ("pushMode", set("pushMode", json!(-1)), 10060),
        ("appId not a number", set("appId", json!([])), 10200),
        (
            "appId of another app",
            set("appId", json!(OTHER_APP_ID)),
            10094,
        ),
        ("networkType 2", set("networkType", json!("2")), 10063),
    ];
    for (name, body, code) in &cases {
        let (_, answer) = post(&sim, SAVE, Some(&token), body).await;
        assert_eq!(answer["result"], *code, "{name}: {answer}");
        assert!(answer.get("taskId").is_none(), "{name}: {answer}");
    }
    for ttl in [900, 604_800] {
        save(&sim, &token, &with(ok.clone(), "timeToLive", json!(ttl))).await;
    }
}

#[tokio::test]
async fn list_push_accepts_an_absent_app_id_string_forms_and_a_numeric_request_id() {
    let sim = start().await;
    let token = token(&sim).await;
    let payload = with(
        with(
            with(without(list_payload(), "appId"), "timeToLive", json!(0)),
            "networkType",
            json!("1"),
        ),
        "requestId",
        json!(42),
    );
    let task_id = save(&sim, &token, &payload).await;
    let string_app = with(list_payload(), "appId", json!("10004"));
    save(&sim, &token, &string_app).await;

    let body = with(
        without(push_body(&task_id, &["a", "b"]), "appId"),
        "requestId",
        json!(1_717_000_000_000u64),
    );
    let (_, answer) = post(&sim, PUSH, Some(&token), &body).await;
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(answer["requestId"], "1717000000000", "echoed as its text");
    let string_app = with(push_body(&task_id, &["c", "d"]), "appId", json!("10004"));
    let (_, answer) = post(&sim, PUSH, Some(&token), &string_app).await;
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(sim.deliveries().len(), 4);
    assert!(sim.deliveries().iter().all(|d| d.app_id == APP_ID));
}
