//! Delivery receipts (VIVO_API.md §1.8): receipt URLs as registered in vivo's
//! console, the queue of delivered targets, and the background task that
//! POSTs them in vivo's legacy shape (the rules are in lib.rs, "Delivery
//! receipts").

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::{wall_clock_ms, Inner, SimState};

/// At most this many regIds under one taskId in one receipt POST; more are
/// split over further POSTs (vivo's own batch size is undocumented).
pub const MAX_RECEIPT_TARGETS: usize = 100;

/// The longest `extra["callback.id"]` (and registered receipt id) accepted.
/// vivo documents no limit for the receipt id; 64 matches the other ids it
/// bounds (`requestId`, the older `callback.param`), and console receipt ids
/// are short numbers.
pub const MAX_RECEIPT_ID_CHARS: usize = 64;

/// How long the simulator waits for a receiver's answer to one receipt POST.
const POST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long shutdown waits for the last receipt POSTs before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How receipts are sent ([`crate::Simulator::set_receipt_settings`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptSettings {
    /// Time from the first receipt queued (after a flush) to the flush that
    /// sends it and everything queued meanwhile. Zero sends at once.
    pub delay: Duration,
    /// Sends every receipt POST that the receiver accepted a second time
    /// (vivo may redeliver), so receivers can show they are idempotent.
    pub redeliver: bool,
    /// Further attempts after a failed POST (no answer or a non-2xx status).
    pub retries: u32,
    /// Wait before the first retry; it doubles for each further retry.
    pub retry_backoff: Duration,
}

impl Default for ReceiptSettings {
    fn default() -> ReceiptSettings {
        ReceiptSettings {
            delay: Duration::from_secs(1),
            redeliver: false,
            retries: 3,
            retry_backoff: Duration::from_millis(200),
        }
    }
}

/// A receipt URL registered for an app, as in vivo's console ("APP回执地址").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReceiptUrl {
    pub app_id: u64,
    pub receipt_id: String,
    pub url: String,
}

/// One delivered target waiting for the next flush.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingReceipt {
    /// Where it goes: the registered URL of `callback.id`, or the legacy
    /// `callback` URL.
    pub url: String,
    pub app_id: u64,
    pub task_id: String,
    /// `extra["callback.param"]` as sent, `""` when none was.
    pub param: String,
    pub reg_id: String,
}

/// What became of one receipt POST attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// It failed and will be tried again.
    Retrying,
    /// It failed and the receipts in it were given up (retries used up, or
    /// the simulator stopped).
    Dropped,
}

/// One receipt POST attempt, as recorded once it was answered or failed.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ReceiptPost {
    pub url: String,
    /// The JSON sent: `{"<taskId>": {"param": "..", "targets": "r1,r2"}, ..}`.
    pub body: Value,
    /// The HTTP status answered; 0 when there was no answer (connection
    /// refused, timeout).
    pub status: u16,
    /// Why there was no answer, when there was none.
    pub error: Option<String>,
    /// 1 for the first attempt of this body, 2 for the first retry, ...
    pub attempt: u32,
    /// True for the duplicate sent by [`ReceiptSettings::redeliver`].
    pub redelivery: bool,
    pub outcome: ReceiptOutcome,
    /// When the attempt started and ended, ms since the Unix epoch (real clock).
    pub sent_ms: i64,
    pub answered_ms: i64,
}

/// A receipt registration or setting the simulator refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidReceipt(String);

impl fmt::Display for InvalidReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidReceipt {}

/// A receipt id as the console would issue it: non-empty, at most
/// [`MAX_RECEIPT_ID_CHARS`].
pub(crate) fn check_receipt_id(receipt_id: &str) -> Result<(), InvalidReceipt> {
    if receipt_id.is_empty() || receipt_id.chars().count() > MAX_RECEIPT_ID_CHARS {
        return Err(InvalidReceipt(format!(
            "receipt_id must be 1..={MAX_RECEIPT_ID_CHARS} characters"
        )));
    }
    Ok(())
}

