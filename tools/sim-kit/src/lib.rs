//! The vendor-free plumbing of offpush's push-server simulators
//! (`tools/vivo-sim`, `tools/xiaomi-sim`, and later OPPO, Huawei, Honor,
//! FCM, APNs, Meizu): an in-process axum server on 127.0.0.1, recording,
//! scripted answers, a settable clock, the receipts posting engine, the
//! common `/_sim/*` control endpoints and a binary's command-line plumbing.
//! Each simulator is a [`Vendor`]: its checks, codes, auth, quotas,
//! deliveries and receipt entries; this kit knows none of them.
//!
//! A simulator starts with [`Sim::start`] (127.0.0.1, a free port) or
//! [`Sim::start_on`], and wraps the [`Sim`] handle in its own `Simulator`.
//!
//! # Calls
//!
//! Every request outside `/_sim/*` is a vendor call, handled in this order:
//!
//! 1. its arrival is recorded (a slot reserved in arrival order);
//! 2. its body is read, at most [`Vendor::BODY_LIMIT`] bytes (default
//!    4 MiB; more answers HTTP 413 `Request Entity Too Large`, unscripted);
//! 3. a queued [`Sim::script_next`] action for that path wins, else the
//!    sticky [`Sim::script_always`] action, else the vendor's normal
//!    behaviour ([`Vendor::answer`]);
//! 4. the answer is recorded and sent.
//!
//! Scripted answers ([`CallAction`]): `Body` (the vendor renders it, e.g. a
//! JSON value answered HTTP 200), `HttpStatus` (plain text; the vendor may
//! pick the text), `Garbage` (HTTP 200 with an HTML page that is not JSON)
//! and the vendor's own actions have no side effects; `Delay` sleeps and then
//! runs the normal behaviour, checks and side effects included. The sleep
//! holds no lock, so concurrent delayed calls are all in flight at once (a
//! sticky `Delay` makes every call to that path take that long, without
//! serializing them). Scripts are per path (the path alone, not the query).
//!
//! Each [`RecordedRequest`] has the method, path, query, every header, the
//! body (as the vendor reads it: by default JSON, else the text), the status
//! and the response (JSON, else the text), and its arrival and answer times
//! (`received_ms`, `answered_ms`: real clock, ms since the Unix epoch), so a
//! test can check that no call started after a deadline. A call whose client
//! hangs up before the answer (a client timeout during a scripted `Delay`)
//! is recorded too, as abandoned: `status` 0, `response` null, `answered_ms`
//! when the client went away, and no side effects. Requests still in flight
//! are not listed; the list keeps arrival order even when a delayed call
//! finishes last. Control calls are not recorded.
//!
//! # Clock
//!
//! The vendor's clock ([`SimClock`]: real by default, offset, or fixed;
//! [`Sim::set_clock`], `POST /_sim/clock`) is what the vendor's checks call
//! "now" ([`Core::now_ms`]): timestamps, the vendor's day for daily quotas,
//! time windows. Recorded request times and receipt POST times follow the
//! real clock. [`day_of`] and [`UTC8_MS`] give a vendor's day.
//!
//! # Receipts
//!
//! The vendor queues receipt entries ([`ReceiptEngine::queue`]; an entry is
//! one target of one message, bound for one URL, of the vendor's type
//! [`Receipt`]); the kit sends them:
//!
//! - A background task flushes the queue [`ReceiptSettings::delay`]
//!   (default 1 s, zero allowed) after the first entry queued since the last
//!   flush, sending everything queued by then. Per URL, entries of the same
//!   [`Receipt::group`] are merged into one group (its targets joined, its
//!   first entry describing it); a POST carries at most
//!   [`ReceiptFormat::max_targets`] targets per group (the n-th POST of a
//!   URL carries the n-th slice of every group) and never two groups with
//!   the same [`Receipt::body_key`]. The vendor's [`ReceiptFormat`] renders
//!   each POST's body and content type (vivo: JSON keyed by taskId; Xiaomi:
//!   form-encoded `data=<json>` keyed by message id, or raw JSON).
//!   [`Sim::flush_receipts`] sends at once and waits for the answers.
//! - A failed POST (no answer within 5 s, or a non-2xx status) is retried
//!   [`ReceiptSettings::retries`] times (default 3) after
//!   [`ReceiptSettings::retry_backoff`] (default 200 ms, doubling), then
//!   dropped. With [`ReceiptSettings::redeliver`], an accepted POST is sent
//!   once more. Every attempt is recorded ([`ReceiptPost`], outcome
//!   delivered / retrying / dropped; [`Sim::receipt_log`],
//!   `GET /_sim/receipt-log`).
//! - [`Sim::shutdown`] sends what is queued once (no retries) and waits at
//!   most 5 s for receipt POSTs in flight; dropping the last clone drops them
//!   the same way without waiting. Entries queued after that are dropped.
//!
//! # Control endpoints
//!
//! Every simulator mounts these; a vendor adds its own ([`Vendor::routes`]).
//! Bodies are read as JSON objects whatever the `Content-Type`
//! ([`ControlBody`]). Mistakes answer 400 `{"error":".."}` ([`bad_request`]);
//! successes `{"ok":true}` ([`ok`]). An unknown `/_sim/*` path answers 404.
//!
//! | call | body / answer |
//! |------|---------------|
//! | `GET /_sim/health` | `{"status":"ok"}` |
//! | `GET /_sim/requests` | JSON array of recorded requests ([`Vendor::requests_json`]; by default fields as [`RecordedRequest`]) |
//! | `GET /_sim/deliveries` | JSON array of the vendor's deliveries ([`Vendor::deliveries_json`]) |
//! | `POST /_sim/reset` | clears as [`Sim::reset`] |
//! | `POST /_sim/script` | `{"path":"/x","next":true,"action":A}`: A is one of the kit's `{"http_status":500}` (100..=999), `{"delay_ms":50}`, `{"garbage":true}`, or a vendor form ([`Vendor::parse_action`]), or `null` (clears the sticky action; `next` must then be false); `next` defaults to false |
//! | `POST /_sim/clock` | [`Sim::set_clock`]: `{"real":true}`, `{"offset_ms":-3600000}` or `{"fixed_ms":1717000000000}` |
//! | `GET /_sim/clock` | `{"now_ms":N,"clock":C}`, C in the form `POST` takes |
//! | `POST /_sim/receipt-settings` | `{"delay_ms":N,"redeliver":bool,"retries":N,"backoff_ms":N}` ([`Sim::set_receipt_settings`]); a missing field keeps its value; `delay_ms` <= 3600000, `retries` <= 10, `backoff_ms` <= 60000 |
//! | `GET /_sim/receipt-settings` | the settings in the form `POST` takes, every field present |
//! | `GET /_sim/receipt-pending` | JSON array of queued receipt entries (the vendor's [`Receipt`] type) |
//! | `POST /_sim/receipt-flush` | sends the queued receipts now; answers once every receipt POST has finished ([`Sim::flush_receipts`]) |
//! | `GET /_sim/receipt-log` | JSON array of receipt POST attempts (fields as [`ReceiptPost`]: `url`, `body`, `status`, `error`, `attempt`, `redelivery`, `outcome` = `delivered`/`retrying`/`dropped`, `sent_ms`, `answered_ms`) |
//!
//! # Reset
//!
//! [`Sim::reset`] clears the recorded requests, the scripts, the receipt
//! queue and the receipt log (receipt POSTs in flight still go, unrecorded),
//! sets the clock back to real and keeps the receipt settings; then the
//! vendor clears its own state ([`Vendor::reset`]).
//!
//! # Binaries
//!
//! [`cli`]: `--listen` / `--port` (with `<PREFIX>_LISTEN` / `<PREFIX>_PORT`),
//! `--receipt-delay-ms` / `--receipt-redeliver`, logging to stderr by
//! `RUST_LOG`, the `<name> listening on <url>` line;
//! [`shutdown_signal`] resolves on SIGINT or SIGTERM.
//!
//! # Adding a simulator
//!
//! Implement [`Vendor`] for the vendor's state (behind its own lock; the kit
//! never holds one of its locks while calling the vendor, so the vendor may
//! call [`Core`] from inside its own), and a [`ReceiptFormat`] ([`NoReceipts`]
//! when the vendor has none). [`form`] reads and writes form bodies;
//! [`testing`] starts and stops a simulator's binary in its own tests.

