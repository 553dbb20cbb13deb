//! Shared by the daemon's process tests: start the real `ringex-engine` binary on a
//! temporary data directory and a free loopback port, and talk to it over the link.
#![allow(dead_code)] // each test file uses its own part of this

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ringex_core::{Event, NewOrder, OrderType, Side, TimeInForce};
use ringex_protocol::frame::{split_frame, LengthPrefix};
use ringex_protocol::link::{
    decode_from_engine, events, write_heartbeat, write_input, write_resume, EventsHeader,
    FromEngine, ResumeFrom, LINK_FRAME_MAX,
};
use ringex_protocol::Input;
use socket2::{Domain, Socket, Type};

pub const BIN: &str = env!("CARGO_BIN_EXE_ringex-engine");

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "ringex-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port nobody listens on right now, and not handed out before in this process. A
/// test binary's tests run at once: two given the same port would both start a daemon
/// on it, and the one whose daemon lost the race would talk to the other's.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    for _ in 0..1000 {
        let port = unused_port();
        if GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
    panic!("every free port offered was handed out already");
}

/// A port the kernel finds free, from a socket bound to it that never listens. A
/// listener, however briefly it lived, could be offered a port handed out earlier
/// whose daemon is still starting: it would take that test's connections and reset
/// them as it closed, so the test read end-of-stream before its daemon even bound the
/// port. The socket reuses the address, as the daemon's listener does, so that a
/// daemon binding the port at that moment is not refused either.
fn unused_port() -> u16 {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_reuse_address(true).unwrap();
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    socket.bind(&loopback.into()).unwrap();
    let bound = socket.local_addr().unwrap().as_socket().unwrap();
    bound.port()
}

/// One run of the daemon. Killed (SIGKILL) on drop if still running.
pub struct Daemon {
    pub child: Child,
    pub port: u16,
    pub data_dir: PathBuf,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts the daemon on `data_dir` with extra flags and waits until it accepts links.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Daemon {
        let port = free_port();
        Daemon::start_on(data_dir, port, extra)
    }

    pub fn start_on(data_dir: &Path, port: u16, extra: &[&str]) -> Daemon {
        Daemon::spawn(data_dir, port, extra, Command::new(BIN))
    }

