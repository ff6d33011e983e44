//! What carriers report to the process's metrics recorder (docs/metrics.md); no-ops without one.

/// Histogram by `carrier`: one request's round trip on the carrier's wire (an SMPP
/// `submit_sm` to its `submit_sm_resp`; an HTTP provider's request to its response).
pub const RESPONSE_SECONDS: &str = "tidings_carrier_response_duration_seconds";
/// Gauge by `carrier`: SMPP `submit_sm`s written and not yet answered, over every bind (at most
/// `binds × window`).
pub const SMPP_WINDOW_IN_USE: &str = "tidings_smpp_window_in_use";
/// Gauge by `carrier`: SMPP binds up and able to submit.
pub const SMPP_BINDS_UP: &str = "tidings_smpp_binds_up";

/// The response-time histogram of a carrier. A handle made before the recorder is installed
/// stays a no-op, so carriers are built after it.
pub(crate) fn response_histogram(carrier: &str) -> metrics::Histogram {
    metrics::histogram!(RESPONSE_SECONDS, "carrier" => carrier.to_string())
}

/// An SMPP carrier's handles, made once.
pub(crate) struct SmppMetrics {
    pub response: metrics::Histogram,
    pub window: metrics::Gauge,
    pub binds: metrics::Gauge,
}

impl SmppMetrics {
    pub fn new(carrier: &str) -> SmppMetrics {
        SmppMetrics {
            response: response_histogram(carrier),
            window: metrics::gauge!(SMPP_WINDOW_IN_USE, "carrier" => carrier.to_string()),
            binds: metrics::gauge!(SMPP_BINDS_UP, "carrier" => carrier.to_string()),
        }
    }
}

/// A share of a gauge held while it lives: added when made, taken back when dropped, so a
/// future dropped half-way (a stopping process) does not leave the gauge off.
pub struct GaugeShare {
    gauge: metrics::Gauge,
    amount: f64,
}

impl GaugeShare {
    pub fn add(gauge: metrics::Gauge, amount: f64) -> GaugeShare {
        gauge.increment(amount);
        GaugeShare { gauge, amount }
    }
}

impl Drop for GaugeShare {
    fn drop(&mut self) {
        self.gauge.decrement(self.amount);
    }
}
