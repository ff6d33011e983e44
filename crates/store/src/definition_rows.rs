//! Transactional send definitions (API.md §9): the models, the statements both dialects read
//! alike, and the operations, generic over the database ([`Sql`]). Only the update's read stays
//! each backend's own (PostgreSQL takes the row's lock; SQLite's write transaction already
//! excludes other writers).

use serde::{Deserialize, Serialize};
use sqlx::{Executor, FromRow};

use crate::account_rows::AccountRef;
use crate::sql::{self, id_key, Arg, Sql};
use crate::{bad_value, Millis, StoreError, StoreResult};

/// A definition's status. `Deleted` is an archived definition, listed only when asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefinitionStatus {
    Active,
    Inactive,
    Deleted,
}

impl DefinitionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DefinitionStatus::Active => "Active",
            DefinitionStatus::Inactive => "Inactive",
            DefinitionStatus::Deleted => "Deleted",
        }
    }

    /// `active`, `inactive`, `deleted` in any case.
    pub fn parse(s: &str) -> Option<DefinitionStatus> {
        [
            DefinitionStatus::Active,
            DefinitionStatus::Inactive,
            DefinitionStatus::Deleted,
        ]
        .into_iter()
        .find(|status| status.as_str().eq_ignore_ascii_case(s))
    }
}

/// A send definition as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub account_id: String,
    /// Minted; never changes.
    pub definition_id: String,
    /// As the client spelled it (the minted `deletedDefinitionKey` once archived).
    pub definition_key: String,
    pub name: String,
    pub description: Option<String>,
    pub status: DefinitionStatus,
    pub message: String,
    /// The code's canonical string.
    pub short_code: String,
    pub country_code: Option<String>,
    /// The keyword's canonical spelling.
    pub keyword: String,
    pub auto_add_subscriber: bool,
    pub update_subscriber: bool,
    pub created_at: Millis,
    pub modified_at: Millis,
}

/// What a PATCH changes: each field present replaces the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefinitionPatch {
    pub name: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// Active or Inactive.
    pub status: Option<DefinitionStatus>,
    pub message: Option<String>,
    pub short_code: Option<String>,
    pub country_code: Option<Option<String>>,
    pub keyword: Option<String>,
    pub auto_add_subscriber: Option<bool>,
    pub update_subscriber: Option<bool>,
}

/// The field a listing is ordered by (API.md §9 "Listing").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinitionOrder {
    DefinitionKey,
    Name,
    CreatedDate,
    ModifiedDate,
    Status,
}

impl DefinitionOrder {
    fn column(self) -> &'static str {
        match self {
            DefinitionOrder::DefinitionKey => "key_key",
            DefinitionOrder::Name => "name",
            DefinitionOrder::CreatedDate => "created_at",
            DefinitionOrder::ModifiedDate => "modified_at",
            DefinitionOrder::Status => "status",
        }
    }
}

/// Which definitions a listing shows: without a status filter, all but the archived ones;
/// `eq` one status; `neq` the unarchived ones of any other status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Any,
    Is(DefinitionStatus),
    IsNot(DefinitionStatus),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefinitionQuery {
    pub filter: StatusFilter,
    pub order: DefinitionOrder,
    pub descending: bool,
    /// From 1.
    pub page: u32,
    pub page_size: u32,
}

/// One page of a listing, and how many definitions match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionPage {
    pub definitions: Vec<Definition>,
    pub count: u64,
}

/// `SELECT` of a definition row ([`DefinitionRow`]), followed by the given clauses.
#[macro_export]
macro_rules! select_definition {
    ($($clauses:literal),+) => {
        concat!(
            "SELECT pk, definition_id, definition_key, name, description, status, message, \
             short_code, country_code, keyword, auto_add_subscriber, update_subscriber, \
             created_at, modified_at FROM send_definitions ",
            $($clauses),+
        )
    };
}

