//! What both backends share about accepted sends and their idempotency keys (API.md §4, §5, §7):
//! the send row ([`SendRow`], read by [`select_send!`](crate::select_send)) and its mapping to [`Send`], the send as
//! recorded from a [`NewSend`], the binding of a send's insert, and the reads (`get_send`,
//! `list_sends`, the send of an idempotency key), generic over the database ([`Sql`]).
//! The insert's statement stays each backend's own (PostgreSQL relies on its exclusion
//! constraint, SQLite checks the key in the statement), and so does how a send reaches it
//! (PostgreSQL inserts at once, SQLite through its committer, which batches the writes).

use sqlx::{Executor, FromRow};

use crate::sql::{self, id_key, Arg, Sql};
use crate::{
    bad_value, strings_from_json, strings_to_json, window_columns, window_from_columns, Millis,
    NewSend, Send, SendKind, SendQuery, SendState, StoreError, StoreResult,
};

/// How long an idempotency key names its send (API.md §4). PostgreSQL's
/// `sends_idempotency_window` constraint spells the same number.
pub const IDEMPOTENCY_WINDOW: Millis = 24 * 60 * 60 * 1000;

/// The columns of a [`SendRow`] (`s`: the send, `a`: its account), for `concat!`.
#[doc(hidden)]
#[macro_export]
macro_rules! send_columns {
    () => {
        "SELECT s.token, a.id AS account_id, s.client_id, s.kind, s.message_id, s.code, \
         s.text, s.content_url, s.target_list_ids, s.exclusion_list_ids, \
         s.allow_duplication, s.window_utc_offset_minutes, s.window_start_minute, \
         s.window_end_minute, s.send_time, s.due_at, s.segments, s.encoding, s.state, \
         s.count, s.errors, s.created_at, s.completed_at, s.replies, \
         CASE WHEN s.definition_pk IS NULL THEN 0 ELSE 1 END AS transactional"
    };
}

/// `SELECT` of a send row ([`SendRow`]), followed by the given clauses. `with "..."` adds
/// columns; `from "..."` names another source of send rows as `s` (on PostgreSQL, a
/// data-modifying CTE's RETURNING, whose effects the outer query's reads of `sends` would not
/// see).
#[macro_export]
macro_rules! select_send {
    (from $source:literal; with $column:literal; $($clauses:expr),+) => {
        concat!(
            $crate::send_columns!(),
            ", ",
            $column,
            " FROM ",
            $source,
            " JOIN accounts a ON a.pk = s.account_pk ",
            $($clauses),+
        )
    };
    (from $source:literal; $($clauses:expr),+) => {
        concat!(
            $crate::send_columns!(),
            " FROM ",
            $source,
            " JOIN accounts a ON a.pk = s.account_pk ",
            $($clauses),+
        )
    };
    (with $column:literal; $($clauses:expr),+) => {
        $crate::select_send!(from "sends s"; with $column; $($clauses),+)
    };
    ($($clauses:expr),+) => {
        $crate::select_send!(from "sends s"; $($clauses),+)
    };
}

/// One send by its token's key (`$1`) and its account's key (`$2`).
pub const SEND_BY_KEY: &str = select_send!("WHERE s.token_key = $1 AND a.id_key = $2");

/// The position of the `after` send of a listing: its token's key `$2`, its account's pk `$1`.
pub const AFTER_SEND: &str =
    "SELECT created_at, pk FROM sends WHERE account_pk = $1 AND token_key = $2";

/// The sends of the account `$1` (pk), newest first, at most `$2`: all of them.
pub const SENDS: &str =
    select_send!("WHERE s.account_pk = $1 ORDER BY s.created_at DESC, s.pk DESC LIMIT $2");

/// Likewise, after the position (`$3` created_at, `$4` pk).
pub const SENDS_AFTER: &str = select_send!(
    "WHERE s.account_pk = $1 AND (s.created_at, s.pk) < ($3, $4) ",
    "ORDER BY s.created_at DESC, s.pk DESC LIMIT $2"
);

/// Likewise, in the state `$3`.
pub const SENDS_IN_STATE: &str = select_send!(
    "WHERE s.account_pk = $1 AND s.state = $3 ",
    "ORDER BY s.created_at DESC, s.pk DESC LIMIT $2"
);

/// Likewise, in the state `$5`, after the position (`$3` created_at, `$4` pk).
pub const SENDS_IN_STATE_AFTER: &str = select_send!(
    "WHERE s.account_pk = $1 AND s.state = $5 AND (s.created_at, s.pk) < ($3, $4) ",
    "ORDER BY s.created_at DESC, s.pk DESC LIMIT $2"
);

/// The latest send of an idempotency key (`$1` client key, `$2` key, `$5` account key) created
/// after `$3 - $4` (now less the window), with the hash of its request.
pub const KEYED_SEND: &str = select_send!(
    with "s.request_hash AS earlier_request_hash";
    "WHERE s.idempotency_client_key = $1 AND s.idempotency_key = $2 AND a.id_key = $5 ",
    "AND s.created_at > $3 - $4 ORDER BY s.created_at DESC, s.pk DESC LIMIT 1"
);

