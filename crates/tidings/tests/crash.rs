//! Crash safety with the real binary (API.md §4 "What a send does" 6, §8 SIGTERM): `tidings
//! serve` is killed with SIGKILL twice in the middle of a 50,000-recipient send and restarted on
//! the same database; the send must finish with no number texted twice and every recipient
//! either in the simulator's outbox or reported 3400 Unknown (at most one claimed batch per
//! kill). Then a SIGTERM in the middle of a send: the process exits 0 within 10 s and a restart
//! finishes the send, again without a duplicate.
//!
//! With PostgreSQL (`TIDINGS_TEST_DATABASE_URL`), three nodes share one database and one of them
//! is killed with SIGKILL in the middle of a 100,000-recipient send.
//!
//! Every wait is a poll with a deadline; the server's log is printed when one expires.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use common::process::{Server, Site};

const ADMIN_TOKEN: &str = "crash-admin-token-0123456789";
const ACCOUNT: &str = "crash";
const MESSAGE: &str = "Blast";
const LIST: &str = "All";
const CODE: &str = "88976";
const KEYWORD: &str = "JOIN";
/// The engine's default claim batch (the config below leaves it alone): a SIGKILL strands at
/// most one batch of the single worker.
const CLAIM_BATCH: usize = 1000;
const POLL: Duration = Duration::from_millis(50);

/// The configuration every run of the server uses: short submit leases so that recovery comes
/// soon after a restart, a quick idle poll, no API rate limit, and a simulator that takes
/// 10,000 segments a second (50,000 one-segment texts take about 5 s).
const CONFIG: &str = r#"
[engine]
submit_lease_ms = 1500
idle_poll_ms = 50

[api]
rate_limit = 0

[[carriers]]
name = "simulator"
type = "simulator"
rate_limit = 10000
"#;

/// `n` distinct mobile numbers. None ends in 0000, 0001 or 0002 (the simulator's magic numbers,
/// API.md §8), so each is accepted and delivered.
fn numbers(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("1555{:07}", 1_000_000 + i * 10 + 3))
        .collect()
}

/// A site running the suite's configuration.
fn site() -> Site {
    Site::new(CONFIG, ADMIN_TOKEN)
}

/// The send's outbox, read incrementally with `after`/`next` across server runs (sequence numbers
/// are never reused, so nothing is skipped).
#[derive(Default)]
struct Outbox {
    after: i64,
    items: Vec<Value>,
}

impl Outbox {
    /// Reads what is new; returns how many items there are in all.
    async fn refresh(&mut self, server: &Server, http: &reqwest::Client) -> usize {
        loop {
            let page = server
                .get(
                    http,
                    &format!("/admin/v1/outbox?after={}&limit=10000", self.after),
                    ADMIN_TOKEN,
                )
                .await;
            let items = page["items"].as_array().expect("items");
            if let Some(last) = items.last() {
                self.after = last["seq"].as_i64().expect("seq");
            }
            self.items.extend(items.iter().cloned());
            if page["next"].is_null() {
                return self.items.len();
            }
        }
    }

