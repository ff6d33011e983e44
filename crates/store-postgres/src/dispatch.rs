//! Handing recipients over (API.md §4 "What a send does" 2, 5, 6; §5 receipts; §7 cancel; §8
//! leases): the dispatcher claims ready recipients of Started sends under a lease (they stay
//! ready), records each durably as submitting just before it is written to the carrier, renews
//! its leases while it works, records the carrier's answers, and receipts raise codes later.
//!
//! Any number of processes dispatch one send at once. The rules that keep that safe:
//! - A claim takes the send's row in `FOR KEY SHARE` mode (claims share it) and then its
//!   recipients with `FOR UPDATE SKIP LOCKED`: concurrent claims get disjoint batches.
//! - Cancel takes the send's row `FOR UPDATE`, which waits for claims in flight and holds new
//!   ones off until the send reads Canceled: a recipient is either claimed or canceled.
//! - Statements that lock many recipients (or sends) of other processes lock them in key order
//!   or skip locked ones, so no two transactions wait for each other in a cycle.
//!
//! Every statement is set-based: a batch travels as arrays that `unnest` turns back into rows.
//!
//! What both backends do alike (the rows, the claim's loop, the control flow and error strings
//! around the batch statements) is in [`store::dispatch_rows`], and `store::dispatch_store!`
//! implements the trait with it, opening and settling the transactions of the claim, the answers
//! and recovery; here are the array form of a batch, the locking statements and the other
//! methods.

use store::dispatch_rows::{self, ClaimBatch, ClaimRow, Keyed, SendRef, SEND_REF};

use std::collections::HashSet;

use store::{Millis, Receipt, StoreError, StoreResult, SubmissionResult};

use crate::codes::code_key;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::{attributes_from_json, db, id_key, settle, Ending, PgStore};

/// The sends to dispatch: see [`store::dispatchable_sends!`].
const DISPATCHABLE_SENDS: &str = store::dispatchable_sends!("AND NOT (s.carrier = ANY($3))");

/// The statements about a batch of keys, which travels as an array.
const KEYED: Keyed = store::keyed_statements!("= ANY($1)");

/// The carriers to leave out as PostgreSQL binds them: an array.
fn carriers(except: &[String]) -> StoreResult<&[String]> {
    Ok(except)
}

/// A batch of keys as PostgreSQL binds it: ascending, so that statements that lock many rows
/// lock them in key order.
fn ascending(ids: &[i64]) -> StoreResult<Vec<i64>> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    Ok(sorted)
}

store::dispatch_store!(
    PgStore,
    db: Postgres,
    reads: pool,
    writes: pool,
    begin: begin,
    dispatchable_sends: DISPATCHABLE_SENDS,
    carriers: carriers,
    keyed: KEYED,
    keys: ascending,
    claim: Claim,
    claim_lock: " FOR KEY SHARE",
    record_submissions: record_in,
    recover_expired: recover_in,
    finish_if_done: finish_if_done_now,
    apply_receipts: apply_receipts_now,
    unmatched_receipts: unmatched_receipts_now,
    cancel_send: cancel_send_now
);

