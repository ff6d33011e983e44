//! What both backends share about stored messages: the statements both dialects read alike
//! (written once, with `$N` parameters), the row they read and its mapping to [`Message`], how
//! a patch applies, and the operations that run them, generic over the database ([`Sql`]).
//! Only the update's transaction stays each backend's own (PostgreSQL reads the row
//! `FOR UPDATE`; SQLite's write transaction already excludes other writers).

use sqlx::{Executor, FromRow};

use crate::account_rows::AccountRef;
use crate::code_rows::{code_by_string, CodeRef};
use crate::sql::{self, id_key, Arg, Sql};
use crate::{
    bad_value, strings_from_json, strings_to_json, Message, MessagePatch, MessageStatus, Millis,
    NewMessage, StoreError, StoreResult,
};

/// `SELECT` of a message row ([`MessageRow`]), followed by the given clauses.
#[macro_export]
macro_rules! select_message {
    ($($clauses:literal),+) => {
        concat!(
            "SELECT pk, id, name, code, text, status, target_list_ids, exclusion_list_ids, \
             content_url, created_at, updated_at FROM messages ",
            $($clauses),+
        )
    };
}

/// The account's (`$1`, its pk) message by its key (`$2`).
pub const MESSAGE_BY_KEY: &str = select_message!("WHERE account_pk = $1 AND id_key = $2");

/// The account's (`$1`, its pk) messages, oldest first.
pub const MESSAGES_OF_ACCOUNT: &str = select_message!("WHERE account_pk = $1 ORDER BY pk");

/// Records a new message of the account `$1` (its pk).
pub const INSERT_MESSAGE: &str = "INSERT INTO messages (account_pk, id, id_key, name, code, \
     text, status, target_list_ids, exclusion_list_ids, content_url, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)";

/// Writes a patched message (`$1`, its pk) back.
pub const UPDATE_MESSAGE: &str = "UPDATE messages SET name = $2, code = $3, text = $4, \
     status = $5, target_list_ids = $6, exclusion_list_ids = $7, content_url = $8, \
     updated_at = $9 WHERE pk = $1";

/// Deletes the message of the account `$1` (its key) by its key (`$2`).
pub const DELETE_MESSAGE: &str = "DELETE FROM messages \
     WHERE account_pk = (SELECT pk FROM accounts WHERE id_key = $1) AND id_key = $2";

/// Applies a patch's fields other than the code (which the backend resolves to its canonical
/// string first) and stamps the update time.
pub fn apply_message_patch(message: &mut Message, patch: MessagePatch, now: Millis) {
    if let Some(name) = patch.name {
        message.name = name;
    }
    if let Some(text) = patch.text {
        message.text = text;
    }
    if let Some(status) = patch.status {
        message.status = status;
    }
    if let Some(ids) = patch.target_list_ids {
        message.target_list_ids = ids;
    }
    if let Some(ids) = patch.exclusion_list_ids {
        message.exclusion_list_ids = ids;
    }
    if let Some(url) = patch.content_url {
        message.content_url = url;
    }
    message.updated_at = now;
}

