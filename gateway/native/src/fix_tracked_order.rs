//! One order of the account as a FIX session reports it: what the binary protocol
//! carries about it, and the cumulative quantity, notional and status FIX adds. Kept by
//! the tracker while open and by the finished-orders ring after.

use ringex_core::{OrderType, Side, TimeInForce};

/// One order of the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackedOrder {
    pub client_order_id: u64,
    pub order_id: u64,
    pub instrument: u32,
    pub side: Side,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub price: i64,
    pub order_qty: u64,
    pub cum_qty: u64,
    /// Sum of price × quantity over the fills.
    pub notional: i128,
    pub leaves: u64,
    pub status: u8,
}
