//! Prints (as JSON) how fast the SQLite store takes the API's hot writes: `create_send` from many
//! concurrent tasks (without and with idempotency keys), and `upsert_members` in importer-sized
//! batches of 1000 rows (new numbers, then the same numbers again).
//!
//! `BENCH_TASKS=32 cargo run --release -p store-sqlite --example store_bench [sends] [batches]`

use std::sync::Arc;
use std::time::Instant;

use store::{
    ContactRow, Idempotency, NewAccount, NewCode, NewKeyword, NewList, NewSend, SendKind, Store,
    SubscribeTo,
};
use store_sqlite::SqliteStore;

fn task_count() -> usize {
    std::env::var("BENCH_TASKS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(32)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let sends: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(20_000);
    let batches: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100);

    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Arc::new(SqliteStore::open(&url).await?);
    store.migrate().await?;
    store
        .create_account(NewAccount {
            id: "acme".into(),
            name: "Acme".into(),
            created_at: 0,
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
            created_at: 0,
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
            created_at: 0,
        })
        .await?;
    store
        .create_list(NewList {
            id: "list-a".into(),
            account_id: "acme".into(),
            name: "A".into(),
            created_at: 0,
        })
        .await?;

    // create_send: first without idempotency keys, then every send with one.
    let plain = create_sends(&store, 0, sends, false).await?;
    let keyed = create_sends(&store, sends, sends, true).await?;

    // upsert_members: `batches` batches of 1000 new numbers, then the same again (all updates).
    let subscribe = SubscribeTo {
        code: "88976".into(),
        keyword: "JOIN".into(),
    };
    let batch = |b: usize| -> Vec<ContactRow> {
        (0..1000)
            .map(|i| {
                let mut attributes = store::Attributes::new();
                attributes.insert("FirstName".into(), format!("Name{i}").into());
                attributes.insert("City".into(), "Oslo".into());
                ContactRow {
                    mobile_number: format!("1555{:07}", b * 1000 + i),
                    subscriber_key: Some(format!("sk-{b}-{i}")),
                    attributes,
                }
            })
            .collect()
    };
    let started = Instant::now();
    for b in 0..batches {
        store
            .upsert_members("acme", "list-a", &batch(b), Some(&subscribe), 1)
            .await?;
    }
    let insert_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for b in 0..batches {
        store
            .upsert_members("acme", "list-a", &batch(b), Some(&subscribe), 2)
            .await?;
    }
    let update_secs = started.elapsed().as_secs_f64();

    println!(
        "{}",
        serde_json::json!({
            "create_send": {
                "sends": sends,
                "tasks": task_count(),
                "without_key_per_second": sends as f64 / plain,
                "with_key_per_second": sends as f64 / keyed,
            },
            "upsert_members": {
                "batches": batches,
                "rows_per_batch": 1000,
                "new_rows_per_second": (batches * 1000) as f64 / insert_secs,
                "updated_rows_per_second": (batches * 1000) as f64 / update_secs,
                "ms_per_new_batch": insert_secs * 1000.0 / batches as f64,
                "ms_per_updated_batch": update_secs * 1000.0 / batches as f64,
            },
        })
    );
    store.close().await;
    Ok(())
}

/// Creates `count` sends numbered from `first` with `task_count()` concurrent tasks; the seconds
/// it took.
async fn create_sends(
    store: &Arc<SqliteStore>,
    first: usize,
    count: usize,
    with_key: bool,
) -> Result<f64, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let tasks = task_count();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut i = first + task;
            while i < first + count {
                let idempotency = with_key.then(|| Idempotency {
                    client_id: format!("client-{task}"),
                    key: format!("key-{i}"),
                    request_hash: "h".repeat(64),
                });
                let new = NewSend {
                    token: format!("{i:026}"),
                    account_id: "acme".into(),
                    client_id: Some(format!("client-{task}")),
                    kind: SendKind::List,
                    message_id: "msg-1".into(),
                    code: "88976".into(),
                    text: "Hello %%FirstName%%, this is a typical message.".into(),
                    content_url: None,
                    target_list_ids: vec!["list-a".into()],
                    exclusion_list_ids: vec![],
                    allow_duplication: false,
                    window: None,
                    send_time: None,
                    due_at: 1_700_000_000_000,
                    segments: 1,
                    encoding: "GSM-7".into(),
                    created_at: 1_700_000_000_000 + i as i64,
                    idempotency,
                };
                store.create_send(new).await?;
                i += tasks;
            }
            Ok::<_, store::StoreError>(())
        }));
    }
    for handle in handles {
        handle.await??;
    }
    Ok(started.elapsed().as_secs_f64())
}
