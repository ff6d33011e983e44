//! What both backends share about stored messages: the statements both dialects read alike
//! (written once, with `$N` parameters), the binding of their parameters, the row they read
//! and its mapping to [`Message`], and how a patch applies. Transactions and locking stay each
//! backend's own.

use sqlx::{Database, Encode, Type};

use crate::{
    bad_value, strings_from_json, Message, MessagePatch, MessageStatus, Millis, NewMessage,
    Statement, StoreResult,
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

/// Records a new message: bound by [`bind_new_message`].
pub const INSERT_MESSAGE: &str = "INSERT INTO messages (account_pk, id, id_key, name, code, \
     text, status, target_list_ids, exclusion_list_ids, content_url, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)";

/// Writes a patched message back: bound by [`bind_message_update`].
pub const UPDATE_MESSAGE: &str = "UPDATE messages SET name = $2, code = $3, text = $4, \
     status = $5, target_list_ids = $6, exclusion_list_ids = $7, content_url = $8, \
     updated_at = $9 WHERE pk = $1";

/// Binds [`INSERT_MESSAGE`]'s parameters: the owner's pk, the code's canonical string, and the
/// list IDs already encoded as JSON.
pub fn bind_new_message<'q, DB>(
    query: Statement<'q, DB>,
    new: &'q NewMessage,
    account_pk: i64,
    code: &'q str,
    target: String,
    exclusion: String,
) -> Statement<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(account_pk)
        .bind(new.id.as_str())
        .bind(new.id.to_ascii_lowercase())
        .bind(new.name.as_str())
        .bind(code)
        .bind(new.text.as_str())
        .bind(new.status.as_str())
        .bind(target)
        .bind(exclusion)
        .bind(new.content_url.as_deref())
        .bind(new.created_at)
}

/// Binds [`UPDATE_MESSAGE`]'s parameters, the list IDs already encoded as JSON.
pub fn bind_message_update<'q, DB>(
    query: Statement<'q, DB>,
    pk: i64,
    message: &'q Message,
    target: String,
    exclusion: String,
) -> Statement<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(pk)
        .bind(message.name.as_str())
        .bind(message.code.as_str())
        .bind(message.text.as_str())
        .bind(message.status.as_str())
        .bind(target)
        .bind(exclusion)
        .bind(message.content_url.as_deref())
        .bind(message.updated_at)
}

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
