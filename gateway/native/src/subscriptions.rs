//! One session's market data: the feeds it subscribed to, its place in the shared feed
//! log (see `feed_log`) and the frames resent to it, and the subscriptions waiting for
//! a snapshot. Feed messages have their own bound: a session over it is conflated
//! (every subscription cut to a fresh snapshot) or marked slow, so a slow reader never
//! holds up the feeds or other sessions. Feed messages are shared: a publish encodes
//! each feed's batch once, and every subscriber reads the same bytes, copied only when
//! written.

use std::sync::Arc;

use crate::feed_key::FeedKey;
use crate::feed_log::FeedLog;
use crate::output_chunks::Output;

/// What happened to a session's backlog when frames were added to it.
#[derive(Debug, PartialEq, Eq)]
pub enum Queued {
    Sent,
    /// The backlog went over its bound and was dropped for fresh snapshots.
    Conflated,
    /// The backlog went over its bound: the session is to be ended.
    Slow,
}

#[derive(Default)]
pub struct FeedSession {
    pub subscriptions: Vec<FeedKey>,
    /// Subscriptions whose next message is a snapshot, built when the session is next
    /// drained: with `ALL_INSTRUMENTS`, of every listed instrument.
    pub pending: Vec<FeedKey>,
    /// Its place in the shared feed log: the next entry to look at.
    pub cursor: u64,
    /// Resent frames, each written once the cursor reaches the log position it names.
    resent: Vec<(u64, Arc<[u8]>, u64)>,
    resent_bytes: usize,
    /// When the first of its unread entries was found waiting (for coalescing).
    pub waiting_since_ns: Option<u64>,
    pub slow: bool,
    /// Told of entries for it since it last read the log (so listed for a drain, or
    /// held): publishes leave it alone until it has read them.
    pub awake: bool,
    /// The subscriptions under which it is listed among its feeds' idle readers.
    pub idle_in: Vec<FeedKey>,
}

impl FeedSession {
    /// A session that starts reading the log at `cursor` (its end).
    pub fn at(cursor: u64) -> FeedSession {
        FeedSession {
            cursor,
            ..FeedSession::default()
        }
    }

    pub fn subscribed(&self, key: FeedKey) -> bool {
        self.subscriptions
            .iter()
            .any(|s| s.feed == key.feed && s.depth == key.depth && s.covers(key.instrument))
    }

    fn waits_for_snapshot(&self, key: FeedKey) -> bool {
        self.pending
            .iter()
            .any(|p| p.feed == key.feed && p.depth == key.depth && p.covers(key.instrument))
    }

    /// Whether the session is written the incrementals of `key`: it subscribed, and its
    /// snapshot (which covers them) is not still to come.
    pub fn wants(&self, key: FeedKey) -> bool {
        self.subscribed(key) && !self.waits_for_snapshot(key)
    }

    /// Whether an entry it wants lies between its cursor and `to`.
    pub fn misses(&self, log: &FeedLog, to: u64) -> bool {
        log.range(self.cursor, to).any(|(_, e)| self.wants(e.key))
    }

    /// Bytes waiting for it: the log's since its cursor (of every feed: an upper
    /// bound) and its resent frames.
    pub fn waiting_bytes(&self, log: &FeedLog) -> u64 {
        log.end_bytes() - log.bytes_at(self.cursor) + self.resent_bytes as u64
    }

    /// Adds resent frames (`count` messages), written after the log's entries before
    /// `at`, under the backlog bound.
    pub fn resend(
        &mut self,
        at: u64,
        frames: &Arc<[u8]>,
        count: u64,
        backlog_bytes: usize,
        conflate: bool,
    ) -> Queued {
        if self.slow {
            return Queued::Slow;
        }
        self.resent.push((at, Arc::clone(frames), count));
        self.resent_bytes += frames.len();
        if self.resent_bytes <= backlog_bytes {
            return Queued::Sent;
        }
        self.overflow(conflate, at)
    }

    /// The backlog went over its bound: it is dropped, and the session either waits
    /// for fresh snapshots of every subscription or is marked slow. Either way it
    /// wants nothing the log holds before `end` (its end).
    pub fn overflow(&mut self, conflate: bool, end: u64) -> Queued {
        self.resent.clear();
        self.resent_bytes = 0;
        self.waiting_since_ns = None;
        self.cursor = end;
        if conflate {
            self.pending = self.subscriptions.clone();
            Queued::Conflated
        } else {
            self.slow = true;
            Queued::Slow
        }
    }

