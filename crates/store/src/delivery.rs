//! Rows of the delivery path (API.md §4 "What a send does", §5): the recipients queue, carrier
//! submissions and receipts, the simulator carrier's outbox.

use serde::Serialize;

use crate::{Attributes, Millis, RecipientState, Send};

/// Standard status codes (API.md §5), kept in `domain`.
pub use domain::codes;

/// Why a recipient will never be handed over, besides a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// Not Subscribed on the send's code when handed over (API.md §4.2).
    Suppressed,
    /// The send was canceled before the recipient was handed over.
    Canceled,
}

impl Outcome {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Suppressed => "suppressed",
            Outcome::Canceled => "canceled",
        }
    }

    /// The outcome a stored spelling names (exactly), if any.
    pub fn parse(stored: &str) -> Option<Outcome> {
        [Outcome::Suppressed, Outcome::Canceled]
            .into_iter()
            .find(|o| o.as_str() == stored)
    }
}

/// How far audience expansion got after one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expansion {
    /// More batches to go.
    More,
    /// The audience is complete; the send is Started with this many recipients.
    Done { recipients: i64 },
    /// The send cannot run (message or list deleted); it is now in Error with this reason.
    Failed { reason: String },
    /// The send is no longer this owner's to expand (lease lost, canceled).
    Lost,
}

/// A Started send with recipients waiting, as the dispatcher sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchSend {
    pub send: Send,
    /// The carrier routed for the send's code, fixed at expansion.
    pub carrier: String,
    /// Not before this instant (a blackout window pauses the send until it closes).
    pub next_at: Millis,
}

/// A recipient claimed for hand-over: already recorded as "submitting".
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRecipient {
    /// Opaque queue position (unique within the store).
    pub id: i64,
    pub mobile_number: String,
    /// The contact's attributes, for `%%Name%%`.
    pub attributes: Attributes,
    /// The recipient's own text, sent as it is (contact sends, replies); `None`: the send's
    /// text with the attributes substituted.
    pub text: Option<String>,
}

/// The carrier's answer for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionResult {
    pub id: i64,
    /// 2000 when accepted; 2500 or another failure code when refused; 3400 when unknown.
    pub status_code: i32,
    pub carrier_message_id: Option<String>,
    pub segments: i32,
    pub encoding: String,
    /// A remark shown in tracking (e.g. the SMPP error, or "content URL appended").
    pub note: Option<String>,
}

/// A delivery receipt from a carrier (API.md §5: never lowers a code, except the transient
/// 2600 which the outcome of the retry replaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub carrier: String,
    pub carrier_message_id: String,
    pub status_code: i32,
}

/// Counts of a send's recipients (API.md §5 `counts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SendCounts {
    pub recipients: i64,
    pub queued: i64,
    pub deferred: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub unknown: i64,
    pub suppressed: i64,
    pub canceled: i64,
}

/// One group of a send's recipients as a backend counts them: those with the same state, status
/// code, outcome and expansion mark.
#[derive(Debug, Clone, Copy)]
pub struct RecipientGroup<'a> {
    pub state: RecipientState,
    pub status_code: i32,
    /// The stored outcome, if any (see [`Outcome::parse`]).
    pub outcome: Option<&'a str>,
    pub expansion_suppressed: bool,
    pub n: i64,
}

