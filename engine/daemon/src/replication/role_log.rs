//! Logs a node's Raft view whenever it changes: role, term, leader, and the running
//! counts of terms seen (elections) and snapshots installed or built; the operator's
//! record of failovers next to `cluster status`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use openraft::{Raft, ServerState};

use super::type_config::RingexRaft;

/// The running counts, for `cluster status`.
#[derive(Debug, Default)]
pub struct RoleCounters {
    elections: AtomicU64,
    snapshots: AtomicU64,
}

impl RoleCounters {
    /// Terms this node has seen begin since it started.
    pub fn elections(&self) -> u64 {
        self.elections.load(Ordering::Relaxed)
    }

    /// Snapshots put in place since it started (built here or installed from the leader).
    pub fn snapshots(&self) -> u64 {
        self.snapshots.load(Ordering::Relaxed)
    }
}

/// Runs until openraft stops publishing metrics (the node shut down).
pub async fn log_role_changes(raft: Raft<RingexRaft>, counters: Arc<RoleCounters>) {
    let mut metrics = raft.metrics();
    let mut seen: Option<(ServerState, u64, Option<u64>)> = None;
    let mut elections: u64 = 0;
    let mut snapshots: u64 = 0;
    let mut last_snapshot = None;
    loop {
        let m = metrics.borrow_and_update().clone();
        if m.snapshot != last_snapshot {
            last_snapshot = m.snapshot;
            snapshots += 1;
            tracing::info!(
                snapshot_index = m.snapshot.map_or(0, |l| l.index),
                snapshots,
                "raft snapshot in place (built here or installed from the leader)"
            );
        }
        let view = (m.state, m.current_term, m.current_leader);
        if seen != Some(view) {
            if seen.is_some_and(|(_, term, _)| term < m.current_term) {
                elections += 1;
            }
            seen = Some(view);
            tracing::info!(
                node = m.id,
                role = ?m.state,
                term = m.current_term,
                leader = m.current_leader.unwrap_or(0),
                last_log_index = m.last_log_index.unwrap_or(0),
                applied_index = m.last_applied.map_or(0, |l| l.index),
                elections,
                "raft role"
            );
        }
        counters.elections.store(elections, Ordering::Relaxed);
        counters.snapshots.store(snapshots, Ordering::Relaxed);
        if metrics.changed().await.is_err() {
            return;
        }
    }
}
