//! The daemon benchmark: the real engine daemon (in this process, on its own threads)
//! driven over a loopback TCP link with the Tier A workload, as a gateway would.
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
//! (encoded on the matcher thread) add to the latency tails.
//!
//! Recovery: a journal of ten million commands is written, then the replay rate is
//! measured and the daemon restarted with and without its snapshots.
//!
//! `--quick` runs a small plan and writes nothing unless `--out PATH` is given.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use ringex_bench::latency::{latency_histogram, LatencySummary};
use ringex_bench::open_loop::OpenLoopSchedule;
use ringex_bench::results::{BenchmarkResult, Measurements};
use ringex_bench::workload::{Workload, WorkloadConfig};
use ringex_core::Command;
use ringex_daemon::config::{Config, Durability, LogConfig, LogFormat};
use ringex_daemon::daemon::{Outcome, Running};
use ringex_daemon::progress::{CommitStats, Progress};
use ringex_daemon::storage::FileStorage;
use ringex_protocol::frame::{split_frame, LengthPrefix};
use ringex_protocol::link::{write_input, EVENTS_LAST, LINK_EVENTS, LINK_FRAME_MAX, LINK_WELCOME};
use ringex_protocol::Input;
use serde_json::json;

/// Offered rates for the open-loop latency runs, commands per second.
const OFFERED_RATES_PER_S: [u64; 3] = [100_000, 500_000, 1_000_000];
/// Client order ids one trading day may use: the measured stream never ends the day.
const CLIENT_IDS_PER_DAY: u32 = 1 << 24;
/// Commands generated and sent at a time while writing the recovery journal.
const RECOVERY_CHUNK_COMMANDS: usize = 500_000;

struct Plan {
    commands_per_run: usize,
    throughput_runs: usize,
    latency_run_ns: u64,
    latency_commands_max: usize,
    recovery_commands: usize,
}

const FULL: Plan = Plan {
    commands_per_run: 1_000_000,
    throughput_runs: 5,
    latency_run_ns: 2_000_000_000,
    latency_commands_max: 2_000_000,
    recovery_commands: 10_000_000,
};

const QUICK: Plan = Plan {
    commands_per_run: 100_000,
    throughput_runs: 5,
    latency_run_ns: 200_000_000,
    latency_commands_max: 200_000,
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
            "a periodic snapshot is encoded on the matcher thread; its cost grows with the \
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
        result.write(&path).expect("write results file");
        println!("wrote {}", path.display());
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
    eprintln!("  warm-up: {} commands", plan.commands_per_run);
    daemon.closed_loop(&workload.next_commands(plan.commands_per_run));

    let before = daemon.progress.commit_stats();
    let mut rates = Vec::new();
    for run in 0..plan.throughput_runs {
        let commands = workload.next_commands(plan.commands_per_run);
        let elapsed = daemon.closed_loop(&commands);
        let rate = (commands.len() as f64 / elapsed.as_secs_f64()) as u64;
        eprintln!("  throughput run {}: {rate} commands/s", run + 1);
        rates.push(rate);
    }
    let mut measured = Measurements {
        throughput_per_s: median(&rates),
        latency_ns: Vec::new(),
    };
    for rate in OFFERED_RATES_PER_S {
        let n = (u128::from(rate) * u128::from(plan.latency_run_ns) / 1_000_000_000) as usize;
        let commands = workload.next_commands(n.min(plan.latency_commands_max));
        let mut histogram = latency_histogram();
        daemon.open_loop(&commands, rate, &mut histogram);
        let summary = LatencySummary::from_histogram(&histogram);
        eprintln!(
            "  latency at {rate}/s: p50 {} ns, p99 {} ns, max {} ns",
            summary.p50, summary.p99, summary.max
        );
        measured.latency_ns.push((rate.to_string(), summary));
    }
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

/// Writes a long journal, then measures replay and restarts with and without snapshots.
fn measure_recovery(plan: &Plan, dir: &Path, result: &mut BenchmarkResult) {
    // The journal's bytes do not depend on the policy; `none` only writes it faster.
    let config = daemon_config(dir, Durability::None);
    let mut daemon = BenchDaemon::start(&config);
    let mut workload = Workload::new(WorkloadConfig::default(), config.engine_config());
    daemon.closed_loop(&workload.preamble());
    let mut sent = 0;
    while sent < plan.recovery_commands {
        let n = RECOVERY_CHUNK_COMMANDS.min(plan.recovery_commands - sent);
        daemon.closed_loop(&workload.next_commands(n));
        sent += n;
    }
    daemon.shutdown();

    let rate = ringex_daemon::journal_tools::measure_replay_rate(
        &FileStorage,
        dir,
        config.engine_config(),
    )
    .expect("replay the benchmark journal");
    eprintln!(
        "  replay: {} records in {} ms: {:.0}/s",
        rate.records,
        rate.elapsed.as_millis(),
        rate.records_per_s
    );
    let with_snapshot = BenchDaemon::restart_time(&config);
    for entry in std::fs::read_dir(dir).expect("list the data directory") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "snap") {
            std::fs::remove_file(&path).expect("remove a snapshot");
        }
    }
    let without_snapshot = BenchDaemon::restart_time(&config);
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

