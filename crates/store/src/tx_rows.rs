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
    /// The text before substitution (the send's, as listings show it).
    pub text: String,
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
        .arg(request.text.as_str())
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
        // The message first: a recipient settled at once (NotSent) raises its event.
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

            async fn queue_metrics(
                &self,
                account_id: &str,
                definition_key: &str,
            ) -> $crate::StoreResult<(i64, Option<$crate::Millis>)> {
                $crate::tx_rows::queue_metrics(&self.$reads, account_id, definition_key).await
            }

            async fn empty_queue(
                &self,
                account_id: &str,
                definition_key: &str,
                now: $crate::Millis,
            ) -> $crate::StoreResult<Option<u64>> {
                let mut tx = self.$begin().await?;
                let work = $crate::tx_rows::empty_queue_in::<$db>(
                    &mut *tx,
                    account_id,
                    definition_key,
                    now,
                )
                .await
                .map($crate::sql::Ending::Commit);
                $crate::sql::settle(tx, work, "commit emptying a queue").await
            }

            async fn transactional_housekeeping(
                &self,
                now: $crate::Millis,
            ) -> $crate::StoreResult<u64> {
                let mut tx = self.$begin().await?;
                let work = $crate::tx_rows::housekeeping_in::<$db>(&mut *tx, now)
                    .await
                    .map($crate::sql::Ending::Commit);
                $crate::sql::settle(tx, work, "commit transactional housekeeping").await
            }

            async fn not_sent_events(
                &self,
                account_id: &str,
                after: i64,
                limit: u32,
                now: $crate::Millis,
            ) -> $crate::StoreResult<Vec<$crate::tx_rows::NotSentEvent>> {
                $crate::tx_rows::not_sent_page(&self.$reads, account_id, after, limit, now).await
            }
        }
    };
}

// ---- the definition's queue (API.md §9 "Queue") -------------------------------------------------

/// Subscriber codes of messages settled before being handed over.
pub const QUEUED_TRANSACTION_DELETED: i32 = 37;
pub const SUBSCRIBER_QUEUE_CLEARED: i32 = 39;
pub const EXCEEDED_EXPIRATION_POLICY: i32 = 138;

/// Holds the Started sends of definition `$1` (no `next_at`: the dispatcher passes them by).
const HOLD: &str = concat!(
    "UPDATE sends SET next_at = NULL WHERE definition_pk = $1 AND state = ",
    send_state!(Started)
);

/// Releases the held sends of definition `$1` as of `$2`.
const RELEASE: &str = concat!(
    "UPDATE sends SET next_at = $2 WHERE definition_pk = $1 AND next_at IS NULL AND state = ",
    send_state!(Started)
);

/// Records subscriber code `$1` on the messages created before `$2` still waiting (a ready
/// recipient) in a Started send of definition `$3` (any definition when NULL), only held ones
/// when `$4`.
const MARK_WAITING: &str = concat!(
    "UPDATE tx_messages SET not_sent_code = $1 WHERE not_sent_code IS NULL AND created_at < $2 \
     AND ($3 IS NULL OR definition_pk = $3) \
     AND EXISTS (SELECT 1 FROM sends s WHERE s.pk = tx_messages.send_pk AND s.state = ",
    send_state!(Started),
    " AND (NOT $4 OR s.next_at IS NULL)) \
     AND EXISTS (SELECT 1 FROM recipients r WHERE r.send_pk = tx_messages.send_pk \
     AND r.mobile_number = tx_messages.mobile_number AND r.list_pk = tx_messages.ordinal \
     AND r.copy_index = 0 AND r.state = ",
    recipient_state!(ready),
    ")"
);

/// Settles as canceled, at `$1`, the ready recipients whose message was given a subscriber code
/// (by [`MARK_WAITING`]), in the Started sends of definition `$2` (any when NULL).
const CANCEL_MARKED: &str = concat!(
    "UPDATE recipients SET state = ",
    recipient_state!(done),
    ", outcome = ",
    outcome!(canceled),
    ", lease_owner = NULL, lease_until = NULL, updated_at = $1 WHERE state = ",
    recipient_state!(ready),
    " AND send_pk IN (SELECT pk FROM sends WHERE definition_pk IS NOT NULL \
     AND ($2 IS NULL OR definition_pk = $2) AND state = ",
    send_state!(Started),
    ") AND EXISTS (SELECT 1 FROM tx_messages m WHERE m.send_pk = recipients.send_pk \
     AND m.mobile_number = recipients.mobile_number AND m.ordinal = recipients.list_pk \
     AND m.not_sent_code IS NOT NULL)"
);

