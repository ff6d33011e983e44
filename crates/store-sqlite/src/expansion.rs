//! Audience expansion (API.md §4 "What a send does" 1–2, "Send status values"): the scheduler
//! claims due sends under a lease, and each send's audience is fanned out into `recipients`
//! batch by batch, set-wise inside the database — memory does not grow with the audience.
//!
//! A batch is one write transaction: a range of the current target list's memberships (keyset
//! by mobile number) goes through one `INSERT ... SELECT` per list segment, and the cursor moves
//! in the same transaction, so a crash resumes after the last committed batch. The unique key
//! `(send_pk, mobile_number, list_pk)` makes a repeated batch add nothing.

use async_trait::async_trait;
use store::ExpansionStore;

use store::SendState;
use store::{Expansion, Millis, Send, StoreError, StoreResult};

use crate::sends::{select_send, SendRow};
use crate::{db, id_key, strings_from_json, strings_to_json, to_json, SqliteStore};
use store::expansion::{check_named, Named};

#[async_trait]
impl ExpansionStore for SqliteStore {
    /// Claims due New sends and Queuing sends whose lease expired, oldest due first: one statement
    /// moves them to Queuing under `owner`, a second reads them back in the same transaction.
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
        let mut tx = self.write().await?;
        // Each branch of the union walks its own partial index (`sends_due`, `sends_queuing`).
        let claimed: Vec<i64> = sqlx::query_scalar(concat!(
            "UPDATE sends SET state = ",
            send_state!(Queuing),
            ", lease_owner = ?1, lease_until = ?2 \
             WHERE pk IN (SELECT pk FROM ( \
                 SELECT pk, due_at FROM sends WHERE state = ",
            send_state!(New),
            " AND due_at <= ?3 \
                 UNION ALL \
                 SELECT pk, due_at FROM sends WHERE state = ",
            send_state!(Queuing),
            " AND lease_until < ?3) \
             ORDER BY due_at, pk LIMIT ?4) \
             RETURNING pk"
        ))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db("claim due sends"))?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let pks = serde_json::to_string(&claimed)
            .map_err(|e| StoreError::Other(format!("encode send keys: {e}")))?;
        let rows = sqlx::query_as::<_, SendRow>(select_send!(
            "WHERE s.pk IN (SELECT value FROM json_each(?1)) ORDER BY s.due_at, s.pk"
        ))
        .bind(pks)
        .fetch_all(&mut *tx)
        .await
        .map_err(db("read claimed sends"))?;
        tx.commit().await.map_err(db("commit claimed sends"))?;
        rows.into_iter().map(SendRow::into_send).collect()
    }

    /// Gives back `owner`'s expansion leases (graceful shutdown): the sends stay Queuing with their
    /// cursor and are immediately claimable. Recipients being handed over keep their lease: they
    /// may have left, so only recovery may settle them (as 3400 Unknown).
    async fn release_leases(&self, owner: &str) -> StoreResult<()> {
        let mut tx = self.write().await?;
        sqlx::query(concat!(
            "UPDATE sends SET lease_until = 0 WHERE state = ",
            send_state!(Queuing),
            " AND lease_owner = ?1"
        ))
        .bind(owner)
        .execute(&mut *tx)
        .await
        .map_err(db("release expansion leases"))?;
        // Claims on recipients that never left; submitting ones keep their lease (they may have
        // left: only recovery may settle them).
        sqlx::query(concat!(
            "UPDATE recipients SET lease_owner = NULL, lease_until = NULL \
             WHERE state = ",
            recipient_state!(ready),
            " AND lease_owner = ?1"
        ))
        .bind(owner)
        .execute(&mut *tx)
        .await
        .map_err(db("release claims"))?;
        tx.commit().await.map_err(db("commit released leases"))
    }

    async fn expand_batch(
        &self,
        token: &str,
        owner: &str,
        batch: u32,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Expansion> {
        let mut tx = self.write().await?;
        let send = sqlx::query_as::<_, Expanding>(
            "SELECT pk, account_pk, state, lease_owner, message_id, code, target_list_ids, \
             exclusion_list_ids, allow_duplication, expand_list, expand_after, kind, replies \
             FROM sends WHERE token_key = ?1",
        )
        .bind(id_key(token))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("read the send to expand"))?
        .ok_or(StoreError::NotFound)?;
        if send.state != SendState::Queuing.as_str() || send.lease_owner.as_deref() != Some(owner) {
            // Nothing was written: dropping the transaction rolls it back.
            return Ok(Expansion::Lost);
        }

        // Everything the send names must still exist when its audience is read (API.md §4.2). Every
        // batch resolves the lists by ID anyway (the first after a takeover included), so every
        // batch checks: a send stops as soon as something it names is gone.
        let message: Option<i64> =
            sqlx::query_scalar("SELECT pk FROM messages WHERE account_pk = ?1 AND id_key = ?2")
                .bind(send.account_pk)
                .bind(id_key(&send.message_id))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("find the send's message"))?;
        let target_ids = strings_from_json(&send.target_list_ids, "target list IDs")?;
        let exclusion_ids = strings_from_json(&send.exclusion_list_ids, "exclusion list IDs")?;
        let target_pks = list_pks(&mut tx, send.account_pk, &target_ids).await?;
        let exclusion_pks = list_pks(&mut tx, send.account_pk, &exclusion_ids).await?;
        let code: Option<(i64, String)> = sqlx::query_as(
            "SELECT pk, carrier FROM codes WHERE account_pk = ?1 AND code_key = lower(?2)",
        )
        .bind(send.account_pk)
        .bind(&send.code)
        .fetch_optional(&mut *tx)
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

        let keywords: Vec<i64> = sqlx::query_scalar("SELECT pk FROM keywords WHERE code_pk = ?1")
            .bind(code_pk)
            .fetch_all(&mut *tx)
            .await
            .map_err(db("find the code's keywords"))?;
        let keyword_pks = to_json(&keywords, "keywords")?;

        // A messageContact send (API.md §6): its explicit numbers, in one statement (at most a few
        // hundred), with the same subscription rule as a list's memberships. A number without a
        // text (over 1,600 characters after substitution, API.md §1) is a recipient that failed
        // with 1501 and is never sent.
        if send.kind == store::SendKind::Contact.as_str() && !send.replies {
            sqlx::query(concat!(
                "INSERT INTO recipients (send_pk, mobile_number, list_pk, state, \
                 expansion_suppressed, updated_at, text, status_code, note) \
                 SELECT ?1, mobile_number, 0, CASE WHEN ok AND text IS NOT NULL THEN ",
                recipient_state!(ready),
                " \
                 ELSE ",
                recipient_state!(done),
                " END, NOT ok AND text IS NOT NULL, ?2, text, \
                 CASE WHEN text IS NULL THEN ?5 ELSE 1000 END, \
                 CASE WHEN text IS NULL THEN ?4 END \
                 FROM (SELECT n.mobile_number, n.text, EXISTS (SELECT 1 FROM subscriptions s \
                 WHERE s.keyword_pk IN (SELECT value FROM json_each(?3)) \
                 AND s.mobile_number = n.mobile_number AND s.status = ",
                subscription_status!(Subscribed),
                ") AS ok \
                 FROM send_numbers n WHERE n.send_pk = ?1 ORDER BY n.position) WHERE true \
                 ON CONFLICT (send_pk, mobile_number, list_pk) DO NOTHING"
            ))
            .bind(send.pk)
            .bind(now)
            .bind(&keyword_pks)
            .bind(store::codes::TEXT_TOO_LONG)
            .bind(store::codes::VALIDATION_ERROR)
            .execute(&mut *tx)
            .await
            .map_err(db("expand a contact send"))?;
        }

        // Segments of target lists until about `batch` memberships have been read.
        let mut remaining = i64::from(batch.max(1));
        let mut list_index = usize::try_from(send.expand_list).unwrap_or(usize::MAX);
        let mut after = send.expand_after.unwrap_or_default();
        let exclusions = serde_json::to_string(&lists.exclusions)
            .map_err(|e| StoreError::Other(format!("encode exclusion lists: {e}")))?;
        while remaining > 0 {
            let Some(&list_pk) = lists.targets.get(list_index) else {
                break;
            };
            // The last number of this segment when the list goes on beyond it.
            let end: Option<String> = sqlx::query_scalar(
                "SELECT mobile_number FROM list_members WHERE list_pk = ?1 AND mobile_number > ?2 \
                 ORDER BY mobile_number LIMIT 1 OFFSET ?3",
            )
            .bind(list_pk)
            .bind(&after)
            .bind(remaining - 1)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("find the end of an expansion batch"))?;
            let read = match &end {
                Some(_) => remaining,
                None => sqlx::query_scalar(
                    "SELECT count(*) FROM list_members WHERE list_pk = ?1 AND mobile_number > ?2",
                )
                .bind(list_pk)
                .bind(&after)
                .fetch_one(&mut *tx)
                .await
                .map_err(db("count the rest of a target list"))?,
            };
            sqlx::query(segment_sql(
                end.is_some(),
                !lists.exclusions.is_empty(),
                keywords.len() == 1,
            ))
            .bind(send.pk)
            .bind(if send.allow_duplication { list_pk } else { 0 })
            .bind(now)
            .bind(&keyword_pks)
            .bind(list_pk)
            .bind(&after)
            .bind(&end)
            .bind(&exclusions)
            .execute(&mut *tx)
            .await
            .map_err(db("expand a batch of memberships"))?;
            remaining -= read;
            match end {
                Some(end) => after = end,
                None => {
                    list_index += 1;
                    after = String::new();
                }
            }
        }

        if list_index < lists.targets.len() {
            let cursor = i64::try_from(list_index)
                .map_err(|_| StoreError::Other(format!("target list index {list_index}")))?;
            sqlx::query(
                "UPDATE sends SET expand_list = ?2, expand_after = nullif(?3, ''), lease_until = ?4 \
                 WHERE pk = ?1",
            )
            .bind(send.pk)
            .bind(cursor)
            .bind(&after)
            .bind(lease_until)
            .execute(&mut *tx)
            .await
            .map_err(db("save the expansion cursor"))?;
            tx.commit().await.map_err(db("commit expansion batch"))?;
            return Ok(Expansion::More);
        }

        // Complete. Nothing has been claimed yet (the send was Queuing), so every real recipient is
        // still ready, except the contact numbers that failed with 1501 at expansion: the partial
        // indexes count both without touching the table.
        let recipients: i64 = sqlx::query_scalar(concat!(
            "SELECT (SELECT count(*) FROM recipients WHERE send_pk = ?1 AND state = ",
            recipient_state!(ready),
            ") \
             + (SELECT count(*) FROM recipients WHERE send_pk = ?1 AND state = ",
            recipient_state!(done),
            " \
             AND status_code = ?2 AND outcome IS NULL AND expansion_suppressed = 0)"
        ))
        .bind(send.pk)
        .bind(store::codes::VALIDATION_ERROR)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("count recipients"))?;
        let targets = i64::try_from(lists.targets.len())
            .map_err(|_| StoreError::Other("too many target lists".to_string()))?;
        sqlx::query(concat!(
            "UPDATE sends SET state = ",
            send_state!(Started),
            ", count = ?2, carrier = ?3, next_at = ?4, \
             lease_owner = NULL, lease_until = NULL, expand_list = ?5, expand_after = NULL \
             WHERE pk = ?1"
        ))
        .bind(send.pk)
        .bind(recipients)
        .bind(&carrier)
        .bind(now)
        .bind(targets)
        .execute(&mut *tx)
        .await
        .map_err(db("start the send"))?;
        tx.commit().await.map_err(db("commit expanded send"))?;
        Ok(Expansion::Done { recipients })
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
    allow_duplication: bool,
    expand_list: i64,
    expand_after: Option<String>,
    kind: String,
    replies: bool,
}

