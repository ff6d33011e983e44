//! What the status of a send reports (API.md §5): counts by standard code, pages of tracking
//! entries, and when its next recipient may go.

use async_trait::async_trait;
use store::TrackingStore;

use store::{
    Millis, QueueGauges, RecipientGroup, RecipientState, SendCounts, SendState, StoreResult,
    TrackingRow,
};

use store::tracking_rows::{
    TrackingDbRow, RECIPIENTS_SUBMITTING, RECIPIENT_WAITING, SENDS_BY_STATE, TRACKING_PAGE,
};

use crate::dispatch::send_ref;
use crate::{bad_value, db, flag, PgStore};

/// One group of a send's rows.
#[derive(sqlx::FromRow)]
struct CountsGroup {
    state: String,
    status_code: i32,
    outcome: Option<String>,
    expansion_suppressed: i32,
    n: i64,
}

#[async_trait]
impl TrackingStore for PgStore {
    /// One aggregate statement over the send's rows, one branch per partial index: ready rows are
    /// counted as they are (each is a plain queued recipient: a CHECK says so), submitting and
    /// settled ones grouped. The groups are then sorted into API.md §5's buckets:
    /// expansion-suppressed rows count only as suppressed (each is a distinct number); a recipient
    /// with an outcome counts only by its outcome; the rest by standard code — queued 1000 and 2600
    /// (deferred instead while the send is paused and the recipient still waits), sent 2000–3002
    /// (but for the failed 2500, 2501 and the queued 2600 inside that range), delivered 4000,
    /// failed 1500, 1501, 2500, 2501, 4500–4503, unknown 3400.
    async fn send_counts(&self, token: &str, now: Millis) -> StoreResult<SendCounts> {
        let send = send_ref(&self.pool, token, "").await?;
        let paused =
            send.state == SendState::Started.as_str() && send.next_at.is_some_and(|at| at > now);
        let groups = sqlx::query_as::<_, CountsGroup>(concat!(
            "SELECT ",
            recipient_state!(ready),
            " AS state, 1000 AS status_code, NULL::text AS outcome, \
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
        ))
        .bind(send.pk)
        .fetch_all(&self.pool)
        .await
        .map_err(db("count a send's recipients"))?;
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
                        expansion_suppressed: flag(group.expansion_suppressed),
                        n: group.n,
                    },
                    paused,
                )
                .map_err(|stored| bad_value("recipient outcome", &stored))?;
        }
        Ok(counts)
    }

    /// Recipients (suppressed and canceled ones included, numbers suppressed at expansion not) by
    /// mobile number then list, walking the unique key's index.
    async fn tracking_page(
        &self,
        token: &str,
        page: u32,
        page_size: u32,
    ) -> StoreResult<Vec<TrackingRow>> {
        let send = send_ref(&self.pool, token, "").await?;
        let offset = i64::from(page.max(1) - 1) * i64::from(page_size);
        sqlx::query_as::<_, TrackingDbRow>(TRACKING_PAGE)
            .bind(send.pk)
            .bind(i64::from(page_size))
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(db("read tracking page"))?
            .into_iter()
            .map(TrackingDbRow::into_tracking_row)
            .collect()
    }

    /// The due time until the audience is expanded; then, while a recipient waits, the later of
    /// the send's pause and its due time; `None` once nothing waits.
    async fn send_next_at(&self, token: &str) -> StoreResult<Option<Millis>> {
        let send = send_ref(&self.pool, token, "").await?;
        match SendState::parse(&send.state) {
            Some(SendState::New | SendState::Queuing) => Ok(Some(send.due_at)),
            Some(SendState::Started) => {
                let waiting: bool = sqlx::query_scalar(RECIPIENT_WAITING)
                    .bind(send.pk)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db("find waiting recipients"))?;
                Ok(waiting.then(|| send.next_at.unwrap_or(send.due_at).max(send.due_at)))
            }
            _ => Ok(None),
        }
    }

    /// The metrics listener's gauges, one statement per partial index: sends by state, waiting
    /// recipients per send (split by whether the send is paused at `now`), recipients being handed
    /// over.
    async fn queue_gauges(&self, now: Millis) -> StoreResult<QueueGauges> {
        let states: Vec<(String, i64)> = sqlx::query_as(SENDS_BY_STATE)
            .fetch_all(&self.pool)
            .await
            .map_err(db("count sends by state"))?;
        let waiting: Vec<(bool, i64)> = sqlx::query_as(concat!(
            "SELECT coalesce(s.next_at > $1, false) AS paused, sum(c.n)::bigint \
             FROM (SELECT send_pk, count(*) AS n FROM recipients WHERE state = ",
            recipient_state!(ready),
            " \
                   GROUP BY send_pk) AS c \
             JOIN sends AS s ON s.pk = c.send_pk \
             GROUP BY paused"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db("count waiting recipients"))?;
        let leased: i64 = sqlx::query_scalar(RECIPIENTS_SUBMITTING)
            .fetch_one(&self.pool)
            .await
            .map_err(db("count recipients being handed over"))?;
        QueueGauges::from_counts(states, waiting, leased)
    }
}