impl PgStore {
    /// One statement. Each caller finishes after committing its own last batch, so the last batch
    /// of a send to commit, in whichever process, sees every other one settled and finishes it.
    async fn finish_if_done_now(&self, token: &str, now: Millis) -> StoreResult<bool> {
        let finished: Option<(i64, bool)> = sqlx::query_as(concat!(
            "WITH target AS (SELECT pk, state FROM sends WHERE token_key = $1), \
             finished AS ( \
                 UPDATE sends SET state = ",
            send_state!(Finished),
            ", completed_at = $2, next_at = NULL \
                 FROM target WHERE sends.pk = target.pk AND sends.state = ",
            send_state!(Started),
            " \
                 AND NOT EXISTS (SELECT 1 FROM recipients \
                     WHERE send_pk = target.pk AND state = ",
            recipient_state!(ready),
            ") \
                 AND NOT EXISTS (SELECT 1 FROM recipients \
                     WHERE send_pk = target.pk AND state = ",
            recipient_state!(submitting),
            ") \
                 RETURNING sends.pk) \
             SELECT target.pk, EXISTS (SELECT 1 FROM finished) FROM target"
        ))
        .bind(id_key(token))
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("finish send"))?;
        match finished {
            Some((_, done)) => Ok(done),
            None => Err(StoreError::NotFound),
        }
    }

    /// Receipts in arrival order, applied as if one by one: a code replaces the stored one when it
    /// is higher, or when the stored one is the transient 2600 (API.md §5). One statement per
    /// "round", where a round holds at most one receipt per carrier message (usually one round).
    /// The recipients are locked in key order first, so receipt batches of different processes
    /// never deadlock.
    async fn apply_receipts_now(&self, receipts: &[Receipt], now: Millis) -> StoreResult<u64> {
        let rounds: Vec<Round> = dispatch_rows::receipt_rounds(receipts)
            .into_iter()
            .map(|round| Round {
                carriers: round.iter().map(|r| r.carrier.as_str()).collect(),
                message_ids: round
                    .iter()
                    .map(|r| r.carrier_message_id.as_str())
                    .collect(),
                codes: round.iter().map(|r| r.status_code).collect(),
            })
            .collect();
        if rounds.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let work = receipts_in(&mut tx, &rounds, now).await;
        settle(tx, work, "commit receipts").await
    }

    /// The receipts that match no recipient, as ascending indexes into `receipts`.
    async fn unmatched_receipts_now(&self, receipts: &[Receipt]) -> StoreResult<Vec<usize>> {
        let carriers: Vec<&str> = receipts.iter().map(|r| r.carrier.as_str()).collect();
        let ids: Vec<&str> = receipts
            .iter()
            .map(|r| r.carrier_message_id.as_str())
            .collect();
        let positions: Vec<i64> = sqlx::query_scalar(
            "SELECT u.i FROM unnest($1::text[], $2::text[]) WITH ORDINALITY \
             AS u (carrier, carrier_message_id, i) \
             WHERE NOT EXISTS (SELECT 1 FROM recipients r \
             WHERE r.carrier = u.carrier AND r.carrier_message_id = u.carrier_message_id) \
             ORDER BY u.i",
        )
        .bind(&carriers)
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db("match receipts"))?;
        Ok(positions
            .into_iter()
            .filter_map(|i| usize::try_from(i - 1).ok())
            .collect())
    }

    /// Cancels a send that is not final (API.md §7): recipients not yet handed over never will be.
    /// Recipients being handed over right now are not touched: they may already have left. The
    /// send's row lock waits for claims in flight (see the module docs) and is taken before any
    /// recipient's, in the order claims take them.
    async fn cancel_send_now(&self, token: &str, now: Millis) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let work = cancel_in(&mut tx, token, now).await;
        let canceled = settle(tx, work, "commit canceled send").await?;
        self.signal.raise();
        Ok(canceled)
    }
}

/// One claimed row: pk, number, whether it is still Subscribed, the contact's attributes, the
/// recipient's own text.
type ClaimedRow = (i64, String, bool, Option<String>, Option<String>);

/// PostgreSQL's claim: one transaction takes the send's row in `FOR KEY SHARE` mode (see the module
/// docs), then one statement locks the next batch of ready recipients in queue order that no live
/// lease holds, skipping those other claims are taking, and leases the Subscribed ones to the owner
/// (they stay ready) and records the others as suppressed. When a whole batch is suppressed it
/// takes the next one, so an empty answer means nothing is ready for this caller.
#[derive(Default)]
struct Claim<'a> {
    /// The keywords of the send's code, whose subscriptions count.
    keywords: Vec<i64>,
    owner: &'a str,
    now: Millis,
    lease_until: Millis,
}

/// The claim's statement.
const CLAIM: &str = concat!(
    "WITH batch AS ( \
             SELECT r.pk, r.mobile_number, $8 OR EXISTS (SELECT 1 FROM subscriptions s \
                 WHERE s.keyword_pk = ANY($3) AND s.mobile_number = r.mobile_number \
                 AND s.status = ",
    subscription_status!(Subscribed),
    ") AS subscribed \
             FROM recipients r WHERE r.send_pk = $1 AND r.state = ",
    recipient_state!(ready),
    " \
             AND (r.lease_until IS NULL OR r.lease_until < $6) \
             ORDER BY r.pk LIMIT $2 FOR UPDATE OF r SKIP LOCKED), \
         claimed AS ( \
             UPDATE recipients SET \
             state = CASE WHEN b.subscribed THEN ",
    recipient_state!(ready),
    " ELSE ",
    recipient_state!(done),
    " END, \
             outcome = CASE WHEN b.subscribed THEN NULL ELSE ",
    outcome!(suppressed),
    " END, \
             lease_owner = CASE WHEN b.subscribed THEN $4 END, \
             lease_until = CASE WHEN b.subscribed THEN $5::bigint END, \
             updated_at = $6 \
             FROM batch b WHERE recipients.pk = b.pk \
             RETURNING recipients.pk, recipients.mobile_number, b.subscribed, \
             coalesce(recipients.text, (SELECT b.text FROM batch_texts b \
             WHERE b.pk = recipients.text_pk)) AS text) \
         SELECT c.pk, c.mobile_number, c.subscribed, \
         CASE WHEN c.subscribed THEN ct.attributes END, c.text \
         FROM claimed c \
         LEFT JOIN contacts ct ON ct.account_pk = $7 AND ct.mobile_number = c.mobile_number \
         ORDER BY c.pk"
);

