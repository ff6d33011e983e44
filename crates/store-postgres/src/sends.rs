//! Accepted sends and the idempotency keys of the send endpoints (API.md §4, §5, §7).
//! `create_send` is on the API's hot path: one statement, keyed or not. PostgreSQL commits
//! concurrent sends of many connections together on its own (group commit of the WAL), so
//! each send is its own transaction.

use async_trait::async_trait;
use store::SendStore;

use store::{
    window_columns, window_from_columns, CreatedSend, Millis, NewSend, Send, SendKind, SendQuery,
    SendState, StoreError, StoreResult,
};

use crate::{
    account, bad_value, db, flag, flag_value, id_key, strings_from_json, strings_to_json, PgStore,
};

/// How long an idempotency key names its send (API.md §4). The `sends_idempotency_window`
/// constraint of the schema spells the same number.
const IDEMPOTENCY_WINDOW: Millis = 24 * 60 * 60 * 1000;

#[derive(sqlx::FromRow)]
pub(crate) struct SendRow {
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
    replies: i32,
}

impl SendRow {
    pub(crate) fn into_send(self) -> StoreResult<Send> {
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
                Some(SendKind::Contact) if flag(self.replies) => SendKind::Mo,
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
            allow_duplication: flag(self.allow_duplication),
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

/// `SELECT` of a send row, followed by the given clauses.
/// `from` names another source of send rows as `s` (a data-modifying CTE's RETURNING, whose
/// effects the outer query's reads of `sends` would not see).
macro_rules! select_send {
    (from $source:literal; with $column:literal; $($clauses:expr),+) => {
        concat!(
            "SELECT s.token, a.id AS account_id, s.client_id, s.kind, s.message_id, s.code, \
             s.text, s.content_url, s.target_list_ids, s.exclusion_list_ids, \
             s.allow_duplication, s.window_utc_offset_minutes, s.window_start_minute, \
             s.window_end_minute, s.send_time, s.due_at, s.segments, s.encoding, s.state, \
             s.count, s.errors, s.created_at, s.completed_at, s.replies, ",
            $column,
            " FROM ",
            $source,
            " JOIN accounts a ON a.pk = s.account_pk ",
            $($clauses),+
        )
    };
    (with $column:literal; $($clauses:expr),+) => {
        select_send!(from "sends s"; with $column; $($clauses),+)
    };
    (from $source:literal; $($clauses:expr),+) => {
        select_send!(from $source; with "NULL::text AS unused"; $($clauses),+)
    };
    ($($clauses:expr),+) => {
        select_send!(with "NULL::text AS unused"; $($clauses),+)
    };
}
pub(crate) use select_send;

#[async_trait]
impl SendStore for PgStore {
    /// One statement. The account resolves inside it; with an idempotency key, a send of the same
    /// account, client and key less than 24 hours away violates `sends_idempotency_window` and the insert
    /// does nothing (waiting, if that send is still being inserted by another transaction, for its
    /// outcome): the key's send is then read back. A token equal to another ignoring case violates
    /// `token_key`'s uniqueness: Conflict.
    async fn create_send(&self, new: NewSend) -> StoreResult<CreatedSend> {
        let inserted = insert(&self.pool, &new).await?;
        if let Some(account_id) = inserted {
            if new.due_at <= new.created_at {
                self.signal.raise();
            }
            return Ok(CreatedSend::Created(accepted(new, account_id)));
        }
        existing(self, &new).await
    }

    /// See [`store::SendStore::find_idempotent_send`].
    async fn find_idempotent_send(
        &self,
        account_id: &str,
        client_id: &str,
        key: &str,
        now: Millis,
    ) -> StoreResult<Option<(Send, String)>> {
        find_keyed(self, &id_key(account_id), &id_key(client_id), key, now).await
    }

    async fn get_send(&self, account_id: &str, token: &str) -> StoreResult<Send> {
        sqlx::query_as::<_, SendRow>(select_send!("WHERE s.token_key = $1 AND a.id_key = $2"))
            .bind(id_key(token))
            .bind(id_key(account_id))
            .fetch_optional(&self.pool)
            .await
            .map_err(db("get send"))?
            .ok_or(StoreError::NotFound)?
            .into_send()
    }

    /// Newest first by (created_at, pk), keyset-paged from the `after` send. One static statement
    /// per combination of filters, so each can use its own index.
    async fn list_sends(&self, account_id: &str, query: SendQuery) -> StoreResult<Vec<Send>> {
        let owner = account(&self.pool, account_id).await?;
        let after: Option<(i64, i64)> = match &query.after {
            Some(token) => Some(
                sqlx::query_as(
                    "SELECT created_at, pk FROM sends WHERE account_pk = $1 AND token_key = $2",
                )
                .bind(owner.pk)
                .bind(id_key(token))
                .fetch_optional(&self.pool)
                .await
                .map_err(db("find the `after` send"))?
                .ok_or(StoreError::NotFound)?,
            ),
            None => None,
        };
        // LIMIT NULL is no limit.
        let limit = (query.limit != 0).then(|| i64::from(query.limit));
        let (after_at, after_pk) = after.unwrap_or((0, 0));
        let state = query.state.map(SendState::as_str).unwrap_or_default();
        let sql = match (query.state.is_some(), after.is_some()) {
            (false, false) => {
                select_send!(
                    "WHERE s.account_pk = $1 ORDER BY s.created_at DESC, s.pk DESC LIMIT $2"
                )
            }
            (false, true) => select_send!(
                "WHERE s.account_pk = $1 AND (s.created_at, s.pk) < ($3, $4) ",
                "ORDER BY s.created_at DESC, s.pk DESC LIMIT $2"
            ),
            (true, false) => select_send!(
                "WHERE s.account_pk = $1 AND s.state = $3 ",
                "ORDER BY s.created_at DESC, s.pk DESC LIMIT $2"
            ),
            (true, true) => select_send!(
                "WHERE s.account_pk = $1 AND s.state = $5 AND (s.created_at, s.pk) < ($3, $4) ",
                "ORDER BY s.created_at DESC, s.pk DESC LIMIT $2"
            ),
        };
        let mut q = sqlx::query_as::<_, SendRow>(sql).bind(owner.pk).bind(limit);
        q = match (query.state.is_some(), after.is_some()) {
            (false, false) => q,
            (false, true) => q.bind(after_at).bind(after_pk),
            (true, false) => q.bind(state),
            (true, true) => q.bind(after_at).bind(after_pk).bind(state),
        };
        q.fetch_all(&self.pool)
            .await
            .map_err(db("list sends"))?
            .into_iter()
            .map(SendRow::into_send)
            .collect()
    }
}

/// Nothing was inserted for `new`: no such account (NotFound), or its idempotency key names an
/// earlier send, which is read back.
pub(crate) async fn existing(store: &PgStore, new: &NewSend) -> StoreResult<CreatedSend> {
    let client_key = new.idempotency.as_ref().map(|i| id_key(&i.client_id));
    let key = new.idempotency.as_ref().map(|i| i.key.as_str());
    account(&store.pool, &new.account_id).await?;
    let (Some(client_key), Some(key)) = (client_key, key) else {
        return Err(StoreError::Other(
            "a send without an idempotency key was not inserted".into(),
        ));
    };
    let (send, request_hash) = find_keyed(
        store,
        &id_key(&new.account_id),
        &client_key,
        key,
        new.created_at,
    )
    .await?
    .ok_or_else(|| {
        StoreError::Other("an idempotency key conflicted with a send that is gone".into())
    })?;
    Ok(CreatedSend::Existing { send, request_hash })
}

/// The insert of `create`, on any executor (a contact send inserts inside its transaction).
/// The account ID when inserted; `None` when the account does not exist or the idempotency key
/// names an earlier send.
pub(crate) async fn insert<'e, E>(executor: E, new: &NewSend) -> StoreResult<Option<String>>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    let target = strings_to_json(&new.target_list_ids)?;
    let exclusion = strings_to_json(&new.exclusion_list_ids)?;
    let client_key = new.idempotency.as_ref().map(|i| id_key(&i.client_id));
    let key = new.idempotency.as_ref().map(|i| i.key.as_str());
    let request_hash = new.idempotency.as_ref().map(|i| i.request_hash.as_str());
    let (window_offset, window_start, window_end) = window_columns(new.window.as_ref());

    sqlx::query_scalar(concat!(
        "WITH owner AS (SELECT pk, id FROM accounts WHERE id_key = $3), \
         inserted AS ( \
         INSERT INTO sends (token, token_key, account_pk, client_id, kind, message_id, code, \
         text, content_url, target_list_ids, exclusion_list_ids, allow_duplication, \
         window_utc_offset_minutes, window_start_minute, window_end_minute, send_time, due_at, \
         segments, encoding, state, count, errors, created_at, idempotency_client_key, \
         idempotency_key, request_hash, replies) \
         SELECT $1, $2, owner.pk, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19, ",
        send_state!(New),
        ", 0, '[]', $20, $21, $22, $23, $24 FROM owner \
         ON CONFLICT ON CONSTRAINT sends_idempotency_window DO NOTHING \
         RETURNING account_pk) \
         SELECT owner.id FROM inserted JOIN owner ON owner.pk = inserted.account_pk"
    ))
    .bind(&new.token)
    .bind(id_key(&new.token))
    .bind(id_key(&new.account_id))
    .bind(&new.client_id)
    .bind(stored_kind(new.kind))
    .bind(new.message_id.as_str())
    .bind(&new.code)
    .bind(&new.text)
    .bind(&new.content_url)
    .bind(target)
    .bind(exclusion)
    .bind(flag_value(new.allow_duplication))
    .bind(window_offset)
    .bind(window_start)
    .bind(window_end)
    .bind(new.send_time)
    .bind(new.due_at)
    .bind(new.segments)
    .bind(new.encoding.as_str())
    .bind(new.created_at)
    .bind(&client_key)
    .bind(key)
    .bind(request_hash)
    .bind(flag_value(new.kind == SendKind::Mo))
    .fetch_optional(executor)
    .await
    .map_err(db("insert send"))
}

/// How a kind is spelled in `sends.kind` (replies: 'contact' with the `replies` flag).
pub(crate) fn stored_kind(kind: SendKind) -> &'static str {
    match kind {
        SendKind::Mo => SendKind::Contact.as_str(),
        other => other.as_str(),
    }
}

