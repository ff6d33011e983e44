//! One hand-over as a carrier sees it (API.md §4.6, §8): the engine's leave to write each
//! submission, a signal to stop writing, and where answers go as they come.
//!
//! The engine grants leave only after it has recorded durably that the submission may leave
//! (the recipient is "submitting"): a process that dies after that point leaves the recipient
//! 3400 Unknown, and one that dies before it leaves the recipient in the queue. So a carrier
//! writes nothing it was not cleared for, and answers what it wrote as soon as it knows; a
//! submission it never answers is 3400 Unknown if it was cleared and back in the queue,
//! untouched, if it was not.

use tokio::sync::{mpsc, oneshot, watch};

use crate::{Carrier, Submission, SubmitOutcome};

/// A carrier's side of one hand-over.
pub struct Handover {
    clears: mpsc::UnboundedSender<ClearRequest>,
    answers: mpsc::UnboundedSender<SubmitOutcome>,
    stop: watch::Receiver<bool>,
}

/// The engine's side of one hand-over.
pub struct HandoverControl {
    /// Requests for leave to write, answered with [`ClearRequest::grant`].
    pub clears: mpsc::UnboundedReceiver<ClearRequest>,
    /// The carrier's answers, in the order they came.
    pub answers: mpsc::UnboundedReceiver<SubmitOutcome>,
    stop: watch::Sender<bool>,
}

/// A carrier asks to write these submissions.
pub struct ClearRequest {
    pub ids: Vec<i64>,
    reply: oneshot::Sender<Vec<i64>>,
}

impl ClearRequest {
    /// Answers the request: the ids (among those asked for) that may be written.
    pub fn grant(self, ids: Vec<i64>) {
        let _ = self.reply.send(ids);
    }
}

impl Handover {
    /// A new hand-over and its control.
    pub fn new() -> (Handover, HandoverControl) {
        let (clear_tx, clear_rx) = mpsc::unbounded_channel();
        let (answer_tx, answer_rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = watch::channel(false);
        (
            Handover {
                clears: clear_tx,
                answers: answer_tx,
                stop: stop_rx,
            },
            HandoverControl {
                clears: clear_rx,
                answers: answer_rx,
                stop: stop_tx,
            },
        )
    }

    /// Asks leave to write `ids`; returns those that may be written now (none once the
    /// hand-over is stopping, or when the engine could not record them).
    pub async fn clear(&self, ids: &[i64]) -> Vec<i64> {
        if ids.is_empty() || self.is_stopping() {
            return Vec::new();
        }
        let (reply, granted) = oneshot::channel();
        let asked = ClearRequest {
            ids: ids.to_vec(),
            reply,
        };
        if self.clears.send(asked).is_err() {
            return Vec::new();
        }
        granted.await.unwrap_or_default()
    }

    /// Asks leave to write one submission.
    pub async fn clear_one(&self, id: i64) -> bool {
        !self.clear(&[id]).await.is_empty()
    }

    /// True once the carrier must not start writing anything more.
    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once the carrier must not start writing anything more.
    pub async fn stopping(&self) {
        let mut stop = self.stop.clone();
        crate::until_true(&mut stop).await;
    }

    /// Reports the carrier's answer for one submission.
    pub fn answer(&self, outcome: SubmitOutcome) {
        let _ = self.answers.send(outcome);
    }
}

impl HandoverControl {
    /// Tells the carrier to start writing nothing more (shutdown, or a lease that cannot be
    /// renewed). What it already wrote is still answered.
    pub fn stop_writing(&self) {
        self.stop.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }
}

/// Hands `batch` to `carrier` with leave to write everything, and collects its answers (for
/// carrier tests and benchmarks that run without the engine).
pub async fn submit_all(carrier: &dyn Carrier, batch: Vec<Submission>) -> Vec<SubmitOutcome> {
    let (handover, mut control) = Handover::new();
    let mut answers = Vec::with_capacity(batch.len());
    {
        let submit = carrier.submit(batch, &handover);
        tokio::pin!(submit);
        loop {
            tokio::select! {
                _ = &mut submit => break,
                Some(asked) = control.clears.recv() => {
                    let ids = asked.ids.clone();
                    asked.grant(ids);
                }
                Some(answer) = control.answers.recv() => answers.push(answer),
            }
        }
    }
    while let Ok(answer) = control.answers.try_recv() {
        answers.push(answer);
    }
    answers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stopped_hand_over_clears_nothing() {
        let (handover, control) = Handover::new();
        control.stop_writing();
        assert!(handover.is_stopping());
        assert!(handover.clear(&[1, 2]).await.is_empty());
        handover.stopping().await;
    }

    #[tokio::test]
    async fn leave_is_what_the_engine_grants() {
        let (handover, mut control) = Handover::new();
        let engine = tokio::spawn(async move {
            let asked = control.clears.recv().await.expect("a request");
            assert_eq!(asked.ids, vec![1, 2, 3]);
            asked.grant(vec![2]);
            control
        });
        assert_eq!(handover.clear(&[1, 2, 3]).await, vec![2]);
        let control = engine.await.expect("engine side");
        drop(control);
        assert!(handover.clear(&[4]).await.is_empty(), "no engine: no leave");
    }
}
