//! Read-only views of the state for callers: books, open orders, positions.
//! They allocate; they are for inspection, not for the matching path.

use crate::engine::Engine;
use crate::order::{Order, NIL};
use crate::types::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderView {
    pub order_id: OrderId,
    pub account: AccountId,
    pub instrument: InstrumentId,
    pub client_order_id: ClientOrderId,
    pub side: Side,
    pub time_in_force: TimeInForce,
    pub post_only: bool,
    pub price: Price,
    pub leaves: Qty,
    pub filled: Qty,
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> OrderView {
        OrderView {
            order_id: o.order_id,
            account: o.account,
            instrument: o.instrument,
            client_order_id: o.client_order_id,
            side: o.side,
            time_in_force: o.time_in_force,
            post_only: o.post_only,
            price: o.price,
            leaves: o.leaves,
            filled: o.filled,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelView {
    pub price: Price,
    pub total_qty: Qty,
    /// In time priority, first to trade first.
    pub orders: Vec<OrderView>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookView {
    pub instrument: InstrumentId,
    /// Best (highest) first.
    pub bids: Vec<LevelView>,
    /// Best (lowest) first.
    pub asks: Vec<LevelView>,
}

/// Best bid and ask, each as `(price, total quantity)` when the side is not empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopOfBook {
    pub bid: Option<(Price, Qty)>,
    pub ask: Option<(Price, Qty)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstrumentView {
    pub reference_price: Price,
    pub last_trade_price: Option<Price>,
    pub band: Option<(Price, Price)>,
    pub halted: bool,
}

impl Engine {
    /// Every level and order of one book, best first; `None` for an unknown instrument.
    pub fn book_view(&self, instrument: InstrumentId) -> Option<BookView> {
        let inst = self.instrument(instrument)?;
        let side = |levels: &[crate::book::Level]| -> Vec<LevelView> {
            levels
                .iter()
                .rev()
                .map(|level| LevelView {
                    price: level.price,
                    total_qty: level.total_qty,
                    orders: self.queue(level.head),
                })
                .collect()
        };
        Some(BookView {
            instrument,
            bids: side(inst.book.bids.levels()),
            asks: side(inst.book.asks.levels()),
        })
    }

    fn queue(&self, head: u32) -> Vec<OrderView> {
        let mut orders = Vec::new();
        let mut slot = head;
        while slot != NIL {
            let o = self.pool.get(slot);
            orders.push(OrderView::from(o));
            slot = o.next;
        }
        orders
    }

    /// Best bid and best ask as `(price, total quantity)`.
    pub fn top_of_book(&self, instrument: InstrumentId) -> Option<TopOfBook> {
        let inst = self.instrument(instrument)?;
        let top = |l: Option<&crate::book::Level>| l.map(|l| (l.price, l.total_qty));
        Some(TopOfBook {
            bid: top(inst.book.bids.best()),
            ask: top(inst.book.asks.best()),
        })
    }

    pub fn instrument_view(&self, instrument: InstrumentId) -> Option<InstrumentView> {
        let inst = self.instrument(instrument)?;
        Some(InstrumentView {
            reference_price: inst.reference_price(),
            last_trade_price: inst.last_trade_price,
            band: inst.band(),
            halted: inst.halted,
        })
    }

    /// An open order by its owner's client order id.
    pub fn open_order_view(&self, account: AccountId, id: ClientOrderId) -> Option<OrderView> {
        match self.ids.lookup(account, id) {
            crate::client_ids::Lookup::Open(slot) => Some(OrderView::from(self.pool.get(slot))),
            _ => None,
        }
    }

    /// An account's open orders, oldest first; `None` for an unknown account.
    pub fn open_orders(&self, account: AccountId) -> Option<Vec<OrderView>> {
        let acct = self.account(account)?;
        let mut orders = Vec::with_capacity(acct.open_orders as usize);
        let mut slot = acct.head;
        while slot != NIL {
            let o = self.pool.get(slot);
            orders.push(OrderView::from(o));
            slot = o.account_next;
        }
        Some(orders)
    }

    /// Net position of an account in an instrument; `None` for an unknown account.
    pub fn position(&self, account: AccountId, instrument: InstrumentId) -> Option<i64> {
        Some(self.account(account)?.position(instrument))
    }

    /// Resting orders across all books.
    pub fn resting_orders(&self) -> u32 {
        self.pool.live()
    }

    /// Bytes reserved at startup for orders and client ids (tables grow no further).
    pub fn reserved_order_bytes(&self) -> usize {
        self.pool.reserved_bytes()
    }
}
