//! Snapshots of one book: L3 (every resting order in queue order) and L2 (price
//! levels). Each says which feed sequence it covers, so a client applies only the
//! events after it, and carries the checksum of the book it describes.

use super::book_checksum::BookChecksum;
use crate::types::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct L3Order {
    pub order_id: OrderId,
    pub qty: Qty,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct L3Level {
    pub price: Price,
    /// In time priority, first to trade first.
    pub orders: Vec<L3Order>,
}

/// Every resting order of one book after the event numbered `feed_seq`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct L3Snapshot {
    pub instrument: InstrumentId,
    /// The last book event this snapshot includes (0: none yet).
    pub feed_seq: u64,
    pub halted: bool,
    /// Best (highest) first.
    pub bids: Vec<L3Level>,
    /// Best (lowest) first.
    pub asks: Vec<L3Level>,
    /// [`L3Snapshot::compute_checksum`] of these levels.
    pub checksum: u32,
}

impl L3Snapshot {
    /// The book checksum of the levels, as a client computes it from its own book.
    pub fn compute_checksum(&self) -> u32 {
        let mut sum = BookChecksum::new();
        for (side, levels) in [(Side::Buy, &self.bids), (Side::Sell, &self.asks)] {
            for level in levels {
                for order in &level.orders {
                    sum.order(side, level.price, order.order_id, order.qty);
                }
            }
        }
        sum.finish()
    }
}

/// One price level: its total open quantity and how many orders make it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PriceLevel {
    pub price: Price,
    pub qty: Qty,
    pub order_count: u32,
}

/// The best `depth` levels of each side of one book.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct L2Snapshot {
    pub instrument: InstrumentId,
    /// The last book event this snapshot includes (0: none yet).
    pub feed_seq: u64,
    /// The last level update this snapshot includes (0: none yet).
    pub level_seq: u64,
    /// Best (highest) first.
    pub bids: Vec<PriceLevel>,
    /// Best (lowest) first.
    pub asks: Vec<PriceLevel>,
    /// [`L2Snapshot::compute_checksum`] of these levels.
    pub checksum: u32,
}

impl L2Snapshot {
    /// The book checksum of the levels, as a client computes it from its own book.
    pub fn compute_checksum(&self) -> u32 {
        let mut sum = BookChecksum::new();
        for (side, levels) in [(Side::Buy, &self.bids), (Side::Sell, &self.asks)] {
            for level in levels {
                sum.level(side, level.price, level.qty, level.order_count);
            }
        }
        sum.finish()
    }
}
