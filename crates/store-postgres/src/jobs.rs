//! Background jobs (API.md §6): `queueImport`, `refreshList` and `deliveryReport`, claimed and
//! leased by the engine like the recipients queue. The statements, the row mapping and the
//! operations are shared (`store::job_rows`, re-exported at the crate's root); this file holds PostgreSQL's transactions and its
//! claim (`FOR UPDATE SKIP LOCKED`, read back with the account in one statement).

use async_trait::async_trait;
use store::{
    job_columns, job_state, record_job_in, ContactRow, JobRow, JobStore, JobUpdate, ListJob,
    MemberCounts, Millis, NewListJob, StoreResult, SubscribeTo,
};

use crate::{db, lists, settle, Ending, PgStore};

#[async_trait]
impl JobStore for PgStore {
    async fn create_list_job(&self, new: NewListJob) -> StoreResult<ListJob> {
        store::create_job(self.begin().await?, new).await
    }

    /// Nodes claiming at once skip each other's rows instead of waiting on them.
    async fn claim_jobs(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<ListJob>> {
        if !store::any_job_due(&self.pool, now).await? {
            return Ok(Vec::new());
        }
        let mut jobs = sqlx::query_as::<_, JobRow>(concat!(
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
        .fetch_all(&self.pool)
        .await
        .map_err(db("claim jobs"))?
        .into_iter()
        .map(JobRow::into_job)
        .collect::<StoreResult<Vec<_>>>()?;
        jobs.sort_by_key(|j| j.created_at);
        Ok(jobs)
    }

    async fn record_job(&self, update: &JobUpdate) -> StoreResult<bool> {
        // One statement: its own transaction.
        record_job_in(&self.pool, update, &MemberCounts::default()).await
    }

    async fn import_batch(
        &self,
        job: &JobUpdate,
        account_id: &str,
        list_id: &str,
        rows: &[ContactRow],
        subscribe: Option<&SubscribeTo>,
    ) -> StoreResult<Option<MemberCounts>> {
        let mut tx = self.begin().await?;
        let work = async {
            let counts =
                lists::upsert_members_in(&mut tx, account_id, list_id, rows, subscribe, job.now)
                    .await?;
            // Another process holding the job now: none of this batch is written.
            Ok(if record_job_in(&mut *tx, job, &counts).await? {
                Ending::Commit(Some(counts))
            } else {
                Ending::Rollback(None)
            })
        }
        .await;
        settle(tx, work, "commit import batch").await
    }

    async fn release_jobs(&self, owner: &str) -> StoreResult<u64> {
        store::release_job_leases(&self.pool, owner).await
    }

    async fn get_list_job(&self, account_id: &str, token: &str) -> StoreResult<ListJob> {
        store::read_list_job(&self.pool, account_id, token).await
    }
}