/// The built-in configuration on `dir` with no demo instruments or accounts (the
/// workload creates its own), a free loopback port and quiet logs.
fn daemon_config(dir: &Path, durability: Durability) -> Config {
    let _ = std::fs::remove_dir_all(dir);
    let mut config = Config::builtin();
    config.data_dir = dir.to_path_buf();
    config.link.tcp = format!("127.0.0.1:{}", free_port());
    config.link.unix_socket = String::new();
    config.journal.durability = durability;
    config.engine.max_client_ids_per_day = CLIENT_IDS_PER_DAY;
    config.instruments.clear();
    config.accounts.clear();
    config.validate().expect("benchmark configuration");
    config
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn median(values: &[u64]) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}

/// A daemon running on threads of this process, and one link to it.
struct BenchDaemon {
    thread: JoinHandle<Outcome>,
    progress: Arc<Progress>,
    link: AckReader,
    writer: TcpStream,
    next_correlation: u64,
}

impl BenchDaemon {
    fn start(config: &Config) -> BenchDaemon {
        let running = Running::start(config).expect("start the daemon");
        let progress = Arc::clone(running.progress());
        let thread = std::thread::spawn(move || running.wait());
        let addr = config.tcp_addr().expect("tcp address").expect("tcp on");
        let stream = TcpStream::connect(addr).expect("connect to the daemon");
        stream.set_nodelay(true).expect("nodelay");
        let writer = stream.try_clone().expect("clone the link socket");
        let mut link = AckReader::new(stream);
        link.welcome();
        BenchDaemon {
            thread,
            progress,
            link,
            writer,
            next_correlation: 1,
        }
    }

    /// From the call to the first Welcome on a link: recovery, allocation, binding.
    fn restart_time(config: &Config) -> Duration {
        let started = Instant::now();
        let daemon = BenchDaemon::start(config);
        let elapsed = started.elapsed();
        daemon.shutdown();
        elapsed
    }

    /// Encodes commands as link frames with consecutive correlations; returns the
    /// bytes and where each frame starts (plus the end).
    fn encode(&mut self, commands: &[Command]) -> (Vec<u8>, Vec<usize>, u64) {
        let first = self.next_correlation;
        let mut bytes = Vec::with_capacity(commands.len() * 48);
        let mut starts = Vec::with_capacity(commands.len() + 1);
        for cmd in commands {
            starts.push(bytes.len());
            write_input(&mut bytes, self.next_correlation, &Input::Command(*cmd));
            self.next_correlation += 1;
        }
        starts.push(bytes.len());
        (bytes, starts, first)
    }

