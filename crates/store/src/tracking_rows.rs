//! What both backends share about a send's status: the statements (written once, with `$N`
//! parameters, in SQL both dialects read alike), the rows they read with their mapping, and the
//! operations that run them, generic over the database ([`Sql`]). Each backend keeps only the
//! lookup of the send by its token (a `SendRef` of its own) and the pool it reads on.

use sqlx::{Executor, FromRow};

use crate::sql::{self, Arg, Sql};
use crate::{
    bad_value, Millis, Outcome, QueueGauges, RecipientGroup, RecipientState, SendCounts, SendState,
    StoreResult, TrackingRow,
};

/// A page of the send's (`$1`, its pk) tracking entries, `$2` long, from offset `$3`, by number.
pub const TRACKING_PAGE: &str = "SELECT mobile_number, status_code, outcome, segments, \
     encoding, note, updated_at, \
     coalesce(text, (SELECT b.text FROM batch_texts b WHERE b.pk = text_pk)) AS text \
     FROM recipients WHERE send_pk = $1 AND expansion_suppressed = 0 \
     ORDER BY mobile_number, list_pk, copy_index LIMIT $2 OFFSET $3";

/// Whether a recipient of the send `$1` (its pk) waits in the queue.
pub const RECIPIENT_WAITING: &str = concat!(
    "SELECT EXISTS (SELECT 1 FROM recipients WHERE send_pk = $1 AND state = ",
    recipient_state!(ready),
    ")"
);

/// Sends counted by state.
pub const SENDS_BY_STATE: &str = "SELECT state, count(*) FROM sends GROUP BY state";

/// The recipients being handed over, counted.
pub const RECIPIENTS_SUBMITTING: &str = concat!(
    "SELECT count(*) FROM recipients WHERE state = ",
    recipient_state!(submitting)
);

/// The send's (`$1`, its pk) recipients grouped ([`CountsGroup`]), one branch per partial index
/// (`recipients_ready`, `recipients_submitting`, `recipients_done`), so both databases read
/// indexes only: ready rows are counted as they are (each is a plain queued recipient: a CHECK
/// says so), submitting and settled ones grouped.
pub const SEND_COUNTS: &str = concat!(
    "SELECT ",
    recipient_state!(ready),
    " AS state, 1000 AS status_code, CAST(NULL AS TEXT) AS outcome, \
     0 AS expansion_suppressed, count(*) AS n \
     FROM recipients WHERE send_pk = $1 AND state = ",
    recipient_state!(ready),
    " \
     UNION ALL \
     SELECT ",
    recipient_state!(submitting),
    ", status_code, outcome, expansion_suppressed, count(*) \
     FROM recipients WHERE send_pk = $1 AND state = ",
    recipient_state!(submitting),
    " \
     GROUP BY status_code, outcome, expansion_suppressed \
     UNION ALL \
     SELECT ",
    recipient_state!(done),
    ", status_code, outcome, expansion_suppressed, count(*) \
     FROM recipients WHERE send_pk = $1 AND state = ",
    recipient_state!(done),
    " \
     GROUP BY status_code, outcome, expansion_suppressed"
);

/// Waiting recipients counted per send (through `recipients_ready`), split by whether the send
/// is paused at `$1`.
pub const WAITING_BY_PAUSE: &str = concat!(
    "SELECT coalesce(s.next_at > $1, false) AS paused, CAST(sum(c.n) AS BIGINT) \
     FROM (SELECT send_pk, count(*) AS n FROM recipients WHERE state = ",
    recipient_state!(ready),
    " \
           GROUP BY send_pk) AS c \
     JOIN sends AS s ON s.pk = c.send_pk \
     GROUP BY paused"
);

/// One group of a send's rows, as [`SEND_COUNTS`] reads it.
#[derive(sqlx::FromRow)]
pub struct CountsGroup {
    state: String,
    status_code: i32,
    outcome: Option<String>,
    /// A 0/1 flag.
    expansion_suppressed: i32,
    n: i64,
}

/// A tracking entry as [`TRACKING_PAGE`] reads it.
#[derive(sqlx::FromRow)]
pub struct TrackingDbRow {
    mobile_number: String,
    status_code: i32,
    outcome: Option<String>,
    segments: Option<i32>,
    encoding: Option<String>,
    note: Option<String>,
    updated_at: i64,
    text: Option<String>,
}

impl TrackingDbRow {
    pub fn into_tracking_row(self) -> StoreResult<TrackingRow> {
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some(stored) => {
                Some(Outcome::parse(stored).ok_or_else(|| bad_value("recipient outcome", stored))?)
            }
        };
        Ok(TrackingRow {
            mobile_number: self.mobile_number,
            text: self.text,
            status_code: self.status_code,
            outcome,
            segments: self.segments,
            encoding: self.encoding,
            note: self.note,
            updated_at: self.updated_at,
        })
    }
}

