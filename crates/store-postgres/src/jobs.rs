//! Background jobs (API.md §6): `queueImport`, `refreshList` and `deliveryReport`, claimed and
//! leased by the engine like the recipients queue. The statements, the row mapping and the
//! operations are shared (`store::job_rows`, re-exported at the crate's root, and `job_store!`);
//! this file holds PostgreSQL's claim (`FOR UPDATE SKIP LOCKED`, read back with the account in one
//! statement).

use sqlx::PgPool;
use store::{job_columns, job_state, JobRow, ListJob, Millis, StoreResult};

use crate::{db, lists, PgStore};

store::job_store!(
    PgStore,
    reads: pool,
    writes: pool,
    begin: begin,
    upsert_members: store::list_rows::upsert_members_in::<sqlx::Postgres, lists::Contacts>,
    claim_jobs: claim_jobs,
    on pool
);

/// One statement on the pool: nodes claiming at once skip each other's rows instead of waiting on
/// them.
async fn claim_jobs(
    pool: &PgPool,
    owner: &str,
    now: Millis,
    lease_until: Millis,
    limit: u32,
) -> StoreResult<Vec<ListJob>> {
    sqlx::query_as::<_, JobRow>(concat!(
        "WITH due AS (SELECT pk FROM list_jobs WHERE state IN (",
        job_state!(Queued),
        ", ",
        job_state!(Processing),
        ") AND (lease_until IS NULL OR lease_until < $2) ORDER BY created_at, pk LIMIT $4 \
         FOR UPDATE SKIP LOCKED), \
         claimed AS (UPDATE list_jobs j SET state = ",
        job_state!(Processing),
        ", lease_owner = $1, lease_until = $3, updated_at = $2 FROM due \
         WHERE j.pk = due.pk RETURNING j.*) \
         SELECT ",
        job_columns!(),
        " FROM claimed j JOIN accounts a ON a.pk = j.account_pk"
    ))
    .bind(owner)
    .bind(now)
    .bind(lease_until)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db("claim jobs"))?
    .into_iter()
    .map(JobRow::into_job)
    .collect()
}