pub mod cli;
mod clock;
mod control;
pub mod form;
mod receipts;
mod record;
mod script;
mod server;
pub mod testing;

pub use clock::{day_of, time_of_day, wall_clock_ms, SimClock, DAY_MS, UTC8_MS};
pub use control::{bad_request, ok, ControlBody, Shared};
pub use receipts::{
    NoReceipt, NoReceipts, Receipt, ReceiptBody, ReceiptEngine, ReceiptFormat, ReceiptGroup,
    ReceiptOutcome, ReceiptPost, ReceiptSettings, POST_TIMEOUT, SHUTDOWN_GRACE,
};
pub use record::{json_or_text, RecordedRequest};
pub use script::{common_action, CallAction, NoAction};
pub use server::{Call, Reply, GARBAGE_BODY};

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::HeaderMap;
use axum::serve::ListenerExt;
use axum::Router;
use serde_json::{Map, Value};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use record::Recorder;
use script::Scripts;

/// A vendor's part of a simulator: its checks and answers, its state, its
/// receipts and control endpoints. The kit calls these associated functions
/// with the simulator's [`Core`]; the vendor's state is [`Core::vendor`].
pub trait Vendor: Send + Sync + Sized + 'static {
    /// The body of [`CallAction::Body`] (often a JSON value).
    type Body: Clone + fmt::Debug + Send + Sync + 'static;
    /// The vendor's own scripted actions ([`NoAction`] when it has none).
    type Action: Clone + fmt::Debug + Send + Sync + 'static;
    /// How its receipts are batched and shaped ([`NoReceipts`] if none).
    type Receipts: ReceiptFormat;

    /// The vendor's name in log lines (`"<NAME> call"`).
    const NAME: &'static str;
    /// Bodies above this answer HTTP 413.
    const BODY_LIMIT: usize = 4 * 1024 * 1024;
    /// The `Content-Type` of [`Reply::Json`] answers.
    const JSON_CONTENT_TYPE: &'static str = "application/json;charset=UTF-8";

    /// The receipt format the simulator is started with.
    fn receipt_format(&self) -> Self::Receipts;

    /// The vendor's normal behaviour for one call (every check, side effects).
    fn answer(core: &Core<Self>, call: &Call) -> Reply;

    /// The answer to a scripted [`CallAction::Body`].
    fn body_reply(core: &Core<Self>, body: Self::Body, call: &Call) -> Reply;

    /// The answer to a scripted [`CallAction::Vendor`].
    fn action_reply(core: &Core<Self>, action: Self::Action, call: &Call) -> Reply;

    /// The answer to a scripted [`CallAction::HttpStatus`]; default
    /// [`Reply::status`].
    fn status_reply(status: u16) -> Reply {
        Reply::status(status)
    }

    /// The answer to a scripted [`CallAction::Garbage`]; default
    /// [`Reply::garbage`].
    fn garbage_reply() -> Reply {
        Reply::garbage()
    }

    /// Reads a `/_sim/script` action object (never null). Use
    /// [`common_action`] for the kit's kinds.
    fn parse_action(
        action: &Map<String, Value>,
    ) -> Result<CallAction<Self::Body, Self::Action>, String>;

    /// A call's body as recorded; default [`json_or_text`].
    fn record_body(body: &[u8], _headers: &HeaderMap) -> Value {
        json_or_text(body)
    }

    /// The field of an answer shown as `result` in the call's log line;
    /// default its `result` field.
    fn result_of(response: &Value) -> Option<&Value> {
        response.get("result")
    }

    /// What `GET /_sim/requests` answers; default the records as they are.
    fn requests_json(records: Vec<RecordedRequest>) -> Value {
        serde_json::to_value(records).unwrap_or(Value::Null)
    }

    /// What `GET /_sim/deliveries` answers: a JSON array.
    fn deliveries_json(core: &Core<Self>) -> Value;

    /// Clears the vendor's scenario state ([`Sim::reset`] calls it after the
    /// kit's own reset).
    fn reset(core: &Core<Self>);

    /// The vendor's own control endpoints (paths under `/_sim/`, none the
    /// kit's). Handlers take [`Shared<Self>`] as their state.
    fn routes() -> Router<Arc<Core<Self>>> {
        Router::new()
    }
}

