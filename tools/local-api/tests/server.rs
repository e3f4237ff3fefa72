//! The server end to end over real HTTP on loopback, with no external
//! service: an echo dispatcher shows what a function receives; the real
//! handlers (on a store nobody listens to) answer 401 before any I/O.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use lambda_http::Body;
use local_api::{Dispatch, Function, MAX_BODY_BYTES};
use serde_json::{json, Value};
use std::io::{Read, Write};

async fn start(dispatch: Dispatch) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = local_api::router(dispatch).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    (format!("http://{addr}"), tx)
}

/// Answers 299 with what it was given, as JSON, and an extra header.
fn echo() -> Dispatch {
    Arc::new(|function: Function, req: lambda_http::Request| {
        async move {
            let headers: serde_json::Map<String, Value> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("?"))))
                .collect();
            let (kind, body) = match req.body() {
                Body::Empty => ("empty", json!(null)),
                Body::Text(t) => ("text", json!(t)),
                Body::Binary(b) => ("binary", json!(b)),
                _ => ("other", json!(null)),
            };
            if req.uri().path() == "/v1/push" && req.uri().query() == Some("panic=1") {
                panic!("boom");
            }
            let seen = json!({
                "function": function.name(),
                "method": req.method().as_str(),
                "path": req.uri().path(),
                "query": req.uri().query(),
                "headers": headers,
                "kind": kind,
                "body": body,
            });
            let mut resp = offpush::http::json_response(299, &seen);
            resp.headers_mut()
                .insert("x-echo", http::HeaderValue::from_static("yes"));
            resp
        }
        .boxed()
    })
}

fn client() -> reqwest::Client {
    offpush::tls::client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn requests_reach_the_right_function_unchanged() {
    let (base, _stop) = start(echo()).await;
    let c = client();

    let resp = c
        .put(format!("{base}/v1/push-token?device_id=a%20b&token=x%2By"))
        .header("authorization", "Bearer t0k3n")
        .header("content-type", "application/json")
        .body(r#"{"certificate_id":1,"token":"demo"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 299);
    assert_eq!(resp.headers()["x-echo"], "yes");
    assert_eq!(resp.headers()["content-type"], "application/json");
    let seen: Value = resp.json().await.unwrap();
    assert_eq!(seen["function"], "token-report");
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["path"], "/v1/push-token");
    assert_eq!(seen["query"], "device_id=a%20b&token=x%2By");
    assert_eq!(seen["headers"]["authorization"], "Bearer t0k3n");
    assert_eq!(seen["kind"], "text");
    assert_eq!(seen["body"], r#"{"certificate_id":1,"token":"demo"}"#);

    for (method, path, function) in [
        ("POST", "/v1/certificates", "cert-upload"),
        ("GET", "/v1/certificates", "cert-upload"),
        ("GET", "/v1/certificates/7", "cert-upload"),
        ("PUT", "/v1/certificates/7", "cert-upload"),
        ("DELETE", "/v1/certificates/7", "cert-upload"),
        ("DELETE", "/v1/push-token", "token-report"),
        ("POST", "/v1/users/alice/logout", "token-report"),
        ("GET", "/v1/users/alice/devices", "token-report"),
        ("POST", "/v1/push", "push-dispatch"),
        ("GET", "/v1/pushes/m-1", "push-visibility"),
        ("GET", "/v1/stats", "push-visibility"),
        ("GET", "/v1/users/alice/push-log", "push-visibility"),
        ("POST", "/v1/receipts/vivo/abc", "push-visibility"),
    ] {
        let resp = c
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 299, "{method} {path}");
        let seen: Value = resp.json().await.unwrap();
        assert_eq!(seen["function"], function, "{method} {path}");
        assert_eq!(seen["path"], path);
        assert_eq!(seen["kind"], "empty");
    }

    let resp = c
        .post(format!("{base}/v1/push"))
        .body(vec![0xffu8, 0, 0xfe])
        .send()
        .await
        .unwrap();
    let seen: Value = resp.json().await.unwrap();
    assert_eq!(seen["kind"], "binary");
    assert_eq!(seen["body"], json!([255, 0, 254]));
}

#[tokio::test]
async fn unknown_routes_are_404_not_found() {
    let (base, _stop) = start(echo()).await;
    let c = client();
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/v1/nope"),
        ("PATCH", "/v1/certificates/1"),
        ("GET", "/v1/push"),
    ] {
        let resp = c
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{method} {path}");
        assert_eq!(resp.headers()["content-type"], "application/json");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body,
            json!({"error": {"code": "not_found", "message": "no such route"}})
        );
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let (base, _stop) = start(echo()).await;
    let c = client();
    // Exactly the limit passes.
    let resp = c
        .post(format!("{base}/v1/push"))
        .body(vec![b'a'; MAX_BODY_BYTES])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 299);
    // One byte more (declared in content-length) does not.
    let resp = c
        .post(format!("{base}/v1/push"))
        .body(vec![b'a'; MAX_BODY_BYTES + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");

    // A chunked body (no content-length) is counted as it arrives.
    let addr = base.trim_start_matches("http://").to_string();
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST /v1/push HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..(MAX_BODY_BYTES / chunk.len() + 1) {
            let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if s.write_all(&frame).is_err() {
                break; // the server answered and closed early
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_internal() {
    let (base, _stop) = start(echo()).await;
    let resp = client()
        .post(format!("{base}/v1/push?panic=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 500);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {"code": "internal", "message": "internal error"}})
    );
    // The server goes on serving.
    let resp = client()
        .post(format!("{base}/v1/push"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 299);
}

#[tokio::test]
async fn the_real_handlers_are_wired_to_their_routes() {
    // No DynamoDB behind this endpoint: a request without a bearer token is
    // refused by each handler before it touches the store.
    let store = offpush::store::Store::for_endpoint("http://127.0.0.1:9", "us-east-1", "t").await;
    let config = testkit::config("t", "http://127.0.0.1:9");
    let ctx = Arc::new(testkit::context(store, &config));
    let (base, _stop) = start(local_api::handlers(ctx)).await;
    let c = client();
    for (method, path) in [
        ("POST", "/v1/certificates"),
        ("GET", "/v1/certificates/1"),
        ("PUT", "/v1/push-token"),
        ("POST", "/v1/users/alice/logout"),
        ("POST", "/v1/push"),
        ("GET", "/v1/stats"),
    ] {
        let resp = c
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{method} {path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated", "{method} {path}");
    }
}
