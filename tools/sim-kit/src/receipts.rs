//! The receipts posting engine: a queue of receipt entries per callback URL,
//! flushed by a background task after a delay, with retries, optional
//! redelivery and a log of every POST attempt. The vendor decides what an
//! entry holds, how entries group and what a POST's body looks like
//! ([`ReceiptFormat`]); the rules are in lib.rs, "Receipts".

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::{form, lock, wall_clock_ms};

/// How long the simulator waits for a receiver's answer to one receipt POST.
pub const POST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long shutdown waits for the last receipt POSTs before dropping them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How receipts are sent ([`crate::Sim::set_receipt_settings`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptSettings {
    /// Time from the first receipt queued (after a flush) to the flush that
    /// sends it and everything queued meanwhile. Zero sends at once.
    pub delay: Duration,
    /// Sends every receipt POST that the receiver accepted a second time
    /// (vendors may redeliver), so receivers can show they are idempotent.
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
    /// The body sent, as the vendor's format logs it ([`ReceiptBody::logged`]:
    /// the JSON sent, or a form's fields as an object of strings).
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

/// One queued receipt entry: one target of one message, bound for one URL.
/// The vendor's type ([`crate::Vendor::Receipts`]); `/_sim/receipt-pending`
/// lists entries serialized as they are.
pub trait Receipt: Clone + fmt::Debug + serde::Serialize + Send + Sync + 'static {
    /// Where it is POSTed.
    fn url(&self) -> &str;
    /// The target it reports (a regId, token, alias), joined with the other
    /// targets of its group.
    fn target(&self) -> &str;
    /// Entries of one URL with the same group are sent as one group: one
    /// entry of the body carrying all their targets (up to
    /// [`ReceiptFormat::max_targets`] per POST), described by the group's
    /// first entry. vivo: the taskId; Xiaomi: msg id and receipt type.
    fn group(&self) -> String;
    /// The group's key in a POST body: two groups with the same key never
    /// share a POST (the later goes in a further POST). Default: the group.
    fn body_key(&self) -> String {
        self.group()
    }
}

/// One group's share of one POST: its first entry and the targets this POST
/// carries for it, in the order they were queued.
#[derive(Clone, Copy, Debug)]
pub struct ReceiptGroup<'a, R> {
    pub first: &'a R,
    pub targets: &'a [String],
}

/// The body of one receipt POST.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiptBody {
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// What [`ReceiptPost::body`] shows.
    pub logged: Value,
}

impl ReceiptBody {
    /// A JSON body, `Content-Type: application/json`, logged as sent.
    pub fn json(value: Value) -> ReceiptBody {
        ReceiptBody {
            content_type: "application/json".to_owned(),
            bytes: serde_json::to_vec(&value).unwrap_or_default(),
            logged: value,
        }
    }

    /// A form body ([`form::encode`]), `Content-Type:
    /// application/x-www-form-urlencoded`, logged as an object of its fields.
    pub fn form(fields: &[(&str, &str)]) -> ReceiptBody {
        let logged: Map<String, Value> = fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), Value::from(*value)))
            .collect();
        ReceiptBody {
            content_type: "application/x-www-form-urlencoded".to_owned(),
            bytes: form::encode(fields.iter().copied()).into_bytes(),
            logged: Value::Object(logged),
        }
    }
}

