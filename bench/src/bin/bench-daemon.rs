//! The daemon benchmark: the real engine daemon, the lone Raft node it is by default (in
//! this process, on its own threads), driven over a loopback TCP link with the Tier A
//! workload, as a gateway would.
//!
//! Measured from link-in to event-out: a command counts as done when the last events
//! frame of its input comes back on the link, which happens only once the input is
//! durable under the journal policy. For each policy (`fsync`, `none`):
//! - throughput: the median of several closed-loop runs (one sender streaming frames,
//!   one reader counting acknowledgements);
//! - latency: open loop at fixed offered rates, from each command's planned send time;
//! - the journal's group-commit batch sizes seen meanwhile.
//!
//! A third mode repeats `fsync` without periodic snapshots, to show what their cuts
//! (encoded on the apply path) add to the latency tails.
//!
//! Recovery: a Raft log of ten million commands is written, then the replay rate is
//! measured and the daemon restarted without a snapshot, then with one taken at the end.
//!
//! `--quick` runs a small plan and writes nothing unless `--out PATH` is given.

use std::path::{Path, PathBuf};

use ringex_bench::daemon_harness::{
    daemon_config, measure_replay_rate, take_snapshot, write_long_journal, BenchDaemon,
};
use ringex_bench::link_measurement::{measure_link, LinkPlan};
use ringex_bench::results::{BenchmarkResult, Measurements};
use ringex_bench::workload::{Workload, WorkloadConfig};
use ringex_daemon::config::{Config, Durability, LogConfig, LogFormat};
use ringex_daemon::progress::CommitStats;
use serde_json::{json, Value};

/// Offered rates for the open-loop latency runs, commands per second.
const OFFERED_RATES_PER_S: [u64; 3] = [100_000, 500_000, 1_000_000];

struct Plan {
    link: LinkPlan,
    recovery_commands: usize,
}

const FULL: Plan = Plan {
    link: LinkPlan {
        commands_per_run: 1_000_000,
        throughput_runs: 5,
        latency_run_ns: 2_000_000_000,
        latency_commands_max: 2_000_000,
    },
    recovery_commands: 10_000_000,
};

const QUICK: Plan = Plan {
    link: LinkPlan {
        commands_per_run: 100_000,
        throughput_runs: 5,
        latency_run_ns: 200_000_000,
        latency_commands_max: 200_000,
    },
    recovery_commands: 300_000,
};

struct Args {
    quick: bool,
    out: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut args = Args {
        quick: false,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--out" => args.out = Some(it.next().expect("--out PATH").into()),
            other => {
                eprintln!("usage: bench-daemon [--quick] [--out PATH]; unknown {other}");
                std::process::exit(2);
            }
        }
    }
    args
}

fn main() {
    let args = parse_args();
    let plan = if args.quick { &QUICK } else { &FULL };
    ringex_daemon::logging::init(&LogConfig {
        format: LogFormat::Text,
        level: "warn".into(),
    });
    let root = std::env::temp_dir().join(format!("ringex-bench-daemon-{}", std::process::id()));
    let mut result = BenchmarkResult::new("daemon", "make bench-daemon");

    let default_snapshots = Config::builtin().snapshot.every_inputs;
    let modes = [
        ("fsync", Durability::Fsync, default_snapshots),
        ("none", Durability::None, default_snapshots),
        // The same as `fsync` without periodic snapshots: what their cuts cost.
        ("fsync_snapshots_off", Durability::Fsync, 0),
    ];
    for (name, durability, snapshot_every_inputs) in modes {
        eprintln!("mode {name}");
        let dir = root.join(name);
        let (measured, commits) = measure_mode(plan, durability, snapshot_every_inputs, &dir);
        let mean = commits.inputs as f64 / commits.commits.max(1) as f64;
        result.extra.insert(
            format!("{name}_commit_batch_inputs_mean"),
            json!((mean * 10.0).round() / 10.0),
        );
        result.extra.insert(
            format!("{name}_commit_batch_inputs_max"),
            json!(commits.largest_inputs),
        );
        result
            .extra
            .insert(format!("{name}_commits"), json!(commits.commits));
        if name == "fsync" {
            result.measured = measured.clone();
        }
        result.modes.push((name.to_string(), measured));
    }

    eprintln!(
        "recovery: writing a {}-command journal",
        plan.recovery_commands
    );
    measure_recovery(plan, &root.join("recovery"), &mut result);
    result.extra.insert(
        "workload".into(),
        json!("Tier A: exchange-core single-symbol mix, 1,000 resting orders, 1,000 accounts"),
    );
    result.extra.insert(
        "link".into(),
        json!("one TCP link on loopback, daemon in-process"),
    );
    result.extra.insert(
        "note".into(),
        json!(
            "a periodic snapshot is encoded on the apply path; its cost grows with the \
             day's used client order ids (millions here, as the stream never ends the day), \
             so compare fsync with fsync_snapshots_off for what the cuts add to the tails"
        ),
    );
    // Best effort: a leftover temp directory is only disk space.
    let _ = std::fs::remove_dir_all(&root);
    print!("{}", result.table());

    let out = args.out.or_else(|| {
        (!args.quick).then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results/daemon.json"))
    });
    if let Some(path) = out {
        keep_previous(&path, &mut result);
        result.write(&path).expect("write results file");
        println!("wrote {}", path.display());
    }
}

