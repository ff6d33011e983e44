//! Transactional sends (API.md §9 "Sends", "What a send does", "Status route"): a request's
//! messages recorded in one transaction — each key checked for reuse within 72 hours, each
//! number's subscription decided by the definition's rules, the send and its recipients queued
//! with their own texts — and a message's status. Written once, generic over the database.

use sqlx::{Executor, FromRow};

use crate::account_rows::AccountRef;
use crate::code_rows::{keyword_by_name, KeywordRef};
use crate::sql::{self, id_key, Arg, Ending, Sql};
use crate::{Encoding, Millis, SendState, StoreError, StoreResult};

/// How long a `messageKey` names its message (API.md §9 "Keys").
pub const KEY_WINDOW: Millis = 72 * 60 * 60 * 1000;

/// The subscriber code of a message refused because its number is not Subscribed (API.md §9:
/// NotSent `statusCode` 1, `Unsubscribed`).
pub const NOT_SUBSCRIBED: i32 = 1;

/// A transactional request, its messages validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxRequest {
    pub account_id: String,
    pub client_id: Option<String>,
    /// The send's token (minted).
    pub token: String,
    pub definition_key: String,
    /// Subscribe again a number that opted out (`subscriptions.resubscribe`).
    pub resubscribe: bool,
    pub messages: Vec<TxMessage>,
    /// Of the text before substitution.
    pub segments: i32,
    pub encoding: Encoding,
    pub now: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxMessage {
    pub message_key: String,
    pub mobile_number: String,
    pub contact_key: String,
    /// Placeholders replaced.
    pub text: String,
}

/// What became of one message of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxOutcome {
    /// Recorded: queued, held (Inactive definition) or NotSent for its subscription.
    Accepted,
    /// Its key names another message of the account from the last 72 hours.
    DuplicateKey,
}

/// A message as the status route reads it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TxStatus {
    pub message_key: String,
    pub contact_key: String,
    pub mobile_number: String,
    pub definition_key: String,
    /// The send's token and the message's ordinal in it: an opaque ID fixed per message.
    pub token: String,
    pub ordinal: i64,
    pub created_at: i64,
    /// Refused before being queued: the subscriber code.
    pub not_sent_code: Option<i32>,
    /// The recipient: its state, §5 code, outcome and last change.
    pub state: String,
    pub status_code: i32,
    pub outcome: Option<String>,
    pub updated_at: i64,
}

const DEFINITION_OF_REQUEST: &str = "SELECT d.pk AS definition_pk, d.status, d.short_code, \
     d.keyword, d.auto_add_subscriber, d.update_subscriber, c.pk AS code_pk, c.carrier \
     FROM send_definitions d JOIN codes c ON c.account_pk = d.account_pk \
     AND c.code = d.short_code WHERE d.account_pk = $1 AND d.key_key = $2 \
     AND d.status <> 'Deleted'";

/// Frees the account's (`$1`) key `$2` when its message is older than `$3`.
const FREE_EXPIRED_KEY: &str = "UPDATE tx_messages SET key_key = key_key || '#' || pk \
     WHERE account_pk = $1 AND key_key = $2 AND created_at < $3";

const KEY_TAKEN: &str = "SELECT count(*) FROM tx_messages WHERE account_pk = $1 AND key_key = $2";

const SUBSCRIPTION_STATUS: &str =
    "SELECT status FROM subscriptions WHERE keyword_pk = $1 AND mobile_number = $2";

const CODE_OPTED_OUT: &str =
    "SELECT count(*) FROM code_opt_outs WHERE code_pk = $1 AND mobile_number = $2";

/// Subscribes number `$2` to keyword `$1` for account `$3` at `$4` (a new subscription, or an
/// existing one made Subscribed again).
const SUBSCRIBE: &str = concat!(
    "INSERT INTO subscriptions (keyword_pk, mobile_number, account_pk, status, opt_in_date) \
     VALUES ($1, $2, $3, ",
    subscription_status!(Subscribed),
    ", $4) ON CONFLICT (keyword_pk, mobile_number) DO UPDATE SET status = ",
    subscription_status!(Subscribed),
    ", opt_in_date = excluded.opt_in_date, opt_out_date = NULL, pending_since = NULL, \
     pending_previous = NULL"
);

