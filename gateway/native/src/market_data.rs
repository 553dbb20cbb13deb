//! Market data requests of a session: TopOfBook subscriptions, the L3/L2 feed
//! subscriptions and resends (answered by the feed fan-out), their refusals, and the
//! publication of each batch's feed messages.

use ringex_protocol::client::ServerMessage;
use ringex_protocol::feed::{FeedKind, FeedRejectReason};

use crate::feed_key::FeedKey;
use crate::gateway::Core;

impl Core {
    pub(crate) fn subscribe(&mut self, sid: u64, instrument: u32, on: bool) {
        let top = self.feeds.top_of_book(instrument);
        if on && top.is_none() {
            let reason = FeedRejectReason::UnknownInstrument;
            self.feed_rejected(sid, instrument, None, 0, reason);
            return;
        }
        self.top_of_book.set(sid, instrument, on);
        if let (true, Some(top)) = (on, top) {
            self.sessions.send(sid, &top);
        }
    }

    /// A feed request was taken (its snapshot or resend follows) or refused.
    pub(crate) fn feed_answer(
        &mut self,
        sid: u64,
        key: FeedKey,
        answer: Result<(), FeedRejectReason>,
    ) {
        if let Err(reason) = answer {
            self.feed_rejected(sid, key.instrument, Some(key.feed), key.depth, reason);
        }
        if self.feeds.has_output(sid) {
            self.sessions.mark(sid);
        }
    }

    fn feed_rejected(
        &mut self,
        sid: u64,
        instrument: u32,
        feed: Option<FeedKind>,
        depth: u8,
        reason: FeedRejectReason,
    ) {
        self.feeds.counters.rejects += 1;
        let message = ServerMessage::FeedRejected {
            instrument,
            feed,
            depth,
            reason,
        };
        self.sessions.send(sid, &message);
    }

    fn market_data(&mut self, instrument: u32, message: &ServerMessage) {
        for &sid in self.top_of_book.of(instrument) {
            self.sessions.send(sid, message);
        }
    }

    /// The feed messages of the commands received since the last call go to the feed
    /// subscribers, their TradeReports and TopOfBook changes to the top-of-book
    /// subscribers. Called once the answers to the orders are written, so building
    /// and logging the feeds never delays them. A publish lists for a drain only the
    /// subscribers it woke (and those due at once or cut): one whose feed bytes are held
    /// back for coalescing is drained when they are due, not at every publish (with
    /// many subscribers and frequent publishes, draining each only to hold it again
    /// cost the order path's thread more than the writes it saved).
    pub fn publish_feeds(&mut self) {
        let mut tops = Vec::new();
        for sid in self.feeds.publish(&mut tops) {
            let held = self.sessions.get(sid).is_some_and(|s| s.held);
            if !held || self.feeds.due_at_once(sid) {
                self.sessions.mark(sid);
            }
        }
        for (instrument, message) in &tops {
            self.market_data(*instrument, message);
        }
    }
}
