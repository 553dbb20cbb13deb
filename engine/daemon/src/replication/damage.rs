//! Which part of a node's Raft directory failed its checks, so the node can be repaired
//! from its peers, or the loss accepted by the operator, for exactly that part.

/// A part of the Raft directory that failed its checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Damage {
    /// A record of the entry log at this byte offset: it and everything after it are
    /// suspect (the chain cannot vouch for what follows a broken link).
    EntryAt { offset_bytes: u64 },
    /// The entry log ends at `held_index`, before the committed index it saved.
    EntriesShort { held_index: u64 },
    /// One of the small state files (vote, purged), by name.
    StateFile(&'static str),
    /// The snapshot: its checksum, its meta, or the engine state in it.
    Snapshot,
}
