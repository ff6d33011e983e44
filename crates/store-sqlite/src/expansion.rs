//! Audience expansion (API.md §4 "What a send does" 1–2, "Send status values"): the scheduler
//! claims due sends under a lease, and each send's audience is fanned out into `recipients`
//! batch by batch, set-wise inside the database — memory does not grow with the audience.
//!
//! A batch is one write transaction: a range of the current target list's memberships (keyset
//! by mobile number) goes through one `INSERT ... SELECT` per list segment, and the cursor moves
//! in the same transaction, so a crash resumes after the last committed batch. The unique key
//! `(send_pk, mobile_number, list_pk, copy_index)` makes a repeated batch add nothing.
//!
//! A batch's control flow, its checks and its other statements are shared
//! (`store::expansion::expand_in`, run by `expansion_store!`); here: the claim, the release, the
//! commit's error context, and the statements that take sets of pks (JSON arrays) or are planned
//! differently (the [`Dialect`]).

use sqlx::{Sqlite, SqliteConnection, Transaction};
use store::expansion::{release_claims, Dialect, Segment};
use store::sql::Ending;
use store::{Expansion, Millis, Send, StoreError, StoreResult};

use crate::sends::{select_send, SendRow};
use crate::{db, to_json, SqliteStore};

store::expansion_store!(
    SqliteStore,
    begin: write,
    dialect: Lite,
    commit_context: commit_context,
    claim_due_sends: claim_due_sends,
    in write,
    release_leases: release_leases_now
);

/// What committing a batch does, for the error when it fails.
fn commit_context(work: &StoreResult<Ending<Expansion>>) -> &'static str {
    match work {
        Ok(Ending::Commit(Expansion::Done { .. })) => "commit expanded send",
        Ok(Ending::Commit(Expansion::Failed { .. })) => "commit failed send",
        _ => "commit expansion batch",
    }
}

/// Claims due New sends and Queuing sends whose lease expired, oldest due first, in the write
/// transaction `tx`: one statement moves them to Queuing under `owner`, a second reads them back.
async fn claim_due_sends(
    mut tx: Transaction<'static, Sqlite>,
    owner: &str,
    now: Millis,
    lease_until: Millis,
    limit: u32,
) -> StoreResult<Vec<Send>> {
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

impl SqliteStore {
    /// Gives back `owner`'s expansion leases (graceful shutdown): the sends stay Queuing with their
    /// cursor and are immediately claimable. Recipients being handed over keep their lease: they
    /// may have left, so only recovery may settle them (as 3400 Unknown).
    async fn release_leases_now(&self, owner: &str) -> StoreResult<()> {
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
        release_claims(&mut *tx, owner).await?;
        tx.commit().await.map_err(db("commit released leases"))
    }
}

/// SQLite's side of a batch: sets bound as JSON arrays, a segment's end found by its offset,
/// and one statement text per kind of segment.
struct Lite;

impl Dialect for Lite {
    type DB = Sqlite;
    type Pks = String;
    type Keys = String;

    fn pks(values: &[i64], what: &str) -> StoreResult<String> {
        to_json(values, what)
    }

    fn keys(values: &[String], what: &str) -> StoreResult<String> {
        to_json(values, what)
    }

    /// The batch runs in the single writer's transaction: nothing else writes meanwhile.
    const LOCK_SEND: &'static str = "";

    const LIST_PKS: &'static str = "SELECT l.pk FROM json_each($2) AS j \
         LEFT JOIN lists l ON l.account_pk = $1 AND l.id_key = j.value ORDER BY j.key";

    const CONTACTS: &'static str = concat!(
        "INSERT INTO recipients (send_pk, mobile_number, list_pk, state, \
         expansion_suppressed, updated_at, text, status_code, note) \
         SELECT $1, mobile_number, 0, CASE WHEN ok AND text IS NOT NULL THEN ",
        recipient_state!(ready),
        " ELSE ",
        recipient_state!(done),
        " END, NOT ok AND text IS NOT NULL, $2, text, \
         CASE WHEN text IS NULL THEN $5 ELSE 1000 END, \
         CASE WHEN text IS NULL THEN $4 END \
         FROM (SELECT n.mobile_number, n.text, EXISTS (SELECT 1 FROM subscriptions s \
         WHERE s.keyword_pk IN (SELECT value FROM json_each($3)) \
         AND s.mobile_number = n.mobile_number AND s.status = ",
        subscription_status!(Subscribed),
        ") AS ok \
         FROM send_numbers n WHERE n.send_pk = $1 ORDER BY n.position) WHERE true \
         ON CONFLICT (send_pk, mobile_number, list_pk, copy_index) DO NOTHING"
    );

    async fn prepare(_: &mut SqliteConnection) -> StoreResult<()> {
        Ok(())
    }

    /// The last number of this segment when the list goes on beyond it (then the segment
    /// holds `remaining` memberships); otherwise how many memberships are left.
    async fn measure(
        conn: &mut SqliteConnection,
        list_pk: i64,
        after: &str,
        remaining: i64,
    ) -> StoreResult<(i64, Option<String>)> {
        let end: Option<String> = sqlx::query_scalar(
            "SELECT mobile_number FROM list_members WHERE list_pk = ?1 AND mobile_number > ?2 \
             ORDER BY mobile_number LIMIT 1 OFFSET ?3",
        )
        .bind(list_pk)
        .bind(after)
        .bind(remaining - 1)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("find the end of an expansion batch"))?;
        let read = match &end {
            Some(_) => remaining,
            None => sqlx::query_scalar(
                "SELECT count(*) FROM list_members WHERE list_pk = ?1 AND mobile_number > ?2",
            )
            .bind(list_pk)
            .bind(after)
            .fetch_one(&mut *conn)
            .await
            .map_err(db("count the rest of a target list"))?,
        };
        Ok((read, end))
    }

    async fn insert_segment(
        conn: &mut SqliteConnection,
        segment: &Segment<'_, String>,
    ) -> StoreResult<()> {
        sqlx::query(segment_sql(
            segment.end.is_some(),
            segment.excluding,
            segment.one_keyword,
        ))
        .bind(segment.send_pk)
        .bind(if segment.duplication {
            segment.list_pk
        } else {
            0
        })
        .bind(segment.now)
        .bind(segment.keywords)
        .bind(segment.list_pk)
        .bind(segment.after)
        .bind(segment.end)
        .bind(segment.exclusions)
        .execute(&mut *conn)
        .await
        .map_err(db("expand a batch of memberships"))?;
        Ok(())
    }
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
                "ON CONFLICT (send_pk, mobile_number, list_pk, copy_index) DO NOTHING"
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
