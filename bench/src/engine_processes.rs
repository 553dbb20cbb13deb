//! Engine daemons as separate `ringex-engine` processes on loopback, each node on its
//! own address (127.0.0.1, .2, .3 …) with its own configuration, data directory and
//! log: the default engine (no `[cluster]`: a lone Raft node) or a Raft cluster of one
//! or more nodes. A link to the engine goes to whichever node leads, found as a gateway
//! finds it.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ringex_core::EngineConfig;
use ringex_daemon::config::Durability;
use serde_json::Value;

use crate::daemon_harness::{daemon_config, free_port_on};
use crate::engine_link::{EngineLink, LinkLost};

/// Most nodes a benchmark starts (node i listens on 127.0.0.i).
const NODES_MAX: usize = 9;
/// How long a start may take before the benchmark gives up on it.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause between rounds over the nodes while no node leads.
const LEADER_RETRY_PAUSE: Duration = Duration::from_millis(2);
/// The driver sends no heartbeats between phases: the engine must not take a quiet
/// driver for a dead gateway.
const QUIET_LINK_TIMEOUT_MS: u64 = 600_000;

/// One `ringex-engine` process and where it keeps its files.
pub struct NodeProcess {
    pub id: u64,
    binary: PathBuf,
    dir: PathBuf,
    pub link_addr: SocketAddr,
    child: Option<Child>,
    starts: u32,
}

impl NodeProcess {
    fn config_path(&self) -> PathBuf {
        self.dir.join("engine.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Starts the process and waits until its link listener accepts.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "node {} is already running", self.id);
        self.starts += 1;
        let log = std::fs::File::create(self.dir.join(format!("engine-{}.log", self.starts)))
            .expect("create the node's log");
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(self.config_path())
            .stdout(log.try_clone().expect("share the log file"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start ringex-engine");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while !listening(self.link_addr) {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(exited.is_none(), "node {} exited: {exited:?}", self.id);
            assert!(Instant::now() < deadline, "node {} did not listen", self.id);
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// kill -9.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // It may have exited already; either way it is gone once waited for.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Loses the node's data directory (the node must be stopped).
    pub fn wipe(&self) {
        assert!(self.child.is_none(), "wipe a running node");
        let _ = std::fs::remove_dir_all(self.data_dir());
    }

    /// Everything the node's process has logged, over all its starts.
    pub fn log_text(&self) -> String {
        (1..=self.starts)
            .filter_map(|start| {
                std::fs::read_to_string(self.dir.join(format!("engine-{start}.log"))).ok()
            })
            .collect()
    }

    /// `ringex-engine cluster <args> --json --config <this node's file>`, parsed.
    pub fn cluster_tool(&self, args: &[&str]) -> Result<Value, String> {
        let out = Command::new(&self.binary)
            .arg("cluster")
            .args(args)
            .arg("--json")
            .arg("--config")
            .arg(self.config_path())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
    }

    /// This node's `cluster status`.
    pub fn status(&self) -> Result<Value, String> {
        self.cluster_tool(&["status"])
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The engine's nodes: one without `[cluster]` (the default lone node), or a cluster
/// of `count`.
pub struct EngineNodes {
    pub nodes: Vec<NodeProcess>,
    /// The engine limits every node runs with (the workload is generated for them).
    pub engine: EngineConfig,
}

impl EngineNodes {
    /// Writes each node's configuration under `root` (fsync durability, the workload's
    /// limits, no instruments or accounts: the workload creates its own).
    pub fn new(binary: &Path, root: &Path, count: usize, cluster: bool) -> EngineNodes {
        assert!((1..=NODES_MAX).contains(&count) && (cluster || count == 1));
        let _ = std::fs::remove_dir_all(root);
        let addresses: Vec<(u64, String, SocketAddr)> = (1..=count as u8)
            .map(|i| {
                let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, i));
                let raft = SocketAddr::new(ip, free_port_on(ip)).to_string();
                (u64::from(i), raft, SocketAddr::new(ip, free_port_on(ip)))
            })
            .collect();
        let mut engine = None;
        let nodes = addresses
            .iter()
            .map(|(id, _, link_addr)| {
                let dir = root.join(format!("node{id}"));
                let mut config = daemon_config(&dir.join("data"), Durability::Fsync);
                config.link.tcp = link_addr.to_string();
                config.link.heartbeat_timeout_ms = QUIET_LINK_TIMEOUT_MS;
                config.validate().expect("benchmark node configuration");
                engine = Some(config.engine_config());
                let mut text = config.to_toml();
                if cluster {
                    text.push_str(&cluster_table(*id, &addresses));
                }
                std::fs::create_dir_all(&dir).expect("create the node's folder");
                let node = NodeProcess {
                    id: *id,
                    binary: binary.to_path_buf(),
                    dir,
                    link_addr: *link_addr,
                    child: None,
                    starts: 0,
                };
                std::fs::write(node.config_path(), text).expect("write the node's config");
                node
            })
            .collect();
        EngineNodes {
            nodes,
            engine: engine.expect("at least one node"),
        }
    }

    /// Starts every node; a cluster of several is then initialised.
    pub fn start(&mut self) {
        for node in &mut self.nodes {
            node.start();
        }
        if self.nodes.len() > 1 {
            self.nodes[0]
                .cluster_tool(&["init"])
                .expect("initialise the cluster");
        }
    }

    /// A link to the node that leads, and that node's index: tries the nodes in turn,
    /// following a NotLeader's hint, until one welcomes the link or `timeout` passes.
    pub fn link_to_leader(&self, read_timeout: Duration, timeout: Duration) -> (usize, EngineLink) {
        let deadline = Instant::now() + timeout;
        let mut next = 0;
        loop {
            let tried = next;
            match EngineLink::open(self.nodes[tried].link_addr, read_timeout) {
                Ok(link) => return (tried, link),
                Err(LinkLost::NotLeader { leader_id }) if leader_id != 0 => {
                    next = self
                        .index_of(leader_id)
                        .unwrap_or((tried + 1) % self.nodes.len());
                }
                Err(_) => next = (tried + 1) % self.nodes.len(),
            }
            if next <= tried {
                assert!(Instant::now() < deadline, "no node led within {timeout:?}");
                std::thread::sleep(LEADER_RETRY_PAUSE);
            }
        }
    }

    fn index_of(&self, id: u64) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }
}

/// Raft timers of the benchmark's clusters, ms: heartbeat, election timeout min and max
/// (the daemon's loopback defaults).
pub const CLUSTER_TIMERS_MS: [u64; 3] = [50, 150, 300];

/// The `[cluster]` table of node `me` among `nodes` (id, raft address, link address).
fn cluster_table(me: u64, nodes: &[(u64, String, SocketAddr)]) -> String {
    let [heartbeat, election_min, election_max] = CLUSTER_TIMERS_MS;
    let mut text = format!(
        "\n[cluster]\nnode_id = {me}\nheartbeat_ms = {heartbeat}\n\
         election_timeout_min_ms = {election_min}\nelection_timeout_max_ms = {election_max}\n"
    );
    for (id, raft, link) in nodes {
        let _ = write!(
            text,
            "\n[[cluster.nodes]]\nid = {id}\nraft = \"{raft}\"\nlink = \"{link}\"\n"
        );
    }
    text
}

/// Whether something listens on `addr`. A connection to itself is not that: a connect to
/// a local port nobody listens on meets itself (TCP simultaneous open) when the kernel
/// picks that same port as its source.
fn listening(addr: SocketAddr) -> bool {
    TcpStream::connect(addr).is_ok_and(|s| s.local_addr().ok() != s.peer_addr().ok())
}
