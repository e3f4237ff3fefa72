use crate::common::*;
use serde_json::{json, Value};
use vivo_sim::RegIdVerdict;

#[tokio::test]
async fn a_valid_send_is_accepted_and_delivered() {
    let sim = start().await;
    let token = token(&sim).await;
    let body = message("reg-alice");
    let (status, answer) = post(&sim, SEND, Some(&token), &body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(answer["desc"], "请求成功");
    let task_id = answer["taskId"].as_str().expect("taskId is a string");
    assert!(!task_id.is_empty() && task_id.bytes().all(|b| b.is_ascii_digit()));

    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(delivery.app_id, APP_ID);
    assert_eq!(delivery.reg_id, "reg-alice");
    assert_eq!(delivery.task_id, task_id);
    assert_eq!(delivery.via, "send");
    assert_eq!(delivery.payload, body);

    let recorded = sim.requests_to(SEND);
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].method, "POST");
    assert_eq!(recorded[0].auth_token.as_deref(), Some(token.as_str()));
    assert_eq!(
        recorded[0].content_type.as_deref(),
        Some("application/json")
    );
    assert_eq!(recorded[0].body, body);
    assert_eq!(recorded[0].status, 200);
    assert_eq!(recorded[0].response, answer);
}

#[tokio::test]
async fn a_minimal_send_and_boundary_values_are_accepted() {
    let sim = start().await;
    let token = token(&sim).await;
    let minimal = json!({
        "appId": APP_ID, "regId": "r", "notifyType": 1, "title": "t", "content": "c",
        "skipType": 1, "requestId": "x"
    });
    let forty = "标".repeat(40);
    let hundred = "😀".repeat(100);
    let request_id = "a".repeat(64);
    let map: serde_json::Map<String, Value> = (0..10)
        .map(|i| (format!("k{i}"), json!("v".repeat(100))))
        .collect();
    let accepted = [
        minimal.clone(),
        with(minimal.clone(), "title", json!(forty)),
        with(minimal.clone(), "content", json!(hundred)),
        with(minimal.clone(), "requestId", json!(request_id)),
        with(minimal.clone(), "timeToLive", json!(60)),
        with(minimal.clone(), "timeToLive", json!(86400)),
        with(minimal.clone(), "clientCustomMap", Value::Object(map)),
        with(minimal.clone(), "skipType", json!(3)),
        with(
            with(minimal.clone(), "skipType", json!(2)),
            "skipContent",
            json!("https://example.com/a?b=c"),
        ),
        with(minimal.clone(), "category", json!("MARKETING")),
        with(
            with(minimal.clone(), "category", json!("NEWS")),
            "classification",
            json!(0),
        ),
        with(minimal.clone(), "pushMode", json!(0)),
        with(minimal.clone(), "timeToLive", Value::Null),
        without(with(minimal.clone(), "alias", json!("alice")), "regId"),
    ];
    for (i, body) in accepted.iter().enumerate() {
        let (_, answer) = post(&sim, SEND, Some(&token), body).await;
        assert_eq!(answer["result"], 0, "case {i}: {answer}");
    }
    assert_eq!(sim.deliveries().len(), accepted.len());
    assert_eq!(sim.deliveries().last().unwrap().reg_id, "alice");
}

#[tokio::test]
async fn forms_other_vivo_clients_send_are_accepted() {
    let sim = start().await;
    let token = token(&sim).await;
    let ok = message("reg-a");
    let set = |field: &str, value: Value| with(ok.clone(), field, value);
    let unset = |field: &str| without(ok.clone(), field);
    let accepted = [
        ("appId absent", unset("appId")),
        ("appId as string", set("appId", json!("10004"))),
        ("timeToLive 0", set("timeToLive", json!(0))),
        ("networkType \"1\"", set("networkType", json!("1"))),
        ("networkType \"-1\"", set("networkType", json!("-1"))),
        ("networkType 1", set("networkType", json!(1))),
        ("networkType -1", set("networkType", json!(-1))),
        (
            "requestId number",
            set("requestId", json!(1_717_000_000_123u64)),
        ),
        ("requestId 0", set("requestId", json!(0))),
    ];
    for (name, body) in &accepted {
        let (_, answer) = post(&sim, SEND, Some(&token), body).await;
        assert_eq!(answer["result"], 0, "{name}: {answer}");
    }
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), accepted.len());
    assert_eq!(deliveries[0].app_id, APP_ID, "the token names the app");
    assert_eq!(
        deliveries[7].payload["requestId"],
        json!(1_717_000_000_123u64)
    );
}

