//! What the engine reports to the process's metrics recorder (docs/metrics.md). Names live here
//! so the document and the code list the same ones. Without an installed recorder (tests,
//! benchmarks) every call is a no-op.

/// Histogram: from a send's claim by this node's scheduler to its audience being complete.
pub const EXPANSION_SECONDS: &str = "tidings_expansion_duration_seconds";
/// Counter: recipients created by expansions on this node.
pub const EXPANDED_RECIPIENTS: &str = "tidings_expanded_recipients_total";
/// Histogram: one dispatch batch, from claiming its recipients to recording the carrier's
/// answers.
pub const DISPATCH_BATCH_SECONDS: &str = "tidings_dispatch_batch_duration_seconds";
/// Counter by `status_code`: statuses this node recorded for recipients (carrier answers,
/// receipts, crash recovery's 3400).
pub const RECIPIENT_STATUS: &str = "tidings_recipient_status_total";
/// Counter by `carrier`: texts handed to the carrier.
pub const CARRIER_SUBMITS: &str = "tidings_carrier_submits_total";
/// Counter by `carrier` and `status_code`: texts the carrier did not accept (2500 refused,
/// 3400 unknown, 2600 queued again).
pub const CARRIER_FAILURES: &str = "tidings_carrier_submit_failures_total";
/// Gauge by `carrier`: texts handed over whose answer has not come back yet.
pub const CARRIER_IN_FLIGHT: &str = "tidings_carrier_in_flight";
/// Histogram by `carrier`: one batch's hand-over, from `submit` to its last answer.
pub const CARRIER_BATCH_SECONDS: &str = "tidings_carrier_batch_duration_seconds";
/// Counter by `carrier`: inbound texts received.
pub const INBOUND_TEXTS: &str = "tidings_inbound_texts_total";
/// Gauge: receipts waiting for their submission to be recorded.
pub const HELD_RECEIPTS: &str = "tidings_held_receipts";

/// The label value of a status code.
pub fn code_label(code: i32) -> metrics::SharedString {
    metrics::SharedString::from(code.to_string())
}

pub use carrier::telemetry::GaugeShare;

/// How many times each code occurs, in order of first occurrence (a batch holds few codes).
pub fn tally(codes: impl IntoIterator<Item = i32>) -> Vec<(i32, u64)> {
    let mut tally: Vec<(i32, u64)> = Vec::new();
    for code in codes {
        match tally.iter_mut().find(|(c, _)| *c == code) {
            Some(slot) => slot.1 += 1,
            None => tally.push((code, 1)),
        }
    }
    tally
}

/// Counts `codes` by value and adds them to the recipient status counter.
pub fn count_statuses(codes: impl IntoIterator<Item = i32>) {
    for (code, n) in tally(codes) {
        metrics::counter!(RECIPIENT_STATUS, "status_code" => code_label(code)).increment(n);
    }
}

/// A carrier's metric handles, made once when the engine is built (after the recorder).
pub(crate) struct CarrierMetrics {
    name: metrics::SharedString,
    submits: metrics::Counter,
    in_flight: metrics::Gauge,
    batch_seconds: metrics::Histogram,
}

impl CarrierMetrics {
    pub(crate) fn new(carrier: &str) -> CarrierMetrics {
        let name = metrics::SharedString::from(carrier.to_string());
        CarrierMetrics {
            submits: metrics::counter!(CARRIER_SUBMITS, "carrier" => name.clone()),
            in_flight: metrics::gauge!(CARRIER_IN_FLIGHT, "carrier" => name.clone()),
            batch_seconds: metrics::histogram!(CARRIER_BATCH_SECONDS, "carrier" => name.clone()),
            name,
        }
    }

    /// `texts` handed over: counted, and in flight until the share is dropped.
    pub(crate) fn handed(&self, texts: usize) -> GaugeShare {
        self.submits.increment(texts as u64);
        GaugeShare::add(self.in_flight.clone(), texts as f64)
    }

    /// The batch's answers: its duration, and the texts not accepted by status code (texts
    /// that never left, 1000, are not counted).
    pub(crate) fn answered(&self, took: std::time::Duration, codes: &[i32]) {
        self.batch_seconds.record(took);
        let refused = codes.iter().copied().filter(|code| {
            *code != store::codes::DELIVERED_TO_AGGREGATOR && *code != store::codes::QUEUED
        });
        for (code, n) in tally(refused) {
            metrics::counter!(CARRIER_FAILURES, "carrier" => self.name.clone(),
                "status_code" => code_label(code))
            .increment(n);
        }
    }
}
