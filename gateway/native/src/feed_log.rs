//! The incrementals every subscriber shares: each publish appends its feeds' batches
//! once, in publish order, and each session keeps its own place in the log (a cursor)
//! instead of a queue of its own that every publish appends to, as the consumers of a
//! ring buffer do. A publish so costs the same whatever the number of subscribers; a
//! session's drain reads what was appended since its last one and keeps the batches of
//! its subscriptions. The log holds what its slowest reader has not read, within the
//! feed backlog bound (`FeedFanout` cuts the readers that fall further behind).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::feed_key::FeedKey;

/// One feed's frames of one publish.
pub struct LogEntry {
    pub key: FeedKey,
    pub frames: Arc<[u8]>,
    /// Messages in `frames`.
    pub count: u64,
    /// Bytes appended to the log before this entry, since it was made.
    start_bytes: u64,
}

#[derive(Default)]
pub struct FeedLog {
    entries: VecDeque<LogEntry>,
    /// The position of `entries[0]`; positions only grow.
    first: u64,
    /// Bytes ever appended.
    end_bytes: u64,
}

impl FeedLog {
    /// The position the next entry will take.
    pub fn end(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    /// Entries held.
    pub fn entries_held(&self) -> usize {
        self.entries.len()
    }

    /// Bytes ever appended: a reader's place in bytes is [`Self::bytes_at`].
    pub fn end_bytes(&self) -> u64 {
        self.end_bytes
    }

    /// Bytes appended before position `pos` (held, or the end).
    pub fn bytes_at(&self, pos: u64) -> u64 {
        self.entry(pos).map_or(self.end_bytes, |e| e.start_bytes)
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.end_bytes - self.bytes_at(self.first)
    }

    pub fn push(&mut self, key: FeedKey, frames: Arc<[u8]>, count: u64) {
        assert!(count > 0 && !frames.is_empty(), "an entry holds messages");
        let start_bytes = self.end_bytes;
        self.end_bytes += frames.len() as u64;
        self.entries.push_back(LogEntry {
            key,
            frames,
            count,
            start_bytes,
        });
    }

    fn entry(&self, pos: u64) -> Option<&LogEntry> {
        let index = usize::try_from(pos.checked_sub(self.first)?).ok()?;
        self.entries.get(index)
    }

    /// The entries from `from` (held, or the end) up to `to`, with their positions.
    pub fn range(&self, from: u64, to: u64) -> impl Iterator<Item = (u64, &LogEntry)> {
        assert!(
            self.first <= from && from <= to && to <= self.end(),
            "a range of what the log holds"
        );
        let skip = (from - self.first) as usize;
        let take = (to - from) as usize;
        self.entries
            .iter()
            .skip(skip)
            .take(take)
            .enumerate()
            .map(move |(i, e)| (from + i as u64, e))
    }

    /// The first position from which the log holds at most `bytes_max` bytes.
    pub fn keeping(&self, bytes_max: u64) -> u64 {
        let floor = self.end_bytes.saturating_sub(bytes_max);
        let dropped = self
            .entries
            .iter()
            .take_while(|e| e.start_bytes < floor)
            .count();
        self.first + dropped as u64
    }

    /// Forgets the entries before `pos`.
    pub fn drop_before(&mut self, pos: u64) {
        assert!(pos <= self.end(), "nothing past the end is dropped");
        while self.first < pos {
            self.entries.pop_front();
            self.first += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringex_protocol::feed::FeedKind;

    fn key(instrument: u32) -> FeedKey {
        FeedKey {
            instrument,
            feed: FeedKind::L3,
            depth: 0,
        }
    }

    #[test]
    fn positions_and_bytes_survive_dropping_the_oldest() {
        let mut log = FeedLog::default();
        for (i, frames) in [&b"ab"[..], b"cde", b"f"].iter().enumerate() {
            log.push(key(i as u32), Arc::from(*frames), 1);
        }
        assert_eq!((log.first, log.end(), log.bytes()), (0, 3, 6));
        assert_eq!(log.bytes_at(1), 2);
        assert_eq!(log.keeping(4), 1, "cde and f are 4 bytes");
        assert_eq!(log.keeping(3), 2);
        assert_eq!(log.keeping(0), 3);
        log.drop_before(1);
        assert_eq!((log.first, log.end(), log.bytes()), (1, 3, 4));
        let got: Vec<(u64, u32)> = log
            .range(1, 3)
            .map(|(p, e)| (p, e.key.instrument))
            .collect();
        assert_eq!(got, [(1, 1), (2, 2)]);
        assert_eq!(log.bytes_at(3), 6);
        assert_eq!(log.range(3, 3).count(), 0);
    }

    #[test]
    #[should_panic(expected = "a range of what the log holds")]
    fn a_range_before_the_first_entry_is_a_bug() {
        let mut log = FeedLog::default();
        log.push(key(1), Arc::from(&b"a"[..]), 1);
        log.drop_before(1);
        let _ = log.range(0, 1).count();
    }
}
