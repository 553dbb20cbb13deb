//! A token bucket per session: `rate` messages a second on average, bursts up to `burst`.
//! Integer arithmetic in nano-tokens, so it is exact and cannot drift.

const ONE: u64 = 1_000_000_000;

pub struct TokenBucket {
    rate_per_s: u64,
    capacity: u64,
    tokens: u64,
    last_ns: u64,
}

impl TokenBucket {
    /// A full bucket. A rate of 0 means unlimited.
    pub fn new(rate_per_s: u64, burst: u64, now_ns: u64) -> TokenBucket {
        let capacity = burst.max(1).saturating_mul(ONE);
        TokenBucket {
            rate_per_s,
            capacity,
            tokens: capacity,
            last_ns: now_ns,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now_ns: u64) -> bool {
        if self.rate_per_s == 0 {
            return true;
        }
        let elapsed = now_ns.saturating_sub(self.last_ns);
        self.last_ns = self.last_ns.max(now_ns);
        let refill = elapsed.saturating_mul(self.rate_per_s);
        self.tokens = self.tokens.saturating_add(refill).min(self.capacity);
        if self.tokens >= ONE {
            self.tokens -= ONE;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_the_rate() {
        let mut b = TokenBucket::new(10, 3, 0);
        assert!(b.take(0) && b.take(0) && b.take(0));
        assert!(!b.take(0));
        assert!(!b.take(50_000_000));
        assert!(b.take(100_000_000));
        assert!(!b.take(100_000_000));
        let mut unlimited = TokenBucket::new(0, 1, 0);
        assert!((0..1000).all(|_| unlimited.take(0)));
    }
}
