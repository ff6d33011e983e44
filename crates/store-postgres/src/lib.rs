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
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use futures::stream::BoxStream;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor, Postgres, Transaction};
use store::{
    AccessToken, Account, Attributes, ClaimedRecipient, Client, Code, CodeOptOut, CodePatch,
    Contact, ContactAudience, ContactList, ContactRow, CreatedSend, DispatchSend, Expansion,
    HistoryEntry, InboundRecord, InboundText, JobUpdate, Keyword, KeywordPatch, ListJob,
    MemberCounts, Message, MessagePatch, Millis, MoBatch, NewAccessToken, NewAccount, NewClient,
    NewCode, NewKeyword, NewList, NewListJob, NewMessage, NewSend, OutboxEntry, OutboxItem,
    QueueGauges, Receipt, Send, SendCounts, SendQuery, Store, StoreError, StoreResult,
    SubmissionResult, SubscribeTo, Subscription, SubscriptionStatus, TrackingRow,
};

mod accounts;
mod clients;
mod codes;
mod contact;
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
pub mod test_database;
mod tracking;
mod transfer;

pub use test_database::TestDatabase;

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
    /// checks that it answers. Applies no migrations: call [`Store::migrate`].
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

// ---- helpers shared by the modules --------------------------------------------------------------

/// What a transaction's work decided: keep its writes, or end it without any.
pub(crate) enum Ending<T> {
    Commit(T),
    Rollback(T),
}

/// Ends `tx` as its work decided, and rolls it back at once when the work failed. A transaction
/// that is only dropped is rolled back when its connection is next checked, some time later,
/// holding its row locks meanwhile: another process's `SKIP LOCKED` claim would skip those rows.
pub(crate) async fn settle<T>(
    tx: Transaction<'static, Postgres>,
    work: StoreResult<Ending<T>>,
    context: &'static str,
) -> StoreResult<T> {
    match work {
        Ok(Ending::Commit(value)) => {
            tx.commit().await.map_err(db(context))?;
            Ok(value)
        }
        Ok(Ending::Rollback(value)) => {
            tx.rollback().await.map_err(db(context))?;
            Ok(value)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// The lookup key of an ID: IDs match ignoring ASCII case (API.md §1, §3).
fn id_key(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// The wall clock, for the two trait methods that take no `now` (revoking a client, removing a
/// member).
fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Maps a sqlx error, with what the store was doing, to the store's error type.
fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| map_error(context, error)
}

/// Like [`db`], but a foreign-key violation means the parent row (a code, a keyword, a list) was
/// deleted by another transaction since it was looked up: NotFound, as if it had gone before.
fn parent_gone(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(e) if e.code().as_deref() == Some("23503") => StoreError::NotFound,
        _ => map_error(context, error),
    }
}

fn map_error(context: &str, error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(e) => {
            let code = e.code().map(|c| c.into_owned()).unwrap_or_default();
            match code.as_str() {
                // unique_violation, exclusion_violation
                "23505" | "23P01" => StoreError::Conflict(format!("{context}: {}", e.message())),
                // serialization_failure, deadlock_detected, lock_not_available, query_canceled
                // (statement timeout), admin/crash shutdown, cannot_connect_now,
                // too_many_connections, and the connection exception class.
                "40001" | "40P01" | "55P03" | "57014" | "57P01" | "57P02" | "57P03" | "53300" => {
                    StoreError::Unavailable(format!("{context}: {error}"))
                }
                c if c.starts_with("08") => StoreError::Unavailable(format!("{context}: {error}")),
                _ => StoreError::Other(format!("{context}: {error}")),
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(format!("{context}: {error}")),
        _ => StoreError::Other(format!("{context}: {error}")),
    }
}

fn strings_to_json(values: &[String]) -> StoreResult<String> {
    serde_json::to_string(values).map_err(|e| StoreError::Other(format!("encode strings: {e}")))
}

fn strings_from_json(text: &str, what: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Other(format!("stored {what} are not a JSON string array: {e}")))
}

fn attributes_to_json(attributes: &Attributes) -> StoreResult<String> {
    serde_json::to_string(attributes)
        .map_err(|e| StoreError::Other(format!("encode attributes: {e}")))
}

fn attributes_from_json(text: &str) -> StoreResult<Attributes> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Other(format!("stored attributes are not a JSON object: {e}")))
}