const CLEAR_CODE_OPT_OUT: &str =
    "DELETE FROM code_opt_outs WHERE code_pk = $1 AND mobile_number = $2";

/// Records number `$2`'s contact for account `$1` under subscriber key `$3` at `$4`; an existing
/// contact's key is updated when `$5` (`updateSubscriber`).
const RECORD_CONTACT: &str = "INSERT INTO contacts (account_pk, mobile_number, subscriber_key, \
     attributes, created_at, updated_at) VALUES ($1, $2, $3, '{}', $4, $4) \
     ON CONFLICT (account_pk, mobile_number) DO UPDATE SET subscriber_key = excluded.subscriber_key, \
     updated_at = excluded.updated_at WHERE $5";

const INSERT_TX_SEND: &str = "INSERT INTO sends (token, token_key, account_pk, client_id, kind, \
     message_id, code, text, content_url, target_list_ids, exclusion_list_ids, allow_duplication, \
     due_at, segments, encoding, state, count, errors, created_at, completed_at, carrier, \
     next_at, replies, definition_pk) \
     VALUES ($1, $2, $3, $4, 'contact', $5, $6, $7, NULL, '[]', '[]', 0, $8, $9, $10, $11, $12, \
     '[]', $8, $13, $14, $15, 0, $16) RETURNING pk";

/// A recipient of send `$1`: number `$2`, ordinal `$3` (its `list_pk`), queued with text `$4`
/// at `$5`, or (`$6`) settled as suppressed.
const INSERT_TX_RECIPIENT: &str = concat!(
    "INSERT INTO recipients (send_pk, mobile_number, list_pk, copy_index, state, outcome, \
     updated_at, text) VALUES ($1, $2, $3, 0, CASE WHEN $6 THEN ",
    recipient_state!(done),
    " ELSE ",
    recipient_state!(ready),
    " END, CASE WHEN $6 THEN ",
    outcome!(suppressed),
    " END, $5, $4)"
);

const INSERT_TX_MESSAGE: &str = "INSERT INTO tx_messages (account_pk, message_key, key_key, \
     definition_pk, send_pk, ordinal, mobile_number, contact_key, not_sent_code, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

const TX_STATUS: &str = "SELECT m.message_key, m.contact_key, m.mobile_number, \
     d.definition_key, s.token, m.ordinal, m.created_at, m.not_sent_code, r.state, \
     r.status_code, r.outcome, r.updated_at \
     FROM tx_messages m JOIN send_definitions d ON d.pk = m.definition_pk \
     JOIN sends s ON s.pk = m.send_pk \
     JOIN recipients r ON r.send_pk = m.send_pk AND r.mobile_number = m.mobile_number \
     AND r.list_pk = m.ordinal AND r.copy_index = 0 \
     WHERE m.account_pk = $1 AND m.key_key = $2";

/// What a request needs of its definition and the definition's code.
#[derive(FromRow)]
pub struct DefinitionOfRequest {
    definition_pk: i64,
    status: String,
    short_code: String,
    keyword: String,
    auto_add_subscriber: i32,
    update_subscriber: i32,
    code_pk: i64,
    carrier: String,
}

