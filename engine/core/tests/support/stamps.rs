//! The sequencer's side of a command: its `(seq, timestamp_ns)`. Streams record how each
//! command was stamped rather than the numbers, so a shrunk stream (commands removed) is
//! stamped again consistently.

use ringex_core::{Command, Seq, TimestampNs};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// The next sequence number; the clock moves forward by `advance_ns` (saturating).
    InOrder { advance_ns: u64 },
    /// A sequence number off from the expected one by `error` (non-zero, wrapping).
    SeqOff { error: u64 },
    /// The expected sequence number with the clock moved back by `by_ns` (clamped at 0).
    TimeBack { by_ns: u64 },
}

/// One command of a test stream with the way it is stamped.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub stamp: Stamp,
    pub command: Command,
}

/// Turns stamps into numbers, tracking the last stamp the core will have accepted.
#[derive(Default)]
pub struct Sequencer {
    last_seq: Seq,
    last_timestamp_ns: TimestampNs,
}

impl Sequencer {
    pub fn stamp(&mut self, stamp: Stamp) -> (Seq, TimestampNs) {
        let expected = self.last_seq.wrapping_add(1);
        let last_ns = self.last_timestamp_ns;
        let (seq, timestamp_ns) = match stamp {
            Stamp::InOrder { advance_ns } => (expected, last_ns.saturating_add(advance_ns)),
            Stamp::SeqOff { error } => {
                assert_ne!(error, 0, "an off sequence number must be off");
                (expected.wrapping_add(error), last_ns)
            }
            Stamp::TimeBack { by_ns } => (expected, last_ns.saturating_sub(by_ns)),
        };
        if seq == expected && timestamp_ns >= last_ns {
            self.last_seq = seq;
            self.last_timestamp_ns = timestamp_ns;
        }
        (seq, timestamp_ns)
    }
}
