//! The figures of one engine configuration measured over a link: the median of
//! several closed-loop throughput runs after a warm-up, then open-loop latency at each
//! offered rate.

use crate::engine_link::EngineLink;
use crate::latency::{latency_histogram, LatencySummary};
use crate::results::Measurements;
use crate::workload::Workload;

/// How much a measurement sends.
pub struct LinkPlan {
    /// Commands per closed-loop run (the warm-up is one more run).
    pub commands_per_run: usize,
    pub throughput_runs: usize,
    /// Length of each open-loop run at its offered rate.
    pub latency_run_ns: u64,
    /// Bound on the commands of one open-loop run.
    pub latency_commands_max: usize,
}

/// Warms up, then measures throughput and latency at each of `rates_per_s`; the
/// workload's preamble must have been sent already.
pub fn measure_link(
    link: &mut EngineLink,
    workload: &mut Workload,
    plan: &LinkPlan,
    rates_per_s: &[u64],
) -> Measurements {
    eprintln!("  warm-up: {} commands", plan.commands_per_run);
    link.closed_loop(&workload.next_commands(plan.commands_per_run));
    let mut rates = Vec::new();
    for run in 0..plan.throughput_runs {
        let commands = workload.next_commands(plan.commands_per_run);
        let elapsed = link.closed_loop(&commands);
        let rate = (commands.len() as f64 / elapsed.as_secs_f64()) as u64;
        eprintln!("  throughput run {}: {rate} commands/s", run + 1);
        rates.push(rate);
    }
    let mut measured = Measurements {
        throughput_per_s: median(&rates),
        latency_ns: Vec::new(),
    };
    for &rate in rates_per_s {
        let n = (u128::from(rate) * u128::from(plan.latency_run_ns) / 1_000_000_000) as usize;
        let commands = workload.next_commands(n.min(plan.latency_commands_max));
        let mut histogram = latency_histogram();
        link.open_loop(&commands, rate, &mut histogram);
        let summary = LatencySummary::from_histogram(&histogram);
        eprintln!(
            "  latency at {rate}/s: p50 {} ns, p99 {} ns, max {} ns",
            summary.p50, summary.p99, summary.max
        );
        measured.latency_ns.push((rate.to_string(), summary));
    }
    measured
}

/// The middle value (the upper one of an even count).
pub fn median(values: &[u64]) -> u64 {
    assert!(!values.is_empty(), "a median of nothing");
    let mut v = values.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}