/// Records a transactional request inside the caller's transaction: the outcome of each message,
/// in order. NotFound (nothing written) when the definition is gone; a request whose every key is
/// taken records nothing.
pub async fn accept_in<DB>(
    conn: &mut DB::Connection,
    request: &TxRequest,
) -> StoreResult<Ending<Vec<TxOutcome>>>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    KeywordRef: for<'r> FromRow<'r, DB::Row>,
    DefinitionOfRequest: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    let now = request.now;
    let owner = sql::account(&mut *conn, &request.account_id).await?;
    let DefinitionOfRequest {
        definition_pk,
        status,
        short_code,
        keyword,
        auto_add_subscriber,
        update_subscriber,
        code_pk,
        carrier,
    } = sqlx::query_as::<DB, DefinitionOfRequest>(DEFINITION_OF_REQUEST)
        .arg(owner.pk)
        .arg(id_key(&request.definition_key))
        .fetch_optional(&mut *conn)
        .await
        .map_err(sql::db("read the definition of a request"))?
        .ok_or(StoreError::NotFound)?;
    let held = status != crate::DefinitionStatus::Active.as_str();
    let (auto_add, update_subscriber) = (auto_add_subscriber != 0, update_subscriber != 0);
    let (keyword_pk, _, _) = keyword_by_name(&mut *conn, &owner, &short_code, &keyword).await?;

    let mut outcomes = Vec::with_capacity(request.messages.len());
    // (message, not-sent code) of the messages recorded.
    let mut recorded: Vec<(&TxMessage, Option<i32>)> = Vec::new();
    for message in &request.messages {
        let key = message.message_key.to_ascii_lowercase();
        sqlx::query::<DB>(FREE_EXPIRED_KEY)
            .arg(owner.pk)
            .arg(key.as_str())
            .arg(now - KEY_WINDOW)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("free an expired message key"))?;
        let taken = sqlx::query_scalar::<DB, i64>(KEY_TAKEN)
            .arg(owner.pk)
            .arg(key.as_str())
            .fetch_one(&mut *conn)
            .await
            .map_err(sql::db("check a message key"))?;
        if taken > 0 {
            outcomes.push(TxOutcome::DuplicateKey);
            continue;
        }
        outcomes.push(TxOutcome::Accepted);
        let subscribed = decide_subscription::<DB>(
            conn,
            keyword_pk,
            code_pk,
            owner.pk,
            &message.mobile_number,
            request.resubscribe,
            auto_add,
            now,
        )
        .await?;
        if subscribed && (auto_add || update_subscriber) {
            sqlx::query::<DB>(RECORD_CONTACT)
                .arg(owner.pk)
                .arg(message.mobile_number.as_str())
                .arg(message.contact_key.as_str())
                .arg(now)
                .arg(update_subscriber)
                .execute(&mut *conn)
                .await
                .map_err(sql::db("record a transactional contact"))?;
        }
        recorded.push((message, (!subscribed).then_some(NOT_SUBSCRIBED)));
    }
    if recorded.is_empty() {
        return Ok(Ending::Rollback(outcomes));
    }

    let queued = recorded.iter().filter(|(_, code)| code.is_none()).count();
    let count = i64::try_from(queued).map_err(|_| StoreError::Other("too many messages".into()))?;
    let finished = queued == 0;
    let state = if finished {
        SendState::Finished
    } else {
        SendState::Started
    };
    let send_pk = sqlx::query_scalar::<DB, i64>(INSERT_TX_SEND)
        .arg(request.token.as_str())
        .arg(id_key(&request.token))
        .arg(owner.pk)
        .arg(request.client_id.as_deref())
        .arg(request.definition_key.as_str())
        .arg(short_code.as_str())
        .arg(recorded[0].0.text.as_str())
        .arg(now)
        .arg(request.segments)
        .arg(request.encoding.as_str())
        .arg(state.as_str())
        .arg(count)
        .arg(finished.then_some(now))
        .arg(carrier.as_str())
        // Held while its definition is Inactive.
        .arg((!finished && !held).then_some(now))
        .arg(definition_pk)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql::db("record a transactional send"))?;
    for (ordinal, (message, not_sent)) in (1_i64..).zip(&recorded) {
        sqlx::query::<DB>(INSERT_TX_RECIPIENT)
            .arg(send_pk)
            .arg(message.mobile_number.as_str())
            .arg(ordinal)
            .arg(message.text.as_str())
            .arg(now)
            .arg(not_sent.is_some())
            .execute(&mut *conn)
            .await
            .map_err(sql::db("queue a transactional recipient"))?;
        sqlx::query::<DB>(INSERT_TX_MESSAGE)
            .arg(owner.pk)
            .arg(message.message_key.as_str())
            .arg(message.message_key.to_ascii_lowercase())
            .arg(definition_pk)
            .arg(send_pk)
            .arg(ordinal)
            .arg(message.mobile_number.as_str())
            .arg(message.contact_key.as_str())
            .arg(*not_sent)
            .arg(now)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("record a transactional message"))?;
    }
    Ok(Ending::Commit(outcomes))
}

