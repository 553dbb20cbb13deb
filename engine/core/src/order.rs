//! Resting orders live in one pre-sized slab; books and accounts thread intrusive
//! doubly-linked lists through it, so cancel is O(1) and nothing allocates per order.

use crate::types::*;

/// The null link.
pub const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
pub struct Order {
    pub order_id: OrderId,
    pub client_order_id: ClientOrderId,
    pub price: Price,
    /// Open quantity.
    pub leaves: Qty,
    /// Quantity traded so far.
    pub filled: Qty,
    pub account: AccountId,
    pub instrument: InstrumentId,
    /// Neighbours in the price level's time queue.
    pub prev: u32,
    pub next: u32,
    /// Neighbours in the account's list of open orders (oldest first).
    pub account_prev: u32,
    pub account_next: u32,
    pub side: Side,
    pub time_in_force: TimeInForce,
    pub post_only: bool,
}

/// Fixed-capacity slab of orders with a free list. The capacity is fixed at startup.
pub struct OrderPool {
    slots: Vec<Order>,
    free_head: u32,
    capacity: u32,
    live: u32,
}

impl OrderPool {
    pub fn with_capacity(capacity: u32) -> OrderPool {
        assert!(
            capacity > 0 && capacity < NIL,
            "order capacity out of range"
        );
        OrderPool {
            slots: Vec::with_capacity(capacity as usize),
            free_head: NIL,
            capacity,
            live: 0,
        }
    }

    pub fn is_full(&self) -> bool {
        self.live == self.capacity
    }

    pub fn live(&self) -> u32 {
        self.live
    }

    /// Stores an order and returns its slot; `None` when the pool is full.
    pub fn alloc(&mut self, order: Order) -> Option<u32> {
        if self.is_full() {
            return None;
        }
        self.live += 1;
        if self.free_head != NIL {
            let slot = self.free_head;
            self.free_head = self.slots[slot as usize].next;
            self.slots[slot as usize] = order;
            return Some(slot);
        }
        let slot = self.slots.len() as u32;
        assert!(slot < self.capacity);
        // Within the reserved capacity: never reallocates.
        self.slots.push(order);
        Some(slot)
    }

    pub fn free(&mut self, slot: u32) {
        assert!(self.live > 0);
        self.live -= 1;
        let order = &mut self.slots[slot as usize];
        order.leaves = 0;
        order.next = self.free_head;
        self.free_head = slot;
    }

    #[inline]
    pub fn get(&self, slot: u32) -> &Order {
        &self.slots[slot as usize]
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut Order {
        &mut self.slots[slot as usize]
    }

    /// Writes every reserved but unused slot once, so that the operating system maps
    /// the slab's pages now rather than on first use while trading.
    pub fn prefault(&mut self) {
        let filler = Order {
            order_id: 0,
            client_order_id: 0,
            price: 0,
            leaves: 0,
            filled: 0,
            account: 0,
            instrument: 0,
            prev: NIL,
            next: NIL,
            account_prev: NIL,
            account_next: NIL,
            side: Side::Buy,
            time_in_force: TimeInForce::Gtc,
            post_only: false,
        };
        for slot in self.slots.spare_capacity_mut() {
            slot.write(filler);
        }
    }

    /// Bytes reserved for the slab, for memory accounting.
    pub fn reserved_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Order>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefault_keeps_the_pool_empty() {
        let mut pool = OrderPool::with_capacity(8);
        pool.prefault();
        assert_eq!(pool.live(), 0);
        assert!(!pool.is_full());
        assert_eq!(pool.reserved_bytes(), 8 * std::mem::size_of::<Order>());
    }
}
