//! `make bench-core`: throughput, open-loop latency and memory of the matching core on
//! the exchange-core style workload, written to `bench/results/core.json`.
//!
//! Usage: `bench-core [--quick] [--seed N] [--out PATH]`. `--quick` is a smoke run of
//! a few seconds that prints its table and writes a file only when `--out` is given.

mod core_driver;

use std::path::PathBuf;
use std::time::Instant;

use ringex_bench::cpu_time::thread_cpu_ns;
use ringex_bench::latency::{latency_histogram, LatencySummary};
use ringex_bench::memory::rss_bytes;
use ringex_bench::open_loop::idle_latency;
use ringex_bench::results::BenchmarkResult;
use ringex_bench::workload::{Workload, WorkloadConfig};
use ringex_bench::workload_stats::WorkloadStats;
use ringex_core::EngineConfig;
use serde_json::json;

use core_driver::CoreDriver;

/// Offered rates for the open-loop latency runs, commands per second.
const OFFERED_RATES_PER_S: [u64; 4] = [125_000, 1_000_000, 3_000_000, 5_000_000];

struct Plan {
    commands_per_run: usize,
    throughput_runs: usize,
    latency_run_ns: u64,
    latency_commands_max: usize,
    memory_resting_orders: u32,
}

const FULL: Plan = Plan {
    commands_per_run: 2_000_000,
    throughput_runs: 7,
    latency_run_ns: 2_000_000_000,
    latency_commands_max: 2_000_000,
    memory_resting_orders: 1_000_000,
};

const QUICK: Plan = Plan {
    commands_per_run: 200_000,
    throughput_runs: 5,
    latency_run_ns: 200_000_000,
    latency_commands_max: 200_000,
    memory_resting_orders: 100_000,
};

struct Args {
    quick: bool,
    seed: u64,
    out: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut args = Args {
        quick: false,
        seed: WorkloadConfig::default().seed,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--seed" => args.seed = it.next().and_then(|s| s.parse().ok()).expect("--seed N"),
            "--out" => args.out = Some(it.next().expect("--out PATH").into()),
            other => {
                eprintln!("usage: bench-core [--quick] [--seed N] [--out PATH]; unknown {other}");
                std::process::exit(2);
            }
        }
    }
    args
}

fn main() {
    let args = parse_args();
    let plan = if args.quick { &QUICK } else { &FULL };
    let workload_config = WorkloadConfig {
        seed: args.seed,
        ..WorkloadConfig::default()
    };
    let engine_config = EngineConfig::default();
    let mut result = BenchmarkResult::new("core", "make bench-core");

    let mut workload = Workload::new(workload_config, engine_config);
    let mut driver = CoreDriver::new(engine_config);
    // As a daemon does at start-up: no first-touch page faults inside the measurements.
    driver.engine.prefault();
    driver.run_closed_loop(&workload.preamble());
    workload.take_stats();

    eprintln!("warm-up: {} commands", plan.commands_per_run);
    driver.run_closed_loop(&workload.next_commands(plan.commands_per_run));
    let mut measured_stats = workload.take_stats();

    let rates = measure_throughput(&mut driver, &mut workload, plan, &mut result);
    measured_stats.merge(&workload.take_stats());
    measure_latency(&mut driver, &mut workload, plan, &mut result);
    let mut service = latency_histogram();
    driver.run_service_times(&workload.next_commands(plan.commands_per_run), &mut service);
    result.extra.insert(
        "service_time_ns".into(),
        LatencySummary::from_histogram(&service).to_json(),
    );
    measured_stats.merge(&workload.take_stats());
    let mut idle = latency_histogram();
    idle_latency(1_000_000, plan.latency_commands_max as u64, &mut idle);
    let idle = LatencySummary::from_histogram(&idle);
    result
        .extra
        .insert("idle_loop_latency_ns_at_1000000".into(), idle.to_json());
    assert_eq!(
        driver.engine.state_hash(),
        workload.engine().state_hash(),
        "the benchmarked engine diverged from the generator's replay"
    );
    drop((driver, workload));

    let memory = measure_memory(workload_config, engine_config, plan.memory_resting_orders);
    record_extras(&mut result, plan, &rates, &measured_stats, &memory);
    record_setup(&mut result, &workload_config, &engine_config);
    print!("{}", result.table());

    let out = args.out.or_else(|| {
        (!args.quick).then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results/core.json"))
    });
    if let Some(path) = out {
        result.write(&path).expect("write results file");
        println!("wrote {}", path.display());
    }
}

