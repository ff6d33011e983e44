//! What both backends share about contact lists, their memberships and the contacts behind
//! them: the statements both dialects read alike (written once, with `$N` parameters), the rows
//! with their mapping to [`ContactList`] and [`Contact`], and the operations that run them,
//! generic over the database ([`Sql`]). A batch of numbers or IDs travels as an array on
//! PostgreSQL and as JSON on SQLite: the statements that read one are each backend's own, and
//! the operations here take that statement with the batch encoded as the backend binds it (any
//! `Encode` type). The contacts upsert of an import (row locks on PostgreSQL) and the removal of
//! a member (one statement on PostgreSQL) stay each backend's own.

use std::collections::HashMap;

use sqlx::{Encode, Executor, FromRow, Type};

use crate::account_rows::AccountRef;
use crate::code_rows::{keyword_by_name, KeywordRef};
use crate::sql::{self, id_key, Arg, Sql};
use crate::{
    attributes_from_json, merge_attributes, Contact, ContactList, ContactRow, MemberCounts,
    MergedContact, Millis, NewList, StoreError, StoreResult, SubscribeTo,
};

/// Records a new, empty list of the account `$1` (its pk); `$6`: 1 for a list made by an
/// `importSend` that is not to be listed; `$7`: 1 for one whose memberships count rows.
pub const INSERT_LIST: &str = "INSERT INTO lists (account_pk, id, id_key, name, size, \
     created_at, last_change_at, hidden, counts_rows) VALUES ($1, $2, $3, $4, 0, $5, $5, $6, $7)";

/// The account's (`$1`, its pk) list by its key (`$2`).
pub const LIST_BY_KEY: &str = "SELECT id, name, size, created_at, last_change_at FROM lists \
     WHERE account_pk = $1 AND id_key = $2";

/// The account's (`$1`, its pk) lists, oldest first, but hidden ones.
pub const LISTS_OF_ACCOUNT: &str = "SELECT id, name, size, created_at, last_change_at \
     FROM lists WHERE account_pk = $1 AND hidden = 0 ORDER BY pk";

/// Deletes the list of the account `$1` (its key) by its key (`$2`). Memberships go by ON
/// DELETE CASCADE; contacts stay (they belong to the account).
pub const DELETE_LIST: &str = "DELETE FROM lists \
     WHERE account_pk = (SELECT pk FROM accounts WHERE id_key = $1) AND id_key = $2";

/// The pk of the account's (`$1`, its pk) list by its key (`$2`).
pub const LIST_PK: &str = "SELECT pk, counts_rows FROM lists WHERE account_pk = $1 AND id_key = $2";

/// The numbers of the account's (`$1`, its pk) contacts with the subscriber key `$2`.
pub const NUMBERS_OF_SUBSCRIBER_KEY: &str = "SELECT mobile_number FROM contacts \
     WHERE account_pk = $1 AND subscriber_key = $2 ORDER BY mobile_number";

/// Adds `$2` members to the list `$1` (its pk), changed at `$3`.
pub const GROW_LIST: &str = "UPDATE lists SET size = size + $2, last_change_at = $3 WHERE pk = $1";

/// A list as [`LIST_BY_KEY`] and [`LISTS_OF_ACCOUNT`] read it.
#[derive(sqlx::FromRow)]
pub struct ListRow {
    id: String,
    name: String,
    size: i64,
    created_at: i64,
    last_change_at: i64,
}

impl ListRow {
    pub fn into_list(self, account_id: &str) -> ContactList {
        ContactList {
            id: self.id,
            account_id: account_id.to_string(),
            name: self.name,
            size: self.size,
            created_at: self.created_at,
            last_change_at: self.last_change_at,
        }
    }
}

/// A contact as stored: `SELECT mobile_number, subscriber_key, attributes FROM contacts`.
#[derive(sqlx::FromRow)]
pub struct StoredContact {
    pub mobile_number: String,
    pub subscriber_key: Option<String>,
    pub attributes: String,
}

impl StoredContact {
    pub fn into_contact(self) -> StoreResult<Contact> {
        Ok(Contact {
            attributes: attributes_from_json(&self.attributes)?,
            mobile_number: self.mobile_number,
            subscriber_key: self.subscriber_key,
        })
    }
}

