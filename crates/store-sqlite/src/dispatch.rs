//! Handing recipients over (API.md §4 "What a send does" 2, 5, 6; §5 receipts; §7 cancel; §8
//! leases): the dispatcher claims ready recipients of Started sends under a lease (they stay
//! ready), records each durably as submitting just before it is written to the carrier, renews
//! its leases while it works, records the carrier's answers, and receipts raise codes later.
//!
//! Every statement is set-based: a batch of recipients travels as one JSON parameter that
//! `json_each` turns back into rows, so a write transaction costs a fixed number of statements
//! whatever the batch size.
//!
//! What both backends do alike (the rows, the claim's loop, the control flow and error strings
//! around the batch statements) is in [`store::dispatch_rows`], and `store::dispatch_store!`
//! implements the trait with it, opening and settling the write transactions of the claim, the
//! answers and recovery; here are the JSON form of a batch, the claim's batch (read, then lease
//! and suppress) and the other methods.

use serde::Serialize;
use store::dispatch_rows::{self, ClaimBatch, ClaimRow, Keyed, SendRef, SEND_REF};
use store::sql::Ending;
use store::SendState;

use std::collections::HashSet;

use store::{Millis, Receipt, StoreError, StoreResult, SubmissionResult};

use sqlx::{Sqlite, SqliteConnection};

use crate::{db, to_json, SqliteStore};

/// The send with this token (tokens are unique across accounts, matched ignoring case);
/// NotFound when there is none.
pub(crate) async fn send_ref<'e, E>(executor: E, token: &str) -> StoreResult<SendRef>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    dispatch_rows::send_ref(executor, SEND_REF, token).await
}

/// The sends to dispatch: see [`store::dispatchable_sends!`].
const DISPATCHABLE_SENDS: &str =
    store::dispatchable_sends!("AND s.carrier NOT IN (SELECT value FROM json_each($3))");

/// The statements about a batch of keys, which travels as a JSON array.
const KEYED: Keyed = store::keyed_statements!("IN (SELECT value FROM json_each($1))");

/// The carriers to leave out as SQLite binds them: a JSON array.
fn carriers(except: &[String]) -> StoreResult<String> {
    to_json(except, "carriers")
}

/// A batch of keys as SQLite binds it.
fn json_keys(ids: &[i64]) -> StoreResult<String> {
    to_json(ids, "recipients")
}

store::dispatch_store!(
    SqliteStore,
    db: Sqlite,
    reads: reader,
    writes: writer,
    begin: write,
    dispatchable_sends: DISPATCHABLE_SENDS,
    carriers: carriers,
    keyed: KEYED,
    keys: json_keys,
    claim: Claim,
    claim_lock: "",
    record_submissions: record_in,
    recover_expired: recover_in,
    finish_if_done: finish_if_done_now,
    apply_receipts: apply_receipts_now,
    unmatched_receipts: unmatched_receipts_now,
    cancel_send: cancel_send_now
);

