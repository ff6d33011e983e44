//! Background jobs (API.md §6): `queueImport`, `refreshList` and `deliveryReport`, claimed and
//! leased by the engine like the recipients queue. The row mapping is shared
//! ([`store::JobRow`]); this file holds SQLite's statements.

use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};
use store::{
    job_errors_json, ContactRow, JobRow, JobStore, JobUpdate, ListJob, MemberCounts, Millis,
    NewListJob, StoreError, StoreResult, SubscribeTo, JOB_COLUMNS,
};

use crate::{account, db, id_key, lists, SqliteStore};

async fn by_token<'e, E>(executor: E, token: &str) -> StoreResult<ListJob>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    sqlx::query_as::<_, JobRow>(&format!(
        "SELECT {JOB_COLUMNS} FROM list_jobs j JOIN accounts a ON a.pk = j.account_pk \
         WHERE j.token_key = ?1"
    ))
    .bind(id_key(token))
    .fetch_optional(executor)
    .await
    .map_err(db("read a job"))?
    .ok_or(StoreError::NotFound)?
    .into_job()
}

/// The fenced update of a job, inside `tx`: true when `update.owner` held the lease.
async fn record_in(
    tx: &mut Transaction<'static, Sqlite>,
    update: &JobUpdate,
    added: &MemberCounts,
) -> StoreResult<bool> {
    let final_state = update.state.is_final();
    let inserted = update.progress.inserted.saturating_add(count(added.added)?);
    let updated = update
        .progress
        .updated
        .saturating_add(count(added.updated)?);
    let changed = sqlx::query(concat!(
        "UPDATE list_jobs SET state = ?3, inserted = ?4, updated = ?5, invalid = ?6, \
             errors = ?7, checkpoint = ?8, updated_at = ?9, completed_at = ?10, \
             lease_owner = CASE WHEN ?11 THEN NULL ELSE lease_owner END, \
             lease_until = CASE WHEN ?11 THEN NULL ELSE ?12 END \
             WHERE token_key = ?1 AND lease_owner = ?2 AND state IN (",
        job_state!(Queued),
        ", ",
        job_state!(Processing),
        ")"
    ))
    .bind(id_key(&update.token))
    .bind(&update.owner)
    .bind(update.state.as_str())
    .bind(inserted)
    .bind(updated)
    .bind(update.progress.invalid)
    .bind(job_errors_json(&update.progress.errors)?)
    .bind(update.checkpoint)
    .bind(update.now)
    .bind(final_state.then_some(update.now))
    .bind(final_state)
    .bind(update.lease_until)
    .execute(&mut **tx)
    .await
    .map_err(db("record job progress"))?
    .rows_affected();
    Ok(changed == 1)
}

fn count(n: u64) -> StoreResult<i64> {
    i64::try_from(n).map_err(|_| StoreError::Other(format!("{n} rows counted")))
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn create_list_job(&self, new: NewListJob) -> StoreResult<ListJob> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, &new.account_id).await?;
        let list_id: Option<String> = match &new.list_id {
            Some(id) => Some(
                sqlx::query_scalar("SELECT id FROM lists WHERE account_pk = ?1 AND id_key = ?2")
                    .bind(owner.pk)
                    .bind(id_key(id))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db("find the list of a job"))?
                    .ok_or(StoreError::NotFound)?,
            ),
            None => None,
        };
        let completed_at = new.state.is_final().then_some(new.created_at);
        sqlx::query(
            "INSERT INTO list_jobs (token, token_key, account_pk, list_id, kind, state, \
             publish_date, created_at, updated_at, completed_at, payload) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)",
        )
        .bind(&new.token)
        .bind(id_key(&new.token))
        .bind(owner.pk)
        .bind(&list_id)
        .bind(new.kind.as_str())
        .bind(new.state.as_str())
        .bind(new.publish_date)
        .bind(new.created_at)
        .bind(completed_at)
        .bind(&new.payload)
        .execute(&mut *tx)
        .await
        .map_err(db("record a job"))?;
        let job = by_token(&mut *tx, &new.token).await?;
        tx.commit().await.map_err(db("commit job"))?;
        Ok(job)
    }

    async fn claim_jobs(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<ListJob>> {
        let mut tx = self.write().await?;
        let tokens: Vec<String> = sqlx::query_scalar(concat!(
            "UPDATE list_jobs SET state = ",
            job_state!(Processing),
            ", lease_owner = ?1, lease_until = ?3, updated_at = ?2 \
                 WHERE pk IN (SELECT pk FROM list_jobs WHERE state IN (",
            job_state!(Queued),
            ", ",
            job_state!(Processing),
            ") AND (lease_until IS NULL OR lease_until < ?2) ORDER BY created_at, pk LIMIT ?4) \
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
            jobs.push(by_token(&mut *tx, token).await?);
        }
        tx.commit().await.map_err(db("commit job claim"))?;
        jobs.sort_by_key(|j| j.created_at);
        Ok(jobs)
    }

    async fn record_job(&self, update: &JobUpdate) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let held = record_in(&mut tx, update, &MemberCounts::default()).await?;
        tx.commit().await.map_err(db("commit job progress"))?;
        Ok(held)
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
        if !record_in(&mut tx, job, &counts).await? {
            // Another process holds the job now: none of this batch is written.
            tx.rollback().await.map_err(db("roll back a batch"))?;
            return Ok(None);
        }
        tx.commit().await.map_err(db("commit import batch"))?;
        Ok(Some(counts))
    }

    async fn release_jobs(&self, owner: &str) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        let released = sqlx::query(concat!(
            "UPDATE list_jobs SET lease_owner = NULL, lease_until = NULL \
                 WHERE lease_owner = ?1 AND state IN (",
            job_state!(Queued),
            ", ",
            job_state!(Processing),
            ")"
        ))
        .bind(owner)
        .execute(&mut *tx)
        .await
        .map_err(db("release job leases"))?
        .rows_affected();
        tx.commit().await.map_err(db("commit job release"))?;
        Ok(released)
    }

    async fn get_list_job(&self, account_id: &str, token: &str) -> StoreResult<ListJob> {
        let job = by_token(&self.reader, token).await?;
        if !job.account_id.eq_ignore_ascii_case(account_id) {
            return Err(StoreError::NotFound);
        }
        Ok(job)
    }
}
