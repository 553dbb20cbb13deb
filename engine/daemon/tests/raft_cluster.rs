//! Three Raft nodes over real loopback TCP with real files: elect, replicate batches of
//! a trading workload, lose the leader (a new one serves within the bound), restart it
//! (it catches up), wipe a node's data directory (it rebuilds from a snapshot plus the
//! log); every node ends with the leader's state hash at the same applied index. And
//! membership grown 1 → 3 and shrunk back to 1 through the admin requests.
//!
//! The nodes run in this process (openraft, storage and network as the daemon uses
//! them); the test is the client that stamps and submits batches.

mod support;
mod workload;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ringex_daemon::durability::Durability;
use ringex_daemon::replication::admin::{send_admin, AdminRequest};
use ringex_daemon::replication::cluster_config::{ClusterConfig, NodeAddresses};
use ringex_daemon::replication::input_batch::{InputBatch, StampedInput};
use ringex_daemon::replication::log_tools;
use ringex_daemon::replication::node::RaftNode;
use support::{free_port, TempDir};
use workload::{engine_config, timestamp_ns_at, Workload};

const BATCHES: u64 = 20;
const BATCH_INPUTS: u64 = 50;
/// The feature is "a new leader serves within 1 s"; slack for a loaded 2-core machine.
const FAILOVER_BOUND: Duration = Duration::from_secs(3);
const WAIT: Duration = Duration::from_secs(20);

/// Each node's Raft port and (unused here, but distinct) link port.
type Ports = BTreeMap<u64, (u16, u16)>;

fn cluster_of(ids: &[u64], node_id: u64, ports: &Ports) -> ClusterConfig {
    let mut c = ClusterConfig::embedded("127.0.0.1:1", "127.0.0.1:2");
    c.node_id = node_id;
    c.nodes = ids
        .iter()
        .map(|id| NodeAddresses {
            id: *id,
            raft: format!("127.0.0.1:{}", ports[id].0),
            link: format!("127.0.0.1:{}", ports[id].1),
        })
        .collect();
    // Leave no log behind a snapshot, so a wiped node must install one.
    c.log_kept_behind_snapshot_entries = 0;
    c
}

struct Cluster {
    ports: Ports,
    dirs: BTreeMap<u64, TempDir>,
    nodes: BTreeMap<u64, RaftNode>,
    workload: Workload,
}

impl Cluster {
    fn new(ids: &[u64]) -> Cluster {
        Cluster {
            ports: ids
                .iter()
                .map(|id| (*id, (free_port(), free_port())))
                .collect(),
            dirs: ids
                .iter()
                .map(|id| (*id, TempDir::new(&format!("raft-node{id}"))))
                .collect(),
            nodes: BTreeMap::new(),
            workload: Workload::new(7),
        }
    }

    async fn start(&mut self, id: u64, members: &[u64]) {
        let config = cluster_of(members, id, &self.ports);
        let node = RaftNode::start(
            &config,
            &self.dirs[&id].0,
            engine_config(),
            Durability::Fsync,
        )
        .await
        .expect("node starts");
        self.nodes.insert(id, node);
    }

    async fn stop(&mut self, id: u64) {
        self.nodes.remove(&id).expect("running").shutdown().await;
    }

