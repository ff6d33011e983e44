//! Transactional sends (API.md §9 "Sends", "What a send does", "Status route"): a request's
//! messages recorded in one transaction — each key checked for reuse within 72 hours, each
//! number's subscription decided by the definition's rules, the send and its recipients queued
//! with their own texts — and a message's status. Written once, generic over the database.

use sqlx::{Executor, FromRow};

use crate::account_rows::AccountRef;
use crate::code_rows::{keyword_by_name, KeywordRef};
use crate::sql::{self, id_key, Arg, Ending, Sql};
use crate::{Encoding, Millis, StoreError, StoreResult};

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
     d.keyword, d.auto_add_subscriber, d.update_subscriber, c.pk AS code_pk \
     FROM send_definitions d JOIN codes c ON c.account_pk = d.account_pk \
     AND c.code = d.short_code WHERE d.account_pk = $1 AND d.key_key = $2 \
     AND d.status <> 'Deleted'";

/// Frees the account's (`$1`) key `$2` when its message is older than `$3`.
const FREE_EXPIRED_KEY: &str = "UPDATE tx_messages SET key_key = key_key || '#' || pk \
     WHERE account_pk = $1 AND key_key = $2 AND created_at < $3";

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

/// Records the send of a request (`$1` token, `$2` its key, account `$3`, client `$4`,
/// definition key `$5` as its message, code `$6`, text `$7`, at `$8`, segments `$9`, encoding
/// `$10`, definition `$11`): Started, counted and released by [`FINISH_TX_SEND`].
const INSERT_TX_SEND: &str = concat!(
    "INSERT INTO sends (token, token_key, account_pk, client_id, kind, \
     message_id, code, text, content_url, target_list_ids, exclusion_list_ids, allow_duplication, \
     due_at, segments, encoding, state, count, errors, created_at, completed_at, carrier, \
     next_at, replies, definition_pk) \
     SELECT $1, $2, $3, $4, 'contact', $5, $6, $7, NULL, '[]', '[]', 0, $8, $9, $10, ",
    send_state!(Started),
    ", 0, '[]', $8, NULL, c.carrier, NULL, 0, $11 FROM codes c WHERE c.pk = $12 RETURNING pk"
);

/// The send `$1` of a request as recorded: its count `$2`, Finished at `$3` when nothing was
/// queued, else due at `$4` — or held since `$3` when `$4` is NULL (an Inactive definition).
const FINISH_TX_SEND: &str = concat!(
    "UPDATE sends SET count = $2, \
     state = CASE WHEN $2 = 0 THEN ",
    send_state!(Finished),
    " ELSE state END, \
     completed_at = CASE WHEN $2 = 0 THEN $3 END, next_at = CASE WHEN $2 = 0 THEN NULL ELSE $4 END, \
     held_at = CASE WHEN $2 > 0 AND $4 IS NULL THEN $3 END WHERE pk = $1"
);

/// Records a message of the account `$1` under key `$2` (folded `$3`) unless the key is taken;
/// its pk.
const INSERT_TX_MESSAGE: &str = "INSERT INTO tx_messages (account_pk, message_key, key_key, \
     definition_pk, send_pk, ordinal, mobile_number, contact_key, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (account_pk, key_key) DO NOTHING RETURNING pk";

/// Message `$1` was refused before being queued: subscriber code `$2`.
const NOT_SENT_MESSAGE: &str = "UPDATE tx_messages SET not_sent_code = $2 WHERE pk = $1";

/// A recipient of send `$1`: number `$2`, ordinal `$3` (its `list_pk`), queued with text `$4`
/// at `$5`, or (`$6`) settled as suppressed.
const INSERT_TX_RECIPIENT: &str = concat!(
    "INSERT INTO recipients (send_pk, mobile_number, list_pk, copy_index, state, outcome, \
     updated_at, text, transactional) VALUES ($1, $2, $3, 0, CASE WHEN $6 THEN ",
    recipient_state!(done),
    " ELSE ",
    recipient_state!(ready),
    " END, CASE WHEN $6 THEN ",
    outcome!(suppressed),
    " END, $5, $4, 1)"
);

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
}

