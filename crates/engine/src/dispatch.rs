//! The dispatcher (API.md §4 "What a send does" 5–6, §8 leases and SIGTERM): claims batches of
//! ready recipients, builds their texts, and hands them to the carrier through a `Handover`.
//!
//! At most once, never lost: a claimed recipient stays in the queue under this process's lease;
//! it becomes "submitting" (durably) only when the carrier asks leave to write it, so a crash
//! leaves 3400 Unknown exactly the submissions that may have left. Answers are recorded as they
//! come. The batch's leases are renewed while it is handed over, however slow the carrier; when
//! they cannot be renewed, the carrier is told to stop writing at half the lease. On a stop
//! (SIGTERM) nothing more is written, answers still owed are awaited a few seconds, and then
//! what never left goes back to the queue and what left unanswered becomes 3400.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use carrier::{Carrier, ClearRequest, Handover, HandoverControl, Submission, SubmitOutcome};
use store::{codes, ClaimedRecipient, DispatchSend, StoreResult, SubmissionResult};
use tokio::sync::oneshot;

use crate::{telemetry, Engine, SegmentLimiter};

/// After a stop, answers for submissions already written are awaited this long.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// A batch is sized so that its hand-over takes about this share of the lease.
const BATCH_SHARE_OF_LEASE: f64 = 0.25;
/// Before a carrier's pace is known, a claim takes at most this many recipients.
const FIRST_CLAIM: u32 = 200;
/// Answers are recorded at once when this many are waiting.
const RECORD_AT: usize = 512;

/// What the engine knows of a carrier's pace: recipients handed over per second.
#[derive(Default)]
pub(crate) struct Paces {
    per_sec: std::sync::Mutex<HashMap<String, f64>>,
}

impl Paces {
    /// How many recipients to claim so that the hand-over takes about a quarter of the lease.
    fn claim_size(&self, carrier: &str, lease_ms: i64, most: u32) -> u32 {
        let paces = self.per_sec.lock().unwrap_or_else(|p| p.into_inner());
        let Some(per_sec) = paces.get(carrier) else {
            return most.min(FIRST_CLAIM);
        };
        let fits = per_sec * (lease_ms as f64 / 1000.0) * BATCH_SHARE_OF_LEASE;
        (fits.floor().clamp(1.0, f64::from(most))) as u32
    }

    /// Folds one batch's pace into the estimate (a moving average that follows changes fast).
    fn record(&self, carrier: &str, handed: usize, took: Duration) {
        if handed == 0 {
            return;
        }
        let sample = handed as f64 / took.as_secs_f64().max(0.001);
        let mut paces = self.per_sec.lock().unwrap_or_else(|p| p.into_inner());
        let pace = paces.entry(carrier.to_string()).or_insert(sample);
        *pace = 0.5 * *pace + 0.5 * sample;
    }
}

/// What one hand-over did.
struct Handed {
    /// Submissions written to the carrier (cleared).
    written: usize,
    /// Every recorded answer's code, for the metrics.
    codes: Vec<i32>,
    /// Segments reserved for submissions that never left (refunded to the rate limiter).
    unused_segments: u64,
}

/// The state of one batch while it is handed over: which of its recipients are still held by
/// this process, which were cleared (may have left), and the answers not yet recorded.
struct Ledger {
    /// Per recipient: segments, encoding and the engine's own note (content URL appended).
    prepared: HashMap<i64, (i32, String, Option<String>)>,
    /// Recipients not settled yet (claimed or submitting), ascending.
    held: Vec<i64>,
    cleared: HashSet<i64>,
    unrecorded: Vec<SubmissionResult>,
    codes: Vec<i32>,
}

impl Ledger {
    /// Settles a recipient this batch still holds (an answer for any other is ignored).
    fn settle(&mut self, result: SubmissionResult) {
        if let Ok(i) = self.held.binary_search(&result.id) {
            self.held.remove(i);
            self.codes.push(result.status_code);
            self.unrecorded.push(result);
        }
    }

    fn answer(&mut self, outcome: SubmitOutcome) {
        let result = self.compose(outcome);
        self.settle(result);
    }