/// An absolute `http://` or `https://` URL with a host.
pub(crate) fn check_url(url: &str) -> Result<(), InvalidReceipt> {
    match reqwest::Url::parse(url) {
        Ok(parsed)
            if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() =>
        {
            Ok(())
        }
        _ => Err(InvalidReceipt(
            "url must be an absolute http:// or https:// URL".to_owned(),
        )),
    }
}

/// The receipt side of the simulator's state (inside [`Inner`]).
pub(crate) struct Receipts {
    urls: BTreeMap<(u64, String), String>,
    pub(crate) settings: ReceiptSettings,
    pending: Vec<PendingReceipt>,
    /// When the oldest pending receipt was queued.
    first_queued: Option<Instant>,
    /// [`crate::Simulator::flush_receipts`] asked for a flush now.
    flush_now: bool,
    /// Batches taken from the queue whose POSTs are not finished.
    in_flight: usize,
    /// The flusher has stopped: nothing will be sent any more.
    stopped: bool,
    log: Vec<ReceiptPost>,
    /// Bumped by `reset`: POSTs of earlier batches are no longer logged.
    generation: u64,
    /// Bumped on every change the flusher or a flush waiter cares about.
    changed: watch::Sender<u64>,
}

impl Default for Receipts {
    fn default() -> Receipts {
        Receipts {
            urls: BTreeMap::new(),
            settings: ReceiptSettings::default(),
            pending: Vec::new(),
            first_queued: None,
            flush_now: false,
            in_flight: 0,
            stopped: false,
            log: Vec::new(),
            generation: 0,
            changed: watch::channel(0).0,
        }
    }
}

/// One receipt POST to make: its body and how to log it.
struct Batch {
    url: String,
    body: Value,
    generation: u64,
}

impl Receipts {
    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn set_url(&mut self, app_id: u64, receipt_id: &str, url: Option<&str>) {
        let key = (app_id, receipt_id.to_owned());
        match url {
            Some(url) => self.urls.insert(key, url.to_owned()),
            None => self.urls.remove(&key),
        };
    }

    pub(crate) fn urls(&self) -> Vec<ReceiptUrl> {
        self.urls
            .iter()
            .map(|((app_id, receipt_id), url)| ReceiptUrl {
                app_id: *app_id,
                receipt_id: receipt_id.clone(),
                url: url.clone(),
            })
            .collect()
    }

    pub(crate) fn set_settings(&mut self, settings: ReceiptSettings) {
        self.settings = settings;
        // The flush deadline follows the new delay.
        self.bump();
    }

    pub(crate) fn pending(&self) -> Vec<PendingReceipt> {
        self.pending.clone()
    }

    pub(crate) fn log(&self) -> Vec<ReceiptPost> {
        self.log.clone()
    }

    /// Clears the queue and the log; keeps the registered URLs and settings.
    pub(crate) fn reset(&mut self) {
        self.pending.clear();
        self.first_queued = None;
        self.flush_now = false;
        self.log.clear();
        self.generation += 1;
        self.bump();
    }

    fn queue(&mut self, receipt: PendingReceipt) {
        if self.stopped {
            return;
        }
        if self.pending.is_empty() {
            self.first_queued = Some(Instant::now());
        }
        self.pending.push(receipt);
        self.bump();
    }