/// Records a transactional request inside the caller's transaction: the outcome of each message,
/// in order. NotFound (nothing written) when the definition is gone; a request whose every key is
/// taken records nothing. `lock_definition` is appended to the definition's read (PostgreSQL
/// shares its row lock, so that a change of its status, or its archive, waits for the request and
/// then holds or settles what it queued).
///
/// Keys are claimed by inserting their messages in key order (a concurrent request with the same
/// key waits, then finds it taken), and subscriptions and contacts are written in number order,
/// so that concurrent requests never wait on each other in a cycle.
pub async fn accept_in<DB>(
    conn: &mut DB::Connection,
    request: &TxRequest,
    lock_definition: &str,
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
    } = sqlx::query_as::<DB, DefinitionOfRequest>(&format!(
        "{DEFINITION_OF_REQUEST}{lock_definition}"
    ))
    .arg(owner.pk)
    .arg(id_key(&request.definition_key))
    .fetch_optional(&mut *conn)
    .await
    .map_err(sql::db("read the definition of a request"))?
    .ok_or(StoreError::NotFound)?;
    let held = status != crate::DefinitionStatus::Active.as_str();
    let (auto_add, update_subscriber) = (auto_add_subscriber != 0, update_subscriber != 0);
    let (keyword_pk, _, _) = keyword_by_name(&mut *conn, &owner, &short_code, &keyword).await?;
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
        .arg(definition_pk)
        .arg(code_pk)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql::db("record a transactional send"))?;

    // Keys, in key order: (index in the request, the message's pk) of those recorded.
    let mut order: Vec<usize> = (0..request.messages.len()).collect();
    order.sort_by_key(|&i| request.messages[i].message_key.to_ascii_lowercase());
    let mut outcomes = vec![TxOutcome::DuplicateKey; request.messages.len()];
    let mut recorded: Vec<(usize, i64)> = Vec::new();
    for index in order {
        let message = &request.messages[index];
        let key = message.message_key.to_ascii_lowercase();
        sqlx::query::<DB>(FREE_EXPIRED_KEY)
            .arg(owner.pk)
            .arg(key.as_str())
            .arg(now - KEY_WINDOW)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("free an expired message key"))?;
        let ordinal =
            i64::try_from(index + 1).map_err(|_| StoreError::Other("too many messages".into()))?;
        let pk = sqlx::query_scalar::<DB, i64>(INSERT_TX_MESSAGE)
            .arg(owner.pk)
            .arg(message.message_key.as_str())
            .arg(key.as_str())
            .arg(definition_pk)
            .arg(send_pk)
            .arg(ordinal)
            .arg(message.mobile_number.as_str())
            .arg(message.contact_key.as_str())
            .arg(now)
            .fetch_optional(&mut *conn)
            .await
            .map_err(sql::db("record a transactional message"))?;
        if let Some(pk) = pk {
            if let Some(outcome) = outcomes.get_mut(index) {
                *outcome = TxOutcome::Accepted;
            }
            recorded.push((index, pk));
        }
    }
    if recorded.is_empty() {
        return Ok(Ending::Rollback(outcomes));
    }

    // Subscriptions and contacts, in number order; then each recipient.
    recorded.sort_by(|a, b| {
        request.messages[a.0]
            .mobile_number
            .cmp(&request.messages[b.0].mobile_number)
    });
    let mut queued = 0_i64;
    for &(index, pk) in &recorded {
        let message = &request.messages[index];
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
        if subscribed {
            queued += 1;
            if auto_add || update_subscriber {
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
        } else {
            // Before its recipient: a recipient settled at once raises its event with the code.
            sqlx::query::<DB>(NOT_SENT_MESSAGE)
                .arg(pk)
                .arg(NOT_SUBSCRIBED)
                .execute(&mut *conn)
                .await
                .map_err(sql::db("record a refused message"))?;
        }
        let ordinal =
            i64::try_from(index + 1).map_err(|_| StoreError::Other("too many messages".into()))?;
        sqlx::query::<DB>(INSERT_TX_RECIPIENT)
            .arg(send_pk)
            .arg(message.mobile_number.as_str())
            .arg(ordinal)
            .arg(message.text.as_str())
            .arg(now)
            .arg(!subscribed)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("queue a transactional recipient"))?;
    }
    sqlx::query::<DB>(FINISH_TX_SEND)
        .arg(send_pk)
        .arg(queued)
        .arg(now)
        .arg((!held).then_some(now))
        .execute(&mut *conn)
        .await
        .map_err(sql::db("count a transactional send"))?;
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
/// that opens its write transaction, `locks` its [`TxLocks`].
#[macro_export]
macro_rules! transactional_store {
    ($store:ty, database: $db:ty, reads: $reads:ident, begin: $begin:ident,
     locks: $locks:expr) => {
        #[::async_trait::async_trait]
        impl $crate::TransactionalStore for $store {
            async fn accept_transactional(
                &self,
                request: &$crate::TxRequest,
            ) -> $crate::StoreResult<Vec<$crate::TxOutcome>> {
                let mut tx = self.$begin().await?;
                let work =
                    $crate::tx_rows::accept_in::<$db>(&mut *tx, request, $locks.definition).await;
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
                    $locks,
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
                let work = $crate::tx_rows::housekeeping_in::<$db>(&mut *tx, $locks, now)
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
                let mut tx = self.$begin().await?;
                let work = $crate::tx_rows::not_sent_in::<$db>(
                    &mut *tx, $locks, account_id, after, limit, now,
                )
                .await
                .map($crate::sql::Ending::Commit);
                $crate::sql::settle(tx, work, "commit numbering events").await
            }
        }
    };
}

