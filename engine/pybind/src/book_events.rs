//! Book-feed classes: one per kind of book event, the level updates, and the L3 and L2
//! snapshots, each with the sequence numbers a feed client needs.

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use ringex_core::market_data::{
    BookChange, BookEvent, L2Snapshot as CoreL2, L3Snapshot as CoreL3, LevelAction,
    LevelUpdate as CoreLevelUpdate, PriceLevel as CoreLevel, RemoveReason,
};
use ringex_core::Side;

use crate::record::py_record;

py_record! {
    value
    /// An order joined the back of the queue at `price` with `qty` open (after any
    /// trades it made on entry).
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct OrderAdded {
        pub instrument: u32,
        pub feed_seq: u64,
        pub engine_seq: u64,
        pub timestamp_ns: u64,
        pub order_id: u64,
        pub side: Side,
        pub price: i64,
        pub qty: u64,
    }
}

py_record! {
    value
    /// A resting order traded `qty` and keeps its place with `remaining_qty` open.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct OrderReduced {
        pub instrument: u32,
        pub feed_seq: u64,
        pub engine_seq: u64,
        pub timestamp_ns: u64,
        pub order_id: u64,
        pub side: Side,
        pub price: i64,
        pub qty: u64,
        pub remaining_qty: u64,
    }
}

py_record! {
    value
    /// A resting order left the book with `qty` open.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct OrderRemoved {
        pub instrument: u32,
        pub feed_seq: u64,
        pub engine_seq: u64,
        pub timestamp_ns: u64,
        pub order_id: u64,
        pub side: Side,
        pub price: i64,
        pub qty: u64,
        pub reason: RemoveReason,
    }
}

py_record! {
    value
    /// A resting order now rests at `price` with `qty` open instead of `old_price`,
    /// `old_qty`; at the back of its level unless `priority_kept`.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct OrderReplaced {
        pub instrument: u32,
        pub feed_seq: u64,
        pub engine_seq: u64,
        pub timestamp_ns: u64,
        pub order_id: u64,
        pub side: Side,
        pub old_price: i64,
        pub old_qty: u64,
        pub price: i64,
        pub qty: u64,
        pub priority_kept: bool,
    }
}

py_record! {
    value
    /// A public trade: the resting `maker_order_id` traded `qty` at `price` against an
    /// incoming order on `aggressor_side`. The maker's reduce or remove follows.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct BookTrade {
        pub instrument: u32,
        pub feed_seq: u64,
        pub engine_seq: u64,
        pub timestamp_ns: u64,
        pub match_id: u64,
        pub price: i64,
        pub qty: u64,
        pub aggressor_side: Side,
        pub maker_order_id: u64,
    }
}

py_record! {
    value
    /// The instrument was listed (its first event) or halted or resumed.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct TradingStatus {
        pub instrument: u32,
        pub feed_seq: u64,
        pub engine_seq: u64,
        pub timestamp_ns: u64,
        pub halted: bool,
    }
}

py_record! {
    value
    /// A change to the top levels of one side of a book (`DELETE` reads qty 0).
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct LevelUpdate {
        pub instrument: u32,
        pub level_seq: u64,
        pub feed_seq: u64,
        pub engine_seq: u64,
        pub timestamp_ns: u64,
        pub side: Side,
        pub action: LevelAction,
        pub price: i64,
        pub qty: u64,
        pub order_count: u32,
    }
}

py_record! {
    value
    /// One price level: total open quantity and how many orders make it.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct PriceLevel {
        pub price: i64,
        pub qty: u64,
        pub order_count: u32,
    }
}

py_record! {
    snapshot
    /// Every resting order of one book after event `feed_seq`: each side best price
    /// first, as `(price, ((order_id, qty), ...))` in queue order.
    pub struct L3Snapshot {
        pub instrument: u32,
        pub feed_seq: u64,
        pub halted: bool,
        pub bids: Py<PyTuple>,
        pub asks: Py<PyTuple>,
        pub checksum: u32,
    }
}

py_record! {
    snapshot
    /// The best levels of one book after event `feed_seq` and level update `level_seq`,
    /// each side best price first.
    pub struct L2Snapshot {
        pub instrument: u32,
        pub feed_seq: u64,
        pub level_seq: u64,
        pub bids: Py<PyTuple>,
        pub asks: Py<PyTuple>,
        pub checksum: u32,
    }
}

