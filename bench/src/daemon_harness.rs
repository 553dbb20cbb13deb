//! The engine daemon as the daemon and durability benchmarks drive it: in this process,
//! on its own threads, over one loopback TCP link ([`EngineLink`]); and the long
//! journal both benchmarks restart from.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringex_core::Command;
use ringex_daemon::config::{Config, Durability};
use ringex_daemon::daemon::{Outcome, Running};
use ringex_daemon::progress::Progress;

use crate::engine_link::EngineLink;
use crate::workload::{Workload, WorkloadConfig};

/// Client order ids one trading day may use: the measured stream never ends the day.
pub const CLIENT_IDS_PER_DAY: u32 = 1 << 24;
/// Commands generated and sent at a time while writing the long journal.
const LONG_JOURNAL_CHUNK_COMMANDS: usize = 500_000;

/// Writes a journal of `commands` workload commands (after the workload's preamble) in
/// `dir`, with the built-in snapshot cadence, and stops the daemon cleanly; returns the
/// configuration to restart it with.
pub fn write_long_journal(dir: &Path, commands: usize) -> Config {
    // The journal's bytes do not depend on the policy; `none` only writes it faster.
    let config = daemon_config(dir, Durability::None);
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

/// Removes the snapshots in `dir`, so the next start replays the whole journal.
pub fn remove_snapshots(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("list the data directory") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "snap") {
            std::fs::remove_file(&path).expect("remove a snapshot");
        }
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
        let running = Running::start(config).expect("start the daemon");
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
