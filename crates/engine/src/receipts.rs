//! Carrier events (API.md §5): delivery receipts raise recipients' codes; inbound texts go to
//! keyword handling. A receipt that overtakes the record of its own submission (in this process
//! or another) is held and tried again, for a while: the one way receipts and answers meet.

use std::time::Duration;

use carrier::CarrierEvent;
use store::{Receipt, StoreResult};
use tokio::sync::watch;

use crate::{telemetry, Engine};

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
fn pick<T>(all: Vec<T>, indexes: &[usize]) -> Vec<T> {
    all.into_iter()
        .enumerate()
        .filter(|(i, _)| indexes.binary_search(i).is_ok())
        .map(|(_, r)| r)
        .collect()
}

impl Engine {
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

    pub(crate) async fn receipt_worker(&self, stop: &mut watch::Receiver<bool>) {
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
