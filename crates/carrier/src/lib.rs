//! Carriers: the `Carrier` trait the engine hands recipients to, and its implementations
//! (API.md §8): the `simulator`, the SMPP ESME (`smpp`), HTTP providers (`http`), and the
//! local SMSC that `tidings smsc` runs (`smsc`).
//! A carrier knows numbers, texts and its wire; it must not know lists, sends or subscriptions.

use async_trait::async_trait;

pub mod handover;
pub mod http;
pub mod simulator;
pub mod smpp;
pub mod smsc;
pub mod telemetry;

pub use handover::{submit_all, ClearRequest, Handover, HandoverControl};
pub use http::TwilioCarrier;
pub use simulator::Simulator;
pub use smpp::SmppCarrier;

/// One text to hand over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The engine's reference for the answer.
    pub id: i64,
    /// The code it is sent from (short or long code).
    pub from: String,
    /// Digits-only mobile number.
    pub to: String,
    pub text: String,
    /// Media for MMS (only given to carriers that support media).
    pub content_url: Option<String>,
    /// Segments and encoding of `text` (API.md §4 "Text").
    pub segments: i32,
    pub encoding: String,
    /// The send's token, for the carrier's records.
    pub token_id: Option<String>,
}

/// The carrier's answer for one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitOutcome {
    pub id: i64,
    /// 2000 accepted; 2500 refused; 2600 not taken, to be queued again; 3400 when the answer
    /// was lost.
    pub status_code: i32,
    pub carrier_message_id: Option<String>,
    pub note: Option<String>,
}

/// Something a carrier tells the engine later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CarrierEvent {
    Receipt {
        carrier: String,
        message_id: String,
        status_code: i32,
    },
    Inbound {
        carrier: String,
        from: String,
        to: String,
        text: String,
    },
}

/// Where carriers send their events: the engine's inbound path. Bounded: a carrier that gets
/// ahead of the engine is told to try again later (SMPP `ESME_RX_T_APPN`, HTTP 503) rather than
/// growing memory without limit.
pub type EventSink = tokio::sync::mpsc::Sender<CarrierEvent>;
/// The engine's end of the event queue.
pub type EventSource = tokio::sync::mpsc::Receiver<CarrierEvent>;

/// Events waiting for the engine at most.
pub const EVENT_QUEUE: usize = 100_000;

/// A new event queue of `EVENT_QUEUE` events.
pub fn event_channel() -> (EventSink, EventSource) {
    tokio::sync::mpsc::channel(EVENT_QUEUE)
}

#[async_trait]
pub trait Carrier: Send + Sync + 'static {
    fn name(&self) -> &str;
    /// Whether it can deliver `content_url` as MMS; otherwise the engine appends the URL.
    fn supports_media(&self) -> bool;
    /// Segments per second for the whole carrier; 0 = unlimited.
    fn rate_limit(&self) -> u32 {
        0
    }
    /// Hands a batch over (API.md §4.6, §8): writes a submission only once `handover` cleared
    /// it, starts writing nothing once the hand-over is stopping, and reports each answer
    /// through `handover.answer` as soon as it comes. A cleared submission left unanswered is
    /// 3400 Unknown; one never cleared goes back to the queue untouched.
    async fn submit(&self, batch: Vec<Submission>, handover: &Handover);
    /// False while the carrier takes nothing (it pauses after a fault, API.md §8): the engine
    /// claims nothing for it meanwhile.
    fn available(&self) -> bool {
        true
    }
    /// Graceful stop: returns once the events this carrier still owes for what it accepted
    /// (receipts it issues itself, like the simulator's delayed ones) are in the sink.
    async fn flush(&self) {}
}

/// Resolves once `flag` is true (or its sender is gone); holds no borrow across awaits.
pub(crate) async fn until_true(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|v| *v).await;
}

/// Why a provider's status callback was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackError {
    /// The signature is missing or does not verify: nothing is changed (403).
    BadSignature,
    /// Signed, but without what a status callback carries (400).
    Malformed(String),
    /// The engine is not taking events (stopping) (503).
    Unavailable,
}

/// A carrier that receives status callbacks over HTTP (`POST /carriers/{name}/status`).
pub trait StatusCallbacks: Send + Sync + 'static {
    /// Verifies a callback (`public_url` is the URL it was posted to, as the server's public
    /// base URL names it) and hands its receipt to the engine. `Ok(false)` when the status
    /// changes nothing (a state before sending).
    fn status_callback(
        &self,
        public_url: &str,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<bool, CallbackError>;
}
