//! The delivery engine (API.md §4 "What a send does"): a scheduler that claims due sends and
//! expands their audience inside the database, a dispatcher that hands claimed recipients
//! through the blackout gate and the per-carrier rate limiter to `Carrier::submit`, and the
//! inbound path that applies carriers' receipts. It reads time from the clock it is given.
//! It must not know HTTP.

mod dispatch;
pub mod keywords;
mod limiter;
pub mod telemetry;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carrier::{Carrier, CarrierEvent};
use domain::clock::Clock;
use domain::{BlackoutWindow, ClockTime, UtcOffset};
use store::{codes, Expansion, Receipt, StoreResult, StoredWindow};
use tokio::sync::{watch, Mutex, Notify};

pub use limiter::SegmentLimiter;

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This process's name on leases (unique per process).
    pub owner: String,
    /// Memberships expanded per database batch.
    pub expand_batch: u32,
    /// Recipients claimed per dispatch batch.
    pub claim_batch: u32,
    /// How long an expansion claim holds without being renewed.
    pub expand_lease_ms: i64,
    /// The lease on a batch being handed over, renewed every third of it while the batch is
    /// worked on: only a batch whose process stopped outlives it. Then its claimed recipients
    /// are taken again, and those that may have left ("submitting") are reported 3400 Unknown.
    /// Batches are sized to be handed over in about a quarter of it.
    pub submit_lease_ms: i64,
    /// Idle wait between polls when nothing signals work.
    pub idle_poll: Duration,
    /// Dispatch workers in one process. Each hands over one batch at a time.
    pub workers: usize,
}

impl EngineConfig {
    pub fn new(owner: impl Into<String>) -> EngineConfig {
        EngineConfig {
            owner: owner.into(),
            expand_batch: 50_000,
            claim_batch: 1_000,
            expand_lease_ms: 30_000,
            submit_lease_ms: 60_000,
            idle_poll: Duration::from_millis(200),
            workers: 1,
        }
    }
}

/// The engine: cheap to clone, shared by its workers.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn store::Store>,
    carriers: HashMap<String, Arc<dyn Carrier>>,
    limiters: HashMap<String, SegmentLimiter>,
    /// Each carrier's metric handles, made once.
    carrier_metrics: HashMap<String, telemetry::CarrierMetrics>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    wake: Arc<Notify>,
    events: Mutex<carrier::EventSource>,
    /// True once the engine is stopping (API.md §8 SIGTERM): nothing more is written to
    /// carriers, and batches in flight settle.
    stop: watch::Sender<bool>,
    /// Each carrier's pace, which sizes claims.
    paces: dispatch::Paces,
    last_recovery: std::sync::Mutex<Option<i64>>,
    /// Receipts that matched no recorded submission yet, with when they first came.
    held: std::sync::Mutex<Vec<(Receipt, std::time::Instant)>>,
}

/// What keyword handling read of one account's code for a batch of texts (see `load_mo`).
struct LoadedMo {
    keywords: Vec<store::Keyword>,
    /// Number → its place in `states`.
    index: HashMap<String, usize>,
    states: Vec<(String, keywords::NumberState)>,
}

/// The state of a number with nothing on a code.
static EMPTY_STATE: std::sync::LazyLock<keywords::NumberState> =
    std::sync::LazyLock::new(keywords::NumberState::default);

/// How often (engine clock) crashed hand-overs are looked for.
const RECOVERY_EVERY_MS: i64 = 5_000;
/// How long a graceful stop waits for a carrier's pending receipts.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(3);
/// Receipts applied per store call.
const RECEIPT_BATCH: usize = 2_000;
/// How long a receipt that matches no submission is held and retried: its submission may be
/// recorded later (a receipt can overtake the record of its own hand-over, in this process or
/// another). Longer than any hand-over can last.
const HOLD_RECEIPTS_FOR: Duration = Duration::from_secs(600);
/// At most this many receipts are held; beyond it the oldest are dropped (and logged).
const HOLD_RECEIPTS_MAX: usize = 200_000;
/// How often held receipts are tried again by the background receipt worker.
const HELD_RETRY_EVERY: Duration = Duration::from_millis(500);

/// The items of `all` at `indexes` (ascending).
pub(crate) fn pick<T>(all: Vec<T>, indexes: &[usize]) -> Vec<T> {
    all.into_iter()
        .enumerate()
        .filter(|(i, _)| indexes.binary_search(i).is_ok())
        .map(|(_, r)| r)
        .collect()
}