#[tokio::test]
async fn each_invalid_send_field_gets_its_code_and_no_delivery() {
    let sim = start().await;
    let token = token(&sim).await;
    let ok = message("reg-a");
    let set = |field: &str, value: Value| with(ok.clone(), field, value);
    let unset = |field: &str| without(ok.clone(), field);
    let too_many: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
    let too_long: serde_json::Map<String, Value> = [("k".to_owned(), json!("v".repeat(1024)))]
        .into_iter()
        .collect();
    let cases: Vec<(&str, Value, i64)> = vec![
        ("appId not a number", set("appId", json!("app")), 10200),
        ("appId fractional", set("appId", json!(10004.5)), 10200),
        (
            "appId of another app as string",
            set("appId", json!(OTHER_APP_ID.to_string())),
            10094,
        ),
        (
            "appId of another app",
            set("appId", json!(OTHER_APP_ID)),
            10094,
        ),
        ("no regId/alias", unset("regId"), 10050),
        ("empty regId", set("regId", json!("")), 10050),
        ("requestId missing", unset("requestId"), 10052),
        ("requestId empty", set("requestId", json!("")), 10052),
        (
            "requestId 65",
            set("requestId", json!("a".repeat(65))),
            10052,
        ),
        ("notifyType missing", unset("notifyType"), 10054),
        ("notifyType 0", set("notifyType", json!(0)), 10054),
        ("notifyType 5", set("notifyType", json!(5)), 10054),
        ("notifyType string", set("notifyType", json!("4")), 10054),
        ("title missing", unset("title"), 10055),
        ("title empty", set("title", json!("")), 10055),
        ("title 41", set("title", json!("标".repeat(41))), 10056),
        (
            "title 41 emoji",
            set("title", json!("😀".repeat(41))),
            10056,
        ),
        ("content missing", unset("content"), 10053),
        ("content empty", set("content", json!("")), 10053),
        ("content 101", set("content", json!("c".repeat(101))), 10053),
        ("skipType missing", unset("skipType"), 10057),
        ("skipType 5", set("skipType", json!(5)), 10057),
        ("skipType 4 no content", unset("skipContent"), 10057),
        (
            "skipType 4 empty content",
            set("skipContent", json!("")),
            10057,
        ),
        ("skipType 2 not a URL", set("skipType", json!(2)), 10057),
        (
            "skipType 2 ftp",
            with(set("skipType", json!(2)), "skipContent", json!("ftp://x")),
            10057,
        ),
        (
            "skipContent 1025",
            set("skipContent", json!("i".repeat(1025))),
            10057,
        ),
        ("timeToLive 59", set("timeToLive", json!(59)), 10058),
        ("timeToLive 86401", set("timeToLive", json!(86401)), 10058),
        ("timeToLive string", set("timeToLive", json!("3600")), 10058),
        ("timeToLive negative", set("timeToLive", json!(-1)), 10058),
        ("category lower case", set("category", json!("im")), 10096),
        ("category unknown", set("category", json!("CHAT")), 10096),
        (
            "category vs classification",
            set("classification", json!(0)),
            10097,
        ),
        (
            "operational category, system class",
            set("category", json!("MARKETING")),
            10097,
        ),
        (
            "clientCustomMap string",
            set("clientCustomMap", json!("ext")),
            10059,
        ),
        (
            "clientCustomMap number value",
            set("clientCustomMap", json!({"ext": 1})),
            10059,
        ),
        (
            "clientCustomMap 11 pairs",
            set("clientCustomMap", Value::Object(too_many)),
            10059,
        ),
        (
            "clientCustomMap 1025 chars",
            set("clientCustomMap", Value::Object(too_long)),
            10059,
        ),
        ("pushMode 2", set("pushMode", json!(2)), 10060),
        ("pushMode string", set("pushMode", json!("0")), 10060),
        (
            "classification 2",
            with(unset("category"), "classification", json!(2)),
            10063,
        ),
        ("networkType 0", set("networkType", json!(0)), 10063),
        ("networkType \"0\"", set("networkType", json!("0")), 10063),
        (
            "networkType \"wifi\"",
            set("networkType", json!("wifi")),
            10063,
        ),
        ("requestId bool", set("requestId", json!(true)), 10052),
        ("notifyId 0", set("notifyId", json!(0)), 10063),
        (
            "profileId 65",
            set("profileId", json!("p".repeat(65))),
            10063,
        ),
        ("extra not object", set("extra", json!("x")), 10063),
    ];
    for (name, body, code) in &cases {
        let (status, answer) = post(&sim, SEND, Some(&token), body).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(answer["result"], *code, "{name}: {answer}");
        assert!(answer.get("taskId").is_none(), "{name}: {answer}");
    }
    assert!(sim.deliveries().is_empty());
    assert_eq!(sim.requests_to(SEND).len(), cases.len());
}

