//! The metrics listener (issue acceptance: "a test scrapes `/metrics` during a send and asserts
//! the counters move as the send progresses"). A real server on port 0 with its metrics listener
//! on port 0; the engine is driven step by step so each stage of a send can be scraped:
//! accepted (HTTP counters, a New send), expanded and partly dispatched (queue depth, carrier
//! and status counters, expansion and batch histograms), finished, and a send paused by its
//! blackout window (deferred recipients). The recorder is per process, so every counter is
//! compared with the scrape before; the database gauges are absolute (a fresh database).

mod common;
mod smsc_process;

use std::collections::BTreeMap;

use common::{
    assert_accepted, fixture, import_contacts, run_engine, smpp_carrier, smpp_send_setup,
    spawn_app_with, step_engine, TestApp, NOW_MS,
};
use reqwest::{Method, StatusCode};
use serde_json::json;
use smsc_process::SmscProcess;

/// The recorder is one per process: the tests of this file take turns, so the counters one
/// test compares move only by what it did.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One scrape: every sample by its name and sorted labels.
struct Scrape(BTreeMap<(String, Vec<(String, String)>), f64>);

/// Shown on failure without the histogram buckets.
impl std::fmt::Debug for Scrape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for ((name, labels), value) in &self.0 {
            if !name.ends_with("_bucket") {
                writeln!(f, "{name}{labels:?} {value}")?;
            }
        }
        Ok(())
    }
}

impl Scrape {
    /// The sample `name{labels}`, 0 when absent (a counter not yet touched).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut key: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        key.sort();
        self.0.get(&(name.to_string(), key)).copied().unwrap_or(0.0)
    }

    /// How much `name{labels}` grew since the scrape `before`.
    fn since(&self, before: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels) - before.get(name, labels)
    }

    /// Whether any sample of `name` exists.
    fn has(&self, name: &str) -> bool {
        self.0.keys().any(|(n, _)| n == name)
    }
}

/// Parses the text exposition format (`name{k="v",...} value`), failing on any line that is
/// not a comment or a well-formed sample.
fn parse(text: &str) -> Scrape {
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), Vec::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line:?}"));
                (name.to_string(), parse_labels(body, line))
            }
        };
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line:?}"
        );
        let mut labels = labels;
        labels.sort();
        samples.insert((name, labels), value);
    }
    Scrape(samples)
}

/// `k="v",k2="v2"` with `\"`, `\\` and `\n` escapes in values.
fn parse_labels(body: &str, line: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut chars = body.chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'), "label without quotes: {line:?}");
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => panic!("dangling escape: {line:?}"),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => panic!("unterminated label value: {line:?}"),
            }
        }
        labels.push((key.trim_start_matches(',').to_string(), value));
        if chars.peek() == Some(&',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
    }
    labels
}

async fn scrape(app: &TestApp) -> Scrape {
    let url = app.metrics_url.as_deref().expect("metrics listener");
    let resp = app.http.get(url).send().await.expect("scrape");
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/plain"),
        "content type {content_type:?}"
    );
    parse(&resp.text().await.expect("body"))
}

const MINUTE: i64 = 60 * 1000;
const SEND_ROUTE: &str = "/sms/v1/messageList/{id}/send";
const CARRIER: (&str, &str) = ("carrier", "simulator");

fn sends(s: &Scrape, state: &str) -> f64 {
    s.get("tidings_sends", &[("state", state)])
}

fn queue(s: &Scrape, state: &str) -> f64 {
    s.get("tidings_queue_recipients", &[("state", state)])
}

fn status(s: &Scrape, code: &str) -> f64 {
    s.get("tidings_recipient_status_total", &[("status_code", code)])
}

