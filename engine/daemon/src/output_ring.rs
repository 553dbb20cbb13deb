//! The output ring: the matcher publishes each batch of events once and every link
//! receives it, through a queue of its own bounded in bytes. The matcher never waits
//! for a link: a link whose queue would pass `queue_bytes` is dropped as a slow consumer
//! (its writer says so), so one stuck gateway can neither stall matching nor hold more
//! than `queue_bytes` of the engine's memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crossbeam_channel::{Receiver, Sender};
use ringex_protocol::link::GoodbyeReason;

use crate::event_batch::EventBatch;
use crate::history_window::HistoryWindow;
use crate::input_ring::LinkId;

/// What a new link starts from.
pub struct Subscription {
    /// Every input up to this one was published before the link joined; its queue
    /// starts right after it, so the link sees every later sequence number.
    pub welcome_seq: u64,
    pub batches: Receiver<Arc<EventBatch>>,
    /// Bytes queued for the link; its writer subtracts each batch it has sent.
    pub queued_bytes: Arc<AtomicUsize>,
}

impl Subscription {
    /// The writer is done with `batch`: its bytes no longer count against the link.
    pub fn sent(&self, batch: &EventBatch) {
        self.queued_bytes
            .fetch_sub(batch.len_bytes(), Ordering::AcqRel);
    }
}

pub struct OutputRing {
    hub: Mutex<Hub>,
    queue_bytes: usize,
    window_bytes: usize,
}

struct Subscriber {
    link: LinkId,
    batches: Sender<Arc<EventBatch>>,
    queued_bytes: Arc<AtomicUsize>,
}

struct Hub {
    links: Vec<Subscriber>,
    /// Last sequence number published.
    published_seq: u64,
    /// Set once the engine stops publishing, with the reason links are told.
    closed: Option<GoodbyeReason>,
    /// Recent batches, for links that resume.
    window: HistoryWindow,
}

impl OutputRing {
    /// `recovered_seq` is the last input applied before the first publish; the newest
    /// `window_bytes` of batches are kept for [`OutputRing::history`].
    pub fn new(recovered_seq: u64, queue_bytes: usize, window_bytes: usize) -> OutputRing {
        assert!(queue_bytes > 0);
        OutputRing {
            hub: Mutex::new(Hub {
                links: Vec::new(),
                published_seq: recovered_seq,
                closed: None,
                window: HistoryWindow::new(window_bytes),
            }),
            queue_bytes,
            window_bytes,
        }
    }

    fn hub(&self) -> MutexGuard<'_, Hub> {
        // A panic while holding this lock is a bug elsewhere; the links' list is still
        // consistent (every change is one push or retain), so carry on with it.
        self.hub.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a link. Refused with the reason once the engine has stopped publishing.
    pub fn subscribe(&self, link: LinkId) -> Result<Subscription, GoodbyeReason> {
        let mut hub = self.hub();
        if let Some(reason) = hub.closed {
            return Err(reason);
        }
        // Unbounded in count, bounded in bytes by `publish`.
        let (tx, rx) = crossbeam_channel::unbounded();
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        hub.links.push(Subscriber {
            link,
            batches: tx,
            queued_bytes: Arc::clone(&queued_bytes),
        });
        Ok(Subscription {
            welcome_seq: hub.published_seq,
            batches: rx,
            queued_bytes,
        })
    }

    pub fn unsubscribe(&self, link: LinkId) {
        self.hub().links.retain(|s| s.link != link);
    }