// ---- the definition's queue (API.md §9 "Queue") -------------------------------------------------

/// Subscriber codes of messages settled before being handed over.
pub const QUEUED_TRANSACTION_DELETED: i32 = 37;
pub const SUBSCRIBER_QUEUE_CLEARED: i32 = 39;
pub const EXCEEDED_EXPIRATION_POLICY: i32 = 138;

/// Holds the Started sends of definition `$1` from `$2` (no `next_at`: the dispatcher passes
/// them by).
const HOLD: &str = concat!(
    "UPDATE sends SET next_at = NULL, held_at = $2 WHERE definition_pk = $1 \
     AND next_at IS NOT NULL AND state = ",
    send_state!(Started)
);

/// Releases the held sends of definition `$1` as of `$2`.
const RELEASE: &str = concat!(
    "UPDATE sends SET next_at = $2, held_at = NULL WHERE definition_pk = $1 \
     AND next_at IS NULL AND state = ",
    send_state!(Started)
);

/// The ready recipients of the Started transactional sends of definition `$1` (any when NULL),
/// only held ones when `$2`, for a backend to lock (its suffix) before settling them.
const WAITING_RECIPIENTS: &str = concat!(
    "SELECT r.pk FROM recipients r WHERE r.state = ",
    recipient_state!(ready),
    " AND r.send_pk IN (SELECT pk FROM sends WHERE definition_pk IS NOT NULL \
     AND ($1 IS NULL OR definition_pk = $1) AND state = ",
    send_state!(Started),
    " AND (NOT $2 OR next_at IS NULL))"
);

