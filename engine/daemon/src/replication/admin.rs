//! Admin requests of the cluster tool, answered over the `raft` listener: status,
//! initialise, add a node, remove a node. Membership itself is openraft's: these only
//! call it, so the rules it enforces (initialise once, one change at a time, a removed
//! leader steps down) hold.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openraft::{ChangeMembers, Raft, ServerState};
use serde::{Deserialize, Serialize};

use super::log_repair::VoteHold;
use super::network_client::PeerClient;
use super::peer_frame::FrameKind;
use super::role_log::RoleCounters;
use super::state_machine::EngineView;
use super::type_config::{ClusterNode, RingexRaft};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminRequest {
    Status,
    /// Every listed node becomes a voter; refused once the cluster is initialised.
    Init {
        nodes: BTreeMap<u64, ClusterNode>,
    },
    /// Added as a learner, caught up, then promoted to voter.
    Add {
        id: u64,
        node: ClusterNode,
    },
    Remove {
        id: u64,
    },
}

/// One follower's replication as the leader sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerLag {
    pub id: u64,
    /// Highest log index known replicated there; none before the first answer.
    pub matched_index: Option<u64>,
    /// Entries the leader holds that the follower has not confirmed.
    pub lag_entries: u64,
}

/// What `cluster status` prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    pub node_id: u64,
    pub role: String,
    pub term: u64,
    /// 0 when no leader is known.
    pub leader_id: u64,
    pub last_log_index: u64,
    /// The highest index this node knows committed (saved by openraft as it learns it).
    pub committed_index: u64,
    pub applied_index: u64,
    pub snapshot_index: u64,
    /// The engine's last applied seq and its state hash there (hex).
    pub last_seq: u64,
    pub state_hash: String,
    /// Set aside after damage and not yet refilled: it grants no vote until it is.
    pub repairing: bool,
    /// Terms seen begin, and snapshots put in place, since the node started.
    pub elections: u64,
    pub snapshots: u64,
    pub voters: Vec<u64>,
    pub learners: Vec<u64>,
    /// On the leader only.
    pub followers: Vec<FollowerLag>,
}

pub type AdminAnswer = Result<ClusterStatus, String>;

/// Sends one admin request to the node whose Raft listener is `raft_addr`.
pub async fn send_admin(raft_addr: &str, request: &AdminRequest, timeout: Duration) -> AdminAnswer {
    PeerClient::new(0, raft_addr)
        .call::<_, AdminAnswer>(FrameKind::Admin, request, timeout)
        .await?
}

/// What a node knows of itself beyond openraft's metrics, for its status.
#[derive(Clone)]
pub struct NodeFacts {
    pub engine: EngineView,
    pub counters: Arc<RoleCounters>,
    pub committed_index: Arc<AtomicU64>,
    pub vote_hold: Arc<VoteHold>,
}

pub async fn answer_admin(
    raft: &Raft<RingexRaft>,
    facts: &NodeFacts,
    request: AdminRequest,
) -> AdminAnswer {
    match request {
        AdminRequest::Status => {}
        AdminRequest::Init { nodes } => {
            if raft.is_initialized().await.map_err(|e| e.to_string())? {
                return Err("the cluster is already initialised".into());
            }
            raft.initialize(nodes).await.map_err(|e| e.to_string())?;
        }
        AdminRequest::Add { id, node } => {
            if let Some(member) = member_without_raft_address(raft) {
                return Err(format!(
                    "node {member} has no raft address in the membership (it started \
                     alone, without a Raft listener), so no peer could ever reach it: \
                     grow a cluster from a node whose [cluster] named its raft address \
                     from its first start"
                ));
            }
            // Blocks until the learner has caught up, so the promotion that follows
            // never leaves the cluster waiting on a node far behind.
            raft.add_learner(id, node, true)
                .await
                .map_err(|e| e.to_string())?;
            raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
                .await
                .map_err(|e| e.to_string())?;
        }
        AdminRequest::Remove { id } => {
            raft.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(status(raft, facts))
}

/// A member the others could not reach: one that started alone with no Raft listener.
fn member_without_raft_address(raft: &Raft<RingexRaft>) -> Option<u64> {
    let metrics = raft.metrics().borrow().clone();
    let member = metrics
        .membership_config
        .membership()
        .nodes()
        .find(|(_, node)| node.raft.is_empty())
        .map(|(id, _)| *id);
    member
}

/// This node's view of the cluster, from openraft's metrics.
pub fn status(raft: &Raft<RingexRaft>, facts: &NodeFacts) -> ClusterStatus {
    let m = raft.metrics().borrow().clone();
    let (last_seq, state_hash) = facts.engine.last_seq_and_hash();
    let last_log_index = m.last_log_index.unwrap_or(0);
    let membership = m.membership_config.membership();
    let followers = m
        .replication
        .iter()
        .flatten()
        .filter(|(id, _)| **id != m.id)
        .map(|(id, matched)| {
            let matched_index = matched.map(|l| l.index);
            FollowerLag {
                id: *id,
                matched_index,
                lag_entries: last_log_index.saturating_sub(matched_index.unwrap_or(0)),
            }
        })
        .collect();
    ClusterStatus {
        node_id: m.id,
        role: role_name(m.state).into(),
        term: m.current_term,
        leader_id: m.current_leader.unwrap_or(0),
        last_log_index,
        committed_index: facts.committed_index.load(Ordering::Acquire),
        applied_index: m.last_applied.map_or(0, |l| l.index),
        snapshot_index: m.snapshot.map_or(0, |l| l.index),
        last_seq,
        state_hash: format!("{state_hash:#018x}"),
        repairing: facts.vote_hold.is_held(),
        elections: facts.counters.elections(),
        snapshots: facts.counters.snapshots(),
        voters: membership.voter_ids().collect(),
        learners: membership.learner_ids().collect(),
        followers,
    }
}

fn role_name(state: ServerState) -> &'static str {
    match state {
        ServerState::Leader => "leader",
        ServerState::Follower => "follower",
        ServerState::Candidate => "candidate",
        ServerState::Learner => "learner",
        ServerState::Shutdown => "shutdown",
    }
}