/// Finishes, at `$1`, the Started transactional sends (of definition `$2`, any when NULL) left
/// with nothing to hand over or being handed over.
const FINISH_SETTLED: &str = concat!(
    "UPDATE sends SET state = ",
    send_state!(Finished),
    ", completed_at = $1, next_at = NULL WHERE definition_pk IS NOT NULL \
     AND ($2 IS NULL OR definition_pk = $2) AND state = ",
    send_state!(Started),
    " AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.send_pk = sends.pk AND r.state <> ",
    recipient_state!(done),
    ")"
);

/// Settles the waiting messages of `definition_pk` (every definition when `None`) created before
/// `before` as NotSent `code` (only the held ones when `held_only`), inside the caller's
/// transaction: their recipients canceled, their sends Finished once nothing is left. How many.
pub async fn settle_waiting_in<DB>(
    conn: &mut DB::Connection,
    definition_pk: Option<i64>,
    code: i32,
    before: Millis,
    held_only: bool,
    now: Millis,
) -> StoreResult<u64>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let marked = sqlx::query::<DB>(MARK_WAITING)
        .arg(code)
        .arg(before)
        .arg(definition_pk)
        .arg(held_only)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("mark waiting messages"))
        .map(sql::affected::<DB>)?;
    if marked == 0 {
        return Ok(0);
    }
    sqlx::query::<DB>(CANCEL_MARKED)
        .arg(now)
        .arg(definition_pk)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("cancel waiting messages"))?;
    sqlx::query::<DB>(FINISH_SETTLED)
        .arg(now)
        .arg(definition_pk)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("finish settled sends"))?;
    Ok(marked)
}

/// A definition's status changed from `was` to `now_status`, inside the caller's transaction:
/// Inactive holds its queued sends; Active releases them (the held ones past 72 hours become
/// NotSent 138 first); archived turns what still waits into NotSent 37.
pub async fn definition_changed_in<DB>(
    conn: &mut DB::Connection,
    definition_pk: i64,
    was: crate::DefinitionStatus,
    now_status: crate::DefinitionStatus,
    now: Millis,
) -> StoreResult<()>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    use crate::DefinitionStatus as S;
    match (was, now_status) {
        (S::Active, S::Inactive) => {
            sqlx::query::<DB>(HOLD)
                .arg(definition_pk)
                .execute(&mut *conn)
                .await
                .map_err(sql::db("hold a definition's sends"))?;
        }
        (S::Inactive, S::Active) => {
            settle_waiting_in::<DB>(
                conn,
                Some(definition_pk),
                EXCEEDED_EXPIRATION_POLICY,
                now - KEY_WINDOW,
                true,
                now,
            )
            .await?;
            sqlx::query::<DB>(RELEASE)
                .arg(definition_pk)
                .arg(now)
                .execute(&mut *conn)
                .await
                .map_err(sql::db("release a definition's sends"))?;
        }
        (_, S::Deleted) => {
            settle_waiting_in::<DB>(
                conn,
                Some(definition_pk),
                QUEUED_TRANSACTION_DELETED,
                now + 1,
                false,
                now,
            )
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// The waiting messages of the account's definition `$1` (its key folded) for `$2`: how many,
/// and when the oldest was accepted.
const QUEUE_METRICS: &str = concat!(
    "SELECT count(*), min(m.created_at) FROM tx_messages m \
     JOIN send_definitions d ON d.pk = m.definition_pk \
     JOIN recipients r ON r.send_pk = m.send_pk AND r.mobile_number = m.mobile_number \
     AND r.list_pk = m.ordinal AND r.copy_index = 0 AND r.state = ",
    recipient_state!(ready),
    " WHERE d.account_pk = $1 AND d.key_key = $2 AND d.status <> 'Deleted' \
     AND m.not_sent_code IS NULL"
);

const DEFINITION_PK_STATUS: &str = "SELECT pk, status FROM send_definitions \
     WHERE account_pk = $1 AND key_key = $2 AND status <> 'Deleted'";

/// How many messages of the definition wait, and when the oldest was accepted. NotFound for an
/// unknown definition.
pub async fn queue_metrics<'e, DB, E>(
    db: E,
    account_id: &str,
    definition_key: &str,
) -> StoreResult<(i64, Option<Millis>)>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    (i64, String): for<'r> FromRow<'r, DB::Row>,
    (i64, Option<i64>): for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    sqlx::query_as::<DB, (i64, String)>(DEFINITION_PK_STATUS)
        .arg(owner.pk)
        .arg(id_key(definition_key))
        .fetch_optional(db)
        .await
        .map_err(sql::db("find a definition"))?
        .ok_or(StoreError::NotFound)?;
    sqlx::query_as::<DB, (i64, Option<i64>)>(QUEUE_METRICS)
        .arg(owner.pk)
        .arg(id_key(definition_key))
        .fetch_one(db)
        .await
        .map_err(sql::db("measure a definition's queue"))
}