/// The account's (`$1`, its pk) unarchived definition by its key folded (`$2`).
pub const DEFINITION_BY_KEY: &str =
    select_definition!("WHERE account_pk = $1 AND key_key = $2 AND status <> 'Deleted'");

const INSERT_DEFINITION: &str = "INSERT INTO send_definitions (account_pk, definition_id, \
     definition_key, key_key, name, description, status, message, short_code, country_code, \
     keyword, auto_add_subscriber, update_subscriber, created_at, modified_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)";

const UPDATE_DEFINITION: &str = "UPDATE send_definitions SET definition_key = $2, key_key = $3, \
     name = $4, description = $5, status = $6, message = $7, short_code = $8, \
     country_code = $9, keyword = $10, auto_add_subscriber = $11, update_subscriber = $12, \
     modified_at = $13 WHERE pk = $1";

/// A definition as [`select_definition!`] reads it.
#[derive(sqlx::FromRow)]
pub struct DefinitionRow {
    pub pk: i64,
    definition_id: String,
    definition_key: String,
    name: String,
    description: Option<String>,
    status: String,
    message: String,
    short_code: String,
    country_code: Option<String>,
    keyword: String,
    auto_add_subscriber: i32,
    update_subscriber: i32,
    created_at: i64,
    modified_at: i64,
}

impl DefinitionRow {
    fn into_definition(self, account_id: &str) -> StoreResult<Definition> {
        Ok(Definition {
            account_id: account_id.to_string(),
            status: DefinitionStatus::parse(&self.status)
                .ok_or_else(|| bad_value("definition status", &self.status))?,
            definition_id: self.definition_id,
            definition_key: self.definition_key,
            name: self.name,
            description: self.description,
            message: self.message,
            short_code: self.short_code,
            country_code: self.country_code,
            keyword: self.keyword,
            auto_add_subscriber: self.auto_add_subscriber != 0,
            update_subscriber: self.update_subscriber != 0,
            created_at: self.created_at,
            modified_at: self.modified_at,
        })
    }
}

// ---- the operations both backends run alike ---------------------------------------------------

/// Records a new definition; a key or a name the account already uses is a Conflict.
pub async fn create_definition<'e, DB, E>(db: E, new: Definition) -> StoreResult<Definition>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, &new.account_id).await?;
    sqlx::query::<DB>(INSERT_DEFINITION)
        .arg(owner.pk)
        .arg(new.definition_id.as_str())
        .arg(new.definition_key.as_str())
        .arg(id_key(&new.definition_key))
        .arg(new.name.as_str())
        .arg(new.description.as_deref())
        .arg(new.status.as_str())
        .arg(new.message.as_str())
        .arg(new.short_code.as_str())
        .arg(new.country_code.as_deref())
        .arg(new.keyword.as_str())
        .arg(i32::from(new.auto_add_subscriber))
        .arg(i32::from(new.update_subscriber))
        .arg(new.created_at)
        .execute(db)
        .await
        .map_err(sql::db("insert definition"))?;
    Ok(Definition {
        account_id: owner.id,
        modified_at: new.created_at,
        ..new
    })
}

/// The account's unarchived definition by its key (any case).
pub async fn get_definition<'e, DB, E>(
    db: E,
    account_id: &str,
    key: &str,
) -> StoreResult<Definition>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    DefinitionRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    sqlx::query_as::<DB, DefinitionRow>(DEFINITION_BY_KEY)
        .arg(owner.pk)
        .arg(id_key(key))
        .fetch_optional(db)
        .await
        .map_err(sql::db("get definition"))?
        .ok_or(StoreError::NotFound)?
        .into_definition(&owner.id)
}