/// A row of [`NUMBERS_OF_SUBSCRIBER_KEY`].
#[derive(sqlx::FromRow)]
pub struct MobileNumber {
    pub mobile_number: String,
}

/// The row of [`LIST_PK`].
#[derive(sqlx::FromRow)]
pub struct ListPk {
    pub pk: i64,
    /// 1 when its memberships count the import rows that made them.
    pub counts_rows: i32,
}

/// What a batch of an import writes to: the account, the list's pk, and the pk of the keyword
/// its numbers are subscribed to.
pub struct BatchTarget {
    pub owner: AccountRef,
    pub list_pk: i64,
    /// Each row of the batch counts: a number already a member gains a copy.
    pub counts_rows: bool,
    pub keyword_pk: Option<i64>,
}

// ---- the operations both backends run alike ---------------------------------------------------

/// Records a new, empty list of an existing account (accounts are never deleted, so resolving
/// it first cannot race with anything).
pub async fn create_list<'e, DB, E>(db: E, new: NewList) -> StoreResult<ContactList>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, &new.account_id).await?;
    sqlx::query::<DB>(INSERT_LIST)
        .arg(owner.pk)
        .arg(new.id.as_str())
        .arg(id_key(&new.id))
        .arg(new.name.as_str())
        .arg(new.created_at)
        .arg(i32::from(new.hidden))
        .arg(i32::from(new.counts_rows))
        .execute(db)
        .await
        .map_err(sql::db("insert list"))?;
    Ok(ContactList {
        id: new.id,
        account_id: owner.id,
        name: new.name,
        size: 0,
        created_at: new.created_at,
        last_change_at: new.created_at,
    })
}

pub async fn get_list<'e, DB, E>(db: E, account_id: &str, id: &str) -> StoreResult<ContactList>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    ListRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let row = sqlx::query_as::<DB, ListRow>(LIST_BY_KEY)
        .arg(owner.pk)
        .arg(id_key(id))
        .fetch_optional(db)
        .await
        .map_err(sql::db("get list"))?
        .ok_or(StoreError::NotFound)?;
    Ok(row.into_list(&owner.id))
}

pub async fn list_lists<'e, DB, E>(db: E, account_id: &str) -> StoreResult<Vec<ContactList>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    ListRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let rows = sqlx::query_as::<DB, ListRow>(LISTS_OF_ACCOUNT)
        .arg(owner.pk)
        .fetch_all(db)
        .await
        .map_err(sql::db("list lists"))?;
    Ok(rows.into_iter().map(|r| r.into_list(&owner.id)).collect())
}

/// One statement.
pub async fn delete_list<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    account_id: &str,
    id: &str,
) -> StoreResult<()> {
    let deleted = sqlx::query::<DB>(DELETE_LIST)
        .arg(id_key(account_id))
        .arg(id_key(id))
        .execute(db)
        .await
        .map_err(sql::db("delete list"))
        .map(sql::affected::<DB>)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn numbers_of_subscriber_key<'e, DB, E>(
    db: E,
    account_id: &str,
    subscriber_key: &str,
) -> StoreResult<Vec<String>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    MobileNumber: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let rows = sqlx::query_as::<DB, MobileNumber>(NUMBERS_OF_SUBSCRIBER_KEY)
        .arg(owner.pk)
        .arg(subscriber_key)
        .fetch_all(db)
        .await
        .map_err(sql::db("find contacts by subscriber key"))?;
    Ok(rows.into_iter().map(|r| r.mobile_number).collect())
}

/// The pk of the account's list; NotFound when there is none.
pub async fn list_pk<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    owner: &AccountRef,
    list_id: &str,
) -> StoreResult<i64>
where
    ListPk: for<'r> FromRow<'r, DB::Row>,
{
    list_row(db, owner, list_id).await.map(|r| r.pk)
}

/// The account's list by its ID (any case): its pk and whether it counts rows.
pub async fn list_row<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    owner: &AccountRef,
    list_id: &str,
) -> StoreResult<ListPk>
where
    ListPk: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, ListPk>(LIST_PK)
        .arg(owner.pk)
        .arg(id_key(list_id))
        .fetch_optional(db)
        .await
        .map_err(sql::db("resolve list"))?
        .ok_or(StoreError::NotFound)
}

