//! Why the feed builder refused a command's events. The engine's own output never
//! causes one; events from elsewhere (a different engine, a reordered or edited stream)
//! can, and must stop the feed rather than publish a book that is not the engine's.

use std::fmt;

use crate::types::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedError {
    /// The engine sequence number of the events refused.
    pub engine_seq: Seq,
    pub reason: FeedErrorReason,
}

/// The numeric values are stable, for bindings and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FeedErrorReason {
    /// An event names an instrument that was never listed, or lists one twice.
    UnknownInstrument = 1,
    /// An event names an order that is not resting, or adds one that already is.
    UnknownOrder = 2,
    /// Quantities, prices or sides disagree with the book the events built so far.
    Inconsistent = 3,
    /// More resting orders than the engine's capacity allows.
    Capacity = 4,
    /// An earlier batch was refused: the builder's book can no longer be trusted.
    Stopped = 5,
}

impl fmt::Display for FeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.reason {
            FeedErrorReason::UnknownInstrument => "an event names an unknown instrument",
            FeedErrorReason::UnknownOrder => "an event names an order that is not resting",
            FeedErrorReason::Inconsistent => "an event disagrees with the book",
            FeedErrorReason::Capacity => "more resting orders than the capacity",
            FeedErrorReason::Stopped => "the feed stopped at an earlier error",
        };
        write!(
            f,
            "book feed refused engine seq {}: {what}",
            self.engine_seq
        )
    }
}

impl std::error::Error for FeedError {}
