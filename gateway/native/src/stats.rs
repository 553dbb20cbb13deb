//! Counters the gateway exports as Prometheus metrics, kept in native code so no
//! per-message work happens in Python. Python reads them when it is scraped.

use std::collections::BTreeMap;

/// Upper bounds, in nanoseconds, of the order round-trip latency histogram buckets:
/// from a client's order arriving to its engine events arriving.
pub const LATENCY_BOUNDS_NS: [u64; 14] = [
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    1_000_000_000,
];

#[derive(Default)]
pub struct Stats {
    pub messages_in: u64,
    pub messages_out: u64,
    pub engine_inputs: u64,
    pub engine_events: u64,
    /// Rejects sent to clients by reason code (engine and gateway reasons).
    pub rejects: BTreeMap<u8, u64>,
    /// Sessions ended by reason code.
    pub session_ends: BTreeMap<u8, u64>,
    /// Non-cumulative counts per bucket of `LATENCY_BOUNDS_NS`, then the overflow.
    pub latency_buckets: [u64; LATENCY_BOUNDS_NS.len() + 1],
    pub latency_sum_ns: u64,
    /// Sequence numbers the engine applied that this gateway never saw (a link outage).
    pub engine_seq_gaps: u64,
}

impl Stats {
    pub fn reject(&mut self, reason: u8) {
        *self.rejects.entry(reason).or_default() += 1;
    }

    pub fn session_end(&mut self, reason: u8) {
        *self.session_ends.entry(reason).or_default() += 1;
    }

    pub fn latency(&mut self, ns: u64) {
        let bucket = LATENCY_BOUNDS_NS.partition_point(|&b| b < ns);
        self.latency_buckets[bucket] += 1;
        self.latency_sum_ns = self.latency_sum_ns.saturating_add(ns);
    }
}
