//! Background jobs (API.md §6): `queueImport`, `refreshList` and `deliveryReport`, claimed and
//! leased by the engine like the recipients queue. The statements, the row mapping and the
//! operations are shared (`store::job_rows`, re-exported at the crate's root); this file holds
//! SQLite's transactions (on the single writer) and its claim.

use async_trait::async_trait;
use store::{
    job_by_token, job_state, record_job_in, ContactRow, JobStore, JobUpdate, ListJob, MemberCounts,
    Millis, NewListJob, StoreResult, SubscribeTo,
};

use crate::{db, lists, SqliteStore};

#[async_trait]
impl JobStore for SqliteStore {
    async fn create_list_job(&self, new: NewListJob) -> StoreResult<ListJob> {
        store::create_job(self.write().await?, new).await
    }

    /// One writer at a time: the oldest unfinished jobs whose lease is free are taken.
    async fn claim_jobs(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<ListJob>> {
        if !store::any_job_due(&self.reader, now).await? {
            return Ok(Vec::new());
        }
        let mut tx = self.write().await?;
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
        jobs.sort_by_key(|j| j.created_at);
        Ok(jobs)
    }

    async fn record_job(&self, update: &JobUpdate) -> StoreResult<bool> {
        // One statement: the writer's own transaction.
        record_job_in(&self.writer, update, &MemberCounts::default()).await
    }

    async fn import_batch(
        &self,
        job: &JobUpdate,
        account_id: &str,
        list_id: &str,
        rows: &[ContactRow],
        subscribe: Option<&SubscribeTo>,
    ) -> StoreResult<Option<MemberCounts>> {
        let mut tx = self.write().await?;
        let counts =
            lists::upsert_members_in(&mut tx, account_id, list_id, rows, subscribe, job.now)
                .await?;
        if !record_job_in(&mut *tx, job, &counts).await? {
            // Another process holds the job now: none of this batch is written.
            tx.rollback().await.map_err(db("roll back a batch"))?;
            return Ok(None);
        }
        tx.commit().await.map_err(db("commit import batch"))?;
        Ok(Some(counts))
    }

    async fn release_jobs(&self, owner: &str) -> StoreResult<u64> {
        store::release_job_leases(&self.writer, owner).await
    }

    async fn get_list_job(&self, account_id: &str, token: &str) -> StoreResult<ListJob> {
        store::read_list_job(&self.reader, account_id, token).await
    }
}