    /// When the next flush is due, if anything is pending.
    fn due_at(&self) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        if self.flush_now {
            return Some(Instant::now());
        }
        self.first_queued.map(|at| at + self.settings.delay)
    }

    /// Takes the whole queue as receipt POSTs: one per URL, each taskId with
    /// at most [`MAX_RECEIPT_TARGETS`] targets (a URL with more gets further
    /// POSTs: the n-th carries the n-th slice of every taskId).
    fn take_batches(&mut self) -> Vec<Batch> {
        let pending = std::mem::take(&mut self.pending);
        self.first_queued = None;
        self.flush_now = false;
        // url -> taskIds in order of first appearance, each (param, targets).
        let mut by_url: BTreeMap<String, Vec<(String, String, Vec<String>)>> = BTreeMap::new();
        for receipt in pending {
            let tasks = by_url.entry(receipt.url).or_default();
            match tasks
                .iter_mut()
                .find(|(task, _, _)| *task == receipt.task_id)
            {
                Some((_, _, targets)) => targets.push(receipt.reg_id),
                None => tasks.push((receipt.task_id, receipt.param, vec![receipt.reg_id])),
            }
        }
        let mut batches = Vec::new();
        for (url, tasks) in by_url {
            let posts = tasks
                .iter()
                .map(|(_, _, targets)| targets.len().div_ceil(MAX_RECEIPT_TARGETS))
                .max()
                .unwrap_or(0);
            for n in 0..posts {
                let mut body = Map::new();
                for (task_id, param, targets) in &tasks {
                    let Some(slice) = targets.chunks(MAX_RECEIPT_TARGETS).nth(n) else {
                        continue;
                    };
                    body.insert(
                        task_id.clone(),
                        json!({ "param": param, "targets": slice.join(",") }),
                    );
                }
                batches.push(Batch {
                    url: url.clone(),
                    body: Value::Object(body),
                    generation: self.generation,
                });
            }
        }
        self.in_flight += batches.len();
        self.bump();
        batches
    }

    /// Logs an attempt of a batch of the current generation; its index.
    fn record(&mut self, generation: u64, post: ReceiptPost) -> Option<usize> {
        if generation != self.generation {
            return None;
        }
        self.log.push(post);
        self.bump();
        Some(self.log.len() - 1)
    }

    fn mark_dropped(&mut self, generation: u64, index: Option<usize>) {
        if generation != self.generation {
            return;
        }
        if let Some(post) = index.and_then(|i| self.log.get_mut(i)) {
            post.outcome = ReceiptOutcome::Dropped;
            self.bump();
        }
    }
}

impl Inner {
    /// Queues the receipt of one delivered target, if its message asked for
    /// one: `extra["callback.id"]` registered for the app (it wins over
    /// `callback`), else, when `legacy` allows it (a formal single push), the
    /// `extra.callback` URL.
    pub(crate) fn queue_receipt(
        &mut self,
        app_id: u64,
        message: &Map<String, Value>,
        task_id: &str,
        reg_id: &str,
        legacy: bool,
    ) {
        let Some(extra) = message.get("extra").and_then(Value::as_object) else {
            return;
        };
        let text = |field: &str| {
            extra
                .get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let url = match (text("callback.id"), text("callback")) {
            (Some(id), _) => self.receipts.urls.get(&(app_id, id.to_owned())).cloned(),
            (None, Some(callback)) if legacy => Some(callback.to_owned()),
            (None, _) => None,
        };
        let Some(url) = url else {
            return;
        };
        self.receipts.queue(PendingReceipt {
            url,
            app_id,
            task_id: task_id.to_owned(),
            param: text("callback.param").unwrap_or("").to_owned(),
            reg_id: reg_id.to_owned(),
        });
    }
}

/// The HTTP client receipts are sent with: no proxy (receivers are local),
/// bounded waits.
pub(crate) fn client() -> reqwest::Client {
    crate::http_client_builder()
        .no_proxy()
        .timeout(POST_TIMEOUT)
        .connect_timeout(POST_TIMEOUT)
        .build()
        .unwrap_or_default()
}

/// Waits until everything queued so far has been sent (all attempts
/// finished), or the flusher has stopped.
pub(crate) async fn flush(state: &SimState) {
    let mut changed = {
        let mut inner = state.lock();
        if !inner.receipts.pending.is_empty() {
            inner.receipts.flush_now = true;
            inner.receipts.bump();
        }
        inner.receipts.changed.subscribe()
    };
    loop {
        {
            let inner = state.lock();
            let receipts = &inner.receipts;
            if receipts.stopped || (receipts.pending.is_empty() && receipts.in_flight == 0) {
                return;
            }
        }
        if changed.changed().await.is_err() {
            return;
        }
    }
}

/// The background task: flushes the queue when due, until `stop` turns true
/// (or its sender goes away); then sends what is queued once, without
/// retries, waits up to [`SHUTDOWN_GRACE`] for the POSTs in flight and drops
/// the rest.
pub(crate) async fn run(state: Arc<SimState>, mut stop: watch::Receiver<bool>) {
    let client = client();
    let mut changed = state.lock().receipts.changed.subscribe();
    let mut posts = JoinSet::new();
    let stop_posts = stop.clone();
    loop {
        let due = state.lock().receipts.due_at();
        let until_due = async {
            match due {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = until_due => {
                let (batches, settings) = {
                    let mut inner = state.lock();
                    (inner.receipts.take_batches(), inner.receipts.settings)
                };
                for batch in batches {
                    posts.spawn(deliver(state.clone(), client.clone(), batch, settings, false, stop_posts.clone()));
                }
            }
            seen = changed.changed() => {
                if seen.is_err() {
                    break;
                }
            }
            _ = stop.wait_for(|stopped| *stopped) => break,
            Some(_) = posts.join_next(), if !posts.is_empty() => {}
        }
    }

    let (batches, settings) = {
        let mut inner = state.lock();
        (inner.receipts.take_batches(), inner.receipts.settings)
    };
    for batch in batches {
        posts.spawn(deliver(
            state.clone(),
            client.clone(),
            batch,
            settings,
            true,
            stop.clone(),
        ));
    }
    let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while posts.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            unfinished = posts.len(),
            "receipt POSTs still running at shutdown dropped"
        );
        posts.abort_all();
        while posts.join_next().await.is_some() {}
    }
    let mut inner = state.lock();
    inner.receipts.stopped = true;
    inner.receipts.pending.clear();
    inner.receipts.bump();
}