/// A scripted action of vendor `V`.
pub type ActionOf<V> = CallAction<<V as Vendor>::Body, <V as Vendor>::Action>;

/// A queued receipt entry of vendor `V`.
pub type ReceiptOf<V> = <<V as Vendor>::Receipts as ReceiptFormat>::Receipt;

/// The state of a running simulator: the vendor's, and the kit's
/// (recordings, scripts, clock, receipts). Control handlers get it as
/// [`Shared`] state; [`Sim::core`] reaches it from a handle.
pub struct Core<V: Vendor> {
    vendor: V,
    kit: Mutex<KitState<ActionOf<V>>>,
    receipts: Arc<ReceiptEngine<V::Receipts>>,
}

struct KitState<A> {
    recorder: Recorder,
    scripts: Scripts<A>,
    clock: SimClock,
}

impl<V: Vendor> Core<V> {
    fn new(vendor: V) -> Core<V> {
        let receipts = Arc::new(ReceiptEngine::new(vendor.receipt_format()));
        Core {
            vendor,
            kit: Mutex::new(KitState {
                recorder: Recorder::default(),
                scripts: Scripts::default(),
                clock: SimClock::Real,
            }),
            receipts,
        }
    }

    fn kit(&self) -> MutexGuard<'_, KitState<ActionOf<V>>> {
        lock(&self.kit)
    }

    /// The vendor's state.
    pub fn vendor(&self) -> &V {
        &self.vendor
    }

    pub fn clock(&self) -> SimClock {
        self.kit().clock
    }

    pub fn set_clock(&self, clock: SimClock) {
        self.kit().clock = clock;
    }

    /// Now by the vendor's clock, ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock().now_ms()
    }

    /// The receipt queue, settings and log.
    pub fn receipts(&self) -> &ReceiptEngine<V::Receipts> {
        &self.receipts
    }

    /// Every completed request on a vendor path, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.kit().recorder.requests()
    }

    /// `next`: queues `action` for the next call to `path`; else sets (or,
    /// with `None`, clears) the sticky action.
    pub fn set_script(&self, path: &str, next: bool, action: Option<ActionOf<V>>) {
        self.kit().scripts.set(path, next, action);
    }

    /// The kit's reset, then the vendor's ([`Sim::reset`]).
    pub fn reset(&self) {
        {
            let mut kit = self.kit();
            kit.recorder.clear();
            kit.scripts.clear();
            kit.clock = SimClock::Real;
        }
        self.receipts.reset();
        V::reset(self);
    }

    fn take_script(&self, path: &str) -> Option<ActionOf<V>> {
        self.kit().scripts.take(path)
    }

    fn reserve_record(&self) -> u64 {
        self.kit().recorder.reserve()
    }

    fn complete_record(&self, seq: u64, request: RecordedRequest) {
        self.kit().recorder.complete(seq, request);
    }
}

