//! The states a send and a recipient of its queue go through, as the store keeps them.

use serde::{Deserialize, Serialize};

/// Which states a send can be in (API.md §4 "Send status values").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SendState {
    New,
    Queuing,
    Started,
    Finished,
    Error,
    Canceled,
}

impl SendState {
    pub fn as_str(self) -> &'static str {
        match self {
            SendState::New => "New",
            SendState::Queuing => "Queuing",
            SendState::Started => "Started",
            SendState::Finished => "Finished",
            SendState::Error => "Error",
            SendState::Canceled => "Canceled",
        }
    }

    /// Parses the exact name (case-insensitive).
    pub fn parse(s: &str) -> Option<SendState> {
        SendState::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// Every state, in the order above.
    pub const ALL: [SendState; 6] = [
        SendState::New,
        SendState::Queuing,
        SendState::Started,
        SendState::Finished,
        SendState::Error,
        SendState::Canceled,
    ];

    /// Finished, Error and Canceled are final.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SendState::Finished | SendState::Error | SendState::Canceled
        )
    }
}

/// Where a recipient is in the delivery queue (API.md §4.6): waiting to be handed over (possibly
/// claimed by a worker under a lease), being written to the carrier, or settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecipientState {
    /// Waiting in the queue (claimed or not).
    Ready,
    /// Being written to the carrier: after a crash it is 3400 Unknown, never resubmitted.
    Submitting,
    /// Settled: with a status code, suppressed or canceled.
    Done,
}

impl RecipientState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientState::Ready => "ready",
            RecipientState::Submitting => "submitting",
            RecipientState::Done => "done",
        }
    }

    /// Every state, in the order above.
    pub const ALL: [RecipientState; 3] = [
        RecipientState::Ready,
        RecipientState::Submitting,
        RecipientState::Done,
    ];

    /// Parses the stored spelling (exactly).
    pub fn parse(s: &str) -> Option<RecipientState> {
        RecipientState::ALL.into_iter().find(|st| st.as_str() == s)
    }
}