/// Converts a stored window back to the domain type.
pub fn window_of(stored: &StoredWindow) -> Option<BlackoutWindow> {
    Some(BlackoutWindow {
        offset: UtcOffset::from_minutes(stored.utc_offset_minutes)?,
        start: ClockTime::from_minute_of_day(stored.start_minute)?,
        end: ClockTime::from_minute_of_day(stored.end_minute)?,
    })
}

impl Engine {
    /// `events` is the receiving end of the sink given to the carriers.
    pub fn new(
        store: Arc<dyn store::Store>,
        carriers: Vec<Arc<dyn Carrier>>,
        events: carrier::EventSource,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Engine {
        let limiters = carriers
            .iter()
            .map(|c| (c.name().to_string(), SegmentLimiter::new(c.rate_limit())))
            .collect();
        let carrier_metrics = carriers
            .iter()
            .map(|c| {
                (
                    c.name().to_string(),
                    telemetry::CarrierMetrics::new(c.name()),
                )
            })
            .collect();
        let carriers = carriers
            .into_iter()
            .map(|c| (c.name().to_string(), c))
            .collect();
        Engine {
            inner: Arc::new(Inner {
                store,
                carriers,
                limiters,
                carrier_metrics,
                clock,
                config,
                wake: Arc::new(Notify::new()),
                events: Mutex::new(events),
                stop: watch::channel(false).0,
                paces: dispatch::Paces::default(),
                last_recovery: std::sync::Mutex::new(None),
                held: std::sync::Mutex::new(Vec::new()),
            }),
        }
    }

    /// Notify this when new work may exist (a send was accepted).
    pub fn waker(&self) -> Arc<Notify> {
        self.inner.wake.clone()
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// True once the engine is stopping.
    pub fn is_stopping(&self) -> bool {
        *self.inner.stop.borrow()
    }

    /// One round of every kind of work. True when something was done.
    pub async fn step(&self) -> StoreResult<bool> {
        let mut did = self.schedule_and_dispatch().await?;
        did |= self.drain_events().await? > 0;
        did |= self.retry_held_receipts().await? > 0;
        Ok(did)
    }

    /// Steps until a whole round finds nothing to do (tests and benchmarks drive the engine
    /// this way instead of waiting).
    pub async fn run_until_idle(&self) -> StoreResult<()> {
        while self.step().await? {}
        Ok(())
    }

    /// Recovery runs at most every few seconds (and at the first step).
    async fn recover_if_due(&self) -> StoreResult<bool> {
        let now = self.now();
        {
            let mut last = self
                .inner
                .last_recovery
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| now - t < RECOVERY_EVERY_MS && now >= t) {
                return Ok(false);
            }
            *last = Some(now);
        }
        let recovered = self.inner.store.recover_expired(now).await?;
        if recovered > 0 {
            metrics::counter!(
                telemetry::RECIPIENT_STATUS,
                "status_code" => telemetry::code_label(codes::UNKNOWN)
            )
            .increment(recovered);
            tracing::warn!(
                recovered,
                "recipients left submitting by a stopped process are now 3400 Unknown"
            );
        }
        let lapsed = self
            .inner
            .store
            .lapse_pending(now - keywords::PENDING_LIFETIME_MS)
            .await?;
        if lapsed > 0 {
            tracing::info!(lapsed, "double opt-in requests lapsed");
        }
        Ok(recovered > 0 || lapsed > 0)
    }

    /// Claims due sends and expands their audience.
    async fn schedule(&self) -> StoreResult<bool> {
        let cfg = &self.inner.config;
        let now = self.now();
        let sends = self
            .inner
            .store
            .claim_due_sends(&cfg.owner, now, now + cfg.expand_lease_ms, 4)
            .await?;
        let did = !sends.is_empty();
        for send in sends {
            let started = Instant::now();
            loop {
                if self.is_stopping() {
                    // The expansion lease is given back at stop; another process (or this one,
                    // restarted) resumes from the saved cursor.
                    return Ok(did);
                }
                let now = self.now();
                let outcome = self
                    .inner
                    .store
                    .expand_batch(
                        &send.token,
                        &cfg.owner,
                        cfg.expand_batch,
                        now,
                        now + cfg.expand_lease_ms,
                    )
                    .await?;
                match outcome {
                    Expansion::More => continue,
                    Expansion::Done { recipients } => {
                        metrics::histogram!(telemetry::EXPANSION_SECONDS).record(started.elapsed());
                        metrics::counter!(telemetry::EXPANDED_RECIPIENTS)
                            .increment(u64::try_from(recipients).unwrap_or(0));
                        tracing::info!(token = %send.token, recipients, "audience expanded");
                        self.inner.store.finish_if_done(&send.token, now).await?;
                        break;
                    }
                    Expansion::Failed { reason } => {
                        tracing::warn!(token = %send.token, %reason, "send failed");
                        break;
                    }
                    Expansion::Lost => break,
                }
            }
        }
        Ok(did)
    }

    /// Applies the receipts (and, later, inbound texts) carriers have reported so far.
    pub async fn drain_events(&self) -> StoreResult<usize> {
        let mut rx = self.inner.events.lock().await;
        let mut events = Vec::new();
        while events.len() < RECEIPT_BATCH {
            match rx.try_recv() {
                Ok(e) => events.push(e),
                Err(_) => break,
            }
        }
        drop(rx);
        self.apply_events(events).await
    }

    async fn apply_events(&self, events: Vec<CarrierEvent>) -> StoreResult<usize> {
        let n = events.len();
        let mut receipts = Vec::new();
        let mut failed = None;
        for e in events {
            match e {
                CarrierEvent::Receipt {
                    carrier,
                    message_id,
                    status_code,
                } => receipts.push(Receipt {
                    carrier,
                    carrier_message_id: message_id,
                    status_code,
                }),
                CarrierEvent::Inbound {
                    carrier,
                    from,
                    to,
                    text,
                } => {
                    metrics::counter!(telemetry::INBOUND_TEXTS, "carrier" => carrier.clone())
                        .increment(1);
                    let inbound = store::InboundText {
                        carrier,
                        from,
                        to,
                        text,
                        received_at: self.now(),
                    };
                    if let Err(e) = self.inbound(inbound.clone()).await {
                        // The rest of the batch (receipts included) is still applied.
                        tracing::error!(error = %e, carrier = %inbound.carrier,
                            from = %inbound.from, to = %inbound.to, text = %inbound.text,
                            "an inbound text could not be handled and is dropped");
                        failed.get_or_insert(e);
                    }
                }
            }
        }
        if !receipts.is_empty() {
            let since = std::time::Instant::now();
            match self.apply_receipts(&receipts).await {
                Ok(unmatched) => {
                    self.hold(pick(receipts, &unmatched).into_iter().map(|r| (r, since)));
                }
                Err(e) => {
                    // The database is out of reach: nothing is lost, the receipts wait with
                    // the unmatched ones and are retried.
                    self.hold(receipts.into_iter().map(|r| (r, since)));
                    return Err(e);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    /// Applies the receipts that match a recorded submission; returns the indexes of the
    /// others (ascending), which are held and tried again: a receipt may come back before the
    /// answer carrying its message id is recorded.
    async fn apply_receipts(&self, receipts: &[Receipt]) -> StoreResult<Vec<usize>> {
        let unmatched = self.inner.store.unmatched_receipts(receipts).await?;
        if unmatched.is_empty() {
            self.inner
                .store
                .apply_receipts(receipts, self.now())
                .await?;
            telemetry::count_statuses(receipts.iter().map(|r| r.status_code));
        } else if unmatched.len() < receipts.len() {
            let matched: Vec<Receipt> = receipts
                .iter()
                .enumerate()
                .filter(|(i, _)| unmatched.binary_search(i).is_err())
                .map(|(_, r)| r.clone())
                .collect();
            self.inner
                .store
                .apply_receipts(&matched, self.now())
                .await?;
            telemetry::count_statuses(matched.iter().map(|r| r.status_code));
        }
        Ok(unmatched)
    }

    fn hold(&self, receipts: impl IntoIterator<Item = (Receipt, std::time::Instant)>) {
        let mut held = self.inner.held.lock().unwrap_or_else(|p| p.into_inner());
        held.extend(receipts);
        if held.len() > HOLD_RECEIPTS_MAX {
            let excess = held.len() - HOLD_RECEIPTS_MAX;
            held.drain(..excess);
            tracing::warn!(
                dropped = excess,
                "too many receipts match no submission; the oldest are dropped"
            );
        }
        metrics::gauge!(telemetry::HELD_RECEIPTS).set(held.len() as f64);
    }

    /// Receipts waiting for their submission to be recorded.
    pub fn held_receipts(&self) -> usize {
        self.inner.held.lock().map(|h| h.len()).unwrap_or(0)
    }

    /// Tries the held receipts again; those still unmatched after `HOLD_RECEIPTS_FOR` are
    /// dropped with a warning. Returns how many found their submission.
    pub async fn retry_held_receipts(&self) -> StoreResult<usize> {
        let mut waiting: Vec<(Receipt, std::time::Instant)> = {
            let mut held = self.inner.held.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *held)
        };
        let mut found = 0;
        let mut kept = Vec::new();
        let now = std::time::Instant::now();
        let mut expired = 0usize;
        while !waiting.is_empty() {
            let rest = waiting.split_off(waiting.len().min(RECEIPT_BATCH));
            let chunk = std::mem::replace(&mut waiting, rest);
            let receipts: Vec<Receipt> = chunk.iter().map(|(r, _)| r.clone()).collect();
            let unmatched = match self.apply_receipts(&receipts).await {
                Ok(u) => u,
                Err(e) => {
                    // Nothing is lost: what was not settled goes back.
                    self.hold(kept.into_iter().chain(chunk).chain(waiting));
                    return Err(e);
                }
            };
            found += chunk.len() - unmatched.len();
            for (i, (r, since)) in chunk.into_iter().enumerate() {
                if unmatched.binary_search(&i).is_ok() {
                    if now.duration_since(since) < HOLD_RECEIPTS_FOR {
                        kept.push((r, since));
                    } else {
                        expired += 1;
                    }
                }
            }
        }
        if expired > 0 {
            tracing::warn!(
                dropped = expired,
                "receipts matched no submission within the hold time and are dropped"
            );
        }
        self.hold(kept);
        Ok(found)
    }

    /// The one entry point for inbound texts from carriers: the text is matched to the code it
    /// was sent to and handled as a keyword (API.md §6); its replies go out as a send of their
    /// own. A text to no known code is only recorded. When several accounts hold the code on
    /// the carrier, [`keywords::route`] decides which of them it acts in; every one of them
    /// records it, all in one transaction.
    pub async fn inbound(&self, text: store::InboundText) -> StoreResult<()> {
        let codes = self
            .inner
            .store
            .codes_for_inbound(&text.carrier, &text.to)
            .await?;
        if codes.is_empty() {
            let record = self.inner.store.record_inbound(text).await?;
            tracing::info!(
                seq = record.seq,
                carrier = %record.text.carrier,
                "inbound text to no known code recorded"
            );
            return Ok(());
        }
        let shared = codes.len() > 1;
        let mut loaded = Vec::with_capacity(codes.len());
        for code in &codes {
            loaded.push(self.load_mo(code, std::slice::from_ref(&text)).await?);
        }
        let route = if shared {
            let holders: Vec<keywords::Holder<'_>> = loaded
                .iter()
                .map(|l| keywords::Holder {
                    keywords: &l.keywords,
                    state: l.states.first().map_or(&EMPTY_STATE, |(_, s)| s),
                })
                .collect();
            keywords::route(&holders, &text.text, text.received_at)
        } else {
            keywords::Route {
                act: vec![0],
                reply: vec![0],
            }
        };
        let options = keywords::ReactOptions {
            start_only_text_opt_outs: shared,
        };
        let mut batches = Vec::with_capacity(route.act.len());
        let mut tokens = Vec::new();
        for (i, mo) in loaded.into_iter().enumerate() {
            if !route.act.contains(&i) {
                continue;
            }
            let replies = route.reply.contains(&i);
            let batch = self.plan_mo(
                &codes[i],
                mo,
                vec![text.clone()],
                None,
                false,
                replies,
                options,
            );
            if let Some(send) = &batch.reply_send {
                tokens.push(send.token.clone());
            }
            batches.push(batch);
        }
        self.inner.store.record_mo_batches(batches).await?;
        if !tokens.is_empty() {
            self.inner.wake.notify_waiters();
        }
        tracing::info!(
            code = %codes[0].code,
            accounts = route.act.len(),
            replies = tokens.first().map_or("-", String::as_str),
            "inbound text handled"
        );
        Ok(())
    }

    /// `POST /sms/v1/queueMO` (API.md §6): each number is handled exactly as if it had texted
    /// `text` to `code`, in the caller's account only (a code other accounts share is not
    /// routed). Returns the token of the send that carries the replies (recorded even when
    /// there are none, so that its deliveries and history can be read).
    pub async fn queue_mo(
        &self,
        code: &store::Code,
        numbers: &[String],
        text: &str,
        client_id: Option<String>,
    ) -> StoreResult<String> {
        let now = self.now();
        let texts: Vec<store::InboundText> = numbers
            .iter()
            .map(|n| store::InboundText {
                carrier: code.carrier.clone(),
                from: n.clone(),
                to: code.code.clone(),
                text: text.to_string(),
                received_at: now,
            })
            .collect();
        let mo = self.load_mo(code, &texts).await?;
        let batch = self.plan_mo(
            code,
            mo,
            texts,
            client_id,
            true,
            true,
            keywords::ReactOptions::default(),
        );
        let token = batch.reply_send.as_ref().map(|s| s.token.clone());
        let replies = batch
            .reply_send
            .as_ref()
            .is_some_and(|s| !s.replies.is_empty());
        self.inner.store.record_mo(batch).await?;
        if replies {
            self.inner.wake.notify_waiters();
        }
        token.ok_or_else(|| store::StoreError::Other("queueMO recorded no send".into()))
    }

    /// What keyword handling needs of one account's code for the senders of `texts`: the
    /// code's keywords and texts, and each sender's state there (read for the whole batch at
    /// once), numbers in order of first appearance.
    async fn load_mo(
        &self,
        code: &store::Code,
        texts: &[store::InboundText],
    ) -> StoreResult<LoadedMo> {
        let store = &self.inner.store;
        let code_keywords: Vec<store::Keyword> = store
            .list_keywords(&code.account_id)
            .await?
            .into_iter()
            .filter(|k| k.code.eq_ignore_ascii_case(&code.code))
            .collect();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut numbers: Vec<String> = Vec::new();
        for t in texts {
            if !index.contains_key(&t.from) {
                index.insert(t.from.clone(), numbers.len());
                numbers.push(t.from.clone());
            }
        }
        let mut current: Vec<Vec<store::Subscription>> = vec![Vec::new(); numbers.len()];
        for sub in store
            .subscriptions_on_code(&code.account_id, &code.code, &numbers)
            .await?
        {
            if let Some(&i) = index.get(&sub.mobile_number) {
                current[i].push(sub);
            }
        }
        let mut opt_outs: Vec<Option<i64>> = vec![None; numbers.len()];
        for o in store
            .opt_outs_on_code(&code.account_id, &code.code, &numbers)
            .await?
        {
            if let Some(&i) = index.get(&o.mobile_number) {
                opt_outs[i] = Some(o.opted_out_at);
            }
        }
        let states = numbers
            .into_iter()
            .zip(current.into_iter().zip(opt_outs))
            .map(|(n, (subs, opt_out))| (n, keywords::NumberState::new(subs).with_opt_out(opt_out)))
            .collect();
        Ok(LoadedMo {
            keywords: code_keywords,
            index,
            states,
        })
    }

    /// Keyword handling of `texts` to one account's code: the batch to record. Without
    /// `replies` the texts act silently (another account confirms); the reply send is recorded
    /// when there are replies, or always with `always_send`.
    #[allow(clippy::too_many_arguments)]
    fn plan_mo(
        &self,
        code: &store::Code,
        mo: LoadedMo,
        texts: Vec<store::InboundText>,
        client_id: Option<String>,
        always_send: bool,
        replies_allowed: bool,
        options: keywords::ReactOptions,
    ) -> store::MoBatch {
        let code_texts = keywords::CodeTexts {
            opt_out_text: code
                .opt_out_text
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| keywords::DEFAULT_OPT_OUT_TEXT.to_string()),
            help_text: code
                .help_text
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| keywords::DEFAULT_HELP_TEXT.to_string()),
        };
        let LoadedMo {
            keywords: code_keywords,
            index,
            mut states,
        } = mo;
        let mut replies = Vec::new();
        for t in &texts {
            let Some(&i) = index.get(&t.from) else {
                continue;
            };
            let (number, state) = &mut states[i];
            let reactions = keywords::react_with(
                options,
                &code.code,
                &code_texts,
                &code_keywords,
                state,
                number,
                &t.text,
                t.received_at,
            );
            if replies_allowed {
                replies.extend(reactions.into_iter().map(|reply| store::ReplyText {
                    mobile_number: number.clone(),
                    text: reply,
                }));
            }
        }
        let subscriptions = states.iter().flat_map(|(_, s)| s.writes()).collect();
        let opt_outs = states
            .iter()
            .flat_map(|(n, s)| s.opt_out_writes(n))
            .collect();
        let now = self.now();
        let reply_send = (always_send || !replies.is_empty()).then(|| {
            let shown = texts.first().map(|t| t.text.clone()).unwrap_or_default();
            let info = domain::text::analyze(&shown);
            store::ReplySend {
                token: domain::mint_token(),
                client_id,
                text: shown,
                segments: i32::try_from(info.segments).unwrap_or(i32::MAX),
                encoding: info.encoding.as_str().to_string(),
                replies,
                created_at: now,
            }
        });
        store::MoBatch {
            account_id: code.account_id.clone(),
            code: code.code.clone(),
            texts,
            subscriptions,
            opt_outs,
            reply_send,
        }
    }

    /// Runs the workers until `shutdown` turns true, then lets the batches in flight finish,
    /// gives back leases and returns.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tasks = Vec::new();
        for _ in 0..self.inner.config.workers.max(1) {
            let engine = self.clone();
            let mut stop = shutdown.clone();
            tasks.push(tokio::spawn(async move { engine.worker(&mut stop).await }));
        }
        let receipts = {
            let engine = self.clone();
            let mut stop = shutdown.clone();
            tokio::spawn(async move { engine.receipt_worker(&mut stop).await })
        };
        let _ = shutdown.wait_for(|s| *s).await;
        // Batches in flight write nothing more and settle (API.md §8 SIGTERM).
        self.inner.stop.send_replace(true);
        for t in tasks {
            let _ = t.await;
        }
        // Finishing in-flight work (API.md §8 SIGTERM) includes the receipts carriers still
        // owe for what they accepted, such as the simulator's delayed ones.
        for carrier in self.inner.carriers.values() {
            if tokio::time::timeout(FLUSH_TIMEOUT, carrier.flush())
                .await
                .is_err()
            {
                tracing::warn!(
                    carrier = carrier.name(),
                    "receipts still pending at stop are lost"
                );
            }
        }
        let _ = receipts.await;
        loop {
            match self.drain_events().await {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not apply the last receipts");
                    break;
                }
            }
        }
        if let Err(e) = self
            .inner
            .store
            .release_leases(&self.inner.config.owner)
            .await
        {
            tracing::warn!(error = %e, "could not release leases");
        }
        tracing::info!("engine stopped");
    }