/// Counts a batch out of `in_flight` however its task ends (aborts included).
struct InFlight(Arc<SimState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.receipts.in_flight = inner.receipts.in_flight.saturating_sub(1);
        inner.receipts.bump();
    }
}

/// POSTs one batch: retried with backoff while it fails, then (with
/// `redeliver`) once more after it was accepted. `last_call` (shutdown): one
/// attempt, no redelivery.
async fn deliver(
    state: Arc<SimState>,
    client: reqwest::Client,
    batch: Batch,
    settings: ReceiptSettings,
    last_call: bool,
    mut stop: watch::Receiver<bool>,
) {
    let _in_flight = InFlight(state.clone());
    let copies = if settings.redeliver && !last_call {
        2
    } else {
        1
    };
    let attempts = if last_call {
        1
    } else {
        settings.retries.saturating_add(1)
    };
    for copy in 0..copies {
        let mut backoff = settings.retry_backoff;
        for attempt in 1..=attempts {
            let sent_ms = wall_clock_ms();
            let answer = client.post(&batch.url).json(&batch.body).send().await;
            let (status, error) = match answer {
                Ok(response) => (response.status().as_u16(), None),
                Err(error) => (0, Some(error_text(&error))),
            };
            let accepted = (200..300).contains(&status);
            let give_up = attempt == attempts || *stop.borrow();
            let outcome = match (accepted, give_up) {
                (true, _) => ReceiptOutcome::Delivered,
                (false, true) => ReceiptOutcome::Dropped,
                (false, false) => ReceiptOutcome::Retrying,
            };
            tracing::info!(url = %batch.url, status, attempt, ?outcome, "receipt POST");
            let index = state.lock().receipts.record(
                batch.generation,
                ReceiptPost {
                    url: batch.url.clone(),
                    body: batch.body.clone(),
                    status,
                    error,
                    attempt,
                    redelivery: copy > 0,
                    outcome,
                    sent_ms,
                    answered_ms: wall_clock_ms(),
                },
            );
            match outcome {
                ReceiptOutcome::Delivered => break,
                ReceiptOutcome::Dropped => return,
                ReceiptOutcome::Retrying => {}
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|stopped| *stopped) => {
                    state.lock().receipts.mark_dropped(batch.generation, index);
                    return;
                }
            }
            backoff = backoff.saturating_mul(2);
        }
    }
}

/// An error and its causes ("error sending request: ...: Connection refused").
fn error_text(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
