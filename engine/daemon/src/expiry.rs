//! Expiry notices: the sequencer drops a timed input whose deadline passed before it was
//! sequenced (it is never journaled, never matched) and tells the link that sent it, so
//! the gateway can answer its client at once rather than at its own bound.
//!
//! The sequencer never waits here: each link has a bounded queue of notices, and a
//! notice that does not fit is dropped. That is safe: the gateway answers every input it
//! has no events for at its bound anyway; the notice only makes the answer earlier.

use std::collections::HashMap;
use std::sync::Mutex;

use crossbeam_channel::{Receiver, Sender};

use crate::input_ring::{LinkId, LinkInput};

/// Notices waiting per link before more are dropped.
const NOTICES_PER_LINK: usize = 4096;

#[derive(Default)]
pub struct ExpiryNotices {
    links: Mutex<HashMap<LinkId, Sender<u64>>>,
}

impl ExpiryNotices {
    /// Starts collecting notices for `link`; its writer reads the correlations.
    pub fn register(&self, link: LinkId) -> Receiver<u64> {
        let (tx, rx) = crossbeam_channel::bounded(NOTICES_PER_LINK);
        self.lock().insert(link, tx);
        rx
    }

    pub fn unregister(&self, link: LinkId) {
        self.lock().remove(&link);
    }

    /// Tells `link` its input `correlation` expired; false if the notice was dropped
    /// (the link is gone or its queue is full).
    pub fn notify(&self, link: LinkId, correlation: u64) -> bool {
        self.lock()
            .get(&link)
            .is_some_and(|tx| tx.try_send(correlation).is_ok())
    }

    /// An input that will never be sequenced: its link hears so at once (as Expired),
    /// and the log says `why`.
    pub fn unsequenced(&self, item: &LinkInput, why: &'static str) {
        let told = self.notify(item.link, item.correlation);
        tracing::warn!(
            link = item.link,
            correlation = item.correlation,
            told,
            why,
            "input dropped unsequenced"
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LinkId, Sender<u64>>> {
        // Every change is one insert or remove: the map stays consistent after a panic.
        self.links.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_reach_only_registered_links() {
        let notices = ExpiryNotices::default();
        let rx = notices.register(3);
        assert!(notices.notify(3, 42));
        assert!(!notices.notify(4, 1));
        assert_eq!(rx.try_recv(), Ok(42));
        notices.unregister(3);
        assert!(!notices.notify(3, 43));
    }
}