/// Whether the number may be texted on the definition's keyword, subscribing it where the rules
/// say (API.md §9 "What a send does"): Subscribed goes; opted out (of the keyword, or of the
/// code by text) goes only with `resubscribe`, which subscribes it again; no subscription (or a
/// pending double opt-in) goes with `autoAddSubscriber`, which subscribes it.
#[allow(clippy::too_many_arguments)]
async fn decide_subscription<DB>(
    conn: &mut DB::Connection,
    keyword_pk: i64,
    code_pk: i64,
    account_pk: i64,
    number: &str,
    resubscribe: bool,
    auto_add: bool,
    now: Millis,
) -> StoreResult<bool>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    let status = sqlx::query_scalar::<DB, String>(SUBSCRIPTION_STATUS)
        .arg(keyword_pk)
        .arg(number)
        .fetch_optional(&mut *conn)
        .await
        .map_err(sql::db("read a subscription"))?;
    let code_opt_out = sqlx::query_scalar::<DB, i64>(CODE_OPTED_OUT)
        .arg(code_pk)
        .arg(number)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql::db("read a code opt-out"))?
        > 0;
    let subscribed = status.as_deref() == Some(crate::SubscriptionStatus::Subscribed.as_str());
    let opted_out =
        code_opt_out || status.as_deref() == Some(crate::SubscriptionStatus::Unsubscribed.as_str());
    let (go, subscribe) = match (subscribed, opted_out) {
        (true, false) => (true, false),
        (_, true) => (resubscribe, resubscribe),
        (false, false) => (auto_add, auto_add),
    };
    if subscribe {
        sqlx::query::<DB>(SUBSCRIBE)
            .arg(keyword_pk)
            .arg(number)
            .arg(account_pk)
            .arg(now)
            .execute(&mut *conn)
            .await
            .map_err(sql::parent_gone("subscribe a transactional number"))?;
        if code_opt_out {
            sqlx::query::<DB>(CLEAR_CODE_OPT_OUT)
                .arg(code_pk)
                .arg(number)
                .execute(&mut *conn)
                .await
                .map_err(sql::db("clear a code opt-out"))?;
        }
    }
    Ok(go)
}

/// The account's message by its key (any case).
pub async fn status<'e, DB, E>(db: E, account_id: &str, message_key: &str) -> StoreResult<TxStatus>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    TxStatus: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    sqlx::query_as::<DB, TxStatus>(TX_STATUS)
        .arg(owner.pk)
        .arg(message_key.to_ascii_lowercase())
        .fetch_optional(db)
        .await
        .map_err(sql::db("read a transactional message"))?
        .ok_or(StoreError::NotFound)
}

/// Implements [`TransactionalStore`](crate::TransactionalStore) for a backend's store type on
/// the sqlx `database`: `reads` names the field (a pool) that reads, `begin` the store's method
/// that opens its write transaction.
#[macro_export]
macro_rules! transactional_store {
    ($store:ty, database: $db:ty, reads: $reads:ident, begin: $begin:ident) => {
        #[::async_trait::async_trait]
        impl $crate::TransactionalStore for $store {
            async fn accept_transactional(
                &self,
                request: &$crate::TxRequest,
            ) -> $crate::StoreResult<Vec<$crate::TxOutcome>> {
                let mut tx = self.$begin().await?;
                let work = $crate::tx_rows::accept_in::<$db>(&mut *tx, request).await;
                $crate::sql::settle(tx, work, "commit a transactional send").await
            }

            async fn transactional_status(
                &self,
                account_id: &str,
                message_key: &str,
            ) -> $crate::StoreResult<$crate::TxStatus> {
                $crate::tx_rows::status(&self.$reads, account_id, message_key).await
            }
        }
    };
}
