//! The book checksum: CRC-32C (Castagnoli, the CRC of iSCSI and of the journal) over a
//! canonical little-endian encoding of a book, so that a client in any language can
//! compute it from its own copy and know it matches the exchange's.
//!
//! A book is encoded side by side, bids then asks, each best price first; an L3 book
//! writes every resting order in queue order, an L2 book every level it holds:
//!
//! ```text
//! order: side u8 (1 buy, 2 sell) | price i64 LE | order_id u64 LE | qty u64 LE   (25 bytes)
//! level: side u8 (1 buy, 2 sell) | price i64 LE | qty u64 LE | order_count u32 LE (21 bytes)
//! ```
//!
//! An empty book encodes to nothing and its checksum is 0.

use crate::types::*;

/// Accumulates the checksum of a book written in canonical order.
#[derive(Clone, Copy, Debug, Default)]
pub struct BookChecksum {
    crc: u32,
}

impl BookChecksum {
    pub fn new() -> BookChecksum {
        BookChecksum::default()
    }

    /// Adds one resting order of an L3 book.
    pub fn order(&mut self, side: Side, price: Price, order_id: OrderId, qty: Qty) {
        let mut bytes = [0u8; 25];
        bytes[0] = side as u8;
        bytes[1..9].copy_from_slice(&price.to_le_bytes());
        bytes[9..17].copy_from_slice(&order_id.to_le_bytes());
        bytes[17..25].copy_from_slice(&qty.to_le_bytes());
        self.crc = crc32c::crc32c_append(self.crc, &bytes);
    }

    /// Adds one price level of an L2 book.
    pub fn level(&mut self, side: Side, price: Price, qty: Qty, order_count: u32) {
        let mut bytes = [0u8; 21];
        bytes[0] = side as u8;
        bytes[1..9].copy_from_slice(&price.to_le_bytes());
        bytes[9..17].copy_from_slice(&qty.to_le_bytes());
        bytes[17..21].copy_from_slice(&order_count.to_le_bytes());
        self.crc = crc32c::crc32c_append(self.crc, &bytes);
    }

    pub fn finish(self) -> u32 {
        self.crc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of engine/MARKET-DATA.md: a client implementation can test
    /// itself against these figures.
    #[test]
    fn worked_example_matches_the_documentation() {
        let mut l3 = BookChecksum::new();
        l3.order(Side::Buy, 100, 7, 5);
        l3.order(Side::Buy, 100, 9, 3);
        l3.order(Side::Sell, 101, 8, 2);
        let mut l2 = BookChecksum::new();
        l2.level(Side::Buy, 100, 8, 2);
        l2.level(Side::Sell, 101, 2, 1);
        assert_eq!(
            (l3.finish(), l2.finish()),
            (EXAMPLE_L3_CHECKSUM, EXAMPLE_L2_CHECKSUM)
        );
        assert_eq!(BookChecksum::new().finish(), 0);
    }

    const EXAMPLE_L3_CHECKSUM: u32 = 0xD362_3341;
    const EXAMPLE_L2_CHECKSUM: u32 = 0x2DEA_46AB;
}
