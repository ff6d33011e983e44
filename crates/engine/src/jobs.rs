//! Background jobs (API.md §6 queueImport and deliveryReport) claimed like sends: the engine
//! leases each unfinished job in the database and hands it to the [`JobRunner`] (the operations
//! crate, which knows files and imports). A runner records its progress, its checkpoint and a
//! renewed lease in one write per batch, and stops at the next batch boundary once the engine
//! stops; a job whose process stopped is taken again after its lease and resumed from its
//! checkpoint. Nothing here knows what a job does.

use std::sync::Arc;

use async_trait::async_trait;
use store::{JobUpdate, ListJob, ListJobProgress, ListJobState, StoreResult};
use tokio::sync::watch;

use crate::Engine;

/// Jobs claimed at once by one process.
const JOBS_PER_CLAIM: u32 = 1;

/// How a run of a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd {
    /// Completed or failed: its final state is recorded.
    Finished,
    /// The engine is stopping: the job stopped at a batch boundary with its checkpoint
    /// recorded, and is resumed by the next process.
    Stopped,
    /// Another process took the job over (this one's lease ran out): nothing more was written.
    Lost,
}

/// What runs a claimed job.
#[async_trait]
pub trait JobRunner: Send + Sync + 'static {
    async fn run(&self, job: ListJob, lease: JobLease) -> JobEnd;
}

/// A claimed job's lease, and the engine's stop signal, for its runner.
#[derive(Clone)]
pub struct JobLease {
    engine: Engine,
    token: String,
}

impl JobLease {
    /// True once the engine is stopping: the runner ends at its next batch boundary.
    pub fn stopping(&self) -> bool {
        self.engine.is_stopping()
    }

    /// The engine's clock, in milliseconds.
    pub fn now(&self) -> i64 {
        self.engine.now()
    }

    /// The update that records `state`, `progress` and `checkpoint` now, renewing the lease.
    pub fn update(
        &self,
        state: ListJobState,
        progress: ListJobProgress,
        checkpoint: i64,
    ) -> JobUpdate {
        let now = self.now();
        JobUpdate {
            token: self.token.clone(),
            owner: self.engine.inner.config.owner.clone(),
            state,
            progress,
            checkpoint,
            now,
            lease_until: now + self.engine.inner.config.job_lease_ms,
        }
    }

    /// Records an update; false when the lease was lost (nothing written).
    pub async fn record(&self, update: &JobUpdate) -> StoreResult<bool> {
        self.engine.inner.store.record_job(update).await
    }
}

impl Engine {
    /// Gives the engine what runs its jobs (set once, before it runs; later calls are ignored).
    pub fn set_job_runner(&self, runner: Arc<dyn JobRunner>) {
        let _ = self.inner.jobs.set(runner);
    }

    /// Claims due jobs and runs each to its end (or to the engine's stop). True when a job was
    /// claimed.
    pub(crate) async fn jobs_round(&self) -> StoreResult<bool> {
        let Some(runner) = self.inner.jobs.get() else {
            return Ok(false);
        };
        if self.is_stopping() {
            return Ok(false);
        }
        let now = self.now();
        let claimed = self
            .inner
            .store
            .claim_jobs(
                &self.inner.config.owner,
                now,
                now + self.inner.config.job_lease_ms,
                JOBS_PER_CLAIM,
            )
            .await?;
        let did = !claimed.is_empty();
        for job in claimed {
            let lease = JobLease {
                engine: self.clone(),
                token: job.token.clone(),
            };
            let token = job.token.clone();
            match runner.run(job, lease).await {
                JobEnd::Finished => {}
                JobEnd::Stopped => tracing::info!(token = %token, "job stopped; it resumes later"),
                JobEnd::Lost => tracing::warn!(token = %token, "job taken over by another process"),
            }
        }
        Ok(did)
    }

    /// Runs due background jobs until none is left, and nothing else (a test that measures
    /// what one job writes drives the engine this way).
    pub async fn run_jobs_until_idle(&self) -> StoreResult<()> {
        while self.jobs_round().await? {}
        Ok(())
    }

    /// The job worker of [`Engine::run`]: jobs one after another, beside the delivery workers.
    pub(crate) async fn job_worker(&self, stop: &mut watch::Receiver<bool>) {
        self.rounds(stop, "job round", || self.jobs_round()).await
    }
}
