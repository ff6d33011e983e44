//! Background jobs (API.md §6): `queueImport`, `refreshList` and `deliveryReport`, claimed and
//! leased by the engine like the recipients queue. The statements, their binding and the row
//! mapping are shared ([`store::JOB_BY_TOKEN`] and its neighbours); this file holds
//! PostgreSQL's transactions and its claim.

use async_trait::async_trait;
use sqlx::{Postgres, Transaction};
use store::{
    bind_job_update, bind_new_job, job_columns, job_state, ContactRow, JobRow, JobStore, JobUpdate,
    ListJob, MemberCounts, Millis, NewListJob, StoreError, StoreResult, SubscribeTo,
};

use crate::{account, db, id_key, lists, settle, Ending, PgStore};

async fn by_token<'e, E>(executor: E, token: &str) -> StoreResult<ListJob>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    sqlx::query_as::<_, JobRow>(store::JOB_BY_TOKEN)
        .bind(id_key(token))
        .fetch_optional(executor)
        .await
        .map_err(db("read a job"))?
        .ok_or(StoreError::NotFound)?
        .into_job()
}

async fn create_in(
    tx: &mut Transaction<'static, Postgres>,
    new: NewListJob,
) -> StoreResult<Ending<ListJob>> {
    let owner = account(&mut **tx, &new.account_id).await?;
    let list_id: Option<String> = match &new.list_id {
        Some(id) => Some(
            sqlx::query_scalar(store::LIST_OF_JOB)
                .bind(owner.pk)
                .bind(id_key(id))
                .fetch_optional(&mut **tx)
                .await
                .map_err(db("find the list of a job"))?
                .ok_or(StoreError::NotFound)?,
        ),
        None => None,
    };
    bind_new_job(
        sqlx::query(store::INSERT_JOB),
        &new,
        id_key(&new.token),
        owner.pk,
        list_id,
    )
    .execute(&mut **tx)
    .await
    .map_err(db("record a job"))?;
    let job = by_token(&mut **tx, &new.token).await?;
    Ok(Ending::Commit(job))
}

/// The fenced update of a job, inside `tx`: true when `update.owner` held the lease.
async fn record_in(
    tx: &mut Transaction<'static, Postgres>,
    update: &JobUpdate,
    added: &MemberCounts,
) -> StoreResult<bool> {
    let changed = bind_job_update(
        sqlx::query(store::RECORD_JOB),
        update,
        id_key(&update.token),
        added,
    )?
    .execute(&mut **tx)
    .await
    .map_err(db("record job progress"))?
    .rows_affected();
    Ok(changed == 1)
}

#[async_trait]
impl JobStore for PgStore {
    async fn create_list_job(&self, new: NewListJob) -> StoreResult<ListJob> {
        let mut tx = self.begin().await?;
        let work = create_in(&mut tx, new).await;
        settle(tx, work, "commit job").await
    }

    /// Nodes claiming at once skip each other's rows instead of waiting on them.
    async fn claim_jobs(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<ListJob>> {
        let due: bool = sqlx::query_scalar(store::ANY_JOB_DUE)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(db("look for due jobs"))?;
        if !due {
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
        let mut tx = self.begin().await?;
        let work = record_in(&mut tx, update, &MemberCounts::default())
            .await
            .map(Ending::Commit);
        settle(tx, work, "commit job progress").await
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
            Ok(if record_in(&mut tx, job, &counts).await? {
                Ending::Commit(Some(counts))
            } else {
                Ending::Rollback(None)
            })
        }
        .await;
        settle(tx, work, "commit import batch").await
    }

    async fn release_jobs(&self, owner: &str) -> StoreResult<u64> {
        Ok(sqlx::query(store::RELEASE_JOBS)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(db("release job leases"))?
            .rows_affected())
    }

    async fn get_list_job(&self, account_id: &str, token: &str) -> StoreResult<ListJob> {
        let job = by_token(&self.pool, token).await?;
        if !job.account_id.eq_ignore_ascii_case(account_id) {
            return Err(StoreError::NotFound);
        }
        Ok(job)
    }
}
