//! The last input seq this node's log has made durable (fsync'd, or written under the
//! `none` policy), for the leader's proposer to pace its entries by.
//!
//! openraft appends one entry at a time, each with its fsync. The proposer keeps one
//! entry waiting behind the one being made durable and gathers everything after into
//! the next, so it proposes again once the entry before its last is durable: entries
//! stay large (group commit) and the disk never waits for the proposer. It need not
//! wait for its entries to be applied; that only bounds how far it may run ahead.
//!
//! This is pacing only: events still leave only once their entry is committed and
//! applied. A value from entries a new leader later cut off can only make the proposer
//! propose sooner, never let anything out.

use std::time::Duration;

use ringex_core::Seq;
use tokio::runtime::Handle;
use tokio::sync::watch;

/// Where the log reports what it made durable.
pub struct FlushedSeqSender(watch::Sender<Seq>);

/// Where the proposer waits for it.
#[derive(Clone)]
pub struct FlushedSeq(watch::Receiver<Seq>);

impl Default for FlushedSeqSender {
    fn default() -> FlushedSeqSender {
        FlushedSeqSender(watch::channel(0).0)
    }
}

impl FlushedSeqSender {
    pub fn subscribe(&self) -> FlushedSeq {
        FlushedSeq(self.0.subscribe())
    }

    /// Every input up to `seq` is durable in this node's log.
    pub fn advance(&self, seq: Seq) {
        self.0.send_if_modified(|flushed| {
            let newer = seq > *flushed;
            if newer {
                *flushed = seq;
            }
            newer
        });
    }
}

impl FlushedSeq {
    /// Waits up to `timeout` until `seq` is durable; false if the time ran out first.
    /// True as well once the log is gone (openraft stopped): there is nothing to wait
    /// for, and the proposer learns of the stop from its leadership.
    pub fn wait_for(&self, runtime: &Handle, seq: Seq, timeout: Duration) -> bool {
        let mut flushed = self.0.clone();
        let reached = runtime.block_on(async {
            tokio::time::timeout(timeout, flushed.wait_for(|&f| f >= seq)).await
        });
        reached.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiter_sees_the_seq_reached_and_only_then() {
        // As the daemon's: a handle blocks on its timers only where workers drive them.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .expect("a runtime");
        let tx = FlushedSeqSender::default();
        let rx = tx.subscribe();
        tx.advance(5);
        tx.advance(3);
        assert!(rx.wait_for(runtime.handle(), 5, Duration::from_millis(1)));
        assert!(!rx.wait_for(runtime.handle(), 6, Duration::from_millis(1)));
        drop(tx);
        assert!(rx.wait_for(runtime.handle(), 6, Duration::from_millis(1)));
    }
}