/// The latest send that `client_key` (lowercased client ID) created for the account
/// `account_key` (lowercased account ID) with `key` within 24 hours before `now`, and the hash
/// of its request.
pub(crate) async fn find_keyed(
    store: &PgStore,
    account_key: &str,
    client_key: &str,
    key: &str,
    now: Millis,
) -> StoreResult<Option<(Send, String)>> {
    let Some(earlier) = sqlx::query_as::<_, KeyedSendRow>(select_send!(
        with "s.request_hash AS earlier_request_hash";
        "WHERE s.idempotency_client_key = $1 AND s.idempotency_key = $2 AND a.id_key = $5 ",
        "AND s.created_at > $3 - $4 ORDER BY s.created_at DESC, s.pk DESC LIMIT 1"
    ))
    .bind(client_key)
    .bind(key)
    .bind(now)
    .bind(IDEMPOTENCY_WINDOW)
    .bind(account_key)
    .fetch_optional(&store.pool)
    .await
    .map_err(db("read the send of an idempotency key"))?
    else {
        return Ok(None);
    };
    let request_hash = earlier.earlier_request_hash.ok_or_else(|| {
        StoreError::Other("a send with an idempotency key has no request hash".to_string())
    })?;
    Ok(Some((earlier.send.into_send()?, request_hash)))
}

/// A send and the hash of the request that created it.
#[derive(sqlx::FromRow)]
struct KeyedSendRow {
    #[sqlx(flatten)]
    send: SendRow,
    earlier_request_hash: Option<String>,
}

/// The send as recorded from `new`.
pub(crate) fn accepted(new: NewSend, account_id: String) -> Send {
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
