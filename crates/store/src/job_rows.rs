//! What both backends share about the jobs table: its statements (written once, with `$N`
//! parameters, which both SQLite and PostgreSQL read by number), the row they read and its
//! mapping to [`ListJob`], and the operations that run them, generic over the database
//! ([`Sql`]). Job states are spelled in SQL by [`job_state!`](crate::job_state) (`states.rs`).
//! The claim, whose locking differs, and the transactions (begun, and ended, as each backend
//! does) are each backend's own.

use sqlx::query::Query;
use sqlx::{Database, Executor, FromRow, Transaction};

use crate::account_rows::AccountRef;
use crate::sql::{self, id_key, Arg, Ending, Sql};
use crate::{
    JobUpdate, ListJob, ListJobKind, ListJobProgress, ListJobState, MemberCounts, Millis,
    NewListJob, StoreError, StoreResult,
};

/// The columns of a job as every job query reads them (`j`: the jobs table, `a`: its account).
#[macro_export]
macro_rules! job_columns {
    () => {
        "j.token, a.id AS account_id, j.list_id, j.kind, j.state, j.inserted, j.updated, \
         j.invalid, j.errors, j.publish_date, j.created_at, j.updated_at, j.completed_at, \
         j.payload, j.checkpoint"
    };
}

/// The columns of a job, as a string.
pub const JOB_COLUMNS: &str = job_columns!();

/// One job by its token key (`$1`).
pub const JOB_BY_TOKEN: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM list_jobs j JOIN accounts a ON a.pk = j.account_pk WHERE j.token_key = $1"
);

/// The canonical ID of the account's (`$1`) list by its key (`$2`).
pub const LIST_OF_JOB: &str = "SELECT id FROM lists WHERE account_pk = $1 AND id_key = $2";

/// Records a new job: bound by `bind_new_job` ([`create_job`]).
pub const INSERT_JOB: &str = "INSERT INTO list_jobs (token, token_key, account_pk, list_id, \
     kind, state, publish_date, created_at, updated_at, completed_at, payload) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)";

/// Records a job's progress while its owner holds the lease: bound by `bind_job_update`
/// ([`record_job_in`]); one row changed when it did.
pub const RECORD_JOB: &str = concat!(
    "UPDATE list_jobs SET state = $3, inserted = $4, updated = $5, invalid = $6, errors = $7, \
     checkpoint = $8, updated_at = $9, completed_at = $10, \
     lease_owner = CASE WHEN $11 THEN NULL ELSE lease_owner END, \
     lease_until = CASE WHEN $11 THEN NULL ELSE $12 END \
     WHERE token_key = $1 AND lease_owner = $2 AND state IN (",
    job_state!(Queued),
    ", ",
    job_state!(Processing),
    ")"
);

/// Whether any unfinished job's lease is free or ran out before `$1`: read first, so that a
/// claim that would find nothing takes no write transaction (the engine asks at every round).
pub const ANY_JOB_DUE: &str = concat!(
    "SELECT EXISTS (SELECT 1 FROM list_jobs WHERE state IN (",
    job_state!(Queued),
    ", ",
    job_state!(Processing),
    ") AND (lease_until IS NULL OR lease_until < $1))"
);

/// Gives back the leases of the owner (`$1`) on unfinished jobs.
pub const RELEASE_JOBS: &str = concat!(
    "UPDATE list_jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 \
     AND state IN (",
    job_state!(Queued),
    ", ",
    job_state!(Processing),
    ")"
);

/// A statement of either backend with its parameters.
pub type Statement<'q, DB> = Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// Binds [`INSERT_JOB`]'s parameters: the job, its token's lookup key, its account's key and
/// its list's canonical ID.
fn bind_new_job<'q, DB: Sql>(
    query: Statement<'q, DB>,
    new: &'q NewListJob,
    account_pk: i64,
    list_id: Option<String>,
) -> Statement<'q, DB> {
    query
        .arg(new.token.as_str())
        .arg(id_key(&new.token))
        .arg(account_pk)
        .arg(list_id)
        .arg(new.kind.as_str())
        .arg(new.state.as_str())
        .arg(new.publish_date)
        .arg(new.created_at)
        .arg(new.state.is_final().then_some(new.created_at))
        .arg(new.payload.as_str())
}

/// Binds [`RECORD_JOB`]'s parameters: the update, its token's lookup key, and the members a
/// batch written with it added to the counts.
fn bind_job_update<'q, DB: Sql>(
    query: Statement<'q, DB>,
    update: &'q JobUpdate,
    added: &MemberCounts,
) -> StoreResult<Statement<'q, DB>> {
    let count = |n: u64| i64::try_from(n).map_err(|_| StoreError::Other(format!("{n} rows")));
    let final_state = update.state.is_final();
    Ok(query
        .arg(id_key(&update.token))
        .arg(update.owner.as_str())
        .arg(update.state.as_str())
        .arg(update.progress.inserted.saturating_add(count(added.added)?))
        .arg(
            update
                .progress
                .updated
                .saturating_add(count(added.updated)?),
        )
        .arg(update.progress.invalid)
        .arg(job_errors_json(&update.progress.errors)?)
        .arg(update.checkpoint)
        .arg(update.now)
        .arg(final_state.then_some(update.now))
        .arg(final_state)
        .arg(update.lease_until))
}

// ---- the operations both backends run alike ---------------------------------------------------

/// One job by its token (any case), whatever its account.
pub async fn job_by_token<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    token: &str,
) -> StoreResult<ListJob>
where
    JobRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, JobRow>(JOB_BY_TOKEN)
        .arg(id_key(token))
        .fetch_optional(db)
        .await
        .map_err(sql::db("read a job"))?
        .ok_or(StoreError::NotFound)?
        .into_job()
}

