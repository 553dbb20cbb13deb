//! The sequencer: gives each input the next sequence number and a timestamp. The
//! matcher is a pure function of `(seq, timestamp, input)`, so these two numbers are
//! the only place the wall clock enters the engine, and they are journaled with it.

use std::time::{SystemTime, UNIX_EPOCH};

/// Stamps inputs in the order it sees them.
#[derive(Debug)]
pub struct Sequencer {
    last_seq: u64,
    last_timestamp_ns: u64,
}

impl Sequencer {
    /// Continues after the last input of the journal. The recovered timestamp is a
    /// floor: a clock stepped back across a restart cannot make time run backwards.
    pub fn resume(last_seq: u64, last_timestamp_ns: u64) -> Sequencer {
        Sequencer {
            last_seq,
            last_timestamp_ns,
        }
    }

    /// The sequence number and timestamp for the next input: both strictly increasing.
    pub fn stamp(&mut self) -> (u64, u64) {
        self.stamp_at(wall_clock_ns())
    }

    /// Stamps the next input unless its deadline (Unix-epoch ns, 0 for none) has passed:
    /// a late input gets no sequence number at all, so it is never journaled or matched.
    /// The check reads the same clock the stamp does and comes before sequencing, so
    /// replay (which never checks deadlines) sees exactly the inputs that were stamped.
    pub fn stamp_unless_expired(&mut self, deadline_ns: u64) -> Option<(u64, u64)> {
        self.stamp_unless_expired_at(deadline_ns, wall_clock_ns())
    }

    fn stamp_unless_expired_at(&mut self, deadline_ns: u64, now_ns: u64) -> Option<(u64, u64)> {
        if deadline_ns != 0 && now_ns > deadline_ns {
            return None;
        }
        Some(self.stamp_at(now_ns))
    }

    fn stamp_at(&mut self, now_ns: u64) -> (u64, u64) {
        let seq = self
            .last_seq
            .checked_add(1)
            .expect("sequence numbers are 64-bit and cannot run out");
        let timestamp_ns = now_ns.max(self.last_timestamp_ns + 1);
        self.last_seq = seq;
        self.last_timestamp_ns = timestamp_ns;
        (seq, timestamp_ns)
    }
}

/// Nanoseconds since the Unix epoch; 0 if the clock reads before it (the floor then
/// keeps the stamps moving forward).
pub(crate) fn wall_clock_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_journal_and_time_never_regresses() {
        let mut s = Sequencer::resume(41, 1_000);
        assert_eq!(s.stamp_at(5_000), (42, 5_000));
        // The clock stepped back: the stamp still moves forward.
        assert_eq!(s.stamp_at(10), (43, 5_001));
        assert_eq!(s.stamp_at(5_001), (44, 5_002));
        let (_, now) = Sequencer::resume(0, 0).stamp();
        assert!(now > 1_600_000_000_000_000_000);
    }

    #[test]
    fn a_late_input_gets_no_sequence_number() {
        let mut s = Sequencer::resume(10, 1_000);
        assert_eq!(s.stamp_unless_expired_at(2_000, 2_001), None);
        assert_eq!(s.stamp_unless_expired_at(2_000, 2_000), Some((11, 2_000)));
        assert_eq!(s.stamp_unless_expired_at(0, 3_000), Some((12, 3_000)));
        assert_eq!(s.stamp_unless_expired_at(1, 3_001), None);
        assert_eq!(s.stamp_at(3_002), (13, 3_002));
    }
}
