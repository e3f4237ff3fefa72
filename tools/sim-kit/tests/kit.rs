//! The kit with a toy vendor: every call to `POST /echo` is answered
//! `{"result":"ok","echo":"<body>","now":<vendor clock>}`, counted as a
//! delivery, and queues a receipt to the URL in `x-callback` if any.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use sim_kit::{
    common_action, Call, CallAction, Core, Receipt, ReceiptBody, ReceiptFormat, ReceiptGroup,
    ReceiptOutcome, Reply, Sim, SimClock, Vendor,
};

#[derive(Default)]
struct Echo {
    deliveries: Mutex<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq)]
enum EchoAction {
    Teapot,
}

#[derive(Clone, Debug, serde::Serialize)]
struct EchoReceipt {
    url: String,
    id: String,
    target: String,
}

impl Receipt for EchoReceipt {
    fn url(&self) -> &str {
        &self.url
    }
    fn target(&self) -> &str {
        &self.target
    }
    fn group(&self) -> String {
        self.id.clone()
    }
}

/// `data={"<id>":"t1,t2"}`, two targets per entry.
struct EchoReceipts;

impl ReceiptFormat for EchoReceipts {
    type Receipt = EchoReceipt;
    fn max_targets(&self) -> usize {
        2
    }
    fn render(&self, groups: &[ReceiptGroup<'_, EchoReceipt>]) -> ReceiptBody {
        let data: Map<String, Value> = groups
            .iter()
            .map(|g| (g.first.id.clone(), Value::from(g.targets.join(","))))
            .collect();
        ReceiptBody::form(&[("data", &Value::Object(data).to_string())])
    }
}

impl Vendor for Echo {
    type Body = Value;
    type Action = EchoAction;
    type Receipts = EchoReceipts;
    const NAME: &'static str = "echo";

    fn receipt_format(&self) -> EchoReceipts {
        EchoReceipts
    }

    fn answer(core: &Core<Echo>, call: &Call) -> Reply {
        if call.path != "/echo" {
            return Reply::text(404, "Not Found");
        }
        let text = String::from_utf8_lossy(&call.body).into_owned();
        core.vendor().deliveries.lock().unwrap().push(text.clone());
        if let Some(url) = call.header("x-callback") {
            for target in text.split(',') {
                core.receipts().queue(EchoReceipt {
                    url: url.to_owned(),
                    id: "m1".to_owned(),
                    target: target.to_owned(),
                });
            }
        }
        Reply::json(json!({"result": "ok", "echo": text, "now": core.now_ms()}))
    }

    fn body_reply(_: &Core<Echo>, body: Value, _: &Call) -> Reply {
        Reply::json(body)
    }

    fn action_reply(_: &Core<Echo>, action: EchoAction, _: &Call) -> Reply {
        match action {
            EchoAction::Teapot => Reply::text(418, "teapot"),
        }
    }

    fn parse_action(object: &Map<String, Value>) -> Result<CallAction<Value, EchoAction>, String> {
        let [(kind, value)] = object.iter().collect::<Vec<_>>()[..] else {
            return Err("exactly one kind".to_owned());
        };
        match kind.as_str() {
            "body" => Ok(CallAction::Body(value.clone())),
            "teapot" => Ok(CallAction::Vendor(EchoAction::Teapot)),
            other => common_action(other, value).unwrap_or_else(|| Err(format!("unknown {other}"))),
        }
    }

    fn deliveries_json(core: &Core<Echo>) -> Value {
        json!(*core.vendor().deliveries.lock().unwrap())
    }

    fn reset(core: &Core<Echo>) {
        core.vendor().deliveries.lock().unwrap().clear();
    }

    fn routes() -> Router<Arc<Core<Echo>>> {
        Router::new().route("/_sim/echo-count", get(echo_count))
    }
}

async fn echo_count(State(core): sim_kit::Shared<Echo>) -> Response {
    Json(json!({"count": core.vendor().deliveries.lock().unwrap().len()})).into_response()
}

/// The receiver's POSTs: content type and body.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn call(sim: &Sim<Echo>, path: &str, body: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = sim_kit::http_client()
        .post(format!("{}{path}", sim.base_url()))
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn control(sim: &Sim<Echo>, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = sim_kit::http_client();
    let url = format!("{}/_sim/{path}", sim.base_url());
    let request = match body {
        Some(body) => client.post(url).json(&body),
        None => client.get(url),
    };
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn calls_are_answered_recorded_and_scripted() {
    let sim = Sim::start(Echo::default()).await.unwrap();
    sim.set_clock(SimClock::Fixed(42));
    sim.script_next("/echo", CallAction::Body(json!({"scripted": true})));
    sim.script_next("/echo", CallAction::Vendor(EchoAction::Teapot));
    sim.script_next("/echo", CallAction::HttpStatus(503));
    sim.script_next("/echo", CallAction::Garbage);

    assert_eq!(
        call(&sim, "/echo", "a", &[]).await,
        (200, r#"{"scripted":true}"#.to_owned())
    );
    assert_eq!(
        call(&sim, "/echo", "a", &[]).await,
        (418, "teapot".to_owned())
    );
    assert_eq!(
        call(&sim, "/echo", "a", &[]).await,
        (503, "Service Unavailable".to_owned())
    );
    let (status, garbage) = call(&sim, "/echo", "a", &[]).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&garbage).is_err());
    assert!(sim.core().vendor().deliveries.lock().unwrap().is_empty());

    let (status, text) = call(&sim, "/echo?x=1", "hello", &[("X-Trace", "t1")]).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"result": "ok", "echo": "hello", "now": 42})
    );
    let recorded = sim.requests_to("/echo");
    assert_eq!(recorded.len(), 5);
    let last = &recorded[4];
    assert_eq!(last.query.as_deref(), Some("x=1"));
    assert_eq!(last.header("x-trace"), Some("t1"));
    assert_eq!(last.headers["x-trace"], "t1");
    assert_eq!(last.body, json!("hello"));
    assert_eq!(last.response["now"], 42);
    assert_eq!(recorded[1].status, 418);
    assert_eq!(recorded[1].response, json!("teapot"));
}

