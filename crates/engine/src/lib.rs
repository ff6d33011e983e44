//! The delivery engine (API.md §4 "What a send does"), one responsibility per module:
//! `scheduler` claims due sends and expands their audience inside the database (and recovers
//! what stopped processes left); `dispatch` hands claimed recipients through the blackout gate
//! and the per-carrier rate limiter to the carriers, at most once; `receipts` applies what the
//! carriers report later; `inbound` handles texts to the codes (keywords, `keywords` holding
//! the pure rules). This file holds the engine, its workers and its one round of work. It reads
//! time from the clock it is given. It must not know HTTP.

mod dispatch;
mod inbound;
mod jobs;
pub mod keywords;
mod limiter;
mod receipts;
mod scheduler;
pub mod telemetry;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use carrier::Carrier;
use domain::clock::Clock;
use store::{Receipt, StoreResult};
use tokio::sync::{watch, Mutex, Notify};

pub use jobs::{JobEnd, JobLease, JobRunner};
pub use limiter::SegmentLimiter;

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This process's name on leases (unique per process).
    pub owner: String,
    /// Memberships expanded per database batch.
    pub expand_batch: u32,
    /// Recipients claimed per dispatch batch.
    pub claim_batch: u32,
    /// How long an expansion claim holds without being renewed.
    pub expand_lease_ms: i64,
    /// The lease on a batch being handed over, renewed every third of it while the batch is
    /// worked on: only a batch whose process stopped outlives it. Then its claimed recipients
    /// are taken again, and those that may have left ("submitting") are reported 3400 Unknown.
    /// Batches are sized to be handed over in about a quarter of it.
    pub submit_lease_ms: i64,
    /// Idle wait between polls when nothing signals work.
    pub idle_poll: Duration,
    /// Dispatch workers in one process. Each hands over one batch at a time.
    pub workers: usize,
    /// The lease on a background job, renewed with each batch it records: only a job whose
    /// process stopped outlives it, and is then resumed by another.
    pub job_lease_ms: i64,
}

impl EngineConfig {
    pub fn new(owner: impl Into<String>) -> EngineConfig {
        EngineConfig {
            owner: owner.into(),
            expand_batch: 50_000,
            claim_batch: 1_000,
            expand_lease_ms: 30_000,
            submit_lease_ms: 60_000,
            idle_poll: Duration::from_millis(200),
            workers: 1,
            job_lease_ms: 60_000,
        }
    }
}

/// The engine: cheap to clone, shared by its workers.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn store::Store>,
    carriers: HashMap<String, Arc<dyn Carrier>>,
    limiters: HashMap<String, SegmentLimiter>,
    /// Each carrier's metric handles, made once.
    carrier_metrics: HashMap<String, telemetry::CarrierMetrics>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    wake: Arc<Notify>,
    events: Mutex<carrier::EventSource>,
    /// True once the engine is stopping (API.md §8 SIGTERM): nothing more is written to
    /// carriers, and batches in flight settle.
    stop: watch::Sender<bool>,
    /// Each carrier's pace, which sizes claims.
    paces: dispatch::Paces,
    last_recovery: std::sync::Mutex<Option<i64>>,
    /// Receipts that matched no recorded submission yet, with when they first came.
    held: std::sync::Mutex<Vec<(Receipt, std::time::Instant)>>,
    /// What runs background jobs (imports, reports); none claimed until it is set.
    jobs: std::sync::OnceLock<Arc<dyn JobRunner>>,
}

/// How long a graceful stop waits for a carrier's pending receipts.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(3);