#[tokio::test]
async fn the_counters_move_as_a_send_progresses() {
    let _turn = SERIAL.lock().await;
    // Batches of two, so five recipients take three dispatch batches.
    let app = spawn_app_with(|f| f.engine.claim_batch = Some(2)).await;
    let fx = fixture(&app, "metrics").await;
    // The last one the simulator refuses (a number ending in 0001): 2500.
    let numbers = [
        "15555550101",
        "15555550102",
        "15555550103",
        "15555550104",
        "15555560001",
    ];
    let contacts: Vec<_> = numbers
        .iter()
        .map(|n| json!({"mobileNumber": n, "attributes": {"FirstName": "Pat"}}))
        .collect();
    import_contacts(&app, &fx.account, &fx.list_a, json!(contacts), true).await;

    let before = scrape(&app).await;
    assert_eq!(before.get("tidings_database_up", &[]), 1.0);
    for state in ["New", "Queuing", "Started", "Finished", "Error", "Canceled"] {
        assert_eq!(sends(&before, state), 0.0, "{state}: every state is listed");
        assert!(
            before.0.contains_key(&(
                "tidings_sends".to_string(),
                vec![("state".to_string(), state.to_string())]
            )),
            "tidings_sends{{state={state:?}}} is listed even at zero"
        );
    }

    // Accepted: one 202 and one 400 on the send route, a New send, nothing queued yet.
    let token = assert_accepted(&app.send_list(&fx.token, &fx.message, &json!({})).await);
    let refused = app
        .send_list(&fx.token, &fx.message, &json!({"SendTime": "not a time"}))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let missing = app
        .request(Method::GET, "/no/such/route", None, None, &[])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let accepted = scrape(&app).await;
    assert_eq!(
        accepted.since(
            &before,
            "tidings_http_requests_total",
            &[("route", SEND_ROUTE), ("method", "POST"), ("status", "202")]
        ),
        1.0
    );
    assert_eq!(
        accepted.since(
            &before,
            "tidings_http_requests_total",
            &[("route", SEND_ROUTE), ("method", "POST"), ("status", "400")]
        ),
        1.0
    );
    assert_eq!(
        accepted.since(
            &before,
            "tidings_http_requests_total",
            &[("route", "unmatched"), ("method", "GET"), ("status", "404")]
        ),
        1.0,
        "an unknown path is counted under one label, whatever the path"
    );
    let timed = |s: &Scrape| {
        s.get(
            "tidings_http_request_duration_seconds_count",
            &[("route", SEND_ROUTE), ("method", "POST")],
        )
    };
    assert_eq!(timed(&accepted) - timed(&before), 2.0);
    assert_eq!(sends(&accepted, "New"), 1.0);
    assert_eq!(queue(&accepted, "ready"), 0.0);

    // One engine round: the audience is expanded and the first batch of two handed over.
    assert!(step_engine(&app).await);
    let first = scrape(&app).await;
    assert_eq!(sends(&first, "New"), 0.0);
    assert_eq!(sends(&first, "Started"), 1.0);
    assert_eq!(
        queue(&first, "ready"),
        3.0,
        "five recipients, two handed over"
    );
    assert_eq!(
        queue(&first, "leased"),
        0.0,
        "the batch's answers are recorded"
    );
    assert_eq!(
        first.since(&accepted, "tidings_expansion_duration_seconds_count", &[]),
        1.0
    );
    assert_eq!(
        first.since(&accepted, "tidings_expanded_recipients_total", &[]),
        5.0
    );
    assert_eq!(
        first.since(
            &accepted,
            "tidings_dispatch_batch_duration_seconds_count",
            &[]
        ),
        1.0
    );
    assert_eq!(
        first.since(&accepted, "tidings_carrier_submits_total", &[CARRIER]),
        2.0
    );
    assert_eq!(
        first.since(
            &accepted,
            "tidings_carrier_batch_duration_seconds_count",
            &[CARRIER]
        ),
        1.0
    );
    assert_eq!(status(&first, "2000") - status(&accepted, "2000"), 2.0);
    assert_eq!(first.get("tidings_carrier_in_flight", &[CARRIER]), 0.0);

    // To the end: three batches in all, four recipients sent and (by the simulator's receipts)
    // delivered, one refused, nothing left in the queue.
    run_engine(&app).await;
    let done = scrape(&app).await;
    assert_eq!(sends(&done, "Started"), 0.0);
    assert_eq!(sends(&done, "Finished"), 1.0);
    assert_eq!(
        (
            queue(&done, "ready"),
            queue(&done, "deferred"),
            queue(&done, "leased")
        ),
        (0.0, 0.0, 0.0)
    );
    assert_eq!(
        done.since(&accepted, "tidings_carrier_submits_total", &[CARRIER]),
        5.0
    );
    assert_eq!(
        done.since(
            &accepted,
            "tidings_dispatch_batch_duration_seconds_count",
            &[]
        ),
        3.0
    );
    assert_eq!(status(&done, "2000") - status(&accepted, "2000"), 4.0);
    assert_eq!(status(&done, "2500") - status(&accepted, "2500"), 1.0);
    assert_eq!(status(&done, "4000") - status(&accepted, "4000"), 4.0);
    assert_eq!(
        done.since(
            &accepted,
            "tidings_carrier_submit_failures_total",
            &[CARRIER, ("status_code", "2500")]
        ),
        1.0,
        "the refused number"
    );
    let deliveries = app.deliveries(&fx.token, &fx.message, &token).await;
    assert_eq!(deliveries.status, StatusCode::OK);
    assert_eq!(
        deliveries.body["count"], 5,
        "the send the metrics followed: {}",
        deliveries.body
    );

    // A send whose blackout window (10:01–11:00 at -06:00) opens a minute after it starts at
    // 10:00 local: the first batch goes, the rest waits as deferred until 11:00 (17:00Z).
    let paused = assert_accepted(
        &app.send_list(
            &fx.token,
            &fx.message,
            &json!({"blackoutWindow": {"UtcOffset": "-0600", "WindowStart": "10:01",
                                       "WindowEnd": "11:00"}}),
        )
        .await,
    );
    assert!(step_engine(&app).await);
    app.clock.set(NOW_MS + 2 * MINUTE);
    run_engine(&app).await;
    let waiting = scrape(&app).await;
    assert_eq!(sends(&waiting, "Started"), 1.0);
    assert_eq!(queue(&waiting, "deferred"), 3.0, "waiting out the window");
    assert_eq!(queue(&waiting, "ready"), 0.0);
    assert_eq!(
        waiting.since(&done, "tidings_carrier_submits_total", &[CARRIER]),
        2.0
    );
    app.clock.set(NOW_MS + 60 * MINUTE);
    run_engine(&app).await;
    let after = scrape(&app).await;
    assert_eq!(sends(&after, "Finished"), 2.0, "{paused} finished");
    assert_eq!(queue(&after, "deferred"), 0.0);
    assert_eq!(
        after.since(&waiting, "tidings_carrier_submits_total", &[CARRIER]),
        3.0
    );
    assert!(after.has("tidings_http_request_duration_seconds_bucket"));
}

