//! The simulator carrier (API.md §8): accepts every submission (SMS and MMS), records it in its
//! own outbox — committed on its own, as a remote carrier would — and sends a delivery receipt
//! after `receipt_delay_ms`. Magic numbers: ending `0001` refused at submission (2500, not in the
//! outbox); `0000` receipt 4500 Undeliverable; `0002` receipt 4501 Expired; others 4000.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::clock::Clock;
use domain::codes;
use store::{OutboxItem, Store};
use tokio::sync::mpsc::error::TrySendError;

use crate::{Carrier, CarrierEvent, EventSink, Handover, Submission, SubmitOutcome};

pub const DEFAULT_RECEIPT_DELAY_MS: u64 = 200;

pub struct Simulator {
    name: String,
    store: Arc<dyn Store>,
    events: EventSink,
    receipt_delay: Duration,
    rate_limit: u32,
    clock: Arc<dyn Clock>,
    /// The delayed receipts still to be sent (waited for by `flush`).
    pending: std::sync::Mutex<tokio::task::JoinSet<()>>,
}

impl Simulator {
    pub fn new(
        name: impl Into<String>,
        store: Arc<dyn Store>,
        events: EventSink,
        receipt_delay_ms: u64,
        rate_limit: u32,
        clock: Arc<dyn Clock>,
    ) -> Simulator {
        Simulator {
            name: name.into(),
            store,
            events,
            receipt_delay: Duration::from_millis(receipt_delay_ms),
            rate_limit,
            clock,
            pending: std::sync::Mutex::new(tokio::task::JoinSet::new()),
        }
    }
}

/// The receipt the simulator gives a number (API.md §8 magic numbers).
fn receipt_for(number: &str) -> i32 {
    if number.ends_with("0000") {
        codes::UNDELIVERABLE
    } else if number.ends_with("0002") {
        codes::EXPIRED
    } else {
        codes::DELIVERED
    }
}

#[async_trait]
impl Carrier for Simulator {
    fn name(&self) -> &str {
        &self.name
    }

    fn supports_media(&self) -> bool {
        true
    }

    fn rate_limit(&self) -> u32 {
        self.rate_limit
    }

    /// Waits for the delayed receipts of everything accepted so far.
    async fn flush(&self) {
        let mut pending = {
            let mut guard = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *guard)
        };
        while pending.join_next().await.is_some() {}
    }

    async fn submit(&self, batch: Vec<Submission>, handover: &Handover) {
        let now = self.clock.now_ms();
        let mut writable: Vec<Submission> = Vec::with_capacity(batch.len());
        for s in batch {
            if s.to.ends_with("0001") {
                handover.answer(SubmitOutcome {
                    id: s.id,
                    status_code: codes::FAILED_TO_AGGREGATOR,
                    carrier_message_id: None,
                    note: Some("Refused by the simulator (number ends in 0001).".into()),
                });
            } else {
                writable.push(s);
            }
        }
        let ids: Vec<i64> = writable.iter().map(|s| s.id).collect();
        let cleared: HashSet<i64> = handover.clear(&ids).await.into_iter().collect();
        let accepted: Vec<Submission> = writable
            .into_iter()
            .filter(|s| cleared.contains(&s.id))
            .collect();
        if accepted.is_empty() {
            return;
        }
        let items: Vec<OutboxItem> = accepted
            .iter()
            .map(|s| OutboxItem {
                carrier: self.name.clone(),
                from: s.from.clone(),
                to: s.to.clone(),
                text: s.text.clone(),
                content_url: s.content_url.clone(),
                encoding: s.encoding.clone(),
                segments: s.segments,
                token_id: s.token_id.clone(),
                accepted_at: now,
            })
            .collect();
        match self.store.outbox_append(&items).await {
            Ok(seqs) if seqs.len() == accepted.len() => {
                let mut receipts = Vec::with_capacity(accepted.len());
                for (s, seq) in accepted.iter().zip(seqs) {
                    let message_id = format!("sim-{seq}");
                    receipts.push(CarrierEvent::Receipt {
                        carrier: self.name.clone(),
                        message_id: message_id.clone(),
                        status_code: receipt_for(&s.to),
                    });
                    handover.answer(SubmitOutcome {
                        id: s.id,
                        status_code: codes::DELIVERED_TO_AGGREGATOR,
                        carrier_message_id: Some(message_id),
                        note: None,
                    });
                }
                // Receipts never hold up the hand-over: what the queue cannot take now is sent
                // by a task that waits for room.
                let mut rest = Vec::new();
                if self.receipt_delay.is_zero() {
                    let mut receipts = receipts.into_iter();
                    while let Some(r) = receipts.next() {
                        match self.events.try_send(r) {
                            Ok(()) => {}
                            Err(TrySendError::Full(r)) => {
                                rest.push(r);
                                rest.extend(receipts);
                                break;
                            }
                            Err(TrySendError::Closed(_)) => return,
                        }
                    }
                } else {
                    rest = receipts;
                }
                if !rest.is_empty() {
                    let events = self.events.clone();
                    let delay = self.receipt_delay;
                    let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                    while pending.try_join_next().is_some() {}
                    pending.spawn(async move {
                        tokio::time::sleep(delay).await;
                        for r in rest {
                            if events.send(r).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            }
            other => {
                // The outbox did not answer as it should: whether it kept the texts is unknown.
                if let Err(e) = &other {
                    tracing::error!(error = %e, "simulator outbox write failed");
                }
                for s in accepted {
                    handover.answer(SubmitOutcome {
                        id: s.id,
                        status_code: codes::UNKNOWN,
                        carrier_message_id: None,
                        note: Some("The simulator's outbox failed; delivery unknown.".into()),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_map_to_receipts() {
        assert_eq!(receipt_for("15555550000"), 4500);
        assert_eq!(receipt_for("15555550002"), 4501);
        assert_eq!(receipt_for("15555555510"), 4000);
    }
}