    /// Appends what it wants of the log from its cursor, and its resent frames in their
    /// places (shared, not copied), and moves its cursor to the log's end; returns how
    /// many messages.
    pub fn take_frames(&mut self, log: &FeedLog, out: &mut Output) -> u64 {
        let mut count = 0;
        let mut resent = std::mem::take(&mut self.resent).into_iter().peekable();
        for (pos, entry) in log.range(self.cursor, log.end()) {
            while let Some((_, frames, n)) = resent.next_if(|(at, ..)| *at <= pos) {
                out.share(&frames);
                count += n;
            }
            if self.wants(entry.key) {
                out.share(&entry.frames);
                count += entry.count;
            }
        }
        for (_, frames, n) in resent {
            out.share(&frames);
            count += n;
        }
        self.cursor = log.end();
        self.resent_bytes = 0;
        self.waiting_since_ns = None;
        count
    }

    /// Starts or stops a subscription; a new one waits for its snapshot.
    pub fn set(&mut self, key: FeedKey, on: bool) {
        self.subscriptions.retain(|&s| s != key);
        self.pending.retain(|&s| s != key);
        self.idle_in.retain(|&s| s != key);
        if on {
            self.subscriptions.push(key);
            self.pending.push(key);
        }
    }

    /// The subscription that covers `key`, to take a fresh snapshot of `key.instrument`.
    pub fn resnapshot(&mut self, key: FeedKey) {
        if !self.waits_for_snapshot(key) {
            self.pending.push(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringex_protocol::command_codec::ALL_INSTRUMENTS;
    use ringex_protocol::feed::FeedKind;

    const L3: FeedKey = FeedKey {
        instrument: 1,
        feed: FeedKind::L3,
        depth: 0,
    };

    #[test]
    fn a_backlog_over_its_bound_is_conflated_or_marked_slow() {
        let abc: Arc<[u8]> = Arc::from(&b"abc"[..]);
        let mut s = FeedSession::at(0);
        s.set(L3, true);
        s.pending.clear();
        assert_eq!(s.resend(0, &abc, 1, 5, true), Queued::Sent);
        assert_eq!(s.resend(0, &abc, 1, 5, true), Queued::Conflated);
        assert_eq!(s.waiting_bytes(&FeedLog::default()), 0);
        assert_eq!(s.pending, vec![L3]);
        s.pending.clear();
        s.resend(0, &abc, 1, 5, false);
        assert_eq!(s.resend(0, &abc, 1, 5, false), Queued::Slow);
        assert!(s.slow);
    }

    #[test]
    fn an_all_instruments_subscription_covers_each_instrument() {
        let mut s = FeedSession::default();
        s.set(L3.of(ALL_INSTRUMENTS), true);
        assert!(s.subscribed(L3.of(7)));
        assert!(!s.wants(L3.of(7)), "its snapshot comes first");
        s.pending.clear();
        assert!(s.wants(L3.of(7)));
        assert!(!s.wants(FeedKey {
            feed: FeedKind::Trades,
            ..L3
        }));
    }

    #[test]
    fn its_entries_and_resends_are_written_in_order_and_counted() {
        let mut log = FeedLog::default();
        log.push(L3, Arc::from(&b"ab"[..]), 2);
        log.push(L3.of(2), Arc::from(&b"x"[..]), 1);
        log.push(L3, Arc::from(&b"c"[..]), 1);
        let mut s = FeedSession::at(0);
        s.set(L3, true);
        s.pending.clear();
        s.resend(1, &Arc::from(&b"R"[..]), 1, 10, true);
        assert_eq!(s.waiting_bytes(&log), 5);
        assert!(s.misses(&log, 1) && !s.misses(&log, 0));
        let mut out = Output::from_vec(b"-".to_vec());
        assert_eq!(s.take_frames(&log, &mut out), 4);
        assert_eq!(out.into_bytes(), b"-abRc");
        assert_eq!((s.cursor, s.waiting_bytes(&log)), (3, 0));
    }
}
