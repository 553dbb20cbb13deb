//! The codes of the market data feeds on a client session: which feed a subscription or
//! a snapshot is about, why the gateway refused a feed request, and the wire values of
//! the book events' own enums (`RemoveReason`, `LevelAction`). See `protocol/SPEC.md`,
//! "Market data feeds".

use ringex_core::market_data::{LevelAction, RemoveReason};

use crate::session::u8_codes;

/// Deepest L2 feed a client may ask for.
pub const L2_DEPTH_MAX: u8 = 50;

/// A market data feed of one instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum FeedKind {
    /// Order by order: every book event, sequenced by the instrument's `feed_seq`.
    L3 = 1,
    /// The best `depth` price levels of each side, sequenced by `level_seq`.
    L2 = 2,
    /// Trades and trading status only: the L3 feed's Trade and TradingStatus messages,
    /// with their L3 `feed_seq` (increasing, not contiguous).
    Trades = 3,
}

/// Why the gateway refused a Subscribe, FeedSubscribe or ResendRequest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FeedRejectReason {
    /// No such instrument is listed.
    UnknownInstrument = 1,
    /// An L2 depth outside 1..=the gateway's offered depths, or a depth on another feed.
    BadDepth = 2,
    /// The session holds its maximum of subscriptions.
    TooManySubscriptions = 3,
    /// The range is no longer (or not yet) in the gateway's resend window: a snapshot
    /// follows if the session is subscribed to that feed.
    ResendOutOfWindow = 4,
    /// `from_seq` is 0 or above `to_seq`, or the range is longer than the window.
    BadRange = 5,
    /// A ResendRequest for a feed the session is not subscribed to.
    NotSubscribed = 6,
    /// The gateway cannot publish this feed (it has not seen the engine's whole history,
    /// or its copy of the books stopped on an event it could not apply).
    Unavailable = 7,
}

u8_codes!(FeedKind { L3, L2, Trades });
u8_codes!(FeedRejectReason {
    UnknownInstrument,
    BadDepth,
    TooManySubscriptions,
    ResendOutOfWindow,
    BadRange,
    NotSubscribed,
    Unavailable
});

/// The core's remove reason as it travels (its discriminant).
pub fn decode_remove_reason(v: u8) -> Option<RemoveReason> {
    [
        RemoveReason::Filled,
        RemoveReason::Cancelled,
        RemoveReason::Expired,
    ]
    .into_iter()
    .find(|r| *r as u8 == v)
}

/// The core's level action as it travels (its discriminant).
pub fn decode_level_action(v: u8) -> Option<LevelAction> {
    [LevelAction::Add, LevelAction::Change, LevelAction::Delete]
        .into_iter()
        .find(|a| *a as u8 == v)
}
