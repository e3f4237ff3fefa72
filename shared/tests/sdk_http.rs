//! The AWS SDK's HTTP client is offpush's reqwest adapter
//! (`offpush::store::https_client`): its failures must reach the SDK as the
//! kinds its retry strategy acts on (a refused connection is I/O, a silent
//! server a timeout, both retried), and a served request must come back
//! whole.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::Client;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn client(endpoint: &str, read_timeout: Option<Duration>) -> Client {
    let mut timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder();
    if let Some(t) = read_timeout {
        timeouts = timeouts.read_timeout(t);
    }
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(offpush::store::https_client())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("k", "s", None, None, "test"))
        .timeout_config(timeouts.build())
        .build();
    Client::from_conf(conf)
}

/// A server on loopback that counts connections and runs `answer` on each.
async fn server<F, Fut>(answer: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move { answer(stream).await });
        }
    });
    (format!("http://{addr}"), count)
}

fn dispatch_failure<E: std::fmt::Debug, R: std::fmt::Debug>(
    err: &SdkError<E, R>,
) -> &aws_smithy_runtime_api::client::result::DispatchFailure {
    match err {
        SdkError::DispatchFailure(f) => f,
        other => panic!("not a dispatch failure: {other:?}"),
    }
}

#[tokio::test]
async fn a_refused_connection_is_an_io_failure() {
    // A port bound but never listened on: held for the whole test (a port
    // bound and dropped can be taken at once by another test's server in
    // this binary), and every connection to it is refused.
    let held = tokio::net::TcpSocket::new_v4().unwrap();
    held.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = held.local_addr().unwrap().port();
    let err = client(&format!("http://127.0.0.1:{port}"), None)
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert!(dispatch_failure(&err).is_io(), "{err:?}");
}

#[tokio::test]
async fn a_silent_server_times_out_and_is_tried_again() {
    let (url, connections) = server(|mut s| async move {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let err = client(&url, Some(Duration::from_millis(300)))
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert!(dispatch_failure(&err).is_timeout(), "{err:?}");
    // The SDK's standard retry: 3 attempts, each on a connection of its own
    // (a timed-out connection is not reused).
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_answer_comes_back_with_its_status_headers_and_body() {
    let (url, _) = server(|mut s| async move {
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        // Read up to the end of the JSON body (`{}`).
        while !req.ends_with(b"}") {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            req.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&req).to_lowercase();
        assert!(text.starts_with("post / http/1.1"), "{text}");
        assert!(text.contains("x-amz-target: dynamodb_20120810.listtables"), "{text}");
        assert!(text.contains("authorization: aws4-hmac-sha256"), "{text}");
        let body = br#"{"TableNames":["a","b"]}"#;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(body).await.unwrap();
    })
    .await;
    let out = client(&url, None).list_tables().send().await.unwrap();
    assert_eq!(out.table_names(), ["a", "b"]);
}