    /// The node every running node agrees leads, once one does.
    async fn leader(&self) -> u64 {
        let deadline = Instant::now() + WAIT;
        loop {
            let leaders: Vec<_> = self
                .nodes
                .values()
                .map(|n| n.raft.metrics().borrow().current_leader)
                .collect();
            if let Some(Some(l)) = leaders.first() {
                if self.nodes.contains_key(l) && leaders.iter().all(|x| *x == Some(*l)) {
                    return *l;
                }
            }
            assert!(Instant::now() < deadline, "no leader agreed: {leaders:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stamps and submits batches on the leader, as its sequencer would: after it has
    /// applied every entry of earlier terms, seq continues from its last applied input.
    async fn write(&mut self, batches: u64) -> Duration {
        let leader = self.leader().await;
        let node = &self.nodes[&leader];
        let started = Instant::now();
        let mut wrote = Duration::ZERO;
        for _ in 0..batches {
            wait_applied_all_logged(node).await;
            let (last_seq, _) = node.engine.last_seq_and_hash();
            let mut batch = InputBatch::default();
            for seq in last_seq + 1..=last_seq + BATCH_INPUTS {
                batch.push(&StampedInput {
                    seq,
                    timestamp_ns: timestamp_ns_at(seq),
                    input: self.workload.next_input(),
                });
            }
            let written = node.raft.client_write(batch).await.expect("leader commits");
            assert_eq!(written.data.0, last_seq + BATCH_INPUTS);
            if wrote.is_zero() {
                wrote = started.elapsed();
            }
        }
        wrote
    }

    /// Waits until every running node has applied the same index; returns it and the
    /// `(last_seq, state_hash)` they all hold there.
    async fn converged(&self) -> (u64, (u64, u64)) {
        let deadline = Instant::now() + WAIT;
        loop {
            let views: Vec<_> = self
                .nodes
                .values()
                .map(|n| {
                    let m = n.raft.metrics().borrow().clone();
                    (
                        m.last_applied.map(|l| l.index),
                        m.last_log_index,
                        n.engine.last_seq_and_hash(),
                    )
                })
                .collect();
            let (applied, logged, state) = views[0];
            if views.iter().all(|v| *v == (applied, logged, state)) && applied == logged {
                return (applied.unwrap_or(0), state);
            }
            assert!(
                Instant::now() < deadline,
                "nodes never converged: {views:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn log_warnings() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_test_writer()
        .try_init();
}

/// Every node of `ids` started, listing all of them.
async fn started(ids: &[u64]) -> Cluster {
    let mut c = Cluster::new(ids);
    for id in ids {
        c.start(*id, ids).await;
    }
    c
}

async fn wait_applied_all_logged(node: &RaftNode) {
    let deadline = Instant::now() + WAIT;
    loop {
        let m = node.raft.metrics().borrow().clone();
        if m.last_applied.map(|l| l.index) == m.last_log_index {
            return;
        }
        assert!(Instant::now() < deadline, "leader never applied its log");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_replicate_fail_over_and_rebuild() {
    log_warnings();
    tokio::time::timeout(Duration::from_secs(120), async {
        let ids = [1, 2, 3];
        let mut c = started(&ids).await;
        assert!(c.nodes[&1]
            .initialise(&cluster_of(&ids, 1, &c.ports))
            .await
            .expect("init"));
        assert!(!c.nodes[&1]
            .initialise(&cluster_of(&ids, 1, &c.ports))
            .await
            .expect("once"));
        c.write(BATCHES).await;
        let (_, (seq, _)) = c.converged().await;
        assert_eq!(seq, BATCHES * BATCH_INPUTS);

        // The leader dies: a new one is elected and commits within the bound.
        let old = c.leader().await;
        let killed = Instant::now();
        c.stop(old).await;
        c.write(1).await;
        let failover = killed.elapsed();
        eprintln!("failover: leader stopped -> first commit on the new leader in {failover:?}");
        assert!(failover < FAILOVER_BOUND, "failover took {failover:?}");
        c.write(BATCHES - 1).await;
        c.converged().await;

        // The old leader restarts from its data directory and catches up.
        c.start(old, &ids).await;
        let (_, (seq, _)) = c.converged().await;
        assert_eq!(seq, 2 * BATCHES * BATCH_INPUTS);

        // A node loses its data directory: it rebuilds from a snapshot plus the log.
        let leader = c.leader().await;
        c.nodes[&leader]
            .raft
            .trigger()
            .snapshot()
            .await
            .expect("snapshot");
        let wiped = ids
            .into_iter()
            .find(|id| *id != leader)
            .expect("a follower");
        c.stop(wiped).await;
        std::fs::remove_dir_all(&c.dirs[&wiped].0).expect("wiped");
        c.write(2).await;
        c.start(wiped, &ids).await;
        let (_, (seq, _)) = c.converged().await;
        assert_eq!(seq, (2 * BATCHES + 2) * BATCH_INPUTS);
        let rebuilt = c.nodes[&wiped].raft.metrics().borrow().clone();
        assert!(
            rebuilt.snapshot.is_some(),
            "the wiped node installed a snapshot"
        );

        for id in ids {
            c.stop(id).await;
        }
    })
    .await
    .expect("within the test's time bound");
}

/// Flips one byte a third of the way into a stopped node's entry log: damage to a
/// record that was flushed and counted, not a torn last append.
fn damage_entries(dir: &std::path::Path) {
    let path = dir.join("raft").join("entries");
    let mut bytes = std::fs::read(&path).expect("entry log");
    let at = bytes.len() / 3;
    bytes[at] ^= 0x40;
    std::fs::write(&path, bytes).expect("damaged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_node_is_refilled_by_the_leader_and_votes_only_once_repaired() {
    log_warnings();
    tokio::time::timeout(Duration::from_secs(120), async {
        let ids = [1, 2, 3];
        let mut c = started(&ids).await;
        c.nodes[&1]
            .initialise(&cluster_of(&ids, 1, &c.ports))
            .await
            .expect("init");
        c.write(BATCHES).await;
        c.converged().await;

        // A follower's log is damaged while it is down, and the leader goes down too.
        let leader = c.leader().await;
        let damaged = ids
            .into_iter()
            .find(|id| *id != leader)
            .expect("a follower");
        c.stop(damaged).await;
        let verify = |dir: &std::path::Path| {
            let mut out = Vec::new();
            log_tools::verify(dir, engine_config(), &mut out)
                .map(|()| String::from_utf8(out).expect("text"))
                .map_err(|e| e.to_string())
        };
        let report = verify(&c.dirs[&damaged].0).expect("intact before the damage");
        assert!(report.contains("checksums and chain intact"), "{report}");
        damage_entries(&c.dirs[&damaged].0);
        let refusal = verify(&c.dirs[&damaged].0).expect_err("damage found");
        assert!(refusal.contains("damaged at byte"), "{refusal}");
        c.stop(leader).await;
        c.start(damaged, &ids).await;
        assert!(c.nodes[&damaged].facts.vote_hold.is_held());
        // The damaged node and the third one are a majority by count, but the damaged
        // one lost entries it acknowledged: it must not help elect anyone.
        let refused_until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < refused_until {
            for n in c.nodes.values() {
                let state = n.raft.metrics().borrow().state;
                assert_ne!(
                    state,
                    openraft::ServerState::Leader,
                    "elected without a repaired majority"
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // The old leader returns: a leader is elected, refills the damaged node, and it
        // votes again with every entry and the same state.
        c.start(leader, &ids).await;
        c.write(2).await;
        let (_, (seq, _)) = c.converged().await;
        assert_eq!(seq, (BATCHES + 2) * BATCH_INPUTS);
        let deadline = Instant::now() + WAIT;
        while c.nodes[&damaged].facts.vote_hold.is_held() {
            assert!(
                Instant::now() < deadline,
                "the damaged node was never repaired"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            c.dirs[&damaged].0.join("lost").is_dir(),
            "the damaged files are kept"
        );

        // Repaired, it is a voter like any other: without the leader, the two elect.
        let leader = c.leader().await;
        c.stop(leader).await;
        c.write(1).await;
        c.converged().await;
        for id in ids.into_iter().filter(|id| *id != leader) {
            c.stop(id).await;
        }
    })
    .await
    .expect("within the test's time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_grows_from_one_to_three_and_shrinks_back() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let ids = [1, 2, 3];
        let mut c = Cluster::new(&ids);
        c.start(1, &[1]).await;
        c.nodes[&1]
            .initialise(&cluster_of(&[1], 1, &c.ports))
            .await
            .expect("init");
        c.write(3).await;
        c.start(2, &ids).await;
        c.start(3, &ids).await;
        let admin = format!("127.0.0.1:{}", c.ports[&1].0);
        for id in [2, 3] {
            let full = cluster_of(&ids, id, &c.ports);
            let request = AdminRequest::Add {
                id,
                node: full.this_node().node(),
            };
            send_admin(&admin, &request, WAIT).await.expect("added");
        }
        let status = send_admin(&admin, &AdminRequest::Status, WAIT)
            .await
            .expect("status");
        assert_eq!(
            (status.voters.clone(), status.role.as_str()),
            (vec![1, 2, 3], "leader")
        );
        assert_eq!(status.followers.len(), 2, "{status:?}");
        c.write(3).await;
        c.converged().await;

        for id in [2, 3] {
            send_admin(&admin, &AdminRequest::Remove { id }, WAIT)
                .await
                .expect("removed");
        }
        let status = send_admin(&admin, &AdminRequest::Status, WAIT)
            .await
            .expect("status");
        assert_eq!(status.voters, vec![1]);
        for id in [2, 3] {
            c.stop(id).await;
        }
        c.write(2).await;
        let (_, (seq, _)) = c.converged().await;
        assert_eq!(seq, 8 * BATCH_INPUTS);
        c.stop(1).await;
    })
    .await
    .expect("within the test's time bound");
}

/// Runs `ringex-engine cluster <args> --json --config <file>`; its stdout.
fn cluster_tool(config: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(support::BIN)
        .arg("cluster")
        .args(args)
        .arg("--json")
        .arg("--config")
        .arg(config)
        .output()
        .expect("the tool runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_tool_initialises_once_and_reports_status() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let mut c = Cluster::new(&[1]);
        c.start(1, &[1]).await;
        let (raft, link) = c.ports[&1];
        let file = c.dirs[&1].0.join("node1.toml");
        std::fs::write(
            &file,
            format!(
                "[cluster]\nnode_id = 1\n[[cluster.nodes]]\nid = 1\n\
                 raft = \"127.0.0.1:{raft}\"\nlink = \"127.0.0.1:{link}\"\n"
            ),
        )
        .expect("config written");
        let init = {
            let file = file.clone();
            tokio::task::spawn_blocking(move || cluster_tool(&file, &["init"]))
        };
        let _: serde_json::Value = serde_json::from_str(&init.await.expect("ran")).expect("json");
        let again = std::process::Command::new(support::BIN)
            .args(["cluster", "init", "--config"])
            .arg(&file)
            .output()
            .expect("the tool runs");
        assert!(!again.status.success(), "a second init is refused");
        assert!(String::from_utf8_lossy(&again.stderr).contains("already initialised"));
        c.leader().await;
        let status = tokio::task::spawn_blocking(move || cluster_tool(&file, &["status"]));
        let status: serde_json::Value =
            serde_json::from_str(&status.await.expect("ran")).expect("json");
        assert_eq!(status["role"], "leader");
        assert_eq!(status["voters"], serde_json::json!([1]));
        assert_eq!(
            (
                status["leader_id"].as_u64(),
                status["term"].as_u64().map(|t| t >= 1)
            ),
            (Some(1), Some(true))
        );
        c.stop(1).await;
    })
    .await
    .expect("within the test's time bound");
}

#[test]
fn a_cluster_off_loopback_is_refused_with_the_reason() {
    let dir = TempDir::new("raft-config");
    let file = dir.0.join("bad.toml");
    std::fs::write(
        &file,
        "[cluster]\nnode_id = 1\n[[cluster.nodes]]\nid = 1\n\
         raft = \"10.1.2.3:7710\"\nlink = \"127.0.0.1:7700\"\n",
    )
    .expect("config written");
    let out = std::process::Command::new(support::BIN)
        .args(["cluster", "status", "--config"])
        .arg(&file)
        .output()
        .expect("the tool runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not loopback") && stderr.contains("TLS"),
        "{stderr}"
    );
}
