//! Per-carrier rate limiting in segments per second (API.md §8 `rate_limit`).

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// A token bucket of segments: `rate` per second with one second of burst. 0 = unlimited.
pub struct SegmentLimiter {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl SegmentLimiter {
    pub fn new(rate_per_sec: u32) -> SegmentLimiter {
        SegmentLimiter {
            rate: f64::from(rate_per_sec),
            state: Mutex::new((f64::from(rate_per_sec), Instant::now())),
        }
    }

    /// Waits until `segments` may go. A request larger than the burst waits for its share.
    pub async fn acquire(&self, segments: u64) {
        if self.rate <= 0.0 || segments == 0 {
            return;
        }
        let wait = {
            let mut state = self.state.lock().await;
            let now = Instant::now();
            let (tokens, at) = *state;
            let tokens = (tokens + now.duration_since(at).as_secs_f64() * self.rate).min(self.rate);
            let left = tokens - segments as f64;
            *state = (left, now);
            if left >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-left / self.rate)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Gives back segments acquired but not used (a reservation larger than the batch).
    pub async fn refund(&self, segments: u64) {
        if self.rate <= 0.0 || segments == 0 {
            return;
        }
        let mut state = self.state.lock().await;
        state.0 = (state.0 + segments as f64).min(self.rate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_for_segments_beyond_the_burst() {
        let l = SegmentLimiter::new(100);
        let start = tokio::time::Instant::now();
        l.acquire(100).await;
        assert!(start.elapsed() < Duration::from_millis(5));
        l.acquire(50).await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(490) && waited <= Duration::from_millis(520),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refunded_segments_can_be_taken_again_at_once() {
        let l = SegmentLimiter::new(100);
        let start = tokio::time::Instant::now();
        l.acquire(100).await;
        l.refund(60).await;
        l.acquire(60).await;
        assert!(start.elapsed() < Duration::from_millis(5));
        // Never more than one second of burst.
        l.refund(1_000).await;
        l.acquire(150).await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(490) && waited <= Duration::from_millis(520),
            "{waited:?}"
        );
    }

    #[tokio::test]
    async fn zero_is_unlimited() {
        let l = SegmentLimiter::new(0);
        l.acquire(1_000_000).await;
    }
}
