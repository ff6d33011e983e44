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
//! The unique key `(send_pk, mobile_number, list_pk, copy_index)` makes a repeated batch add nothing.
//!
//! A batch's control flow, its checks and its other statements are shared
//! (`store::expansion::expand_in`, run by `expansion_store!`); here: the claim, the release, and
//! the statements that take sets of pks (arrays) or differ in plan (the [`Dialect`]).

use sqlx::{PgConnection, PgPool, Postgres};
use store::expansion::{release_claims, Dialect, Segment};
use store::{Millis, Send, StoreResult};

use crate::sends::{select_send, SendRow};
use crate::{db, PgStore};

// A complete audience can be handed over by any process: the others are told.
store::expansion_store!(
    PgStore,
    begin: begin,
    dialect: Pg,
    commit_context: |_| "commit expansion batch",
    claim_due_sends: claim_due_sends,
    on pool,
    release_leases: release_leases_now,
    signal: signal
);

/// Claims due New sends and Queuing sends whose lease expired, oldest due first, in one
/// statement: rows another scheduler is claiming are skipped, and a row claimed and committed
/// since this statement's snapshot is re-checked when locked (and then no longer matches).
async fn claim_due_sends(
    pool: &PgPool,
    owner: &str,
    now: Millis,
    lease_until: Millis,
    limit: u32,
) -> StoreResult<Vec<Send>> {
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
    .fetch_all(pool)
    .await
    .map_err(db("claim due sends"))?;
    rows.into_iter().map(SendRow::into_send).collect()
}

impl PgStore {
    /// Gives back `owner`'s expansion leases (graceful shutdown): the sends stay Queuing with their
    /// cursor and are immediately claimable. The other processes are told in the same statement
    /// (the notification goes out when it commits), not through the notifier task, which a process
    /// about to exit might not give the time to run. Recipients being handed over keep their
    /// lease: they may have left, so only recovery may settle them (as 3400 Unknown).
    async fn release_leases_now(&self, owner: &str) -> StoreResult<()> {
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
        release_claims(&self.pool, owner).await
    }
}

/// PostgreSQL's side of a batch: the send's row lock, held to the end of the batch (a second
/// worker of this send waits there, then finds the lease no longer its own), sets bound as
/// arrays, a segment measured with one count, and nested loops off.
struct Pg;

impl Dialect for Pg {
    type DB = Postgres;
    type Pks = Vec<i64>;
    type Keys = Vec<String>;

    fn pks(values: &[i64], _: &str) -> StoreResult<Vec<i64>> {
        Ok(values.to_vec())
    }

    fn keys(values: &[String], _: &str) -> StoreResult<Vec<String>> {
        Ok(values.to_vec())
    }

    const LOCK_SEND: &'static str = " FOR UPDATE";

    const LIST_PKS: &'static str = "SELECT l.pk FROM unnest($2::text[]) WITH ORDINALITY AS j \
         (key, ord) LEFT JOIN lists l ON l.account_pk = $1 AND l.id_key = j.key ORDER BY j.ord";

    const CONTACTS: &'static str = concat!(
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
         ON CONFLICT (send_pk, mobile_number, list_pk, copy_index) DO NOTHING"
    );

    /// Each side of a segment's join is an index range of about the batch's size, so hashing
    /// (or merging) them is linear in the batch. A nested loop would rescan one side per row of
    /// the other, which the planner may pick when the tables were just filled and it has no
    /// statistics on them yet (measured: over 30 s for a 50,000-number list).
    async fn prepare(conn: &mut PgConnection) -> StoreResult<()> {
        sqlx::query("SET LOCAL enable_nestloop = off")
            .execute(&mut *conn)
            .await
            .map_err(db("plan the expansion"))?;
        Ok(())
    }

    /// How many memberships the segment holds (at most `remaining`) and its last number.
    async fn measure(
        conn: &mut PgConnection,
        list_pk: i64,
        after: &str,
        remaining: i64,
    ) -> StoreResult<(i64, Option<String>)> {
        sqlx::query_as(
            "SELECT count(*), max(mobile_number) FROM (SELECT mobile_number FROM list_members \
             WHERE list_pk = $1 AND mobile_number > $2 ORDER BY mobile_number LIMIT $3) AS s",
        )
        .bind(list_pk)
        .bind(after)
        .bind(remaining)
        .fetch_one(&mut *conn)
        .await
        .map_err(db("find the end of an expansion batch"))
    }

    /// An empty segment (no last number) inserts nothing.
    async fn insert_segment(
        conn: &mut PgConnection,
        segment: &Segment<'_, Vec<i64>>,
    ) -> StoreResult<()> {
        let Some(end) = segment.end else {
            return Ok(());
        };
        let sql = segment_sql(segment.duplication, segment.excluding);
        let mut insert = sqlx::query(&sql)
            .bind(segment.send_pk)
            .bind(segment.now)
            .bind(segment.keywords)
            .bind(segment.list_pk)
            .bind(segment.after)
            .bind(end);
        if segment.excluding {
            insert = insert.bind(segment.exclusions);
        }
        insert
            .execute(&mut *conn)
            .await
            .map_err(db("expand a batch of memberships"))?;
        Ok(())
    }
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
         ON CONFLICT (send_pk, mobile_number, list_pk, copy_index) DO NOTHING"),
        list_pk = list_pk,
        exclusion = exclusion
    )
}
