//! Commands whose events are all in and whose feed messages are still to be built. The
//! engine's answers to the orders go out first and the feeds are built and fanned out
//! after them, so the fan-out's work never stands between an order and its answer.
//! Bounded: past `PENDING_COMMANDS_MAX` the caller builds the feeds at once.

use std::collections::VecDeque;

use ringex_core::Event;

/// Commands waiting at most; the caller publishes when [`PendingCommands::close`] says
/// the queue is full.
pub const PENDING_COMMANDS_MAX: usize = 1024;

/// A command as the feeds need it: its sequence number, time and events.
pub struct PendingCommand {
    pub seq: u64,
    pub timestamp_ns: u64,
    pub events: Vec<Event>,
}

#[derive(Default)]
pub struct PendingCommands {
    /// Events of the command being received (its frames until the last).
    receiving: Vec<Event>,
    closed: VecDeque<PendingCommand>,
}

impl PendingCommands {
    /// One event of the command being received.
    pub fn event(&mut self, event: &Event) {
        self.receiving.push(*event);
    }

    /// The command being received is complete; returns whether the queue is full.
    pub fn close(&mut self, seq: u64, timestamp_ns: u64) -> bool {
        self.closed.push_back(PendingCommand {
            seq,
            timestamp_ns,
            events: std::mem::take(&mut self.receiving),
        });
        self.closed.len() >= PENDING_COMMANDS_MAX
    }

    /// Forgets the events of the command being received (one the feeds skip).
    pub fn discard(&mut self) {
        self.receiving.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.closed.is_empty()
    }

    /// The complete commands, oldest first.
    pub fn take(&mut self) -> VecDeque<PendingCommand> {
        std::mem::take(&mut self.closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_come_out_whole_in_order_and_the_bound_is_reported() {
        let mut pending = PendingCommands::default();
        assert!(pending.is_empty());
        for seq in 1..PENDING_COMMANDS_MAX as u64 {
            assert!(!pending.close(seq, seq * 10));
        }
        assert!(pending.close(PENDING_COMMANDS_MAX as u64, 0));
        let taken = pending.take();
        assert!(pending.is_empty());
        let seqs: Vec<u64> = taken.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, (1..=PENDING_COMMANDS_MAX as u64).collect::<Vec<_>>());
        assert_eq!(taken[1].timestamp_ns, 20);
    }
}
