//! `cargo run --release -p ringex-bench --bin bench-bookfeed`: what building the market
//! data feed (L3 book events and top-10 level updates) costs per command, on the core
//! benchmark's workload, against the core alone in the same run. Writes
//! `bench/results/bookfeed.json`.
//!
//! Usage: `bench-bookfeed [--quick] [--out PATH]`. Runs alternate between the two modes
//! on fresh engines fed the same stream, so drift on the machine touches both alike.

use std::path::PathBuf;
use std::time::Instant;

use ringex_bench::results::{BenchmarkResult, Measurements};
use ringex_bench::workload::{Workload, WorkloadConfig};
use ringex_core::market_data::{BookEvent, FeedBuilder, LevelBook, LevelUpdate};
use ringex_core::{Command, Engine, EngineConfig, Event};
use serde_json::json;

/// Levels per side the level feed reports.
const DEPTH: usize = 10;

/// What one timed pass over the stream did.
struct Pass {
    elapsed_ns: u64,
    book_events: u64,
    level_updates: u64,
    state_hash: u64,
}

/// Applies the preamble untimed, then times the measured commands, with or without the
/// feed behind the engine.
fn pass(config: EngineConfig, preamble: &[Command], measured: &[Command], feed: bool) -> Pass {
    let mut engine = Engine::new(config).expect("valid engine config");
    let mut builder = FeedBuilder::new(&config).expect("valid engine config");
    let mut levels = LevelBook::new(DEPTH, &config).expect("valid depth");
    let mut events: Vec<Event> = Vec::with_capacity(4096);
    let mut book_events: Vec<BookEvent> = Vec::with_capacity(4096);
    let mut updates: Vec<LevelUpdate> = Vec::with_capacity(4096);
    let mut seq = 0u64;
    // Returns the book events and level updates the command made.
    let mut step = |cmd: &Command, feed: bool| -> (u64, u64) {
        seq += 1;
        events.clear();
        engine.apply(seq, seq, cmd, &mut events);
        if !feed {
            return (0, 0);
        }
        book_events.clear();
        updates.clear();
        builder
            .apply(seq, seq, &events, &mut book_events)
            .expect("the engine's own events");
        for e in &book_events {
            levels
                .apply(e, &mut updates)
                .expect("the builder's own events");
        }
        (book_events.len() as u64, updates.len() as u64)
    };
    for cmd in preamble {
        step(cmd, true);
    }
    let (mut book_count, mut level_count) = (0u64, 0u64);
    let start = Instant::now();
    for cmd in measured {
        let (book, level) = step(cmd, feed);
        book_count += book;
        level_count += level;
    }
    let elapsed_ns = start.elapsed().as_nanos() as u64;
    Pass {
        elapsed_ns,
        book_events: book_count,
        level_updates: level_count,
        state_hash: engine.state_hash(),
    }
}

fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

fn main() {
    let mut quick = false;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--out" => out = Some(PathBuf::from(args.next().expect("--out PATH"))),
            other => {
                eprintln!("usage: bench-bookfeed [--quick] [--out PATH]; unknown {other}");
                std::process::exit(2);
            }
        }
    }
    let (commands, runs) = if quick { (200_000, 3) } else { (2_000_000, 5) };
    let config = EngineConfig::default();
    let mut workload = Workload::new(WorkloadConfig::default(), config);
    let preamble = workload.preamble();
    let measured = workload.next_commands(commands);

    let (mut core_ns, mut feed_ns) = (Vec::new(), Vec::new());
    let mut feed_pass = None;
    for run in 0..runs {
        let core = pass(config, &preamble, &measured, false);
        let feed = pass(config, &preamble, &measured, true);
        assert_eq!(
            core.state_hash, feed.state_hash,
            "the feed changed the engine"
        );
        eprintln!(
            "run {}: core {} ms, core + feed {} ms",
            run + 1,
            core.elapsed_ns / 1_000_000,
            feed.elapsed_ns / 1_000_000
        );
        core_ns.push(core.elapsed_ns);
        feed_ns.push(feed.elapsed_ns);
        feed_pass = Some(feed);
    }
    let feed_pass = feed_pass.expect("at least one run");
    let n = measured.len() as u64;
    let (core_ns, feed_ns) = (median(&mut core_ns), median(&mut feed_ns));
    let per_s = |ns: u64| n * 1_000_000_000 / ns.max(1);

    let mut result = BenchmarkResult::new(
        "bookfeed",
        "cargo run --release -p ringex-bench --bin bench-bookfeed",
    );
    result.measured.throughput_per_s = per_s(feed_ns);
    let mode = |ns| Measurements {
        throughput_per_s: per_s(ns),
        latency_ns: Vec::new(),
    };
    result.modes.push(("core".into(), mode(core_ns)));
    result.modes.push(("core_with_feed".into(), mode(feed_ns)));
    let extra = &mut result.extra;
    extra.insert("commands_per_run".into(), json!(n));
    extra.insert("runs".into(), json!(runs));
    extra.insert("level_depth".into(), json!(DEPTH));
    extra.insert(
        "core_ns_per_command".into(),
        json!(core_ns as f64 / n as f64),
    );
    extra.insert(
        "core_with_feed_ns_per_command".into(),
        json!(feed_ns as f64 / n as f64),
    );
    extra.insert(
        "feed_ns_per_command".into(),
        json!(feed_ns.saturating_sub(core_ns) as f64 / n as f64),
    );
    extra.insert(
        "book_events_per_command".into(),
        json!(feed_pass.book_events as f64 / n as f64),
    );
    extra.insert(
        "level_updates_per_command".into(),
        json!(feed_pass.level_updates as f64 / n as f64),
    );
    print!("{}", result.table());
    let out = out.or_else(|| {
        (!quick).then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results/bookfeed.json"))
    });
    if let Some(path) = out {
        result.write(&path).expect("write results file");
        println!("wrote {}", path.display());
    }
}