/// For each given ID (any case), the canonical ID of the account's list, or `None`: `statement`
/// reads one row per key of the batch `$2` in order (`$1`: the account's pk); `encode` makes
/// the batch parameter of the keys.
pub async fn resolve_lists<'e, 'b, DB, E, B>(
    db: E,
    account_id: &str,
    ids: &[String],
    statement: &'static str,
    encode: impl FnOnce(Vec<String>) -> StoreResult<B>,
) -> StoreResult<Vec<Option<String>>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    B: Encode<'b, DB> + Type<DB> + Send + 'b,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    (Option<String>,): for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys = encode(ids.iter().map(|id| id_key(id)).collect())?;
    let resolved = sqlx::query_as::<DB, (Option<String>,)>(statement)
        .arg(owner.pk)
        .bind(keys)
        .fetch_all(db)
        .await
        .map_err(sql::db("resolve lists"))?;
    resolved_lists(ids.len(), resolved)
}

/// The account's contacts among `numbers`, by number: `statement` reads the [`StoredContact`]s
/// of the account `$1` (its pk) among the batch `$2`, which `encode` makes of the numbers.
pub async fn contacts_of<'e, 'n, DB, E, B>(
    db: E,
    account_id: &str,
    numbers: &'n [String],
    statement: &'static str,
    encode: impl FnOnce(&'n [String]) -> StoreResult<B>,
) -> StoreResult<Vec<Contact>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    B: Encode<'n, DB> + Type<DB> + Send + 'n,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    StoredContact: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let batch = encode(numbers)?;
    sqlx::query_as::<DB, StoredContact>(statement)
        .arg(owner.pk)
        .bind(batch)
        .fetch_all(db)
        .await
        .map_err(sql::db("get contacts"))?
        .into_iter()
        .map(StoredContact::into_contact)
        .collect()
}

/// The one contact of [`contacts_of`](crate::ContactStore::contacts_of) for one number.
pub fn only_contact(contacts: Vec<Contact>) -> StoreResult<Contact> {
    contacts.into_iter().next().ok_or(StoreError::NotFound)
}

/// The canonical IDs `resolve_lists` read, one row per given ID.
pub fn resolved_lists(
    given: usize,
    resolved: Vec<(Option<String>,)>,
) -> StoreResult<Vec<Option<String>>> {
    if resolved.len() != given {
        return Err(StoreError::Other(format!(
            "resolving {} list IDs gave {} rows",
            given,
            resolved.len()
        )));
    }
    Ok(resolved.into_iter().map(|(id,)| id).collect())
}

/// Resolves what a batch of an import writes to, inside its transaction: NotFound when the
/// account, the list or the `subscribe` code or keyword does not exist.
/// One batch of members as `upsert_members` takes it.
#[derive(Debug, Clone, Copy)]
pub struct MemberBatch<'a> {
    pub account_id: &'a str,
    pub list_id: &'a str,
    pub rows: &'a [ContactRow],
    pub subscribe: Option<&'a SubscribeTo>,
    pub now: Millis,
}

/// A batch resolved for writing: its numbers (first seen first), each number's rows merged in
/// batch order (attributes accumulate, a later key wins), and where its members go.
pub struct Prepared<'a> {
    pub numbers: Vec<&'a str>,
    pub pending: std::collections::HashMap<&'a str, MergedContact>,
    pub target: BatchTarget,
}

/// Merges a batch's rows and resolves its account, list and keyword: the batch to write, or
/// the counts of a batch that has nothing to write.
pub async fn prepare<'a, DB>(
    conn: &mut DB::Connection,
    batch: &MemberBatch<'a>,
) -> StoreResult<Result<Prepared<'a>, MemberCounts>>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    ListPk: for<'r> FromRow<'r, DB::Row>,
    KeywordRef: for<'r> FromRow<'r, DB::Row>,
{
    let (numbers, pending) = crate::merge_rows(batch.rows);
    let target = batch_target::<DB>(conn, batch.account_id, batch.list_id, batch.subscribe).await?;
    if numbers.is_empty() {
        return member_counts(batch.rows.len(), 0).map(Err);
    }
    Ok(Ok(Prepared {
        numbers,
        pending,
        target,
    }))
}

