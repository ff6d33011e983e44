//! The store conformance suite against SQLite, one fresh database file per test, plus what is
//! particular to this backend: URLs, migrations and readiness.

use std::ops::Deref;

use store::prelude::*;
use store::StoreError;
use store_sqlite::SqliteStore;
use tempfile::TempDir;

/// A store in a temporary directory that lives exactly as long as the store.
struct TempStore {
    store: SqliteStore,
    _dir: TempDir,
}

impl Deref for TempStore {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

async fn unmigrated_store() -> TempStore {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("create temp dir: {e}"),
    };
    let url = format!("sqlite://{}", dir.path().join("tidings.db").display());
    let store = match SqliteStore::open(&url).await {
        Ok(store) => store,
        Err(e) => panic!("open {url}: {e}"),
    };
    TempStore { store, _dir: dir }
}

async fn fresh_store() -> TempStore {
    let store = unmigrated_store().await;
    if let Err(e) = store.migrate().await {
        panic!("migrate: {e}");
    }
    store
}

store_conformance::store_conformance_tests!(fresh_store());

mod in_memory {
    //! The same suite against `sqlite::memory:`, which tests of other crates use.
    use super::*;

    async fn fresh_memory_store() -> SqliteStore {
        let store = match SqliteStore::open("sqlite::memory:").await {
            Ok(store) => store,
            Err(e) => panic!("open in-memory store: {e}"),
        };
        if let Err(e) = store.migrate().await {
            panic!("migrate: {e}");
        }
        store
    }

    store_conformance::store_conformance_tests!(async {
        Box::new(fresh_memory_store().await) as Box<dyn Store>
    });
}

#[tokio::test]
async fn ready_fails_before_migrate_and_succeeds_after() {
    let store = unmigrated_store().await;
    match store.ready().await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("ready before migrate: expected Unavailable, got {other:?}"),
    }
    store.migrate().await.unwrap();
    store.ready().await.unwrap();
}

#[tokio::test]
async fn migrating_twice_is_idempotent_and_keeps_data() {
    let store = fresh_store().await;
    store
        .create_account(store::NewAccount {
            id: "acme".into(),
            name: "Acme".into(),
            created_at: 1,
        })
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ready().await.unwrap();
    assert_eq!(store.get_account("ACME").await.unwrap().name, "Acme");
}

#[tokio::test]
async fn open_creates_missing_parent_directories_and_data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("deeper").join("tidings.db");
    let url = format!("sqlite://{}", path.display());
    assert!(url.starts_with("sqlite:///"), "an absolute path: {url}");
    {
        let store = SqliteStore::open(&url).await.unwrap();
        assert!(path.exists(), "open creates the file");
        store.migrate().await.unwrap();
        store
            .create_account(store::NewAccount {
                id: "acme".into(),
                name: "Acme".into(),
                created_at: 1,
            })
            .await
            .unwrap();
        store.close().await;
    }
    let store = SqliteStore::open(&url).await.unwrap();
    store.ready().await.unwrap();
    assert_eq!(store.get_account("acme").await.unwrap().name, "Acme");
}

#[tokio::test]
async fn open_accepts_a_relative_path() {
    // Relative to the working directory, which cargo sets to this crate's directory.
    let dir = tempfile::tempdir_in(".").unwrap();
    let name = dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let url = format!("sqlite://{name}/sub/relative.db");
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.ready().await.unwrap();
    assert!(dir.path().join("sub").join("relative.db").exists());
    store.close().await;
}

#[tokio::test]
async fn open_rejects_other_urls() {
    for url in ["postgres://localhost/tidings", "tidings.db", "sqlite://"] {
        match SqliteStore::open(url).await {
            Err(StoreError::Other(_)) => {}
            other => panic!("open({url:?}): expected Other, got {:?}", other.map(|_| ())),
        }
    }
}

#[tokio::test]
async fn the_file_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
        .create_account(store::NewAccount {
            id: "acme".into(),
            name: "Acme".into(),
            created_at: 1,
        })
        .await
        .unwrap();
    assert!(
        dir.path().join("wal.db-wal").exists(),
        "a -wal file exists while the database is open in WAL mode"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_queue_instead_of_failing() {
    let store = std::sync::Arc::new(fresh_store().await);
    store
        .create_account(store::NewAccount {
            id: "acme".into(),
            name: "Acme".into(),
            created_at: 1,
        })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for task in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                let token = format!("t{task:02}x{i:04}aaaaaaaaaaaaaaaaaaaa");
                let new = store::NewSend {
                    token,
                    account_id: "acme".into(),
                    client_id: None,
                    kind: store::SendKind::List,
                    message_id: store::EncodedId::parse("m").expect("a well-formed ID"),
                    code: "88976".into(),
                    text: "hi".into(),
                    content_url: None,
                    target_list_ids: vec!["l".into()],
                    exclusion_list_ids: vec![],
                    allow_duplication: false,
                    window: None,
                    send_time: None,
                    due_at: 1,
                    segments: 1,
                    encoding: store::Encoding::Gsm7,
                    created_at: 1 + i,
                    idempotency: None,
                };
                store.create_send(new).await.unwrap();
                // Readers run beside the writer.
                store
                    .list_sends(
                        "acme",
                        store::SendQuery {
                            limit: 5,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let all = store
        .list_sends("acme", store::SendQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 400);
}