/// By token, ignoring case, within the account (`JobStore::get_list_job`).
pub async fn read_list_job<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    account_id: &str,
    token: &str,
) -> StoreResult<ListJob>
where
    JobRow: for<'r> FromRow<'r, DB::Row>,
{
    let job = job_by_token(db, token).await?;
    if !job.account_id.eq_ignore_ascii_case(account_id) {
        return Err(StoreError::NotFound);
    }
    Ok(job)
}

/// Records a new job in `tx`, which it ends (`JobStore::create_list_job`): NotFound when the
/// account or the named list does not exist.
pub async fn create_job<DB: Sql>(
    mut tx: Transaction<'static, DB>,
    new: NewListJob,
) -> StoreResult<ListJob>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    JobRow: for<'r> FromRow<'r, DB::Row>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    let work = async {
        let conn: &mut DB::Connection = &mut tx;
        let owner = sql::account(&mut *conn, &new.account_id).await?;
        let list_id: Option<String> = match &new.list_id {
            Some(id) => Some(
                sqlx::query_scalar::<DB, String>(LIST_OF_JOB)
                    .arg(owner.pk)
                    .arg(id_key(id))
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(sql::db("find the list of a job"))?
                    .ok_or(StoreError::NotFound)?,
            ),
            None => None,
        };
        bind_new_job(sqlx::query::<DB>(INSERT_JOB), &new, owner.pk, list_id)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("record a job"))?;
        job_by_token(&mut *conn, &new.token)
            .await
            .map(Ending::Commit)
    }
    .await;
    sql::settle(tx, work, "commit job").await
}

/// The fenced update of a job, with the members a batch written in the same transaction
/// `added`: true when `update.owner` held the lease.
pub async fn record_job_in<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    update: &JobUpdate,
    added: &MemberCounts,
) -> StoreResult<bool> {
    let changed = bind_job_update(sqlx::query::<DB>(RECORD_JOB), update, added)?
        .execute(db)
        .await
        .map_err(sql::db("record job progress"))?;
    Ok(sql::affected::<DB>(changed) == 1)
}

/// Whether a claim may find a job ([`ANY_JOB_DUE`]).
pub async fn any_job_due<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    now: Millis,
) -> StoreResult<bool>
where
    (bool,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_scalar::<DB, bool>(ANY_JOB_DUE)
        .arg(now)
        .fetch_one(db)
        .await
        .map_err(sql::db("look for due jobs"))
}

/// Gives back `owner`'s leases on unfinished jobs: how many.
pub async fn release_job_leases<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    owner: &str,
) -> StoreResult<u64> {
    let released = sqlx::query::<DB>(RELEASE_JOBS)
        .arg(owner)
        .execute(db)
        .await
        .map_err(sql::db("release job leases"))?;
    Ok(sql::affected::<DB>(released))
}

/// One job as stored.
#[derive(Debug, sqlx::FromRow)]
pub struct JobRow {
    pub token: String,
    pub account_id: String,
    pub list_id: Option<String>,
    pub kind: String,
    pub state: String,
    pub inserted: i64,
    pub updated: i64,
    pub invalid: i64,
    pub errors: String,
    pub publish_date: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    pub payload: String,
    pub checkpoint: i64,
}

fn bad_value(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("stored {what} {value:?} is not valid"))
}

impl JobRow {
    pub fn into_job(self) -> StoreResult<ListJob> {
        Ok(ListJob {
            kind: ListJobKind::parse(&self.kind)
                .ok_or_else(|| bad_value("job kind", &self.kind))?,
            state: ListJobState::parse(&self.state)
                .ok_or_else(|| bad_value("job state", &self.state))?,
            progress: ListJobProgress {
                inserted: self.inserted,
                updated: self.updated,
                invalid: self.invalid,
                errors: serde_json::from_str(&self.errors).map_err(|e| {
                    StoreError::Other(format!(
                        "stored job errors are not a JSON string array: {e}"
                    ))
                })?,
            },
            token: self.token,
            account_id: self.account_id,
            list_id: self.list_id,
            checkpoint: self.checkpoint,
            payload: self.payload,
            publish_date: self.publish_date,
            created_at: self.created_at,
            updated_at: self.updated_at,
            completed_at: self.completed_at,
        })
    }
}

/// A job's errors as stored (a JSON array of strings).
pub fn job_errors_json(errors: &[String]) -> StoreResult<String> {
    serde_json::to_string(errors).map_err(|e| StoreError::Other(format!("encode job errors: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_states_round_trip_through_their_spellings() {
        for kind in [
            ListJobKind::Import,
            ListJobKind::Refresh,
            ListJobKind::Report,
        ] {
            assert_eq!(ListJobKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ListJobKind::parse("Import"), None);
        let row = JobRow {
            token: "t".into(),
            account_id: "a".into(),
            list_id: None,
            kind: "report".into(),
            state: "Processing".into(),
            inserted: 1,
            updated: 2,
            invalid: 3,
            errors: r#"["x"]"#.into(),
            publish_date: None,
            created_at: 4,
            updated_at: 5,
            completed_at: None,
            payload: "p".into(),
            checkpoint: 6,
        };
        let job = row.into_job().expect("valid row");
        assert_eq!(job.kind, ListJobKind::Report);
        assert_eq!(job.state, ListJobState::Processing);
        assert_eq!(job.progress.errors, vec!["x".to_string()]);
        assert_eq!((job.checkpoint, job.payload.as_str()), (6, "p"));
    }
}
