//! Running the statements both backends share. [`Sql`] is what the shared code asks of a sqlx
//! database (PostgreSQL and SQLite both are one): parameters bound through [`Arg`] as a
//! [`Value`], so that a function generic over the database needs no bound per parameter type.
//! The error mapping, the account lookup and the ID key every module uses live here too; only
//! statements, locking and transactions stay each backend's own.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::AnyQueryResult;
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::account_rows::{AccountRef, ACCOUNT_REF_BY_KEY};
use crate::{Millis, StoreError, StoreResult};

/// One parameter of a shared statement, in the types the schema uses.
#[derive(Debug, Clone)]
pub enum Value<'q> {
    Int(i64),
    MaybeInt(Option<i64>),
    Small(i32),
    MaybeSmall(Option<i32>),
    Flag(bool),
    Text(Cow<'q, str>),
    MaybeText(Option<Cow<'q, str>>),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        Value::MaybeInt(v)
    }
}
impl From<i32> for Value<'_> {
    fn from(v: i32) -> Self {
        Value::Small(v)
    }
}
impl From<Option<i32>> for Value<'_> {
    fn from(v: Option<i32>) -> Self {
        Value::MaybeSmall(v)
    }
}
impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Flag(v)
    }
}
impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::Text(Cow::Owned(v))
    }
}
impl<'q> From<&'q str> for Value<'q> {
    fn from(v: &'q str) -> Self {
        Value::Text(Cow::Borrowed(v))
    }
}
impl<'q> From<&'q String> for Value<'q> {
    fn from(v: &'q String) -> Self {
        Value::Text(Cow::Borrowed(v.as_str()))
    }
}
impl From<Option<String>> for Value<'_> {
    fn from(v: Option<String>) -> Self {
        Value::MaybeText(v.map(Cow::Owned))
    }
}
impl<'q> From<Option<&'q str>> for Value<'q> {
    fn from(v: Option<&'q str>) -> Self {
        Value::MaybeText(v.map(Cow::Borrowed))
    }
}
impl<'q> From<&'q Option<String>> for Value<'q> {
    fn from(v: &'q Option<String>) -> Self {
        Value::MaybeText(v.as_deref().map(Cow::Borrowed))
    }
}

/// Binds a [`Value`] with the inherent `bind` of a sqlx query type.
macro_rules! bind_value {
    ($query:expr, $value:expr) => {
        match $value {
            Value::Int(v) => $query.bind(v),
            Value::MaybeInt(v) => $query.bind(v),
            Value::Small(v) => $query.bind(v),
            Value::MaybeSmall(v) => $query.bind(v),
            Value::Flag(v) => $query.bind(v),
            Value::Text(Cow::Borrowed(v)) => $query.bind(v),
            Value::Text(Cow::Owned(v)) => $query.bind(v),
            Value::MaybeText(Some(Cow::Borrowed(v))) => $query.bind(Some(v)),
            Value::MaybeText(Some(Cow::Owned(v))) => $query.bind(Some(v)),
            Value::MaybeText(None) => $query.bind(None::<String>),
        }
    };
}

/// A sqlx database the shared statements run on: implemented for every database whose
/// arguments and parameter types are the ones the schema uses (PostgreSQL and SQLite).
pub trait Sql:
    Sized + for<'q> Database<Arguments<'q>: IntoArguments<'q, Self>, QueryResult: Into<AnyQueryResult>>
{
    fn bind<'q>(
        query: Query<'q, Self, Self::Arguments<'q>>,
        value: Value<'q>,
    ) -> Query<'q, Self, Self::Arguments<'q>>;
    fn bind_as<'q, O>(
        query: QueryAs<'q, Self, O, Self::Arguments<'q>>,
        value: Value<'q>,
    ) -> QueryAs<'q, Self, O, Self::Arguments<'q>>;
    fn bind_scalar<'q, O>(
        query: QueryScalar<'q, Self, O, Self::Arguments<'q>>,
        value: Value<'q>,
    ) -> QueryScalar<'q, Self, O, Self::Arguments<'q>>;
}

impl<DB> Sql for DB
where
    DB: for<'q> Database<Arguments<'q>: IntoArguments<'q, DB>, QueryResult: Into<AnyQueryResult>>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    i32: for<'q> Encode<'q, DB> + Type<DB>,
    bool: for<'q> Encode<'q, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    Option<i64>: for<'q> Encode<'q, DB> + Type<DB>,
    Option<i32>: for<'q> Encode<'q, DB> + Type<DB>,
    Option<String>: for<'q> Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
{
    fn bind<'q>(
        query: Query<'q, DB, DB::Arguments<'q>>,
        value: Value<'q>,
    ) -> Query<'q, DB, DB::Arguments<'q>> {
        bind_value!(query, value)
    }
    fn bind_as<'q, O>(
        query: QueryAs<'q, DB, O, DB::Arguments<'q>>,
        value: Value<'q>,
    ) -> QueryAs<'q, DB, O, DB::Arguments<'q>> {
        bind_value!(query, value)
    }
    fn bind_scalar<'q, O>(
        query: QueryScalar<'q, DB, O, DB::Arguments<'q>>,
        value: Value<'q>,
    ) -> QueryScalar<'q, DB, O, DB::Arguments<'q>> {
        bind_value!(query, value)
    }
}

/// `.arg(value)`: binds the next parameter of a shared statement, on any [`Sql`] database.
pub trait Arg<'q>: Sized {
    fn arg(self, value: impl Into<Value<'q>>) -> Self;
}

