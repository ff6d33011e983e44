//! Token buckets keyed by who is asking, each map bounded (least recently used evicted):
//! - the per-client request limit (API.md §2, `api.rate_limit`): `/sms/v1` calls and successful
//!   `/v2/token` requests take from the client's bucket;
//! - failed `/v2/token` requests (API.md §2, `api.token_failure_rate`): a bucket of their own
//!   per `client_id`, never the client's request bucket;
//! - wrong admin tokens per peer address (API.md §8 "Protection"): 10, then one more every 6 s.

use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use hashlink::linked_hash_map::Entry;
use hashlink::LruCache;

use crate::ApiError;

/// At most this many request buckets (API clients) are tracked.
const MAX_REQUEST_BUCKETS: usize = 100_000;
/// At most this many failure buckets (`client_id`s that failed) are tracked (API.md §2).
pub const MAX_FAILURE_BUCKETS: usize = 100_000;
/// At most this many peer addresses with wrong admin tokens are tracked.
const MAX_ADMIN_BUCKETS: usize = 100_000;

/// Wrong admin tokens allowed at once per peer address (API.md §8).
pub const ADMIN_FAILURE_BURST: f64 = 10.0;
/// ... then one more every this many seconds.
pub const ADMIN_FAILURE_INTERVAL_SECS: f64 = 6.0;

/// Token buckets refilling at `rate` per second up to `burst`, one per key, in a map of bounded
/// size: past `capacity` keys the least recently used bucket is forgotten (a forgotten bucket
/// starts full again, which only matters for a key unused for longer than all the others).
struct Buckets<K: Hash + Eq> {
    rate: f64,
    burst: f64,
    map: Mutex<LruCache<K, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq> Buckets<K> {
    fn new(rate: f64, burst: f64, capacity: usize) -> Buckets<K> {
        Buckets {
            rate,
            burst,
            map: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// Runs `f` on `key`'s bucket, refilled to `now` (a new key gets a full bucket).
    fn with<T>(&self, key: K, now: Instant, f: impl FnOnce(&mut Bucket) -> T) -> T {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= map.capacity() && !map.contains_key(&key) {
            map.remove_lru();
        }
        let bucket = match map.entry(key) {
            Entry::Occupied(mut known) => {
                known.to_back();
                let bucket = known.into_mut();
                let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
                bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
                bucket.at = now;
                bucket
            }
            Entry::Vacant(new) => new.insert(Bucket {
                tokens: self.burst,
                at: now,
            }),
        };
        f(bucket)
    }

    /// Takes one token from `key`'s bucket, or says how many whole seconds until one is there.
    fn take(&self, key: K) -> Result<(), u64> {
        let rate = self.rate;
        self.with(key, Instant::now(), |bucket| {
            if bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
                Ok(())
            } else {
                Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
            }
        })
    }

    /// Gives back a token taken with `take` (never above the burst).
    fn give_back(&self, key: K) {
        let burst = self.burst;
        self.with(key, Instant::now(), |bucket| {
            bucket.tokens = (bucket.tokens + 1.0).min(burst);
        });
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// The request limit per API client (API.md §2): `rate` per second with a burst of twice that;
/// 0 disables it.
pub struct RateLimiter {
    buckets: Option<Buckets<String>>,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32) -> RateLimiter {
        let rate = f64::from(rate_per_sec);
        RateLimiter {
            buckets: (rate_per_sec > 0)
                .then(|| Buckets::new(rate, rate * 2.0, MAX_REQUEST_BUCKETS)),
        }
    }

    /// Takes one request from `key`'s bucket, or answers 429 with how many seconds to wait.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        match &self.buckets {
            None => Ok(()),
            Some(b) => b
                .take(key.to_string())
                .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs }),
        }
    }
}

/// Failed `/v2/token` requests per `client_id` (API.md §2): `rate` per second with a burst of
/// twice that (default 10 and 20); 0 disables it. A `client_id` is kept as a 64-bit keyed hash
/// of its lowercased form, so a long made-up id costs no more memory than a short one; the key
/// is random per process, so nobody can aim a collision (and one would only share a failure
/// bucket: a correct secret is never refused by it).
pub struct FailureLimiter {
    buckets: Option<Buckets<u64>>,
    hasher: RandomState,
}

impl FailureLimiter {
    pub fn new(rate_per_sec: u32) -> FailureLimiter {
        FailureLimiter::with_capacity(rate_per_sec, MAX_FAILURE_BUCKETS)
    }

    fn with_capacity(rate_per_sec: u32, capacity: usize) -> FailureLimiter {
        let rate = f64::from(rate_per_sec);
        FailureLimiter {
            buckets: (rate_per_sec > 0).then(|| Buckets::new(rate, rate * 2.0, capacity)),
            hasher: RandomState::new(),
        }
    }

