//! What both backends share about handing recipients over (API.md §4 "What a send does" 2, 5, 6;
//! §5 receipts; §7 cancel; §8 leases): the send a delivery method names ([`SendRef`]), the rows
//! the dispatcher reads and their mapping, the statements both dialects read alike, and the
//! control flow around the batch statements (empty batches, row mapping, error strings), generic
//! over the database ([`Sql`]).
//!
//! A batch of keys travels as PostgreSQL's arrays (`= ANY($1)`, `unnest`) or SQLite's JSON
//! (`json_each`): those statements stay each backend's, passed in with the batch already in the
//! backend's form (`K`). So do transactions and locking: PostgreSQL's `FOR UPDATE` /
//! `SKIP LOCKED` claims and recoveries, SQLite's single writer.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use sqlx::{Encode, Executor, FromRow, Type};

use crate::send_rows::SendRow;
use crate::sql::{self, id_key, Arg, Ending, Sql};
use crate::{
    bad_value, Attributes, ClaimedRecipient, DispatchSend, Millis, Receipt, SendState, StoreError,
    StoreResult,
};

/// The columns of a [`SendRef`] by the token's key `$1` (a backend may append a lock).
pub const SEND_REF: &str = "SELECT pk, account_pk, state, code, due_at, next_at, replies \
     FROM sends WHERE token_key = $1";

/// What the delivery methods need of a send named by its token.
#[derive(sqlx::FromRow)]
pub struct SendRef {
    pub pk: i64,
    pub account_pk: i64,
    pub state: String,
    pub code: String,
    pub due_at: i64,
    pub next_at: Option<i64>,
    /// 1: a send of replies, which need no subscription.
    pub replies: i32,
}

/// The send with this token (tokens are unique across accounts, matched ignoring case), read by
/// `statement` ([`SEND_REF`], perhaps with a lock); NotFound when there is none.
pub async fn send_ref<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    statement: &str,
    token: &str,
) -> StoreResult<SendRef>
where
    SendRef: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, SendRef>(statement)
        .arg(id_key(token))
        .fetch_optional(db)
        .await
        .map_err(sql::db("find send by token"))?
        .ok_or(StoreError::NotFound)
}

/// The sends the dispatcher may work on: Started, due by `$1`, with a ready recipient no live
/// lease holds, whose carrier is not one of `$3` (`$except`: the backend's test of that), at
/// most `$2`, oldest due first.
#[macro_export]
macro_rules! dispatchable_sends {
    ($except:literal) => {
        $crate::select_send!(
            with "s.carrier AS dispatch_carrier, s.next_at AS dispatch_next_at";
            concat!("WHERE s.state = ", $crate::send_state!(Started), " AND s.next_at <= $1 "),
            concat!(
                "AND EXISTS (SELECT 1 FROM recipients r WHERE r.send_pk = s.pk AND r.state = ",
                $crate::recipient_state!(ready),
                " "
            ),
            "AND (r.lease_until IS NULL OR r.lease_until < $1)) ",
            $except,
            " ORDER BY s.due_at, s.pk LIMIT $2"
        )
    };
}

/// A send as [`dispatchable_sends!`] reads it.
#[derive(sqlx::FromRow)]
pub struct DispatchRow {
    #[sqlx(flatten)]
    send: SendRow,
    dispatch_carrier: Option<String>,
    dispatch_next_at: Option<i64>,
}

impl DispatchRow {
    pub fn into_dispatch_send(self) -> StoreResult<DispatchSend> {
        let send = self.send.into_send()?;
        let carrier = self
            .dispatch_carrier
            .ok_or_else(|| bad_value("carrier of started send", &send.token))?;
        let next_at = self
            .dispatch_next_at
            .ok_or_else(|| bad_value("next_at of started send", &send.token))?;
        Ok(DispatchSend {
            send,
            carrier,
            next_at,
        })
    }
}

