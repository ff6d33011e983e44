//! What both backends share about the jobs table: its statements (written once, with `$N`
//! parameters, which both SQLite and PostgreSQL read by number), how their parameters are
//! bound, and the row they read and its mapping to [`ListJob`]. Job states are spelled in SQL
//! by [`job_state!`](crate::job_state) (`states.rs`). The claim, whose locking differs, is each
//! backend's own.

use sqlx::query::Query;
use sqlx::{Database, Encode, Type};

use crate::{
    JobUpdate, ListJob, ListJobKind, ListJobProgress, ListJobState, MemberCounts, NewListJob,
    StoreError, StoreResult,
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

/// Records a new job: bound by [`bind_new_job`].
pub const INSERT_JOB: &str = "INSERT INTO list_jobs (token, token_key, account_pk, list_id, \
     kind, state, publish_date, created_at, updated_at, completed_at, payload) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)";

/// Records a job's progress while its owner holds the lease: bound by [`bind_job_update`]; one
/// row changed when it did.
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
pub fn bind_new_job<'q, DB>(
    query: Statement<'q, DB>,
    new: &'q NewListJob,
    token_key: String,
    account_pk: i64,
    list_id: Option<String>,
) -> Statement<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(new.token.as_str())
        .bind(token_key)
        .bind(account_pk)
        .bind(list_id)
        .bind(new.kind.as_str())
        .bind(new.state.as_str())
        .bind(new.publish_date)
        .bind(new.created_at)
        .bind(new.state.is_final().then_some(new.created_at))
        .bind(new.payload.as_str())
}

/// Binds [`RECORD_JOB`]'s parameters: the update, its token's lookup key, and the members a
/// batch written with it added to the counts.
pub fn bind_job_update<'q, DB>(
    query: Statement<'q, DB>,
    update: &'q JobUpdate,
    token_key: String,
    added: &MemberCounts,
) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    let count = |n: u64| i64::try_from(n).map_err(|_| StoreError::Other(format!("{n} rows")));
    let final_state = update.state.is_final();
    Ok(query
        .bind(token_key)
        .bind(update.owner.as_str())
        .bind(update.state.as_str())
        .bind(update.progress.inserted.saturating_add(count(added.added)?))
        .bind(
            update
                .progress
                .updated
                .saturating_add(count(added.updated)?),
        )
        .bind(update.progress.invalid)
        .bind(job_errors_json(&update.progress.errors)?)
        .bind(update.checkpoint)
        .bind(update.now)
        .bind(final_state.then_some(update.now))
        .bind(final_state)
        .bind(update.lease_until))
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
