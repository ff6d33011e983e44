//! Audience expansion (API.md §4 "What a send does" 1–2, "Send status values"): the scheduler
//! claims due sends under a lease, and each send's audience is fanned out into `recipients`
//! batch by batch, set-wise inside the database — memory does not grow with the audience.
//!
//! Many processes may run schedulers at once. Claiming is `FOR UPDATE SKIP LOCKED`, so two
//! schedulers never claim one send; a batch holds the send's row lock for its whole transaction
//! and proceeds only while the lease names its owner, so one worker at a time expands a send
//! and a worker whose lease was taken over stops (`Lost`) at its next batch.
//!
//! A batch is one transaction: a key range of the current target list's memberships goes
//! through one `INSERT ... SELECT` per list segment, and the cursor moves in the same
//! transaction, so a crash resumes after the last committed batch.
//! The unique key `(send_pk, mobile_number, list_pk)` makes a repeated batch add nothing.

use async_trait::async_trait;
use store::ExpansionStore;

use store::SendState;
use store::{Expansion, Millis, Send, StoreError, StoreResult};

use crate::codes::code_key;
use crate::sends::{select_send, SendRow};
use sqlx::{Postgres, Transaction};
use store::expansion::{check_named, Named};

use crate::{db, flag, id_key, settle, strings_from_json, strings_to_json, Ending, PgStore};

#[async_trait]
impl ExpansionStore for PgStore {
    /// Claims due New sends and Queuing sends whose lease expired, oldest due first, in one
    /// statement: rows another scheduler is claiming are skipped, and a row claimed and committed
    /// since this statement's snapshot is re-checked when locked (and then no longer matches).
    async fn claim_due_sends(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<Send>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query_as::<_, SendRow>(concat!(
            concat!(
                "WITH due AS ( \
                 SELECT pk FROM sends \
                 WHERE (state = ",
                send_state!(New),
                " AND due_at <= $3) OR (state = ",
                send_state!(Queuing),
                " AND lease_until < $3) \
                 ORDER BY due_at, pk LIMIT $4 FOR UPDATE SKIP LOCKED), \
             claimed AS ( \
                 UPDATE sends SET state = ",
                send_state!(Queuing),
                ", lease_owner = $1, lease_until = $2 \
                 FROM due WHERE sends.pk = due.pk RETURNING sends.*) "
            ),
            select_send!(from "claimed s"; "ORDER BY s.due_at, s.pk")
        ))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("claim due sends"))?;
        rows.into_iter().map(SendRow::into_send).collect()
    }

    /// Gives back `owner`'s expansion leases (graceful shutdown): the sends stay Queuing with their
    /// cursor and are immediately claimable. The other processes are told in the same statement
    /// (the notification goes out when it commits), not through the notifier task, which a process
    /// about to exit might not give the time to run. Recipients being handed over keep their
    /// lease: they may have left, so only recovery may settle them (as 3400 Unknown).
    async fn release_leases(&self, owner: &str) -> StoreResult<()> {
        sqlx::query(concat!(
            "WITH released AS ( \
                 UPDATE sends SET lease_until = 0 WHERE state = ",
            send_state!(Queuing),
            " AND lease_owner = $1 \
                 RETURNING pk) \
             SELECT pg_notify($2, '') FROM (SELECT 1 FROM released LIMIT 1) AS any_released"
        ))
        .bind(owner)
        .bind(crate::signals::CHANNEL)
        .execute(&self.pool)
        .await
        .map_err(db("release expansion leases"))?;
        // Claims on recipients that never left.
        sqlx::query(concat!(
            "UPDATE recipients SET lease_owner = NULL, lease_until = NULL \
             WHERE state = ",
            recipient_state!(ready),
            " AND lease_owner = $1"
        ))
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(db("release claims"))?;
        Ok(())
    }

    async fn expand_batch(
        &self,
        token: &str,
        owner: &str,
        batch: u32,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Expansion> {
        let mut tx = self.begin().await?;
        let work = expand_in(&mut tx, token, owner, batch, now, lease_until).await;
        let expansion = settle(tx, work, "commit expansion batch").await?;
        // A complete audience can now be handed over by any process.
        if matches!(expansion, Expansion::Done { recipients } if recipients > 0) {
            self.signal.raise();
        }
        Ok(expansion)
    }
}