/// A send as [`select_send!`](crate::select_send) reads it.
#[derive(sqlx::FromRow)]
pub struct SendRow {
    token: String,
    account_id: String,
    client_id: Option<String>,
    kind: String,
    message_id: String,
    code: String,
    text: String,
    content_url: Option<String>,
    target_list_ids: String,
    exclusion_list_ids: String,
    /// 0 or 1.
    allow_duplication: i32,
    window_utc_offset_minutes: Option<i32>,
    window_start_minute: Option<i32>,
    window_end_minute: Option<i32>,
    send_time: Option<i64>,
    due_at: i64,
    segments: i32,
    encoding: String,
    state: String,
    count: i64,
    errors: String,
    created_at: i64,
    completed_at: Option<i64>,
    /// 0 or 1.
    replies: i32,
    /// 1: a transactional send (it names a definition, migration 0013).
    transactional: i32,
}

impl SendRow {
    pub fn into_send(self) -> StoreResult<Send> {
        let window = window_from_columns(
            &self.token,
            (
                self.window_utc_offset_minutes,
                self.window_start_minute,
                self.window_end_minute,
            ),
        )?;
        Ok(Send {
            kind: match SendKind::parse(&self.kind) {
                // Replies are stored as contact sends with the `replies` flag (migration 0004).
                Some(SendKind::Contact) if self.replies != 0 => SendKind::Mo,
                // So are transactional sends, with their definition (migration 0013).
                Some(SendKind::Contact) if self.transactional != 0 => SendKind::Transactional,
                Some(kind) => kind,
                None => return Err(bad_value("send kind", &self.kind)),
            },
            state: SendState::parse(&self.state)
                .ok_or_else(|| bad_value("send state", &self.state))?,
            target_list_ids: strings_from_json(&self.target_list_ids, "target list IDs")?,
            exclusion_list_ids: strings_from_json(&self.exclusion_list_ids, "exclusion list IDs")?,
            errors: strings_from_json(&self.errors, "send errors")?,
            window,
            token: self.token,
            account_id: self.account_id,
            client_id: self.client_id,
            message_id: self.message_id,
            code: self.code,
            text: self.text,
            content_url: self.content_url,
            allow_duplication: self.allow_duplication != 0,
            send_time: self.send_time,
            due_at: self.due_at,
            segments: self.segments,
            encoding: self.encoding,
            count: self.count,
            created_at: self.created_at,
            completed_at: self.completed_at,
        })
    }
}

/// A send and the hash of the request that created it, as [`KEYED_SEND`] reads them.
#[derive(sqlx::FromRow)]
pub struct KeyedSendRow {
    #[sqlx(flatten)]
    send: SendRow,
    earlier_request_hash: Option<String>,
}

/// The send as recorded from `new`.
pub fn accepted(new: NewSend, account_id: String) -> Send {
    Send {
        token: new.token,
        account_id,
        client_id: new.client_id,
        kind: new.kind,
        message_id: new.message_id.as_str().to_string(),
        code: new.code,
        text: new.text,
        content_url: new.content_url,
        target_list_ids: new.target_list_ids,
        exclusion_list_ids: new.exclusion_list_ids,
        allow_duplication: new.allow_duplication,
        window: new.window,
        send_time: new.send_time,
        due_at: new.due_at,
        segments: new.segments,
        encoding: new.encoding.as_str().to_string(),
        state: SendState::New,
        count: 0,
        errors: Vec::new(),
        created_at: new.created_at,
        completed_at: None,
    }
}

/// How a kind is spelled in `sends.kind` (replies: 'contact' with the `replies` flag;
/// transactional sends: 'contact' with their definition).
pub fn stored_kind(kind: SendKind) -> &'static str {
    match kind {
        SendKind::Mo | SendKind::Transactional => SendKind::Contact.as_str(),
        other => other.as_str(),
    }
}

/// The columns a send's insert lists, in the order of its parameters `$1`…`$24` (the account
/// resolves from its key `$3`; state, count and errors are the new send's). The backends' insert
/// statements differ only in how they keep an idempotency key's send unique.
#[macro_export]
macro_rules! insert_send_columns {
    () => {
        "INSERT INTO sends (token, token_key, account_pk, client_id, kind, message_id, code, \
         text, content_url, target_list_ids, exclusion_list_ids, allow_duplication, \
         window_utc_offset_minutes, window_start_minute, window_end_minute, send_time, due_at, \
         segments, encoding, state, count, errors, created_at, idempotency_client_key, \
         idempotency_key, request_hash, replies) "
    };
}