/// The pk of each list ID (any case) within the account, in order; `None` for a missing one.
async fn list_pks(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    account_pk: i64,
    ids: &[String],
) -> StoreResult<Vec<Option<i64>>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = ids.iter().map(|id| id_key(id)).collect();
    let keys = serde_json::to_string(&keys)
        .map_err(|e| StoreError::Other(format!("encode list IDs: {e}")))?;
    let pks: Vec<(Option<i64>,)> = sqlx::query_as(
        "SELECT l.pk FROM json_each(?2) AS j \
         LEFT JOIN lists l ON l.account_pk = ?1 AND l.id_key = j.value ORDER BY j.key",
    )
    .bind(account_pk)
    .bind(keys)
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
    mut tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    send_pk: i64,
    errors: Vec<String>,
    now: Millis,
) -> StoreResult<Expansion> {
    sqlx::query("DELETE FROM recipients WHERE send_pk = ?1")
        .bind(send_pk)
        .execute(&mut *tx)
        .await
        .map_err(db("drop the recipients of a failed send"))?;
    sqlx::query(concat!(
        "UPDATE sends SET state = ",
        send_state!(Error),
        ", errors = ?2, completed_at = ?3, lease_owner = NULL, \
         lease_until = NULL WHERE pk = ?1"
    ))
    .bind(send_pk)
    .bind(strings_to_json(&errors)?)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(db("record the send's error"))?;
    tx.commit().await.map_err(db("commit failed send"))?;
    Ok(Expansion::failed(&errors))
}

