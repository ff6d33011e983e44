//! The PostgreSQL backend of the `Store` trait: hand-written SQL run through sqlx runtime queries,
//! and the embedded migrations of `migrations/` (the same tables and columns as the SQLite
//! backend's). It owns the connection pool, work signals between processes (`LISTEN`/`NOTIFY`)
//! and must not know HTTP or the engine.
//!
//! Any number of processes may run against one database: every claim is a
//! `SELECT … FOR UPDATE SKIP LOCKED` under a lease, the idempotency of sends is a constraint of
//! the `sends` table, and a send is expanded only by the holder of its lease, under its row lock.
//!
//! # Connecting
//!
//! [`PgStore::connect`] takes a `postgres://` or `postgresql://` URL as libpq would read it
//! (`postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=...&application_name=...`), plus two
//! parameters of its own, removed before the URL reaches the driver:
//!
//! - `max_connections` — the size of this process's connection pool (default
//!   [`DEFAULT_MAX_CONNECTIONS`]). Each process also holds one more connection for `LISTEN`
//!   while its engine runs. N processes need N × (`max_connections` + 1) connections of the
//!   server's `max_connections`.
//! - `statement_timeout` — the server-side limit of one statement, in PostgreSQL's syntax
//!   (`30s`, `500ms`, `0` for none; default [`DEFAULT_STATEMENT_TIMEOUT`]). Migrations run
//!   without it. Transactions left idle are ended by the server after
//!   [`IDLE_IN_TRANSACTION_TIMEOUT`], so a stuck process cannot hold row locks for long.
//!
//! [`PgStore::connect_with`] takes the same settings as [`PgStoreOptions`].
//!
//! This build has no TLS support in its driver: reach the server over a trusted network, a
//! Unix socket (`?host=/var/run/postgresql`) or a local TLS-terminating proxy.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor, Postgres, Transaction};
use store::sql::{account, db, id_key, now_millis, settle, Ending};
use store::{attributes_from_json, attributes_to_json, Lifecycle, StoreError, StoreResult};

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
mod signals;
mod subscriptions;
mod tracking;
mod transfer;

/// The migrations in `crates/store-postgres/migrations`, compiled into the binary.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Pool size when the URL does not say.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// Server-side limit of one statement when the URL does not say.
pub const DEFAULT_STATEMENT_TIMEOUT: &str = "30s";
/// A transaction idle this long is ended by the server (its locks released).
pub const IDLE_IN_TRANSACTION_TIMEOUT: &str = "60s";
/// How long a task waits for a pooled connection before the store reports itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// How the store connects: the driver's options and the pool's.
#[derive(Clone)]
pub struct PgStoreOptions {
    /// Where and as whom (host, port, user, password, database, TLS mode, ...).
    pub connect: PgConnectOptions,
    /// Connections in this process's pool (at least 1).
    pub max_connections: u32,
    /// PostgreSQL's `statement_timeout` (`"30s"`, `"0"` for none).
    pub statement_timeout: String,
}

impl std::fmt::Debug for PgStoreOptions {
    /// The connect options hold the password: only where they point is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStoreOptions")
            .field("host", &self.connect.get_host())
            .field("port", &self.connect.get_port())
            .field("database", &self.connect.get_database())
            .field("max_connections", &self.max_connections)
            .field("statement_timeout", &self.statement_timeout)
            .finish_non_exhaustive()
    }
}

impl PgStoreOptions {
    /// Reads a `postgres://` / `postgresql://` URL with the optional `max_connections` and
    /// `statement_timeout` parameters (see the crate documentation).
    pub fn from_url(url: &str) -> StoreResult<PgStoreOptions> {
        let invalid = |why: String| StoreError::Other(format!("invalid PostgreSQL URL: {why}"));
        let mut parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(invalid(format!(
                "the scheme is {:?}, not postgres or postgresql",
                parsed.scheme()
            )));
        }
        let mut max_connections = DEFAULT_MAX_CONNECTIONS;
        let mut statement_timeout = DEFAULT_STATEMENT_TIMEOUT.to_string();
        let mut rest = Vec::new();
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "max_connections" => {
                    max_connections = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| {
                            invalid(format!(
                                "max_connections must be a whole number of at least 1, not {value:?}"
                            ))
                        })?;
                }
                "statement_timeout" => {
                    let ok = !value.is_empty()
                        && value
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == ' ');
                    if !ok {
                        return Err(invalid(format!(
                            "statement_timeout must be a duration such as 30s or 0, not {value:?}"
                        )));
                    }
                    statement_timeout = value.into_owned();
                }
                _ => rest.push((key.into_owned(), value.into_owned())),
            }
        }
        if rest.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(rest);
        }
        let connect =
            PgConnectOptions::from_str(parsed.as_str()).map_err(|e| invalid(format!("{e}")))?;
        Ok(PgStoreOptions {
            connect,
            max_connections,
            statement_timeout,
        })
    }
}

