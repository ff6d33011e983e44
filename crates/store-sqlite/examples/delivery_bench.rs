//! Prints (as JSON) how fast the SQLite store runs the delivery path: the fan-out of one send
//! over two overlapping target lists (1.2M memberships, 900k distinct subscribed numbers) and an
//! exclusion list, then dispatch as the engine does it — `claim_recipients`, the simulator's
//! `outbox_append` and `record_submissions`, batch after batch —, receipts for what went out,
//! and the status reads (`send_counts`, `tracking_page`).
//!
//! `cargo run --release -p store-sqlite --example delivery_bench [members-per-list] [dispatched]`
//! (defaults 600000 and 200000; the lists overlap by half, so the audience is 1.5 × the first).
//! `BENCH_DB=/tmp/bench.db` keeps the database for inspection; `BENCH_EXPAND_BATCH` sets the
//! memberships per expansion batch (default 50000, the engine's).

use std::time::Instant;

use store::{
    codes, ContactRow, Expansion, NewAccount, NewCode, NewKeyword, NewList, NewMessage, NewSend,
    OutboxItem, Receipt, SendKind, Store, SubmissionResult, SubscribeTo,
};
use store_sqlite::SqliteStore;

const T0: i64 = 1_700_000_000_000;
const IMPORT_BATCH: usize = 10_000;
const CLAIM_BATCH: u32 = 1_000;
const RECEIPT_BATCH: usize = 2_000;

/// CPU seconds (user + system) this process has used, from `/proc/self/stat` (Linux; clock
/// ticks of 1/100 s). Wall time alone misleads on a shared machine.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which is in parentheses and may contain spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => f64::NAN,
    }
}