impl SendCounts {
    /// Sorts one group into API.md §5's buckets: expansion-suppressed rows count only as
    /// suppressed (each is a distinct number); a recipient with an outcome counts only by its
    /// outcome; the rest by standard code — queued 1000 and 2600 (deferred instead while the send
    /// is `paused` and the recipient still waits), sent 2000–3002 (but for the failed 2500, 2501
    /// and the queued 2600 inside that range), delivered 4000, failed 1500, 1501, 2500, 2501,
    /// 4500–4503, unknown 3400. Err with the stored outcome when it names none.
    pub fn add(&mut self, group: RecipientGroup<'_>, paused: bool) -> Result<(), String> {
        if group.expansion_suppressed {
            self.suppressed += group.n;
            return Ok(());
        }
        self.recipients += group.n;
        let bucket = match (group.outcome, group.status_code) {
            (Some(stored), _) => match Outcome::parse(stored) {
                Some(Outcome::Suppressed) => &mut self.suppressed,
                Some(Outcome::Canceled) => &mut self.canceled,
                None => return Err(stored.to_string()),
            },
            (None, 1000 | 2600) if paused && group.state == RecipientState::Ready => {
                &mut self.deferred
            }
            (None, 1000 | 2600) => &mut self.queued,
            (None, 1500 | 1501 | 2500 | 2501 | 4500..=4503) => &mut self.failed,
            (None, 2000..=3002) => &mut self.sent,
            (None, 4000) => &mut self.delivered,
            (None, 3400) => &mut self.unknown,
            (None, _) => return Ok(()),
        };
        *bucket += group.n;
        Ok(())
    }
}

/// What every node's metrics listener reports of the shared database (docs/metrics.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueGauges {
    /// Sends per state, every state listed (zeros included), in `SendState::ALL` order.
    pub sends_by_state: Vec<(crate::SendState, i64)>,
    /// Recipients waiting to be handed over, of sends not paused by a blackout window.
    pub ready: i64,
    /// Recipients waiting while their send is paused by its blackout window.
    pub deferred: i64,
    /// Recipients claimed under a lease: being handed over right now.
    pub leased: i64,
}

impl QueueGauges {
    /// From a backend's counts: `(state name, sends)`, `(paused, waiting recipients)` and the
    /// leased recipients. Every state is listed, zeros included.
    pub fn from_counts(
        states: Vec<(String, i64)>,
        waiting: Vec<(bool, i64)>,
        leased: i64,
    ) -> crate::StoreResult<QueueGauges> {
        let mut sends_by_state: Vec<(crate::SendState, i64)> =
            crate::SendState::ALL.into_iter().map(|s| (s, 0)).collect();
        for (name, n) in states {
            let state = crate::SendState::parse(&name).ok_or_else(|| {
                crate::StoreError::Other(format!("stored send state {name:?} is not valid"))
            })?;
            if let Some(slot) = sends_by_state.iter_mut().find(|(s, _)| *s == state) {
                slot.1 += n;
            }
        }
        let mut gauges = QueueGauges {
            sends_by_state,
            leased,
            ..QueueGauges::default()
        };
        for (paused, n) in waiting {
            if paused {
                gauges.deferred += n;
            } else {
                gauges.ready += n;
            }
        }
        Ok(gauges)
    }
}

/// One tracking entry (API.md §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingRow {
    pub mobile_number: String,
    /// The recipient's own text, when it has one (contact sends, replies).
    pub text: Option<String>,
    pub status_code: i32,
    pub outcome: Option<Outcome>,
    pub segments: Option<i32>,
    pub encoding: Option<String>,
    pub note: Option<String>,
    pub updated_at: Millis,
}

/// What the simulator carrier accepted (API.md §7 `GET /admin/v1/outbox`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxItem {
    pub carrier: String,
    pub from: String,
    pub to: String,
    pub text: String,
    pub content_url: Option<String>,
    pub encoding: String,
    pub segments: i32,
    pub token_id: Option<String>,
    pub accepted_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    pub seq: i64,
    #[serde(flatten)]
    pub item: OutboxItem,
}

/// A text a mobile number sent to one of our codes, through a carrier (or `queueMO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundText {
    pub carrier: String,
    pub from: String,
    /// The destination address: a code routed to `carrier`.
    pub to: String,
    pub text: String,
    pub received_at: Millis,
}

/// An inbound text as recorded, matched to the account and code it was sent to (`None` when
/// no code routed to that carrier has that address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRecord {
    pub seq: i64,
    pub account_id: Option<String>,
    pub code: Option<String>,
    pub text: InboundText,
}
