//! One Raft node assembled: the log and state machine in `<data_dir>/raft`, openraft
//! with the configured timers, the peer listener serving on its own task.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use openraft::Raft;
use ringex_core::EngineConfig;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::admin::NodeFacts;
use super::cluster_config::ClusterConfig;
use super::committed_seq::CommittedSeq;
use super::log_repair::{
    accept_loss as accept_loss_of, forget_vote_of_emptied_node, lost_folder, release_when_repaired,
    set_aside, OpenFailure, VoteHold,
};
use super::log_store::LogStore;
use super::network_client::PeerNetwork;
use super::network_server::serve;
use super::role_log::{log_role_changes, RoleCounters};
use super::state_machine::{EngineView, StateMachine};
use super::type_config::RingexRaft;
use crate::durability::Durability;
use crate::storage::FileStorage;

/// The Raft directory inside the data directory.
pub const RAFT_DIR: &str = "raft";
/// Damaged parts fixed at one start at most: entries, committed, vote, purged, snapshot.
const REPAIR_ROUNDS_MAX: usize = 6;

/// A node's storage opened and its state rebuilt, before openraft runs on it.
pub struct OpenedNode {
    log: LogStore<FileStorage>,
    pub state: StateMachine<FileStorage>,
    /// Held when the node was set aside for repair (see [`log_repair`](super::log_repair)).
    pub vote_hold: Arc<VoteHold>,
}

impl OpenedNode {
    /// Checks every entry of `<data_dir>/raft` and rebuilds the engine from the newest
    /// snapshot and the committed entries after it. A directory that fails its checks
    /// has the damaged part cut off when the operator accepts the loss; otherwise it is
    /// set aside and the node starts empty, votes held, when `repairable` (it has peers
    /// to be refilled from); otherwise it is refused.
    pub fn open(
        data_dir: &Path,
        engine_config: EngineConfig,
        durability: Durability,
        repairable: bool,
        accept_loss: bool,
    ) -> Result<OpenedNode, String> {
        let dir = data_dir.join(RAFT_DIR);
        let folder = lost_folder(data_dir);
        let mut vote_hold = VoteHold::default();
        // Each round fixes one damaged part; a directory has only a few parts.
        for _ in 0..REPAIR_ROUNDS_MAX {
            let failure = match open_checked(&dir, engine_config, durability) {
                Ok((log, state)) => {
                    if accept_loss && !repairable && emptied_vote_set_aside(&dir, &folder)? {
                        continue;
                    }
                    return Ok(OpenedNode {
                        log,
                        state,
                        vote_hold: Arc::new(vote_hold),
                    });
                }
                Err(failure) => failure,
            };
            let Some(damage) = failure.damage else {
                return Err(failure.message);
            };
            if accept_loss {
                let done = accept_loss_of(&FileStorage, &dir, &folder, damage)
                    .map_err(|e| format!("{}; accepting the loss failed: {e}", failure.message))?;
                tracing::error!(damage = %failure.message, done, "raft log loss accepted");
            } else if repairable {
                let aside = set_aside(&FileStorage, data_dir, &dir)
                    .map_err(|e| format!("{}; setting it aside failed: {e}", failure.message))?;
                tracing::error!(
                    damage = %failure.message,
                    moved_to = %aside.moved_to.display(),
                    committed_index = aside.committed_index,
                    "raft log damaged: set aside, refilled from the leader; no vote until repaired"
                );
                vote_hold = VoteHold::until(aside.committed_index);
            } else {
                return Err(format!(
                    "{}: this node is alone in its cluster, so no peer can repair it; \
                     restore its data directory from a backup, or start it once with \
                     --accept-journal-loss to cut it to its last good entry",
                    failure.message
                ));
            }
        }
        Err(format!(
            "{} still fails its checks after {REPAIR_ROUNDS_MAX} repairs",
            dir.display()
        ))
    }
}

