//! Background jobs (`queueImport`, `refreshList`, `deliveryReport`): recorded, claimed under a
//! lease, fenced by it, resumed from their checkpoint.

use serde_json::json;
use store::*;

use crate::helpers::*;

pub async fn list_jobs_record_progress_until_final(store: &dyn Store) {
    use store::{JobUpdate, ListJobKind, ListJobProgress, ListJobState};
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_list(store, "acme", "List-A").await;
    let new = |token: &str, list: Option<&str>, kind: ListJobKind, state: ListJobState| {
        store::NewListJob {
            token: token.to_string(),
            account_id: "acme".to_string(),
            list_id: list.map(str::to_string),
            kind,
            state,
            publish_date: Some(T0 - 5),
            payload: format!("payload of {token}"),
            created_at: T0,
        }
    };
    let job = ok(
        store
            .create_list_job(new(
                "job-1",
                Some("list-a"),
                ListJobKind::Import,
                ListJobState::Queued,
            ))
            .await,
        "create job",
    );
    assert_eq!(job.list_id.as_deref(), Some("List-A"), "canonical list ID");
    assert_eq!(
        (job.state, job.updated_at, job.completed_at, job.checkpoint),
        (ListJobState::Queued, T0, None, 0)
    );
    assert_eq!(job.payload, "payload of job-1");
    let report = ok(
        store
            .create_list_job(new(
                "job-r",
                None,
                ListJobKind::Report,
                ListJobState::Queued,
            ))
            .await,
        "a report names no list",
    );
    assert_eq!((report.kind, report.list_id), (ListJobKind::Report, None));

    // Claimed oldest first, leased: a second claimant finds nothing until the lease runs out.
    let claimed = ok(
        store.claim_jobs("node-a", T0 + 1, T0 + 100, 10).await,
        "claim",
    );
    let tokens: Vec<&str> = claimed.iter().map(|j| j.token.as_str()).collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert!(claimed.iter().all(|j| j.state == ListJobState::Processing));
    assert!(ok(
        store.claim_jobs("node-b", T0 + 50, T0 + 150, 10).await,
        "leased"
    )
    .is_empty());

    // Progress is recorded only by the lease's holder.
    let progress = ListJobProgress {
        inserted: 5,
        updated: 2,
        invalid: 1,
        errors: strings(&["Row 3: bad"]),
    };
    let update = |owner: &str, state: ListJobState, checkpoint: i64, now: i64| JobUpdate {
        token: "JOB-1".to_string(),
        owner: owner.to_string(),
        state,
        progress: progress.clone(),
        checkpoint,
        now,
        lease_until: now + 100,
    };
    assert!(!ok(
        store
            .record_job(&update("node-b", ListJobState::Processing, 9, T0 + 2))
            .await,
        "not the holder"
    ));
    assert!(ok(
        store
            .record_job(&update("node-a", ListJobState::Processing, 7, T0 + 2))
            .await,
        "the holder"
    ));
    let job = ok(store.get_list_job("ACME", "job-1").await, "get");
    assert_eq!(
        (job.progress.clone(), job.checkpoint, job.updated_at),
        (progress.clone(), 7, T0 + 2)
    );

    // A batch of an import and its checkpoint: both or neither.
    let rows = [
        row("15555550100", None, json!({})),
        row("15555550101", None, json!({})),
    ];
    let mut batch = update("node-b", ListJobState::Processing, 20, T0 + 3);
    assert_eq!(
        ok(
            store
                .import_batch(&batch, "acme", "List-A", &rows, None)
                .await,
            "a batch without the lease"
        ),
        None
    );
    assert_eq!(ok(store.get_list("acme", "List-A").await, "list").size, 0);
    batch.owner = "node-a".to_string();
    let counts = ok(
        store
            .import_batch(&batch, "acme", "List-A", &rows, None)
            .await,
        "a batch with the lease",
    );
    assert_eq!(counts.map(|c| (c.added, c.updated)), Some((2, 0)));
    let job = ok(store.get_list_job("acme", "job-1").await, "get");
    assert_eq!(
        (job.progress.inserted, job.progress.updated, job.checkpoint),
        (7, 2, 20),
        "the batch's counts are added to the progress recorded with it"
    );
    assert_eq!(ok(store.get_list("acme", "List-A").await, "list").size, 2);

    // A graceful stop gives the leases back: another process resumes at once, where it was.
    assert_eq!(ok(store.release_jobs("node-a").await, "release"), 2);
    let resumed = ok(
        store.claim_jobs("node-b", T0 + 4, T0 + 104, 1).await,
        "resume",
    );
    assert_eq!(resumed.len(), 1);
    assert_eq!(
        (resumed[0].token.as_str(), resumed[0].checkpoint),
        ("job-1", 20),
        "oldest first, with its checkpoint"
    );
    // A process that stopped without giving its lease back loses the job once it runs out.
    let expired = ok(
        store.claim_jobs("node-c", T0 + 105, T0 + 205, 5).await,
        "expired",
    );
    let tokens: Vec<&str> = expired.iter().map(|j| j.token.as_str()).collect();
    assert_eq!(tokens, vec!["job-1", "job-r"]);
    assert!(!ok(
        store
            .record_job(&update("node-b", ListJobState::Completed, 30, T0 + 106))
            .await,
        "the old holder is fenced off"
    ));
    assert!(ok(
        store
            .record_job(&update("node-c", ListJobState::Completed, 30, T0 + 106))
            .await,
        "complete"
    ));
    let done = ok(store.get_list_job("ACME", "job-1").await, "get");
    assert_eq!(
        (done.state, done.completed_at),
        (ListJobState::Completed, Some(T0 + 106))
    );
    assert!(!ok(
        store
            .record_job(&update("node-c", ListJobState::Error, 31, T0 + 107))
            .await,
        "final jobs do not change"
    ));
    assert_eq!(ok(store.get_list_job("acme", "job-1").await, "get"), done);
    assert!(
        ok(
            store.claim_jobs("node-d", T0 + 1_000, T0 + 1_100, 5).await,
            "claim"
        )
        .iter()
        .all(|j| j.token == "job-r"),
        "a final job is never claimed"
    );
    assert_not_found(store.get_list_job("other", "job-1").await, "other account");
    assert_not_found(store.get_list_job("acme", "nope").await, "unknown token");
    let refresh = ok(
        store
            .create_list_job(new(
                "job-2",
                Some("List-A"),
                ListJobKind::Refresh,
                ListJobState::Completed,
            ))
            .await,
        "refresh",
    );
    assert_eq!(
        (refresh.kind, refresh.publish_date, refresh.completed_at),
        (ListJobKind::Refresh, Some(T0 - 5), Some(T0))
    );
    assert!(
        ok(
            store.claim_jobs("node-d", T0 + 2_000, T0 + 2_100, 5).await,
            "claim"
        )
        .iter()
        .all(|j| j.token != "job-2"),
        "a completed refresh is never claimed"
    );
    assert_not_found(
        store
            .create_list_job(new(
                "job-3",
                Some("nope"),
                ListJobKind::Import,
                ListJobState::Queued,
            ))
            .await,
        "unknown list",
    );
    assert_conflict(
        store
            .create_list_job(new(
                "JOB-2",
                Some("List-A"),
                ListJobKind::Import,
                ListJobState::Queued,
            ))
            .await,
        "token equal ignoring case",
    );
}