#[tokio::test]
async fn invalid_reg_ids_get_10302_with_their_status_and_a_string_userid() {
    let sim = start().await;
    let token = token(&sim).await;
    for status in 1..=4u8 {
        let reg_id = format!("1234567890{status}");
        sim.set_reg_id(&reg_id, RegIdVerdict::Invalid { status });
        let (http, answer) = send(&sim, &token, &reg_id).await;
        assert_eq!(http, 200);
        assert_eq!(answer["result"], 10302, "{answer}");
        assert_eq!(
            answer["invalidUser"],
            json!({"status": status, "userid": reg_id}),
            "{answer}"
        );
    }
    assert!(sim.deliveries().is_empty());

    sim.set_reg_id("12345678901", RegIdVerdict::Valid);
    let (_, answer) = send(&sim, &token, "12345678901").await;
    assert_eq!(answer["result"], 0, "{answer}");
}

#[tokio::test]
async fn test_push_reaches_only_registered_test_devices() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.add_test_device(APP_ID, "tester");
    sim.add_test_device(OTHER_APP_ID, "other-tester");

    let test_push = |reg_id: &str| with(message(reg_id), "pushMode", json!(1));
    let (_, answer) = post(&sim, SEND, Some(&token), &test_push("tester")).await;
    assert_eq!(answer["result"], 0, "{answer}");
    for reg_id in ["stranger", "other-tester"] {
        let (_, answer) = post(&sim, SEND, Some(&token), &test_push(reg_id)).await;
        assert_eq!(answer["result"], 10302, "{answer}");
        assert_eq!(
            answer["invalidUser"],
            json!({"status": 4, "userid": reg_id})
        );
    }
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].reg_id, "tester");
}

#[tokio::test]
async fn transport_mistakes_are_refused_and_recorded() {
    let sim = start().await;
    let token = token(&sim).await;
    let client = vivo_sim::http_client();
    let url = format!("{}/message/send", sim.base_url());

    let get = client.get(&url).send().await.unwrap();
    assert_eq!(get.status().as_u16(), 405);

    let not_json = client
        .post(&url)
        .header("authToken", &token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status().as_u16(), 400);

    let form = client
        .post(&url)
        .header("authToken", &token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(message("reg-a").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 415);

    let unknown = client
        .post(format!("{}/message/nope", sim.base_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);

    let recorded = sim.requests();
    let statuses: Vec<u16> = recorded.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 405, 400, 415, 404]);
    assert_eq!(recorded[1].method, "GET");
    assert_eq!(recorded[2].body, json!("{not json"));
    assert!(sim.deliveries().is_empty());
}