impl Engine {
    /// `events` is the receiving end of the sink given to the carriers.
    pub fn new(
        store: Arc<dyn store::Store>,
        carriers: Vec<Arc<dyn Carrier>>,
        events: carrier::EventSource,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Engine {
        let limiters = carriers
            .iter()
            .map(|c| (c.name().to_string(), SegmentLimiter::new(c.rate_limit())))
            .collect();
        let carrier_metrics = carriers
            .iter()
            .map(|c| {
                (
                    c.name().to_string(),
                    telemetry::CarrierMetrics::new(c.name()),
                )
            })
            .collect();
        let carriers = carriers
            .into_iter()
            .map(|c| (c.name().to_string(), c))
            .collect();
        Engine {
            inner: Arc::new(Inner {
                store,
                carriers,
                limiters,
                carrier_metrics,
                clock,
                config,
                wake: Arc::new(Notify::new()),
                events: Mutex::new(events),
                stop: watch::channel(false).0,
                paces: dispatch::Paces::default(),
                last_recovery: std::sync::Mutex::new(None),
                held: std::sync::Mutex::new(Vec::new()),
                jobs: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Notify this when new work may exist (a send was accepted).
    pub fn waker(&self) -> Arc<Notify> {
        self.inner.wake.clone()
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// True once the engine is stopping.
    pub fn is_stopping(&self) -> bool {
        *self.inner.stop.borrow()
    }

    /// One round of every kind of work: a delivery round, the carriers' events, then the due
    /// background jobs, each run to its end. True when something was done. Tests and
    /// benchmarks drive the engine with it; `run`'s workers run the same delivery round, its
    /// receipt worker the events and its job worker the jobs.
    pub async fn step(&self) -> StoreResult<bool> {
        let mut did = self.delivery_round().await?;
        did |= self.drain_events().await? > 0;
        did |= self.retry_held_receipts().await? > 0;
        did |= self.jobs_round().await?;
        Ok(did)
    }

    /// Steps until a whole round finds nothing to do (tests and benchmarks drive the engine
    /// this way instead of waiting).
    pub async fn run_until_idle(&self) -> StoreResult<()> {
        while self.step().await? {}
        Ok(())
    }

    /// Runs the workers until `shutdown` turns true, then lets the batches in flight finish,
    /// gives back leases and returns.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tasks = Vec::new();
        for _ in 0..self.inner.config.workers.max(1) {
            let engine = self.clone();
            let mut stop = shutdown.clone();
            tasks.push(tokio::spawn(async move { engine.worker(&mut stop).await }));
        }
        let receipts = {
            let engine = self.clone();
            let mut stop = shutdown.clone();
            tokio::spawn(async move { engine.receipt_worker(&mut stop).await })
        };
        let jobs = {
            let engine = self.clone();
            let mut stop = shutdown.clone();
            tokio::spawn(async move { engine.job_worker(&mut stop).await })
        };
        let _ = shutdown.wait_for(|s| *s).await;
        // Batches in flight write nothing more and settle (API.md §8 SIGTERM).
        self.inner.stop.send_replace(true);
        for t in tasks {
            let _ = t.await;
        }
        // A running job stops at its next batch boundary, its checkpoint recorded.
        let _ = jobs.await;
        // Finishing in-flight work (API.md §8 SIGTERM) includes the receipts carriers still
        // owe for what they accepted, such as the simulator's delayed ones.
        for carrier in self.inner.carriers.values() {
            if tokio::time::timeout(FLUSH_TIMEOUT, carrier.flush())
                .await
                .is_err()
            {
                tracing::warn!(
                    carrier = carrier.name(),
                    "receipts still pending at stop are lost"
                );
            }
        }
        let _ = receipts.await;
        loop {
            match self.drain_events().await {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not apply the last receipts");
                    break;
                }
            }
        }
        if let Err(e) = self
            .inner
            .store
            .release_leases(&self.inner.config.owner)
            .await
        {
            tracing::warn!(error = %e, "could not release leases");
        }
        if let Err(e) = self
            .inner
            .store
            .release_jobs(&self.inner.config.owner)
            .await
        {
            tracing::warn!(error = %e, "could not release job leases");
        }
        tracing::info!("engine stopped");
    }

    async fn worker(&self, stop: &mut watch::Receiver<bool>) {
        self.rounds(stop, "engine step", || self.delivery_round())
            .await
    }

    /// Runs `round` until `stop` turns true; whenever a round finds nothing to do, waits for a
    /// wake-up, the idle poll or the stop.
    pub(crate) async fn rounds<F, Fut>(
        &self,
        stop: &mut watch::Receiver<bool>,
        what: &'static str,
        round: F,
    ) where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = StoreResult<bool>>,
    {
        while !*stop.borrow() {
            let worked = match round().await {
                Ok(w) => w,
                Err(e) => {
                    tracing::error!(error = %e, "{what} failed");
                    false
                }
            };
            if worked {
                continue;
            }
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(self.inner.config.idle_poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Recovery when due, the due sends' expansion, one batch of each dispatchable send.
    async fn delivery_round(&self) -> StoreResult<bool> {
        let mut did = self.recover_if_due().await?;
        did |= self.schedule().await?;
        did |= self.dispatch().await?;
        Ok(did)
    }
}
