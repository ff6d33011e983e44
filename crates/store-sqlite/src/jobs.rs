//! Background jobs (API.md §6): `queueImport`, `refreshList` and `deliveryReport`, claimed and
//! leased by the engine like the recipients queue. The statements, the row mapping and the
//! operations are shared (`store::job_rows`, re-exported at the crate's root, and `job_store!`);
//! this file holds SQLite's claim (on the single writer).

use sqlx::{Sqlite, Transaction};
use store::{job_by_token, job_state, ListJob, Millis, StoreResult};

use crate::{db, lists, SqliteStore};

store::job_store!(
    SqliteStore,
    reads: reader,
    writes: writer,
    begin: write,
    upsert_members: store::list_rows::upsert_members_in::<sqlx::Sqlite, lists::Contacts>,
    claim_jobs: claim_jobs,
    in write
);

/// One writer at a time: the oldest unfinished jobs whose lease is free are taken, in the write
/// transaction `tx`, committed here.
async fn claim_jobs(
    mut tx: Transaction<'static, Sqlite>,
    owner: &str,
    now: Millis,
    lease_until: Millis,
    limit: u32,
) -> StoreResult<Vec<ListJob>> {
    // SQLite's RETURNING sees only the updated table: the jobs are read back by token.
    let tokens: Vec<String> = sqlx::query_scalar(concat!(
        "UPDATE list_jobs SET state = ",
        job_state!(Processing),
        ", lease_owner = $1, lease_until = $3, updated_at = $2 \
         WHERE pk IN (SELECT pk FROM list_jobs WHERE state IN (",
        job_state!(Queued),
        ", ",
        job_state!(Processing),
        ") AND (lease_until IS NULL OR lease_until < $2) ORDER BY created_at, pk LIMIT $4) \
         RETURNING token"
    ))
    .bind(owner)
    .bind(now)
    .bind(lease_until)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(db("claim jobs"))?;
    let mut jobs = Vec::with_capacity(tokens.len());
    for token in &tokens {
        jobs.push(job_by_token(&mut *tx, token).await?);
    }
    tx.commit().await.map_err(db("commit job claim"))?;
    Ok(jobs)
}
