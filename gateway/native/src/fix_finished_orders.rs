//! The account's most recently finished orders (filled, cancelled, expired), which a FIX
//! session still reports on (OrderStatusRequest, OrderCancelReject): a ring in the order
//! they finished, and an index of small entries by client order id. Finishing an order
//! appends to the ring and, once the ring is full, forgets the oldest — a few cache
//! misses, where a map of whole orders would move them on every rehash.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::fix_tracked_order::TrackedOrder;

/// At most `max` finished orders, the oldest forgotten first.
pub struct FinishedOrders {
    max: usize,
    ring: VecDeque<TrackedOrder>,
    /// The position, counted since the start, of the ring's front.
    front: u64,
    /// Positions by client order id; an order finished again is found at its latest.
    index: FxHashMap<u64, u64>,
}

impl FinishedOrders {
    pub fn new(max: usize) -> FinishedOrders {
        assert!(max > 0);
        FinishedOrders {
            max,
            ring: VecDeque::new(),
            front: 0,
            index: FxHashMap::default(),
        }
    }

    pub fn get(&self, client_order_id: u64) -> Option<&TrackedOrder> {
        let at = self.index.get(&client_order_id)? - self.front;
        let order = &self.ring[usize::try_from(at).expect("positions within the ring")];
        assert_eq!(
            order.client_order_id, client_order_id,
            "index and ring agree"
        );
        Some(order)
    }

    pub fn put(&mut self, order: TrackedOrder) {
        if self.ring.len() == self.max {
            let oldest = self.ring.pop_front().expect("a full ring");
            if self.index.get(&oldest.client_order_id) == Some(&self.front) {
                self.index.remove(&oldest.client_order_id);
            }
            self.front += 1;
        }
        let at = self.front + self.ring.len() as u64;
        self.index.insert(order.client_order_id, at);
        self.ring.push_back(order);
        assert!(self.index.len() <= self.ring.len(), "bounded index");
    }
}

#[cfg(test)]
mod tests {
    use ringex_core::{OrderType, Side, TimeInForce};

    use super::*;

    fn order(client_order_id: u64, cum_qty: u64) -> TrackedOrder {
        TrackedOrder {
            client_order_id,
            order_id: client_order_id,
            instrument: 1,
            side: Side::Buy,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            price: 0,
            order_qty: 10,
            cum_qty,
            notional: 0,
            leaves: 0,
            status: b'2',
        }
    }

    #[test]
    fn keeps_the_last_finished_and_the_latest_of_an_id_finished_twice() {
        let mut finished = FinishedOrders::new(3);
        for id in 1..=4 {
            finished.put(order(id, 1));
        }
        assert!(finished.get(1).is_none());
        assert_eq!(finished.get(2).map(|o| o.cum_qty), Some(1));
        finished.put(order(3, 2));
        assert!(finished.get(2).is_none());
        assert_eq!(finished.get(3).map(|o| o.cum_qty), Some(2));
        finished.put(order(5, 1));
        finished.put(order(6, 1));
        assert_eq!(
            finished.get(3).map(|o| o.cum_qty),
            Some(2),
            "the older 3 left first"
        );
        assert_eq!(finished.index.len(), 3);
    }
}