#[tokio::test]
async fn the_common_control_endpoints_and_the_vendors_own() {
    let sim = Sim::start(Echo::default()).await.unwrap();
    assert_eq!(
        control(&sim, "health", None).await,
        (200, json!({"status": "ok"}))
    );
    for action in [
        json!({"teapot": true}),
        json!({"delay_ms": 1}),
        json!({"body": [1]}),
    ] {
        let script = json!({"path": "/echo", "next": true, "action": action});
        assert_eq!(control(&sim, "script", Some(script)).await.0, 200);
    }
    assert_eq!(call(&sim, "/echo", "a", &[]).await.0, 418);
    assert_eq!(call(&sim, "/echo", "b", &[]).await.0, 200);
    assert_eq!(call(&sim, "/echo", "c", &[]).await.1, "[1]");
    for bad in [
        json!({"path": "/echo", "action": {"nope": 1}}),
        json!({"path": "/echo", "next": true, "action": null}),
        json!({"path": "/echo", "action": "teapot"}),
        json!({"action": {"teapot": true}}),
        json!([]),
    ] {
        assert_eq!(
            control(&sim, "script", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        control(&sim, "echo-count", None).await.1,
        json!({"count": 1})
    );
    assert_eq!(control(&sim, "deliveries", None).await.1, json!(["b"]));
    let (_, requests) = control(&sim, "requests", None).await;
    assert_eq!(requests.as_array().unwrap().len(), 3);
    assert_eq!(requests[1]["body"], "b");

    assert_eq!(
        control(&sim, "clock", Some(json!({"offset_ms": -5})))
            .await
            .0,
        200
    );
    assert_eq!(sim.clock(), SimClock::Offset(-5));
    assert_eq!(
        control(&sim, "clock", Some(json!({"fixed": 5}))).await.0,
        400
    );

    sim.script_always("/echo", Some(CallAction::HttpStatus(500)));
    assert_eq!(control(&sim, "reset", Some(json!({}))).await.0, 200);
    assert_eq!(sim.clock(), SimClock::Real);
    assert!(sim.requests().is_empty());
    assert_eq!(
        control(&sim, "echo-count", None).await.1,
        json!({"count": 0})
    );
    assert_eq!(
        call(&sim, "/echo", "d", &[]).await.0,
        200,
        "scripts cleared"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn receipts_go_in_the_vendors_form_with_its_batch_size() {
    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/r", listener.local_addr().unwrap());
    let app = Router::new()
        .fallback(
            |State(seen): State<Seen>, headers: HeaderMap, body: Bytes| async move {
                let content_type = headers["content-type"].to_str().unwrap().to_owned();
                seen.lock()
                    .unwrap()
                    .push((content_type, String::from_utf8(body.to_vec()).unwrap()));
                "ok"
            },
        )
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sim = Sim::start(Echo::default()).await.unwrap();
    sim.set_receipt_delay(Duration::from_secs(60));
    call(&sim, "/echo", "t1,t2,t3", &[("x-callback", &url)]).await;
    let (_, pending) = control(&sim, "receipt-pending", None).await;
    assert_eq!(pending[2], json!({"url": url, "id": "m1", "target": "t3"}));
    assert_eq!(control(&sim, "receipt-flush", Some(json!({}))).await.0, 200);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            (
                "application/x-www-form-urlencoded".to_owned(),
                "data=%7B%22m1%22%3A%22t1%2Ct2%22%7D".to_owned()
            ),
            (
                "application/x-www-form-urlencoded".to_owned(),
                "data=%7B%22m1%22%3A%22t3%22%7D".to_owned()
            ),
        ]
    );
    let log = sim.receipt_log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].body, json!({"data": "{\"m1\":\"t1,t2\"}"}));
    assert!(log.iter().all(|p| p.outcome == ReceiptOutcome::Delivered));
    let (_, logged) = control(&sim, "receipt-log", None).await;
    assert_eq!(logged[1]["outcome"], "delivered");
    sim.reset();
    assert!(sim.receipt_log().is_empty());
}