/// Runs a backend's [`dispatchable_sends!`] statement, `except` in the backend's form.
pub async fn dispatchable_sends<'e, 'q, DB, K>(
    db: impl Executor<'e, Database = DB>,
    statement: &'q str,
    now: Millis,
    limit: u32,
    except: K,
) -> StoreResult<Vec<DispatchSend>>
where
    DB: Sql,
    K: Encode<'q, DB> + Type<DB> + Send + 'q,
    DispatchRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, DispatchRow>(statement)
        .arg(now)
        .arg(i64::from(limit))
        .bind(except)
        .fetch_all(db)
        .await
        .map_err(sql::db("find dispatchable sends"))?
        .into_iter()
        .map(DispatchRow::into_dispatch_send)
        .collect()
}

/// Sets the send's `next_at` (`$2`) by its token's key (`$1`).
pub const PAUSE_SEND: &str = "UPDATE sends SET next_at = $2 WHERE token_key = $1";

pub async fn pause_send<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    token: &str,
    until: Millis,
) -> StoreResult<()> {
    let paused = sqlx::query::<DB>(PAUSE_SEND)
        .arg(id_key(token))
        .arg(until)
        .execute(db)
        .await
        .map_err(sql::db("pause send"))
        .map(sql::affected::<DB>)?;
    if paused == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A ready recipient of a claimed batch, as a backend's claim statement reads it.
pub struct ClaimRow {
    pub pk: i64,
    pub mobile_number: String,
    /// Still Subscribed (or the send needs no subscription); otherwise suppressed.
    pub subscribed: bool,
    pub attributes: Option<Attributes>,
    pub text: Option<String>,
}

/// A backend's claim of one send's ready recipients, a batch at a time, inside the claim's
/// transaction: how it reads and locks a batch stays its own.
pub trait ClaimBatch<DB: Sql>: std::marker::Send {
    /// Reads, once per claim, what tells who is still Subscribed on the send's code (a deleted
    /// code has nothing left: every remaining number is then suppressed).
    fn audience(
        &mut self,
        conn: &mut DB::Connection,
        send: &SendRef,
    ) -> impl Future<Output = StoreResult<()>> + std::marker::Send;

    /// The next `limit` ready recipients of `send` in queue order that no live lease holds
    /// (PostgreSQL leases or suppresses them in the same statement); empty when none is left.
    fn next(
        &mut self,
        conn: &mut DB::Connection,
        send: &SendRef,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<ClaimRow>>> + std::marker::Send;

    /// Records the batch's leases (`leased`, to the claim's owner) and suppressions, where
    /// [`ClaimBatch::next`] did not.
    fn record(
        &mut self,
        conn: &mut DB::Connection,
        leased: &[i64],
        suppressed: &[i64],
    ) -> impl Future<Output = StoreResult<()>> + std::marker::Send;
}

/// Claims up to `limit` ready recipients of `send` (read, and locked as the backend needs, in
/// the claim's transaction): nothing unless it is Started. Batches are claimed until one leases a
/// recipient (a batch whose numbers are all suppressed takes the next one), so an empty answer
/// means nothing is ready for this caller. The claimed recipients, in queue order.
pub async fn claim<DB, B>(
    conn: &mut DB::Connection,
    send: &SendRef,
    limit: u32,
    batch: &mut B,
) -> StoreResult<Ending<Vec<ClaimedRecipient>>>
where
    DB: Sql,
    B: ClaimBatch<DB>,
{
    if send.state != SendState::Started.as_str() || limit == 0 {
        return Ok(Ending::Rollback(Vec::new()));
    }
    batch.audience(conn, send).await?;
    let mut claimed = Vec::new();
    loop {
        let rows = batch.next(conn, send, limit).await?;
        if rows.is_empty() {
            break;
        }
        let mut leased = Vec::new();
        let mut suppressed = Vec::new();
        for row in rows {
            if !row.subscribed {
                suppressed.push(row.pk);
                continue;
            }
            leased.push(row.pk);
            claimed.push(ClaimedRecipient {
                id: row.pk,
                mobile_number: row.mobile_number,
                attributes: row.attributes.unwrap_or_default(),
                text: row.text,
            });
        }
        batch.record(conn, &leased, &suppressed).await?;
        if !claimed.is_empty() {
            break;
        }
    }
    claimed.sort_by_key(|r| r.id);
    Ok(Ending::Commit(claimed))
}

/// The statements of [`Keyed`], with `$in` the backend's test that a key is one of the batch
/// `$1` (PostgreSQL: `= ANY($1)`; SQLite: `IN (SELECT value FROM json_each($1))`).
#[macro_export]
macro_rules! keyed_statements {
    ($in:literal) => {
        $crate::dispatch_rows::Keyed {
            mark_submitting: concat!(
                "UPDATE recipients SET state = ",
                $crate::recipient_state!(submitting),
                ", lease_until = $3, updated_at = $4 WHERE pk ",
                $in,
                " AND state = ",
                $crate::recipient_state!(ready),
                " AND lease_owner = $2 AND lease_until >= $4 RETURNING pk"
            ),
            renew_leases: concat!(
                "UPDATE recipients SET lease_until = $3 WHERE pk ",
                $in,
                " AND lease_owner = $2 AND state IN (",
                $crate::recipient_state!(ready),
                ", ",
                $crate::recipient_state!(submitting),
                ")"
            ),
            cancel_requeued: concat!(
                "UPDATE recipients SET state = ",
                $crate::recipient_state!(done),
                ", outcome = ",
                $crate::outcome!(canceled),
                ", updated_at = $2 WHERE state = ",
                $crate::recipient_state!(ready),
                " AND send_pk IN (SELECT pk FROM sends WHERE pk ",
                $in,
                " AND state = ",
                $crate::send_state!(Canceled),
                ")"
            ),
            reopen: concat!(
                "UPDATE sends SET state = ",
                $crate::send_state!(Started),
                // A transactional send whose definition is Inactive stays held (API.md §9).
                ", completed_at = NULL, next_at = CASE WHEN definition_pk IS NULL \
                 OR (SELECT d.status FROM send_definitions d WHERE d.pk = sends.definition_pk) = 'Active' \
                 THEN $2 END, held_at = CASE WHEN definition_pk IS NULL \
                 OR (SELECT d.status FROM send_definitions d WHERE d.pk = sends.definition_pk) = 'Active' \
                 THEN NULL ELSE $2 END WHERE pk ",
                $in,
                " AND state = ",
                $crate::send_state!(Finished)
            ),
        }
    };
}

/// The statements about a batch of keys (`$1`, in the backend's form), made by
/// [`keyed_statements!`].
pub struct Keyed {
    /// Marks the claimed recipients `$1` as submitting for `$2` until `$3`, as of `$4`, where
    /// `$2` still holds them (ready under its live lease); their pks.
    pub mark_submitting: &'static str,
    /// Renews `$2`'s leases of the recipients `$1` until `$3`.
    pub renew_leases: &'static str,
    /// Settles the ready recipients of the sends `$1` canceled meanwhile as canceled, as of `$2`.
    pub cancel_requeued: &'static str,
    /// Starts again the sends `$1` that recovery finished (it had settled a recipient 3400 that
    /// is now back in the queue), as of `$2`.
    pub reopen: &'static str,
}

/// The pks of the claimed recipients `ids` that `owner` still holds, now marked submitting
/// (see [`Keyed::mark_submitting`]), ascending. `keys` puts `ids` in the backend's form.
#[allow(clippy::too_many_arguments)]
pub async fn mark_submitting<'e, 'q, DB, K>(
    db: impl Executor<'e, Database = DB>,
    keyed: &Keyed,
    ids: &[i64],
    keys: impl FnOnce(&[i64]) -> StoreResult<K>,
    owner: &'q str,
    now: Millis,
    lease_until: Millis,
) -> StoreResult<Vec<i64>>
where
    DB: Sql,
    K: Encode<'q, DB> + Type<DB> + Send + 'q,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut marked = sqlx::query_scalar::<DB, i64>(keyed.mark_submitting)
        .bind(keys(ids)?)
        .arg(owner)
        .arg(lease_until)
        .arg(now)
        .fetch_all(db)
        .await
        .map_err(sql::db("record recipients as submitting"))?;
    marked.sort_unstable();
    Ok(marked)
}

/// Renews `owner`'s leases of `ids` (see [`Keyed::renew_leases`]); how many.
pub async fn renew_leases<'e, 'q, DB, K>(
    db: impl Executor<'e, Database = DB>,
    keyed: &Keyed,
    ids: &[i64],
    keys: impl FnOnce(&[i64]) -> StoreResult<K>,
    owner: &'q str,
    lease_until: Millis,
) -> StoreResult<u64>
where
    DB: Sql,
    K: Encode<'q, DB> + Type<DB> + Send + 'q,
{
    if ids.is_empty() {
        return Ok(0);
    }
    sqlx::query::<DB>(keyed.renew_leases)
        .bind(keys(ids)?)
        .arg(owner)
        .arg(lease_until)
        .execute(db)
        .await
        .map_err(sql::db("renew leases"))
        .map(sql::affected::<DB>)
}

/// After answers that put recipients of the sends `requeued` back in the queue: those of a send
/// canceled meanwhile are canceled; a send that recovery finished goes on (see [`Keyed`]).
pub async fn requeued<'q, DB, K>(
    conn: &mut DB::Connection,
    keyed: &Keyed,
    requeued: HashSet<i64>,
    keys: impl FnOnce(&[i64]) -> StoreResult<K>,
    now: Millis,
) -> StoreResult<()>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    K: Encode<'q, DB> + Type<DB> + Send + Clone + 'q,
{
    if requeued.is_empty() {
        return Ok(());
    }
    let sends = keys(&requeued.into_iter().collect::<Vec<i64>>())?;
    sqlx::query::<DB>(keyed.cancel_requeued)
        .bind(sends.clone())
        .arg(now)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("cancel requeued recipients"))?;
    sqlx::query::<DB>(keyed.reopen)
        .bind(sends)
        .arg(now)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("reopen sends"))?;
    Ok(())
}

