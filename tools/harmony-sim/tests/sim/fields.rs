//! The `push-type` header, the envelope, the body size and the fields of
//! §14.4.

use harmony_sim::{send_path, Settings, TtlOverMax};
use serde_json::{json, Value};

use crate::common::*;

/// Every case answers `code` with `msg` starting with `msg_start`; nothing
/// is delivered.
async fn refused(sim: &harmony_sim::Simulator, cases: Vec<Value>, code: &str, msg_start: &str) {
    for body in cases {
        let (status, answer) = send(sim, &body).await;
        assert_eq!(code_of(&answer), code, "{body}\n{answer}");
        assert_eq!(status, 400, "{answer}");
        let msg = answer["msg"].as_str().unwrap();
        assert!(msg.starts_with(msg_start), "{msg}");
    }
    assert!(sim.deliveries().is_empty());
}

async fn accepted(sim: &harmony_sim::Simulator, cases: Vec<Value>) {
    for body in cases {
        let (status, answer) = send(sim, &body).await;
        assert_eq!(
            (status, code_of(&answer)),
            (200, "80000000".to_owned()),
            "{body}\n{answer}"
        );
    }
}

#[tokio::test]
async fn the_push_type_header_is_required_and_checked() {
    let sim = start().await;
    let bearer = jwt(&sim);
    for headers in [
        &[][..],
        &[("push-type", "")][..],
        &[("push-type", "3")][..],
        &[("push-type", "12")][..],
        &[("push-type", "-0")][..],
        &[("push-type", "0,0")][..],
        &[("push-type", "alert")][..],
        &[("push-type", "256")][..],
    ] {
        let (status, answer) = post_with(&sim, PROJECT, &bearer, headers, &message(&["t1"])).await;
        assert_eq!(status, 400, "{headers:?}");
        assert_eq!(answer["code"], "80100003", "{headers:?}");
        assert_eq!(
            answer["msg"],
            "Illegal payload, The header does not contain valid push-type"
        );
    }
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn other_push_types_are_refused_as_without_the_right() {
    let sim = start().await;
    let bearer = jwt(&sim);
    for push_type in ["1", "2", "6", "7", "10", "11"] {
        let (status, answer) = post_with(
            &sim,
            PROJECT,
            &bearer,
            &[("push-type", push_type)],
            &message(&["t1", "t2"]),
        )
        .await;
        assert_eq!(
            (status, code_of(&answer)),
            (200, "80300007".to_owned()),
            "{push_type}"
        );
        assert_eq!(
            msg_json(&answer),
            json!({"failure": 2, "illegalTokens": {"noPushTypeRight": ["t1", "t2"]}})
        );
    }
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn the_envelope_must_be_a_json_object() {
    let sim = start().await;
    let auth = format!("Bearer {}", jwt(&sim));
    let body = message(&["t1"]).to_string();
    for (content_type, body) in [
        ("text/plain", body.clone()),
        ("application/x-www-form-urlencoded", body.clone()),
        ("application/json; charset=GBK", body.clone()),
        ("application/json", "{".to_owned()),
        ("application/json", "[]".to_owned()),
        ("application/json", "\"x\"".to_owned()),
    ] {
        let (status, text) = raw(
            &sim,
            "POST",
            &send_path(PROJECT),
            &[
                ("authorization", &auth),
                ("push-type", "0"),
                ("content-type", content_type),
            ],
            body.clone(),
        )
        .await;
        let answer = parse(text);
        assert_eq!(
            (status, code_of(&answer)),
            (400, "80100001".to_owned()),
            "{content_type} {body}"
        );
    }
    for content_type in ["application/json", "application/json;charset=utf-8"] {
        let (_, text) = raw(
            &sim,
            "POST",
            &send_path(PROJECT),
            &[
                ("authorization", &auth),
                ("push-type", "0"),
                ("content-type", content_type),
            ],
            body.clone(),
        )
        .await;
        assert_eq!(parse(text)["code"], "80000000", "{content_type}");
    }
}

/// `message` padded through an ignored field to exactly `size` bytes
/// without tokens.
fn sized(tokens: &[&str], size: usize) -> Value {
    let body = set(message(tokens), "/pad", Some(json!("")));
    let mut without = body.clone();
    without["target"].as_object_mut().unwrap().remove("token");
    let now = without.to_string().len();
    set(body, "/pad", Some(json!("x".repeat(size - now))))
}

#[tokio::test]
async fn the_body_without_tokens_is_at_most_4096_bytes() {
    let sim = start().await;
    let many = tokens("a-long-token-that-takes-room", 200);
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    accepted(&sim, vec![sized(&many, 4096)]).await;
    assert_eq!(sim.deliveries().len(), 200, "tokens do not count");
    sim.reset();
    refused(&sim, vec![sized(&["t1"], 4097)], "80300008", "").await;
}

#[tokio::test]
async fn the_token_count_is_1_to_1000() {
    let sim = start().await;
    let thousand = tokens("t", 1000);
    let mut body = message(&[]);
    body["target"]["token"] = json!(thousand);
    accepted(&sim, vec![body.clone()]).await;
    assert_eq!(sim.deliveries().len(), 1000);
    sim.reset();
    let mut over = body;
    over["target"]["token"] = json!(tokens("t", 1001));
    refused(
        &sim,
        vec![over, message(&[])],
        "80300010",
        "token count should within 1 and 1000",
    )
    .await;
    refused(
        &sim,
        vec![
            set(message(&["t"]), "/target", None),
            set(message(&["t"]), "/target", Some(json!(["t"]))),
            set(message(&["t"]), "/target/token", None),
            set(message(&["t"]), "/target/token", Some(json!("t1"))),
            set(message(&["t"]), "/target/token", Some(json!(["t1", 2]))),
        ],
        "80100003",
        "Illegal payload, ",
    )
    .await;
}

#[tokio::test]
async fn test_messages_carry_at_most_10_tokens() {
    let sim = start().await;
    let ten = tokens("t", 10);
    let mut body = set(message(&[]), "/pushOptions/testMessage", Some(json!(true)));
    body["target"]["token"] = json!(ten);
    accepted(&sim, vec![body.clone()]).await;
    assert!(sim.deliveries().iter().all(|d| d.test_message));
    sim.reset();
    body["target"]["token"] = json!(tokens("t", 11));
    refused(&sim, vec![body.clone()], "80300030", "").await;
    // Not a test message: 11 are fine.
    accepted(
        &sim,
        vec![set(body, "/pushOptions/testMessage", Some(json!(false)))],
    )
    .await;
}

#[tokio::test]
async fn the_ttl_is_1_to_15_days() {
    let sim = start().await;
    let ttl = |v: Value| set(message(&["t1"]), "/pushOptions/ttl", Some(v));
    accepted(&sim, vec![ttl(json!(1)), ttl(json!(1_296_000))]).await;
    accepted(&sim, vec![set(message(&["t1"]), "/pushOptions", None)]).await;
    let ttls: Vec<i64> = sim.deliveries().iter().map(|d| d.ttl).collect();
    assert_eq!(ttls, [1, 1_296_000, 86_400]);
    sim.reset();
    refused(
        &sim,
        vec![ttl(json!(0)), ttl(json!(-5)), ttl(json!(1_296_001))],
        "80100004",
        "Illegal expire time",
    )
    .await;
    refused(
        &sim,
        vec![ttl(json!("86400s")), ttl(json!(86400.5))],
        "80100003",
        "Illegal payload, ",
    )
    .await;
    sim.set_settings(Settings {
        ttl_over_max: TtlOverMax::Clamp,
        ..Settings::default()
    })
    .unwrap();
    accepted(&sim, vec![ttl(json!(99_999_999))]).await;
    assert_eq!(sim.deliveries()[0].ttl, 1_296_000);
    refused_after(&sim, ttl(json!(0)), "80100004").await;
}

async fn refused_after(sim: &harmony_sim::Simulator, body: Value, code: &str) {
    let (_, answer) = send(sim, &body).await;
    assert_eq!(code_of(&answer), code, "{body}");
}

#[tokio::test]
async fn push_options_fields_are_typed_and_bounded() {
    let sim = start().await;
    let o = |name: &str, v: Value| set(message(&["t1"]), &format!("/pushOptions/{name}"), Some(v));
    accepted(
        &sim,
        vec![
            o("biTag", json!("b".repeat(64))),
            o("collapseKey", json!(-1)),
            o("collapseKey", json!(0)),
            o("collapseKey", json!(1)),
            o("collapseKey", json!(100)),
            o("testMessage", json!(false)),
            o("unknownOption", json!({"x": 1})),
        ],
    )
    .await;
    let keys: Vec<Option<i64>> = sim.deliveries().iter().map(|d| d.collapse_key).collect();
    assert_eq!(keys[1..5], [Some(-1), Some(0), Some(1), Some(100)]);
    sim.reset();
    refused(
        &sim,
        vec![
            o("biTag", json!("b".repeat(65))),
            o("biTag", json!(1)),
            o("receiptId", json!("r".repeat(65))),
            o("collapseKey", json!(101)),
            o("collapseKey", json!(-2)),
            o("collapseKey", json!("1")),
            o("testMessage", json!("true")),
            o("backgroundMode", json!(1)),
            set(message(&["t1"]), "/pushOptions", Some(json!([]))),
        ],
        "80100003",
        "Illegal payload, ",
    )
    .await;
}

#[tokio::test]
async fn the_notification_needs_title_body_and_click_action() {
    let sim = start().await;
    let n = |name: &str, v: Option<Value>| {
        set(
            message(&["t1"]),
            &format!("/payload/notification/{name}"),
            v,
        )
    };
    refused(
        &sim,
        vec![
            set(message(&["t1"]), "/payload", None),
            set(message(&["t1"]), "/payload", Some(json!("x"))),
            set(message(&["t1"]), "/payload/notification", None),
            set(message(&["t1"]), "/payload/notification", Some(json!([]))),
            n("title", None),
            n("title", Some(json!(""))),
            n("title", Some(json!(1))),
            n("body", None),
            n("body", Some(json!(""))),
            n("clickAction", None),
            n("clickAction", Some(json!(0))),
            n("category", Some(json!("CHAT"))),
            n("category", Some(json!("PLAY_VOICE"))),
            n("category", Some(json!(1))),
        ],
        "80100003",
        "Illegal payload, ",
    )
    .await;
}

#[tokio::test]
async fn click_actions_open_home_or_a_page_and_data_may_be_object_or_string() {
    let sim = start().await;
    let c = |v: Value| {
        set(
            message(&["t1"]),
            "/payload/notification/clickAction",
            Some(v),
        )
    };
    accepted(
        &sim,
        vec![
            c(json!({"actionType": 0})),
            c(json!({"actionType": 1, "action": "com.example.OPEN"})),
            c(json!({"actionType": 1, "uri": "myapp://chat/1"})),
            c(json!({"actionType": 0, "data": {"conv": "c1"}})),
            // §14.4 CONFLICT: one client sends `data` as a string.
            c(json!({"actionType": 0, "data": "{\"conv\":\"c1\"}"})),
        ],
    )
    .await;
    assert_eq!(
        sim.deliveries()[4].click_action["data"],
        "{\"conv\":\"c1\"}"
    );
    sim.reset();
    refused(
        &sim,
        vec![
            c(json!({})),
            c(json!({"actionType": "0"})),
            c(json!({"actionType": 1})),
            c(json!({"actionType": 1, "action": "", "uri": ""})),
            c(json!({"actionType": 2})),
            c(json!({"actionType": 3})),
            c(json!({"actionType": 5})),
            c(json!({"actionType": 0, "data": 1})),
            c(json!({"actionType": 0, "data": [1]})),
            c(json!({"actionType": 1, "action": 1})),
        ],
        "80100003",
        "Illegal payload, ",
    )
    .await;
}

#[tokio::test]
async fn badge_numbers_are_bounded() {
    let sim = start().await;
    let b = |v: Value| set(message(&["t1"]), "/payload/notification/badge", Some(v));
    accepted(
        &sim,
        vec![
            b(json!({"addNum": 1})),
            b(json!({"addNum": 99})),
            b(json!({"setNum": 0})),
            b(json!({"setNum": 99, "addNum": 5})),
        ],
    )
    .await;
    assert_eq!(
        sim.deliveries()[3].badge,
        Some(json!({"setNum": 99, "addNum": 5}))
    );
    sim.reset();
    for (badge, msg) in [
        (
            json!({"addNum": 0}),
            "Illegal payload, badge addNum value ranges from 1 to 99",
        ),
        (
            json!({"addNum": 100}),
            "Illegal payload, badge addNum value ranges from 1 to 99",
        ),
        (
            json!({"addNum": "1"}),
            "Illegal payload, badge addNum value ranges from 1 to 99",
        ),
        (
            json!({"setNum": -1}),
            "Illegal payload, badge setNum value ranges from 0 to 99",
        ),
        (
            json!({"setNum": 100}),
            "Illegal payload, badge setNum value ranges from 0 to 99",
        ),
    ] {
        let (status, answer) = send(&sim, &b(badge.clone())).await;
        assert_eq!(
            (status, code_of(&answer)),
            (400, "80100003".to_owned()),
            "{badge}"
        );
        assert_eq!(answer["msg"], msg);
    }
    refused(&sim, vec![b(json!(1))], "80100003", "").await;
}

#[tokio::test]
async fn other_notification_fields_are_typed_and_bounded() {
    let sim = start().await;
    let n = |name: &str, v: Value| {
        set(
            message(&["t1"]),
            &format!("/payload/notification/{name}"),
            Some(v),
        )
    };
    accepted(
        &sim,
        vec![
            n("notifyId", json!(-1)),
            n("notifyId", json!(0)),
            n("notifyId", json!(2_147_483_647)),
            n("image", json!("https://cdn.example.com/a.png")),
            n("style", json!(0)),
            n("style", json!(1)),
            n("style", json!(3)),
            n("inboxContent", json!(["a".repeat(1024), "b", "c"])),
            n("appMessageId", json!("a".repeat(64))),
            n("appMessageId", json!("Az09+/=_- x")),
            n("profileId", json!("p".repeat(64))),
            n("soundDuration", json!(1)),
            n("soundDuration", json!(60)),
            n("sound", json!("ring.mp3")),
            n("foregroundShow", json!(false)),
            n("bigTitle", json!("t")),
            n("unknownField", json!([1, 2])),
        ],
    )
    .await;
    sim.reset();
    refused(
        &sim,
        vec![
            n("notifyId", json!(-2)),
            n("notifyId", json!(2_147_483_648_i64)),
            n("notifyId", json!("1")),
            n("image", json!("http://cdn.example.com/a.png")),
            n("image", json!("https://")),
            n("style", json!(2)),
            n("inboxContent", json!(["a", "b", "c", "d"])),
            n("inboxContent", json!(["a".repeat(1025)])),
            n("inboxContent", json!([1])),
            n("appMessageId", json!("")),
            n("appMessageId", json!("a".repeat(65))),
            n("appMessageId", json!("a.b")),
            n("profileId", json!("p".repeat(65))),
            n("soundDuration", json!(0)),
            n("soundDuration", json!(61)),
            n("sound", json!(1)),
            n("foregroundShow", json!("false")),
            n("bigBody", json!(1)),
        ],
        "80100003",
        "Illegal payload, ",
    )
    .await;
}

#[tokio::test]
async fn null_counts_as_absent_and_a_delivery_keeps_what_was_sent() {
    let sim = start().await;
    let body = set(
        message(&["t1"]),
        "/payload/notification/image",
        Some(Value::Null),
    );
    accepted(&sim, vec![body.clone()]).await;
    let delivery = &sim.deliveries()[0];
    assert_eq!(delivery.title, "Alice");
    assert_eq!(delivery.body, "Hi, are you free tonight?");
    assert_eq!(delivery.notify_id, Some(12345));
    assert_eq!(delivery.bi_tag.as_deref(), Some("push-1"));
    assert_eq!(delivery.push_type, 0);
    assert_eq!(delivery.payload, body["payload"]);
    assert_eq!(delivery.push_options, body["pushOptions"]);
    assert_eq!(delivery.click_action["data"], json!({"conv": "c2c_alice"}));
}

#[tokio::test]
async fn the_first_failing_check_answers() {
    let sim = start().await;
    let bearer = jwt(&sim);
    let bad_payload = set(message(&["t1"]), "/payload", None);
    // A bad JWT before the push-type header.
    let (_, answer) = post_with(&sim, PROJECT, "x", &[], &message(&["t1"])).await;
    assert_eq!(answer["code"], "80200001");
    // The push-type header before the envelope.
    let (status, text) = raw(
        &sim,
        "POST",
        &send_path(PROJECT),
        &[
            ("authorization", &format!("Bearer {bearer}")),
            ("content-type", "text/plain"),
        ],
        "{".to_owned(),
    )
    .await;
    assert_eq!(
        (status, parse(text)["code"].clone()),
        (400, json!("80100003"))
    );
    // The size before the token count.
    let big = set(sized(&["t1"], 4097), "/target/token", Some(json!([])));
    assert_eq!(code(&sim, &big).await, "80300008");
    // The token count before the payload.
    let mut many = bad_payload.clone();
    many["target"]["token"] = json!(tokens("t", 1001));
    assert_eq!(code(&sim, &many).await, "80300010");
    // Another push-type before the payload.
    let (_, answer) = post_with(&sim, PROJECT, &bearer, &[("push-type", "6")], &bad_payload).await;
    assert_eq!(answer["code"], "80300007");
    // The test-token count before the payload; the ttl before the payload.
    let mut test = set(
        bad_payload.clone(),
        "/pushOptions/testMessage",
        Some(json!(true)),
    );
    test["target"]["token"] = json!(tokens("t", 11));
    assert_eq!(code(&sim, &test).await, "80300030");
    let ttl = set(bad_payload, "/pushOptions/ttl", Some(json!(0)));
    assert_eq!(code(&sim, &ttl).await, "80100004");
    // Push Kit disabled before the push-type header.
    sim.add_app(harmony_sim::SimApp {
        push_enabled: false,
        ..app()
    })
    .unwrap();
    let (_, answer) = post_with(&sim, PROJECT, &bearer, &[], &message(&["t1"])).await;
    assert_eq!(answer["code"], "80300002");
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn a_receipt_id_of_64_bytes_is_accepted() {
    let id = "r".repeat(64);
    let sim = start_with(
        app().with_receipts(harmony_sim::ReceiptConfig::new(&id, "http://127.0.0.1:9/x")),
    )
    .await;
    sim.set_receipt_delay(std::time::Duration::from_secs(3600));
    let body = set(message(&["t1"]), "/pushOptions/receiptId", Some(json!(id)));
    assert_eq!(code(&sim, &body).await, "80000000");
    assert_eq!(sim.pending_receipts().len(), 1);
}

#[tokio::test]
async fn a_config_the_simulator_cannot_read_fails_to_start() {
    let bad = harmony_sim::SimApp::new(
        PROJECT,
        harmony_sim::ServiceAccount::new(
            KEY_ID,
            SUB,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ),
    );
    let started = harmony_sim::Simulator::start(harmony_sim::SimConfig { apps: vec![bad] }).await;
    assert!(started.is_err());
}