impl SqliteStore {
    async fn finish_if_done_now(&self, token: &str, now: Millis) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let send = send_ref(&mut *tx, token).await?;
        if send.state != SendState::Started.as_str() {
            return Ok(false);
        }
        let finished = sqlx::query(concat!(
            "UPDATE sends SET state = ",
            send_state!(Finished),
            ", completed_at = ?2, next_at = NULL \
             WHERE pk = ?1 AND state = ",
            send_state!(Started),
            " \
             AND NOT EXISTS (SELECT 1 FROM recipients WHERE send_pk = ?1 AND state = ",
            recipient_state!(ready),
            ") \
             AND NOT EXISTS (SELECT 1 FROM recipients WHERE send_pk = ?1 AND state = ",
            recipient_state!(submitting),
            ")"
        ))
        .bind(send.pk)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("finish send"))?
        .rows_affected();
        if finished == 0 {
            return Ok(false);
        }
        tx.commit().await.map_err(db("commit finished send"))?;
        Ok(true)
    }

    /// Receipts in arrival order, applied as if one by one: a code replaces the stored one when it
    /// is higher, or when the stored one is the transient 2600 (API.md §5). One statement per
    /// "round", where a round holds at most one receipt per carrier message (usually one round).
    async fn apply_receipts_now(&self, receipts: &[Receipt], now: Millis) -> StoreResult<u64> {
        let rounds: Vec<Vec<ReceiptRow>> = dispatch_rows::receipt_rounds(receipts)
            .into_iter()
            .map(|round| {
                round
                    .into_iter()
                    .map(|r| ReceiptRow(&r.carrier, &r.carrier_message_id, r.status_code))
                    .collect()
            })
            .collect();
        if rounds.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write().await?;
        let mut changed = HashSet::new();
        for round in rounds {
            let pks: Vec<i64> = sqlx::query_scalar(
                "UPDATE recipients SET status_code = u.status_code, updated_at = ?2 \
                 FROM (SELECT j.value ->> 0 AS carrier, j.value ->> 1 AS carrier_message_id, \
                 j.value ->> 2 AS status_code FROM json_each(?1) AS j) AS u \
                 WHERE recipients.carrier = u.carrier \
                 AND recipients.carrier_message_id = u.carrier_message_id \
                 AND (u.status_code > recipients.status_code \
                 OR (recipients.status_code = ?3 AND u.status_code <> ?3)) \
                 RETURNING recipients.pk",
            )
            .bind(to_json(&round, "receipts")?)
            .bind(now)
            .bind(store::codes::THROTTLED)
            .fetch_all(&mut *tx)
            .await
            .map_err(db("apply receipts"))?;
            changed.extend(pks);
        }
        tx.commit().await.map_err(db("commit receipts"))?;
        Ok(changed.len() as u64)
    }

    /// The receipts matching no recipient, as indexes into `receipts`.
    async fn unmatched_receipts_now(&self, receipts: &[Receipt]) -> StoreResult<Vec<usize>> {
        let rows: Vec<(&str, &str)> = receipts
            .iter()
            .map(|r| (r.carrier.as_str(), r.carrier_message_id.as_str()))
            .collect();
        let rows = to_json(&rows, "receipts")?;
        let keys: Vec<i64> = sqlx::query_scalar(
            "SELECT j.key FROM json_each(?1) AS j WHERE NOT EXISTS (SELECT 1 FROM recipients r \
             WHERE r.carrier = j.value ->> 0 AND r.carrier_message_id = j.value ->> 1) \
             ORDER BY j.key",
        )
        .bind(rows)
        .fetch_all(&self.reader)
        .await
        .map_err(db("match receipts"))?;
        Ok(keys
            .into_iter()
            .filter_map(|k| usize::try_from(k).ok())
            .collect())
    }

    /// Cancels a send that is not final (API.md §7): recipients not yet handed over never will be,
    /// claimed ones included (the dispatcher cannot mark them submitting any more). Recipients
    /// being written right now (submitting) are not touched: they may already have left.
    async fn cancel_send_now(&self, token: &str, now: Millis) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        let send = send_ref(&mut *tx, token).await?;
        let canceled = dispatch_rows::cancel::<Sqlite>(&mut *tx, &send, token, now).await?;
        tx.commit().await.map_err(db("commit canceled send"))?;
        Ok(canceled)
    }
}

/// Two statements for the whole batch: the answers, then the sends that answers for recovered
/// recipients reopen. Only rows `owner` holds change (claimed or submitting under its lease, or
/// settled 3400 by recovery from its lease). The recipient's `carrier` (the send's, fixed at
/// expansion) is recorded with the message id receipts will name.
async fn record_in(
    conn: &mut SqliteConnection,
    owner: &str,
    results: &[SubmissionResult],
    now: Millis,
) -> StoreResult<Ending<()>> {
    let rows: Vec<ResultRow> = results
        .iter()
        .map(|r| {
            ResultRow(
                r.id,
                r.status_code,
                r.carrier_message_id.as_deref(),
                r.segments,
                &r.encoding,
                r.note.as_deref(),
            )
        })
        .collect();
    let rows = to_json(&rows, "submission results")?;
    let statement = store::record_submissions!(
        "(SELECT j.value ->> 0 AS pk, j.value ->> 1 AS status_code, \
         j.value ->> 2 AS carrier_message_id, j.value ->> 3 AS segments, \
         j.value ->> 4 AS encoding, j.value ->> 5 AS note FROM json_each($5) AS j) AS u"
    );
    dispatch_rows::record_submissions::<Sqlite, _>(
        conn,
        statement,
        |q| q.bind(rows),
        &KEYED,
        json_keys,
        owner,
        now,
    )
    .await?;
    Ok(Ending::Commit(()))
}

/// Recovery: one statement settles the expired submitting recipients, a second finishes the sends
/// with nothing left.
async fn recover_in(conn: &mut SqliteConnection, now: Millis) -> StoreResult<Ending<u64>> {
    let recover = concat!(
        "UPDATE recipients SET state = ",
        recipient_state!(done),
        ", status_code = $2, note = $3, \
         recovered_from = lease_owner, lease_owner = NULL, lease_until = NULL, updated_at = $1 \
         WHERE state = ",
        recipient_state!(submitting),
        " AND lease_until < $1"
    );
    let finish = concat!(
        "UPDATE sends SET state = ",
        send_state!(Finished),
        ", completed_at = $1, next_at = NULL WHERE state = ",
        send_state!(Started),
        " \
         AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.send_pk = sends.pk AND r.state = ",
        recipient_state!(ready),
        ") \
         AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.send_pk = sends.pk AND r.state = ",
        recipient_state!(submitting),
        ")"
    );
    dispatch_rows::recover_expired::<Sqlite>(conn, recover, finish, now)
        .await
        .map(Ending::Commit)
}

/// A ready recipient as the claim reads it: pk, number, Subscribed (0 or 1), the contact's
/// attributes, its own text.
type ClaimedRow = (i64, String, i64, Option<store::Attributes>, Option<String>);

