//! Helpers for a simulator's own tests of its binary: start it, read where
//! it listens, stop it the way a supervisor would. The test crate passes the
//! binary's path (`env!("CARGO_BIN_EXE_<name>")`), which only it can name.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};

/// Starts the binary at `path` with `args` and `envs` (and `RUST_LOG=info`,
/// so its logs can be checked); the child and its base URL, read from the
/// first stdout line `<name> listening on <url>`. Panics if that line is
/// anything else.
pub fn spawn_binary(
    path: impl AsRef<Path>,
    name: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Child, String) {
    let mut child = Command::new(path.as_ref())
        .args(args)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let prefix = format!("{name} listening on ");
    let base = line
        .trim()
        .strip_prefix(prefix.as_str())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, base)
}

/// Sends SIGTERM (through `kill`, to stay free of a signals dependency),
/// asserts the exit was clean and returns what the binary logged on stderr.
pub fn stop_binary(mut child: Child) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    logs
}

/// A raw call to the simulator at `base_url`: method, path (with any query),
/// headers, body; the status and the body text. Nothing is checked, so a
/// test can see exactly what a malformed request gets.
pub async fn raw_call(
    base_url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> (u16, String) {
    let client = crate::http_client();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client
        .request(method, format!("{base_url}{path}"))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body read"))
}

/// A `/_sim/*` call to the simulator at `base_url`: a POST of `body` when
/// given, else a GET; the status and the JSON answer.
pub async fn control_call(
    base_url: &str,
    path_and_query: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let client = crate::http_client();
    let url = format!("{base_url}/_sim/{path_and_query}");
    let request = match body {
        Some(body) => client.post(url).json(&body),
        None => client.get(url),
    };
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// A receipt endpoint on 127.0.0.1: records every POST (as `read` makes of
/// its headers and body, so each test keeps what its vendor's receipts
/// carry) and answers the queued statuses, 200 once they run out.
pub struct ReceiptReceiver<T> {
    /// Where the endpoint listens, ending in the path given to [`Self::start`].
    pub url: String,
    /// What `read` made of each request, in arrival order.
    pub seen: Arc<Mutex<Vec<T>>>,
    /// Statuses to answer, in order.
    pub answers: Arc<Mutex<VecDeque<u16>>>,
}

// By hand: a derive would require `T: Clone`, and the clone shares the lists.
impl<T> Clone for ReceiptReceiver<T> {
    fn clone(&self) -> Self {
        ReceiptReceiver {
            url: self.url.clone(),
            seen: Arc::clone(&self.seen),
            answers: Arc::clone(&self.answers),
        }
    }
}

impl<T: Send + 'static> ReceiptReceiver<T> {
    /// Starts the endpoint on a free port; `path` (with any query) ends its
    /// [`url`](Self::url), and every request is recorded whatever its path.
    pub async fn start(path: &str, read: fn(&HeaderMap, &[u8]) -> T) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = ReceiptReceiver {
            url: format!("http://{}{path}", listener.local_addr().unwrap()),
            seen: Arc::default(),
            answers: Arc::default(),
        };
        let state = receiver.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                state.seen.lock().unwrap().push(read(&headers, &body));
                let status = state.answers.lock().unwrap().pop_front().unwrap_or(200);
                StatusCode::from_u16(status).unwrap()
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }
}

/// A form body as a test builds it: owned (name, value) pairs in order.
pub type Form = Vec<(String, String)>;

/// `form` with `name` set to `value` (replaced, or added at the end).
pub fn form_with(mut form: Form, name: &str, value: &str) -> Form {
    match form.iter_mut().find(|(n, _)| n == name) {
        Some(pair) => pair.1 = value.to_owned(),
        None => form.push((name.to_owned(), value.to_owned())),
    }
    form
}

/// `form` without any field `name`.
pub fn form_without(mut form: Form, name: &str) -> Form {
    form.retain(|(n, _)| n != name);
    form
}

/// `form` URL-encoded, as [`crate::form::encode`] does.
pub fn encode_form(form: &Form) -> String {
    crate::form::encode(form.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}