pub async fn batch_target<DB>(
    conn: &mut DB::Connection,
    account_id: &str,
    list_id: &str,
    subscribe: Option<&SubscribeTo>,
) -> StoreResult<BatchTarget>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    ListPk: for<'r> FromRow<'r, DB::Row>,
    KeywordRef: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(&mut *conn, account_id).await?;
    let list = list_row(&mut *conn, &owner, list_id).await?;
    let keyword_pk = match subscribe {
        Some(to) => Some(
            keyword_by_name(&mut *conn, &owner, &to.code, &to.keyword)
                .await?
                .0,
        ),
        None => None,
    };
    Ok(BatchTarget {
        owner,
        list_pk: list.pk,
        counts_rows: list.counts_rows != 0,
        keyword_pk,
    })
}

/// Merges the stored contacts of a batch into what the batch makes of them: the batch's
/// attributes over the stored ones, the stored subscriber key where the batch gives none.
pub fn merge_stored(
    pending: &mut HashMap<&str, MergedContact>,
    stored: Vec<StoredContact>,
) -> StoreResult<()> {
    for contact in stored {
        let Some(entry) = pending.get_mut(contact.mobile_number.as_str()) else {
            continue;
        };
        let mut attributes = attributes_from_json(&contact.attributes)?;
        merge_attributes(&mut attributes, &entry.attributes);
        entry.attributes = attributes;
        if entry.subscriber_key.is_none() {
            entry.subscriber_key = contact.subscriber_key;
        }
    }
    Ok(())
}

/// The statements that add an import's batch `$2` to a list and subscribe its numbers, written
/// with [`batch_statements!`] for a backend's form of the batch.
pub struct BatchStatements {
    /// The memberships of the list `$1` (its pk) for the batch, added at `$3`, skipping existing
    /// ones.
    pub add_members: &'static str,
    /// For a list that counts rows: a copy more of each membership of the list `$1` the batch
    /// already has (run before `add_members`, so a new member is one copy).
    pub add_copies: &'static str,
    /// Subscribes the batch to the keyword `$1` for the account `$3` (its pk) at `$4`: new ones
    /// are Subscribed; an opted-out number stays opted out (of the keyword, or of the whole code
    /// by text: API.md §6), a subscribed one keeps its opt-in date, a pending double opt-in is
    /// settled by the import's consent.
    pub subscribe: &'static str,
}

/// The [`BatchStatements`] of a backend: given the `FROM` clause that turns the batch `$2` into
/// rows and the expression of a row's number.
#[macro_export]
macro_rules! batch_statements {
    (from: $from:literal, number: $number:literal) => {
        $crate::list_rows::BatchStatements {
            add_members: concat!(
                "INSERT INTO list_members (list_pk, mobile_number, added_at) SELECT $1, ",
                $number,
                ", $3 FROM ",
                $from,
                " WHERE true ON CONFLICT (list_pk, mobile_number) DO NOTHING"
            ),
            add_copies: concat!(
                "UPDATE list_members SET copies = copies + 1 WHERE list_pk = $1 \
                 AND mobile_number IN (SELECT ",
                $number,
                " FROM ",
                $from,
                ")"
            ),
            subscribe: concat!(
                "INSERT INTO subscriptions (keyword_pk, mobile_number, account_pk, status, \
                 opt_in_date, opt_out_date) SELECT $1, ",
                $number,
                ", $3, ",
                $crate::subscription_status!(Subscribed),
                ", $4, NULL FROM ",
                $from,
                " WHERE NOT EXISTS (SELECT 1 FROM code_opt_outs o WHERE o.mobile_number = ",
                $number,
                " AND o.code_pk = (SELECT code_pk FROM keywords WHERE pk = $1)) \
                 ON CONFLICT (keyword_pk, mobile_number) DO UPDATE SET status = ",
                $crate::subscription_status!(Subscribed),
                ", opt_in_date = excluded.opt_in_date, \
                 pending_since = NULL, pending_previous = NULL \
                 WHERE subscriptions.status = ",
                $crate::subscription_status!(InProgress)
            ),
        }
    };
}

