//! Both readings of the response shape (§3.3 CONFLICT) and of the HTTP
//! status of errors.

use honor_sim::{Quotas, ResponseShape, Settings, TokenVerdict};
use serde_json::{json, Value};

use crate::common::*;

fn huawei() -> Settings {
    Settings {
        response_shape: ResponseShape::Huawei,
        ..Settings::default()
    }
}

#[tokio::test]
async fn the_huawei_shape_has_string_codes_and_illegal_tokens() {
    let sim = start().await;
    sim.set_settings(huawei()).unwrap();
    let token = token(&sim).await;
    sim.set_token("dead", TokenVerdict::Expired);
    sim.set_token("flaky", TokenVerdict::Failed);

    let (status, answer) = send(&sim, &token, &message(&["t1"])).await;
    assert_eq!(status, 200);
    let request_id = answer["requestId"].as_str().unwrap().to_owned();
    assert_eq!(
        answer,
        json!({"code": "80000000", "msg": "Success", "requestId": request_id})
    );
    assert_eq!(sim.deliveries()[0].request_id, request_id);

    let (status, answer) = send(&sim, &token, &message(&["t1", "dead", "flaky", "t2"])).await;
    assert_eq!(status, 200);
    assert_eq!(answer["code"], "80100000");
    let detail: Value = serde_json::from_str(answer["msg"].as_str().unwrap()).unwrap();
    assert_eq!(
        detail,
        json!({"success": 2, "failure": 2, "illegal_tokens": ["dead"]})
    );

    let (status, answer) = send(&sim, &token, &message(&["dead", "dead"])).await;
    assert_eq!(status, 400);
    assert_eq!(answer["code"], "80300007");
    assert!(answer["requestId"].is_string());

    let (status, answer) = send(&sim, &token, &message(&["dead", "flaky"])).await;
    assert_eq!(status, 200);
    assert_eq!(answer["code"], "80100000");
    let detail: Value = serde_json::from_str(answer["msg"].as_str().unwrap()).unwrap();
    assert_eq!(detail["success"], 0);
    assert_eq!(sim.deliveries().len(), 3);
}

#[tokio::test]
async fn the_huawei_shape_codes_of_each_refusal() {
    let sim = start().await;
    sim.set_settings(huawei()).unwrap();
    let token = token(&sim).await;
    let cases = [
        (json!({"token": [], "data": "x"}), 400, "80300010"),
        (
            json!({"token": ["t"], "data": "x".repeat(5000)}),
            400,
            "80300008",
        ),
        (json!({"token": ["t"]}), 400, "80100001"),
        (json!({"token": ["t"], "data": 1}), 400, "80100003"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = send(&sim, &token, &body).await;
        assert_eq!((got, &answer["code"]), (status, &json!(code)), "{answer}");
        assert!(answer["msg"].is_string() && answer["requestId"].is_string());
    }
    let (status, answer) = send(&sim, "nope", &message(&["t"])).await;
    assert_eq!((status, &answer["code"]), (401, &json!("80200001")));
    sim.add_app(honor_sim::SimApp {
        push_enabled: false,
        ..app()
    });
    let (status, answer) = send(&sim, &token, &message(&["t"])).await;
    assert_eq!((status, &answer["code"]), (403, &json!("80300002")));
    sim.add_app(app());
    // Flow control is HTTP 503 (plain text) in this shape.
    sim.set_quotas(
        APP_ID,
        Quotas {
            daily: Some(0),
            ..Quotas::default()
        },
    );
    let (status, answer) = send(&sim, &token, &message(&["t"])).await;
    assert_eq!((status, answer), (503, json!("Service Unavailable")));
}

#[tokio::test]
async fn errors_can_be_answered_http_200_in_both_shapes() {
    let sim = start().await;
    let token = token(&sim).await;
    let http_200 = Settings {
        errors_http_200: true,
        ..Settings::default()
    };
    sim.set_settings(http_200).unwrap();
    let (status, answer) = send(&sim, "nope", &message(&["t"])).await;
    assert_eq!((status, &answer["code"]), (200, &json!(401)));
    let (status, answer) = send(&sim, &token, &json!({"token": [], "data": "x"})).await;
    assert_eq!((status, &answer["code"]), (200, &json!(400)));
    sim.set_settings(Settings {
        response_shape: ResponseShape::Huawei,
        ..http_200
    })
    .unwrap();
    let (status, answer) = send(&sim, "nope", &message(&["t"])).await;
    assert_eq!((status, &answer["code"]), (200, &json!("80200001")));
    sim.set_token("dead", TokenVerdict::Expired);
    let (status, answer) = send(&sim, &token, &message(&["dead"])).await;
    assert_eq!((status, &answer["code"]), (200, &json!("80300007")));
}

#[tokio::test]
async fn the_shape_is_switched_over_http() {
    let sim = start().await;
    let token = token(&sim).await;
    let (status, _) = control(&sim, "settings", Some(json!({"response_shape": "huawei"}))).await;
    assert_eq!(status, 200);
    assert_eq!(
        send(&sim, &token, &message(&["t"])).await.1["code"],
        "80000000"
    );
    let (_, settings) = control(&sim, "settings", None).await;
    assert_eq!(settings["response_shape"], "huawei");
    control(&sim, "settings", Some(json!({"response_shape": "code200"}))).await;
    assert_eq!(send(&sim, &token, &message(&["t"])).await.1["code"], 200);
}
