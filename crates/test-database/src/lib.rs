//! Scratch databases for tests and benchmarks: a fresh, empty database created on the server a
//! base URL points at, and dropped again when the guard goes.
//!
//! Dev-only: tests and benchmarks depend on it, production crates do not.
//!
//! The variable [`TEST_DATABASE_URL_VAR`] names the server (`postgres://USER@HOST:PORT/DB`: the
//! database named there is only used to run `CREATE DATABASE` from; the user needs the right to
//! create databases). Whoever is told to use it and cannot must fail, not skip.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor, PgConnection};
use store::{StoreError, StoreResult};

use store_postgres::PgStoreOptions;

/// The environment variable naming the PostgreSQL server tests run against.
pub const TEST_DATABASE_URL_VAR: &str = "TIDINGS_TEST_DATABASE_URL";

/// Names of scratch databases start with this.
pub const NAME_PREFIX: &str = "tidings_test_";

/// A database created for one test (or one spawned application); dropped, best effort, with
/// the guard. The drop ends the connections still open to it.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    base: PgStoreOptions,
}

impl TestDatabase {
    /// The base URL from [`TEST_DATABASE_URL_VAR`], if set (and not empty).
    pub fn base_url_from_env() -> Option<String> {
        std::env::var(TEST_DATABASE_URL_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
    }

    /// Creates a fresh database on the server of `base_url`. Unavailable, with a message saying
    /// what was tried, when the server cannot be reached or refuses.
    pub async fn create(base_url: &str) -> StoreResult<TestDatabase> {
        let base = PgStoreOptions::from_url(base_url)?;
        let name = unique_name();
        let mut url = url::Url::parse(base_url)
            .map_err(|e| StoreError::Other(format!("invalid {TEST_DATABASE_URL_VAR}: {e}")))?;
        url.set_path(&format!("/{name}"));
        let mut conn = PgConnection::connect_with(&base.connect)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "{TEST_DATABASE_URL_VAR} names {}:{}, which cannot be reached: {e}",
                    base.connect.get_host(),
                    base.connect.get_port()
                ))
            })?;
        conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .map_err(|e| StoreError::Unavailable(format!("create database {name}: {e}")))?;
        let _ = conn.close().await;
        Ok(TestDatabase {
            name,
            url: url.to_string(),
            base,
        })
    }

    /// [`TestDatabase::create`] for callers that cannot await (it runs on a thread of its own,
    /// so it may be called inside or outside an async runtime).
    pub fn create_blocking(base_url: &str) -> StoreResult<TestDatabase> {
        let base_url = base_url.to_string();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| StoreError::Other(format!("start a runtime: {e}")))?
                .block_on(TestDatabase::create(&base_url))
        })
        .join()
        .map_err(|_| StoreError::Other("creating a test database panicked".into()))?
    }

    /// The URL of the new database (with the base URL's parameters).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    /// Drops the database from a thread of its own (a drop cannot wait for I/O, and may run
    /// inside or outside an async runtime). Failures are ignored: a leftover database is
    /// harmless and easy to find by its name prefix.
    fn drop(&mut self) {
        let name = self.name.clone();
        let connect = self.base.connect.clone();
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect_with(&connect).await {
                    let _ = conn
                        .execute(
                            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                        )
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// A database name no other test of any process on this machine uses now: the process ID, the
/// time and a counter.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{NAME_PREFIX}{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
