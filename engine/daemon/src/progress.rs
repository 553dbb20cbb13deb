//! Counters the pipeline stages publish so others can see how far each has come: the
//! watchdog (is the matcher moving?) and the shutdown path (is everything applied?).

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Progress {
    /// Last sequence number the journaller made durable.
    durable_seq: AtomicU64,
    /// Last sequence number the matcher applied and published.
    applied_seq: AtomicU64,
}

impl Progress {
    pub fn new(recovered_seq: u64) -> Progress {
        Progress {
            durable_seq: AtomicU64::new(recovered_seq),
            applied_seq: AtomicU64::new(recovered_seq),
        }
    }

    pub fn set_durable(&self, seq: u64) {
        self.durable_seq.store(seq, Ordering::Release);
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
