//! The Prometheus metrics listener (API.md §7, docs/metrics.md): `GET /metrics` on its own
//! address (`metrics_listen`, default 127.0.0.1:9090; `off` disables it), apart from the API
//! so it can stay private. It serves what this process recorded (HTTP requests, the engine's
//! and carriers' counters and histograms) and, read from the database at each scrape, the
//! gauges every node shares: sends by state and the recipient queue.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::anyhow;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use store::Store;

/// Histogram buckets, in seconds: dispatch batches and carrier round trips.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];
/// ... HTTP requests.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// ... audience expansions.
const EXPANSION_BUCKETS: &[f64] = &[
    0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];
/// A scrape waits this long for the database gauges, then reports the database down.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the recorder's histograms are compacted.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the process's recorder once (every later call shares it: several servers in one
/// process, as in tests, record into one registry) and returns its handle.
pub fn recorder() -> anyhow::Result<PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(api::telemetry::REQUEST_SECONDS.into()),
                        HTTP_BUCKETS,
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(engine::telemetry::EXPANSION_SECONDS.into()),
                        EXPANSION_BUCKETS,
                    )
                })
                .map_err(|e| e.to_string())?
                .install_recorder()
                .map_err(|e| e.to_string())?;
            describe();
            Ok(handle)
        })
        .clone()
        .map_err(|e| anyhow!("cannot install the metrics recorder: {e}"))
}

/// The HELP text of every metric this process records.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        api::telemetry::REQUESTS,
        "HTTP requests answered, by route pattern, method and status."
    );
    describe_histogram!(
        api::telemetry::REQUEST_SECONDS,
        Unit::Seconds,
        "Time from a request to its response head, by route pattern and method."
    );
    describe_histogram!(
        engine::telemetry::EXPANSION_SECONDS,
        Unit::Seconds,
        "Audience expansion of one send by this node, from its claim to its last recipient."
    );
    describe_counter!(
        engine::telemetry::EXPANDED_RECIPIENTS,
        "Recipients created by this node's audience expansions."
    );
    describe_histogram!(
        engine::telemetry::DISPATCH_BATCH_SECONDS,
        Unit::Seconds,
        "One dispatch batch, from claiming its recipients to recording the carrier's answers."
    );
    describe_counter!(
        engine::telemetry::RECIPIENT_STATUS,
        "Status codes this node recorded for recipients: carrier answers, receipts, recovery."
    );
    describe_counter!(
        engine::telemetry::CARRIER_SUBMITS,
        "Texts handed to each carrier."
    );
    describe_counter!(
        engine::telemetry::CARRIER_FAILURES,
        "Texts a carrier did not accept, by status code (2500 refused, 3400 unknown, 2600 queued again)."
    );
    describe_gauge!(
        engine::telemetry::CARRIER_IN_FLIGHT,
        "Texts handed to each carrier whose answer has not come back yet."
    );
    describe_histogram!(
        engine::telemetry::CARRIER_BATCH_SECONDS,
        Unit::Seconds,
        "One batch's hand-over to a carrier, from submit to its last answer."
    );
    describe_counter!(
        engine::telemetry::INBOUND_TEXTS,
        "Inbound texts received from each carrier."
    );
    describe_gauge!(
        engine::telemetry::HELD_RECEIPTS,
        "Receipts waiting for their submission to be recorded."
    );
    describe_histogram!(
        carrier::telemetry::RESPONSE_SECONDS,
        Unit::Seconds,
        "One request's round trip on a carrier's wire (SMPP submit_sm, HTTP provider request)."
    );
    describe_gauge!(
        carrier::telemetry::SMPP_WINDOW_IN_USE,
        "SMPP submit_sm written and not yet answered, over every bind."
    );
    describe_gauge!(carrier::telemetry::SMPP_BINDS_UP, "SMPP binds up.");
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Arc<dyn Store>,
    clock: Arc<dyn api::Clock>,
}

/// The listener's routes: `GET /metrics`.
pub fn router(
    handle: PrometheusHandle,
    store: Arc<dyn Store>,
    clock: Arc<dyn api::Clock>,
) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape {
            handle,
            store,
            clock,
        })
}

/// Compacts the recorder's histograms until `stop` turns true.
pub async fn upkeep(handle: PrometheusHandle, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(UPKEEP_EVERY) => handle.run_upkeep(),
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}

async fn scrape(State(s): State<Scrape>) -> Response {
    let mut text = s.handle.render();
    let gauges = tokio::time::timeout(DATABASE_TIMEOUT, s.store.queue_gauges(s.clock.now_ms()))
        .await
        .map_err(|_| "timed out".to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    append_database_gauges(&mut text, gauges);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Appends the database's gauges in the text exposition format (or `tidings_database_up 0`).
fn append_database_gauges(text: &mut String, gauges: Result<store::QueueGauges, String>) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let up = match gauges {
        Ok(g) => {
            text.push_str("# HELP tidings_sends Sends by state, over the whole database.\n");
            text.push_str("# TYPE tidings_sends gauge\n");
            for (state, n) in &g.sends_by_state {
                let _ = writeln!(text, "tidings_sends{{state=\"{}\"}} {n}", state.as_str());
            }
            text.push_str(
                "# HELP tidings_queue_recipients Recipients waiting (ready), waiting out a \
                 blackout window (deferred) or being handed over (leased), over the whole \
                 database.\n",
            );
            text.push_str("# TYPE tidings_queue_recipients gauge\n");
            for (state, n) in [
                ("ready", g.ready),
                ("deferred", g.deferred),
                ("leased", g.leased),
            ] {
                let _ = writeln!(text, "tidings_queue_recipients{{state=\"{state}\"}} {n}");
            }
            1
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the database gauges");
            0
        }
    };
    text.push_str("# HELP tidings_database_up Whether this scrape could read the database.\n");
    text.push_str("# TYPE tidings_database_up gauge\n");
    let _ = writeln!(text, "tidings_database_up {up}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_gauges_are_valid_exposition_lines() {
        let mut text = String::new();
        let gauges = store::QueueGauges {
            sends_by_state: store::SendState::ALL.into_iter().map(|s| (s, 2)).collect(),
            ready: 3,
            deferred: 4,
            leased: 5,
        };
        append_database_gauges(&mut text, Ok(gauges));
        assert!(
            text.contains("tidings_sends{state=\"Started\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("tidings_queue_recipients{state=\"deferred\"} 4\n"),
            "{text}"
        );
        assert!(text.ends_with("tidings_database_up 1\n"), "{text}");
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap_or(("", ""));
            assert!(name.starts_with("tidings_"), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
        let mut down = String::from("some_metric 1");
        append_database_gauges(&mut down, Err("unreachable".into()));
        assert!(down.starts_with("some_metric 1\n# HELP"), "{down}");
        assert!(down.ends_with("tidings_database_up 0\n"), "{down}");
        assert!(!down.contains("tidings_sends"), "{down}");
    }
}
