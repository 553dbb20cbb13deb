//! Book events: every change to a public book, in the order it happened, as a feed
//! needs it. Each event names the order's side and price and the quantities involved,
//! so a price-level book can be kept from them without tracking orders.

use crate::types::*;

/// One change to one instrument's book (or its trading state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BookEvent {
    pub instrument: InstrumentId,
    /// The instrument's own sequence: 1 for its first event, then +1 per event.
    pub feed_seq: u64,
    /// The engine sequence number of the command that caused it.
    pub engine_seq: Seq,
    pub timestamp_ns: TimestampNs,
    pub change: BookChange,
}

/// Why an order left the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RemoveReason {
    /// Traded in full.
    Filled = 1,
    /// Cancelled by its owner, a mass cancel or an operator.
    Cancelled = 2,
    /// A DAY order at the end of the trading day.
    Expired = 3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BookChange {
    /// An order joined the back of the queue at `price` with `qty` open. Sent after
    /// the trades it made on entry, with what remained of it.
    OrderAdded {
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
    },
    /// A resting order traded `qty` (the trade event before says at what) and still has
    /// `remaining_qty` open, keeping its place.
    OrderReduced {
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
        remaining_qty: Qty,
    },
    /// A resting order left the book with `qty` open.
    OrderRemoved {
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
        reason: RemoveReason,
    },
    /// A resting order now rests at `price` with `qty` open, instead of `old_price` and
    /// `old_qty`. With `priority_kept` (same price, quantity not raised) it keeps its
    /// place; otherwise it went to the back of the queue at `price`. A replace whose
    /// new price crossed is sent after the trades it made, with what remained; one that
    /// traded in full is sent as `OrderRemoved { reason: Filled }` instead.
    OrderReplaced {
        order_id: OrderId,
        side: Side,
        old_price: Price,
        old_qty: Qty,
        price: Price,
        qty: Qty,
        priority_kept: bool,
    },
    /// A match: the resting `maker_order_id` traded `qty` at `price` against an incoming
    /// order on `aggressor_side`. Changes no book by itself: the maker's
    /// `OrderReduced` or `OrderRemoved` follows it.
    Trade {
        match_id: MatchId,
        price: Price,
        qty: Qty,
        aggressor_side: Side,
        maker_order_id: OrderId,
    },
    /// The instrument was listed (its first event, not halted) or halted or resumed.
    TradingStatus { halted: bool },
}