/// The Python object for one book event.
pub fn book_event_to_py<'py>(py: Python<'py>, e: &BookEvent) -> PyResult<Bound<'py, PyAny>> {
    let (instrument, feed_seq, engine_seq, timestamp_ns) =
        (e.instrument, e.feed_seq, e.engine_seq, e.timestamp_ns);
    let object = match e.change {
        BookChange::OrderAdded {
            order_id,
            side,
            price,
            qty,
        } => Bound::new(
            py,
            OrderAdded {
                instrument,
                feed_seq,
                engine_seq,
                timestamp_ns,
                order_id,
                side,
                price,
                qty,
            },
        )?
        .into_any(),
        BookChange::OrderReduced {
            order_id,
            side,
            price,
            qty,
            remaining_qty,
        } => Bound::new(
            py,
            OrderReduced {
                instrument,
                feed_seq,
                engine_seq,
                timestamp_ns,
                order_id,
                side,
                price,
                qty,
                remaining_qty,
            },
        )?
        .into_any(),
        BookChange::OrderRemoved {
            order_id,
            side,
            price,
            qty,
            reason,
        } => Bound::new(
            py,
            OrderRemoved {
                instrument,
                feed_seq,
                engine_seq,
                timestamp_ns,
                order_id,
                side,
                price,
                qty,
                reason,
            },
        )?
        .into_any(),
        BookChange::OrderReplaced {
            order_id,
            side,
            old_price,
            old_qty,
            price,
            qty,
            priority_kept,
        } => Bound::new(
            py,
            OrderReplaced {
                instrument,
                feed_seq,
                engine_seq,
                timestamp_ns,
                order_id,
                side,
                old_price,
                old_qty,
                price,
                qty,
                priority_kept,
            },
        )?
        .into_any(),
        BookChange::Trade {
            match_id,
            price,
            qty,
            aggressor_side,
            maker_order_id,
        } => Bound::new(
            py,
            BookTrade {
                instrument,
                feed_seq,
                engine_seq,
                timestamp_ns,
                match_id,
                price,
                qty,
                aggressor_side,
                maker_order_id,
            },
        )?
        .into_any(),
        BookChange::TradingStatus { halted } => Bound::new(
            py,
            TradingStatus {
                instrument,
                feed_seq,
                engine_seq,
                timestamp_ns,
                halted,
            },
        )?
        .into_any(),
    };
    Ok(object)
}

impl From<&CoreLevelUpdate> for LevelUpdate {
    fn from(u: &CoreLevelUpdate) -> LevelUpdate {
        LevelUpdate {
            instrument: u.instrument,
            level_seq: u.level_seq,
            feed_seq: u.feed_seq,
            engine_seq: u.engine_seq,
            timestamp_ns: u.timestamp_ns,
            side: u.side,
            action: u.action,
            price: u.price,
            qty: u.qty,
            order_count: u.order_count,
        }
    }
}

pub fn l3_snapshot_to_py(py: Python<'_>, s: &CoreL3) -> PyResult<L3Snapshot> {
    let side = |levels: &[ringex_core::market_data::L3Level]| -> PyResult<Py<PyTuple>> {
        let items = levels
            .iter()
            .map(|level| {
                let orders = level.orders.iter().map(|o| (o.order_id, o.qty));
                (level.price, PyTuple::new(py, orders)?).into_pyobject(py)
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyTuple::new(py, items)?.unbind())
    };
    Ok(L3Snapshot {
        instrument: s.instrument,
        feed_seq: s.feed_seq,
        halted: s.halted,
        bids: side(&s.bids)?,
        asks: side(&s.asks)?,
        checksum: s.checksum,
    })
}

pub fn l2_snapshot_to_py(py: Python<'_>, s: &CoreL2) -> PyResult<L2Snapshot> {
    let side = |levels: &[CoreLevel]| -> PyResult<Py<PyTuple>> {
        let items = levels
            .iter()
            .map(|l| {
                Bound::new(
                    py,
                    PriceLevel {
                        price: l.price,
                        qty: l.qty,
                        order_count: l.order_count,
                    },
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyTuple::new(py, items)?.unbind())
    };
    Ok(L2Snapshot {
        instrument: s.instrument,
        feed_seq: s.feed_seq,
        level_seq: s.level_seq,
        bids: side(&s.bids)?,
        asks: side(&s.asks)?,
        checksum: s.checksum,
    })
}
