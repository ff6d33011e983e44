//! Benchmark of the delivery engine on SQLite or PostgreSQL (docs/benchmarks.md):
//! (a) audience fan-out of two target lists of N overlapping by N/3 minus an exclusion list of
//!     N/6 (N = 600,000: 1.2M memberships → 900,000 recipients), with the fan-out's peak RSS;
//! (b) dispatch through the simulator carrier with durable per-recipient status and receipts,
//!     by 1 or more nodes at once (`--nodes 1,2,3`: a fresh fan-out before each, then that many
//!     engine processes on the one database);
//! (c) CPU time (user+sys) per delivered recipient, fan-out and dispatch together.
//! Each phase runs in its own process so that peak RSS is the phase's own.
//!
//! `cargo run --release -p tidings --example engine_bench -- [--list-size 600000] [--double]
//!  [--postgres postgres://postgres@127.0.0.1:5432/test] [--nodes 1,2,3]`
//! With `--postgres`, each run uses a fresh database created on that server (and dropped after).
//! Prints one JSON object.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use domain::clock::{Clock, SystemClock};
use serde_json::{json, Value};
use store::{
    ContactRow, Expansion, NewAccount, NewCode, NewKeyword, NewList, NewMessage, NewSend, SendKind,
    Store, SubscribeTo,
};

const ACCOUNT: &str = "bench";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Peak resident set (VmHWM) in MiB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// User+system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

fn number(i: u64) -> String {
    format!("1555{:07}", i)
}

async fn open(db: &str) -> Arc<dyn Store> {
    tidings::startup::open_migrated_store(db)
        .await
        .expect("open the database")
}