    /// The record of a carrier's answer: with the text's segments and encoding, and the
    /// engine's own note before the carrier's.
    fn compose(&self, outcome: SubmitOutcome) -> SubmissionResult {
        let (segments, encoding, own_note) =
            self.prepared
                .get(&outcome.id)
                .cloned()
                .unwrap_or((0, String::new(), None));
        let note = match (own_note, outcome.note) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
        SubmissionResult {
            id: outcome.id,
            status_code: outcome.status_code,
            carrier_message_id: outcome.carrier_message_id,
            segments,
            encoding,
            note,
        }
    }
}

impl Engine {
    /// Hands one batch of each dispatchable send to its carrier.
    pub(crate) async fn dispatch(&self) -> StoreResult<bool> {
        let now = self.now();
        // Carriers pausing after a fault get nothing now, and hold up no one else.
        let paused: Vec<String> = self
            .inner
            .carriers
            .values()
            .filter(|c| !c.available())
            .map(|c| c.name().to_string())
            .collect();
        let sends = self.inner.store.dispatchable_sends(now, 8, &paused).await?;
        let mut did = false;
        for ds in sends {
            if self.is_stopping() {
                break;
            }
            did |= self.dispatch_batch(&ds).await?;
        }
        Ok(did)
    }

    /// Pauses the send when `now` falls inside its blackout window. True if it did.
    async fn pause_if_blacked_out(&self, ds: &DispatchSend, now: i64) -> StoreResult<bool> {
        let Some(end) = ds.send.window.and_then(|w| w.deferral(now)) else {
            return Ok(false);
        };
        let token = &ds.send.token;
        tracing::info!(%token, until = end, "blackout window: pausing the send");
        self.inner.store.pause_send(token, end).await?;
        Ok(true)
    }

    async fn dispatch_batch(&self, ds: &DispatchSend) -> StoreResult<bool> {
        let store = &self.inner.store;
        let token = &ds.send.token;
        if self.pause_if_blacked_out(ds, self.now()).await? {
            return Ok(true);
        }
        let carrier = self.inner.carriers.get(&ds.carrier).cloned();
        if carrier.as_ref().is_some_and(|c| !c.available()) {
            return Ok(false); // the carrier pauses after a fault; its recipients wait
        }
        let config = &self.inner.config;
        let limiter = carrier
            .as_ref()
            .and_then(|_| self.inner.limiters.get(&ds.carrier));
        let mut limit =
            self.inner
                .paces
                .claim_size(&ds.carrier, config.submit_lease_ms, config.claim_batch);
        if let Some(rate) = carrier.as_ref().map(|c| c.rate_limit()).filter(|r| *r > 0) {
            // About one second of the carrier's rate at a time.
            limit = limit.min(rate.max(1));
        }
        // The carrier's rate is waited for before claiming, not after, so that claimed
        // recipients leave at once. The reservation assumes the send's own segment count;
        // `hand_over` settles the difference once the texts are built.
        let per_text = u64::try_from(ds.send.segments.max(1)).unwrap_or(1);
        let reserved = u64::from(limit) * per_text;
        if let Some(l) = limiter {
            let mut stop = self.inner.stop.subscribe();
            tokio::select! {
                _ = l.acquire(reserved) => {}
                _ = async { let _ = stop.wait_for(|s| *s).await; } => {
                    l.refund(reserved).await;
                    return Ok(false);
                }
            }
        }
        let now = self.now();
        // The wait may have run into the window.
        if self.pause_if_blacked_out(ds, now).await? {
            if let Some(l) = limiter {
                l.refund(reserved).await;
            }
            return Ok(true);
        }
        let claimed = store
            .claim_recipients(
                token,
                &config.owner,
                now,
                now + config.submit_lease_ms,
                limit,
            )
            .await?;
        if claimed.is_empty() {
            if let Some(l) = limiter {
                l.refund(reserved).await;
            }
            return store.finish_if_done(token, now).await;
        }
        let batch_started = Instant::now();
        let handed = match carrier {
            Some(carrier) => {
                self.hand_over(ds, &carrier, limiter, reserved, claimed)
                    .await?
            }
            None => {
                let results: Vec<SubmissionResult> = claimed
                    .iter()
                    .map(|r| SubmissionResult {
                        id: r.id,
                        status_code: codes::FAILED_TO_AGGREGATOR,
                        carrier_message_id: None,
                        segments: 0,
                        encoding: String::new(),
                        note: Some(format!("Carrier {} isn't configured.", ds.carrier)),
                    })
                    .collect();
                self.record_answers(&results).await?;
                Handed {
                    written: 0,
                    codes: results.iter().map(|r| r.status_code).collect(),
                    unused_segments: 0,
                }
            }
        };
        if let Some(l) = limiter {
            l.refund(handed.unused_segments).await;
        }
        self.inner
            .paces
            .record(&ds.carrier, handed.written, batch_started.elapsed());
        metrics::histogram!(telemetry::DISPATCH_BATCH_SECONDS).record(batch_started.elapsed());
        telemetry::count_statuses(handed.codes.iter().copied());
        store.finish_if_done(token, self.now()).await?;
        Ok(true)
    }

