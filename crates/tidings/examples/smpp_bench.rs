//! SMPP carrier benchmark (docs/benchmarks.md): one bind with a window of 64 against
//! `tidings smsc` on loopback, in its own process. Submits `--messages` texts through the
//! carrier (batches of 1,000 as the engine hands them over, two batches in flight) and waits
//! for every delivery receipt, checking each against the message ids the SMSC answered.
//! Prints one JSON object: submit_sm per second, receipts correlated, and CPU per message of
//! the ESME process and of the SMSC process.
//!
//! Build both programs, then run the example:
//! `cargo build --release -p tidings --bin tidings --example smpp_bench`
//! `target/release/examples/smpp_bench --messages 200000`

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use carrier::{CarrierEvent, SmppCarrier, Submission};
use serde_json::json;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// User + system CPU of a process, in microseconds (Linux `/proc`).
fn cpu_us(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    (ticks(11) + ticks(12)) * 1e6 / 100.0
}

#[tokio::main]
async fn main() {
    let messages = arg("--messages", 200_000) as usize;
    let window = arg("--window", 64);
    let batch = 1_000usize;
    let exe = std::env::current_exe().expect("own path");
    let tidings = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("tidings"))
        .filter(|p| p.exists())
        .expect("build the tidings binary first: cargo build --release -p tidings --bin tidings");
    let mut smsc = Command::new(&tidings)
        .args([
            "smsc",
            "--listen",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
            "--receipt-delay-ms",
            "100",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start tidings smsc");
    let mut line = String::new();
    BufReader::new(smsc.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("smsc address line");
    let addrs: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    let port: u16 = addrs["smpp"]
        .as_str()
        .and_then(|a| a.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("smpp port");
    let smsc_pid = smsc.id().to_string();

    let settings: carrier::smpp::SmppSettings = toml::from_str::<toml::Value>(&format!(
        "host = \"127.0.0.1\"\nport = {port}\nsystem_id = \"bench\"\nwindow = {window}\nbinds = 1\n"
    ))
    .expect("toml")
    .try_into()
    .expect("settings");
    let (tx, mut rx) = carrier::event_channel();
    let esme = Arc::new(SmppCarrier::start("bench", settings, tx).expect("carrier"));
    assert!(esme.wait_bound(1, Duration::from_secs(10)).await, "no bind");

    let receipts = tokio::spawn(async move {
        let mut ids = Vec::with_capacity(messages);
        let mut last = Instant::now();
        while ids.len() < messages {
            match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
                Ok(Some(CarrierEvent::Receipt { message_id, .. })) => {
                    ids.push(message_id);
                    last = Instant::now();
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        (ids, last)
    });

    let cpu_esme_0 = cpu_us("self");
    let cpu_smsc_0 = cpu_us(&smsc_pid);
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..2 {
        let esme = esme.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let mut accepted = Vec::new();
            let mut other = 0usize;
            loop {
                let from = next.fetch_add(batch, std::sync::atomic::Ordering::Relaxed);
                if from >= messages {
                    break;
                }
                let to = (from + batch).min(messages);
                let subs: Vec<Submission> = (from..to)
                    .map(|i| Submission {
                        id: i as i64,
                        from: "88976".into(),
                        to: format!("1555{i:07}"),
                        text: "Benchmark text, one GSM-7 segment.".into(),
                        content_url: None,
                        segments: 1,
                        encoding: "GSM-7".into(),
                        token_id: None,
                    })
                    .collect();
                for o in carrier::submit_all(&*esme, subs).await {
                    match (o.status_code, o.carrier_message_id) {
                        (2000, Some(id)) => accepted.push(id),
                        _ => other += 1,
                    }
                }
            }
            (accepted, other)
        }));
    }
    let mut accepted = HashSet::with_capacity(messages);
    let mut not_accepted = 0;
    for w in workers {
        let (ids, other) = w.await.expect("worker");
        accepted.extend(ids);
        not_accepted += other;
    }
    let submit_secs = started.elapsed().as_secs_f64();
    let (receipt_ids, last_receipt) = receipts.await.expect("receipts");
    let correlated = receipt_ids
        .iter()
        .filter(|id| accepted.contains(*id))
        .count();
    let receipts_secs = last_receipt.duration_since(started).as_secs_f64();
    let cpu_esme = cpu_us("self") - cpu_esme_0;
    let cpu_smsc = cpu_us(&smsc_pid) - cpu_smsc_0;
    esme.stop();
    let _ = smsc.kill();
    let _ = smsc.wait();
    println!(
        "{}",
        json!({
            "messages": messages,
            "binds": 1,
            "window": window,
            "accepted": accepted.len(),
            "not_accepted": not_accepted,
            "submit_seconds": (submit_secs * 1000.0).round() / 1000.0,
            "submit_sm_per_sec": (messages as f64 / submit_secs).round(),
            "receipts": receipt_ids.len(),
            "receipts_correlated": correlated,
            "seconds_to_last_receipt": (receipts_secs * 1000.0).round() / 1000.0,
            "esme_cpu_us_per_message": (cpu_esme / messages as f64 * 10.0).round() / 10.0,
            "smsc_cpu_us_per_message": (cpu_smsc / messages as f64 * 10.0).round() / 10.0,
        })
    );
}
