//! Latency distributions: an HDR histogram in nanoseconds and the percentiles every
//! results file reports.

use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// Largest latency a histogram records exactly; larger values are clamped to it.
const LATENCY_NS_MAX: u64 = 60_000_000_000;

/// A histogram of nanoseconds from 1 ns to a minute, three significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_NS_MAX, 3).expect("valid histogram bounds")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencySummary {
    pub samples: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub p99_99: u64,
    pub max: u64,
}

impl LatencySummary {
    pub fn from_histogram(h: &Histogram<u64>) -> LatencySummary {
        LatencySummary {
            samples: h.len(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            p99_99: h.value_at_quantile(0.9999),
            max: h.max(),
        }
    }

    /// The results-file shape: percentiles in ns, keyed as the design names them.
    pub fn to_json(&self) -> Value {
        json!({
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "p99_9": self.p99_9,
            "p99_99": self.p99_99,
            "max": self.max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_percentiles() {
        let mut h = latency_histogram();
        for v in 1..=10_000u64 {
            h.record(v).unwrap();
        }
        let s = LatencySummary::from_histogram(&h);
        assert_eq!(s.samples, 10_000);
        assert!((4990..=5010).contains(&s.p50));
        assert!((9890..=9910).contains(&s.p99));
        assert!(s.max >= 9990);
    }
}