    /// Records answers. While the database is out of reach they are the only record of what
    /// left, so they are retried with backoff — until they are in, or the engine stops and
    /// the grace after the stop is over (recovery then settles what is left, as after a crash,
    /// and a late answer replaces recovery's 3400).
    pub(crate) async fn record_answers(&self, results: &[SubmissionResult]) -> StoreResult<()> {
        let mut pause = Duration::from_millis(100);
        let mut stop_deadline: Option<Instant> = None;
        loop {
            match self
                .inner
                .store
                .record_submissions(&self.inner.config.owner, results, self.now())
                .await
            {
                Ok(()) => return Ok(()),
                Err(e @ (store::StoreError::Unavailable(_) | store::StoreError::Other(_))) => {
                    if self.is_stopping() {
                        let deadline = *stop_deadline.get_or_insert(Instant::now() + STOP_GRACE);
                        if Instant::now() + pause >= deadline {
                            return Err(e);
                        }
                    }
                    tracing::warn!(error = %e, recipients = results.len(),
                        "could not record the carrier's answers; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Builds each recipient's text (a text too long after substitution is settled 1501 and not
    /// sent), settles the rate reservation (`reserved` segments were taken before claiming) and
    /// hands the batch over.
    async fn hand_over(
        &self,
        ds: &DispatchSend,
        carrier: &Arc<dyn Carrier>,
        limiter: Option<&SegmentLimiter>,
        reserved: u64,
        claimed: Vec<ClaimedRecipient>,
    ) -> StoreResult<Handed> {
        let send = &ds.send;
        let media = carrier.supports_media();
        let mut ledger = Ledger {
            prepared: HashMap::with_capacity(claimed.len()),
            held: claimed.iter().map(|r| r.id).collect(),
            cleared: HashSet::new(),
            unrecorded: Vec::new(),
            codes: Vec::new(),
        };
        ledger.held.sort_unstable();
        let mut batch = Vec::with_capacity(claimed.len());
        let mut segments_of: HashMap<i64, u64> = HashMap::with_capacity(claimed.len());
        let mut segments_total: u64 = 0;
        for mut r in claimed {
            let mut text = match r.text.take() {
                Some(own) => own,
                None => domain::text::substitute(&send.text, &|name| {
                    r.attributes
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                }),
            };
            // A text longer than the limit after substitution is not sent (API.md §1): 1501.
            if text.chars().count() > domain::limits::MAX_TEXT_CHARS {
                ledger.settle(SubmissionResult {
                    id: r.id,
                    status_code: codes::VALIDATION_ERROR,
                    carrier_message_id: None,
                    segments: 0,
                    encoding: String::new(),
                    note: Some(codes::TEXT_TOO_LONG.into()),
                });
                continue;
            }
            let mut note = None;
            let mut content_url = send.content_url.clone();
            if let (Some(url), false) = (&send.content_url, media) {
                text = format!("{text}\n{url}");
                content_url = None;
                note = Some(
                    "Content URL appended to the text: the carrier has no media support.".into(),
                );
            }
            let info = domain::text::analyze(&text);
            let segments = i32::try_from(info.segments).unwrap_or(i32::MAX);
            segments_total += u64::from(info.segments);
            segments_of.insert(r.id, u64::from(info.segments));
            let encoding = info.encoding.as_str().to_string();
            ledger
                .prepared
                .insert(r.id, (segments, encoding.clone(), note));
            batch.push(Submission {
                id: r.id,
                from: send.code.clone(),
                to: r.mobile_number,
                text,
                content_url,
                segments,
                encoding,
                token_id: Some(send.token.clone()),
            });
        }
        if let Some(l) = limiter {
            if segments_total > reserved {
                l.acquire(segments_total - reserved).await;
            } else {
                l.refund(reserved - segments_total).await;
            }
        }
        let carrier_metrics = self.inner.carrier_metrics.get(carrier.name());
        let in_flight = carrier_metrics.map(|m| m.handed(batch.len()));
        let started = Instant::now();
        let abandoned = if batch.is_empty() {
            false
        } else {
            self.run_hand_over(carrier.as_ref(), batch, &mut ledger)
                .await
        };
        drop(in_flight);
        // What the carrier left unanswered: a submission that may have left is 3400 Unknown
        // (never resent); one that never left goes back to the queue untouched.
        let mut unused_segments = 0;
        for id in ledger.held.clone() {
            let result = if ledger.cleared.contains(&id) {
                let note = if abandoned {
                    "The process stopped before the carrier answered; delivery unknown, not resent."
                } else {
                    "The carrier gave no answer; delivery unknown."
                };
                ledger.compose(SubmitOutcome {
                    id,
                    status_code: codes::UNKNOWN,
                    carrier_message_id: None,
                    note: Some(note.into()),
                })
            } else {
                unused_segments += segments_of.get(&id).copied().unwrap_or(0);
                SubmissionResult {
                    id,
                    status_code: codes::QUEUED,
                    carrier_message_id: None,
                    segments: 0,
                    encoding: String::new(),
                    note: None,
                }
            };
            ledger.settle(result);
        }
        let rest = std::mem::take(&mut ledger.unrecorded);
        self.record_answers(&rest).await?;
        if let Some(m) = carrier_metrics {
            m.answered(started.elapsed(), &ledger.codes);
        }
        Ok(Handed {
            written: ledger.cleared.len(),
            // Recipients that never left are no status of theirs.
            codes: ledger
                .codes
                .into_iter()
                .filter(|c| *c != codes::QUEUED)
                .collect(),
            unused_segments,
        })
    }

    /// Runs the carrier's `submit` and, alongside it, the hand-over's control: answering the
    /// carrier's requests for leave (marking the recipients submitting), recording its answers as
    /// they come, renewing the batch's leases, and passing on a stop. The two run concurrently
    /// (not one inside the other's turn): the carrier may itself be waiting on the database, as
    /// the simulator's outbox does. True when the hand-over was abandoned, a stop's grace after
    /// the stop.
    async fn run_hand_over(
        &self,
        carrier: &dyn Carrier,
        batch: Vec<Submission>,
        ledger: &mut Ledger,
    ) -> bool {
        let (handover, mut control) = Handover::new();
        let (done_tx, mut done_rx) = oneshot::channel::<()>();
        let mut stop = self.inner.stop.subscribe();
        let abandoned = {
            let submit = async {
                carrier.submit(batch, &handover).await;
                let _ = done_tx.send(());
            };
            let controlled = self.control(&mut control, ledger, &mut done_rx);
            let grace_over = async {
                let _ = stop.wait_for(|s| *s).await;
                tokio::time::sleep(STOP_GRACE).await;
            };
            tokio::select! {
                _ = async { tokio::join!(submit, controlled) } => false,
                _ = grace_over => true,
            }
        };
        if abandoned {
            tracing::warn!(
                unanswered = ledger.held.len(),
                "stopping: answers still owed by the carrier are given up"
            );
        }
        drain(&mut control, ledger);
        abandoned
    }

    /// The control side of one hand-over (see `run_hand_over`), until `done` says the carrier's
    /// `submit` returned and every request and answer it sent before is taken in.
    async fn control(
        &self,
        control: &mut HandoverControl,
        ledger: &mut Ledger,
        done: &mut oneshot::Receiver<()>,
    ) {
        let store = &self.inner.store;
        let owner = &self.inner.config.owner;
        let lease_ms = self.inner.config.submit_lease_ms;
        let lease = Duration::from_millis(u64::try_from(lease_ms).unwrap_or(0).max(1));
        let every = (lease / 3).max(Duration::from_millis(10));
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_renewed = Instant::now();
        let mut stop = self.inner.stop.subscribe();
        let mut record_failed = false;
        loop {
            if *stop.borrow() && !control.is_stopping() {
                control.stop_writing();
            }
            tokio::select! {
                biased;
                Some(asked) = control.clears.recv() => {
                    let mut requests = vec![asked];
                    while let Ok(more) = control.clears.try_recv() {
                        requests.push(more);
                    }
                    self.grant(control, requests, ledger, lease_ms).await;
                }
                Some(answer) = control.answers.recv() => {
                    ledger.answer(answer);
                    while let Ok(more) = control.answers.try_recv() {
                        ledger.answer(more);
                    }
                    if !record_failed || ledger.unrecorded.len() >= RECORD_AT {
                        let answers = std::mem::take(&mut ledger.unrecorded);
                        match store.record_submissions(owner, &answers, self.now()).await {
                            Ok(()) => record_failed = false,
                            Err(e) => {
                                tracing::warn!(error = %e, "could not record answers yet");
                                record_failed = true;
                                ledger.unrecorded.extend(answers);
                            }
                        }
                    }
                }
                _ = renew.tick() => {
                    let until = self.now() + lease_ms;
                    match store.renew_leases(owner, &ledger.held, until).await {
                        Ok(_) => last_renewed = Instant::now(),
                        Err(e) => {
                            tracing::warn!(error = %e, "could not renew the batch's leases");
                            if last_renewed.elapsed() >= lease / 2 && !control.is_stopping() {
                                tracing::warn!(
                                    "leases not renewed for half their time: \
                                     writing nothing more of this batch"
                                );
                                control.stop_writing();
                            }
                        }
                    }
                }
                _ = stop.changed(), if !control.is_stopping() => {}
                _ = &mut *done => break,
            }
        }
    }

    /// Grants leave to write: marks the asked recipients this batch still holds as submitting,
    /// in one statement for all requests waiting. Nothing is granted once stopping, or when the
    /// mark cannot be recorded (those recipients then never leave).
    async fn grant(
        &self,
        control: &HandoverControl,
        requests: Vec<ClearRequest>,
        ledger: &mut Ledger,
        lease_ms: i64,
    ) {
        let asked: Vec<i64> = requests
            .iter()
            .flat_map(|r| r.ids.iter().copied())
            .filter(|id| ledger.held.binary_search(id).is_ok() && !ledger.cleared.contains(id))
            .collect();
        let granted: HashSet<i64> = if control.is_stopping() || asked.is_empty() {
            HashSet::new()
        } else {
            let now = self.now();
            match self
                .inner
                .store
                .mark_submitting(&self.inner.config.owner, &asked, now, now + lease_ms)
                .await
            {
                Ok(marked) => marked.into_iter().collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "could not record submissions as leaving");
                    HashSet::new()
                }
            }
        };
        ledger.cleared.extend(granted.iter().copied());
        for request in requests {
            let ids = request
                .ids
                .iter()
                .copied()
                .filter(|id| granted.contains(id))
                .collect();
            request.grant(ids);
        }
    }
}

/// Takes in the answers that came before the hand-over ended.
fn drain(control: &mut HandoverControl, ledger: &mut Ledger) {
    while let Ok(answer) = control.answers.try_recv() {
        ledger.answer(answer);
    }
    while let Ok(asked) = control.clears.try_recv() {
        asked.grant(Vec::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_follow_the_carriers_pace() {
        let paces = Paces::default();
        assert_eq!(paces.claim_size("slow", 60_000, 1000), FIRST_CLAIM);
        // 8 texts a second and a 3 s lease: 6 per claim.
        paces.record("slow", 16, Duration::from_secs(2));
        assert_eq!(paces.claim_size("slow", 3_000, 1000), 6);
        // Never more than the configured batch, never less than one.
        paces.record("fast", 100_000, Duration::from_secs(1));
        assert_eq!(paces.claim_size("fast", 60_000, 1000), 1000);
        paces.record("stuck", 1, Duration::from_secs(100));
        assert_eq!(paces.claim_size("stuck", 1_000, 1000), 1);
    }
}