/// Empties an Inactive definition's queue: each waiting message NotSent 39. `None` when the
/// definition is not Inactive (nothing done); how many otherwise. NotFound when unknown.
pub async fn empty_queue_in<DB>(
    conn: &mut DB::Connection,
    account_id: &str,
    definition_key: &str,
    now: Millis,
) -> StoreResult<Option<u64>>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    (i64, String): for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(&mut *conn, account_id).await?;
    let (pk, status) = sqlx::query_as::<DB, (i64, String)>(DEFINITION_PK_STATUS)
        .arg(owner.pk)
        .arg(id_key(definition_key))
        .fetch_optional(&mut *conn)
        .await
        .map_err(sql::db("find a definition"))?
        .ok_or(StoreError::NotFound)?;
    if status != crate::DefinitionStatus::Inactive.as_str() {
        return Ok(None);
    }
    settle_waiting_in::<DB>(
        conn,
        Some(pk),
        SUBSCRIBER_QUEUE_CLEARED,
        now + 1,
        false,
        now,
    )
    .await
    .map(Some)
}

// ---- events (API.md §9 "notSent listing") -------------------------------------------------------

/// How long events are kept for the notSent listing.
pub const EVENT_RETENTION: Millis = 30 * 24 * 60 * 60 * 1000;

/// A NotSent event as the listing reads it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct NotSentEvent {
    pub event_id: i64,
    /// The subscriber code, or the §5 code of a carrier failure.
    pub status_code: i32,
    pub created_at: i64,
    pub definition_key: String,
    pub message_key: String,
    pub contact_key: String,
    pub mobile_number: String,
}

/// The account's (`$1`) NotSent events after event `$2`, kept since `$3`, oldest first, `$4` at
/// most.
const NOT_SENT_PAGE: &str = "SELECT e.event_id, e.status_code, e.created_at, d.definition_key, \
     m.message_key, m.contact_key, m.mobile_number FROM tx_events e \
     JOIN tx_messages m ON m.pk = e.tx_message_pk \
     JOIN send_definitions d ON d.pk = m.definition_pk \
     WHERE e.account_pk = $1 AND e.category = 'NotSent' AND e.event_id > $2 \
     AND e.created_at >= $3 ORDER BY e.event_id LIMIT $4";

const PURGE_EVENTS: &str = "DELETE FROM tx_events WHERE created_at < $1";

/// A page of the account's NotSent events after `after`, oldest first.
pub async fn not_sent_page<'e, DB, E>(
    db: E,
    account_id: &str,
    after: i64,
    limit: u32,
    now: Millis,
) -> StoreResult<Vec<NotSentEvent>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    NotSentEvent: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    sqlx::query_as::<DB, NotSentEvent>(NOT_SENT_PAGE)
        .arg(owner.pk)
        .arg(after)
        .arg(now - EVENT_RETENTION)
        .arg(i64::from(limit))
        .fetch_all(db)
        .await
        .map_err(sql::db("read NotSent events"))
}

/// The periodic housekeeping of transactional messages, inside the caller's transaction:
/// messages held by an Inactive definition for 72 hours become NotSent 138, and events older
/// than the retention are dropped. How many messages expired.
pub async fn housekeeping_in<DB>(conn: &mut DB::Connection, now: Millis) -> StoreResult<u64>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let expired = settle_waiting_in::<DB>(
        conn,
        None,
        EXCEEDED_EXPIRATION_POLICY,
        now - KEY_WINDOW,
        true,
        now,
    )
    .await?;
    sqlx::query::<DB>(PURGE_EVENTS)
        .arg(now - EVENT_RETENTION)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("purge old events"))?;
    Ok(expired)
}