/// How a backend writes the contacts of a prepared batch in its batch form (arrays or JSON):
/// merged with the stored ones (`merge_stored`) and written back, under whatever locks it takes.
/// What it returns is the batch's numbers as its [`ContactsWriter::STATEMENTS`] read them.
pub trait ContactsWriter<DB: Sql> {
    /// The numbers as the backend binds them (an array, a JSON text).
    type Numbers: Send + Sync;
    /// The membership and subscription statements over [`Self::Numbers`].
    const STATEMENTS: BatchStatements;

    fn write_contacts<'a>(
        conn: &'a mut DB::Connection,
        prepared: &'a mut Prepared<'_>,
        now: Millis,
    ) -> impl std::future::Future<Output = StoreResult<Self::Numbers>> + Send + 'a;
}

/// `upsert_members` inside the caller's transaction (an import job writes its checkpoint in the
/// same one): the batch's rows merged, its contacts written by the backend's [`ContactsWriter`],
/// then its memberships and subscriptions — a fixed number of statements whatever its size.
pub async fn upsert_members_in<DB, W>(
    conn: &mut DB::Connection,
    batch: MemberBatch<'_>,
) -> StoreResult<MemberCounts>
where
    DB: Sql,
    W: ContactsWriter<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'b> &'b W::Numbers: Encode<'b, DB> + Type<DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    ListPk: for<'r> FromRow<'r, DB::Row>,
    KeywordRef: for<'r> FromRow<'r, DB::Row>,
{
    let mut prepared = match prepare::<DB>(conn, &batch).await? {
        Ok(prepared) => prepared,
        Err(nothing) => return Ok(nothing),
    };
    let numbers = W::write_contacts(conn, &mut prepared, batch.now).await?;
    // Memberships (the new ones are the rows this inserts) and subscriptions.
    let added =
        add_batch::<DB, _>(conn, &W::STATEMENTS, &prepared.target, &numbers, batch.now).await?;
    member_counts(batch.rows.len(), added)
}

/// Adds the numbers of an import's batch (`batch`, as the backend binds it) to the list and
/// counts the new members into its size and time, then subscribes them to the batch's keyword,
/// if any. The number of members added; a list or keyword deleted meanwhile is NotFound.
pub async fn add_batch<'b, DB, B>(
    conn: &mut DB::Connection,
    statements: &BatchStatements,
    target: &BatchTarget,
    batch: B,
    now: Millis,
) -> StoreResult<u64>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    B: Encode<'b, DB> + Type<DB> + Send + Copy + 'b,
{
    if target.counts_rows {
        sqlx::query::<DB>(statements.add_copies)
            .arg(target.list_pk)
            .bind(batch)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("count repeated rows"))?;
    }
    let added = sqlx::query::<DB>(statements.add_members)
        .arg(target.list_pk)
        .bind(batch)
        .arg(now)
        .execute(&mut *conn)
        .await
        .map_err(sql::parent_gone("insert memberships"))
        .map(sql::affected::<DB>)?;
    grow_list(conn, target.list_pk, added, now).await?;
    if let Some(keyword_pk) = target.keyword_pk {
        sqlx::query::<DB>(statements.subscribe)
            .arg(keyword_pk)
            .bind(batch)
            .arg(target.owner.pk)
            .arg(now)
            .execute(&mut *conn)
            .await
            .map_err(sql::parent_gone("subscribe batch"))?;
    }
    Ok(added)
}

/// Counts `added` new members into the list's size and time (nothing when none was added).
async fn grow_list<DB>(
    conn: &mut DB::Connection,
    list_pk: i64,
    added: u64,
    now: Millis,
) -> StoreResult<()>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    if added > 0 {
        let added = i64::try_from(added)
            .map_err(|_| StoreError::Other(format!("{added} members added")))?;
        sqlx::query::<DB>(GROW_LIST)
            .arg(list_pk)
            .arg(added)
            .arg(now)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("update list size"))?;
    }
    Ok(())
}

