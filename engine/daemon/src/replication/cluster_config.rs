//! The `[cluster]` settings: which node this is, every node's Raft and link listener,
//! and the Raft timers. No `[cluster]` table means the embedded single-node cluster
//! (node 1, initialised on the first start of an empty data directory, its link the
//! `[link]` listeners, no Raft listener: a lone node has no peer to talk to).
//!
//! Raft traffic is not encrypted yet, so every address must be loopback (127.0.0.0/8 or
//! ::1): a configuration naming any other address is refused at start, not silently
//! exposed.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::type_config::ClusterNode;

/// The node id of the embedded single-node cluster.
pub const EMBEDDED_NODE_ID: u64 = 1;

/// Loopback timer defaults; a LAN wants about 100 / 500 / 1000 ms (ops/engine-daemon.md).
const DEFAULT_HEARTBEAT_MS: u64 = 50;
const DEFAULT_ELECTION_TIMEOUT_MIN_MS: u64 = 150;
const DEFAULT_ELECTION_TIMEOUT_MAX_MS: u64 = 300;
/// A snapshot of a full book takes seconds to stream; openraft's default (200 ms per
/// chunk) would retry it forever.
const DEFAULT_INSTALL_SNAPSHOT_TIMEOUT_MS: u64 = 30_000;
/// Log kept behind a snapshot, so a follower installing one is not purged under.
const DEFAULT_LOG_KEPT_BEHIND_SNAPSHOT_ENTRIES: u64 = 10_000;
/// Entries in one AppendEntries call. An entry is a whole batch of inputs (up to
/// `pipeline.batch_max`), and openraft gives the call one heartbeat interval: openraft's
/// default (300 entries, tens of MiB) could never be sent in time to a follower that is
/// far behind, which would then never catch up.
const DEFAULT_ENTRIES_PER_APPEND_MAX: u64 = 8;
/// Most nodes in a cluster: a bound on every per-peer table.
pub const NODES_MAX: usize = 9;

fn default_heartbeat_ms() -> u64 {
    DEFAULT_HEARTBEAT_MS
}
fn default_election_timeout_min_ms() -> u64 {
    DEFAULT_ELECTION_TIMEOUT_MIN_MS
}
fn default_election_timeout_max_ms() -> u64 {
    DEFAULT_ELECTION_TIMEOUT_MAX_MS
}
fn default_install_snapshot_timeout_ms() -> u64 {
    DEFAULT_INSTALL_SNAPSHOT_TIMEOUT_MS
}
fn default_entries_per_append_max() -> u64 {
    DEFAULT_ENTRIES_PER_APPEND_MAX
}
fn default_log_kept_behind_snapshot_entries() -> u64 {
    DEFAULT_LOG_KEPT_BEHIND_SNAPSHOT_ENTRIES
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// This node's id: one of `nodes`.
    pub node_id: u64,
    pub nodes: Vec<NodeAddresses>,
    #[serde(default = "default_heartbeat_ms")]
    pub heartbeat_ms: u64,
    #[serde(default = "default_election_timeout_min_ms")]
    pub election_timeout_min_ms: u64,
    #[serde(default = "default_election_timeout_max_ms")]
    pub election_timeout_max_ms: u64,
    #[serde(default = "default_install_snapshot_timeout_ms")]
    pub install_snapshot_timeout_ms: u64,
    #[serde(default = "default_log_kept_behind_snapshot_entries")]
    pub log_kept_behind_snapshot_entries: u64,
    #[serde(default = "default_entries_per_append_max")]
    pub entries_per_append_max: u64,
    /// This node's Prometheus `/metrics` listener (loopback); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
}

/// One `[[cluster.nodes]]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeAddresses {
    pub id: u64,
    /// The Raft peer listener.
    pub raft: String,
    /// The gateway link listener.
    pub link: String,
}

impl NodeAddresses {
    pub fn node(&self) -> ClusterNode {
        ClusterNode {
            raft: self.raft.clone(),
            link: self.link.clone(),
        }
    }
}

impl ClusterConfig {
    /// The embedded single-node cluster around a daemon whose link listens on `link`
    /// ("" for none) with its Raft listener on `raft` ("" for none).
    pub fn embedded(raft: &str, link: &str) -> ClusterConfig {
        ClusterConfig {
            node_id: EMBEDDED_NODE_ID,
            nodes: vec![NodeAddresses {
                id: EMBEDDED_NODE_ID,
                raft: raft.to_string(),
                link: link.to_string(),
            }],
            heartbeat_ms: DEFAULT_HEARTBEAT_MS,
            election_timeout_min_ms: DEFAULT_ELECTION_TIMEOUT_MIN_MS,
            election_timeout_max_ms: DEFAULT_ELECTION_TIMEOUT_MAX_MS,
            install_snapshot_timeout_ms: DEFAULT_INSTALL_SNAPSHOT_TIMEOUT_MS,
            log_kept_behind_snapshot_entries: DEFAULT_LOG_KEPT_BEHIND_SNAPSHOT_ENTRIES,
            entries_per_append_max: DEFAULT_ENTRIES_PER_APPEND_MAX,
            metrics: None,
        }
    }