impl<'q, DB: Sql> Arg<'q> for Query<'q, DB, DB::Arguments<'q>> {
    fn arg(self, value: impl Into<Value<'q>>) -> Self {
        DB::bind(self, value.into())
    }
}

impl<'q, DB: Sql, O> Arg<'q> for QueryAs<'q, DB, O, DB::Arguments<'q>> {
    fn arg(self, value: impl Into<Value<'q>>) -> Self {
        DB::bind_as(self, value.into())
    }
}

impl<'q, DB: Sql, O> Arg<'q> for QueryScalar<'q, DB, O, DB::Arguments<'q>> {
    fn arg(self, value: impl Into<Value<'q>>) -> Self {
        DB::bind_scalar(self, value.into())
    }
}

/// How many rows a statement changed, on any [`Sql`] database.
pub fn affected<DB: Sql>(result: DB::QueryResult) -> u64 {
    result.into().rows_affected()
}

/// The lookup key of an ID: IDs match ignoring ASCII case (API.md §1, §3).
pub fn id_key(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// The wall clock, for the trait methods that take no `now` (revoking a client, removing a
/// member).
pub fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Maps a sqlx error, with what the store was doing, to the store's error type.
pub fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| map_error(context, error)
}

/// Like [`db`], but a foreign-key violation means the parent row (a code, a keyword, a list) was
/// deleted by another transaction since it was looked up: NotFound, as if it had gone before.
pub fn parent_gone(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(e) if e.kind() == ErrorKind::ForeignKeyViolation => {
            StoreError::NotFound
        }
        _ => map_error(context, error),
    }
}

/// A unique or exclusion violation is a Conflict; what says the database is busy, overloaded or
/// out of reach (a pool timeout, a broken connection, the transient codes of [`transient`]) is
/// Unavailable; a missing row is NotFound; anything else is Other.
pub fn map_error(context: &str, error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(e) if conflict(e.as_ref()) => {
            StoreError::Conflict(format!("{context}: {}", e.message()))
        }
        sqlx::Error::Database(e) if e.code().is_some_and(|c| transient(&c)) => {
            StoreError::Unavailable(format!("{context}: {error}"))
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(format!("{context}: {error}")),
        _ => StoreError::Other(format!("{context}: {error}")),
    }
}

/// A unique violation, or PostgreSQL's exclusion violation (`23P01`).
fn conflict(e: &dyn DatabaseError) -> bool {
    e.kind() == ErrorKind::UniqueViolation || e.code().as_deref() == Some("23P01")
}

/// The error codes that say "try again": PostgreSQL's SQLSTATEs (five characters) of a
/// serialization failure, a deadlock, a lock not available, a canceled statement (statement
/// timeout), an admin or crash shutdown, a server not accepting connections, too many
/// connections, and the connection exception class `08`; SQLite's result codes (numbers)
/// `SQLITE_BUSY` (5) and `SQLITE_LOCKED` (6) with any extended code: another process holds the
/// database longer than the busy timeout.
pub fn transient(code: &str) -> bool {
    match code.parse::<i32>() {
        Ok(sqlite) if code.len() != 5 => matches!(sqlite & 0xff, 5 | 6),
        _ => {
            matches!(
                code,
                "40001" | "40P01" | "55P03" | "57014" | "57P01" | "57P02" | "57P03" | "53300"
            ) || code.starts_with("08")
        }
    }
}

/// What a transaction's work decided: keep its writes, or end it without any.
pub enum Ending<T> {
    Commit(T),
    Rollback(T),
}

/// Ends `tx` as its work decided, and rolls it back at once when the work failed. A transaction
/// that is only dropped is rolled back when its connection is next checked, some time later,
/// holding its locks meanwhile (on PostgreSQL another process's `SKIP LOCKED` claim would skip
/// those rows; on SQLite the writer connection stays taken).
pub async fn settle<DB: Database, T>(
    tx: Transaction<'static, DB>,
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

/// Resolves an account ID (any case); NotFound when there is none.
pub async fn account<'e, DB, E>(executor: E, id: &str) -> StoreResult<AccountRef>
where
    DB: Sql,
    E: Executor<'e, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, AccountRef>(ACCOUNT_REF_BY_KEY)
        .arg(id_key(id))
        .fetch_optional(executor)
        .await
        .map_err(db("resolve account"))?
        .ok_or(StoreError::NotFound)
}

/// [`Lifecycle::ready`](crate::Lifecycle::ready) of a backend: reads the migrations sqlx recorded
/// as applied (Unavailable when it cannot) and checks `migrator`'s up migrations against them
/// ([`check_migrations`](crate::check_migrations)).
pub async fn migrations_applied<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    migrator: &sqlx::migrate::Migrator,
) -> StoreResult<()>
where
    (i64, Vec<u8>): for<'r> FromRow<'r, DB::Row>,
{
    let applied = sqlx::query_as::<DB, (i64, Vec<u8>)>(
        "SELECT version, checksum FROM _sqlx_migrations WHERE success",
    )
    .fetch_all(db)
    .await
    .map_err(|e| StoreError::Unavailable(format!("read applied migrations: {e}")))?;
    crate::check_migrations(
        &applied,
        migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| crate::EmbeddedMigration {
                version: m.version,
                description: &m.description,
                checksum: &m.checksum,
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::transient;

    #[test]
    fn transient_codes_of_either_backend() {
        for code in ["40001", "40P01", "57014", "08006", "5", "6", "517", "262"] {
            assert!(transient(code), "{code}");
        }
        for code in ["23505", "42P01", "19", "2067", "1"] {
            assert!(!transient(code), "{code}");
        }
    }
}
