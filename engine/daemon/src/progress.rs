//! Counters the pipeline stages publish so others can see how far each has come: the
//! watchdog (is the matcher moving?) and the shutdown path (is everything applied?).

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Progress {
    /// Last sequence number the journaller made durable.
    durable_seq: AtomicU64,
    /// Last sequence number the matcher applied and published.
    applied_seq: AtomicU64,
    /// Journal commits (one write and, under `fsync`, one fsync each) and the inputs
    /// they carried: the group commit's batch sizes.
    commits: AtomicU64,
    committed_inputs: AtomicU64,
    largest_commit_inputs: AtomicU64,
}

/// Journal batch sizes since the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    pub commits: u64,
    pub inputs: u64,
    pub largest_inputs: u64,
}

impl Progress {
    pub fn new(recovered_seq: u64) -> Progress {
        Progress {
            durable_seq: AtomicU64::new(recovered_seq),
            applied_seq: AtomicU64::new(recovered_seq),
            ..Progress::default()
        }
    }

    /// Called by the journaller only, after each commit.
    pub fn record_commit(&self, seq: u64, inputs: u64) {
        self.durable_seq.store(seq, Ordering::Release);
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.committed_inputs.fetch_add(inputs, Ordering::Relaxed);
        self.largest_commit_inputs
            .fetch_max(inputs, Ordering::Relaxed);
    }

    pub fn commit_stats(&self) -> CommitStats {
        CommitStats {
            commits: self.commits.load(Ordering::Relaxed),
            inputs: self.committed_inputs.load(Ordering::Relaxed),
            largest_inputs: self.largest_commit_inputs.load(Ordering::Relaxed),
        }
    }

    pub fn set_applied(&self, seq: u64) {
        self.applied_seq.store(seq, Ordering::Release);
    }

    pub fn durable_seq(&self) -> u64 {
        self.durable_seq.load(Ordering::Acquire)
    }

    pub fn applied_seq(&self) -> u64 {
        self.applied_seq.load(Ordering::Acquire)
    }
}
