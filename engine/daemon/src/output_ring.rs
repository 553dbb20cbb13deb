//! The output ring: the matcher publishes each batch of events once and every link
//! receives it, through a bounded queue of its own. The matcher never waits for a link:
//! a link whose queue is full is dropped as a slow consumer (its writer says so), so one
//! stuck gateway can neither stall matching nor grow memory past `queue_batches`.

use std::sync::{Arc, Mutex, MutexGuard};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use ringex_protocol::link::GoodbyeReason;

use crate::event_batch::EventBatch;
use crate::input_ring::LinkId;

/// What a new link starts from.
pub struct Subscription {
    /// Every input up to this one was published before the link joined; its queue
    /// starts right after it, so the link sees every later sequence number.
    pub welcome_seq: u64,
    pub batches: Receiver<Arc<EventBatch>>,
}

pub struct OutputRing {
    hub: Mutex<Hub>,
    queue_batches: usize,
}

struct Hub {
    links: Vec<(LinkId, Sender<Arc<EventBatch>>)>,
    /// Last sequence number published.
    published_seq: u64,
    /// Set once the engine stops publishing, with the reason links are told.
    closed: Option<GoodbyeReason>,
}

impl OutputRing {
    /// `recovered_seq` is the last input applied before the first publish.
    pub fn new(recovered_seq: u64, queue_batches: usize) -> OutputRing {
        assert!(queue_batches > 0);
        OutputRing {
            hub: Mutex::new(Hub {
                links: Vec::new(),
                published_seq: recovered_seq,
                closed: None,
            }),
            queue_batches,
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
        let (tx, rx) = crossbeam_channel::bounded(self.queue_batches);
        hub.links.push((link, tx));
        Ok(Subscription {
            welcome_seq: hub.published_seq,
            batches: rx,
        })
    }

    pub fn unsubscribe(&self, link: LinkId) {
        self.hub().links.retain(|(id, _)| *id != link);
    }

    /// Hands a batch to every link; returns the links dropped as slow consumers.
    pub fn publish(&self, batch: EventBatch) -> Vec<LinkId> {
        let (first, last) = batch.seqs();
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
        let mut dropped = Vec::new();
        hub.links
            .retain(|(id, tx)| match tx.try_send(Arc::clone(&batch)) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    dropped.push(*id);
                    false
                }
                Err(TrySendError::Disconnected(_)) => false,
            });
        dropped
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

    pub fn published_seq(&self) -> u64 {
        self.hub().published_seq
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
        let ring = OutputRing::new(10, 2);
        let early = ring.subscribe(1).unwrap();
        assert_eq!(early.welcome_seq, 10);
        assert!(ring.publish(batch(11..=12)).is_empty());
        let late = ring.subscribe(2).unwrap();
        assert_eq!(late.welcome_seq, 12);
        assert!(ring.publish(batch(13..=13)).is_empty());
        // Link 1 now holds two batches and has not read: the third drops it.
        assert_eq!(ring.publish(batch(14..=14)), vec![1]);
        assert_eq!(early.batches.len(), 2);
        assert_eq!(late.batches.len(), 2);
        assert_eq!(ring.end_reason(), GoodbyeReason::SlowConsumer);
        ring.close(GoodbyeReason::Shutdown);
        assert_eq!(late.batches.len(), 2);
        assert!(late.batches.iter().count() == 2);
        assert_eq!(ring.end_reason(), GoodbyeReason::Shutdown);
        assert!(ring.subscribe(3).is_err());
    }
}