    /// Hands a batch to every link; returns the links dropped as slow consumers.
    pub fn publish(&self, batch: EventBatch) -> Vec<LinkId> {
        let (first, last) = batch.seqs();
        let bytes = batch.len_bytes();
        let batch = Arc::new(batch);
        let mut hub = self.hub();
        assert!(hub.closed.is_none(), "publish after the output ring closed");
        assert_eq!(
            first,
            hub.published_seq + 1,
            "output ring: batch {first}..={last} after {}",
            hub.published_seq
        );
        hub.published_seq = last;
        hub.window.keep(&batch);
        let limit = self.queue_bytes;
        let mut dropped = Vec::new();
        hub.links.retain(|s| {
            let queued = s.queued_bytes.fetch_add(bytes, Ordering::AcqRel) + bytes;
            // A link with nothing queued always takes a batch, however large, so a
            // small limit slows a link down but never shuts every link out.
            if queued > limit && queued != bytes {
                s.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
                dropped.push(s.link);
                return false;
            }
            // Disconnected: the writer has ended; the link is leaving anyway.
            s.batches.send(Arc::clone(&batch)).is_ok()
        });
        dropped
    }

    /// Continues after `seq` without publishing what lies between: a replica that
    /// installed a snapshot from its leader. The window is emptied (it would have a
    /// hole) and every link is let go, since none may see a gap.
    pub fn jump_to(&self, seq: u64) {
        let mut hub = self.hub();
        assert!(
            seq >= hub.published_seq,
            "output ring: jump back from {} to {seq}",
            hub.published_seq
        );
        hub.published_seq = seq;
        hub.window = HistoryWindow::new(self.window_bytes);
        hub.links.clear();
    }

    /// The published batches holding every input in `(after_seq, to_seq]`, if the
    /// history window still reaches back that far.
    pub fn history(&self, after_seq: u64, to_seq: u64) -> Option<Vec<Arc<EventBatch>>> {
        self.hub().window.after(after_seq, to_seq)
    }

    /// Stops publishing. Each link's writer sends what is queued, then a Goodbye with
    /// this reason.
    pub fn close(&self, reason: GoodbyeReason) {
        let mut hub = self.hub();
        hub.closed.get_or_insert(reason);
        hub.links.clear();
    }

    /// Why a link's queue ended: the engine's reason if it stopped publishing, else the
    /// link was dropped for falling behind.
    pub fn end_reason(&self) -> GoodbyeReason {
        self.hub().closed.unwrap_or(GoodbyeReason::SlowConsumer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringex_core::Event;

    fn batch(seqs: std::ops::RangeInclusive<u64>) -> EventBatch {
        let mut b = EventBatch::new();
        for seq in seqs {
            b.push(seq, seq, 1, seq, &[Event::DayEnded { expired: 0 }]);
        }
        b
    }

    #[test]
    fn links_join_at_the_published_seq_and_slow_ones_are_dropped() {
        let one = batch(1..=1).len_bytes();
        let ring = OutputRing::new(10, 2 * one, 0);
        let early = ring.subscribe(1).unwrap();
        assert_eq!(early.welcome_seq, 10);
        assert!(ring.publish(batch(11..=11)).is_empty());
        let late = ring.subscribe(2).unwrap();
        assert_eq!(late.welcome_seq, 11);
        assert!(ring.publish(batch(12..=12)).is_empty());
        // The late link sends what it has; the early one has two batches and has not.
        let sent = late.batches.try_recv().unwrap();
        late.sent(&sent);
        assert_eq!(ring.publish(batch(13..=13)), vec![1]);
        assert_eq!(early.batches.len(), 2);
        assert_eq!(late.batches.len(), 1);
        assert_eq!(ring.end_reason(), GoodbyeReason::SlowConsumer);
        ring.close(GoodbyeReason::Shutdown);
        assert_eq!(late.batches.iter().count(), 1);
        assert_eq!(ring.end_reason(), GoodbyeReason::Shutdown);
        assert!(ring.subscribe(3).is_err());
    }

    #[test]
    fn an_idle_link_takes_a_batch_larger_than_the_limit() {
        let ring = OutputRing::new(0, 1, 0);
        let link = ring.subscribe(1).unwrap();
        assert!(ring.publish(batch(1..=3)).is_empty());
        let b = link.batches.try_recv().unwrap();
        link.sent(&b);
        assert!(ring.publish(batch(4..=4)).is_empty());
    }
}
