//! When an append to the Raft log counts as durable.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// One fsync per append (a batch of entries, group commit) before it is reported
    /// flushed. The default.
    Fsync,
    /// No fsync at all: a crash may lose acknowledged inputs. For benchmarks only.
    UnsafeNoFsync,
}
