//! Background jobs on a list: `queueImport` and `refreshList` (API.md §6).

use async_trait::async_trait;
use store::JobStore;

use store::{
    ListJob, ListJobKind, ListJobProgress, ListJobState, Millis, NewListJob, StoreError,
    StoreResult,
};

use crate::{account, bad_value, db, id_key, strings_from_json, strings_to_json, SqliteStore};

#[derive(sqlx::FromRow)]
struct JobRow {
    token: String,
    account_id: String,
    list_id: String,
    kind: String,
    state: String,
    inserted: i64,
    updated: i64,
    invalid: i64,
    errors: String,
    publish_date: Option<i64>,
    created_at: i64,
    updated_at: i64,
    completed_at: Option<i64>,
}

impl JobRow {
    fn into_job(self) -> StoreResult<ListJob> {
        Ok(ListJob {
            kind: match self.kind.as_str() {
                "import" => ListJobKind::Import,
                "refresh" => ListJobKind::Refresh,
                other => return Err(bad_value("list job kind", other)),
            },
            state: ListJobState::parse(&self.state)
                .ok_or_else(|| bad_value("list job state", &self.state))?,
            progress: ListJobProgress {
                inserted: self.inserted,
                updated: self.updated,
                invalid: self.invalid,
                errors: strings_from_json(&self.errors, "list job errors")?,
            },
            token: self.token,
            account_id: self.account_id,
            list_id: self.list_id,
            publish_date: self.publish_date,
            created_at: self.created_at,
            updated_at: self.updated_at,
            completed_at: self.completed_at,
        })
    }
}

const SELECT: &str = "SELECT j.token, a.id AS account_id, j.list_id, j.kind, j.state, \
     j.inserted, j.updated, j.invalid, j.errors, j.publish_date, j.created_at, j.updated_at, \
     j.completed_at FROM list_jobs j JOIN accounts a ON a.pk = j.account_pk";

async fn by_token<'e, E>(executor: E, token: &str) -> StoreResult<ListJob>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query_as::<_, JobRow>(&format!("{SELECT} WHERE j.token_key = ?1"))
        .bind(id_key(token))
        .fetch_optional(executor)
        .await
        .map_err(db("read a list job"))?
        .ok_or(StoreError::NotFound)?
        .into_job()
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn create_list_job(&self, new: NewListJob) -> StoreResult<ListJob> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, &new.account_id).await?;
        let list_id: String =
            sqlx::query_scalar("SELECT id FROM lists WHERE account_pk = ?1 AND id_key = ?2")
                .bind(owner.pk)
                .bind(id_key(&new.list_id))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("find the list of a job"))?
                .ok_or(StoreError::NotFound)?;
        let completed_at = new.state.is_final().then_some(new.created_at);
        sqlx::query(
            "INSERT INTO list_jobs (token, token_key, account_pk, list_id, kind, state, \
             publish_date, created_at, updated_at, completed_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
        )
        .bind(&new.token)
        .bind(id_key(&new.token))
        .bind(owner.pk)
        .bind(&list_id)
        .bind(match new.kind {
            ListJobKind::Import => "import",
            ListJobKind::Refresh => "refresh",
        })
        .bind(new.state.as_str())
        .bind(new.publish_date)
        .bind(new.created_at)
        .bind(completed_at)
        .execute(&mut *tx)
        .await
        .map_err(db("record a list job"))?;
        let job = by_token(&mut *tx, &new.token).await?;
        tx.commit().await.map_err(db("commit list job"))?;
        Ok(job)
    }

    async fn update_list_job(
        &self,
        token: &str,
        state: ListJobState,
        progress: &ListJobProgress,
        now: Millis,
    ) -> StoreResult<ListJob> {
        let mut tx = self.write().await?;
        let current = by_token(&mut *tx, token).await?;
        if current.state.is_final() {
            return Ok(current);
        }
        sqlx::query(
            "UPDATE list_jobs SET state = ?2, inserted = ?3, updated = ?4, invalid = ?5, \
             errors = ?6, updated_at = ?7, completed_at = ?8 WHERE token_key = ?1",
        )
        .bind(id_key(token))
        .bind(state.as_str())
        .bind(progress.inserted)
        .bind(progress.updated)
        .bind(progress.invalid)
        .bind(strings_to_json(&progress.errors)?)
        .bind(now)
        .bind(state.is_final().then_some(now))
        .execute(&mut *tx)
        .await
        .map_err(db("record list job progress"))?;
        let job = by_token(&mut *tx, token).await?;
        tx.commit().await.map_err(db("commit list job progress"))?;
        Ok(job)
    }

    async fn get_list_job(&self, account_id: &str, token: &str) -> StoreResult<ListJob> {
        let job = by_token(&self.reader, token).await?;
        if !job.account_id.eq_ignore_ascii_case(account_id) {
            return Err(StoreError::NotFound);
        }
        Ok(job)
    }
}
