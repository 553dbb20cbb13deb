//! Where each input this node proposed came from: its link and correlation, so the
//! events of a committed input go back to the link that sent it with its token.
//!
//! A Raft entry carries only what replay needs (`seq`, time, input), never link
//! numbers, which mean nothing on another node. The proposer writes the origin of every
//! input it stamps; applying a committed entry reads it back. A slot is keyed by seq
//! *and* the term the entry was proposed in, so an entry of another leader that reused
//! a seq this node proposed and lost is never sent to the wrong link.
//!
//! Bounded: a ring of `capacity` slots, and the proposer keeps fewer than that many
//! inputs in flight (see [`Origins::capacity`]), so a slot is never overwritten before
//! its entry is applied.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::input_ring::{LinkId, DAEMON_LINK};

/// One input's origin as the proposer records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub seq: u64,
    pub link: LinkId,
    pub correlation: u64,
}

/// A slot's fields, each on its own: the proposer writes a slot before it proposes the
/// entry and the state machine reads it after openraft hands the committed entry over,
/// so openraft's own channels order the two and no lock is taken per input (applying
/// runs on the matcher's critical path). Relaxed atomics only make the sharing safe.
#[derive(Default)]
struct Slot {
    seq: AtomicU64,
    term: AtomicU64,
    link: AtomicU64,
    correlation: AtomicU64,
}

pub struct Origins {
    slots: Box<[Slot]>,
}

impl Origins {
    /// A table for `capacity` inputs in flight; a power of two.
    pub fn new(capacity: usize) -> Origins {
        assert!(
            capacity.is_power_of_two(),
            "the origin table's capacity is a power of two"
        );
        Origins {
            slots: (0..capacity).map(|_| Slot::default()).collect(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Records a batch proposed in `term`.
    pub fn record(&self, term: u64, batch: &[Origin]) {
        for o in batch {
            let slot = self.slot(o.seq);
            slot.term.store(term, Ordering::Relaxed);
            slot.link.store(u64::from(o.link), Ordering::Relaxed);
            slot.correlation.store(o.correlation, Ordering::Relaxed);
            slot.seq.store(o.seq, Ordering::Relaxed);
        }
    }

    /// The link and correlation of the input at `seq` of an entry of `term`; the
    /// daemon's own link (nobody waiting on a link here) when this node did not
    /// propose it.
    pub fn take(&self, term: u64, seq: u64) -> (LinkId, u64) {
        let slot = self.slot(seq);
        if slot.seq.load(Ordering::Relaxed) == seq && slot.term.load(Ordering::Relaxed) == term {
            slot.seq.store(0, Ordering::Relaxed);
            let link = LinkId::try_from(slot.link.load(Ordering::Relaxed))
                .expect("a slot holds the link id it was given");
            (link, slot.correlation.load(Ordering::Relaxed))
        } else {
            (DAEMON_LINK, 0)
        }
    }

    fn slot(&self, seq: u64) -> &Slot {
        &self.slots[seq as usize & (self.slots.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_found_once_and_only_for_its_own_term() {
        let origins = Origins::new(8);
        let proposed = [
            Origin {
                seq: 5,
                link: 3,
                correlation: 77,
            },
            Origin {
                seq: 6,
                link: 4,
                correlation: 78,
            },
        ];
        origins.record(2, &proposed);
        // Another leader's entry at seq 6 in term 3 is nobody's here.
        assert_eq!(origins.take(3, 6), (DAEMON_LINK, 0));
        assert_eq!(origins.take(2, 5), (3, 77));
        assert_eq!(origins.take(2, 5), (DAEMON_LINK, 0));
        assert_eq!(origins.take(2, 6), (4, 78));
        // A seq that wrapped onto a slot is not taken for the old one.
        assert_eq!(origins.take(2, 13), (DAEMON_LINK, 0));
    }
}