/// The statement that records the carrier's answers for the rows `$from` (the backend's rows
/// `u (pk, status_code, carrier_message_id, segments, encoding, note)` of the batch, from `$5`
/// on): `$1` now, `$2` 2600 and `$4` 1000 go back to the queue (1000: untouched), any other code
/// settles. Only rows `$3` holds change (claimed or submitting under its lease, or settled 3400
/// by recovery from its lease); the recipient's `carrier` (the send's, fixed at expansion) is
/// recorded with the message id receipts will name. Returns the send of each recipient back in
/// the queue (NULL for the others).
#[macro_export]
macro_rules! record_submissions {
    ($from:literal) => {
        concat!(
            "UPDATE recipients SET \
             status_code = CASE WHEN u.status_code IN ($2, $4) THEN $4 ELSE u.status_code END, \
             carrier = CASE WHEN u.status_code = $4 THEN recipients.carrier \
             ELSE (SELECT s.carrier FROM sends s WHERE s.pk = recipients.send_pk) END, \
             carrier_message_id = CASE WHEN u.status_code = $4 \
             THEN recipients.carrier_message_id ELSE u.carrier_message_id END, \
             segments = CASE WHEN u.status_code = $4 THEN recipients.segments ELSE u.segments END, \
             encoding = CASE WHEN u.status_code = $4 THEN recipients.encoding ELSE u.encoding END, \
             note = CASE WHEN u.status_code <> $4 THEN u.note \
             WHEN recipients.recovered_from IS NULL THEN recipients.note END, \
             state = CASE WHEN u.status_code IN ($2, $4) THEN ",
            $crate::recipient_state!(ready),
            " ELSE ",
            $crate::recipient_state!(done),
            " END, \
             lease_owner = NULL, lease_until = NULL, recovered_from = NULL, updated_at = $1, \
             submitted_at = CASE WHEN u.status_code IN ($2, $4) THEN NULL ELSE $1 END FROM ",
            $from,
            " WHERE recipients.pk = u.pk AND ( \
             (recipients.state IN (",
            $crate::recipient_state!(ready),
            ", ",
            $crate::recipient_state!(submitting),
            ") AND recipients.lease_owner = $3) \
             OR (recipients.state = ",
            $crate::recipient_state!(done),
            " AND recipients.recovered_from = $3)) \
             RETURNING CASE WHEN recipients.state = ",
            $crate::recipient_state!(ready),
            " THEN recipients.send_pk END"
        )
    };
}