/// A Tidings store in one PostgreSQL database, shared by any number of processes.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The options connections are made with (the `LISTEN` connection uses them too).
    connect: PgConnectOptions,
    /// Asks the notifier task to tell other processes that work may be available.
    signal: signals::Signal,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("host", &self.connect.get_host())
            .field("database", &self.connect.get_database())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` (see the crate documentation for its parameters) and
    /// checks that it answers. Applies no migrations: call [`Lifecycle::migrate`].
    pub async fn connect(url: &str) -> StoreResult<PgStore> {
        PgStore::connect_with(PgStoreOptions::from_url(url)?).await
    }

    pub async fn connect_with(options: PgStoreOptions) -> StoreResult<PgStore> {
        let connect = options.connect.clone().options([
            ("statement_timeout", options.statement_timeout.as_str()),
            (
                "idle_in_transaction_session_timeout",
                IDLE_IN_TRANSACTION_TIMEOUT,
            ),
        ]);
        // No ping before each acquire (a round trip per operation): a connection the server
        // dropped fails one operation as Unavailable and is then discarded.
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(Duration::from_secs(600))
            .max_lifetime(Duration::from_secs(1800))
            .test_before_acquire(false)
            .connect_with(connect.clone())
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot connect to PostgreSQL at {}:{}: {e}",
                    connect.get_host(),
                    connect.get_port()
                ))
            })?;
        let signal = signals::Signal::start(pool.clone());
        Ok(PgStore {
            pool,
            connect,
            signal,
        })
    }

    /// Closes every connection. Further calls fail as Unavailable.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a transaction (READ COMMITTED: every statement sees what committed before it;
    /// row locks order the writers).
    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db("begin transaction"))
    }
}

// ---- the lifecycle ------------------------------------------------------------------------------------

#[async_trait]
impl Lifecycle for PgStore {
    /// Applies pending migrations on a connection of its own without a statement timeout (an
    /// index on a large table may take long). sqlx serializes concurrent migrators with an
    /// advisory lock, so processes starting together migrate once.
    async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(db("connect to migrate"))?
            .detach();
        let outcome = async {
            // No statement timeout, and no notices of what already exists on each start.
            conn.execute("SET statement_timeout = 0; SET client_min_messages = warning")
                .await
                .map_err(db("prepare the migration connection"))?;
            // `run_direct` is `run` on a connection; `run` itself trips the compiler's check of
            // the `Send` future this trait method must return.
            MIGRATOR
                .run_direct(&mut conn)
                .await
                .map_err(|e| StoreError::Other(format!("apply migrations: {e}")))
        }
        .await;
        let _ = conn.close().await;
        outcome
    }

    async fn ready(&self) -> StoreResult<()> {
        store::sql::migrations_applied(&self.pool, &MIGRATOR).await
    }

    async fn work_signals(&self) -> StoreResult<Option<BoxStream<'static, ()>>> {
        signals::listen(self.connect.clone()).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parameters_of_the_store_are_read_and_removed() {
        let o = PgStoreOptions::from_url(
            "postgres://u:secret@db.example:6543/tidings?max_connections=25&statement_timeout=5s&application_name=node1",
        )
        .expect("options");
        assert_eq!(o.max_connections, 25);
        assert_eq!(o.statement_timeout, "5s");
        assert_eq!(o.connect.get_host(), "db.example");
        assert_eq!(o.connect.get_port(), 6543);
        assert_eq!(o.connect.get_database(), Some("tidings"));
        assert_eq!(o.connect.get_application_name(), Some("node1"));
        let shown = format!("{o:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn defaults_apply_without_parameters() {
        let o = PgStoreOptions::from_url("postgresql://localhost/tidings").expect("options");
        assert_eq!(o.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(o.statement_timeout, DEFAULT_STATEMENT_TIMEOUT);
    }

    #[test]
    fn bad_parameters_and_other_schemes_are_errors() {
        for url in [
            "postgres://localhost/t?max_connections=0",
            "postgres://localhost/t?max_connections=many",
            "postgres://localhost/t?statement_timeout=5s;DROP",
            "sqlite://tidings.db",
            "not a url",
        ] {
            match PgStoreOptions::from_url(url) {
                Err(StoreError::Other(m)) => assert!(m.contains("PostgreSQL URL"), "{m}"),
                other => panic!("{url}: expected Other, got {:?}", other.map(|_| ())),
            }
        }
    }
}
