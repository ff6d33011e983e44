//! What both backends share about the jobs table: the columns read, the row they map into, and
//! the mapping to [`ListJob`]. Only statements and locking differ per backend.

use crate::{ListJob, ListJobKind, ListJobProgress, ListJobState, StoreError, StoreResult};

/// The columns of a job as every job query reads them (`j`: the jobs table, `a`: its account).
pub const JOB_COLUMNS: &str = "j.token, a.id AS account_id, j.list_id, j.kind, j.state, \
     j.inserted, j.updated, j.invalid, j.errors, j.publish_date, j.created_at, j.updated_at, \
     j.completed_at, j.payload, j.checkpoint";

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