/// One segment of a target list: memberships in `(?6, ?7]` (or `(?6, …)` when `bounded` is
/// false) of list ?5, minus exclusion-list numbers (?8, a JSON array of list pks). A number
/// Subscribed to one of the code's keywords (?4, a JSON array of their pks) becomes a ready
/// recipient (list ?2); any other number is recorded once as
/// expansion-suppressed. The LEFT JOIN may yield a number once per Subscribed keyword; the
/// unique key keeps one. The carrier is recorded later, with the carrier's message id.
fn segment_sql(bounded: bool, excluding: bool, one_keyword: bool) -> &'static str {
    macro_rules! segment {
        ($keywords:expr $(, $filter:expr)*) => {
            concat!(
                concat!("INSERT INTO recipients (send_pk, mobile_number, list_pk, state, \
                 expansion_suppressed, updated_at) \
                 SELECT ?1, m.mobile_number, \
                 CASE WHEN s.keyword_pk IS NULL THEN 0 ELSE ?2 END, \
                 CASE WHEN s.keyword_pk IS NULL THEN ", recipient_state!(done), " ELSE ", recipient_state!(ready), " END, \
                 s.keyword_pk IS NULL, ?3 \
                 FROM list_members m \
                 LEFT JOIN subscriptions s ON "),
                $keywords,
                " AND s.mobile_number = m.mobile_number AND s.status = ",
                subscription_status!(Subscribed),
                " \
                 WHERE m.list_pk = ?5 AND m.mobile_number > ?6 ",
                $($filter,)*
                "ON CONFLICT (send_pk, mobile_number, list_pk) DO NOTHING"
            )
        };
    }
    // The code's keywords: one (the usual case) is a plain equality (the constant is computed
    // once per statement), cheaper per probe than a list.
    macro_rules! one {
        () => {
            "s.keyword_pk = (?4 ->> 0)"
        };
    }
    macro_rules! any {
        () => {
            "s.keyword_pk IN (SELECT value FROM json_each(?4))"
        };
    }
    // The exclusion lists' numbers within the segment's range, read once into a transient
    // index that each membership probes: cheaper than probing the whole of `list_members`.
    macro_rules! not_excluded {
        ($($bound:expr)?) => {
            concat!(
                "AND m.mobile_number NOT IN (SELECT x.mobile_number FROM list_members x \
                 WHERE x.list_pk IN (SELECT value FROM json_each(?8)) \
                 AND x.mobile_number > ?6 ",
                $($bound,)?
                ") "
            )
        };
    }
    macro_rules! bound {
        () => {
            "AND m.mobile_number <= ?7 "
        };
    }
    match (bounded, excluding, one_keyword) {
        (true, true, true) => {
            segment!(one!(), bound!(), not_excluded!("AND x.mobile_number <= ?7"))
        }
        (true, true, false) => {
            segment!(any!(), bound!(), not_excluded!("AND x.mobile_number <= ?7"))
        }
        (true, false, true) => segment!(one!(), bound!()),
        (true, false, false) => segment!(any!(), bound!()),
        (false, true, true) => segment!(one!(), not_excluded!()),
        (false, true, false) => segment!(any!(), not_excluded!()),
        (false, false, true) => segment!(one!()),
        (false, false, false) => segment!(any!()),
    }
}