async fn fill(store: &Arc<dyn Store>, list: &str, range: std::ops::Range<u64>, sub: bool) {
    let to = SubscribeTo {
        code: "88976".into(),
        keyword: "JOIN".into(),
    };
    let mut batch = Vec::with_capacity(5000);
    for i in range {
        let mut attributes = store::Attributes::new();
        attributes.insert("FirstName".into(), Value::String(format!("N{i}")));
        batch.push(ContactRow {
            mobile_number: number(i),
            subscriber_key: None,
            attributes,
        });
        if batch.len() == 5000 {
            store
                .upsert_members(ACCOUNT, list, &batch, sub.then_some(&to), 0)
                .await
                .expect("upsert");
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store
            .upsert_members(ACCOUNT, list, &batch, sub.then_some(&to), 0)
            .await
            .expect("upsert");
    }
}

async fn setup(db: &str, n: u64) -> Value {
    let store = open(db).await;
    let started = Instant::now();
    store
        .create_account(NewAccount {
            id: ACCOUNT.into(),
            name: ACCOUNT.into(),
            created_at: 0,
        })
        .await
        .expect("account");
    store
        .create_code(NewCode {
            id: "code".into(),
            account_id: ACCOUNT.into(),
            code: "88976".into(),
            country_code: "US".into(),
            kind: "short".into(),
            carrier: "simulator".into(),
            opt_out_text: None,
            help_text: None,
            created_at: 0,
        })
        .await
        .expect("code");
    store
        .create_keyword(NewKeyword {
            id: "kw".into(),
            account_id: ACCOUNT.into(),
            code: "88976".into(),
            keyword: "JOIN".into(),
            response: None,
            double_opt_in: false,
            confirm_text: None,
            created_at: 0,
            opt_in: None,
        })
        .await
        .expect("keyword");
    for id in ["A", "B", "E"] {
        store
            .create_list(NewList {
                id: id.into(),
                account_id: ACCOUNT.into(),
                name: id.into(),
                created_at: 0,
                hidden: false,
                counts_rows: false,
            })
            .await
            .expect("list");
    }
    let overlap = n / 3;
    fill(&store, "A", 0..n, true).await;
    fill(&store, "B", (n - overlap)..(2 * n - overlap), true).await;
    // The exclusion list: every tenth number of the union, n/6 of them.
    let excluded: Vec<u64> = (0..(2 * n - overlap))
        .step_by(10)
        .take((n / 6) as usize)
        .collect();
    let mut batch = Vec::new();
    for i in excluded {
        batch.push(ContactRow {
            mobile_number: number(i),
            subscriber_key: None,
            attributes: store::Attributes::new(),
        });
    }
    for chunk in batch.chunks(5000) {
        store
            .upsert_members(ACCOUNT, "E", chunk, None, 0)
            .await
            .expect("upsert");
    }
    store
        .create_message(NewMessage {
            id: "M".into(),
            account_id: ACCOUNT.into(),
            name: "M".into(),
            code: "88976".into(),
            text: "Hi %%FirstName%%, flash sale today only!".into(),
            status: store::MessageStatus::Active,
            target_list_ids: vec!["A".into(), "B".into()],
            exclusion_list_ids: vec!["E".into()],
            content_url: None,
            created_at: 0,
        })
        .await
        .expect("message");
    json!({"setup_seconds": started.elapsed().as_secs_f64(),
           "memberships": 2 * n + n / 6, "distinct_numbers": 2 * n - overlap})
}

async fn fanout(db: &str) -> Value {
    let store = open(db).await;
    let now = SystemClock.now_ms();
    let token = domain::mint_token();
    store
        .create_send(NewSend {
            token: token.clone(),
            account_id: ACCOUNT.into(),
            client_id: None,
            kind: SendKind::List,
            message_id: store::EncodedId::parse("M").expect("a well-formed ID"),
            code: "88976".into(),
            text: "Hi %%FirstName%%, flash sale today only!".into(),
            content_url: None,
            target_list_ids: vec!["A".into(), "B".into()],
            exclusion_list_ids: vec!["E".into()],
            allow_duplication: false,
            window: None,
            send_time: None,
            due_at: now,
            segments: 1,
            encoding: store::Encoding::Gsm7,
            created_at: now,
            idempotency: None,
        })
        .await
        .expect("send");
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let claimed = store
        .claim_due_sends("bench", now, now + 600_000, 1)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    let recipients = loop {
        match store
            .expand_batch(&token, "bench", 50_000, now, now + 600_000)
            .await
            .expect("expand")
        {
            Expansion::More => continue,
            Expansion::Done { recipients } => break recipients,
            other => panic!("expansion ended {other:?}"),
        }
    };
    let secs = started.elapsed().as_secs_f64();
    json!({"token": token, "fanout_seconds": secs, "recipients": recipients,
           "fanout_cpu_seconds": cpu_seconds() - cpu0, "fanout_peak_rss_mb": peak_rss_mb()})
}

/// One dispatching node: an engine with its own owner name, started at `start_at` (epoch ms,
/// so that every node of a run starts together), run until it finds nothing left to do.
async fn dispatch(db: &str, node: &str, start_at: i64) -> Value {
    let store = open(db).await;
    let (tx, rx) = carrier::event_channel();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sim: Arc<dyn carrier::Carrier> = Arc::new(carrier::Simulator::new(
        "simulator",
        store.clone(),
        tx,
        0,
        0,
        clock.clone(),
    ));
    let engine = engine::Engine::new(
        store.clone(),
        vec![sim],
        rx,
        clock,
        engine::EngineConfig::new(format!("bench-{node}")),
    );
    let wait = start_at - SystemClock.now_ms();
    if wait > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
    }
    let cpu0 = cpu_seconds();
    let started = SystemClock.now_ms();
    engine.run_until_idle().await.expect("dispatch");
    json!({"node": node, "started_ms": started, "finished_ms": SystemClock.now_ms(),
           "dispatch_cpu_seconds": cpu_seconds() - cpu0, "dispatch_peak_rss_mb": peak_rss_mb()})
}

/// The counts of a send once every node has stopped.
async fn counts(db: &str, token: &str) -> Value {
    let store = open(db).await;
    let counts = store
        .send_counts(token, SystemClock.now_ms())
        .await
        .expect("counts");
    let send = store.get_send(ACCOUNT, token).await.expect("send");
    json!({"counts": counts, "state": send.state.as_str()})
}

fn spawn_child(phase: &str, db: &str, extra: &[&str]) -> std::process::Child {
    Command::new(std::env::current_exe().expect("exe"))
        .args(["--phase", phase, "--db", db])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("child")
}

fn child_output(phase: &str, child: std::process::Child) -> Value {
    let out = child.wait_with_output().expect("child");
    assert!(out.status.success(), "{phase} failed");
    serde_json::from_slice(&out.stdout).expect("child json")
}

fn child(phase: &str, db: &str, extra: &[&str]) -> Value {
    child_output(phase, spawn_child(phase, db, extra))
}