/// How a vendor's receipts are batched and what their POSTs look like.
pub trait ReceiptFormat: Send + Sync + 'static {
    type Receipt: Receipt;
    /// At most this many targets of one group in one POST; more go in
    /// further POSTs (the n-th POST of a URL carries the n-th slice of every
    /// group). At least 1.
    fn max_targets(&self) -> usize;
    /// The body of one POST, from its groups (in order of first queueing).
    fn render(&self, groups: &[ReceiptGroup<'_, Self::Receipt>]) -> ReceiptBody;
}

/// The receipt entry of a vendor without receipts: it cannot be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoReceipt {}

impl serde::Serialize for NoReceipt {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

impl Receipt for NoReceipt {
    fn url(&self) -> &str {
        match *self {}
    }
    fn target(&self) -> &str {
        match *self {}
    }
    fn group(&self) -> String {
        match *self {}
    }
}

/// The format of a vendor without receipts (FCM, APNs).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoReceipts;

impl ReceiptFormat for NoReceipts {
    type Receipt = NoReceipt;
    fn max_targets(&self) -> usize {
        1
    }
    fn render(&self, _: &[ReceiptGroup<'_, NoReceipt>]) -> ReceiptBody {
        ReceiptBody::json(Value::Null)
    }
}

/// The queue, the settings and the log of a simulator's receipts.
pub struct ReceiptEngine<F: ReceiptFormat> {
    format: F,
    state: Mutex<EngineState<F::Receipt>>,
    /// Bumped on every change the flusher or a flush waiter cares about.
    changed: watch::Sender<u64>,
}

struct EngineState<R> {
    settings: ReceiptSettings,
    pending: Vec<R>,
    /// When the oldest pending receipt was queued.
    first_queued: Option<Instant>,
    /// A flush was asked for: send now.
    flush_now: bool,
    /// Batches taken from the queue whose POSTs are not finished.
    in_flight: usize,
    /// The flusher has stopped: nothing will be sent any more.
    stopped: bool,
    log: Vec<ReceiptPost>,
    /// Bumped by `reset`: POSTs of earlier batches are no longer logged.
    generation: u64,
}

/// One receipt POST to make: its body and how to log it.
struct Batch {
    url: String,
    body: ReceiptBody,
    generation: u64,
}

/// A group of queued entries while a flush batches them.
struct Grouped<R> {
    key: String,
    body_key: String,
    first: R,
    targets: Vec<String>,
}

impl<F: ReceiptFormat> ReceiptEngine<F> {
    pub fn new(format: F) -> ReceiptEngine<F> {
        ReceiptEngine {
            format,
            state: Mutex::new(EngineState {
                settings: ReceiptSettings::default(),
                pending: Vec::new(),
                first_queued: None,
                flush_now: false,
                in_flight: 0,
                stopped: false,
                log: Vec::new(),
                generation: 0,
            }),
            changed: watch::channel(0).0,
        }
    }

    pub fn format(&self) -> &F {
        &self.format
    }

    fn lock(&self) -> MutexGuard<'_, EngineState<F::Receipt>> {
        lock(&self.state)
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Queues one entry (dropped once the simulator has stopped).
    pub fn queue(&self, receipt: F::Receipt) {
        {
            let mut state = self.lock();
            if state.stopped {
                return;
            }
            if state.pending.is_empty() {
                state.first_queued = Some(Instant::now());
            }
            state.pending.push(receipt);
        }
        self.bump();
    }

    pub fn settings(&self) -> ReceiptSettings {
        self.lock().settings
    }

    /// Replaces the settings; the flush deadline follows the new delay.
    pub fn set_settings(&self, settings: ReceiptSettings) {
        self.lock().settings = settings;
        self.bump();
    }

    /// Entries queued and not yet sent, in queue order.
    pub fn pending(&self) -> Vec<F::Receipt> {
        self.lock().pending.clone()
    }

    /// Every POST attempt so far, in the order they finished.
    pub fn log(&self) -> Vec<ReceiptPost> {
        self.lock().log.clone()
    }

    /// Clears the queue and the log; keeps the settings. POSTs in flight
    /// still go, unlogged.
    pub fn reset(&self) {
        {
            let mut state = self.lock();
            state.pending.clear();
            state.first_queued = None;
            state.flush_now = false;
            state.log.clear();
            state.generation += 1;
        }
        self.bump();
    }

    /// Sends what is queued now (whatever the delay) and waits until every
    /// POST, retries and redeliveries included, has finished; returns at
    /// once after shutdown.
    pub async fn flush(&self) {
        let mut changed = {
            let mut state = self.lock();
            if !state.pending.is_empty() {
                state.flush_now = true;
            }
            self.changed.subscribe()
        };
        self.bump();
        loop {
            {
                let state = self.lock();
                if state.stopped || (state.pending.is_empty() && state.in_flight == 0) {
                    return;
                }
            }
            if changed.changed().await.is_err() {
                return;
            }
        }
    }

    /// When the next flush is due, if anything is pending.
    fn due_at(&self) -> Option<Instant> {
        let state = self.lock();
        if state.pending.is_empty() {
            return None;
        }
        if state.flush_now {
            return Some(Instant::now());
        }
        state.first_queued.map(|at| at + state.settings.delay)
    }

    /// Takes the whole queue as POSTs: per URL (in URL order), the groups in
    /// order of first queueing, each cut into slices of at most
    /// `max_targets`; the n-th slice of a group goes in the first POST after
    /// its (n-1)-th slice's whose body has no group with the same body key.
    fn take_batches(&self) -> (Vec<Batch>, ReceiptSettings) {
        let mut state = self.lock();
        let pending = std::mem::take(&mut state.pending);
        state.first_queued = None;
        state.flush_now = false;
        let max = self.format.max_targets().max(1);
        let mut by_url: BTreeMap<String, Vec<Grouped<F::Receipt>>> = BTreeMap::new();
        for receipt in pending {
            let groups = by_url.entry(receipt.url().to_owned()).or_default();
            let key = receipt.group();
            let target = receipt.target().to_owned();
            match groups.iter_mut().find(|group| group.key == key) {
                Some(group) => group.targets.push(target),
                None => groups.push(Grouped {
                    key,
                    body_key: receipt.body_key(),
                    first: receipt,
                    targets: vec![target],
                }),
            }
        }
        let mut batches = Vec::new();
        for (url, groups) in by_url {
            // Per POST: (group, slice) pairs, and the body keys used.
            let mut posts: Vec<Vec<(usize, usize)>> = Vec::new();
            let mut used: Vec<HashSet<&str>> = Vec::new();
            for (g, group) in groups.iter().enumerate() {
                let mut earliest = 0;
                for slice in 0..group.targets.len().div_ceil(max) {
                    let mut n = earliest;
                    while n < posts.len() && used[n].contains(group.body_key.as_str()) {
                        n += 1;
                    }
                    if n == posts.len() {
                        posts.push(Vec::new());
                        used.push(HashSet::new());
                    }
                    posts[n].push((g, slice));
                    used[n].insert(&group.body_key);
                    earliest = n + 1;
                }
            }
            for post in posts {
                let shares: Vec<ReceiptGroup<'_, F::Receipt>> = post
                    .iter()
                    .map(|&(g, slice)| {
                        let group = &groups[g];
                        let end = ((slice + 1) * max).min(group.targets.len());
                        ReceiptGroup {
                            first: &group.first,
                            targets: &group.targets[slice * max..end],
                        }
                    })
                    .collect();
                batches.push(Batch {
                    url: url.clone(),
                    body: self.format.render(&shares),
                    generation: state.generation,
                });
            }
        }
        state.in_flight += batches.len();
        let settings = state.settings;
        drop(state);
        self.bump();
        (batches, settings)
    }

    /// Logs an attempt of a batch of the current generation; its index.
    fn record(&self, generation: u64, post: ReceiptPost) -> Option<usize> {
        let index = {
            let mut state = self.lock();
            if generation != state.generation {
                return None;
            }
            state.log.push(post);
            state.log.len() - 1
        };
        self.bump();
        Some(index)
    }

    fn mark_dropped(&self, generation: u64, index: Option<usize>) {
        {
            let mut state = self.lock();
            if generation != state.generation {
                return;
            }
            match index.and_then(|i| state.log.get_mut(i)) {
                Some(post) => post.outcome = ReceiptOutcome::Dropped,
                None => return,
            }
        }
        self.bump();
    }

    fn finish_batch(&self) {
        {
            let mut state = self.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
        }
        self.bump();
    }

    /// The background task: flushes the queue when due, until `stop` turns
    /// true (or its sender goes away); then sends what is queued once,
    /// without retries, waits up to [`SHUTDOWN_GRACE`] for the POSTs in
    /// flight and drops the rest.
    pub(crate) async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let client = client();
        let mut changed = self.changed.subscribe();
        let mut posts = JoinSet::new();
        let stop_posts = stop.clone();
        loop {
            let due = self.due_at();
            let until_due = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = until_due => {
                    let (batches, settings) = self.take_batches();
                    for batch in batches {
                        posts.spawn(deliver(self.clone(), client.clone(), batch, settings, false, stop_posts.clone()));
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

        let (batches, settings) = self.take_batches();
        for batch in batches {
            posts.spawn(deliver(
                self.clone(),
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
        {
            let mut state = self.lock();
            state.stopped = true;
            state.pending.clear();
        }
        self.bump();
    }
}

/// The HTTP client receipts are sent with: no proxy (receivers are local),
/// bounded waits.
fn client() -> reqwest::Client {
    crate::http_client_builder()
        .no_proxy()
        .timeout(POST_TIMEOUT)
        .connect_timeout(POST_TIMEOUT)
        .build()
        .unwrap_or_default()
}

/// Counts a batch out of `in_flight` however its task ends (aborts included).
struct InFlight<F: ReceiptFormat>(Arc<ReceiptEngine<F>>);

impl<F: ReceiptFormat> Drop for InFlight<F> {
    fn drop(&mut self) {
        self.0.finish_batch();
    }
}

/// POSTs one batch: retried with backoff while it fails, then (with
/// `redeliver`) once more after it was accepted. `last_call` (shutdown): one
/// attempt, no redelivery.
async fn deliver<F: ReceiptFormat>(
    engine: Arc<ReceiptEngine<F>>,
    client: reqwest::Client,
    batch: Batch,
    settings: ReceiptSettings,
    last_call: bool,
    mut stop: watch::Receiver<bool>,
) {
    let _in_flight = InFlight(engine.clone());
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
            let answer = client
                .post(&batch.url)
                .header(reqwest::header::CONTENT_TYPE, &batch.body.content_type)
                .body(batch.body.bytes.clone())
                .send()
                .await;
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
            let index = engine.record(
                batch.generation,
                ReceiptPost {
                    url: batch.url.clone(),
                    body: batch.body.logged.clone(),
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
                    engine.mark_dropped(batch.generation, index);
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Clone, Debug, serde::Serialize)]
    struct Entry {
        url: &'static str,
        id: &'static str,
        kind: u8,
        target: String,
    }

    impl Receipt for Entry {
        fn url(&self) -> &str {
            self.url
        }
        fn target(&self) -> &str {
            &self.target
        }
        fn group(&self) -> String {
            format!("{}/{}", self.id, self.kind)
        }
        fn body_key(&self) -> String {
            self.id.to_owned()
        }
    }

    /// `{"<id>": "<kind>:t1,t2"}`.
    struct Format;

    impl ReceiptFormat for Format {
        type Receipt = Entry;
        fn max_targets(&self) -> usize {
            2
        }
        fn render(&self, groups: &[ReceiptGroup<'_, Entry>]) -> ReceiptBody {
            let mut body = Map::new();
            for group in groups {
                let text = format!("{}:{}", group.first.kind, group.targets.join(","));
                body.insert(group.first.id.to_owned(), Value::from(text));
            }
            ReceiptBody::json(Value::Object(body))
        }
    }

    fn entry(url: &'static str, id: &'static str, kind: u8, target: &str) -> Entry {
        Entry {
            url,
            id,
            kind,
            target: target.to_owned(),
        }
    }

    #[test]
    fn batches_slice_groups_and_keep_body_keys_apart() {
        let engine = ReceiptEngine::new(Format);
        for e in [
            entry("http://b", "m1", 1, "r1"),
            entry("http://a", "m1", 1, "r1"),
            entry("http://b", "m1", 1, "r2"),
            entry("http://b", "m1", 1, "r3"),
            entry("http://b", "m2", 1, "r4"),
            entry("http://b", "m1", 16, "r5"),
        ] {
            engine.queue(e);
        }
        let (batches, _) = engine.take_batches();
        let sent: Vec<(&str, Value)> = batches
            .iter()
            .map(|b| (b.url.as_str(), b.body.logged.clone()))
            .collect();
        assert_eq!(
            sent,
            [
                ("http://a", json!({"m1": "1:r1"})),
                ("http://b", json!({"m1": "1:r1,r2", "m2": "1:r4"})),
                ("http://b", json!({"m1": "1:r3"})),
                ("http://b", json!({"m1": "16:r5"})),
            ]
        );
        assert!(engine.pending().is_empty());
        assert_eq!(engine.lock().in_flight, 4);
    }

    #[test]
    fn form_bodies_are_logged_as_their_fields() {
        let body = ReceiptBody::form(&[("data", "{\"a\":1}")]);
        assert_eq!(body.content_type, "application/x-www-form-urlencoded");
        assert_eq!(body.bytes, b"data=%7B%22a%22%3A1%7D");
        assert_eq!(body.logged, json!({"data": "{\"a\":1}"}));
    }
}