/// A submission's result as `record_submissions` reads it from `json_each`: `[pk, status_code,
/// carrier_message_id, segments, encoding, note]`.
#[derive(Serialize)]
struct ResultRow<'a>(i64, i32, Option<&'a str>, i32, &'a str, Option<&'a str>);

/// A receipt as `apply_receipts` reads it from `json_each`: `[carrier, carrier_message_id,
/// status_code]`.
#[derive(Serialize)]
struct ReceiptRow<'a>(&'a str, &'a str, i32);

/// SQLite's claim, in one write transaction (the single writer holds the database): reads the next
/// batch of ready recipients in queue order (pk) that no live lease holds, with their subscription
/// check and their contacts' attributes, then leases the Subscribed ones (they stay ready) and
/// suppresses the others — two statements keyed by pk lists. When a whole batch is suppressed it
/// takes the next one, so an empty answer means nothing is ready.
#[derive(Default)]
struct Claim<'a> {
    /// The send's code, whose keywords' subscriptions count.
    code_pk: Option<i64>,
    owner: &'a str,
    now: Millis,
    lease_until: Millis,
}

/// The batch to claim, as one JSON array (one row to hand across, not a thousand).
const CLAIM_BATCH: &str = concat!(
    "SELECT json_group_array(json_array(pk, mobile_number, subscribed, \
         json(attributes), text)) FROM ( \
         SELECT r.pk, r.mobile_number, \
         $5 OR EXISTS (SELECT 1 FROM subscriptions s \
         WHERE s.keyword_pk IN (SELECT k.pk FROM keywords k WHERE k.code_pk = $3) \
         AND s.mobile_number = r.mobile_number AND s.status = ",
    subscription_status!(Subscribed),
    ") AS subscribed, \
         c.attributes, coalesce(r.text, \
         (SELECT b.text FROM batch_texts b WHERE b.pk = r.text_pk)) AS text \
         FROM recipients r \
         LEFT JOIN contacts c ON c.account_pk = $4 AND c.mobile_number = r.mobile_number \
         WHERE r.send_pk = $1 AND r.state = ",
    recipient_state!(ready),
    " \
         AND (r.lease_until IS NULL OR r.lease_until < $6) \
         ORDER BY r.pk LIMIT $2)"
);

impl ClaimBatch<Sqlite> for Claim<'_> {
    async fn audience(&mut self, conn: &mut SqliteConnection, send: &SendRef) -> StoreResult<()> {
        self.code_pk = sqlx::query_scalar(
            "SELECT pk FROM codes WHERE account_pk = $1 AND code_key = lower($2)",
        )
        .bind(send.account_pk)
        .bind(&send.code)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("find the send's code"))?;
        Ok(())
    }

    async fn next(
        &mut self,
        conn: &mut SqliteConnection,
        send: &SendRef,
        limit: u32,
    ) -> StoreResult<Vec<ClaimRow>> {
        let batch: Option<String> = sqlx::query_scalar(CLAIM_BATCH)
            .bind(send.pk)
            .bind(i64::from(limit))
            .bind(self.code_pk)
            .bind(send.account_pk)
            .bind(send.replies != 0)
            .bind(self.now)
            .fetch_one(&mut *conn)
            .await
            .map_err(db("read recipients to claim"))?;
        let rows: Vec<ClaimedRow> = serde_json::from_str(batch.as_deref().unwrap_or("[]"))
            .map_err(|e| StoreError::Other(format!("decode recipients to claim: {e}")))?;
        Ok(rows
            .into_iter()
            .map(
                |(pk, mobile_number, subscribed, attributes, text)| ClaimRow {
                    pk,
                    mobile_number,
                    subscribed: subscribed != 0,
                    attributes,
                    text,
                },
            )
            .collect())
    }

    async fn record(
        &mut self,
        conn: &mut SqliteConnection,
        leased: &[i64],
        suppressed: &[i64],
    ) -> StoreResult<()> {
        if !leased.is_empty() {
            sqlx::query(
                "UPDATE recipients SET lease_owner = $2, lease_until = $3, updated_at = $4 \
                 WHERE pk IN (SELECT value FROM json_each($1))",
            )
            .bind(to_json(&leased, "recipients")?)
            .bind(self.owner)
            .bind(self.lease_until)
            .bind(self.now)
            .execute(&mut *conn)
            .await
            .map_err(db("claim recipients"))?;
        }
        if !suppressed.is_empty() {
            sqlx::query(concat!(
                "UPDATE recipients SET state = ",
                recipient_state!(done),
                ", outcome = ",
                outcome!(suppressed),
                ", lease_owner = NULL, lease_until = NULL, updated_at = $2 \
                 WHERE pk IN (SELECT value FROM json_each($1))"
            ))
            .bind(to_json(&suppressed, "recipients")?)
            .bind(self.now)
            .execute(&mut *conn)
            .await
            .map_err(db("suppress opted-out recipients"))?;
        }
        Ok(())
    }
}