/// See [`forget_vote_of_emptied_node`]; logs what it did.
fn emptied_vote_set_aside(dir: &Path, folder: &Path) -> Result<bool, String> {
    let done = forget_vote_of_emptied_node(&FileStorage, dir, folder)
        .map_err(|e| format!("setting the vote of an emptied node aside: {e}"))?;
    if done {
        tracing::error!(
            moved_to = %folder.display(),
            "raft log loss accepted: nothing of the log or a snapshot is left, so the \
             membership went with it; vote set aside, the node starts as a new one-node \
             cluster"
        );
    }
    Ok(done)
}

fn open_checked(
    dir: &Path,
    engine_config: EngineConfig,
    durability: Durability,
) -> Result<(LogStore<FileStorage>, StateMachine<FileStorage>), OpenFailure> {
    let log = LogStore::open(FileStorage, dir, durability)?;
    let state = StateMachine::open(FileStorage, dir, engine_config, &log)?;
    Ok((log, state))
}

pub struct RaftNode {
    pub raft: Raft<RingexRaft>,
    pub engine: EngineView,
    /// What the node knows of itself, for its status and metrics.
    pub facts: NodeFacts,
    /// How far its log is durable, for the proposer's pacing.
    pub committed_seq: CommittedSeq,
    /// The peer listener's task; none for a lone node without a Raft listener.
    server: Option<JoinHandle<()>>,
}

impl RaftNode {
    /// Opens (checking every entry) and rebuilds the state, binds the peer listener,
    /// starts openraft. Must run inside a tokio runtime.
    pub async fn start(
        cluster: &ClusterConfig,
        data_dir: &Path,
        engine_config: EngineConfig,
        durability: Durability,
    ) -> Result<RaftNode, String> {
        let opened = OpenedNode::open(
            data_dir,
            engine_config,
            durability,
            cluster.nodes.len() > 1,
            false,
        )?;
        RaftNode::launch(cluster, opened).await
    }

    /// Binds the peer listener (if this node has one) and starts openraft on an opened
    /// node. Must run inside a tokio runtime.
    pub async fn launch(cluster: &ClusterConfig, opened: OpenedNode) -> Result<RaftNode, String> {
        cluster.validate()?;
        let OpenedNode {
            log,
            state,
            vote_hold,
        } = opened;
        let engine = state.view();
        let committed_index = log.committed_index();
        let committed_seq = log.committed_seq();
        let peer_listener = match cluster.raft_listener()? {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| format!("binding the raft listener {addr}: {e}"))?,
            ),
            None => None,
        };
        let source = peer_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.ip());
        let raft = Raft::new(
            cluster.node_id,
            cluster.raft_config()?,
            PeerNetwork { source },
            log,
            state,
        )
        .await
        .map_err(|e| format!("starting raft: {e}"))?;
        let counters = Arc::new(RoleCounters::default());
        let facts = NodeFacts {
            engine: engine.clone(),
            counters: Arc::clone(&counters),
            committed_index,
            vote_hold: Arc::clone(&vote_hold),
        };
        let server = peer_listener
            .map(|listener| tokio::spawn(serve(listener, raft.clone(), facts.clone())));
        tokio::spawn(log_role_changes(raft.clone(), counters));
        tokio::spawn(release_when_repaired(raft.clone(), vote_hold));
        Ok(RaftNode {
            raft,
            engine,
            facts,
            committed_seq,
            server,
        })
    }

    /// Makes every configured node a voter, once: a no-op on an initialised cluster.
    pub async fn initialise(&self, cluster: &ClusterConfig) -> Result<bool, String> {
        if self
            .raft
            .is_initialized()
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(false);
        }
        let nodes: BTreeMap<_, _> = cluster.nodes.iter().map(|n| (n.id, n.node())).collect();
        self.raft
            .initialize(nodes)
            .await
            .map_err(|e| format!("initialising the cluster: {e}"))?;
        Ok(true)
    }

    /// Stops serving peers and stops openraft.
    pub async fn shutdown(self) {
        if let Some(server) = self.server {
            server.abort();
        }
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "raft did not stop cleanly");
        }
    }
}
