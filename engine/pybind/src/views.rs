//! Read-only snapshots of the engine's state: books, resting orders, instruments.
//! Taken when asked for; they do not change as the engine moves on.

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use ringex_core::{LevelView, OrderView, Side, TimeInForce};

use crate::record::py_record;

py_record! {
    value
    /// An open order on a book.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct RestingOrder {
        pub order_id: u64,
        pub account: u32,
        pub instrument: u32,
        pub client_order_id: u64,
        pub side: Side,
        pub time_in_force: TimeInForce,
        pub post_only: bool,
        pub price: i64,
        /// Open quantity.
        pub leaves: u64,
        /// Quantity traded so far.
        pub filled: u64,
    }
}

impl From<&OrderView> for RestingOrder {
    fn from(o: &OrderView) -> RestingOrder {
        RestingOrder {
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

py_record! {
    snapshot
    /// One price level: its total open quantity and its orders in time priority.
    pub struct Level {
        pub price: i64,
        pub total_qty: u64,
        /// `tuple[RestingOrder, ...]`, first to trade first.
        pub orders: Py<PyTuple>,
    }
}

py_record! {
    snapshot
    /// A snapshot of one book, each side best price first.
    pub struct Book {
        pub instrument: u32,
        /// `tuple[Level, ...]`, highest price first.
        pub bids: Py<PyTuple>,
        /// `tuple[Level, ...]`, lowest price first.
        pub asks: Py<PyTuple>,
    }
}

py_record! {
    value
    /// Best bid and best ask, each `(price, total quantity)` or `None` when that side
    /// is empty.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct TopOfBook {
        pub bid: Option<(i64, u64)>,
        pub ask: Option<(i64, u64)>,
    }
}

py_record! {
    value
    /// An instrument's trading state. `band` is the `(low, high)` range limit orders must
    /// stay inside, or `None` when the band is disabled.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct InstrumentState {
        pub reference_price: i64,
        pub last_trade_price: Option<i64>,
        pub band: Option<(i64, i64)>,
        pub halted: bool,
    }
}

/// `RestingOrder`s for core order views, in the same order.
pub fn resting_orders<'py>(
    py: Python<'py>,
    orders: &[OrderView],
) -> PyResult<Vec<Bound<'py, RestingOrder>>> {
    orders
        .iter()
        .map(|o| Bound::new(py, RestingOrder::from(o)))
        .collect()
}

/// A tuple of at most `depth` `Level`s, best first.
pub fn levels_tuple<'py>(
    py: Python<'py>,
    levels: &[LevelView],
    depth: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    let items = levels
        .iter()
        .take(depth)
        .map(|level| {
            let orders = PyTuple::new(py, resting_orders(py, &level.orders)?)?.unbind();
            Bound::new(
                py,
                Level {
                    price: level.price,
                    total_qty: level.total_qty,
                    orders,
                },
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}