/// Records subscriber code `$1` on the messages still waiting (a ready recipient) in a Started
/// send of definition `$3` (any definition when NULL): those accepted before `$2`, or with `$4`
/// those whose send is held since before `$2`. Driven by the sends (an index of held sends
/// finds the housekeeping's few), then each send's messages.
const MARK_WAITING: &str = concat!(
    "UPDATE tx_messages SET not_sent_code = $1 WHERE not_sent_code IS NULL \
     AND send_pk IN (SELECT s.pk FROM sends s WHERE s.definition_pk IS NOT NULL \
     AND ($3 IS NULL OR s.definition_pk = $3) AND s.state = ",
    send_state!(Started),
    " AND (NOT $4 OR (s.next_at IS NULL AND s.held_at < $2))) \
     AND ($4 OR created_at < $2) \
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

/// How a backend locks what a transactional change reads: `definition` is appended to the
/// read of a request's definition (PostgreSQL: a shared row lock), `rows` to the reads of rows
/// about to be changed (PostgreSQL: `FOR UPDATE`). SQLite's write transaction already excludes
/// every other writer: both empty.
#[derive(Debug, Clone, Copy)]
pub struct TxLocks {
    pub definition: &'static str,
    pub rows: &'static str,
}

/// Settles the waiting messages of `definition_pk` (every definition when `None`) accepted before
/// `before` (with `held_only`, those held since before `before`) as NotSent `code`, inside the
/// caller's transaction: their recipients canceled, their sends Finished once nothing is left.
/// The ready recipients are locked first (`locks.rows`), so the dispatcher cannot take one
/// between its marking and its cancel. How many.
#[allow(clippy::too_many_arguments)]
pub async fn settle_waiting_in<DB>(
    conn: &mut DB::Connection,
    locks: TxLocks,
    definition_pk: Option<i64>,
    code: i32,
    before: Millis,
    held_only: bool,
    now: Millis,
) -> StoreResult<u64>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    if !locks.rows.is_empty() {
        sqlx::query_scalar::<DB, i64>(&format!("{WAITING_RECIPIENTS}{}", locks.rows))
            .arg(definition_pk)
            .arg(held_only)
            .fetch_all(&mut *conn)
            .await
            .map_err(sql::db("lock waiting recipients"))?;
    }
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
    locks: TxLocks,
    definition_pk: i64,
    was: crate::DefinitionStatus,
    now_status: crate::DefinitionStatus,
    now: Millis,
) -> StoreResult<()>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    use crate::DefinitionStatus as S;
    match (was, now_status) {
        (S::Active, S::Inactive) => {
            sqlx::query::<DB>(HOLD)
                .arg(definition_pk)
                .arg(now)
                .execute(&mut *conn)
                .await
                .map_err(sql::db("hold a definition's sends"))?;
        }
        (S::Inactive, S::Active) => {
            settle_waiting_in::<DB>(
                conn,
                locks,
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
                locks,
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
    locks: TxLocks,
    account_id: &str,
    definition_key: &str,
    now: Millis,
) -> StoreResult<Option<u64>>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    (i64, String): for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(&mut *conn, account_id).await?;
    // The definition's row lock: a concurrent change of its status waits.
    let (pk, status) =
        sqlx::query_as::<DB, (i64, String)>(&format!("{DEFINITION_PK_STATUS}{}", locks.rows))
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
        locks,
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

/// Messages accepted before `$1` whose events are gone (their keys long free).
const PURGE_MESSAGES: &str = "DELETE FROM tx_messages WHERE created_at < $1 \
     AND NOT EXISTS (SELECT 1 FROM tx_events e WHERE e.tx_message_pk = tx_messages.pk)";

const NEW_SEQUENCE: &str = "INSERT INTO event_sequences (account_pk, last_id) VALUES ($1, 0) \
     ON CONFLICT (account_pk) DO NOTHING";

const LAST_EVENT_ID: &str = "SELECT last_id FROM event_sequences WHERE account_pk = $1";

/// Numbers the account's (`$1`) committed events not numbered yet, in the order they were
/// written, after `$2`.
const NUMBER_EVENTS: &str = "UPDATE tx_events SET event_id = $2 + n.rn \
     FROM (SELECT pk, row_number() OVER (ORDER BY pk) AS rn FROM tx_events \
     WHERE account_pk = $1 AND event_id IS NULL) AS n WHERE tx_events.pk = n.pk";

const ADVANCE_SEQUENCE: &str =
    "UPDATE event_sequences SET last_id = last_id + $2 WHERE account_pk = $1";

/// Numbers the account's committed events that have no ID yet, inside the caller's transaction,
/// under the account's counter row (`locks.rows`): numbering runs one at a time per account and
/// an ID is visible only once it and every smaller one are committed.
pub async fn number_events_in<DB>(
    conn: &mut DB::Connection,
    locks: TxLocks,
    account_pk: i64,
) -> StoreResult<()>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query::<DB>(NEW_SEQUENCE)
        .arg(account_pk)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("start an event sequence"))?;
    let last = sqlx::query_scalar::<DB, i64>(&format!("{LAST_EVENT_ID}{}", locks.rows))
        .arg(account_pk)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql::db("read an event sequence"))?;
    let numbered = sqlx::query::<DB>(NUMBER_EVENTS)
        .arg(account_pk)
        .arg(last)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("number events"))
        .map(sql::affected::<DB>)?;
    if numbered > 0 {
        let numbered =
            i64::try_from(numbered).map_err(|_| StoreError::Other(format!("{numbered} events")))?;
        sqlx::query::<DB>(ADVANCE_SEQUENCE)
            .arg(account_pk)
            .arg(numbered)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("advance an event sequence"))?;
    }
    Ok(())
}

/// A page of the account's NotSent events after `after`, oldest first, inside the caller's
/// transaction: the account's new events are numbered first.
pub async fn not_sent_in<DB>(
    conn: &mut DB::Connection,
    locks: TxLocks,
    account_id: &str,
    after: i64,
    limit: u32,
    now: Millis,
) -> StoreResult<Vec<NotSentEvent>>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    NotSentEvent: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(&mut *conn, account_id).await?;
    number_events_in::<DB>(conn, locks, owner.pk).await?;
    sqlx::query_as::<DB, NotSentEvent>(NOT_SENT_PAGE)
        .arg(owner.pk)
        .arg(after)
        .arg(now - EVENT_RETENTION)
        .arg(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(sql::db("read NotSent events"))
}

/// The periodic housekeeping of transactional messages, inside the caller's transaction:
/// messages held by an Inactive definition for 72 hours become NotSent 138, and events and
/// messages older than the retention (30 days) are dropped. How many messages expired.
pub async fn housekeeping_in<DB>(
    conn: &mut DB::Connection,
    locks: TxLocks,
    now: Millis,
) -> StoreResult<u64>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let expired = settle_waiting_in::<DB>(
        conn,
        locks,
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
    sqlx::query::<DB>(PURGE_MESSAGES)
        .arg(now - EVENT_RETENTION)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("purge old messages"))?;
    Ok(expired)
}
