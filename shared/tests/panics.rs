//! A panicking request on a warm instance, through the real Lambda runtime
//! loop: `offpush::http::run` (what every function's `main` runs, via
//! `serve`) polls a fake Lambda Runtime API on loopback, which hands it API
//! Gateway events one after the other, as Lambda does, and records what
//! the runtime posts back. A handler that panics inside `respond` (as the
//! functions' handlers do) or outside it answers the documented 500 body,
//! the next request on the same instance is served, and no log line
//! carries the panic's message.
//!
//! The panicking handler exists only in this test: the functions have no
//! route or switch that panics.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use offpush::http::{json_response, respond, run, Body, Request, Response};
use offpush::ServiceError;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// What a panic message might quote, and no log line may show.
const SECRET: &str = "jwt-eyJhbGciOiJIUzI1NiJ9-secret-part";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The fake Runtime API's state: events still to hand out, and what the
/// runtime posted (request id, `response` or `error`, body).
#[derive(Clone)]
struct Fake {
    events: Arc<Mutex<VecDeque<(String, Value)>>>,
    posted: mpsc::UnboundedSender<(String, String, Value)>,
    never: Arc<Notify>,
}

async fn next(State(fake): State<Fake>) -> (StatusCode, HeaderMap, String) {
    let event = fake.events.lock().unwrap().pop_front();
    let Some((id, event)) = event else {
        // No more invocations: the runtime waits, as on a quiet Lambda.
        fake.never.notified().await;
        unreachable!();
    };
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    let deadline = (std::time::SystemTime::now() + Duration::from_secs(30))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:test"
            .parse()
            .unwrap(),
    );
    (StatusCode::OK, headers, event.to_string())
}

async fn posted(
    State(fake): State<Fake>,
    Path((id, kind)): Path<(String, String)>,
    body: String,
) -> StatusCode {
    let v = serde_json::from_str(&body).unwrap_or(Value::String(body));
    fake.posted.send((id, kind, v)).unwrap();
    StatusCode::ACCEPTED
}

/// An API Gateway REST API (Lambda proxy, payload 1.0) event for `GET {path}`
/// on the `prod` stage.
fn event(path: &str) -> Value {
    json!({
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {"host": "api.offpush.local"},
        "multiValueHeaders": {"host": ["api.offpush.local"]},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "offpush",
            "resourcePath": path,
            "httpMethod": "GET",
            "path": format!("/prod{path}"),
            "stage": "prod",
            "domainName": "api.offpush.local",
            "protocol": "HTTP/1.1",
            "requestId": "r",
            "requestTimeEpoch": 1795600800000u64,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "test"}
        },
        "isBase64Encoded": false
    })
}

/// The test's own handler, shaped like the functions' (`respond` around the
/// routing): `/panic` panics inside `respond`, `/panic-outside` before it.
fn handle(req: Request) -> impl std::future::Future<Output = Response<Body>> + Send {
    if offpush::http::path(&req) == "/panic-outside" {
        panic!("outside respond, holding {SECRET}");
    }
    async move {
        respond(
            "test",
            &req,
            Box::pin(async {
                if offpush::http::path(&req) == "/panic" {
                    panic!("inside respond, holding {SECRET}");
                }
                Ok::<_, ServiceError>(json_response(
                    200,
                    &json!({"path": offpush::http::path(&req)}),
                ))
            }),
        )
        .await
    }
}

#[tokio::test]
async fn a_panicking_request_answers_the_documented_500_and_the_next_one_is_served() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .init();

    let ids = ["p1", "ok1", "p2", "ok2"];
    let paths = ["/panic", "/after-1", "/panic-outside", "/after-2"];
    let (tx, mut rx) = mpsc::unbounded_channel();
    let fake = Fake {
        events: Arc::new(Mutex::new(
            ids.iter()
                .zip(paths)
                .map(|(id, p)| (id.to_string(), event(p)))
                .collect(),
        )),
        posted: tx,
        never: Arc::new(Notify::new()),
    };
    let api = axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(posted))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, api).await.unwrap() });

    // What Lambda sets for a function (this test binary is its only user).
    std::env::set_var("AWS_LAMBDA_RUNTIME_API", format!("http://{addr}"));
    std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "test");
    std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
    std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "1");
    // The runtime loop and the test side by side: the loop never ends by
    // itself, so it must still be running when the last answer is in.
    let collect = async {
        let mut answers = Vec::new();
        for _ in ids {
            let got = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("the runtime answers every invocation")
                .unwrap();
            answers.push(got);
        }
        answers
    };
    let answers = tokio::select! {
        ended = run(handle) => panic!("the runtime loop ended: {ended:?}"),
        answers = collect => answers,
    };

    for ((id, kind, resp), (want_id, path)) in answers.iter().zip(ids.iter().zip(paths)) {
        assert_eq!(id, want_id, "invocations are answered in order");
        assert_eq!(
            kind, "response",
            "{path}: an answer, not a runtime error: {resp}"
        );
        let body: Value = serde_json::from_str(resp["body"].as_str().unwrap()).unwrap();
        if path.starts_with("/panic") {
            assert_eq!(resp["statusCode"], 500, "{path}: {resp}");
            assert_eq!(
                body,
                json!({"error": {"code": "internal", "message": "internal error"}}),
                "{path}"
            );
            assert_eq!(
                resp["multiValueHeaders"]["content-type"],
                json!(["application/json"])
            );
        } else {
            assert_eq!(resp["statusCode"], 200, "{path}: {resp}");
            assert_eq!(body, json!({"path": path}));
        }
    }

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("handler panicked") && logs.contains("/panic"),
        "the panic inside respond is logged with its route: {logs}"
    );
    assert!(
        logs.contains("request panicked outside"),
        "the panic outside respond is logged: {logs}"
    );
    assert!(
        logs.contains("panic (its message is not logged)") && logs.contains("panics.rs"),
        "the hook logs where it happened: {logs}"
    );
    assert!(
        !logs.contains(SECRET),
        "a panic's message reached the log: {logs}"
    );
}