/// `nodes` engine processes dispatching one freshly expanded send together.
fn dispatch_with(db: &str, nodes: usize) -> Value {
    let fan = child("fanout", db, &[]);
    let token = fan["token"].as_str().expect("token").to_string();
    let start_at = (SystemClock.now_ms() + 2_000).to_string();
    let children: Vec<_> = (0..nodes)
        .map(|i| {
            spawn_child(
                "dispatch",
                db,
                &["--node", &i.to_string(), "--start-at", &start_at],
            )
        })
        .collect();
    let runs: Vec<Value> = children
        .into_iter()
        .map(|c| child_output("dispatch", c))
        .collect();
    let first = runs
        .iter()
        .filter_map(|r| r["started_ms"].as_i64())
        .min()
        .unwrap_or(0);
    let last = runs
        .iter()
        .filter_map(|r| r["finished_ms"].as_i64())
        .max()
        .unwrap_or(0);
    let secs = (last - first) as f64 / 1000.0;
    let result = child("counts", db, &["--token", &token]);
    let recipients = result["counts"]["recipients"].as_f64().unwrap_or(0.0);
    let cpu: f64 = runs
        .iter()
        .filter_map(|r| r["dispatch_cpu_seconds"].as_f64())
        .sum::<f64>()
        + fan["fanout_cpu_seconds"].as_f64().unwrap_or(0.0);
    json!({"nodes": nodes, "fanout": fan, "dispatch_seconds": secs,
           "dispatch_recipients_per_sec": if secs > 0.0 { (recipients / secs).round() } else { 0.0 },
           "state": result["state"], "counts": result["counts"], "node_runs": runs,
           "cpu_us_per_recipient": if recipients > 0.0 { cpu / recipients * 1e6 } else { 0.0 }})
}

fn run_size(db: &str, n: u64, nodes: &[usize]) -> Value {
    let setup = child("setup", db, &["--list-size", &n.to_string()]);
    let runs: Vec<Value> = nodes.iter().map(|&k| dispatch_with(db, k)).collect();
    json!({"list_size": n, "setup": setup, "runs": runs})
}

/// A database for one run: a SQLite file in `dir`, or a fresh PostgreSQL database (dropped with
/// the guard).
async fn database(
    dir: &Path,
    n: u64,
    postgres: Option<&str>,
) -> (String, Option<test_database::TestDatabase>) {
    match postgres {
        None => (
            format!("sqlite://{}", dir.join(format!("bench-{n}.db")).display()),
            None,
        ),
        Some(base) => {
            let db = test_database::TestDatabase::create(base)
                .await
                .expect("create a PostgreSQL database");
            (db.url().to_string(), Some(db))
        }
    }
}

#[tokio::main]
async fn main() {
    let db = arg("--db");
    match (arg("--phase").as_deref(), db) {
        (Some("setup"), Some(db)) => {
            let n = arg("--list-size")
                .and_then(|v| v.parse().ok())
                .unwrap_or(600_000);
            println!("{}", setup(&db, n).await);
        }
        (Some("fanout"), Some(db)) => println!("{}", fanout(&db).await),
        (Some("dispatch"), Some(db)) => {
            let node = arg("--node").unwrap_or_else(|| "0".into());
            let start_at = arg("--start-at").and_then(|v| v.parse().ok()).unwrap_or(0);
            println!("{}", dispatch(&db, &node, start_at).await);
        }
        (Some("counts"), Some(db)) => {
            let token = arg("--token").expect("--token");
            println!("{}", counts(&db, &token).await);
        }
        _ => {
            let n: u64 = arg("--list-size")
                .and_then(|v| v.parse().ok())
                .unwrap_or(600_000);
            let nodes: Vec<usize> = arg("--nodes")
                .unwrap_or_else(|| "1".into())
                .split(',')
                .filter_map(|k| k.trim().parse().ok())
                .collect();
            let postgres = arg("--postgres");
            let dir = tempfile::tempdir().expect("temp dir");
            let mut sizes = vec![n];
            if std::env::args().any(|a| a == "--double") {
                sizes.push(2 * n);
            }
            let mut runs = Vec::new();
            for size in sizes {
                let (url, guard) = database(dir.path(), size, postgres.as_deref()).await;
                runs.push(run_size(&url, size, &nodes));
                drop(guard);
            }
            let database = if postgres.is_some() {
                "postgres"
            } else {
                "sqlite"
            };
            println!(
                "{}",
                json!({"benchmark": "engine", "database": database, "runs": runs})
            );
        }
    }
}