/// One page of the account's definitions, and the number that match.
pub async fn list_definitions<'e, DB, E>(
    db: E,
    account_id: &str,
    query: &DefinitionQuery,
) -> StoreResult<DefinitionPage>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    DefinitionRow: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    // `$2`: the status the filter names (unused without one).
    let (condition, status) = match query.filter {
        StatusFilter::Any => ("status <> 'Deleted' AND $2 = $2", "Deleted"),
        StatusFilter::Is(status) => ("status = $2", status.as_str()),
        StatusFilter::IsNot(status) => ("status <> $2 AND status <> 'Deleted'", status.as_str()),
    };
    let (count,): (i64,) = sqlx::query_as::<DB, (i64,)>(&format!(
        "SELECT count(*) FROM send_definitions WHERE account_pk = $1 AND {condition}"
    ))
    .arg(owner.pk)
    .arg(status)
    .fetch_one(db)
    .await
    .map_err(sql::db("count definitions"))?;
    let direction = if query.descending { "DESC" } else { "ASC" };
    let page_size = i64::from(query.page_size.max(1));
    let offset = i64::from(query.page.max(1) - 1) * page_size;
    let rows = sqlx::query_as::<DB, DefinitionRow>(&format!(
        "{} WHERE account_pk = $1 AND {condition} ORDER BY {} {direction}, pk {direction} \
         LIMIT $3 OFFSET $4",
        select_definition!(""),
        query.order.column()
    ))
    .arg(owner.pk)
    .arg(status)
    .arg(page_size)
    .arg(offset)
    .fetch_all(db)
    .await
    .map_err(sql::db("list definitions"))?;
    Ok(DefinitionPage {
        definitions: rows
            .into_iter()
            .map(|row| row.into_definition(&owner.id))
            .collect::<StoreResult<_>>()?,
        count: u64::try_from(count).unwrap_or_default(),
    })
}

/// Read (with `read`: [`DEFINITION_BY_KEY`] or a backend's locking form of it), apply `change`,
/// write, inside the caller's transaction: the definition as written. A name the account
/// already uses is a Conflict.
async fn change_definition_in<DB>(
    conn: &mut DB::Connection,
    read: &'static str,
    locks: crate::tx_rows::TxLocks,
    account_id: &str,
    key: &str,
    change: impl FnOnce(&mut Definition),
) -> StoreResult<Definition>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    DefinitionRow: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(&mut *conn, account_id).await?;
    let row = sqlx::query_as::<DB, DefinitionRow>(read)
        .arg(owner.pk)
        .arg(id_key(key))
        .fetch_optional(&mut *conn)
        .await
        .map_err(sql::db("get definition to change"))?
        .ok_or(StoreError::NotFound)?;
    let pk = row.pk;
    let mut definition = row.into_definition(&owner.id)?;
    let was = definition.status;
    change(&mut definition);
    sqlx::query::<DB>(UPDATE_DEFINITION)
        .arg(pk)
        .arg(definition.definition_key.as_str())
        .arg(id_key(&definition.definition_key))
        .arg(definition.name.as_str())
        .arg(definition.description.as_deref())
        .arg(definition.status.as_str())
        .arg(definition.message.as_str())
        .arg(definition.short_code.as_str())
        .arg(definition.country_code.as_deref())
        .arg(definition.keyword.as_str())
        .arg(i32::from(definition.auto_add_subscriber))
        .arg(i32::from(definition.update_subscriber))
        .arg(definition.modified_at)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("update definition"))?;
    if definition.status != was {
        crate::tx_rows::definition_changed_in::<DB>(
            conn,
            locks,
            pk,
            was,
            definition.status,
            definition.modified_at,
        )
        .await?;
    }
    Ok(definition)
}