/// What a batch needs of its send.
#[derive(sqlx::FromRow)]
struct Expanding {
    pk: i64,
    account_pk: i64,
    state: String,
    lease_owner: Option<String>,
    message_id: String,
    code: String,
    target_list_ids: String,
    exclusion_list_ids: String,
    allow_duplication: i32,
    expand_list: i32,
    expand_after: Option<String>,
    kind: String,
    replies: i32,
}

async fn expand_in(
    tx: &mut Transaction<'static, Postgres>,
    token: &str,
    owner: &str,
    batch: u32,
    now: Millis,
    lease_until: Millis,
) -> StoreResult<Ending<Expansion>> {
    // The row lock is held to the end of the batch: a second worker of this send waits here,
    // then finds the lease no longer its own.
    let send = sqlx::query_as::<_, Expanding>(
        "SELECT pk, account_pk, state, lease_owner, message_id, code, target_list_ids, \
         exclusion_list_ids, allow_duplication, expand_list, expand_after, kind, replies \
         FROM sends WHERE token_key = $1 FOR UPDATE",
    )
    .bind(id_key(token))
    .fetch_optional(&mut **tx)
    .await
    .map_err(db("read the send to expand"))?
    .ok_or(StoreError::NotFound)?;
    if send.state != SendState::Queuing.as_str() || send.lease_owner.as_deref() != Some(owner) {
        return Ok(Ending::Rollback(Expansion::Lost));
    }

    // Everything the send names must still exist when its audience is read (API.md §4.2). Every
    // batch resolves the lists by ID anyway (the first after a takeover included), so every
    // batch checks: a send stops as soon as something it names is gone.
    let message: Option<i64> =
        sqlx::query_scalar("SELECT pk FROM messages WHERE account_pk = $1 AND id_key = $2")
            .bind(send.account_pk)
            .bind(id_key(&send.message_id))
            .fetch_optional(&mut **tx)
            .await
            .map_err(db("find the send's message"))?;
    let target_ids = strings_from_json(&send.target_list_ids, "target list IDs")?;
    let exclusion_ids = strings_from_json(&send.exclusion_list_ids, "exclusion list IDs")?;
    let target_pks = list_pks(tx, send.account_pk, &target_ids).await?;
    let exclusion_pks = list_pks(tx, send.account_pk, &exclusion_ids).await?;
    let code: Option<(i64, String)> =
        sqlx::query_as("SELECT pk, carrier FROM codes WHERE account_pk = $1 AND code_key = $2")
            .bind(send.account_pk)
            .bind(code_key(&send.code))
            .fetch_optional(&mut **tx)
            .await
            .map_err(db("find the send's code"))?;
    let named = Named {
        message_id: &send.message_id,
        message_found: message.is_some(),
        target_ids: &target_ids,
        target_pks,
        exclusion_ids: &exclusion_ids,
        exclusion_pks,
        code: &send.code,
    };
    let (lists, (code_pk, carrier)) = match check_named(named, code) {
        Ok(found) => found,
        Err(errors) => return fail(tx, send.pk, errors, now).await,
    };

    // Each side of a segment's join is an index range of about the batch's size, so hashing
    // (or merging) them is linear in the batch. A nested loop would rescan one side per row of
    // the other, which the planner may pick when the tables were just filled and it has no
    // statistics on them yet (measured: over 30 s for a 50,000-number list).
    sqlx::query("SET LOCAL enable_nestloop = off")
        .execute(&mut **tx)
        .await
        .map_err(db("plan the expansion"))?;

    let keywords: Vec<i64> = sqlx::query_scalar("SELECT pk FROM keywords WHERE code_pk = $1")
        .bind(code_pk)
        .fetch_all(&mut **tx)
        .await
        .map_err(db("find the code's keywords"))?;

    // A messageContact send (API.md §6): its explicit numbers, in one statement (at most a few
    // hundred), with the same subscription rule as a list's memberships. A number without a
    // text (over 1,600 characters after substitution, API.md §1) is a recipient that failed
    // with 1501 and is never sent.
    if send.kind == store::SendKind::Contact.as_str() && send.replies == 0 {
        sqlx::query(concat!(
            "INSERT INTO recipients (send_pk, mobile_number, list_pk, state, \
             expansion_suppressed, updated_at, text, status_code, note) \
             SELECT $1, n.mobile_number, 0, \
             CASE WHEN ok AND n.text IS NOT NULL THEN ",
            recipient_state!(ready),
            " ELSE ",
            recipient_state!(done),
            " END, \
             CASE WHEN ok OR n.text IS NULL THEN 0 ELSE 1 END, $2, n.text, \
             CASE WHEN n.text IS NULL THEN $5 ELSE 1000 END, \
             CASE WHEN n.text IS NULL THEN $4 END \
             FROM send_numbers n, LATERAL (SELECT EXISTS (SELECT 1 FROM subscriptions s \
             WHERE s.keyword_pk = ANY($3) AND s.mobile_number = n.mobile_number \
             AND s.status = ",
            subscription_status!(Subscribed),
            ") AS ok) sub \
             WHERE n.send_pk = $1 ORDER BY n.position \
             ON CONFLICT (send_pk, mobile_number, list_pk) DO NOTHING"
        ))
        .bind(send.pk)
        .bind(now)
        .bind(&keywords)
        .bind(store::codes::TEXT_TOO_LONG)
        .bind(store::codes::VALIDATION_ERROR)
        .execute(&mut **tx)
        .await
        .map_err(db("expand a contact send"))?;
    }

    // Segments of target lists until about `batch` memberships have been read.
    let mut remaining = i64::from(batch.max(1));
    let mut list_index = usize::try_from(send.expand_list).unwrap_or(usize::MAX);
    let mut after = send.expand_after.unwrap_or_default();
    let duplication = flag(send.allow_duplication);
    while remaining > 0 {
        let Some(&list_pk) = lists.targets.get(list_index) else {
            break;
        };
        // How many memberships the segment holds (at most `remaining`) and its last number.
        let (read, end): (i64, Option<String>) = sqlx::query_as(
            "SELECT count(*), max(mobile_number) FROM (SELECT mobile_number FROM list_members \
             WHERE list_pk = $1 AND mobile_number > $2 ORDER BY mobile_number LIMIT $3) AS s",
        )
        .bind(list_pk)
        .bind(&after)
        .bind(remaining)
        .fetch_one(&mut **tx)
        .await
        .map_err(db("find the end of an expansion batch"))?;
        if let Some(end) = &end {
            let sql = segment_sql(duplication, !lists.exclusions.is_empty());
            let mut insert = sqlx::query(&sql)
                .bind(send.pk)
                .bind(now)
                .bind(&keywords)
                .bind(list_pk)
                .bind(&after)
                .bind(end);
            if !lists.exclusions.is_empty() {
                insert = insert.bind(&lists.exclusions);
            }
            insert
                .execute(&mut **tx)
                .await
                .map_err(db("expand a batch of memberships"))?;
        }
        if read < remaining {
            // The list ends within this segment.
            list_index += 1;
            after = String::new();
        } else if let Some(end) = end {
            after = end;
        }
        remaining -= read;
    }

    if list_index < lists.targets.len() {
        let cursor = i32::try_from(list_index)
            .map_err(|_| StoreError::Other(format!("target list index {list_index}")))?;
        sqlx::query(
            "UPDATE sends SET expand_list = $2, expand_after = NULLIF($3, ''), lease_until = $4 \
             WHERE pk = $1",
        )
        .bind(send.pk)
        .bind(cursor)
        .bind(&after)
        .bind(lease_until)
        .execute(&mut **tx)
        .await
        .map_err(db("save the expansion cursor"))?;
        return Ok(Ending::Commit(Expansion::More));
    }

    // Complete. Nothing has been claimed yet (the send was Queuing), so every real recipient is
    // still ready, except the contact numbers that failed with 1501 at expansion.
    let recipients: i64 = sqlx::query_scalar(concat!(
        "SELECT (SELECT count(*) FROM recipients WHERE send_pk = $1 AND state = ",
        recipient_state!(ready),
        ") \
         + (SELECT count(*) FROM recipients WHERE send_pk = $1 AND state = ",
        recipient_state!(done),
        " \
         AND status_code = $2 AND outcome IS NULL AND expansion_suppressed = 0)"
    ))
    .bind(send.pk)
    .bind(store::codes::VALIDATION_ERROR)
    .fetch_one(&mut **tx)
    .await
    .map_err(db("count recipients"))?;
    let targets = i32::try_from(lists.targets.len())
        .map_err(|_| StoreError::Other("too many target lists".to_string()))?;
    sqlx::query(concat!(
        "UPDATE sends SET state = ",
        send_state!(Started),
        ", count = $2, carrier = $3, next_at = $4, \
         lease_owner = NULL, lease_until = NULL, expand_list = $5, expand_after = NULL \
         WHERE pk = $1"
    ))
    .bind(send.pk)
    .bind(recipients)
    .bind(&carrier)
    .bind(now)
    .bind(targets)
    .execute(&mut **tx)
    .await
    .map_err(db("start the send"))?;
    Ok(Ending::Commit(Expansion::Done { recipients }))
}

