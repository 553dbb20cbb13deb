//! The types openraft is instantiated with: what one Raft entry carries (a batch of
//! sequenced inputs), what applying it answers, and what the cluster knows of a node.
//!
//! A normal entry is a whole batch of inputs stamped by the leader's sequencer: openraft
//! 0.9 waits for each append's fsync before handing over the next, so throughput comes
//! from large entries (group commit), never from many small ones.

use std::fmt;
use std::io::Cursor;

use ringex_core::Seq;
use serde::{Deserialize, Serialize};

use super::input_batch::InputBatch;

openraft::declare_raft_types!(
    /// ringex's Raft: entries are input batches, applying one answers its last seq.
    pub RingexRaft:
        D = InputBatch,
        R = AppliedThrough,
        Node = ClusterNode,
);

/// What applying an entry answers: the last seq the state machine has applied (0
/// before any input), so a writer knows its batch went through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedThrough(pub Seq);

/// What the cluster records of a node in its membership: its two listeners.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterNode {
    /// The Raft peer listener, `host:port`.
    pub raft: String,
    /// The gateway link listener, `host:port`.
    pub link: String,
}

impl fmt::Display for ClusterNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "raft {} link {}", self.raft, self.link)
    }
}