/// A message as [`select_message!`] reads it.
#[derive(sqlx::FromRow)]
pub struct MessageRow {
    pub pk: i64,
    id: String,
    name: String,
    code: String,
    text: String,
    status: String,
    target_list_ids: String,
    exclusion_list_ids: String,
    content_url: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl MessageRow {
    pub fn into_message(self, account_id: &str) -> StoreResult<Message> {
        Ok(Message {
            status: MessageStatus::parse(&self.status)
                .ok_or_else(|| bad_value("message status", &self.status))?,
            target_list_ids: strings_from_json(&self.target_list_ids, "target list IDs")?,
            exclusion_list_ids: strings_from_json(&self.exclusion_list_ids, "exclusion list IDs")?,
            id: self.id,
            account_id: account_id.to_string(),
            name: self.name,
            code: self.code,
            text: self.text,
            content_url: self.content_url,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

// ---- the operations both backends run alike ---------------------------------------------------

/// Records a new message naming an existing code of its account.
pub async fn create_message<'e, DB, E>(db: E, new: NewMessage) -> StoreResult<Message>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    CodeRef: for<'r> FromRow<'r, DB::Row>,
{
    let target = strings_to_json(&new.target_list_ids)?;
    let exclusion = strings_to_json(&new.exclusion_list_ids)?;
    let owner = sql::account(db, &new.account_id).await?;
    let (_, code) = code_by_string(db, &owner, &new.code).await?;
    sqlx::query::<DB>(INSERT_MESSAGE)
        .arg(owner.pk)
        .arg(new.id.as_str())
        .arg(id_key(&new.id))
        .arg(new.name.as_str())
        .arg(code.as_str())
        .arg(new.text.as_str())
        .arg(new.status.as_str())
        .arg(target)
        .arg(exclusion)
        .arg(new.content_url.as_deref())
        .arg(new.created_at)
        .execute(db)
        .await
        .map_err(sql::db("insert message"))?;
    Ok(Message {
        id: new.id,
        account_id: owner.id,
        name: new.name,
        code,
        text: new.text,
        status: new.status,
        target_list_ids: new.target_list_ids,
        exclusion_list_ids: new.exclusion_list_ids,
        content_url: new.content_url,
        created_at: new.created_at,
        updated_at: new.created_at,
    })
}

pub async fn get_message<'e, DB, E>(db: E, account_id: &str, id: &str) -> StoreResult<Message>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    MessageRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    sqlx::query_as::<DB, MessageRow>(MESSAGE_BY_KEY)
        .arg(owner.pk)
        .arg(id_key(id))
        .fetch_optional(db)
        .await
        .map_err(sql::db("get message"))?
        .ok_or(StoreError::NotFound)?
        .into_message(&owner.id)
}

pub async fn list_messages<'e, DB, E>(db: E, account_id: &str) -> StoreResult<Vec<Message>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    MessageRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    sqlx::query_as::<DB, MessageRow>(MESSAGES_OF_ACCOUNT)
        .arg(owner.pk)
        .fetch_all(db)
        .await
        .map_err(sql::db("list messages"))?
        .into_iter()
        .map(|row| row.into_message(&owner.id))
        .collect()
}

/// Read, patch, write, inside the caller's transaction: `read` is [`MESSAGE_BY_KEY`] or a
/// backend's locking form of it, so that concurrent patches apply one after the other.
pub async fn update_message_in<DB>(
    conn: &mut DB::Connection,
    read: &'static str,
    account_id: &str,
    id: &str,
    mut patch: MessagePatch,
    now: Millis,
) -> StoreResult<Message>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    CodeRef: for<'r> FromRow<'r, DB::Row>,
    MessageRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(&mut *conn, account_id).await?;
    let row = sqlx::query_as::<DB, MessageRow>(read)
        .arg(owner.pk)
        .arg(id_key(id))
        .fetch_optional(&mut *conn)
        .await
        .map_err(sql::db("get message to update"))?
        .ok_or(StoreError::NotFound)?;
    let pk = row.pk;
    let mut message = row.into_message(&owner.id)?;

    if let Some(code) = patch.code.take() {
        message.code = code_by_string(&mut *conn, &owner, &code).await?.1;
    }
    apply_message_patch(&mut message, patch, now);

    sqlx::query::<DB>(UPDATE_MESSAGE)
        .arg(pk)
        .arg(message.name.as_str())
        .arg(message.code.as_str())
        .arg(message.text.as_str())
        .arg(message.status.as_str())
        .arg(strings_to_json(&message.target_list_ids)?)
        .arg(strings_to_json(&message.exclusion_list_ids)?)
        .arg(message.content_url.as_deref())
        .arg(message.updated_at)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("update message"))?;
    Ok(message)
}

/// One statement.
pub async fn delete_message<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    account_id: &str,
    id: &str,
) -> StoreResult<()> {
    let deleted = sqlx::query::<DB>(DELETE_MESSAGE)
        .arg(id_key(account_id))
        .arg(id_key(id))
        .execute(db)
        .await
        .map_err(sql::db("delete message"))
        .map(sql::affected::<DB>)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Implements [`MessageStore`](crate::MessageStore) for a backend's store type with the
/// operations above on the sqlx `database`: `reads` names the field (a pool) that runs the reads,
/// `writes` the one that runs the single-statement writes, `begin` the store's method that opens its write
/// transaction, and `update_read` the statement [`update_message_in`] reads the message with in
/// it (PostgreSQL's takes the row's lock). The backend crate must depend on `async_trait`.
#[macro_export]
macro_rules! message_store {
    ($store:ty, database: $db:ty, reads: $reads:ident, writes: $writes:ident,
     begin: $begin:ident, update_read: $read:expr) => {
        #[::async_trait::async_trait]
        impl $crate::MessageStore for $store {
            async fn create_message(
                &self,
                new: $crate::NewMessage,
            ) -> $crate::StoreResult<$crate::Message> {
                $crate::message_rows::create_message(&self.$writes, new).await
            }

            async fn get_message(
                &self,
                account_id: &str,
                id: &str,
            ) -> $crate::StoreResult<$crate::Message> {
                $crate::message_rows::get_message(&self.$reads, account_id, id).await
            }

            async fn list_messages(
                &self,
                account_id: &str,
            ) -> $crate::StoreResult<Vec<$crate::Message>> {
                $crate::message_rows::list_messages(&self.$reads, account_id).await
            }

            async fn update_message(
                &self,
                account_id: &str,
                id: &str,
                patch: $crate::MessagePatch,
                now: $crate::Millis,
            ) -> $crate::StoreResult<$crate::Message> {
                // Read, patch, write in one transaction: concurrent patches apply one after
                // the other, none lost.
                let mut tx = self.$begin().await?;
                let work = $crate::message_rows::update_message_in::<$db>(
                    &mut *tx, $read, account_id, id, patch, now,
                )
                .await
                .map($crate::sql::Ending::Commit);
                $crate::sql::settle(tx, work, "commit message update").await
            }

            async fn delete_message(&self, account_id: &str, id: &str) -> $crate::StoreResult<()> {
                $crate::message_rows::delete_message(&self.$writes, account_id, id).await
            }
        }
    };
}
