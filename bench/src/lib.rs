//! Shared pieces of the ringex benchmarks: a seeded workload generator, an open-loop
//! schedule, latency summaries from HDR histograms, memory readings and the results
//! file every benchmark writes (see the benchmark results format in the design).

pub mod age_index;
pub mod cpu_time;
pub mod daemon_harness;
pub mod engine_link;
pub mod engine_processes;
pub mod latency;
pub mod link_measurement;
pub mod memory;
pub mod open_loop;
pub mod results;
pub mod rng;
pub mod run_info;
pub mod workload;
pub mod workload_stats;