    async fn worker(&self, stop: &mut watch::Receiver<bool>) {
        while !*stop.borrow() {
            let worked = match self.schedule_and_dispatch().await {
                Ok(w) => w,
                Err(e) => {
                    tracing::error!(error = %e, "engine step failed");
                    false
                }
            };
            if worked {
                continue;
            }
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(self.inner.config.idle_poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn schedule_and_dispatch(&self) -> StoreResult<bool> {
        let mut did = self.recover_if_due().await?;
        did |= self.schedule().await?;
        did |= self.dispatch().await?;
        Ok(did)
    }

    async fn receipt_worker(&self, stop: &mut watch::Receiver<bool>) {
        let mut last_retry = tokio::time::Instant::now();
        loop {
            if self.held_receipts() > 0 && last_retry.elapsed() >= HELD_RETRY_EVERY {
                last_retry = tokio::time::Instant::now();
                if let Err(e) = self.retry_held_receipts().await {
                    tracing::error!(error = %e, "retrying held receipts failed");
                }
            }
            let first = {
                let mut rx = self.inner.events.lock().await;
                let retry_at = last_retry + HELD_RETRY_EVERY;
                let has_held = self.held_receipts() > 0;
                tokio::select! {
                    e = rx.recv() => e.map(Some),
                    _ = tokio::time::sleep_until(retry_at), if has_held => Some(None),
                    _ = stop.wait_for(|s| *s) => None,
                }
            };
            let Some(first) = first else { break };
            let Some(first) = first else { continue };
            let mut events = vec![first];
            {
                let mut rx = self.inner.events.lock().await;
                while events.len() < RECEIPT_BATCH {
                    match rx.try_recv() {
                        Ok(e) => events.push(e),
                        Err(_) => break,
                    }
                }
            }
            if let Err(e) = self.apply_events(events).await {
                tracing::error!(error = %e, "applying receipts failed");
            }
        }
    }
}