// ---- the operations both backends run alike ---------------------------------------------------

/// The counts of the send `send_pk` (in `state`, paused until `next_at`) at `now`: the groups of
/// [`SEND_COUNTS`] sorted into API.md §5's buckets by [`SendCounts::add`]:
/// expansion-suppressed rows count only as suppressed (each is a distinct number); a recipient
/// with an outcome counts only by its outcome; the rest by standard code — queued 1000 and 2600
/// (deferred instead while the send is paused and the recipient still waits), sent 2000–3002
/// (but for the failed 2500, 2501 and the queued 2600 inside that range), delivered 4000, failed
/// 1500, 1501, 2500, 2501, 4500–4503, unknown 3400.
pub async fn send_counts<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    send_pk: i64,
    state: &str,
    next_at: Option<Millis>,
    now: Millis,
) -> StoreResult<SendCounts>
where
    CountsGroup: for<'r> FromRow<'r, DB::Row>,
{
    let paused = state == SendState::Started.as_str() && next_at.is_some_and(|at| at > now);
    let groups = sqlx::query_as::<DB, CountsGroup>(SEND_COUNTS)
        .arg(send_pk)
        .fetch_all(db)
        .await
        .map_err(sql::db("count a send's recipients"))?;
    let mut counts = SendCounts::default();
    for group in groups {
        let state = RecipientState::parse(&group.state)
            .ok_or_else(|| bad_value("recipient state", &group.state))?;
        counts
            .add(
                RecipientGroup {
                    state,
                    status_code: group.status_code,
                    outcome: group.outcome.as_deref(),
                    expansion_suppressed: group.expansion_suppressed != 0,
                    n: group.n,
                },
                paused,
            )
            .map_err(|stored| bad_value("recipient outcome", &stored))?;
    }
    Ok(counts)
}

/// Page `page` (from 1) of the send's recipients (suppressed and canceled ones included, numbers
/// suppressed at expansion not) by mobile number then list, walking the unique key's index.
pub async fn tracking_page<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    send_pk: i64,
    page: u32,
    page_size: u32,
) -> StoreResult<Vec<TrackingRow>>
where
    TrackingDbRow: for<'r> FromRow<'r, DB::Row>,
{
    let offset = i64::from(page.max(1) - 1) * i64::from(page_size);
    sqlx::query_as::<DB, TrackingDbRow>(TRACKING_PAGE)
        .arg(send_pk)
        .arg(i64::from(page_size))
        .arg(offset)
        .fetch_all(db)
        .await
        .map_err(sql::db("read tracking page"))?
        .into_iter()
        .map(TrackingDbRow::into_tracking_row)
        .collect()
}

/// When the send `send_pk` (in `state`, due at `due_at`, paused until `next_at`) may next hand a
/// recipient over: its due time until the audience is expanded; then, while a recipient waits,
/// the later of its pause and its due time; `None` once nothing waits.
pub async fn send_next_at<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    send_pk: i64,
    state: &str,
    due_at: Millis,
    next_at: Option<Millis>,
) -> StoreResult<Option<Millis>>
where
    (bool,): for<'r> FromRow<'r, DB::Row>,
{
    match SendState::parse(state) {
        Some(SendState::New | SendState::Queuing) => Ok(Some(due_at)),
        Some(SendState::Started) => {
            let waiting = sqlx::query_scalar::<DB, bool>(RECIPIENT_WAITING)
                .arg(send_pk)
                .fetch_one(db)
                .await
                .map_err(sql::db("find waiting recipients"))?;
            Ok(waiting.then(|| next_at.unwrap_or(due_at).max(due_at)))
        }
        _ => Ok(None),
    }
}

/// The metrics listener's gauges, one statement per partial index: sends by state, waiting
/// recipients per send (split by whether the send is paused at `now`), recipients being handed
/// over.
pub async fn queue_gauges<'e, DB, E>(db: E, now: Millis) -> StoreResult<QueueGauges>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    (String, i64): for<'r> FromRow<'r, DB::Row>,
    (bool, i64): for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let states = sqlx::query_as::<DB, (String, i64)>(SENDS_BY_STATE)
        .fetch_all(db)
        .await
        .map_err(sql::db("count sends by state"))?;
    let waiting = sqlx::query_as::<DB, (bool, i64)>(WAITING_BY_PAUSE)
        .arg(now)
        .fetch_all(db)
        .await
        .map_err(sql::db("count waiting recipients"))?;
    let leased = sqlx::query_scalar::<DB, i64>(RECIPIENTS_SUBMITTING)
        .fetch_one(db)
        .await
        .map_err(sql::db("count recipients being handed over"))?;
    QueueGauges::from_counts(states, waiting, leased)
}
