//! The engine daemon as the daemon and durability benchmarks drive it: in this process,
//! on its own threads, over one loopback TCP link, as a gateway would; and the long
//! journal both benchmarks restart from.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use ringex_core::Command;
use ringex_daemon::config::{Config, Durability};
use ringex_daemon::daemon::{Outcome, Running};
use ringex_daemon::progress::Progress;
use ringex_protocol::frame::{split_frame, LengthPrefix};
use ringex_protocol::link::{write_input, EVENTS_LAST, LINK_EVENTS, LINK_FRAME_MAX, LINK_WELCOME};
use ringex_protocol::Input;

use crate::open_loop::OpenLoopSchedule;
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
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A daemon running on threads of this process, and one link to it.
pub struct BenchDaemon {
    thread: JoinHandle<Outcome>,
    pub progress: Arc<Progress>,
    link: AckReader,
    writer: TcpStream,
    next_correlation: u64,
}

impl BenchDaemon {
    pub fn start(config: &Config) -> BenchDaemon {
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
    pub fn restart_time(config: &Config) -> Duration {
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
    pub fn closed_loop(&mut self, commands: &[Command]) -> Duration {
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
    pub fn open_loop(
        &mut self,
        commands: &[Command],
        rate_per_s: u64,
        latencies: &mut Histogram<u64>,
    ) {
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
    pub fn shutdown(mut self) {
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
