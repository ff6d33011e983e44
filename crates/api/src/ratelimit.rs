//! Per-client rate limiting (API.md §2): a token bucket per key refilling at `rate` per second
//! with a burst of twice that; 0 disables it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::ApiError;

/// Above this many tracked keys, idle (full) buckets are forgotten.
const MAX_TRACKED: usize = 10_000;

pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate_per_sec),
            burst: f64::from(rate_per_sec) * 2.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket, or says how many seconds to wait.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > MAX_TRACKED && !buckets.contains_key(key) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - bucket.tokens) / self.rate).ceil().max(1.0) as u64;
            Err(ApiError::RateLimited {
                retry_after_secs: wait,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_is_twice_the_rate_then_429() {
        let limiter = RateLimiter::new(5);
        for _ in 0..10 {
            assert!(limiter.check("a").is_ok());
        }
        match limiter.check("a") {
            Err(ApiError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limiter.check("b").is_ok(), "buckets are per key");
    }

    #[test]
    fn zero_disables() {
        let limiter = RateLimiter::new(0);
        for _ in 0..10_000 {
            assert!(limiter.check("a").is_ok());
        }
    }
}