/// The statement [`record_submissions!`] makes, as it is run; `batch` binds the backend's rows.
pub type RecordQuery<'q, DB> =
    sqlx::query::QueryScalar<'q, DB, Option<i64>, <DB as sqlx::Database>::Arguments<'q>>;

/// Records the carrier's answers with a backend's [`record_submissions!`] statement, whose rows
/// `batch` binds, then settles what they put back in the queue ([`requeued`]).
pub async fn record_submissions<'q, DB, K>(
    conn: &mut DB::Connection,
    statement: &'q str,
    batch: impl FnOnce(RecordQuery<'q, DB>) -> RecordQuery<'q, DB>,
    keyed: &Keyed,
    keys: impl FnOnce(&[i64]) -> StoreResult<K>,
    owner: &'q str,
    now: Millis,
) -> StoreResult<()>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (Option<i64>,): for<'r> FromRow<'r, DB::Row>,
    K: Encode<'q, DB> + Type<DB> + Send + Clone + 'q,
{
    let query = sqlx::query_scalar::<DB, Option<i64>>(statement)
        .arg(now)
        .arg(crate::codes::THROTTLED)
        .arg(owner)
        .arg(crate::codes::QUEUED);
    let requeued = batch(query)
        .fetch_all(&mut *conn)
        .await
        .map_err(sql::db("record submissions"))?
        .into_iter()
        .flatten()
        .collect();
    self::requeued::<DB, K>(conn, keyed, requeued, keys, now).await
}