/// Applies `patch` to the definition `key` at `now`.
pub async fn update_definition_in<DB>(
    conn: &mut DB::Connection,
    read: &'static str,
    locks: crate::tx_rows::TxLocks,
    account_id: &str,
    key: &str,
    patch: DefinitionPatch,
    now: Millis,
) -> StoreResult<Definition>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    DefinitionRow: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    change_definition_in::<DB>(conn, read, locks, account_id, key, |d| {
        let DefinitionPatch {
            name,
            description,
            status,
            message,
            short_code,
            country_code,
            keyword,
            auto_add_subscriber,
            update_subscriber,
        } = patch;
        d.name = name.unwrap_or(std::mem::take(&mut d.name));
        d.description = description.unwrap_or(d.description.take());
        d.status = status.unwrap_or(d.status);
        d.message = message.unwrap_or(std::mem::take(&mut d.message));
        d.short_code = short_code.unwrap_or(std::mem::take(&mut d.short_code));
        d.country_code = country_code.unwrap_or(d.country_code.take());
        d.keyword = keyword.unwrap_or(std::mem::take(&mut d.keyword));
        d.auto_add_subscriber = auto_add_subscriber.unwrap_or(d.auto_add_subscriber);
        d.update_subscriber = update_subscriber.unwrap_or(d.update_subscriber);
        d.modified_at = now;
    })
    .await
}

/// Archives the definition `key` under `deleted_key` at `now`: its key and name are free at
/// once.
pub async fn archive_definition_in<DB>(
    conn: &mut DB::Connection,
    read: &'static str,
    locks: crate::tx_rows::TxLocks,
    account_id: &str,
    key: &str,
    deleted_key: &str,
    now: Millis,
) -> StoreResult<Definition>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    DefinitionRow: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    change_definition_in::<DB>(conn, read, locks, account_id, key, |d| {
        d.definition_key = deleted_key.to_string();
        d.status = DefinitionStatus::Deleted;
        d.modified_at = now;
    })
    .await
}

/// Implements [`DefinitionStore`](crate::DefinitionStore) for a backend's store type on the
/// sqlx `database`: `reads` names the field (a pool) that runs the reads, `writes` the one that
/// runs the single-statement writes, `begin` the store's method that opens its write
/// transaction, `change_read` the statement the update and the archive read the definition
/// with (PostgreSQL's takes the row's lock), and `locks` its [`TxLocks`](crate::tx_rows::TxLocks).
#[macro_export]
macro_rules! definition_store {
    ($store:ty, database: $db:ty, reads: $reads:ident, writes: $writes:ident,
     begin: $begin:ident, change_read: $read:expr, locks: $locks:expr) => {
        #[::async_trait::async_trait]
        impl $crate::DefinitionStore for $store {
            async fn create_definition(
                &self,
                new: $crate::Definition,
            ) -> $crate::StoreResult<$crate::Definition> {
                $crate::definition_rows::create_definition(&self.$writes, new).await
            }

            async fn get_definition(
                &self,
                account_id: &str,
                key: &str,
            ) -> $crate::StoreResult<$crate::Definition> {
                $crate::definition_rows::get_definition(&self.$reads, account_id, key).await
            }

            async fn list_definitions(
                &self,
                account_id: &str,
                query: &$crate::DefinitionQuery,
            ) -> $crate::StoreResult<$crate::DefinitionPage> {
                $crate::definition_rows::list_definitions(&self.$reads, account_id, query).await
            }

            async fn update_definition(
                &self,
                account_id: &str,
                key: &str,
                patch: $crate::DefinitionPatch,
                now: $crate::Millis,
            ) -> $crate::StoreResult<$crate::Definition> {
                let mut tx = self.$begin().await?;
                let work = $crate::definition_rows::update_definition_in::<$db>(
                    &mut *tx, $read, $locks, account_id, key, patch, now,
                )
                .await
                .map($crate::sql::Ending::Commit);
                $crate::sql::settle(tx, work, "commit definition update").await
            }

            async fn archive_definition(
                &self,
                account_id: &str,
                key: &str,
                deleted_key: &str,
                now: $crate::Millis,
            ) -> $crate::StoreResult<$crate::Definition> {
                let mut tx = self.$begin().await?;
                let work = $crate::definition_rows::archive_definition_in::<$db>(
                    &mut *tx,
                    $read,
                    $locks,
                    account_id,
                    key,
                    deleted_key,
                    now,
                )
                .await
                .map($crate::sql::Ending::Commit);
                $crate::sql::settle(tx, work, "commit definition archive").await
            }
        }
    };
}
