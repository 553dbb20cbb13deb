//! Scalar types and enums shared by commands, events and state.
//!
//! Money is integer: prices are in the instrument's price unit (a multiple of its tick
//! size), quantities in lots (a multiple of its lot size). No floats anywhere in the core.

/// Price in integer price units. Signed so that spreads can later quote below zero;
/// today every accepted price is positive.
pub type Price = i64;
/// Quantity in integer units (a multiple of the instrument's lot size).
pub type Qty = u64;
pub type AccountId = u32;
pub type InstrumentId = u32;
/// Chosen by the client; unique per account for the trading day.
pub type ClientOrderId = u64;
/// Assigned by the engine, strictly increasing, never reused.
pub type OrderId = u64;
/// Assigned by the engine to each trade, strictly increasing.
pub type MatchId = u64;
pub type Seq = u64;
pub type TimestampNs = u64;

/// Largest price the core accepts. Keeps `price * qty` far inside `u128` and leaves
/// room for band arithmetic in `i128` without overflow.
pub const PRICE_MAX: Price = 1 << 52;
/// Largest quantity the core accepts. With at most 2^24 resting orders the sum of a
/// level can never overflow `u64`.
pub const QTY_MAX: Qty = 1 << 38;
/// Largest net position an order may take an account to, either way. With every resting
/// order filling on top (at most 2^24 orders of `QTY_MAX`) a position stays inside `i64`.
pub const POSITION_MAX: i64 = 1 << 50;
/// Basis points in one whole (100%).
pub const BPS_ONE: u32 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Side {
    Buy = 1,
    Sell = 2,
}

impl Side {
    #[inline]
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// Whether a resting price on the opposite side is acceptable to an aggressor on
    /// this side with the given limit.
    #[inline]
    pub fn accepts(self, limit: Price, resting: Price) -> bool {
        match self {
            Side::Buy => resting <= limit,
            Side::Sell => resting >= limit,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderType {
    Limit = 1,
    Market = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TimeInForce {
    /// Good till cancelled: rests across trading days.
    Gtc = 1,
    /// Immediate or cancel: trades what it can, the remainder is cancelled.
    Ioc = 2,
    /// Fill or kill: trades its whole quantity at once or nothing.
    Fok = 3,
    /// Rests until the end of the trading day, then expires.
    Day = 4,
}

impl TimeInForce {
    /// Whether an order with this time in force may rest on the book.
    #[inline]
    pub fn may_rest(self) -> bool {
        matches!(self, TimeInForce::Gtc | TimeInForce::Day)
    }
}

macro_rules! u8_enum_conversions {
    ($t:ty { $($v:ident),+ }) => {
        impl TryFrom<u8> for $t {
            type Error = u8;
            fn try_from(v: u8) -> Result<Self, u8> {
                $(if v == <$t>::$v as u8 { return Ok(<$t>::$v); })+
                Err(v)
            }
        }
    };
}
pub(crate) use u8_enum_conversions;

u8_enum_conversions!(Side { Buy, Sell });
u8_enum_conversions!(OrderType { Limit, Market });
u8_enum_conversions!(TimeInForce { Gtc, Ioc, Fok, Day });
