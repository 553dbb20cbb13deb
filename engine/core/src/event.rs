//! Events: everything the core says. For one command they come in a fixed order
//! (accepted/replaced, then trades in match order, then the remainder's fate), with
//! ids drawn from counters in the state, so replaying a stream reproduces them exactly.

use crate::command::{CommandKind, InstrumentSpec};
use crate::types::*;

/// Why a command was refused. The numeric values are stable: they go on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RejectReason {
    UnknownInstrument = 1,
    UnknownAccount = 2,
    InvalidQuantity = 3,
    InvalidPrice = 4,
    PriceNotOnTick = 5,
    QtyNotOnLot = 6,
    /// The combination of order type, time in force and flags is not allowed.
    InvalidOrderType = 7,
    DuplicateClientOrderId = 8,
    UnknownOrder = 9,
    /// The order existed today but is no longer open (filled, cancelled or expired).
    TooLateToCancel = 10,
    MaxOrderQty = 11,
    MaxOrderNotional = 12,
    PriceBand = 13,
    MaxOpenOrders = 14,
    PostOnlyWouldCross = 15,
    InstrumentHalted = 16,
    /// The engine's order capacity is exhausted.
    BookFull = 17,
    /// The day's client order id capacity is exhausted.
    DailyOrderLimit = 18,
    DuplicateInstrument = 19,
    DuplicateAccount = 20,
    InvalidInstrument = 21,
    InvalidAccount = 22,
    /// `seq` was not exactly one more than the last applied sequence number.
    SequenceGap = 23,
    /// `timestamp_ns` was earlier than the last applied timestamp.
    TimestampRegressed = 24,
    /// The order could take the account's net position in the instrument past the
    /// largest the core holds (`POSITION_MAX`).
    PositionLimit = 25,
}

u8_enum_conversions!(RejectReason {
    UnknownInstrument,
    UnknownAccount,
    InvalidQuantity,
    InvalidPrice,
    PriceNotOnTick,
    QtyNotOnLot,
    InvalidOrderType,
    DuplicateClientOrderId,
    UnknownOrder,
    TooLateToCancel,
    MaxOrderQty,
    MaxOrderNotional,
    PriceBand,
    MaxOpenOrders,
    PostOnlyWouldCross,
    InstrumentHalted,
    BookFull,
    DailyOrderLimit,
    DuplicateInstrument,
    DuplicateAccount,
    InvalidInstrument,
    InvalidAccount,
    SequenceGap,
    TimestampRegressed,
    PositionLimit
});

/// Why an order left the book or never rested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CancelReason {
    /// The owner asked.
    Requested = 1,
    MassCancel = 2,
    /// The unfilled remainder of an IOC or market order.
    ImmediateRemainder = 3,
    /// A fill-or-kill order that could not fill completely.
    FillOrKill = 4,
    /// A market order that found no liquidity inside the price band.
    NoLiquidity = 5,
}

u8_enum_conversions!(CancelReason {
    Requested,
    MassCancel,
    ImmediateRemainder,
    FillOrKill,
    NoLiquidity
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    pub instrument: InstrumentId,
    pub match_id: MatchId,
    pub price: Price,
    pub qty: Qty,
    pub aggressor_side: Side,
    pub maker_order_id: OrderId,
    pub maker_account: AccountId,
    pub maker_client_order_id: ClientOrderId,
    /// The maker's open quantity after this trade; 0 means it left the book.
    pub maker_leaves: Qty,
    pub taker_order_id: OrderId,
    pub taker_account: AccountId,
    pub taker_client_order_id: ClientOrderId,
    pub taker_leaves: Qty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Accepted {
        order_id: OrderId,
        account: AccountId,
        instrument: InstrumentId,
        client_order_id: ClientOrderId,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        post_only: bool,
        price: Price,
        qty: Qty,
    },
    Rejected {
        command: CommandKind,
        account: AccountId,
        client_order_id: ClientOrderId,
        reason: RejectReason,
    },
    Trade(Trade),
    Cancelled {
        order_id: OrderId,
        account: AccountId,
        instrument: InstrumentId,
        client_order_id: ClientOrderId,
        /// The open quantity that was cancelled.
        qty: Qty,
        reason: CancelReason,
    },
    Replaced {
        order_id: OrderId,
        account: AccountId,
        instrument: InstrumentId,
        orig_client_order_id: ClientOrderId,
        client_order_id: ClientOrderId,
        price: Price,
        qty: Qty,
        priority_kept: bool,
    },
    Expired {
        order_id: OrderId,
        account: AccountId,
        instrument: InstrumentId,
        client_order_id: ClientOrderId,
        qty: Qty,
    },
    MassCancelled {
        account: AccountId,
        instrument: Option<InstrumentId>,
        count: u32,
    },
    DayEnded {
        expired: u32,
    },
    /// An instrument was listed, with the trading rules it was listed under (what a
    /// gateway publishes as its definition).
    InstrumentAdded {
        spec: InstrumentSpec,
    },
    AccountAdded {
        account: AccountId,
    },
    HaltChanged {
        instrument: InstrumentId,
        halted: bool,
    },
}