/// The pk of each list ID (any case) within the account, in order; `None` for a missing one.
async fn list_pks(
    tx: &mut Transaction<'static, Postgres>,
    account_pk: i64,
    ids: &[String],
) -> StoreResult<Vec<Option<i64>>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = ids.iter().map(|id| id_key(id)).collect();
    let pks: Vec<(Option<i64>,)> = sqlx::query_as(
        "SELECT l.pk FROM unnest($2::text[]) WITH ORDINALITY AS j (key, ord) \
         LEFT JOIN lists l ON l.account_pk = $1 AND l.id_key = j.key ORDER BY j.ord",
    )
    .bind(account_pk)
    .bind(&keys)
    .fetch_all(&mut **tx)
    .await
    .map_err(db("resolve the send's lists"))?;
    if pks.len() != ids.len() {
        return Err(StoreError::Other(format!(
            "resolving {} list IDs gave {} rows",
            ids.len(),
            pks.len()
        )));
    }
    Ok(pks.into_iter().map(|(pk,)| pk).collect())
}

/// The send cannot run: Error with its reasons, and nothing of it left in the queue (a send in
/// Error was never started, so nothing of it was handed over).
async fn fail(
    tx: &mut Transaction<'static, Postgres>,
    send_pk: i64,
    errors: Vec<String>,
    now: Millis,
) -> StoreResult<Ending<Expansion>> {
    sqlx::query("DELETE FROM recipients WHERE send_pk = $1")
        .bind(send_pk)
        .execute(&mut **tx)
        .await
        .map_err(db("drop the recipients of a failed send"))?;
    sqlx::query(concat!(
        "UPDATE sends SET state = ",
        send_state!(Error),
        ", errors = $2, completed_at = $3, lease_owner = NULL, \
         lease_until = NULL WHERE pk = $1"
    ))
    .bind(send_pk)
    .bind(strings_to_json(&errors)?)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db("record the send's error"))?;
    Ok(Ending::Commit(Expansion::failed(&errors)))
}