/// The counts of a batch of `rows` rows that added `added` members: every other row updated.
pub fn member_counts(rows: usize, added: u64) -> StoreResult<MemberCounts> {
    let total =
        u64::try_from(rows).map_err(|_| StoreError::Other(format!("{rows} rows in one batch")))?;
    Ok(MemberCounts {
        added,
        updated: total.saturating_sub(added),
    })
}

/// Implements [`ContactStore`](crate::ContactStore) for a backend's store type with the
/// operations above: `reads` names the field (a pool) that runs the reads, `writes` the one that
/// runs the single-statement writes, `begin` the store's method that opens its write
/// transaction, `upsert_members_in` [`upsert_members_in`] with the backend's database and
/// [`ContactsWriter`], and the three methods
/// named after theirs are the store's own (same parameters as the trait's): the ones that carry
/// a batch in the backend's form and the removal of a member. The backend crate must depend on
/// `async_trait`.
#[macro_export]
macro_rules! contact_store {
    ($store:ty, reads: $reads:ident, writes: $writes:ident, begin: $begin:ident,
     resolve_lists: $resolve:ident, upsert_members_in: $upsert:expr,
     remove_member: $remove:ident, contacts_of: $contacts:ident) => {
        #[::async_trait::async_trait]
        impl $crate::ContactStore for $store {
            async fn create_list(
                &self,
                new: $crate::NewList,
            ) -> $crate::StoreResult<$crate::ContactList> {
                $crate::list_rows::create_list(&self.$writes, new).await
            }

            async fn get_list(
                &self,
                account_id: &str,
                id: &str,
            ) -> $crate::StoreResult<$crate::ContactList> {
                $crate::list_rows::get_list(&self.$reads, account_id, id).await
            }

            async fn list_lists(
                &self,
                account_id: &str,
            ) -> $crate::StoreResult<Vec<$crate::ContactList>> {
                $crate::list_rows::list_lists(&self.$reads, account_id).await
            }

            async fn delete_list(&self, account_id: &str, id: &str) -> $crate::StoreResult<()> {
                $crate::list_rows::delete_list(&self.$writes, account_id, id).await
            }

            async fn resolve_lists(
                &self,
                account_id: &str,
                ids: &[String],
            ) -> $crate::StoreResult<Vec<Option<String>>> {
                self.$resolve(account_id, ids).await
            }

            async fn upsert_members(
                &self,
                account_id: &str,
                list_id: &str,
                rows: &[$crate::ContactRow],
                subscribe: Option<&$crate::SubscribeTo>,
                now: $crate::Millis,
            ) -> $crate::StoreResult<$crate::MemberCounts> {
                // One batch in one transaction.
                let mut tx = self.$begin().await?;
                let batch = $crate::list_rows::MemberBatch {
                    account_id,
                    list_id,
                    rows,
                    subscribe,
                    now,
                };
                let work = ($upsert)(&mut tx, batch)
                    .await
                    .map($crate::sql::Ending::Commit);
                $crate::sql::settle(tx, work, "commit members").await
            }

            async fn remove_member(
                &self,
                account_id: &str,
                list_id: &str,
                mobile_number: &str,
            ) -> $crate::StoreResult<()> {
                self.$remove(account_id, list_id, mobile_number).await
            }

            async fn get_contact(
                &self,
                account_id: &str,
                mobile_number: &str,
            ) -> $crate::StoreResult<$crate::Contact> {
                $crate::list_rows::only_contact(
                    self.$contacts(account_id, &[mobile_number.to_string()])
                        .await?,
                )
            }

            async fn contacts_of(
                &self,
                account_id: &str,
                numbers: &[String],
            ) -> $crate::StoreResult<Vec<$crate::Contact>> {
                self.$contacts(account_id, numbers).await
            }

            async fn numbers_of_subscriber_key(
                &self,
                account_id: &str,
                subscriber_key: &str,
            ) -> $crate::StoreResult<Vec<String>> {
                $crate::list_rows::numbers_of_subscriber_key(
                    &self.$reads,
                    account_id,
                    subscriber_key,
                )
                .await
            }
        }
    };
}
