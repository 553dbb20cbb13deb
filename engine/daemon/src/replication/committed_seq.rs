//! The last input seq in a committed entry (durable on a majority), for the leader's
//! proposer to pace its entries by.
//!
//! openraft 0.9 appends one entry at a time and its Raft core waits for that append's
//! fsync before it does anything else, follower answers included. An entry proposed
//! while the one before it is still on its way to a majority therefore holds that
//! one's commit back: the follower's answer arrives during the newer entry's fsync and
//! waits it out, so every commit cost two local fsyncs in a row. In a cluster the
//! proposer therefore proposes again only once its last entry is committed, and the
//! input ring gathers everything that arrived meanwhile into the next entry (group
//! commit). A lone voter commits as soon as its own fsync returns, so there one entry
//! may wait behind the one being made durable.
//!
//! This is pacing only: events still leave only once their entry is committed and
//! applied. Only committed entries move the value, and those are never cut off, so
//! it is exact on every node and in every term.

use std::collections::VecDeque;
use std::time::Duration;

use ringex_core::Seq;
use tokio::runtime::Handle;
use tokio::sync::watch;

/// Entries made durable here and not yet known committed, remembered at most. The
/// leader's proposer keeps one entry in flight and a follower hears of commits within
/// a heartbeat, so this is far more than either needs; past it the oldest are
/// forgotten, which can only hold a proposer back until a later commit, never lose
/// an input.
const AWAITING_COMMIT_MAX: usize = 4096;

/// Where the log reports what it made durable and what openraft committed.
pub struct CommittedSeqSender {
    tx: watch::Sender<Seq>,
    /// `(log index, last input seq)` of durable entries above the committed index.
    awaiting: VecDeque<(u64, Seq)>,
    committed_index: u64,
}

/// Where the proposer waits for it.
#[derive(Clone)]
pub struct CommittedSeq(watch::Receiver<Seq>);

impl Default for CommittedSeqSender {
    fn default() -> CommittedSeqSender {
        CommittedSeqSender {
            tx: watch::channel(0).0,
            awaiting: VecDeque::with_capacity(AWAITING_COMMIT_MAX),
            committed_index: 0,
        }
    }
}

impl CommittedSeqSender {
    pub fn subscribe(&self) -> CommittedSeq {
        CommittedSeq(self.tx.subscribe())
    }

    /// The entry at `index`, whose last input is `seq`, is durable in this node's log.
    pub fn flushed(&mut self, index: u64, seq: Seq) {
        if index <= self.committed_index {
            self.advance(seq);
            return;
        }
        // An entry written again at an index replaces whatever was there.
        self.truncated(index);
        if self.awaiting.len() == AWAITING_COMMIT_MAX {
            self.awaiting.pop_front();
        }
        self.awaiting.push_back((index, seq));
    }

    /// Every entry through `index` is committed.
    pub fn committed(&mut self, index: u64) {
        self.committed_index = self.committed_index.max(index);
        let mut newest = None;
        while let Some(&(i, seq)) = self.awaiting.front() {
            if i > index {
                break;
            }
            newest = Some(seq);
            self.awaiting.pop_front();
        }
        if let Some(seq) = newest {
            self.advance(seq);
        }
    }

    /// Entries from `index` on were cut off the log (never committed).
    pub fn truncated(&mut self, index: u64) {
        while self.awaiting.back().is_some_and(|&(i, _)| i >= index) {
            self.awaiting.pop_back();
        }
    }

    fn advance(&self, seq: Seq) {
        self.tx.send_if_modified(|committed| {
            let newer = seq > *committed;
            if newer {
                *committed = seq;
            }
            newer
        });
    }
}

impl CommittedSeq {
    /// Waits up to `timeout` until `seq` is committed; false if the time ran out first.
    /// True as well once the log is gone (openraft stopped): there is nothing to wait
    /// for, and the proposer learns of the stop from its leadership.
    pub fn wait_for(&self, runtime: &Handle, seq: Seq, timeout: Duration) -> bool {
        let mut committed = self.0.clone();
        let reached = runtime.block_on(async {
            tokio::time::timeout(timeout, committed.wait_for(|&c| c >= seq)).await
        });
        reached.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        // As the daemon's: a handle blocks on its timers only where workers drive them.
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .expect("a runtime")
    }

    #[test]
    fn a_seq_is_reached_once_its_entry_is_committed_not_when_it_is_flushed() {
        let rt = runtime();
        let mut tx = CommittedSeqSender::default();
        let rx = tx.subscribe();
        tx.flushed(3, 10);
        tx.flushed(4, 25);
        assert!(!rx.wait_for(rt.handle(), 10, Duration::from_millis(1)));
        tx.committed(3);
        assert!(rx.wait_for(rt.handle(), 10, Duration::from_millis(1)));
        assert!(!rx.wait_for(rt.handle(), 11, Duration::from_millis(1)));
        tx.committed(5);
        assert!(rx.wait_for(rt.handle(), 25, Duration::from_millis(1)));
    }

    #[test]
    fn an_entry_flushed_after_its_commit_counts_at_once() {
        // A follower catching up may hear the commit index before it has the entry.
        let rt = runtime();
        let mut tx = CommittedSeqSender::default();
        let rx = tx.subscribe();
        tx.committed(7);
        tx.flushed(6, 40);
        assert!(rx.wait_for(rt.handle(), 40, Duration::from_millis(1)));
    }

    #[test]
    fn entries_cut_off_never_count() {
        let rt = runtime();
        let mut tx = CommittedSeqSender::default();
        let rx = tx.subscribe();
        tx.flushed(2, 5);
        tx.flushed(3, 9);
        tx.truncated(3);
        // A new leader's entry at index 3 carries other inputs, ending at seq 7.
        tx.flushed(3, 7);
        tx.committed(3);
        assert!(rx.wait_for(rt.handle(), 7, Duration::from_millis(1)));
        assert!(!rx.wait_for(rt.handle(), 8, Duration::from_millis(1)));
    }

    #[test]
    fn a_waiter_is_released_once_the_log_is_gone() {
        let rt = runtime();
        let tx = CommittedSeqSender::default();
        let rx = tx.subscribe();
        drop(tx);
        assert!(rx.wait_for(rt.handle(), 6, Duration::from_millis(1)));
    }
}