/// Receipts in arrival order, split into rounds of at most one receipt per carrier message, each
/// round applied by one statement as if one by one.
pub fn receipt_rounds(receipts: &[Receipt]) -> Vec<Vec<&Receipt>> {
    let mut rounds: Vec<Vec<&Receipt>> = Vec::new();
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for receipt in receipts {
        let round = seen
            .entry((&receipt.carrier, &receipt.carrier_message_id))
            .or_insert(0);
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(receipt);
        *round += 1;
    }
    rounds
}

/// Settles the ready recipients of the send `$1` as canceled, as of `$2`.
pub const CANCEL_RECIPIENTS: &str = concat!(
    "UPDATE recipients SET state = ",
    recipient_state!(done),
    ", outcome = ",
    outcome!(canceled),
    ", lease_owner = NULL, lease_until = NULL, updated_at = $2 WHERE send_pk = $1 AND state = ",
    recipient_state!(ready)
);

/// Records the send `$1` as canceled, as of `$2`.
pub const CANCEL_SEND: &str = concat!(
    "UPDATE sends SET state = ",
    send_state!(Canceled),
    ", completed_at = $2, next_at = NULL, lease_owner = NULL, lease_until = NULL WHERE pk = $1"
);

/// Cancels `send` (read by the backend, locked as it needs): Conflict when it is final; the
/// recipients not yet handed over are canceled (those being written are not touched: they may
/// already have left). How many were canceled.
pub async fn cancel<DB>(
    conn: &mut DB::Connection,
    send: &SendRef,
    token: &str,
    now: Millis,
) -> StoreResult<u64>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    if SendState::parse(&send.state).is_some_and(SendState::is_final) {
        return Err(StoreError::Conflict(format!(
            "send {token} is {} and cannot be canceled",
            send.state
        )));
    }
    let canceled = sqlx::query::<DB>(CANCEL_RECIPIENTS)
        .arg(send.pk)
        .arg(now)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("cancel recipients"))
        .map(sql::affected::<DB>)?;
    sqlx::query::<DB>(CANCEL_SEND)
        .arg(send.pk)
        .arg(now)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("cancel send"))?;
    Ok(canceled)
}

/// Runs a backend's statement that settles the recipients whose hand-over lease expired before
/// `$1` as unknown (`$2` the code, `$3` the note); how many.
pub async fn recover_expired<DB>(
    conn: &mut DB::Connection,
    recover: &str,
    finish: &str,
    now: Millis,
) -> StoreResult<u64>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let recovered = sqlx::query::<DB>(recover)
        .arg(now)
        .arg(crate::codes::UNKNOWN)
        .arg(crate::codes::UNKNOWN_AFTER_CRASH)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("recover expired hand-overs"))
        .map(sql::affected::<DB>)?;
    // A send whose last recipients were settled here, or whose process stopped between recording
    // its last batch and finishing it, has nothing ready: the dispatcher never sees it again.
    sqlx::query::<DB>(finish)
        .arg(now)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("finish settled sends"))?;
    Ok(recovered)
}
