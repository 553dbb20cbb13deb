//! Event classes: everything the core says, one class per core event, with every field.

use pyo3::prelude::*;
use ringex_core::{CancelReason, CommandKind, Event, OrderType, RejectReason, Side, TimeInForce};

use crate::record::py_record;

py_record! {
    value
    /// A new order passed every check and got its engine order id.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct Accepted {
        pub order_id: u64,
        pub account: u32,
        pub instrument: u32,
        pub client_order_id: u64,
        pub side: Side,
        pub order_type: OrderType,
        pub time_in_force: TimeInForce,
        pub post_only: bool,
        pub price: i64,
        pub qty: u64,
    }
}

py_record! {
    value
    /// A command was refused; the state is unchanged. `account` and `client_order_id`
    /// echo the command's (0 where it has none).
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct Rejected {
        pub command: CommandKind,
        pub account: u32,
        pub client_order_id: u64,
        pub reason: RejectReason,
    }
}

py_record! {
    value
    /// A match between a resting (maker) and an incoming (taker) order, at the maker's
    /// price. `*_leaves` are the open quantities after the trade; 0 means done.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct Trade {
        pub instrument: u32,
        pub match_id: u64,
        pub price: i64,
        pub qty: u64,
        pub aggressor_side: Side,
        pub maker_order_id: u64,
        pub maker_account: u32,
        pub maker_client_order_id: u64,
        pub maker_leaves: u64,
        pub taker_order_id: u64,
        pub taker_account: u32,
        pub taker_client_order_id: u64,
        pub taker_leaves: u64,
    }
}

py_record! {
    value
    /// An order left the book, or its remainder never rested; `qty` is what was cancelled.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct Cancelled {
        pub order_id: u64,
        pub account: u32,
        pub instrument: u32,
        pub client_order_id: u64,
        pub qty: u64,
        pub reason: CancelReason,
    }
}

py_record! {
    value
    /// An order was replaced; trades follow if its new price crossed.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct Replaced {
        pub order_id: u64,
        pub account: u32,
        pub instrument: u32,
        pub orig_client_order_id: u64,
        pub client_order_id: u64,
        pub price: i64,
        pub qty: u64,
        pub priority_kept: bool,
    }
}

py_record! {
    value
    /// A DAY order expired at the end of the day with `qty` open.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct Expired {
        pub order_id: u64,
        pub account: u32,
        pub instrument: u32,
        pub client_order_id: u64,
        pub qty: u64,
    }
}

py_record! {
    value
    /// A mass cancel finished, after one `Cancelled` per order it removed.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct MassCancelled {
        pub account: u32,
        pub instrument: Option<u32>,
        pub count: u32,
    }
}

py_record! {
    value
    /// The trading day closed, after one `Expired` per DAY order.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct DayEnded {
        pub expired: u32,
    }
}

py_record! {
    value
    /// An instrument was listed, with its trading rules.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct InstrumentAdded {
        pub instrument: u32,
        pub tick_size: i64,
        pub lot_size: u64,
        pub reference_price: i64,
        pub price_band_bps: u32,
    }
}

py_record! {
    value
    /// An account was opened.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct AccountAdded {
        pub account: u32,
    }
}

py_record! {
    value
    /// An instrument was halted or resumed.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct HaltChanged {
        pub instrument: u32,
        pub halted: bool,
    }
}

/// The Python object for one core event.
pub fn event_to_py<'py>(py: Python<'py>, event: &Event) -> PyResult<Bound<'py, PyAny>> {
    let object = match *event {
        Event::Accepted {
            order_id,
            account,
            instrument,
            client_order_id,
            side,
            order_type,
            time_in_force,
            post_only,
            price,
            qty,
        } => Bound::new(
            py,
            Accepted {
                order_id,
                account,
                instrument,
                client_order_id,
                side,
                order_type,
                time_in_force,
                post_only,
                price,
                qty,
            },
        )?
        .into_any(),
        Event::Rejected {
            command,
            account,
            client_order_id,
            reason,
        } => Bound::new(
            py,
            Rejected {
                command,
                account,
                client_order_id,
                reason,
            },
        )?
        .into_any(),
        Event::Trade(t) => Bound::new(
            py,
            Trade {
                instrument: t.instrument,
                match_id: t.match_id,
                price: t.price,
                qty: t.qty,
                aggressor_side: t.aggressor_side,
                maker_order_id: t.maker_order_id,
                maker_account: t.maker_account,
                maker_client_order_id: t.maker_client_order_id,
                maker_leaves: t.maker_leaves,
                taker_order_id: t.taker_order_id,
                taker_account: t.taker_account,
                taker_client_order_id: t.taker_client_order_id,
                taker_leaves: t.taker_leaves,
            },
        )?
        .into_any(),
        Event::Cancelled {
            order_id,
            account,
            instrument,
            client_order_id,
            qty,
            reason,
        } => Bound::new(
            py,
            Cancelled {
                order_id,
                account,
                instrument,
                client_order_id,
                qty,
                reason,
            },
        )?
        .into_any(),
        Event::Replaced {
            order_id,
            account,
            instrument,
            orig_client_order_id,
            client_order_id,
            price,
            qty,
            priority_kept,
        } => Bound::new(
            py,
            Replaced {
                order_id,
                account,
                instrument,
                orig_client_order_id,
                client_order_id,
                price,
                qty,
                priority_kept,
            },
        )?
        .into_any(),
        Event::Expired {
            order_id,
            account,
            instrument,
            client_order_id,
            qty,
        } => Bound::new(
            py,
            Expired {
                order_id,
                account,
                instrument,
                client_order_id,
                qty,
            },
        )?
        .into_any(),
        Event::MassCancelled {
            account,
            instrument,
            count,
        } => Bound::new(
            py,
            MassCancelled {
                account,
                instrument,
                count,
            },
        )?
        .into_any(),
        Event::DayEnded { expired } => Bound::new(py, DayEnded { expired })?.into_any(),
        Event::InstrumentAdded { spec } => Bound::new(
            py,
            InstrumentAdded {
                instrument: spec.instrument,
                tick_size: spec.tick_size,
                lot_size: spec.lot_size,
                reference_price: spec.reference_price,
                price_band_bps: spec.price_band_bps,
            },
        )?
        .into_any(),
        Event::AccountAdded { account } => Bound::new(py, AccountAdded { account })?.into_any(),
        Event::HaltChanged { instrument, halted } => {
            Bound::new(py, HaltChanged { instrument, halted })?.into_any()
        }
    };
    Ok(object)
}
