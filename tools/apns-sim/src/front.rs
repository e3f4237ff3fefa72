//! The front server: the address clients use. sim-kit's `Call` carries
//! neither the HTTP version nor the connection, and its `Reply` cannot set
//! response headers, while APNs needs all three (HTTP/2 only, provider
//! tokens counted per connection, the `apns-id` response header). So the
//! kit's server listens on a second, internal port and this server, on the
//! public one, forwards every request to it over HTTP/1.1 with three
//! headers of its own ([`CONNECTION_HEADER`], [`VERSION_HEADER`],
//! [`GENERATED_ID_HEADER`]) and adds `apns-id` to every answer on a vendor
//! path.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The connection a request came on: `<n>`, numbered from 1 in accept order.
pub const CONNECTION_HEADER: &str = "x-apns-sim-connection";
/// The request's HTTP version as the client spoke it: `HTTP/2.0` or `HTTP/1.1`.
pub const VERSION_HEADER: &str = "x-apns-sim-http-version";
/// The `apns-id` the front answers when the request has none.
pub const GENERATED_ID_HEADER: &str = "x-apns-sim-generated-id";

/// Bodies read by the front before forwarding (the kit answers 413 past
/// its own, smaller, limit).
const FRONT_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Headers that belong to one hop and are not forwarded.
const HOP_HEADERS: [&str; 8] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "upgrade",
    "content-length",
];

static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// A connection's number, given once when it is accepted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionId(u64);

/// The front's listener: TCP with `TCP_NODELAY`, each connection numbered
/// (its number is the address handlers see as `ConnectInfo`).
struct FrontListener(tokio::net::TcpListener);

impl Listener for FrontListener {
    type Io = tokio::net::TcpStream;
    type Addr = ConnectionId;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((mut stream, _)) => {
                    sim_kit::nodelay(&mut stream);
                    let id = CONNECTIONS.fetch_add(1, Ordering::Relaxed) + 1;
                    return (stream, ConnectionId(id));
                }
                // As axum's own TCP listener: a failed accept (e.g. too many
                // open files) is retried after a pause.
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(ConnectionId(0))
    }
}

impl Connected<IncomingStream<'_, FrontListener>> for ConnectionId {
    fn connect_info(stream: IncomingStream<'_, FrontListener>) -> Self {
        *stream.remote_addr()
    }
}

struct Forward {
    inner: String,
    client: reqwest::Client,
}

/// The running front server; stops when dropped or on [`Front::stop`].
pub(crate) struct Front {
    pub(crate) addr: SocketAddr,
    stop: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Front {
    pub(crate) async fn start(addr: SocketAddr, inner: String) -> std::io::Result<Front> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let client = sim_kit::http_client_builder()
            .no_proxy()
            .build()
            .map_err(std::io::Error::other)?;
        let state = Arc::new(Forward { inner, client });
        let app = Router::new().fallback(forward).with_state(state);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(
                FrontListener(listener),
                app.into_make_service_with_connect_info::<ConnectionId>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
            if let Err(error) = served {
                tracing::error!(%error, "apns-sim front server failed");
            }
        });
        Ok(Front {
            addr,
            stop: std::sync::Mutex::new(Some(stop)),
            task: std::sync::Mutex::new(Some(task)),
        })
    }

    fn signal_stop(&self) {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
    }

    /// Stops accepting, waits (at most 5 s) for the requests in flight.
    pub(crate) async fn stop(&self) {
        self.signal_stop();
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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

fn is_control(path: &str) -> bool {
    path == "/_sim" || path.starts_with("/_sim/")
}

async fn forward(
    State(state): State<Arc<Forward>>,
    ConnectInfo(connection): ConnectInfo<ConnectionId>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let vendor_path = !is_control(parts.uri.path());
    let Ok(body) = to_bytes(body, FRONT_BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large").into_response();
    };

    let mut headers = parts.headers.clone();
    for name in HOP_HEADERS {
        headers.remove(name);
    }
    for name in [CONNECTION_HEADER, VERSION_HEADER, GENERATED_ID_HEADER] {
        headers.remove(name);
    }
    let version = if parts.version == Version::HTTP_2 {
        "HTTP/2.0"
    } else if parts.version == Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    headers.insert(
        HeaderName::from_static(CONNECTION_HEADER),
        HeaderValue::from(connection.0),
    );
    headers.insert(
        HeaderName::from_static(VERSION_HEADER),
        HeaderValue::from_static(version),
    );
    // The apns-id answered: the client's (as sent), else a fresh one.
    let mut apns_id = parts.headers.get("apns-id").cloned();
    if vendor_path && apns_id.is_none() {
        let generated = crate::apns::generate_apns_id();
        if let Ok(value) = HeaderValue::from_str(&generated) {
            headers.insert(HeaderName::from_static(GENERATED_ID_HEADER), value.clone());
            apns_id = Some(value);
        }
    }

    let url = format!("{}{}", state.inner, path_and_query);
    let sent = state
        .client
        .request(parts.method.clone(), url)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(%error, "forwarding to the simulator failed");
            return (StatusCode::BAD_GATEWAY, "simulator unreachable").into_response();
        }
    };
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = match answer.bytes().await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(%error, "reading the simulator's answer failed");
            return (StatusCode::BAD_GATEWAY, "simulator answer lost").into_response();
        }
    };
    let empty = bytes.is_empty();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    // APNs answers success with no body: no content type either.
    if let (Some(content_type), false) = (content_type, empty) {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    if vendor_path {
        if let Some(apns_id) = apns_id {
            response
                .headers_mut()
                .insert(HeaderName::from_static("apns-id"), apns_id);
        }
    }
    response
}
