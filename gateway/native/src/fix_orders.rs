//! The account's orders as a FIX session reports them — cumulative quantity, notional,
//! order status, for what the binary protocol does not carry — and the session's requests
//! still awaiting their answer, so each answer is reported as the FIX request it answers.
//!
//! Built from every order response of the account's stream (the replay at logon
//! included), so it holds the orders of every session of the account. Bounded: at most
//! `max_orders` open and `max_orders` finished orders (the oldest finished ones are
//! forgotten first), and [`PENDING_MAX`] requests of each kind.

use std::collections::VecDeque;

use ringex_core::Side;
use rustc_hash::FxHashMap;

use crate::fix_finished_orders::FinishedOrders;
use crate::fix_tracked_order::TrackedOrder;

/// Requests awaiting their answer that one FIX session remembers, of each kind.
pub const PENDING_MAX: usize = 65_536;

/// OrdStatus (39) values.
pub mod ord_status {
    pub const NEW: u8 = b'0';
    pub const PARTIALLY_FILLED: u8 = b'1';
    pub const FILLED: u8 = b'2';
    pub const CANCELED: u8 = b'4';
    pub const REJECTED: u8 = b'8';
    pub const EXPIRED: u8 = b'C';
}

/// Orders by client order id, updated from the account stream.
pub struct OrderTracker {
    max: usize,
    open: FxHashMap<u64, TrackedOrder>,
    finished: FinishedOrders,
}

impl OrderTracker {
    pub fn new(max_orders: usize) -> OrderTracker {
        assert!(max_orders > 0, "max_orders checked at configuration");
        OrderTracker {
            max: max_orders,
            open: FxHashMap::default(),
            finished: FinishedOrders::new(max_orders),
        }
    }

    /// The order with this id, open or recently finished.
    pub fn get(&self, client_order_id: u64) -> Option<&TrackedOrder> {
        self.open
            .get(&client_order_id)
            .or_else(|| self.finished.get(client_order_id))
    }

    /// A new order rests (or is about to trade); kept while fewer than the bound are open.
    pub fn accepted(&mut self, order: TrackedOrder) -> TrackedOrder {
        if self.open.len() < self.max {
            self.open.insert(order.client_order_id, order.clone());
        }
        order
    }

    /// A fill of one of the account's orders: `qty` at `price`, `leaves` open after it.
    pub fn executed(
        &mut self,
        coid: u64,
        price: i64,
        qty: u64,
        leaves: u64,
    ) -> Option<TrackedOrder> {
        let order = self.open.get_mut(&coid)?;
        order.cum_qty += qty;
        order.notional += i128::from(price) * i128::from(qty);
        order.leaves = leaves;
        order.status = if leaves > 0 {
            ord_status::PARTIALLY_FILLED
        } else {
            ord_status::FILLED
        };
        let order = order.clone();
        if leaves == 0 {
            self.finish(coid);
        }
        Some(order)
    }

    /// An order's open quantity left the book, with OrdStatus `status`.
    pub fn cancelled(&mut self, coid: u64, status: u8) -> Option<TrackedOrder> {
        let order = self.open.get_mut(&coid)?;
        order.leaves = 0;
        order.status = status;
        let order = order.clone();
        self.finish(coid);
        Some(order)
    }

    /// A cancel/replace: the order takes its new id, price and open quantity.
    pub fn replaced(&mut self, orig: u64, coid: u64, price: i64, qty: u64) -> Option<TrackedOrder> {
        let mut order = self.open.remove(&orig)?;
        order.client_order_id = coid;
        order.price = price;
        order.leaves = qty;
        order.order_qty = order.cum_qty + qty;
        self.open.insert(coid, order.clone());
        Some(order)
    }

    fn finish(&mut self, coid: u64) {
        if let Some(order) = self.open.remove(&coid) {
            self.finished.put(order);
        }
    }
}

/// Values by id in insertion order; past the bound the oldest is forgotten. Putting an id
/// again keeps its place, as an ordered map does.
pub struct Bounded<V> {
    max: usize,
    values: FxHashMap<u64, (u64, V)>,
    /// Ids by the generation they were put in; entries of taken ids are stale.
    order: VecDeque<(u64, u64)>,
    generation: u64,
}

impl<V> Bounded<V> {
    pub fn new(max: usize) -> Bounded<V> {
        assert!(max > 0);
        Bounded {
            max,
            values: FxHashMap::default(),
            order: VecDeque::new(),
            generation: 0,
        }
    }

    pub fn get(&self, id: u64) -> Option<&V> {
        self.values.get(&id).map(|(_, v)| v)
    }

    pub fn put(&mut self, id: u64, value: V) {
        if let Some(slot) = self.values.get_mut(&id) {
            slot.1 = value;
            return;
        }
        self.generation += 1;
        self.values.insert(id, (self.generation, value));
        self.order.push_back((id, self.generation));
        while self.values.len() > self.max {
            let (old, generation) = self.order.pop_front().expect("an id for each value");
            if self.values.get(&old).is_some_and(|(g, _)| *g == generation) {
                self.values.remove(&old);
            }
        }
        if self.order.len() > 2 * self.max {
            let values = &self.values;
            self.order
                .retain(|(id, g)| values.get(id).is_some_and(|(live, _)| live == g));
        }
        assert!(self.order.len() <= 2 * self.max + 1, "bounded order");
    }

    pub fn take(&mut self, id: u64) -> Option<V> {
        self.values.remove(&id).map(|(_, v)| v)
    }
}

/// A NewOrderSingle awaiting its answer: what its reject reports.
pub struct NewRequest {
    pub instrument: u32,
    pub side: Side,
}

/// The requests of one FIX session awaiting their answer.
pub struct PendingRequests {
    /// NewOrderSingles by ClOrdID.
    pub new: Bounded<NewRequest>,
    /// The ClOrdID of each OrderCancelRequest, by the order it cancels.
    pub cancels: Bounded<String>,
    /// The OrigClOrdID of each OrderCancelReplaceRequest, by its ClOrdID.
    pub replaces: Bounded<String>,
    /// (ClOrdID, MassCancelRequestType) of each OrderMassCancelRequest, oldest first.
    pub mass_cancels: VecDeque<(String, String)>,
}

impl Default for PendingRequests {
    fn default() -> PendingRequests {
        PendingRequests {
            new: Bounded::new(PENDING_MAX),
            cancels: Bounded::new(PENDING_MAX),
            replaces: Bounded::new(PENDING_MAX),
            mass_cancels: VecDeque::new(),
        }
    }
}

impl PendingRequests {
    pub fn mass_cancel(&mut self, cl_ord_id: String, kind: String) {
        if self.mass_cancels.len() == PENDING_MAX {
            self.mass_cancels.pop_front();
        }
        self.mass_cancels.push_back((cl_ord_id, kind));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_forgets_the_oldest_and_keeps_the_place_of_an_id_put_again() {
        let mut b = Bounded::new(2);
        b.put(1, "a");
        b.put(2, "b");
        b.put(1, "c");
        b.put(3, "d");
        assert_eq!(
            (b.get(1), b.get(2), b.get(3)),
            (None, Some(&"b"), Some(&"d"))
        );
        assert_eq!(b.take(2), Some("b"));
        for id in 10..100 {
            b.put(id, "x");
            b.take(id);
        }
        assert!(b.order.len() <= 5);
        assert_eq!(b.get(3), Some(&"d"));
    }
}
