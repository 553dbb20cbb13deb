//! Whether this node may serve gateways now, kept current from openraft's metrics.
//!
//! A node serves only as the leader, and only once it has applied every entry in its
//! log: a leader's log is never cut, so all of it will commit, and once it is applied
//! the engine's last seq says where the new leader's sequencer continues (an elected
//! leader's log ends with its blank entry; a leader restored in the same term after a
//! restart may hold entries beyond what it applied before it stopped). Only then may a
//! gateway link (its Welcome names that seq). Serving then lasts the whole term.
//!
//! Every other node answers links with NotLeader, naming the leader it knows.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use openraft::error::Fatal;
use openraft::{Raft, RaftMetrics, ServerState};

use super::type_config::{ClusterNode, RingexRaft};

/// How often a start waiting to serve looks again.
const SERVING_POLL: Duration = Duration::from_millis(2);

#[derive(Debug, Default)]
pub struct Leadership {
    /// The term this node serves in; 0 while it does not serve.
    serving_term: AtomicU64,
    /// The leader this node knows of (0: none) and the term it knows.
    leader_id: AtomicU64,
    term: AtomicU64,
    /// openraft stopped (shut down, or a storage failure made it fatal).
    stopped: AtomicBool,
    /// openraft stopped on a fatal error (a storage failure): fail-stop.
    failed: AtomicBool,
}

/// Who to ask instead, as a NotLeader frame says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotLeader {
    pub leader_id: u64,
    pub term: u64,
}

impl Leadership {
    /// The term this node serves gateways in, if it does.
    pub fn serving_term(&self) -> Option<u64> {
        let term = self.serving_term.load(Ordering::Acquire);
        (term != 0).then_some(term)
    }

    /// `Some` when this node must turn gateways away.
    pub fn not_leader(&self) -> Option<NotLeader> {
        if self.serving_term().is_some() {
            return None;
        }
        Some(NotLeader {
            leader_id: self.leader_id.load(Ordering::Acquire),
            term: self.term.load(Ordering::Acquire),
        })
    }

    /// Waits until this node serves, openraft stops, or `timeout` passes; whether it
    /// serves. Polled: it is called once, at start.
    pub fn wait_until_serving(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.serving_term().is_none() && !self.is_stopped() && Instant::now() < deadline {
            std::thread::sleep(SERVING_POLL);
        }
        self.serving_term().is_some()
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// openraft stopped on an error, not on request.
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    fn update(&self, m: &RaftMetrics<u64, ClusterNode>) {
        self.term.store(m.current_term, Ordering::Release);
        self.leader_id
            .store(m.current_leader.unwrap_or(0), Ordering::Release);
        let leading = m.running_state.is_ok()
            && m.state == ServerState::Leader
            && m.current_leader == Some(m.id);
        let serving = self.serving_term.load(Ordering::Acquire);
        let now_serving = if !leading {
            0
        } else if serving == m.current_term {
            serving
        } else if m.last_applied.map(|l| l.index) >= m.last_log_index {
            // Everything in a leader's log will commit: once all of it is applied, the
            // engine's last seq is where this term's sequencing continues.
            m.current_term
        } else {
            0
        };
        self.serving_term.store(now_serving, Ordering::Release);
    }

    fn stop(&self) {
        self.serving_term.store(0, Ordering::Release);
        self.stopped.store(true, Ordering::Release);
    }
}

/// Keeps `leadership` current until openraft stops publishing metrics.
pub async fn follow(raft: Raft<RingexRaft>, leadership: std::sync::Arc<Leadership>) {
    let mut metrics = raft.metrics();
    loop {
        let ended = {
            let m = metrics.borrow_and_update();
            leadership.update(&m);
            m.running_state.clone().err()
        };
        match ended {
            None => {}
            Some(Fatal::Stopped) => {
                tracing::info!("raft stopped");
                break;
            }
            Some(fatal) => {
                tracing::error!(error = %fatal, "raft stopped on a fatal error: this node serves no more");
                leadership.failed.store(true, Ordering::Release);
                break;
            }
        }
        if metrics.changed().await.is_err() {
            break;
        }
    }
    leadership.stop();
}
