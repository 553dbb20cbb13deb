//! The durability benchmark: what checking the whole journal at every start costs.
//!
//! A journal (the node's Raft log) of ten million commands is written (the same long
//! log the daemon benchmark restarts from), then:
//! - reading and checking every committed entry from the first (size, CRC-32C, chain,
//!   gapless sequence), as a start does, timed as bytes per second from the page cache;
//! - the time to start the daemon on it, to the Welcome on a link, without a snapshot
//!   (the whole log replayed) and then with one taken at its end.
//!
//! `--quick` runs a small journal and writes nothing unless `--out PATH` is given.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ringex_bench::daemon_harness::{take_snapshot, write_long_journal, BenchDaemon};
use ringex_bench::results::{BenchmarkResult, Measurements};
use ringex_daemon::config::{LogConfig, LogFormat};
use ringex_daemon::replication::committed_inputs::scan_committed;
use ringex_daemon::replication::entry_log::LOG_FILE;
use ringex_daemon::replication::node::RAFT_DIR;
use serde_json::json;

/// Each timing is the median of this many runs: the machine is shared.
const RUNS: usize = 3;

fn main() {
    let mut quick = false;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--out" => out = Some(PathBuf::from(args.next().expect("--out PATH"))),
            other => {
                eprintln!("usage: bench-durability [--quick] [--out PATH]; unknown {other}");
                std::process::exit(2);
            }
        }
    }
    ringex_daemon::logging::init(&LogConfig {
        format: LogFormat::Text,
        level: "warn".into(),
    });
    let commands = if quick { 300_000 } else { 10_000_000 };
    let root = std::env::temp_dir().join(format!("ringex-bench-durability-{}", std::process::id()));
    let dir = root.join("data");
    eprintln!("writing a {commands}-command journal");
    let config = write_long_journal(&dir, commands);
    let journal_bytes = log_bytes(&dir);

    let (verify_elapsed, records) = median_of(|| {
        let started = Instant::now();
        let mut records = 0u64;
        scan_committed(&dir, 0, &mut |_| {
            records += 1;
            ControlFlow::Continue(())
        })
        .expect("the benchmark log verifies");
        (started.elapsed(), records)
    });
    let verify_bytes_per_s = journal_bytes as f64 / verify_elapsed.as_secs_f64();
    eprintln!(
        "verify: {journal_bytes} bytes, {records} records in {} ms: {:.0} MB/s",
        verify_elapsed.as_millis(),
        verify_bytes_per_s / 1e6
    );
    let (without_snapshot, _) = median_of(|| (BenchDaemon::restart_time(&config), 0));
    take_snapshot(&config);
    let (with_snapshot, _) = median_of(|| (BenchDaemon::restart_time(&config), 0));
    eprintln!(
        "start: {} ms with a snapshot, {} ms without",
        with_snapshot.as_millis(),
        without_snapshot.as_millis()
    );
    let _ = std::fs::remove_dir_all(&root);

    let mut result = BenchmarkResult::new("durability", "make bench-durability");
    result.measured = Measurements {
        throughput_per_s: (records as f64 / verify_elapsed.as_secs_f64()) as u64,
        latency_ns: Vec::new(),
    };
    let extra = &mut result.extra;
    extra.insert(
        "startup_verify_bytes_per_s".into(),
        json!(verify_bytes_per_s as u64),
    );
    extra.insert("journal_bytes".into(), json!(journal_bytes));
    extra.insert("journal_records".into(), json!(records));
    let key = if quick {
        "start_small_ms"
    } else {
        "start_10m_ms"
    };
    extra.insert(
        format!("{key}_snapshot"),
        json!(with_snapshot.as_millis() as u64),
    );
    extra.insert(
        format!("{key}_no_snapshot"),
        json!(without_snapshot.as_millis() as u64),
    );
    extra.insert(
        "note".into(),
        json!(
            "throughput_per_s is inputs read back from the Raft log and checked per second; \
             every start checks the whole log before it serves, so start_10m_ms_snapshot \
             includes one full check; timings are medians of 3 runs, log in the page cache"
        ),
    );
    print!("{}", result.table());
    let out = out.or_else(|| {
        (!quick).then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results/durability.json"))
    });
    if let Some(path) = out {
        result.write(&path).expect("write results file");
        println!("wrote {}", path.display());
    }
}

/// The size of the node's Raft entry log in `dir`.
fn log_bytes(dir: &Path) -> u64 {
    std::fs::metadata(dir.join(RAFT_DIR).join(LOG_FILE))
        .expect("stat the entry log")
        .len()
}

/// The median (by time) of `RUNS` runs of `f`.
fn median_of<T: Copy>(mut f: impl FnMut() -> (Duration, T)) -> (Duration, T) {
    let mut runs: Vec<(Duration, T)> = (0..RUNS).map(|_| f()).collect();
    runs.sort_by_key(|r| r.0);
    runs[RUNS / 2]
}
