//! Bounded retries with exponential backoff and jitter, for statements that
//! gave up waiting for a lock. Jitter keeps several runners (or a runner and
//! an application retry loop) from colliding again in lock step.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { retries: 10, base: Duration::from_millis(200), max: Duration::from_secs(10) }
    }
}

impl RetryPolicy {
    /// Delay before retry number `retry` (1-based): base * 2^(retry-1), capped,
    /// then scaled by a random factor in [0.5, 1.0).
    pub fn delay(&self, retry: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let capped = exp.min(self.max);
        capped.mul_f64(0.5 + 0.5 * random_unit())
    }
}

/// A number in [0, 1) from a small xorshift generator seeded by the clock and
/// pid; good enough for jitter, not for anything secret.
fn random_unit() -> f64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
            (nanos ^ ((std::process::id() as u64) << 32)) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_within_bounds() {
        let p = RetryPolicy { retries: 10, base: Duration::from_millis(100), max: Duration::from_secs(2) };
        for retry in 1..=10 {
            let full = Duration::from_millis(100 * (1 << (retry - 1))).min(Duration::from_secs(2));
            for _ in 0..50 {
                let d = p.delay(retry);
                assert!(d >= full / 2 && d < full, "retry {retry}: {d:?} not in [{:?}, {full:?})", full / 2);
            }
        }
    }
}