/// Closed-loop runs of `commands_per_run` each: the median goes in the headline, the
/// median per CPU second in extra. Returns every run's commands/s.
fn measure_throughput(
    driver: &mut CoreDriver,
    workload: &mut Workload,
    plan: &Plan,
    result: &mut BenchmarkResult,
) -> Vec<u64> {
    let mut rates = Vec::new();
    let mut cpu_rates = Vec::new();
    for run in 0..plan.throughput_runs {
        let commands = workload.next_commands(plan.commands_per_run);
        let cpu_before_ns = thread_cpu_ns().unwrap_or(0);
        let elapsed = driver.run_closed_loop(&commands);
        let cpu_s = thread_cpu_ns().unwrap_or(0).saturating_sub(cpu_before_ns) as f64 / 1e9;
        let rate = (commands.len() as f64 / elapsed.as_secs_f64()) as u64;
        let cpu_rate = (commands.len() as f64 / cpu_s.max(1e-9)) as u64;
        eprintln!(
            "throughput run {}: {rate} commands/s, {cpu_rate} per CPU second",
            run + 1
        );
        rates.push(rate);
        cpu_rates.push(cpu_rate);
    }
    result.measured.throughput_per_s = median(&rates);
    result
        .extra
        .insert("throughput_per_cpu_s".into(), json!(median(&cpu_rates)));
    rates
}

/// One open-loop run per offered rate, each about `latency_run_ns` long.
fn measure_latency(
    driver: &mut CoreDriver,
    workload: &mut Workload,
    plan: &Plan,
    result: &mut BenchmarkResult,
) {
    for rate in OFFERED_RATES_PER_S {
        let n = (u128::from(rate) * u128::from(plan.latency_run_ns) / 1_000_000_000) as usize;
        let commands = workload.next_commands(n.min(plan.latency_commands_max));
        let mut histogram = latency_histogram();
        driver.run_open_loop(&commands, rate, &mut histogram);
        let summary = LatencySummary::from_histogram(&histogram);
        eprintln!("latency at {rate}/s: p99 {} ns", summary.p99);
        result.measured.latency_ns.push((rate.to_string(), summary));
    }
}

struct MemoryReading {
    resting_orders: u32,
    rss_bytes: u64,
    rss_growth_bytes: u64,
}

/// RSS after an engine is filled with `resting_orders` resting orders, and how much of
/// it the engine and its orders added.
fn measure_memory(
    workload_config: WorkloadConfig,
    engine_config: EngineConfig,
    resting_orders: u32,
) -> MemoryReading {
    let commands = {
        let mut filler = Workload::new(
            WorkloadConfig {
                target_resting_orders: resting_orders,
                ..workload_config
            },
            engine_config,
        );
        filler.preamble()
    };
    let before = rss_bytes().unwrap_or(0);
    let mut driver = CoreDriver::new(engine_config);
    let started = Instant::now();
    driver.run_closed_loop(&commands);
    eprintln!(
        "memory: filled {} resting orders in {:?}",
        driver.engine.resting_orders(),
        started.elapsed()
    );
    let after = rss_bytes().unwrap_or(0);
    MemoryReading {
        resting_orders: driver.engine.resting_orders(),
        rss_bytes: after,
        rss_growth_bytes: after.saturating_sub(before),
    }
}

fn record_extras(
    result: &mut BenchmarkResult,
    plan: &Plan,
    rates: &[u64],
    stats: &WorkloadStats,
    memory: &MemoryReading,
) {
    let extra = &mut result.extra;
    extra.insert("throughput_runs_per_s".into(), json!(rates));
    extra.insert("commands_per_run".into(), json!(plan.commands_per_run));
    extra.insert("trade_ratio".into(), json!(stats.to_json()["trade_ratio"]));
    extra.insert(
        "reject_ratio".into(),
        json!(stats.to_json()["reject_ratio"]),
    );
    extra.insert("workload".into(), stats.to_json());
    extra.insert(
        "resting_orders_measured".into(),
        json!(memory.resting_orders),
    );
    extra.insert("rss_bytes".into(), json!(memory.rss_bytes));
    extra.insert(
        "rss_bytes_per_resting_order".into(),
        json!(memory.rss_growth_bytes / u64::from(memory.resting_orders.max(1))),
    );
}

/// The workload and engine settings, so a figure can be reproduced and compared.
fn record_setup(result: &mut BenchmarkResult, workload: &WorkloadConfig, engine: &EngineConfig) {
    result.extra.insert(
        "workload_config".into(),
        json!({
            "seed": workload.seed,
            "accounts": workload.accounts,
            "target_resting_orders": workload.target_resting_orders,
            "start_price": workload.start_price,
            "price_deviation": workload.price_deviation,
            "oldest_window": workload.oldest_window,
            "move_pull_percent": workload.move_pull_percent,
            "gtc_percent": workload.mix.gtc_percent,
            "ioc_percent": workload.mix.ioc_percent,
            "cancel_percent": workload.mix.cancel_percent,
        }),
    );
    result.extra.insert(
        "engine_config".into(),
        json!({
            "max_orders": engine.max_orders,
            "max_instruments": engine.max_instruments,
            "max_accounts": engine.max_accounts,
            "max_client_ids_per_day": engine.max_client_ids_per_day,
            "levels_per_side": engine.levels_per_side,
            "prefaulted": true,
        }),
    );
}

fn median(values: &[u64]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}
