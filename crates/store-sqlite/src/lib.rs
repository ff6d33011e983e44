//! The SQLite backend of the `Store` trait: hand-written SQL run through sqlx runtime queries, and
//! the embedded migrations of `migrations/`. It owns connection handling (WAL, one writer
//! connection taking `BEGIN IMMEDIATE`, a pool of readers) and must not know HTTP or the engine.
//!
//! Every write is one short `BEGIN IMMEDIATE` transaction on the single writer connection, so
//! writers queue in the pool instead of failing with `SQLITE_BUSY`; reads go to the reader pool and
//! see the last committed state (WAL snapshots).

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use store::sql::{account, db, id_key, now_millis};
use store::{attributes_to_json, Lifecycle, StoreError, StoreResult};

// The state spellings of SQL (`send_state!`, `subscription_status!`, …), shared by both backends.
#[macro_use]
extern crate store;

mod accounts;
mod codes;
mod contact;
mod definitions;
mod dispatch;
mod expansion;
mod inbound;
mod jobs;
mod lists;
mod messages;
mod outbox;
mod sends;
mod subscriptions;
mod tracking;
mod transfer;

/// The migrations in `crates/store-sqlite/migrations`, compiled into the binary.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a connection waits for a lock held by another process before `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers: enough for concurrent API reads on a small machine; WAL lets them run beside the
/// writer.
const READER_CONNECTIONS: u32 = 4;
/// How long a task waits for a pooled connection before the store reports itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// A Tidings store in one SQLite database file (or in memory, for tests).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// At most one connection: SQLite has one writer at a time, and queueing in the pool is
    /// cheaper and fairer than queueing on the file lock.
    writer: SqlitePool,
    /// Read-only (`query_only`) connections. The same pool as `writer` for in-memory databases.
    reader: SqlitePool,
    /// The queue of the send committer (group commit of accepted sends).
    sends: tokio::sync::mpsc::Sender<sends::PendingSend>,
}

impl SqliteStore {
    /// Opens (creating the file and its parent directories when missing) the database at `url`:
    /// `sqlite://relative/path.db`, `sqlite:///absolute/path.db` or `sqlite::memory:`. Applies no
    /// migrations: call [`Lifecycle::migrate`].
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        let location = url
            .strip_prefix("sqlite:")
            .ok_or_else(|| StoreError::Other(format!("not a sqlite: URL: {url:?}")))?;
        let location = location.strip_prefix("//").unwrap_or(location);
        let (path, query) = location.split_once('?').unwrap_or((location, ""));
        let in_memory = path == ":memory:" || query.split('&').any(|p| p == "mode=memory");
        if path.is_empty() && !in_memory {
            return Err(StoreError::Other(format!(
                "SQLite URL {url:?} names no database file"
            )));
        }

        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("invalid SQLite URL {url:?}: {e}")))?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);

        if in_memory {
            // An in-memory database lives as long as its last connection: keep exactly one, for
            // both reading and writing (WAL does not apply).
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(db("open in-memory database"))?;
            return Ok(SqliteStore::assemble(pool.clone(), pool));
        }

        let file = options.get_filename().to_path_buf();
        create_private_file(&file).await?;

        // The writer connects first: it creates the file and switches it to WAL, which is
        // persistent, so readers need not (and, being query_only, could not) set it.
        // No ping before each acquire: a local file does not drop connections, and the ping is a
        // round trip to the connection's worker thread on every call (~70µs, a third of a send).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(
                options
                    .clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal),
            )
            .await
            .map_err(db("open database for writing"))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READER_CONNECTIONS)
            .test_before_acquire(false)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(db("open database for reading"))?;
        Ok(SqliteStore::assemble(writer, reader))
    }

    /// Starts the send committer beside the pools.
    fn assemble(writer: SqlitePool, reader: SqlitePool) -> SqliteStore {
        let (sends, queue) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(sends::committer(writer.clone(), reader.clone(), queue));
        SqliteStore {
            writer,
            reader,
            sends,
        }
    }

    /// Closes every connection (checkpointing the WAL). Further calls fail as Unavailable.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Begins the one kind of write transaction this store uses.
    async fn write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("begin write transaction"))
    }
}

// ---- helpers shared by the modules --------------------------------------------------------------

/// Creates the database file, when missing, readable by its owner only (0600), and its missing
/// parent directories 0700 (API.md §8 "Protection"). SQLite gives the `-wal` and `-shm` files
/// the mode of the database file. An existing file keeps its mode.
async fn create_private_file(file: &std::path::Path) -> StoreResult<()> {
    let file = file.to_path_buf();
    tokio::task::spawn_blocking(move || {
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            let mut dir = std::fs::DirBuilder::new();
            dir.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
            dir.create(parent).map_err(|e| {
                StoreError::Unavailable(format!("create directory {}: {e}", parent.display()))
            })?;
        }
        let mut open = std::fs::OpenOptions::new();
        open.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
        match open.open(&file) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(StoreError::Unavailable(format!(
                "create {}: {e}",
                file.display()
            ))),
        }
    })
    .await
    .map_err(|e| StoreError::Other(format!("create database file: {e}")))?
}

/// A batch parameter for `json_each`, serialized as JSON. Batch rows are tuple structs, which
/// serialize as arrays, so a statement reads a row's fields as `j.value ->> 0`, `->> 1`, ...
fn to_json<T: serde::Serialize + ?Sized>(value: &T, what: &str) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(format!("encode {what}: {e}")))
}

// ---- the lifecycle ------------------------------------------------------------------------------------

#[async_trait]
impl Lifecycle for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Other(format!("apply migrations: {e}")))
    }

    async fn ready(&self) -> StoreResult<()> {
        store::sql::migrations_applied(&self.reader, &MIGRATOR).await
    }
}