    /// Polls until at least `n` items are in (or the deadline passes).
    async fn wait_for(&mut self, server: &mut Server, http: &reqwest::Client, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            server.assert_running();
            if self.refresh(server, http).await >= n {
                return;
            }
            server.check_deadline(deadline, &format!("{n} texts in the outbox"));
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The account, client, code, keyword, list and message, and `numbers` imported subscribed as
/// CSV. Returns an API access token.
async fn provision(server: &Server, http: &reqwest::Client, numbers: &[String]) -> String {
    server
        .admin(
            http,
            "/admin/v1/accounts",
            json!({"id": ACCOUNT, "name": ACCOUNT}),
        )
        .await;
    let base = format!("/admin/v1/accounts/{ACCOUNT}");
    let client = server
        .admin(http, &format!("{base}/clients"), json!({}))
        .await;
    server
        .admin(
            http,
            &format!("{base}/codes"),
            json!({"code": CODE, "countryCode": "US", "type": "short", "carrier": "simulator"}),
        )
        .await;
    server
        .admin(
            http,
            &format!("{base}/keywords"),
            json!({"code": CODE, "keyword": KEYWORD}),
        )
        .await;
    server
        .admin(
            http,
            &format!("{base}/lists"),
            json!({"id": LIST, "name": LIST}),
        )
        .await;
    server
        .admin(
            http,
            &format!("{base}/messages"),
            json!({"id": MESSAGE, "name": MESSAGE, "code": CODE, "status": "Active",
                   "text": "Crash test", "targetListIds": [LIST]}),
        )
        .await;

    let mut csv = String::with_capacity(numbers.len() * 13 + 16);
    csv.push_str("mobileNumber\n");
    for n in numbers {
        csv.push_str(n);
        csv.push('\n');
    }
    let r = http
        .post(server.url(&format!(
            "{base}/lists/{LIST}/contacts?subscribeCode={CODE}&subscribeKeyword={KEYWORD}"
        )))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import");
    let status = r.status();
    let report: Value = r.json().await.expect("import JSON");
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["added"], numbers.len(), "{report}");
    assert_eq!(report["invalid"], 0, "{report}");

    let r = http
        .post(server.url("/v2/token"))
        .json(
            &json!({"grant_type": "client_credentials", "client_id": client["clientId"],
                      "client_secret": client["clientSecret"]}),
        )
        .send()
        .await
        .expect("token");
    let body: Value = r.json().await.expect("token JSON");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token: {body}"))
        .to_string()
}

/// Sends the message to its list; returns the send's token.
async fn send(server: &Server, http: &reqwest::Client, access: &str) -> String {
    let r = http
        .post(server.url(&format!("/sms/v1/messageList/{MESSAGE}/send")))
        .bearer_auth(access)
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    let status = r.status();
    let body: Value = r.json().await.expect("send JSON");
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["tokenId"].as_str().expect("tokenId").to_string()
}

fn deliveries_path(token: &str) -> String {
    format!("/sms/v1/messageList/{MESSAGE}/deliveries/{token}")
}

/// Polls the send's status (120 s at most) until it is Finished; returns the first page.
async fn wait_finished(
    server: &mut Server,
    http: &reqwest::Client,
    access: &str,
    token: &str,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        server.assert_running();
        let body = server
            .get(
                http,
                &format!("{}?$pageSize=1", deliveries_path(token)),
                access,
            )
            .await;
        match body["status"].as_str() {
            Some("Finished") => return body,
            Some("New" | "Queuing" | "Started") => {}
            _ => panic!("unexpected status: {body}"),
        }
        server.check_deadline(deadline, &format!("the send to finish (last: {body})"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls (30 s at most) until `n` recipients of the send are delivered: every receipt applied.
async fn wait_delivered(
    server: &mut Server,
    http: &reqwest::Client,
    access: &str,
    token: &str,
    n: usize,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        server.assert_running();
        let body = server
            .get(
                http,
                &format!("{}?$pageSize=1", deliveries_path(token)),
                access,
            )
            .await;
        if body["counts"]["delivered"] == n {
            return;
        }
        server.check_deadline(deadline, &format!("{n} receipts (last: {body})"));
        tokio::time::sleep(POLL).await;
    }
}

/// Every tracking entry of the send, paged with `$pageSize=10000`: number → status code.
async fn tracking(
    server: &Server,
    http: &reqwest::Client,
    access: &str,
    token: &str,
    expected: usize,
) -> Vec<(String, String)> {
    let mut all = Vec::with_capacity(expected);
    let mut page = 1;
    loop {
        let body = server
            .get(
                http,
                &format!("{}?$page={page}&$pageSize=10000", deliveries_path(token)),
                access,
            )
            .await;
        assert_eq!(body["trackingTotal"], expected, "page {page}");
        let entries = body["tracking"].as_array().expect("tracking");
        if entries.is_empty() {
            return all;
        }
        for e in entries {
            assert_eq!(e["statusCode"], e["standardStatusCode"], "{e}");
            all.push((
                e["mobileNumber"]
                    .as_str()
                    .expect("mobileNumber")
                    .to_string(),
                e["standardStatusCode"].as_str().expect("code").to_string(),
            ));
        }
        page += 1;
    }
}

/// The numbers the send's outbox items went to, with how often each went.
fn texted(items: &[Value], token: &str) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for item in items {
        assert_eq!(item["tokenId"], token, "{item}");
        assert_eq!(item["text"], "Crash test", "{item}");
        assert_eq!(item["from"], CODE, "{item}");
        *seen
            .entry(item["to"].as_str().expect("to").to_string())
            .or_insert(0) += 1;
    }
    seen
}

fn assert_no_duplicates(seen: &HashMap<String, usize>) {
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).take(10).collect();
    assert!(twice.is_empty(), "texted more than once: {twice:?}");
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_send_twice_then_the_send_finishes_without_duplicates() {
    const N: usize = 50_000;
    let http = client();
    let all = numbers(N);
    let mut site = site();
    let mut server = site.start(&http).await;
    let access = provision(&server, &http, &all).await;
    let token = send(&server, &http, &access).await;
    let mut outbox = Outbox::default();

    // Killed past 15%, restarted, killed past 50%, restarted.
    outbox.wait_for(&mut server, &http, N * 15 / 100).await;
    server.kill();
    let at_first_kill = outbox.items.len();
    server = site.start(&http).await;
    outbox.wait_for(&mut server, &http, N / 2).await;
    server.kill();
    let at_second_kill = outbox.items.len();
    server = site.start(&http).await;

    let first = wait_finished(&mut server, &http, &access, &token).await;
    assert_eq!(first["count"], N, "{first}");
    assert_eq!(first["counts"]["recipients"], N, "{first}");
    assert!(first["completeDate"].is_string(), "{first}");
    assert_eq!(first["scheduledFor"], Value::Null, "{first}");

    // The incremental reading and a fresh one from the start agree.
    outbox.refresh(&server, &http).await;
    let mut fresh = Outbox::default();
    fresh.refresh(&server, &http).await;
    assert_eq!(fresh.items, outbox.items);
    let seen = texted(&fresh.items, &token);
    assert_no_duplicates(&seen);

    let entries = tracking(&server, &http, &access, &token, N).await;
    assert_eq!(entries.len(), N);
    let everyone: HashSet<&str> = all.iter().map(String::as_str).collect();
    let tracked: HashSet<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(tracked.len(), N, "one tracking entry per number");
    assert_eq!(tracked, everyone);

    let mut unknown = HashSet::new();
    for (number, code) in &entries {
        match code.as_str() {
            "3400" => {
                unknown.insert(number.as_str());
            }
            // Accepted; delivered once the receipt came (a receipt may die with the process).
            "2000" | "4000" => assert!(
                seen.contains_key(number),
                "{number} is {code} but not in the outbox"
            ),
            other => panic!("{number} ended {other}"),
        }
    }
    for number in seen.keys() {
        assert!(
            everyone.contains(number.as_str()),
            "{number} is no recipient"
        );
    }
    let covered: HashSet<&str> = seen
        .keys()
        .map(String::as_str)
        .chain(unknown.iter().copied())
        .collect();
    let missing: Vec<_> = everyone.difference(&covered).take(10).collect();
    assert!(
        missing.is_empty(),
        "neither texted nor unknown: {missing:?}"
    );
    assert!(
        unknown.len() <= 2 * CLAIM_BATCH,
        "{} recipients are 3400 Unknown after two kills",
        unknown.len()
    );
    eprintln!(
        "killed at {at_first_kill} and {at_second_kill} texts; {} texted, {} unknown",
        seen.len(),
        unknown.len()
    );
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_send_exits_zero_and_a_restart_finishes_without_duplicates() {
    const N: usize = 20_000;
    let http = client();
    let all = numbers(N);
    let mut site = site();
    let mut server = site.start(&http).await;
    let access = provision(&server, &http, &all).await;
    let token = send(&server, &http, &access).await;
    let mut outbox = Outbox::default();
    outbox.wait_for(&mut server, &http, N / 5).await;

    let started = Instant::now();
    let status = server.terminate().await;
    let stopping = started.elapsed();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(stopping < Duration::from_secs(10));
    let at_stop = outbox.items.len();

    let mut server = site.start(&http).await;
    let first = wait_finished(&mut server, &http, &access, &token).await;
    assert_eq!(first["count"], N, "{first}");

    outbox.refresh(&server, &http).await;
    let seen = texted(&outbox.items, &token);
    assert_no_duplicates(&seen);
    let everyone: HashSet<&str> = all.iter().map(String::as_str).collect();
    let texted: HashSet<&str> = seen.keys().map(String::as_str).collect();
    // A graceful stop finishes the batch in flight: nothing is left unknown.
    assert_eq!(texted, everyone, "every recipient texted exactly once");
    // Nor is any receipt lost: the stop waited for the simulator's delayed receipts.
    wait_delivered(&mut server, &http, &access, &token, N).await;
    let entries = tracking(&server, &http, &access, &token, N).await;
    assert_eq!(entries.len(), N);
    let other: Vec<_> = entries
        .iter()
        .filter(|(_, c)| c != "4000")
        .take(10)
        .collect();
    assert!(other.is_empty(), "not delivered: {other:?}");
    eprintln!("SIGTERM after {at_stop} texts; the process exited in {stopping:?}");
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_issued_at_once_are_not_lost_to_the_submission_record() {
    // Receipts without delay reach the engine while the batch's submission is being recorded:
    // each must still find its recipient ("others 4000 Delivered after receipts", API.md §8).
    const N: usize = 5_000;
    let config = CONFIG
        .replace("rate_limit = 10000", "rate_limit = 0\nreceipt_delay_ms = 0")
        .replace("[engine]", "[engine]\nworkers = 4\nclaim_batch = 100");
    let http = client();
    let all = numbers(N);
    let mut site = Site::new(&config, ADMIN_TOKEN);
    let mut server = site.start(&http).await;
    let access = provision(&server, &http, &all).await;
    let token = send(&server, &http, &access).await;
    wait_finished(&mut server, &http, &access, &token).await;
    wait_delivered(&mut server, &http, &access, &token, N).await;
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run with TIDINGS_TEST_DATABASE_URL set and --ignored (.ci/run does)"]
async fn three_nodes_share_a_send_and_one_killed_mid_dispatch_loses_and_doubles_nothing() {
    common::require_postgres();
    const N: usize = 100_000;
    let http = client();
    let all = numbers(N);
    let mut site = site();
    let mut nodes = vec![
        site.start(&http).await,
        site.start(&http).await,
        site.start(&http).await,
    ];
    let access = provision(&nodes[0], &http, &all).await;
    // Accepted by one node; every node's workers take part in the hand-over.
    let token = send(&nodes[1], &http, &access).await;
    let mut outbox = Outbox::default();
    outbox.wait_for(&mut nodes[1], &http, N * 3 / 10).await;
    let victim = nodes.remove(2);
    let victim_log = victim.log_text();
    victim.kill();
    let at_kill = outbox.items.len();
    assert!(at_kill < N, "the send was over before the kill ({at_kill})");

    let first = wait_finished(&mut nodes[0], &http, &access, &token).await;
    assert_eq!(first["count"], N, "{first}");
    assert_eq!(first["counts"]["recipients"], N, "{first}");

    outbox.refresh(&nodes[0], &http).await;
    let seen = texted(&outbox.items, &token);
    assert_no_duplicates(&seen);
    let entries = tracking(&nodes[1], &http, &access, &token, N).await;
    let everyone: HashSet<&str> = all.iter().map(String::as_str).collect();
    let tracked: HashSet<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(tracked, everyone, "one tracking entry per number");
    let mut unknown = HashSet::new();
    for (number, code) in &entries {
        match code.as_str() {
            "3400" => {
                unknown.insert(number.as_str());
            }
            "2000" | "4000" => assert!(
                seen.contains_key(number),
                "{number} is {code} but not in the outbox"
            ),
            other => panic!("{number} ended {other}"),
        }
    }
    let covered: HashSet<&str> = seen
        .keys()
        .map(String::as_str)
        .chain(unknown.iter().copied())
        .collect();
    let missing: Vec<_> = everyone.difference(&covered).take(10).collect();
    assert!(
        missing.is_empty(),
        "neither texted nor unknown: {missing:?}"
    );
    assert!(
        unknown.len() <= CLAIM_BATCH,
        "{} recipients are 3400 Unknown: more than the killed node's one batch",
        unknown.len()
    );
    eprintln!(
        "three nodes; one killed at {at_kill} texts; {} texted, {} unknown; the killed node's \
         log had {} lines",
        seen.len(),
        unknown.len(),
        victim_log.lines().count()
    );
    for node in nodes {
        node.kill();
    }
}
