//! List jobs (`queueImport`, `refreshList`).

use store::*;

use crate::helpers::*;

pub async fn list_jobs_record_progress_until_final(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_list(store, "acme", "List-A").await;
    let new = |token: &str, list: &str, kind: store::ListJobKind, state: store::ListJobState| {
        store::NewListJob {
            token: token.to_string(),
            account_id: "acme".to_string(),
            list_id: list.to_string(),
            kind,
            state,
            publish_date: Some(T0 - 5),
            created_at: T0,
        }
    };
    let job = ok(
        store
            .create_list_job(new(
                "job-1",
                "list-a",
                store::ListJobKind::Import,
                store::ListJobState::Queued,
            ))
            .await,
        "create job",
    );
    assert_eq!(job.list_id, "List-A", "canonical list ID");
    assert_eq!(
        (job.state, job.updated_at, job.completed_at),
        (store::ListJobState::Queued, T0, None)
    );
    let progress = store::ListJobProgress {
        inserted: 5,
        updated: 2,
        invalid: 1,
        errors: strings(&["Row 3: bad"]),
    };
    let job = ok(
        store
            .update_list_job("JOB-1", store::ListJobState::Processing, &progress, T0 + 1)
            .await,
        "progress",
    );
    assert_eq!(
        (job.progress.clone(), job.updated_at),
        (progress.clone(), T0 + 1)
    );
    let done = ok(
        store
            .update_list_job("job-1", store::ListJobState::Completed, &progress, T0 + 2)
            .await,
        "complete",
    );
    assert_eq!(done.completed_at, Some(T0 + 2));
    let after = ok(
        store
            .update_list_job(
                "job-1",
                store::ListJobState::Error,
                &store::ListJobProgress::default(),
                T0 + 3,
            )
            .await,
        "final jobs do not change",
    );
    assert_eq!(after, done);
    assert_eq!(ok(store.get_list_job("ACME", "job-1").await, "get"), done);
    assert_not_found(store.get_list_job("other", "job-1").await, "other account");
    assert_not_found(
        store
            .update_list_job("nope", store::ListJobState::Error, &progress, T0)
            .await,
        "unknown token",
    );
    let refresh = ok(
        store
            .create_list_job(new(
                "job-2",
                "List-A",
                store::ListJobKind::Refresh,
                store::ListJobState::Completed,
            ))
            .await,
        "refresh",
    );
    assert_eq!(
        (refresh.kind, refresh.publish_date, refresh.completed_at),
        (store::ListJobKind::Refresh, Some(T0 - 5), Some(T0))
    );
    assert_not_found(
        store
            .create_list_job(new(
                "job-3",
                "nope",
                store::ListJobKind::Import,
                store::ListJobState::Queued,
            ))
            .await,
        "unknown list",
    );
    assert_conflict(
        store
            .create_list_job(new(
                "JOB-2",
                "List-A",
                store::ListJobKind::Import,
                store::ListJobState::Queued,
            ))
            .await,
        "token equal ignoring case",
    );
}