fn bad_value(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("stored {what} {value:?} is not valid"))
}

/// A stored 0/1 flag.
fn flag(value: i32) -> bool {
    value != 0
}

/// A flag as stored.
fn flag_value(value: bool) -> i32 {
    i32::from(value)
}

/// The account's surrogate key and canonical ID.
#[derive(Debug, sqlx::FromRow)]
struct AccountRef {
    pk: i64,
    id: String,
}

/// Resolves an account ID (any case); NotFound when there is none.
async fn account<'e, E>(executor: E, id: &str) -> StoreResult<AccountRef>
where
    E: Executor<'e, Database = Postgres>,
{
    sqlx::query_as::<_, AccountRef>("SELECT pk, id FROM accounts WHERE id_key = $1")
        .bind(id_key(id))
        .fetch_optional(executor)
        .await
        .map_err(db("resolve account"))?
        .ok_or(StoreError::NotFound)
}

// ---- the trait ------------------------------------------------------------------------------------

#[async_trait]
impl Store for PgStore {
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
        let applied: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| StoreError::Unavailable(format!("read applied migrations: {e}")))?;
        for migration in MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
        {
            match applied
                .iter()
                .find(|(version, _)| *version == migration.version)
            {
                Some((_, checksum)) if checksum[..] == migration.checksum[..] => {}
                Some(_) => {
                    return Err(StoreError::Unavailable(format!(
                        "migration {} ({}) differs from the one applied",
                        migration.version, migration.description
                    )))
                }
                None => {
                    return Err(StoreError::Unavailable(format!(
                        "migration {} ({}) is not applied",
                        migration.version, migration.description
                    )))
                }
            }
        }
        Ok(())
    }

    async fn work_signals(&self) -> StoreResult<Option<BoxStream<'static, ()>>> {
        signals::listen(self.connect.clone()).await.map(Some)
    }

    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        accounts::create(self, new).await
    }
    async fn get_account(&self, id: &str) -> StoreResult<Account> {
        accounts::get(self, id).await
    }
    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        accounts::list(self).await
    }

    async fn create_client(&self, new: NewClient) -> StoreResult<Client> {
        clients::create(self, new).await
    }
    async fn get_client(&self, client_id: &str) -> StoreResult<Client> {
        clients::get(self, client_id).await
    }
    async fn list_clients(&self, account_id: &str) -> StoreResult<Vec<Client>> {
        clients::list(self, account_id).await
    }
    async fn revoke_client(&self, account_id: &str, client_id: &str) -> StoreResult<()> {
        clients::revoke(self, account_id, client_id).await
    }
    async fn insert_token(&self, new: NewAccessToken) -> StoreResult<()> {
        clients::insert_token(self, new).await
    }
    async fn find_token(&self, token_hash: &str, now: Millis) -> StoreResult<Option<AccessToken>> {
        clients::find_token(self, token_hash, now).await
    }
    async fn replace_client_secret_hash(
        &self,
        client_id: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool> {
        clients::replace_secret_hash(self, client_id, old_hash, new_hash).await
    }
    async fn purge_expired_tokens(&self, now: Millis) -> StoreResult<u64> {
        clients::purge_expired_tokens(self, now).await
    }

    async fn create_code(&self, new: NewCode) -> StoreResult<Code> {
        codes::create_code(self, new).await
    }
    async fn get_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<Code> {
        codes::get_code(self, account_id, id_or_code).await
    }
    async fn list_codes(&self, account_id: &str) -> StoreResult<Vec<Code>> {
        codes::list_codes(self, account_id).await
    }
    async fn delete_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<()> {
        codes::delete_code(self, account_id, id_or_code).await
    }
    async fn update_code(
        &self,
        account_id: &str,
        id_or_code: &str,
        patch: CodePatch,
    ) -> StoreResult<Code> {
        codes::update_code(self, account_id, id_or_code, patch).await
    }
    async fn create_keyword(&self, new: NewKeyword) -> StoreResult<Keyword> {
        codes::create_keyword(self, new).await
    }
    async fn get_keyword(&self, account_id: &str, id: &str) -> StoreResult<Keyword> {
        codes::get_keyword(self, account_id, id).await
    }
    async fn list_keywords(&self, account_id: &str) -> StoreResult<Vec<Keyword>> {
        codes::list_keywords(self, account_id).await
    }
    async fn delete_keyword(&self, account_id: &str, id: &str) -> StoreResult<()> {
        codes::delete_keyword(self, account_id, id).await
    }
    async fn update_keyword(
        &self,
        account_id: &str,
        id: &str,
        patch: KeywordPatch,
    ) -> StoreResult<Keyword> {
        codes::update_keyword(self, account_id, id, patch).await
    }

    async fn create_message(&self, new: NewMessage) -> StoreResult<Message> {
        messages::create(self, new).await
    }
    async fn get_message(&self, account_id: &str, id: &str) -> StoreResult<Message> {
        messages::get(self, account_id, id).await
    }
    async fn list_messages(&self, account_id: &str) -> StoreResult<Vec<Message>> {
        messages::list(self, account_id).await
    }
    async fn update_message(
        &self,
        account_id: &str,
        id: &str,
        patch: MessagePatch,
        now: Millis,
    ) -> StoreResult<Message> {
        messages::update(self, account_id, id, patch, now).await
    }
    async fn delete_message(&self, account_id: &str, id: &str) -> StoreResult<()> {
        messages::delete(self, account_id, id).await
    }

    async fn create_list(&self, new: NewList) -> StoreResult<ContactList> {
        lists::create(self, new).await
    }
    async fn get_list(&self, account_id: &str, id: &str) -> StoreResult<ContactList> {
        lists::get(self, account_id, id).await
    }
    async fn list_lists(&self, account_id: &str) -> StoreResult<Vec<ContactList>> {
        lists::list(self, account_id).await
    }
    async fn delete_list(&self, account_id: &str, id: &str) -> StoreResult<()> {
        lists::delete(self, account_id, id).await
    }
    async fn resolve_lists(
        &self,
        account_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<Option<String>>> {
        lists::resolve(self, account_id, ids).await
    }
    async fn upsert_members(
        &self,
        account_id: &str,
        list_id: &str,
        rows: &[ContactRow],
        subscribe: Option<&SubscribeTo>,
        now: Millis,
    ) -> StoreResult<MemberCounts> {
        lists::upsert_members(self, account_id, list_id, rows, subscribe, now).await
    }
    async fn remove_member(
        &self,
        account_id: &str,
        list_id: &str,
        mobile_number: &str,
    ) -> StoreResult<()> {
        lists::remove_member(self, account_id, list_id, mobile_number).await
    }
    async fn get_contact(&self, account_id: &str, mobile_number: &str) -> StoreResult<Contact> {
        lists::get_contact(self, account_id, mobile_number).await
    }
    async fn contacts_of(&self, account_id: &str, numbers: &[String]) -> StoreResult<Vec<Contact>> {
        lists::contacts_of(self, account_id, numbers).await
    }

    async fn set_subscription(
        &self,
        account_id: &str,
        to: &SubscribeTo,
        mobile_number: &str,
        status: SubscriptionStatus,
        now: Millis,
    ) -> StoreResult<Subscription> {
        subscriptions::set(self, account_id, to, mobile_number, status, now).await
    }
    async fn subscriptions_of(
        &self,
        account_id: &str,
        mobile_number: &str,
    ) -> StoreResult<Vec<Subscription>> {
        subscriptions::of(self, account_id, mobile_number).await
    }
    async fn subscriptions_on_code(
        &self,
        account_id: &str,
        code: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<Subscription>> {
        subscriptions::on_code(self, account_id, code, numbers).await
    }

    async fn create_send(&self, new: NewSend) -> StoreResult<CreatedSend> {
        sends::create(self, new).await
    }
    async fn find_idempotent_send(
        &self,
        account_id: &str,
        client_id: &str,
        key: &str,
        now: Millis,
    ) -> StoreResult<Option<(Send, String)>> {
        sends::find_idempotent(self, account_id, client_id, key, now).await
    }
    async fn get_send(&self, account_id: &str, token: &str) -> StoreResult<Send> {
        sends::get(self, account_id, token).await
    }
    async fn list_sends(&self, account_id: &str, query: SendQuery) -> StoreResult<Vec<Send>> {
        sends::list(self, account_id, query).await
    }

    async fn claim_due_sends(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<Send>> {
        expansion::claim_due_sends(self, owner, now, lease_until, limit).await
    }
    async fn expand_batch(
        &self,
        token: &str,
        owner: &str,
        batch: u32,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Expansion> {
        expansion::expand_batch(self, token, owner, batch, now, lease_until).await
    }
    async fn dispatchable_sends(
        &self,
        now: Millis,
        limit: u32,
        except: &[String],
    ) -> StoreResult<Vec<DispatchSend>> {
        dispatch::dispatchable_sends(self, now, limit, except).await
    }
    async fn pause_send(&self, token: &str, until: Millis) -> StoreResult<()> {
        dispatch::pause_send(self, token, until).await
    }
    async fn claim_recipients(
        &self,
        token: &str,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedRecipient>> {
        dispatch::claim_recipients(self, token, owner, now, lease_until, limit).await
    }
    async fn mark_submitting(
        &self,
        owner: &str,
        ids: &[i64],
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Vec<i64>> {
        dispatch::mark_submitting(self, owner, ids, now, lease_until).await
    }
    async fn renew_leases(
        &self,
        owner: &str,
        ids: &[i64],
        lease_until: Millis,
    ) -> StoreResult<u64> {
        dispatch::renew_leases(self, owner, ids, lease_until).await
    }
    async fn record_submissions(
        &self,
        owner: &str,
        results: &[SubmissionResult],
        now: Millis,
    ) -> StoreResult<()> {
        dispatch::record_submissions(self, owner, results, now).await
    }
    async fn finish_if_done(&self, token: &str, now: Millis) -> StoreResult<bool> {
        dispatch::finish_if_done(self, token, now).await
    }
    async fn recover_expired(&self, now: Millis) -> StoreResult<u64> {
        dispatch::recover_expired(self, now).await
    }
    async fn release_leases(&self, owner: &str) -> StoreResult<()> {
        expansion::release_leases(self, owner).await
    }
    async fn apply_receipts(&self, receipts: &[Receipt], now: Millis) -> StoreResult<u64> {
        dispatch::apply_receipts(self, receipts, now).await
    }
    async fn unmatched_receipts(&self, receipts: &[Receipt]) -> StoreResult<Vec<usize>> {
        dispatch::unmatched_receipts(self, receipts).await
    }
    async fn cancel_send(&self, token: &str, now: Millis) -> StoreResult<u64> {
        dispatch::cancel_send(self, token, now).await
    }
    async fn send_counts(&self, token: &str, now: Millis) -> StoreResult<SendCounts> {
        tracking::send_counts(self, token, now).await
    }
    async fn tracking_page(
        &self,
        token: &str,
        page: u32,
        page_size: u32,
    ) -> StoreResult<Vec<TrackingRow>> {
        tracking::tracking_page(self, token, page, page_size).await
    }
    async fn send_next_at(&self, token: &str) -> StoreResult<Option<Millis>> {
        tracking::send_next_at(self, token).await
    }
    async fn queue_gauges(&self, now: Millis) -> StoreResult<QueueGauges> {
        tracking::queue_gauges(self, now).await
    }

    async fn record_inbound(&self, text: InboundText) -> StoreResult<InboundRecord> {
        inbound::record(self, text).await
    }
    async fn inbound_page(&self, after: i64, limit: u32) -> StoreResult<Vec<InboundRecord>> {
        inbound::page(self, after, limit).await
    }
    async fn codes_for_inbound(&self, carrier: &str, to: &str) -> StoreResult<Vec<Code>> {
        inbound::codes_for_inbound(self, carrier, to).await
    }
    async fn opt_outs_on_code(
        &self,
        account_id: &str,
        code: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<CodeOptOut>> {
        inbound::opt_outs_on_code(self, account_id, code, numbers).await
    }
    async fn record_mo_batches(&self, batches: Vec<MoBatch>) -> StoreResult<()> {
        inbound::record_mo_batches(self, batches).await
    }
    async fn lapse_pending(&self, cutoff: Millis) -> StoreResult<u64> {
        subscriptions::lapse_pending(self, cutoff).await
    }
    async fn create_contact_send(
        &self,
        new: NewSend,
        audience: ContactAudience,
    ) -> StoreResult<CreatedSend> {
        contact::create_contact_send(self, new, audience).await
    }
    async fn history(
        &self,
        account_id: &str,
        token: &str,
        mobile_number: Option<&str>,
    ) -> StoreResult<Vec<HistoryEntry>> {
        contact::history(self, account_id, token, mobile_number).await
    }
    async fn numbers_of_subscriber_key(
        &self,
        account_id: &str,
        subscriber_key: &str,
    ) -> StoreResult<Vec<String>> {
        lists::numbers_of_subscriber_key(self, account_id, subscriber_key).await
    }
    async fn create_list_job(&self, new: NewListJob) -> StoreResult<ListJob> {
        jobs::create(self, new).await
    }
    async fn claim_jobs(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<ListJob>> {
        jobs::claim(self, owner, now, lease_until, limit).await
    }
    async fn record_job(&self, update: &JobUpdate) -> StoreResult<bool> {
        jobs::record(self, update).await
    }
    async fn import_batch(
        &self,
        job: &JobUpdate,
        account_id: &str,
        list_id: &str,
        rows: &[ContactRow],
        subscribe: Option<&SubscribeTo>,
    ) -> StoreResult<Option<MemberCounts>> {
        jobs::import_batch(self, job, account_id, list_id, rows, subscribe).await
    }
    async fn release_jobs(&self, owner: &str) -> StoreResult<u64> {
        jobs::release(self, owner).await
    }
    async fn get_list_job(&self, account_id: &str, token: &str) -> StoreResult<ListJob> {
        jobs::get(self, account_id, token).await
    }
    async fn outbox_append(&self, items: &[OutboxItem]) -> StoreResult<Vec<i64>> {
        outbox::append(self, items).await
    }
    async fn outbox_page(&self, after: i64, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        outbox::page(self, after, limit).await
    }

    async fn tables(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.pool.acquire().await.map_err(db("list tables"))?;
        transfer::tables(&mut conn).await
    }

    async fn export(&self, sink: store::RowSink) -> StoreResult<u64> {
        transfer::export(self, sink).await
    }

    async fn import(&self, rows: store::RowSource) -> StoreResult<u64> {
        transfer::import(self, rows).await
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

    #[test]
    fn flags_are_stored_as_zero_or_one() {
        assert_eq!(flag_value(true), 1);
        assert_eq!(flag_value(false), 0);
        assert!(flag(1) && !flag(0));
    }
}