    /// Starts the daemon with extra environment variables.
    pub fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, String)]) -> Daemon {
        let mut command = Command::new(BIN);
        command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        Daemon::spawn(data_dir, free_port(), extra, command)
    }

    /// Starts the daemon unable to grow any file past `bytes`: its writes beyond fail
    /// with EFBIG, as a full disk would fail them.
    pub fn start_with_file_size_limit(data_dir: &Path, extra: &[&str], bytes: u64) -> Daemon {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(BIN);
        // SAFETY: only async-signal-safe calls between fork and exec. An ignored
        // SIGXFSZ stays ignored across exec, so the write fails instead of killing.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: bytes,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                Ok(())
            });
        }
        Daemon::spawn(data_dir, free_port(), extra, command)
    }

    fn spawn(data_dir: &Path, port: u16, extra: &[&str], mut command: Command) -> Daemon {
        let log = data_dir.with_extension(format!("{port}.log"));
        let stderr = File::create(&log).unwrap();
        let child = command
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--tcp")
            .arg(format!("127.0.0.1:{port}"))
            .args(["--unix-socket", "", "--log-level", "info"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut d = Daemon {
            child,
            port,
            data_dir: data_dir.to_path_buf(),
            log,
        };
        d.wait_listening();
        d
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("daemon exited at start with {status}:\n{}", self.log_text());
            }
            if LinkClient::try_connect_quiet(self.port).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "daemon never listened:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A live link; a daemon that cannot be reached fails the test with its log, so
    /// the reason (it exited, or never listened) is in the failure.
    pub fn link(&self) -> LinkClient {
        match LinkClient::try_connect(self.port) {
            Ok(link) => link,
            Err(e) => panic!(
                "no link to the daemon on port {}: {e}\n{}",
                self.port,
                self.log_text()
            ),
        }
    }

    /// A link welcomed by the daemon, and the Welcome's seq: a Raft node answers
    /// NotLeader until it leads and has applied its log, so this retries until then.
    pub fn serving_link(&self) -> (LinkClient, u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut link = self.link();
            match link.next_frame() {
                Some(Frame::Welcome(seq)) => return (link, seq),
                Some(Frame::NotLeader { .. }) => {}
                other => panic!("expected a Welcome, got {other:?}:\n{}", self.log_text()),
            }
            assert!(
                Instant::now() < deadline,
                "never served:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: sending a signal to our own child process.
        let rc = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(rc, 0);
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not exit:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // The log lives in the test's temporary directory, which goes with the test:
        // a failure that happens once in hundreds of runs must carry its own account.
        if std::thread::panicking() {
            eprintln!(
                "daemon on port {} ({}):\n{}",
                self.port,
                self.log.display(),
                self.log_text()
            );
        }
    }
}

/// A frame from the engine, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Welcome(u64),
    Events(EventsHeader, Vec<Event>),
    /// The engine's clock, or 0 when it makes no claim.
    Heartbeat(u64),
    Goodbye(u8, u8),
    Expired(u64),
    NotLeader {
        leader_id: u64,
        term: u64,
    },
}

/// A plain blocking link client.
pub struct LinkClient {
    pub stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    out: Vec<u8>,
}

impl LinkClient {
    /// Connects and opens the link live (no history), as a gateway with none would.
    pub fn connect(port: u16) -> LinkClient {
        LinkClient::try_connect(port).unwrap()
    }

    /// As [`LinkClient::connect`]; the error if nothing answers.
    pub fn try_connect(port: u16) -> std::io::Result<LinkClient> {
        let mut link = LinkClient::try_connect_quiet(port)?;
        link.resume(ResumeFrom::Live);
        Ok(link)
    }

    /// Sends the opening Resume.
    pub fn resume(&mut self, from: ResumeFrom) {
        write_resume(&mut self.out, from);
        self.flush().unwrap();
    }

    /// Connects without sending anything.
    pub fn connect_quiet(port: u16) -> LinkClient {
        LinkClient::try_connect_quiet(port).unwrap()
    }

    /// Connects without sending anything; the error if nothing answers. A connection to
    /// itself is that error too: a connect to a local port nobody listens on meets itself
    /// (TCP simultaneous open) when the kernel picks that same port as its source, which
    /// it does now and then for ports in the ephemeral range, where [`free_port`]'s are.
    pub fn try_connect_quiet(port: u16) -> std::io::Result<LinkClient> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        if stream.local_addr()? == stream.peer_addr()? {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "connected to itself: nothing listens",
            ));
        }
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(LinkClient {
            stream,
            buf: Vec::new(),
            start: 0,
            out: Vec::new(),
        })
    }

    /// Reads the Welcome: the last sequence number applied.
    pub fn welcome(&mut self) -> u64 {
        match self.next_frame() {
            Some(Frame::Welcome(seq)) => seq,
            other => panic!("expected a Welcome, got {other:?}"),
        }
    }

    pub fn queue(&mut self, correlation: u64, input: &Input) {
        write_input(&mut self.out, correlation, input);
    }

    pub fn queue_heartbeat(&mut self) {
        write_heartbeat(&mut self.out);
    }

    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        let r = self.stream.write_all(&self.out);
        self.out.clear();
        r
    }

    pub fn send(&mut self, correlation: u64, input: &Input) {
        self.queue(correlation, input);
        self.flush().unwrap();
    }

    /// The next frame, skipping nothing; `None` when the engine closed the socket.
    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some((body, used)) =
                split_frame(&self.buf[self.start..], LengthPrefix::U32, LINK_FRAME_MAX).unwrap()
            {
                let frame = match decode_from_engine(body).unwrap() {
                    FromEngine::Welcome { last_seq } => Frame::Welcome(last_seq),
                    FromEngine::Heartbeat { time_ns } => Frame::Heartbeat(time_ns),
                    FromEngine::Goodbye { reason, detail } => Frame::Goodbye(reason as u8, detail),
                    FromEngine::Expired { correlation } => Frame::Expired(correlation),
                    FromEngine::NotLeader { leader_id, term } => {
                        Frame::NotLeader { leader_id, term }
                    }
                    FromEngine::Events {
                        header,
                        events: bytes,
                    } => {
                        let list = events(bytes).map(Result::unwrap).collect();
                        Frame::Events(header, list)
                    }
                };
                self.start += used;
                return Some(frame);
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                    ) =>
                {
                    return None
                }
                Err(e) => panic!("link read: {e}"),
            }
        }
    }

    /// Reads events frames until the one flagged last for `seq`; returns its events.
    pub fn events_until(&mut self, seq: u64) -> Vec<(EventsHeader, Vec<Event>)> {
        let mut got = Vec::new();
        loop {
            match self.next_frame() {
                Some(Frame::Events(h, e)) => {
                    let done = h.seq == seq && h.last;
                    got.push((h, e));
                    if done {
                        return got;
                    }
                }
                Some(Frame::Heartbeat(_)) => {}
                other => panic!("waiting for seq {seq}: got {other:?}"),
            }
        }
    }
}

