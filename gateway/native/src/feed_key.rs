//! Which feed a subscription, a batch or a log entry is of: one feed of one
//! instrument, or of every instrument.

use ringex_protocol::command_codec::ALL_INSTRUMENTS;
use ringex_protocol::feed::FeedKind;

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