    /// Counts one failure for `client_id`: Ok while its bucket had room, else 429 (API.md §2).
    pub fn failed(&self, client_id: &str) -> Result<(), ApiError> {
        let Some(buckets) = &self.buckets else {
            return Ok(());
        };
        let key = self.hasher.hash_one(client_id.to_ascii_lowercase());
        buckets
            .take(key)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
    }
}

/// Wrong admin tokens per peer address (API.md §8 "Protection"): 10, then one more every 6 s.
/// An IPv6 peer is counted by its /64 (one host usually holds a whole /64); an IPv4 address
/// mapped into IPv6 counts as the IPv4 address. Requests whose peer is unknown share one bucket.
pub struct AdminThrottle {
    buckets: Buckets<Option<IpAddr>>,
}

impl Default for AdminThrottle {
    fn default() -> AdminThrottle {
        AdminThrottle {
            buckets: Buckets::new(
                1.0 / ADMIN_FAILURE_INTERVAL_SECS,
                ADMIN_FAILURE_BURST,
                MAX_ADMIN_BUCKETS,
            ),
        }
    }
}

/// The key an address is counted under.
fn admin_key(peer: Option<IpAddr>) -> Option<IpAddr> {
    peer.map(|ip| match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    })
}

impl AdminThrottle {
    /// Checks an admin token presented by `peer`: while the address is over the limit every
    /// attempt, a correct token included, is refused with how many whole seconds to wait;
    /// otherwise `correct` decides, and a wrong token counts against the address. One token of
    /// the bucket is held while `correct` runs, so concurrent guesses never exceed the limit.
    pub fn attempt(&self, peer: Option<IpAddr>, correct: impl FnOnce() -> bool) -> Attempt {
        let key = admin_key(peer);
        if let Err(retry_after_secs) = self.buckets.take(key) {
            return Attempt::Throttled { retry_after_secs };
        }
        if correct() {
            self.buckets.give_back(key);
            Attempt::Correct
        } else {
            Attempt::Wrong
        }
    }

    /// Whether `peer` is over the limit now, and for how many whole seconds.
    pub fn throttled(&self, peer: Option<IpAddr>) -> Option<u64> {
        match self.attempt(peer, || true) {
            Attempt::Throttled { retry_after_secs } => Some(retry_after_secs),
            Attempt::Correct | Attempt::Wrong => None,
        }
    }
}

/// What [`AdminThrottle::attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Correct,
    Wrong,
    Throttled { retry_after_secs: u64 },
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
        let failures = FailureLimiter::new(0);
        for _ in 0..10_000 {
            assert!(failures.failed("a").is_ok());
        }
    }

    #[test]
    fn failure_buckets_are_per_client_id_ignoring_case() {
        let failures = FailureLimiter::new(10);
        for _ in 0..20 {
            assert!(failures.failed("Client-A").is_ok());
        }
        assert!(matches!(
            failures.failed("client-a"),
            Err(ApiError::RateLimited { .. })
        ));
        assert!(failures.failed("client-b").is_ok());
    }

    #[test]
    fn failure_buckets_are_bounded_and_the_least_recently_used_goes_first() {
        let failures = FailureLimiter::with_capacity(1, 3);
        let buckets = failures.buckets.as_ref().expect("enabled");
        for _ in 0..2 {
            assert!(failures.failed("old").is_ok());
        }
        assert!(failures.failed("old").is_err(), "burst of 2 spent");
        for id in ["a", "b", "c", "d", "e"] {
            assert!(failures.failed(id).is_ok());
            assert!(buckets.len() <= 3, "never more than the capacity");
        }
        assert!(
            failures.failed("old").is_ok(),
            "the evicted bucket starts full again"
        );
    }

    #[test]
    fn ten_wrong_admin_tokens_then_every_attempt_waits() {
        let throttle = AdminThrottle::default();
        let peer = Some("192.0.2.1".parse().expect("ip"));
        for _ in 0..10 {
            assert_eq!(throttle.attempt(peer, || false), Attempt::Wrong);
        }
        match throttle.attempt(peer, || true) {
            Attempt::Throttled { retry_after_secs } => {
                assert!((1..=6).contains(&retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("a correct token is throttled too, got {other:?}"),
        }
        let other = Some("192.0.2.2".parse().expect("ip"));
        assert_eq!(throttle.attempt(other, || true), Attempt::Correct);
    }

    #[test]
    fn correct_admin_tokens_never_count() {
        let throttle = AdminThrottle::default();
        for _ in 0..100 {
            assert_eq!(throttle.attempt(None, || true), Attempt::Correct);
        }
        assert_eq!(throttle.throttled(None), None);
    }

    #[test]
    fn an_ipv6_peer_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("ip");
        assert_eq!(admin_key(Some(a)), admin_key(Some(b)));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        let v4: IpAddr = "192.0.2.1".parse().expect("ip");
        assert_eq!(admin_key(Some(mapped)), Some(v4));
    }
}