    /// Streams every command as fast as the link takes them; returns the time until
    /// the last one's events came back.
    fn closed_loop(&mut self, commands: &[Command]) -> Duration {
        let (bytes, _, first) = self.encode(commands);
        let last = first + commands.len() as u64 - 1;
        let writer = &self.writer;
        let link = &mut self.link;
        let started = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut w = writer;
                w.write_all(&bytes).expect("send to the daemon");
            });
            link.read_acks(|correlation| correlation < last);
        });
        started.elapsed()
    }

    /// Sends command `i` at its planned time on a schedule of `rate_per_s` (every
    /// command already due goes in the same write) and records each one's latency from
    /// its planned time to its events.
    fn open_loop(&mut self, commands: &[Command], rate_per_s: u64, latencies: &mut Histogram<u64>) {
        let (bytes, starts, first) = self.encode(commands);
        let n = commands.len();
        let writer = &self.writer;
        let link = &mut self.link;
        let schedule = OpenLoopSchedule::start(rate_per_s);
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut w = writer;
                let mut i = 0;
                while i < n {
                    pace(&schedule, i as u64);
                    let now = schedule.now_ns();
                    let mut j = i + 1;
                    while j < n && schedule.planned_ns(j as u64) <= now {
                        j += 1;
                    }
                    w.write_all(&bytes[starts[i]..starts[j]])
                        .expect("send to the daemon");
                    i = j;
                }
            });
            let last = first + n as u64 - 1;
            link.read_acks(|correlation| {
                let i = correlation - first;
                latencies.saturating_record(schedule.latency_ns(i).max(1));
                correlation < last
            });
        });
    }

    /// Sends Shutdown, reads to the Goodbye and waits for the daemon to stop.
    fn shutdown(mut self) {
        let mut frame = Vec::new();
        write_input(&mut frame, 0, &Input::Shutdown);
        self.writer.write_all(&frame).expect("send Shutdown");
        self.link.read_acks(|_| true);
        let outcome = self.thread.join().expect("the daemon thread");
        assert_eq!(outcome, Outcome::Shutdown);
    }
}

/// Waits for command `i`'s planned time by sleeping. A spinning sender would take one
/// of the machine's two cores from the daemon; a sleep wakes late, but lateness is
/// charged to the latency, so the pacing can only make the figures worse, never better.
fn pace(schedule: &OpenLoopSchedule, i: u64) {
    let due = schedule.planned_ns(i);
    let now = schedule.now_ns();
    if due > now {
        std::thread::sleep(Duration::from_nanos(due - now));
    }
}

/// Reads the link and reports each acknowledged input (the last events frame of an
/// input sent on this link) by its correlation. Only frame headers are read: the
/// daemon's encoder is tested elsewhere, and a lighter reader leaves it more CPU.
struct AckReader {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
}

/// Offsets in an events frame body: type, seq, timestamp, then the correlation.
const CORRELATION_AT: usize = 1 + 8 + 8;
const FLAGS_AT: usize = CORRELATION_AT + 8;

impl AckReader {
    fn new(stream: TcpStream) -> AckReader {
        AckReader {
            stream,
            buf: vec![0; 4 + LINK_FRAME_MAX + (1 << 20)],
            filled: 0,
        }
    }

    fn welcome(&mut self) {
        let mut welcomed = false;
        self.read_frames(|body| {
            assert_eq!(body[0], LINK_WELCOME, "the first frame is a Welcome");
            welcomed = true;
            false
        });
        assert!(welcomed);
    }

    /// Calls `ack` per acknowledged input until it returns false or the link closes.
    fn read_acks(&mut self, mut ack: impl FnMut(u64) -> bool) {
        self.read_frames(|body| {
            if body[0] != LINK_EVENTS || body[FLAGS_AT] & EVENTS_LAST == 0 {
                return true;
            }
            let correlation = u64::from_le_bytes(
                body[CORRELATION_AT..CORRELATION_AT + 8]
                    .try_into()
                    .expect("8 bytes"),
            );
            correlation == 0 || ack(correlation)
        });
    }

    fn read_frames(&mut self, mut frame: impl FnMut(&[u8]) -> bool) {
        loop {
            let mut at = 0;
            let mut go_on = true;
            while go_on {
                match split_frame(
                    &self.buf[at..self.filled],
                    LengthPrefix::U32,
                    LINK_FRAME_MAX,
                )
                .expect("the daemon sends valid frames")
                {
                    Some((body, used)) => {
                        go_on = frame(body);
                        at += used;
                    }
                    None => break,
                }
            }
            self.buf.copy_within(at..self.filled, 0);
            self.filled -= at;
            if !go_on {
                return;
            }
            match self.stream.read(&mut self.buf[self.filled..]) {
                Ok(0) => return,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("reading the link: {e}"),
            }
        }
    }
}
