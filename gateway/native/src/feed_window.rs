//! The resend window: the newest incrementals of one feed of one instrument, kept so a
//! client that missed some can ask for them again instead of taking a snapshot. Bounded
//! to a fixed number of entries; the oldest fall off.

use std::collections::VecDeque;

/// The newest `capacity` entries of a feed, each numbered one above the one before.
pub struct FeedWindow<T> {
    entries: VecDeque<T>,
    capacity: usize,
    /// The sequence number of the newest entry (0: none yet).
    last_seq: u64,
}

/// Why a window cannot answer a range.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    /// Part of it fell off the window.
    Gone,
    /// Part of it has not happened yet.
    Ahead,
}

impl<T> FeedWindow<T> {
    pub fn new(capacity: usize) -> FeedWindow<T> {
        assert!(capacity > 0, "a resend window holds at least one entry");
        FeedWindow {
            entries: VecDeque::new(),
            capacity,
            last_seq: 0,
        }
    }

    /// Appends the entry numbered `seq`, which must follow the newest.
    pub fn push(&mut self, seq: u64, entry: T) {
        assert_eq!(seq, self.last_seq + 1, "window entries are contiguous");
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
        self.last_seq = seq;
    }

    /// The number of the oldest entry held (the newest plus one while empty).
    pub fn first_seq(&self) -> u64 {
        self.last_seq + 1 - self.entries.len() as u64
    }

    /// The entries numbered `from..=to` (`1 <= from <= to`).
    pub fn range(&self, from: u64, to: u64) -> Result<impl Iterator<Item = &T>, Miss> {
        if to > self.last_seq {
            return Err(Miss::Ahead);
        }
        let first = self.first_seq();
        if from < first {
            return Err(Miss::Gone);
        }
        let start = (from - first) as usize;
        let end = (to - first) as usize;
        Ok(self.entries.range(start..=end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_entries_and_answers_ranges_inside_them() {
        let mut w = FeedWindow::new(3);
        for seq in 1..=5 {
            w.push(seq, seq * 10);
        }
        let held = |from, to| w.range(from, to).map(|r| r.copied().collect::<Vec<_>>());
        assert_eq!(held(3, 5), Ok(vec![30, 40, 50]));
        assert_eq!(held(4, 4), Ok(vec![40]));
        assert_eq!(held(2, 4), Err(Miss::Gone));
        assert_eq!(held(5, 6), Err(Miss::Ahead));
    }
}