/// Inserts `new` with `statement` (a backend's, with the parameters of [`insert_send_columns!`];
/// `$25`, when `window` is set, is the idempotency window). The account ID when inserted; `None`
/// when the account does not exist or the idempotency key names an earlier send.
pub async fn insert<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    statement: &'static str,
    window: Option<Millis>,
    new: &NewSend,
) -> StoreResult<Option<String>>
where
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    let target = strings_to_json(&new.target_list_ids)?;
    let exclusion = strings_to_json(&new.exclusion_list_ids)?;
    let idempotency = new.idempotency.as_ref();
    let (window_offset, window_start, window_end) = window_columns(new.window.as_ref());
    let mut query = sqlx::query_scalar::<DB, String>(statement)
        .arg(new.token.as_str())
        .arg(id_key(&new.token))
        .arg(id_key(&new.account_id))
        .arg(&new.client_id)
        .arg(stored_kind(new.kind))
        .arg(new.message_id.as_str())
        .arg(new.code.as_str())
        .arg(new.text.as_str())
        .arg(&new.content_url)
        .arg(target)
        .arg(exclusion)
        .arg(i32::from(new.allow_duplication))
        .arg(window_offset)
        .arg(window_start)
        .arg(window_end)
        .arg(new.send_time)
        .arg(new.due_at)
        .arg(new.segments)
        .arg(new.encoding.as_str())
        .arg(new.created_at)
        .arg(idempotency.map(|i| id_key(&i.client_id)))
        .arg(idempotency.map(|i| i.key.as_str()))
        .arg(idempotency.map(|i| i.request_hash.as_str()))
        .arg(i32::from(new.kind == SendKind::Mo));
    if let Some(window) = window {
        query = query.arg(window);
    }
    query
        .fetch_optional(db)
        .await
        .map_err(sql::db("insert send"))
}

pub async fn get_send<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    account_id: &str,
    token: &str,
) -> StoreResult<Send>
where
    SendRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, SendRow>(SEND_BY_KEY)
        .arg(id_key(token))
        .arg(id_key(account_id))
        .fetch_optional(db)
        .await
        .map_err(sql::db("get send"))?
        .ok_or(StoreError::NotFound)?
        .into_send()
}

/// Newest first by (created_at, pk), keyset-paged from the `after` send. One static statement
/// per combination of filters, so each can use its own index. `unlimited` is the `LIMIT` that
/// sets none (PostgreSQL: NULL; SQLite: a negative one).
pub async fn list_sends<'e, DB, E>(
    db: E,
    account_id: &str,
    query: SendQuery,
    unlimited: Option<i64>,
) -> StoreResult<Vec<Send>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    crate::account_rows::AccountRef: for<'r> FromRow<'r, DB::Row>,
    (i64, i64): for<'r> FromRow<'r, DB::Row>,
    SendRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let after: Option<(i64, i64)> = match &query.after {
        Some(token) => Some(
            sqlx::query_as::<DB, (i64, i64)>(AFTER_SEND)
                .arg(owner.pk)
                .arg(id_key(token))
                .fetch_optional(db)
                .await
                .map_err(sql::db("find the `after` send"))?
                .ok_or(StoreError::NotFound)?,
        ),
        None => None,
    };
    let limit = if query.limit == 0 {
        unlimited
    } else {
        Some(i64::from(query.limit))
    };
    let state = query.state.map(SendState::as_str);
    let statement = match (state, after) {
        (None, None) => SENDS,
        (None, Some(_)) => SENDS_AFTER,
        (Some(_), None) => SENDS_IN_STATE,
        (Some(_), Some(_)) => SENDS_IN_STATE_AFTER,
    };
    let mut q = sqlx::query_as::<DB, SendRow>(statement)
        .arg(owner.pk)
        .arg(limit);
    if let Some((after_at, after_pk)) = after {
        q = q.arg(after_at).arg(after_pk);
    }
    if let Some(state) = state {
        q = q.arg(state);
    }
    q.fetch_all(db)
        .await
        .map_err(sql::db("list sends"))?
        .into_iter()
        .map(SendRow::into_send)
        .collect()
}

/// The latest send that `client_key` (lowercased client ID) created for the account
/// `account_key` (lowercased account ID) with `key` within 24 hours before `now`, and the hash
/// of its request.
pub async fn find_keyed<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    account_key: &str,
    client_key: &str,
    key: &str,
    now: Millis,
) -> StoreResult<Option<(Send, String)>>
where
    KeyedSendRow: for<'r> FromRow<'r, DB::Row>,
{
    let Some(earlier) = sqlx::query_as::<DB, KeyedSendRow>(KEYED_SEND)
        .arg(client_key)
        .arg(key)
        .arg(now)
        .arg(IDEMPOTENCY_WINDOW)
        .arg(account_key)
        .fetch_optional(db)
        .await
        .map_err(sql::db("read the send of an idempotency key"))?
    else {
        return Ok(None);
    };
    let request_hash = earlier.earlier_request_hash.ok_or_else(|| {
        StoreError::Other("a send with an idempotency key has no request hash".to_string())
    })?;
    Ok(Some((earlier.send.into_send()?, request_hash)))
}
