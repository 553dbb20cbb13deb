//! One session's market data: the feeds it subscribed to, the feed messages waiting to
//! be written, and the subscriptions waiting for a snapshot. Feed messages have their own
//! bound: a session over it is conflated (every subscription cut to a fresh snapshot)
//! or marked slow, so a slow reader never holds up the feeds or other sessions.
//! Waiting feed messages are shared: a publish encodes each feed's batch once, and every
//! subscriber's backlog holds a reference to the same bytes, copied only when written.

use std::sync::Arc;

use ringex_protocol::command_codec::ALL_INSTRUMENTS;
use ringex_protocol::feed::FeedKind;

use crate::output_chunks::Output;

/// One feed of one instrument, or of every instrument (`ALL_INSTRUMENTS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedKey {
    pub instrument: u32,
    pub feed: FeedKind,
    /// The L2 depth; 0 for the other feeds.
    pub depth: u8,
}

impl FeedKey {
    /// The same feed of another instrument.
    pub fn of(self, instrument: u32) -> FeedKey {
        FeedKey { instrument, ..self }
    }

    /// Whether this subscription covers `instrument`.
    pub fn covers(self, instrument: u32) -> bool {
        self.instrument == ALL_INSTRUMENTS || self.instrument == instrument
    }
}

/// What happened to a session's backlog when a message was queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Queued {
    Sent,
    /// The subscription waits for a snapshot: the message is covered by it.
    Skipped,
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
    /// Batches of encoded frames waiting to be written, in order, shared with every
    /// other subscriber of their feed.
    pub out: Vec<Arc<[u8]>>,
    /// The bytes in `out`.
    pub out_bytes: usize,
    pub count: u64,
    /// When the first of the frames in `out` was found waiting (for coalescing).
    pub waiting_since_ns: Option<u64>,
    pub slow: bool,
    /// Already in the list of sessions the command being published wrote to.
    pub listed: bool,
}

impl FeedSession {
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

    /// Queues `count` incrementals of `key`'s feed, in order (`key.instrument` is
    /// theirs).
    pub fn queue(
        &mut self,
        key: FeedKey,
        frames: &Arc<[u8]>,
        count: u64,
        backlog_bytes: usize,
        conflate: bool,
    ) -> Queued {
        if self.slow {
            return Queued::Slow;
        }
        if self.waits_for_snapshot(key) {
            return Queued::Skipped;
        }
        self.queue_frames(frames, count, backlog_bytes, conflate)
    }

    /// Queues `count` frames (a resend), under the same bound as the incrementals.
    pub fn queue_frames(
        &mut self,
        frames: &Arc<[u8]>,
        count: u64,
        backlog_bytes: usize,
        conflate: bool,
    ) -> Queued {
        if self.slow {
            return Queued::Slow;
        }
        self.out.push(Arc::clone(frames));
        self.out_bytes += frames.len();
        self.count += count;
        if self.out_bytes <= backlog_bytes {
            return Queued::Sent;
        }
        self.out.clear();
        self.out_bytes = 0;
        self.count = 0;
        self.waiting_since_ns = None;
        if conflate {
            self.pending = self.subscriptions.clone();
            Queued::Conflated
        } else {
            self.slow = true;
            Queued::Slow
        }
    }

    /// Appends the waiting frames to `out` (shared, not copied) and forgets them;
    /// returns how many messages.
    pub fn take_frames(&mut self, out: &mut Output) -> u64 {
        for frames in self.out.drain(..) {
            out.share(&frames);
        }
        self.out_bytes = 0;
        self.waiting_since_ns = None;
        std::mem::take(&mut self.count)
    }

    /// Starts or stops a subscription; a new one waits for its snapshot.
    pub fn set(&mut self, key: FeedKey, on: bool) {
        self.subscriptions.retain(|&s| s != key);
        self.pending.retain(|&s| s != key);
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

    const L3: FeedKey = FeedKey {
        instrument: 1,
        feed: FeedKind::L3,
        depth: 0,
    };

    #[test]
    fn a_backlog_over_its_bound_is_conflated_or_marked_slow() {
        let abc: Arc<[u8]> = Arc::from(&b"abc"[..]);
        let mut s = FeedSession::default();
        s.set(L3, true);
        assert_eq!(s.queue(L3, &abc, 1, 5, true), Queued::Skipped);
        s.pending.clear();
        assert_eq!(s.queue(L3, &abc, 1, 5, true), Queued::Sent);
        assert_eq!(s.queue(L3, &abc, 1, 5, true), Queued::Conflated);
        assert!(s.out.is_empty() && s.out_bytes == 0 && s.pending == vec![L3]);
        s.pending.clear();
        s.queue(L3, &abc, 1, 5, false);
        assert_eq!(s.queue(L3, &abc, 1, 5, false), Queued::Slow);
        assert!(s.slow);
    }

    #[test]
    fn an_all_instruments_subscription_covers_each_instrument() {
        let mut s = FeedSession::default();
        s.set(L3.of(ALL_INSTRUMENTS), true);
        assert!(s.subscribed(L3.of(7)));
        assert_eq!(
            s.queue(L3.of(7), &Arc::from(&b"x"[..]), 1, 10, true),
            Queued::Skipped
        );
    }

    #[test]
    fn waiting_batches_are_written_in_order_and_counted() {
        let mut s = FeedSession::default();
        s.set(L3, true);
        s.pending.clear();
        let (a, b): (Arc<[u8]>, Arc<[u8]>) = (Arc::from(&b"ab"[..]), Arc::from(&b"c"[..]));
        s.queue(L3, &a, 2, 10, true);
        s.queue(L3, &b, 1, 10, true);
        assert_eq!(s.out_bytes, 3);
        let mut out = Output::from_vec(b"x".to_vec());
        assert_eq!(s.take_frames(&mut out), 3);
        assert_eq!(out.into_bytes(), b"xabc");
        assert!(s.out.is_empty() && s.out_bytes == 0 && s.count == 0);
    }
}