impl ClaimBatch<Postgres> for Claim<'_> {
    async fn audience(&mut self, conn: &mut PgConnection, send: &SendRef) -> StoreResult<()> {
        self.keywords = sqlx::query_scalar(
            "SELECT k.pk FROM keywords k JOIN codes c ON c.pk = k.code_pk \
             WHERE c.account_pk = $1 AND c.code_key = $2",
        )
        .bind(send.account_pk)
        .bind(code_key(&send.code))
        .fetch_all(&mut *conn)
        .await
        .map_err(db("find the send's keywords"))?;
        Ok(())
    }

    async fn next(
        &mut self,
        conn: &mut PgConnection,
        send: &SendRef,
        limit: u32,
    ) -> StoreResult<Vec<ClaimRow>> {
        let rows: Vec<ClaimedRow> = sqlx::query_as(CLAIM)
            .bind(send.pk)
            .bind(i64::from(limit))
            .bind(&self.keywords)
            .bind(self.owner)
            .bind(self.lease_until)
            .bind(self.now)
            .bind(send.account_pk)
            .bind(send.replies != 0)
            .fetch_all(&mut *conn)
            .await
            .map_err(db("claim recipients"))?;
        rows.into_iter()
            .map(|(pk, mobile_number, subscribed, attributes, text)| {
                Ok(ClaimRow {
                    pk,
                    mobile_number,
                    subscribed,
                    attributes: attributes
                        .as_deref()
                        .map(attributes_from_json)
                        .transpose()?,
                    text,
                })
            })
            .collect()
    }

    /// The claim's statement recorded them.
    async fn record(&mut self, _: &mut PgConnection, _: &[i64], _: &[i64]) -> StoreResult<()> {
        Ok(())
    }
}

/// The carrier's answers, in one transaction for the whole batch: the answers (rows `owner` holds
/// only: claimed or submitting under its lease, or settled 3400 by recovery from its lease), then,
/// for answers that put a recipient back in the queue, its send if canceled meanwhile (the
/// recipient is canceled) or finished by recovery (the send goes on). The recipient's `carrier`
/// (the send's, fixed at expansion) is recorded with the message id receipts will name.
async fn record_in(
    tx: &mut Transaction<'static, Postgres>,
    owner: &str,
    results: &[SubmissionResult],
    now: Millis,
) -> StoreResult<Ending<()>> {
    let mut sorted: Vec<&SubmissionResult> = results.iter().collect();
    sorted.sort_by_key(|r| r.id);
    let pks: Vec<i64> = sorted.iter().map(|r| r.id).collect();
    let codes: Vec<i32> = sorted.iter().map(|r| r.status_code).collect();
    // Borrowed: the arrays are bound as they are, nothing is copied per recipient.
    let message_ids: Vec<Option<&str>> = sorted
        .iter()
        .map(|r| r.carrier_message_id.as_deref())
        .collect();
    let segments: Vec<i32> = sorted.iter().map(|r| r.segments).collect();
    let encodings: Vec<&str> = sorted.iter().map(|r| r.encoding.as_str()).collect();
    let notes: Vec<Option<&str>> = sorted.iter().map(|r| r.note.as_deref()).collect();
    let statement = store::record_submissions!(
        "unnest($5::bigint[], $6::integer[], $7::text[], $8::integer[], $9::text[], \
         $10::text[]) AS u (pk, status_code, carrier_message_id, segments, encoding, note)"
    );
    dispatch_rows::record_submissions::<Postgres, _>(
        &mut **tx,
        statement,
        |query| {
            query
                .bind(&pks)
                .bind(&codes)
                .bind(&message_ids)
                .bind(&segments)
                .bind(&encodings)
                .bind(&notes)
        },
        &KEYED,
        ascending,
        owner,
        now,
    )
    .await?;
    Ok(Ending::Commit(()))
}