/// Scrapes until `done` holds, driving the engine between scrapes; fails at the deadline.
async fn scrape_until(app: &TestApp, what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        run_engine(app).await;
        let s = scrape(app).await;
        if done(&s) {
            return s;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {s:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smpp_carrier_reports_binds_window_and_round_trips() {
    let _turn = SERIAL.lock().await;
    let smsc = SmscProcess::start(&["--receipt-delay-ms", "10"]);
    let app = spawn_app_with(|f| f.carriers.push(smpp_carrier("metered", smsc.smpp_port))).await;
    let fx = fixture(&app, "smppmetrics").await;
    let numbers: Vec<String> = (0..20).map(|i| format!("155555502{i:02}")).collect();
    let message = smpp_send_setup(&app, &fx.account, "metered", &numbers).await;
    let carrier = ("carrier", "metered");
    let bound = scrape_until(&app, "the bind comes up", |s| {
        s.get("tidings_smpp_binds_up", &[carrier]) == 1.0
    })
    .await;
    assert_eq!(bound.get("tidings_smpp_window_in_use", &[carrier]), 0.0);

    let token = assert_accepted(&app.send_list(&fx.token, &message, &json!({})).await);
    let done = scrape_until(&app, "every text is sent and delivered", |s| {
        s.get("tidings_sends", &[("state", "Finished")]) == 1.0
            && status(s, "4000") - status(&bound, "4000") == 20.0
    })
    .await;
    let delta =
        |name: &str, labels: &[(&str, &str)]| done.get(name, labels) - bound.get(name, labels);
    assert_eq!(
        delta("tidings_carrier_submits_total", &[carrier]),
        20.0,
        "{token}"
    );
    assert_eq!(
        delta(
            "tidings_carrier_response_duration_seconds_count",
            &[carrier]
        ),
        20.0,
        "one submit_sm round trip per single-part text"
    );
    assert!(delta("tidings_carrier_response_duration_seconds_sum", &[carrier]) > 0.0);
    assert_eq!(status(&done, "2000") - status(&bound, "2000"), 20.0);
    assert_eq!(done.get("tidings_smpp_window_in_use", &[carrier]), 0.0);
    assert_eq!(done.get("tidings_carrier_in_flight", &[carrier]), 0.0);
    assert_eq!(done.get("tidings_smpp_binds_up", &[carrier]), 1.0);

    // The SMSC goes away: the bind is reported down.
    drop(smsc);
    scrape_until(&app, "the bind is reported down", |s| {
        s.get("tidings_smpp_binds_up", &[carrier]) == 0.0
    })
    .await;
}

#[tokio::test]
async fn the_metrics_listener_can_be_turned_off() {
    let app = spawn_app_with(|f| f.metrics_listen = Some("off".into())).await;
    assert!(app.metrics_url.is_none());
    // The API still answers.
    let health = app.request(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(health.status, StatusCode::OK);
}

#[test]
fn the_parser_rejects_nothing_valid_and_reads_labels_with_escapes() {
    let s = parse(
        "# HELP x y\n# TYPE x counter\nx_total{a=\"1\",route=\"/p/{}/q\"} 3\n\
         y{v=\"quote \\\" and \\\\ slash\"} 1.5\nz 7\nh_bucket{le=\"+Inf\"} 2\n",
    );
    assert_eq!(s.get("x_total", &[("route", "/p/{}/q"), ("a", "1")]), 3.0);
    assert_eq!(s.get("y", &[("v", "quote \" and \\ slash")]), 1.5);
    assert_eq!(s.get("z", &[]), 7.0);
    assert_eq!(s.get("h_bucket", &[("le", "+Inf")]), 2.0);
    assert_eq!(s.get("absent", &[]), 0.0);
}