/// Copies the headline figures of the results file this run replaces into
/// `extra.previous_*`, so a change to the pipeline is read against what it changed
/// (throughput and the commit batch sizes it was reached at, per mode).
fn keep_previous(path: &Path, result: &mut BenchmarkResult) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let Ok(previous) = serde_json::from_str::<Value>(&text) else {
        eprintln!(
            "{} does not parse: no previous figures kept",
            path.display()
        );
        return;
    };
    let mut keep = |key: String, value: &Value| {
        if !value.is_null() {
            result.extra.insert(key, value.clone());
        }
    };
    keep("previous_git_sha".into(), &previous["git_sha"]);
    keep("previous_when".into(), &previous["when"]);
    for mode in ["fsync", "none", "fsync_snapshots_off"] {
        let throughput = &previous["modes"][mode]["throughput_per_s"];
        keep(format!("previous_{mode}_throughput_per_s"), throughput);
        for figure in ["commit_batch_inputs_mean", "commit_batch_inputs_max"] {
            let key = format!("{mode}_{figure}");
            keep(format!("previous_{key}"), &previous["extra"][key.as_str()]);
        }
    }
}

/// Throughput and latency under one durability policy, and the commit batch sizes.
fn measure_mode(
    plan: &Plan,
    durability: Durability,
    snapshot_every_inputs: u64,
    dir: &Path,
) -> (Measurements, CommitStats) {
    let mut config = daemon_config(dir, durability);
    config.snapshot.every_inputs = snapshot_every_inputs;
    let mut daemon = BenchDaemon::start(&config);
    let mut workload = Workload::new(WorkloadConfig::default(), config.engine_config());
    daemon.closed_loop(&workload.preamble());
    let before = daemon.progress.commit_stats();
    let measured = measure_link(
        &mut daemon.link,
        &mut workload,
        &plan.link,
        &OFFERED_RATES_PER_S,
    );
    let after = daemon.progress.commit_stats();
    daemon.shutdown();
    let _ = std::fs::remove_dir_all(dir);
    let commits = CommitStats {
        commits: after.commits - before.commits,
        inputs: after.inputs - before.inputs,
        largest_inputs: after.largest_inputs,
    };
    (measured, commits)
}

/// Writes a long Raft log, then measures its replay and restarts without and with a
/// snapshot.
fn measure_recovery(plan: &Plan, dir: &Path, result: &mut BenchmarkResult) {
    let config = write_long_journal(dir, plan.recovery_commands);

    let rate = measure_replay_rate(&config);
    eprintln!(
        "  replay: {} records in {} ms: {:.0}/s",
        rate.records,
        rate.elapsed.as_millis(),
        rate.records_per_s
    );
    let without_snapshot = BenchDaemon::restart_time(&config);
    take_snapshot(&config);
    let with_snapshot = BenchDaemon::restart_time(&config);
    eprintln!(
        "  restart: {} ms with a snapshot, {} ms without",
        with_snapshot.as_millis(),
        without_snapshot.as_millis()
    );
    let _ = std::fs::remove_dir_all(dir);
    let extra = &mut result.extra;
    extra.insert("replay_per_s".into(), json!(rate.records_per_s as u64));
    extra.insert("recovery_journal_commands".into(), json!(rate.records));
    extra.insert(
        "restart_with_snapshot_ms".into(),
        json!(with_snapshot.as_millis() as u64),
    );
    extra.insert(
        "restart_without_snapshot_ms".into(),
        json!(without_snapshot.as_millis() as u64),
    );
    extra.insert(
        "snapshot_every_inputs".into(),
        json!(config.snapshot.every_inputs),
    );
}
