//! The entries the log wrote last, kept in memory. openraft reads every entry back
//! right after appending it: to apply it once committed (on the Raft core's task, so
//! the next append waits behind the read) and to send it to each follower. Served
//! from here, such a read is a pointer copy, where the file would cost a read, a
//! checksum and a decode of every input per entry, per reader.
//!
//! Bounded by a count of entries and by the memory their batches hold; the oldest go
//! first. The file stays the truth: an entry that is not here is read from it.

use std::collections::BTreeMap;

use openraft::{Entry, EntryPayload};

use super::type_config::RingexRaft;

/// Entries kept: enough for the two in flight, a follower a few appends behind, and
/// a batch of appends openraft hands over together.
const RECENT_ENTRIES_MAX: usize = 64;
/// Memory the kept entries may hold, both forms of their batches.
const RECENT_BYTES_MAX: usize = 64 << 20;

#[derive(Default)]
pub struct RecentEntries {
    by_index: BTreeMap<u64, Entry<RingexRaft>>,
    held_bytes: usize,
}

impl RecentEntries {
    /// Keeps `entry`, written after every entry kept; drops the oldest past the bounds.
    pub fn keep(&mut self, entry: &Entry<RingexRaft>) {
        debug_assert!(self
            .by_index
            .keys()
            .next_back()
            .is_none_or(|&last| last < entry.log_id.index));
        self.held_bytes += held_bytes(entry);
        self.by_index.insert(entry.log_id.index, entry.clone());
        while self.by_index.len() > RECENT_ENTRIES_MAX || self.held_bytes > RECENT_BYTES_MAX {
            let Some((_, oldest)) = self.by_index.pop_first() else {
                break;
            };
            self.held_bytes -= held_bytes(&oldest);
        }
    }

    /// The entry at `index`, if kept.
    pub fn get(&self, index: u64) -> Option<Entry<RingexRaft>> {
        self.by_index.get(&index).cloned()
    }

    /// Forgets every entry from `index` on (the log was truncated there).
    pub fn forget_from(&mut self, index: u64) {
        let gone = self.by_index.split_off(&index);
        self.held_bytes -= gone.values().map(held_bytes).sum::<usize>();
    }

    /// Forgets every entry up to and including `index` (the log was purged there).
    pub fn forget_through(&mut self, index: u64) {
        let kept = self.by_index.split_off(&(index + 1));
        let gone = std::mem::replace(&mut self.by_index, kept);
        self.held_bytes -= gone.values().map(held_bytes).sum::<usize>();
    }
}

fn held_bytes(entry: &Entry<RingexRaft>) -> usize {
    match &entry.payload {
        EntryPayload::Normal(batch) => batch.held_bytes(),
        EntryPayload::Blank | EntryPayload::Membership(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use openraft::{CommittedLeaderId, LogId};

    use super::*;

    fn blank(index: u64) -> Entry<RingexRaft> {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
            payload: EntryPayload::Blank,
        }
    }

    #[test]
    fn keeps_the_newest_and_forgets_what_the_log_drops() {
        let mut recent = RecentEntries::default();
        for index in 1..=(RECENT_ENTRIES_MAX as u64 + 10) {
            recent.keep(&blank(index));
        }
        assert!(recent.get(10).is_none(), "the oldest went first");
        assert!(recent.get(11).is_some());
        recent.forget_from(40);
        assert!(recent.get(40).is_none() && recent.get(39).is_some());
        recent.forget_through(20);
        assert!(recent.get(20).is_none() && recent.get(21).is_some());
    }
}
