//! Price levels rebuilt from engine events, for the top-of-book market data messages.
//! Every order the gateway has seen accepted is tracked with its open quantity; an order
//! that may rest (a GTC or DAY limit order) counts toward its level. A book reflects the
//! orders accepted since the gateway's engine link came up.

use std::collections::{BTreeMap, HashMap};

use ringex_core::{OrderId, OrderType, Price, Qty, Side, TimeInForce};

/// Best bid and offer of an instrument; a price and quantity of 0 for an empty side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Top {
    pub bid_price: Price,
    pub bid_qty: Qty,
    pub ask_price: Price,
    pub ask_qty: Qty,
}

struct TrackedOrder {
    instrument: u32,
    side: Side,
    price: Price,
    open: Qty,
    rests: bool,
}

#[derive(Default)]
struct Levels {
    bids: BTreeMap<Price, Qty>,
    asks: BTreeMap<Price, Qty>,
    published: Top,
}

impl Levels {
    fn side(&mut self, side: Side) -> &mut BTreeMap<Price, Qty> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn top(&self) -> Top {
        let (bid_price, bid_qty) = self.bids.last_key_value().map_or((0, 0), |(p, q)| (*p, *q));
        let (ask_price, ask_qty) = self
            .asks
            .first_key_value()
            .map_or((0, 0), |(p, q)| (*p, *q));
        Top {
            bid_price,
            bid_qty,
            ask_price,
            ask_qty,
        }
    }
}

#[derive(Default)]
pub struct Books {
    orders: HashMap<OrderId, TrackedOrder>,
    levels: HashMap<u32, Levels>,
    touched: Vec<u32>,
}

impl Books {
    #[allow(clippy::too_many_arguments)]
    pub fn accepted(
        &mut self,
        order_id: OrderId,
        instrument: u32,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        price: Price,
        qty: Qty,
    ) {
        let rests = order_type == OrderType::Limit && time_in_force.may_rest();
        self.orders.insert(
            order_id,
            TrackedOrder {
                instrument,
                side,
                price,
                open: 0,
                rests,
            },
        );
        self.update(order_id, price, qty);
    }

    /// A trade left the order `leaves` open.
    pub fn traded(&mut self, order_id: OrderId, leaves: Qty) {
        if let Some(price) = self.orders.get(&order_id).map(|o| o.price) {
            self.update(order_id, price, leaves);
        }
    }

    pub fn replaced(&mut self, order_id: OrderId, price: Price, qty: Qty) {
        self.update(order_id, price, qty);
    }

    /// The order was cancelled or expired.
    pub fn removed(&mut self, order_id: OrderId) {
        if let Some(price) = self.orders.get(&order_id).map(|o| o.price) {
            self.update(order_id, price, 0);
        }
    }

    fn update(&mut self, order_id: OrderId, price: Price, open: Qty) {
        let Some(order) = self.orders.get_mut(&order_id) else {
            return;
        };
        let levels = self.levels.entry(order.instrument).or_default();
        if order.rests {
            let side = levels.side(order.side);
            if order.open > 0 {
                if let Some(q) = side.get_mut(&order.price) {
                    *q -= order.open.min(*q);
                    if *q == 0 {
                        side.remove(&order.price);
                    }
                }
            }
            if open > 0 {
                *side.entry(price).or_insert(0) += open;
            }
        }
        order.price = price;
        order.open = open;
        if !self.touched.contains(&order.instrument) {
            self.touched.push(order.instrument);
        }
        if open == 0 {
            self.orders.remove(&order_id);
        }
    }

    /// Instruments whose top changed since last asked, with their new top.
    pub fn take_changes(&mut self) -> Vec<(u32, Top)> {
        let mut changes = Vec::new();
        for instrument in self.touched.drain(..) {
            if let Some(levels) = self.levels.get_mut(&instrument) {
                let top = levels.top();
                if top != levels.published {
                    levels.published = top;
                    changes.push((instrument, top));
                }
            }
        }
        changes
    }

    pub fn top(&self, instrument: u32) -> Top {
        self.levels
            .get(&instrument)
            .map_or(Top::default(), |l| l.top())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_accepts_trades_replaces_and_cancels() {
        let mut b = Books::default();
        b.accepted(1, 3, Side::Buy, OrderType::Limit, TimeInForce::Gtc, 100, 10);
        b.accepted(2, 3, Side::Buy, OrderType::Limit, TimeInForce::Day, 100, 5);
        b.accepted(3, 3, Side::Sell, OrderType::Limit, TimeInForce::Gtc, 105, 7);
        let top = Top {
            bid_price: 100,
            bid_qty: 15,
            ask_price: 105,
            ask_qty: 7,
        };
        assert_eq!(b.take_changes(), vec![(3, top)]);
        assert!(b.take_changes().is_empty());
        // An IOC sell trades 12 against the bids and is not counted while it lives.
        b.accepted(
            4,
            3,
            Side::Sell,
            OrderType::Limit,
            TimeInForce::Ioc,
            100,
            20,
        );
        b.traded(1, 0);
        b.traded(4, 10);
        b.traded(2, 3);
        b.traded(4, 8);
        b.removed(4);
        assert_eq!(b.top(3).bid_qty, 3);
        b.replaced(3, 104, 2);
        b.removed(2);
        let top = b.take_changes()[0].1;
        assert_eq!(
            (top.bid_price, top.bid_qty, top.ask_price, top.ask_qty),
            (0, 0, 104, 2)
        );
        assert!(b.orders.len() == 1);
    }
}