/// A GTC limit order on instrument 1 of the built-in configuration.
pub fn limit(account: u32, client_order_id: u64, side: Side, price: i64, qty: u64) -> Input {
    Input::Command(ringex_core::Command::NewOrder(NewOrder {
        account,
        instrument: 1,
        client_order_id,
        side,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        post_only: false,
        price,
        qty,
    }))
}

/// Every journaled input and the events a replay from seq 1 gives it.
pub struct JournalReplay {
    pub records: Vec<ringex_daemon::replication::input_batch::StampedInput>,
    /// `events[i]` belongs to `records[i]`.
    pub events: Vec<Vec<Event>>,
    pub engine: ringex_core::Engine,
}

/// Reads every committed input of the node's Raft log in `data_dir` (each record's
/// checksum and chain checked, sequence gapless) and replays them into an empty engine
/// with the built-in capacities.
pub fn replay_journal(data_dir: &Path) -> JournalReplay {
    use ringex_daemon::replication::committed_inputs::scan_committed;
    let config = ringex_daemon::config::Config::builtin().engine_config();
    let mut engine = ringex_core::Engine::new(config).unwrap();
    let mut records = Vec::new();
    let mut all_events = Vec::new();
    scan_committed(data_dir, 0, &mut |r| {
        let mut out = Vec::new();
        ringex_daemon::apply_input::apply_input(
            &mut engine,
            r.seq,
            r.timestamp_ns,
            &r.input,
            &mut out,
        );
        assert_eq!(engine.last_seq(), r.seq, "replay refused {r:?}");
        records.push(*r);
        all_events.push(out);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(
            r.seq,
            i as u64 + 1,
            "journal does not start at 1 or has a gap"
        );
    }
    engine.check_invariants().unwrap();
    JournalReplay {
        records,
        events: all_events,
        engine,
    }
}

/// A small deterministic generator for test workloads (splitmix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// A random order on instrument 1 around its reference price, so that some trade.
pub fn random_order(rng: &mut Rng, client_order_id: u64) -> Input {
    let side = if rng.below(2) == 0 {
        Side::Buy
    } else {
        Side::Sell
    };
    let price = 100_000 - 20 + rng.below(41) as i64;
    let account = 1 + rng.below(3) as u32;
    let mut input = limit(account, client_order_id, side, price, 1 + rng.below(10));
    if rng.below(4) == 0 {
        if let Input::Command(ringex_core::Command::NewOrder(o)) = &mut input {
            o.time_in_force = TimeInForce::Ioc;
        }
    }
    input
}

/// The value of `key=` on the last log line containing `message`.
pub fn log_field(log: &str, message: &str, key: &str) -> Option<String> {
    let line = log.lines().rev().find(|l| l.contains(message))?;
    let at = line.find(&format!(" {key}="))? + key.len() + 2;
    Some(line[at..].split_whitespace().next()?.to_string())
}

/// Runs `ringex-engine journal ARGS` on a data directory; returns its stdout.
pub fn journal_tool(data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("journal")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "journal {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the daemon on link port `port` with `flags` until it acknowledges `orders`
/// random orders, then stops it cleanly; returns every acknowledgement as (client
/// order id, seq).
pub fn run_and_stop_on(data: &Path, port: u16, flags: &[&str], orders: u64) -> Vec<(u64, u64)> {
    let mut daemon = Daemon::start_on(data, port, flags);
    let (mut link, welcome) = daemon.serving_link();
    let mut rng = Rng(11);
    for id in 1..=orders {
        link.queue(id, &random_order(&mut rng, id));
    }
    link.flush().unwrap();
    let mut acked = Vec::new();
    let mut expect = welcome + 1;
    while acked.len() < orders as usize {
        match link.next_frame() {
            Some(Frame::Events(h, _)) => {
                assert_eq!(h.seq, expect);
                if h.last {
                    expect += 1;
                    if h.correlation != 0 {
                        acked.push((h.correlation, h.seq));
                    }
                }
            }
            Some(_) => {}
            None => panic!("link closed early:\n{}", daemon.log_text()),
        }
    }
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(30)).success());
    acked
}

/// Starts the daemon on link port `port` expecting it to refuse (exit 1); its log.
pub fn start_refused_on(data: &Path, port: u16, flags: &[&str]) -> String {
    let log = data.with_extension("refused.log");
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .arg("--tcp")
        .arg(format!("127.0.0.1:{port}"))
        .args(["--unix-socket", ""])
        .args(flags)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the daemon did not refuse to start");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(1), "{text}");
    text
}

/// Flips bits of one byte of a file in place.
pub fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x10;
    fs::write(path, bytes).unwrap();
}