fn number(i: usize) -> String {
    format!("1555{i:07}")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let per_list: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(600_000);
    let to_dispatch: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(200_000);

    // BENCH_DB=path keeps the database for inspection (it must not exist yet).
    // BENCH_EXPAND_BATCH: memberships per expansion batch (the engine's default is 50,000).
    let expand_batch: u32 = match std::env::var("BENCH_EXPAND_BATCH") {
        Ok(b) => b.parse()?,
        Err(_) => 50_000,
    };
    let dir = tempfile::tempdir()?;
    let path = match std::env::var_os("BENCH_DB") {
        Some(path) => std::path::PathBuf::from(path),
        None => dir.path().join("bench.db"),
    };
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::open(&url).await?;
    store.migrate().await?;
    store
        .create_account(NewAccount {
            id: "acme".into(),
            name: "Acme".into(),
            created_at: T0,
        })
        .await?;
    store
        .create_code(NewCode {
            id: "code-1".into(),
            account_id: "acme".into(),
            code: "88976".into(),
            country_code: "US".into(),
            kind: "short".into(),
            carrier: "simulator".into(),
            opt_out_text: None,
            help_text: None,
            created_at: T0,
        })
        .await?;
    store
        .create_keyword(NewKeyword {
            id: "kw-1".into(),
            account_id: "acme".into(),
            code: "88976".into(),
            keyword: "JOIN".into(),
            response: None,
            double_opt_in: false,
            confirm_text: None,
            created_at: T0,
        })
        .await?;
    for list in ["list-a", "list-b", "list-x"] {
        store
            .create_list(NewList {
                id: list.into(),
                account_id: "acme".into(),
                name: list.into(),
                created_at: T0,
            })
            .await?;
    }
    store
        .create_message(NewMessage {
            id: "msg-1".into(),
            account_id: "acme".into(),
            name: "Promo".into(),
            code: "88976".into(),
            text: "Hello %%FirstName%%".into(),
            status: store::MessageStatus::Active,
            target_list_ids: vec!["list-a".into(), "list-b".into()],
            exclusion_list_ids: vec!["list-x".into()],
            content_url: None,
            created_at: T0,
        })
        .await?;

    // Lists: A = [0, n), B = [n/2, 3n/2), X (exclusion) = 10,000 numbers outside both.
    let subscribe = SubscribeTo {
        code: "88976".into(),
        keyword: "JOIN".into(),
    };
    let started = Instant::now();
    let half = per_list / 2;
    for (list, range) in [
        ("list-a", 0..per_list),
        ("list-b", half..half + per_list),
        ("list-x", 5_000_000..5_010_000),
    ] {
        let numbers: Vec<usize> = range.collect();
        for chunk in numbers.chunks(IMPORT_BATCH) {
            let rows: Vec<ContactRow> = chunk
                .iter()
                .map(|&i| {
                    let mut attributes = store::Attributes::new();
                    attributes.insert("FirstName".into(), format!("Name{i}").into());
                    ContactRow {
                        mobile_number: number(i),
                        subscriber_key: None,
                        attributes,
                    }
                })
                .collect();
            store
                .upsert_members("acme", list, &rows, Some(&subscribe), T0)
                .await?;
        }
    }
    let import_secs = started.elapsed().as_secs_f64();
    let memberships = 2 * per_list;

    store
        .create_send(NewSend {
            token: "benchsend00000000000000000".into(),
            account_id: "acme".into(),
            client_id: None,
            kind: SendKind::List,
            message_id: "msg-1".into(),
            code: "88976".into(),
            text: "Hello %%FirstName%%".into(),
            content_url: None,
            target_list_ids: vec!["list-a".into(), "list-b".into()],
            exclusion_list_ids: vec!["list-x".into()],
            allow_duplication: false,
            window: None,
            send_time: None,
            due_at: T0,
            segments: 1,
            encoding: "GSM-7".into(),
            created_at: T0,
            idempotency: None,
        })
        .await?;
    let token = "benchsend00000000000000000";

    // Fan-out, as the scheduler drives it.
    eprintln!("fan-out starts");
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let claimed = store.claim_due_sends("bench", T0, T0 + 60_000, 4).await?;
    assert_eq!(claimed.len(), 1, "the send is claimed");
    let mut batches = 0;
    let mut slowest_batch: f64 = 0.0;
    let recipients = loop {
        let batch_started = Instant::now();
        let outcome = store
            .expand_batch(token, "bench", expand_batch, T0, T0 + 60_000)
            .await?;
        slowest_batch = slowest_batch.max(batch_started.elapsed().as_secs_f64());
        batches += 1;
        match outcome {
            Expansion::More => {}
            Expansion::Done { recipients } => break recipients,
            other => return Err(format!("expansion ended with {other:?}").into()),
        }
    };
    let fan_out_secs = started.elapsed().as_secs_f64();
    let fan_out_cpu = cpu_seconds() - cpu_started;
    eprintln!("fan-out done");

    let started = Instant::now();
    let counts_after_expansion = store.send_counts(token, T0).await?;
    let counts_secs = started.elapsed().as_secs_f64();

    // Dispatch: claim, the simulator's outbox write, record; as the engine does per batch.
    eprintln!("dispatch starts");
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let mut dispatched = 0usize;
    let mut message_ids = Vec::new();
    let mut claim_secs = 0.0;
    let mut outbox_secs = 0.0;
    let mut record_secs = 0.0;
    while dispatched < to_dispatch {
        let t = Instant::now();
        let claimed = store
            .claim_recipients(token, "bench", T0, T0 + 60_000, CLAIM_BATCH)
            .await?;
        claim_secs += t.elapsed().as_secs_f64();
        if claimed.is_empty() {
            break;
        }
        let items: Vec<OutboxItem> = claimed
            .iter()
            .map(|r| OutboxItem {
                carrier: "simulator".into(),
                from: "88976".into(),
                to: r.mobile_number.clone(),
                text: format!(
                    "Hello {}",
                    r.attributes
                        .get("FirstName")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                ),
                content_url: None,
                encoding: "GSM-7".into(),
                segments: 1,
                token_id: Some(token.into()),
                accepted_at: T0,
            })
            .collect();
        let t = Instant::now();
        let seqs = store.outbox_append(&items).await?;
        outbox_secs += t.elapsed().as_secs_f64();
        let results: Vec<SubmissionResult> = claimed
            .iter()
            .zip(&seqs)
            .map(|(r, seq)| SubmissionResult {
                id: r.id,
                status_code: codes::DELIVERED_TO_AGGREGATOR,
                carrier_message_id: Some(format!("sim-{seq}")),
                segments: 1,
                encoding: "GSM-7".into(),
                note: None,
            })
            .collect();
        let t = Instant::now();
        store.record_submissions(&results, T0).await?;
        record_secs += t.elapsed().as_secs_f64();
        message_ids.extend(seqs.into_iter().map(|s| format!("sim-{s}")));
        dispatched += claimed.len();
    }
    let dispatch_secs = started.elapsed().as_secs_f64();
    let dispatch_cpu = cpu_seconds() - cpu_started;

    let started = Instant::now();
    let mut changed = 0;
    for chunk in message_ids.chunks(RECEIPT_BATCH) {
        let receipts: Vec<Receipt> = chunk
            .iter()
            .map(|id| Receipt {
                carrier: "simulator".into(),
                carrier_message_id: id.clone(),
                status_code: codes::DELIVERED,
            })
            .collect();
        changed += store.apply_receipts(&receipts, T0).await?;
    }
    let receipts_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let counts = store.send_counts(token, T0).await?;
    let counts_after_dispatch_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let first_page = store.tracking_page(token, 1, 1000).await?;
    let first_page_secs = started.elapsed().as_secs_f64();
    let last_page_no = u32::try_from(recipients / 1000)?;
    let started = Instant::now();
    let last_page = store.tracking_page(token, last_page_no, 1000).await?;
    let last_page_secs = started.elapsed().as_secs_f64();

    println!(
        "{}",
        serde_json::json!({
            "setup": {
                "memberships": memberships,
                "import_rows_per_second": (memberships + 10_000) as f64 / import_secs,
            },
            "fan_out": {
                "memberships": memberships,
                "recipients": recipients,
                "batches": batches,
                "batch_size": expand_batch,
                "seconds": fan_out_secs,
                "cpu_seconds": fan_out_cpu,
                "memberships_per_second": memberships as f64 / fan_out_secs,
                "slowest_batch_ms": slowest_batch * 1000.0,
                "counts": counts_after_expansion,
            },
            "dispatch": {
                "recipients": dispatched,
                "claim_batch": CLAIM_BATCH,
                "seconds": dispatch_secs,
                "cpu_seconds": dispatch_cpu,
                "recipients_per_second": dispatched as f64 / dispatch_secs,
                "ms_per_batch": {
                    "claim_recipients": claim_secs * 1000.0 * CLAIM_BATCH as f64 / dispatched.max(1) as f64,
                    "outbox_append": outbox_secs * 1000.0 * CLAIM_BATCH as f64 / dispatched.max(1) as f64,
                    "record_submissions": record_secs * 1000.0 * CLAIM_BATCH as f64 / dispatched.max(1) as f64,
                },
            },
            "receipts": {
                "applied": changed,
                "batch": RECEIPT_BATCH,
                "per_second": changed as f64 / receipts_secs,
            },
            "status_reads_ms": {
                "send_counts_after_expansion": counts_secs * 1000.0,
                "send_counts_after_dispatch": counts_after_dispatch_secs * 1000.0,
                "tracking_first_page": first_page_secs * 1000.0,
                "tracking_last_page": last_page_secs * 1000.0,
                "tracking_page_rows": [first_page.len(), last_page.len()],
            },
            "counts": counts,
        })
    );
    store.close().await;
    Ok(())
}