/// One segment: the memberships in `($5, $6]` of list $4, minus exclusion-list numbers ($7, an
/// array of list pks, when `excluding`). A number Subscribed to one of the code's keywords ($3,
/// an array of pks) becomes a ready recipient (one per membership with duplication, else one
/// per number); any other number is recorded once as expansion-suppressed. The LEFT JOIN may
/// yield a number once per Subscribed keyword; the unique key keeps one. Every side is bounded
/// by the segment's key range, so each is an index range scan of about the batch's size (not a
/// scan of all the code's subscriptions or of a whole exclusion list). The carrier is recorded
/// later, with the carrier's message id.
fn segment_sql(duplication: bool, excluding: bool) -> String {
    let list_pk = if duplication { "m.list_pk" } else { "0" };
    let exclusion = if excluding {
        "AND NOT EXISTS (SELECT 1 FROM list_members x \
         WHERE x.list_pk = ANY($7) AND x.mobile_number = m.mobile_number \
         AND x.mobile_number > $5 AND x.mobile_number <= $6) "
    } else {
        ""
    };
    format!(
        concat!("INSERT INTO recipients (send_pk, mobile_number, list_pk, state, expansion_suppressed, \
         updated_at) \
         SELECT $1, m.mobile_number, \
         CASE WHEN s.mobile_number IS NULL THEN 0 ELSE {list_pk} END, \
         CASE WHEN s.mobile_number IS NULL THEN ", recipient_state!(done), " ELSE ", recipient_state!(ready), " END, \
         CASE WHEN s.mobile_number IS NULL THEN 1 ELSE 0 END, $2 \
         FROM list_members m \
         LEFT JOIN subscriptions s ON s.keyword_pk = ANY($3) \
         AND s.mobile_number = m.mobile_number AND s.status = ", subscription_status!(Subscribed), " \
         AND s.mobile_number > $5 AND s.mobile_number <= $6 \
         WHERE m.list_pk = $4 AND m.mobile_number > $5 AND m.mobile_number <= $6 \
         {exclusion}\
         ON CONFLICT (send_pk, mobile_number, list_pk) DO NOTHING"),
        list_pk = list_pk,
        exclusion = exclusion
    )
}