/// Recovery, which every process runs. Rows another transaction holds are skipped (their owner is
/// recording them, or another recovery is settling them), so concurrent recoveries never wait for
/// each other and each expired recipient is counted by exactly one of them.
async fn recover_in(
    tx: &mut Transaction<'static, Postgres>,
    now: Millis,
) -> StoreResult<Ending<u64>> {
    let recover = concat!(
        "WITH expired AS ( \
             SELECT pk FROM recipients WHERE state = ",
        recipient_state!(submitting),
        " AND lease_until < $1 \
             ORDER BY pk FOR UPDATE SKIP LOCKED) \
         UPDATE recipients SET state = ",
        recipient_state!(done),
        ", status_code = $2, note = $3, \
         recovered_from = recipients.lease_owner, lease_owner = NULL, lease_until = NULL, \
         updated_at = $1 \
         FROM expired WHERE recipients.pk = expired.pk"
    );
    let finish = concat!(
        "WITH settled AS ( \
             SELECT pk FROM sends WHERE state = ",
        send_state!(Started),
        " \
             AND NOT EXISTS (SELECT 1 FROM recipients r \
                 WHERE r.send_pk = sends.pk AND r.state = ",
        recipient_state!(ready),
        ") \
             AND NOT EXISTS (SELECT 1 FROM recipients r \
                 WHERE r.send_pk = sends.pk AND r.state = ",
        recipient_state!(submitting),
        ") \
             ORDER BY pk FOR NO KEY UPDATE SKIP LOCKED) \
         UPDATE sends SET state = ",
        send_state!(Finished),
        ", completed_at = $1, next_at = NULL \
         FROM settled WHERE sends.pk = settled.pk"
    );
    let recovered =
        dispatch_rows::recover_expired::<Postgres>(&mut **tx, recover, finish, now).await?;
    Ok(Ending::Commit(recovered))
}

/// One receipt per carrier message: a round of [`apply_receipts`].
struct Round<'a> {
    carriers: Vec<&'a str>,
    message_ids: Vec<&'a str>,
    codes: Vec<i32>,
}

async fn receipts_in(
    tx: &mut Transaction<'static, Postgres>,
    rounds: &[Round<'_>],
    now: Millis,
) -> StoreResult<Ending<u64>> {
    let mut changed = HashSet::new();
    for (i, round) in rounds.iter().enumerate() {
        if i == 0 {
            sqlx::query(
                "SELECT r.pk FROM recipients r \
                 JOIN unnest($1::text[], $2::text[]) AS u (carrier, carrier_message_id) \
                 ON r.carrier = u.carrier AND r.carrier_message_id = u.carrier_message_id \
                 ORDER BY r.pk FOR UPDATE OF r",
            )
            .bind(&round.carriers)
            .bind(&round.message_ids)
            .execute(&mut **tx)
            .await
            .map_err(db("lock the recipients of receipts"))?;
        }
        let pks: Vec<i64> = sqlx::query_scalar(
            "UPDATE recipients SET status_code = u.status_code, updated_at = $4 \
             FROM unnest($1::text[], $2::text[], $3::integer[]) \
             AS u (carrier, carrier_message_id, status_code) \
             WHERE recipients.carrier = u.carrier \
             AND recipients.carrier_message_id = u.carrier_message_id \
             AND (u.status_code > recipients.status_code \
             OR (recipients.status_code = $5 AND u.status_code <> $5)) \
             RETURNING recipients.pk",
        )
        .bind(&round.carriers)
        .bind(&round.message_ids)
        .bind(&round.codes)
        .bind(now)
        .bind(store::codes::THROTTLED)
        .fetch_all(&mut **tx)
        .await
        .map_err(db("apply receipts"))?;
        changed.extend(pks);
    }
    Ok(Ending::Commit(changed.len() as u64))
}

async fn cancel_in(
    tx: &mut Transaction<'static, Postgres>,
    token: &str,
    now: Millis,
) -> StoreResult<Ending<u64>> {
    // The send's row lock waits for claims in flight (see the module docs).
    let send = dispatch_rows::send_ref(&mut **tx, &format!("{SEND_REF} FOR UPDATE"), token).await?;
    let canceled = dispatch_rows::cancel::<Postgres>(&mut **tx, &send, token, now).await?;
    Ok(Ending::Commit(canceled))
}
