//! The public listener: a pass-through in front of the kit's server that
//! adds `Retry-After` to FCM's 429 and 503 answers.
//!
//! The kit renders a reply as a status, a content type and a body; it has no
//! way to add another header. FCM's quota and availability errors come with
//! `Retry-After`, so the simulator listens on the public address itself and
//! forwards every request (method, path, query, headers including `Host`,
//! body) to the kit's server on a private 127.0.0.1 port, and every answer
//! back, adding the header where FCM would send it. Recording, scripts,
//! abandoned calls (a client that hangs up drops the forwarded request too)
//! and control calls behave as the kit's doc says.

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use axum::Router;
use serde_json::Value;
use sim_kit::{Sim, Vendor};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::Fcm;

/// Stops the front when the last [`crate::Simulator`] clone goes.
pub(crate) struct Front {
    pub(crate) addr: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Front {
    fn signal_stop(&self) {
        if let Some(stop) = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = stop.send(());
        }
    }

    /// Stops accepting and waits (at most 5 s) for calls in flight.
    pub(crate) async fn shutdown(&self) {
        self.signal_stop();
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut task) = task {
            if tokio::time::timeout(std::time::Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

#[derive(Clone)]
struct Forward {
    sim: Sim<Fcm>,
    client: reqwest::Client,
    /// The kit's server, `http://127.0.0.1:PORT`.
    inner: String,
}

pub(crate) async fn start(addr: SocketAddr, sim: Sim<Fcm>) -> std::io::Result<Front> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let client = sim_kit::http_client_builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(std::io::Error::other)?;
    let state = Forward {
        inner: sim.base_url(),
        sim,
        client,
    };
    let app = Router::new().fallback(forward).with_state(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener.tap_io(sim_kit::nodelay), app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "fcm-sim front failed");
        }
    });
    Ok(Front {
        addr,
        stop: Mutex::new(Some(stop)),
        task: Mutex::new(Some(task)),
    })
}

/// Headers that belong to one connection, not to the request or answer.
fn hop_by_hop(name: &HeaderName) -> bool {
    name == header::CONNECTION
        || name == header::TRANSFER_ENCODING
        || name == header::CONTENT_LENGTH
        || name == header::TE
        || name == header::UPGRADE
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

async fn forward(State(state): State<Forward>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    // One byte more than the kit takes, so that an oversized body still
    // reaches it (and is recorded as its 413); beyond that the front
    // answers 413 itself, as the kit would.
    let Ok(bytes) = to_bytes(body, Fcm::BODY_LIMIT + 1).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large").into_response();
    };
    let mut forwarded = state
        .client
        .request(parts.method, format!("{}{path}", state.inner))
        .body(bytes);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            forwarded = forwarded.header(name, value);
        }
    }
    let answer = match forwarded.send().await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::error!(%error, "fcm-sim front: the kit's server did not answer");
            return (StatusCode::BAD_GATEWAY, "simulator unavailable").into_response();
        }
    };
    let status = answer.status();
    let mut headers = axum::http::HeaderMap::new();
    for (name, value) in answer.headers() {
        if !hop_by_hop(name) {
            headers.append(name, value.clone());
        }
    }
    let Ok(body) = answer.bytes().await else {
        return (StatusCode::BAD_GATEWAY, "simulator answer cut short").into_response();
    };
    let retry_after = state.sim.vendor().lock().settings.retry_after_secs;
    if let Some(secs) = retry_after.filter(|_| wants_retry_after(status.as_u16(), &body)) {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// FCM's QUOTA_EXCEEDED (429) and UNAVAILABLE (503) errors, scripted or
/// not: the answers FCM sends `Retry-After` with.
fn wants_retry_after(status: u16, body: &[u8]) -> bool {
    let code = match status {
        429 => "QUOTA_EXCEEDED",
        503 => "UNAVAILABLE",
        _ => return false,
    };
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    value["error"]["details"]
        .as_array()
        .is_some_and(|details| details.iter().any(|d| d["errorCode"] == code))
}