    /// Refuses a configuration that would misaddress a peer, expose Raft off loopback
    /// or give openraft timers it cannot elect with.
    pub fn validate(&self) -> Result<(), String> {
        if self.nodes.is_empty() || self.nodes.len() > NODES_MAX {
            return Err(format!("cluster.nodes: 1..={NODES_MAX} nodes"));
        }
        let mut ids = BTreeSet::new();
        let mut addresses = BTreeSet::new();
        for n in &self.nodes {
            if n.id == 0 {
                return Err("cluster.nodes: id must be at least 1".into());
            }
            if !ids.insert(n.id) {
                return Err(format!("cluster.nodes: id {} appears twice", n.id));
            }
            for (what, text) in [("raft", &n.raft), ("link", &n.link)] {
                // A node alone needs no peer listener, and may serve links over the
                // Unix socket only; a node with peers must be reachable by them and
                // by the gateways they redirect.
                if text.is_empty() && self.nodes.len() == 1 {
                    continue;
                }
                let addr = loopback_addr(text)
                    .map_err(|e| format!("cluster.nodes id {} {what}: {e}", n.id))?;
                if !addresses.insert(addr) {
                    return Err(format!("cluster.nodes: address {addr} appears twice"));
                }
            }
        }
        if !ids.contains(&self.node_id) {
            return Err(format!(
                "cluster.node_id {} is not one of cluster.nodes",
                self.node_id
            ));
        }
        if self.heartbeat_ms == 0
            || self.election_timeout_min_ms <= self.heartbeat_ms
            || self.election_timeout_max_ms <= self.election_timeout_min_ms
        {
            return Err(
                "cluster: 0 < heartbeat_ms < election_timeout_min_ms < election_timeout_max_ms"
                    .into(),
            );
        }
        if self.install_snapshot_timeout_ms == 0 {
            return Err("cluster.install_snapshot_timeout_ms must be at least 1".into());
        }
        if let Some(text) = &self.metrics {
            loopback_addr(text).map_err(|e| format!("cluster.metrics: {e}"))?;
        }
        Ok(())
    }

    /// This node's Raft listener, if it has one (a lone node may have none).
    pub fn raft_listener(&self) -> Result<Option<SocketAddr>, String> {
        let text = &self.this_node().raft;
        if text.is_empty() {
            return Ok(None);
        }
        loopback_addr(text).map(Some)
    }

    /// This node's own addresses.
    pub fn this_node(&self) -> &NodeAddresses {
        self.nodes
            .iter()
            .find(|n| n.id == self.node_id)
            .expect("validate() checked that node_id is configured")
    }

    /// The configured node with this id.
    pub fn node(&self, id: u64) -> Option<&NodeAddresses> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// openraft's settings from these.
    pub fn raft_config(&self) -> Result<Arc<openraft::Config>, String> {
        let config = openraft::Config {
            cluster_name: "ringex".into(),
            heartbeat_interval: self.heartbeat_ms,
            election_timeout_min: self.election_timeout_min_ms,
            election_timeout_max: self.election_timeout_max_ms,
            install_snapshot_timeout: self.install_snapshot_timeout_ms,
            max_in_snapshot_log_to_keep: self.log_kept_behind_snapshot_entries,
            max_payload_entries: self.entries_per_append_max,
            // ringex cuts snapshots itself (on its own cadence, off the apply path).
            snapshot_policy: openraft::SnapshotPolicy::Never,
            ..Default::default()
        };
        config
            .validate()
            .map(Arc::new)
            .map_err(|e| format!("cluster: {e}"))
    }
}

/// Parses `text` as `host:port` and refuses anything but loopback: Raft has no TLS yet.
pub fn loopback_addr(text: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text
        .parse()
        .map_err(|e| format!("{text:?} is not an ip:port address: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr} is not loopback: cluster traffic has no TLS yet, so only \
             127.0.0.0/8 and ::1 are allowed"
        ));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> ClusterConfig {
        toml::from_str(
            r#"
            node_id = 2
            [[nodes]]
            id = 1
            raft = "127.0.0.1:7710"
            link = "127.0.0.1:7700"
            [[nodes]]
            id = 2
            raft = "127.0.0.2:7710"
            link = "127.0.0.2:7700"
            [[nodes]]
            id = 3
            raft = "127.0.0.3:7710"
            link = "127.0.0.3:7700"
            "#,
        )
        .expect("parses")
    }

    #[test]
    fn a_three_node_table_parses_with_loopback_timers() {
        let c = three();
        c.validate().expect("valid");
        assert_eq!(c.this_node().raft, "127.0.0.2:7710");
        assert_eq!((c.heartbeat_ms, c.election_timeout_min_ms), (50, 150));
        let raft = c.raft_config().expect("openraft accepts it");
        assert_eq!(raft.election_timeout_max, 300);
    }

    #[test]
    fn addresses_off_loopback_are_refused_with_the_reason() {
        let mut c = three();
        c.nodes[2].raft = "10.0.0.3:7710".into();
        let e = c.validate().expect_err("refused");
        assert!(e.contains("not loopback") && e.contains("TLS"), "{e}");
    }

    #[test]
    fn only_a_lone_node_may_go_without_listeners() {
        let lone = ClusterConfig::embedded("", "");
        lone.validate()
            .expect("a lone node needs no raft or tcp listener");
        assert_eq!(lone.raft_listener(), Ok(None));
        let mut c = three();
        c.nodes[0].raft = String::new();
        assert!(c.validate().expect_err("refused").contains("id 1 raft"));
        let mut c = three();
        c.nodes[2].link = String::new();
        assert!(c.validate().is_err());
    }

    #[test]
    fn misaddressed_clusters_are_refused() {
        let mut c = three();
        c.node_id = 4;
        assert!(c.validate().is_err());
        let mut c = three();
        c.nodes[1].id = 1;
        assert!(c.validate().expect_err("dup").contains("twice"));
        let mut c = three();
        c.nodes[1].link = c.nodes[0].link.clone();
        assert!(c.validate().is_err());
        let mut c = three();
        c.election_timeout_min_ms = c.heartbeat_ms;
        assert!(c.validate().is_err());
        let mut c = three();
        c.nodes[0].id = 0;
        assert!(c.validate().is_err());
    }
}
