//! The scheduler (API.md §4 "What a send does" 2, 5): claims due sends and expands their
//! audience inside the database, batch by batch under a lease; and the periodic recovery of
//! hand-overs whose process stopped (3400 Unknown for what may have left) and of double opt-in
//! requests that lapsed.

use std::time::Instant;

use store::{codes, Expansion, StoreResult};

use crate::{keywords, telemetry, Engine};

/// How often (engine clock) crashed hand-overs are looked for.
const RECOVERY_EVERY_MS: i64 = 5_000;

impl Engine {
    /// Recovery runs at most every few seconds (and at the first step).
    pub(crate) async fn recover_if_due(&self) -> StoreResult<bool> {
        let now = self.now();
        {
            let mut last = self
                .inner
                .last_recovery
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| now - t < RECOVERY_EVERY_MS && now >= t) {
                return Ok(false);
            }
            *last = Some(now);
        }
        let recovered = self.inner.store.recover_expired(now).await?;
        if recovered > 0 {
            metrics::counter!(
                telemetry::RECIPIENT_STATUS,
                "status_code" => telemetry::code_label(codes::UNKNOWN)
            )
            .increment(recovered);
            tracing::warn!(
                recovered,
                "recipients left submitting by a stopped process are now 3400 Unknown"
            );
        }
        let lapsed = self
            .inner
            .store
            .lapse_pending(now - keywords::PENDING_LIFETIME_MS)
            .await?;
        if lapsed > 0 {
            tracing::info!(lapsed, "double opt-in requests lapsed");
        }
        // Transactional messages held by an Inactive definition for 72 hours, old events
        // (API.md §9).
        let expired = self.inner.store.transactional_housekeeping(now).await?;
        if expired > 0 {
            tracing::info!(expired, "held transactional messages expired (NotSent 138)");
        }
        Ok(recovered > 0 || lapsed > 0 || expired > 0)
    }

    /// Claims due sends and expands their audience.
    pub(crate) async fn schedule(&self) -> StoreResult<bool> {
        let cfg = &self.inner.config;
        let now = self.now();
        let sends = self
            .inner
            .store
            .claim_due_sends(&cfg.owner, now, now + cfg.expand_lease_ms, 4)
            .await?;
        let did = !sends.is_empty();
        for send in sends {
            let started = Instant::now();
            loop {
                if self.is_stopping() {
                    // The expansion lease is given back at stop; another process (or this one,
                    // restarted) resumes from the saved cursor.
                    return Ok(did);
                }
                let now = self.now();
                let outcome = self
                    .inner
                    .store
                    .expand_batch(
                        &send.token,
                        &cfg.owner,
                        cfg.expand_batch,
                        now,
                        now + cfg.expand_lease_ms,
                    )
                    .await?;
                match outcome {
                    Expansion::More => continue,
                    Expansion::Done { recipients } => {
                        metrics::histogram!(telemetry::EXPANSION_SECONDS).record(started.elapsed());
                        metrics::counter!(telemetry::EXPANDED_RECIPIENTS)
                            .increment(u64::try_from(recipients).unwrap_or(0));
                        tracing::info!(token = %send.token, recipients, "audience expanded");
                        self.inner.store.finish_if_done(&send.token, now).await?;
                        break;
                    }
                    Expansion::Failed { reason } => {
                        tracing::warn!(token = %send.token, %reason, "send failed");
                        break;
                    }
                    Expansion::Lost => break,
                }
            }
        }
        Ok(did)
    }
}
