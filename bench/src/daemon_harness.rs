//! The engine daemon as the daemon and durability benchmarks drive it: a lone Raft node
//! (the default daemon) in this process, on its own threads, over one loopback TCP link
//! ([`EngineLink`]); and the long log both benchmarks restart from.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringex_core::{Command, Engine};
use ringex_daemon::cluster_node::RunningNode;
use ringex_daemon::config::{Config, Durability};
use ringex_daemon::daemon::Outcome;
use ringex_daemon::progress::Progress;
use ringex_daemon::replication::committed_inputs::replay_committed;
use ringex_daemon::replication::node::RAFT_DIR;
use ringex_daemon::replication::snapshot_file::SNAPSHOT_FILE;

use crate::engine_link::EngineLink;
use crate::workload::{Workload, WorkloadConfig};

/// Client order ids one trading day may use: the measured stream never ends the day.
pub const CLIENT_IDS_PER_DAY: u32 = 1 << 24;
/// Commands generated and sent at a time while writing the long journal.
const LONG_JOURNAL_CHUNK_COMMANDS: usize = 500_000;
/// How long a requested snapshot of a long log may take to reach the disk.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(300);

/// Writes a Raft log of `commands` workload commands (after the workload's preamble)
/// in `dir` with no snapshot, so the log holds every command, and stops the node
/// cleanly; returns the configuration to restart it with.
pub fn write_long_journal(dir: &Path, commands: usize) -> Config {
    // The log's bytes do not depend on the policy; `none` only writes it faster.
    let mut config = daemon_config(dir, Durability::None);
    config.snapshot.every_inputs = 0;
    let mut daemon = BenchDaemon::start(&config);
    let mut workload = Workload::new(WorkloadConfig::default(), config.engine_config());
    daemon.closed_loop(&workload.preamble());
    let mut sent = 0;
    while sent < commands {
        let n = LONG_JOURNAL_CHUNK_COMMANDS.min(commands - sent);
        daemon.closed_loop(&workload.next_commands(n));
        sent += n;
    }
    daemon.shutdown();
    config
}

/// Starts the node of `config` once, has it snapshot its state and stops it once the
/// snapshot is on disk, so the next start begins from it.
pub fn take_snapshot(config: &Config) {
    let snapshot = config.data_dir.join(RAFT_DIR).join(SNAPSHOT_FILE);
    let written_before = std::fs::metadata(&snapshot).and_then(|m| m.modified()).ok();
    let mut daemon = BenchDaemon::start(config);
    daemon
        .link
        .request_snapshot()
        .expect("the snapshot request is answered");
    let deadline = Instant::now() + SNAPSHOT_WAIT;
    while std::fs::metadata(&snapshot).and_then(|m| m.modified()).ok() == written_before {
        assert!(
            Instant::now() < deadline,
            "no snapshot after {SNAPSHOT_WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    daemon.shutdown();
}

/// A replay of a whole log: inputs replayed, how long, and the rate.
pub struct ReplayRate {
    pub records: u64,
    pub elapsed: Duration,
    pub records_per_s: f64,
}

/// Replays every committed input of the node of `config` into an empty engine, reading
/// and checking the log as a start does, and times it.
pub fn measure_replay_rate(config: &Config) -> ReplayRate {
    let mut engine = Engine::new(config.engine_config()).expect("the benchmark engine");
    let started = Instant::now();
    let records = replay_committed(&config.data_dir, &mut engine, None, &mut |_, _| {})
        .expect("replay the benchmark log");
    let elapsed = started.elapsed();
    ReplayRate {
        records,
        elapsed,
        records_per_s: records as f64 / elapsed.as_secs_f64().max(1e-9),
    }
}

/// The built-in configuration on `dir` with no demo instruments or accounts (the
/// workload creates its own), a free loopback port and quiet logs.
pub fn daemon_config(dir: &Path, durability: Durability) -> Config {
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

pub fn free_port() -> u16 {
    free_port_on(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// A TCP port on the loopback address `ip` nobody listens on right now.
pub fn free_port_on(ip: IpAddr) -> u16 {
    TcpListener::bind(SocketAddr::new(ip, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// How long the benchmarks wait for any one read from a link before calling it lost.
pub const LINK_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A daemon running on threads of this process, and one link to it.
pub struct BenchDaemon {
    thread: JoinHandle<Outcome>,
    pub progress: Arc<Progress>,
    pub link: EngineLink,
}

impl BenchDaemon {
    pub fn start(config: &Config) -> BenchDaemon {
        let running = RunningNode::start(config, &config.node_cluster()).expect("start the daemon");
        let progress = Arc::clone(running.progress());
        let thread = std::thread::spawn(move || running.wait());
        let addr = config.tcp_addr().expect("tcp address").expect("tcp on");
        let link = EngineLink::open(addr, LINK_READ_TIMEOUT).expect("link to the daemon");
        BenchDaemon {
            thread,
            progress,
            link,
        }
    }

    /// From the call to the first Welcome on a link: recovery, allocation, binding.
    pub fn restart_time(config: &Config) -> Duration {
        let started = Instant::now();
        let daemon = BenchDaemon::start(config);
        let elapsed = started.elapsed();
        daemon.shutdown();
        elapsed
    }

    /// See [`EngineLink::closed_loop`].
    pub fn closed_loop(&mut self, commands: &[Command]) -> Duration {
        self.link.closed_loop(commands)
    }

    /// Sends Shutdown, reads to the Goodbye and waits for the daemon to stop.
    pub fn shutdown(self) {
        self.link.shutdown();
        let outcome = self.thread.join().expect("the daemon thread");
        assert_eq!(outcome, Outcome::Shutdown);
    }
}
