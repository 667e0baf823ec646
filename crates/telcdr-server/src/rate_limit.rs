//! Per-(account, action) request rate limit: a token bucket that holds one
//! second's worth of requests and refills continuously.
//!
//! It is consulted only after the signature verified, so the account is
//! proven and nobody can spend another tenant's quota. Limits are per
//! process: N `telcdr serve` processes behind a balancer allow N times the
//! rate (documented in the README).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub(crate) struct RateLimiter {
    per_second: u32,
    buckets: Mutex<HashMap<(i64, String), Bucket>>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub(crate) fn new(per_second: u32) -> RateLimiter {
        RateLimiter {
            per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn per_second(&self) -> u32 {
        self.per_second
    }

    /// Takes one token for (account, action); false when the bucket is empty.
    pub(crate) fn try_acquire(&self, account_id: i64, action: &str) -> bool {
        self.try_acquire_at(account_id, action, Instant::now())
    }

    fn try_acquire_at(&self, account_id: i64, action: &str, now: Instant) -> bool {
        if self.per_second == 0 {
            return true;
        }
        let capacity = f64::from(self.per_second);
        // A poisoned lock only means another request panicked mid-update; the
        // counts are still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets
            .entry((account_id, action.to_owned()))
            .or_insert(Bucket {
                tokens: capacity,
                last: now,
            });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * capacity).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_of_capacity_then_refusal_then_refill() {
        let limiter = RateLimiter::new(20);
        let t0 = Instant::now();
        for i in 0..20 {
            assert!(
                limiter.try_acquire_at(1, "DescribeTelCdr", t0),
                "request {i}"
            );
        }
        assert!(!limiter.try_acquire_at(1, "DescribeTelCdr", t0));
        // Another action and another account have their own buckets.
        assert!(limiter.try_acquire_at(1, "DescribeTelSession", t0));
        assert!(limiter.try_acquire_at(2, "DescribeTelCdr", t0));
        // 100 ms refills two tokens at 20/s.
        let t1 = t0 + Duration::from_millis(100);
        assert!(limiter.try_acquire_at(1, "DescribeTelCdr", t1));
        assert!(limiter.try_acquire_at(1, "DescribeTelCdr", t1));
        assert!(!limiter.try_acquire_at(1, "DescribeTelCdr", t1));
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::new(0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| limiter.try_acquire_at(1, "A", t0)));
    }
}