/// A running simulator of vendor `V`. Clones share the same server; it stops
/// when the last clone is dropped or on [`Sim::shutdown`].
pub struct Sim<V: Vendor> {
    core: Arc<Core<V>>,
    server: Arc<ServerGuard>,
}

impl<V: Vendor> Clone for Sim<V> {
    fn clone(&self) -> Self {
        Sim {
            core: self.core.clone(),
            server: self.server.clone(),
        }
    }
}

struct ServerGuard {
    addr: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    /// Turns true to stop the receipt task (as does dropping it).
    receipts_stop: watch::Sender<bool>,
    receipts_task: Mutex<Option<JoinHandle<()>>>,
}

impl ServerGuard {
    fn signal_stop(&self) {
        if let Some(stop) = lock(&self.stop).take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.signal_stop();
        self.receipts_stop.send_replace(true);
    }
}

/// Waits up to `limit` for a task, then aborts it.
async fn join_or_abort(task: Option<JoinHandle<()>>, limit: Duration) {
    if let Some(mut task) = task {
        if tokio::time::timeout(limit, &mut task).await.is_err() {
            task.abort();
        }
    }
}

impl<V: Vendor> Sim<V> {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(vendor: V) -> std::io::Result<Sim<V>> {
        Sim::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), vendor).await
    }

    pub async fn start_on(addr: SocketAddr, vendor: V) -> std::io::Result<Sim<V>> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let core = Arc::new(Core::new(vendor));
        let (receipts_stop, receipts_stopped) = watch::channel(false);
        let receipts_task = tokio::spawn(core.receipts.clone().run(receipts_stopped));
        let (stop, stopped) = oneshot::channel::<()>();
        let app = server::router(core.clone());
        let task = tokio::spawn(async move {
            let served = axum::serve(listener.tap_io(nodelay), app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "{}-sim server failed", V::NAME);
            }
        });
        Ok(Sim {
            core,
            server: Arc::new(ServerGuard {
                addr,
                stop: Mutex::new(Some(stop)),
                task: Mutex::new(Some(task)),
                receipts_stop,
                receipts_task: Mutex::new(Some(receipts_task)),
            }),
        })
    }

    /// The simulator's state (the vendor's through [`Core::vendor`]).
    pub fn core(&self) -> &Core<V> {
        &self.core
    }

    /// The vendor's state.
    pub fn vendor(&self) -> &V {
        &self.core.vendor
    }

    /// The bound address (the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// `http://127.0.0.1:PORT`, no trailing slash. An unspecified bind address
    /// (0.0.0.0 / ::) is reported as 127.0.0.1.
    pub fn base_url(&self) -> String {
        let mut addr = self.server.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        format!("http://{addr}")
    }

    /// Queues an action for the next call to `path` (FIFO, one per call).
    pub fn script_next(&self, path: &str, action: ActionOf<V>) {
        self.core.set_script(path, true, Some(action));
    }

    /// Answers every call to `path` with `action` until set to `None`.
    /// Queued [`Sim::script_next`] actions take precedence.
    pub fn script_always(&self, path: &str, action: Option<ActionOf<V>>) {
        self.core.set_script(path, false, action);
    }

    /// Sets the vendor's clock (default [`SimClock::Real`]).
    pub fn set_clock(&self, clock: SimClock) {
        self.core.set_clock(clock);
    }

    pub fn clock(&self) -> SimClock {
        self.core.clock()
    }

    /// Now by the vendor's clock, ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.core.now_ms()
    }

    /// Every completed request on a vendor path, in arrival order, rejected
    /// and abandoned ones included (requests still in flight are not listed).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.core.requests()
    }

    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        let mut requests = self.requests();
        requests.retain(|r| r.path == path);
        requests
    }

    /// Clears requests, scripts, queued receipts and the receipt log, sets
    /// the clock back to real, keeps the receipt settings; then the vendor's
    /// [`Vendor::reset`].
    pub fn reset(&self) {
        self.core.reset();
    }

    /// Replaces the receipt settings (default [`ReceiptSettings::default`]).
    pub fn set_receipt_settings(&self, settings: ReceiptSettings) {
        self.core.receipts.set_settings(settings);
    }

    pub fn receipt_settings(&self) -> ReceiptSettings {
        self.core.receipts.settings()
    }

    /// Sets only [`ReceiptSettings::delay`] (zero: receipts go at once).
    pub fn set_receipt_delay(&self, delay: Duration) {
        let settings = ReceiptSettings {
            delay,
            ..self.receipt_settings()
        };
        self.set_receipt_settings(settings);
    }

    /// Sets only [`ReceiptSettings::redeliver`].
    pub fn set_receipt_redeliver(&self, redeliver: bool) {
        let settings = ReceiptSettings {
            redeliver,
            ..self.receipt_settings()
        };
        self.set_receipt_settings(settings);
    }

    /// Receipt entries queued and not yet sent, in queue order.
    pub fn pending_receipts(&self) -> Vec<ReceiptOf<V>> {
        self.core.receipts.pending()
    }

    /// Every receipt POST attempt so far, in the order they finished.
    pub fn receipt_log(&self) -> Vec<ReceiptPost> {
        self.core.receipts.log()
    }

    /// Sends the queued receipts now (whatever the delay) and waits until
    /// every receipt POST, retries and redeliveries included, has finished;
    /// returns at once after shutdown.
    pub async fn flush_receipts(&self) {
        self.core.receipts.flush().await;
    }

    /// Stops the server (for every clone) and waits for it to finish; then
    /// sends the queued receipts once (no retries, no redelivery), waits up
    /// to 5 s for receipt POSTs in flight and drops the rest.
    pub async fn shutdown(&self) {
        self.server.signal_stop();
        let task = lock(&self.server.task).take();
        join_or_abort(task, Duration::from_secs(5)).await;
        self.server.receipts_stop.send_replace(true);
        let task = lock(&self.server.receipts_task).take();
        join_or_abort(task, Duration::from_secs(15)).await;
    }
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM: a binary awaits it and
/// then shuts down.
///
/// # Panics
///
/// If the SIGTERM handler cannot be installed.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("install SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// A reqwest client builder for the simulators and their tests: reqwest is
/// built without a TLS crypto provider of its own (the workspace's one
/// stack is rustls with ring), so ring is installed first.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// [`http_client_builder`] with default settings.
pub fn http_client() -> reqwest::Client {
    http_client_builder()
        .build()
        .expect("reqwest client builds with default settings")
}

/// Sets TCP_NODELAY on an accepted connection (axum 0.8 leaves Nagle's
/// algorithm on, and a response written in two parts then waits for the
/// client's delayed ACK: about 40 ms on Linux, every request).
pub fn nodelay(stream: &mut tokio::net::TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::warn!(%error, "TCP_NODELAY not set");
    }
}

/// Locks a mutex, recovering it if a panic poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
