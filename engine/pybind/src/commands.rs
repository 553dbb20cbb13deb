//! Command classes: what Python hands to `Engine.apply`, one class per core command.
//!
//! Arguments are keyword-only (a price can never be passed as a quantity) and checked
//! for type and range when the command is built; whether a well-formed command is
//! acceptable is the core's decision, answered with a `Rejected` event.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use ringex_core::{Command, OrderType, Side, TimeInForce};

use crate::enums::EnumArg;
use crate::record::py_record;

py_record! {
    value
    /// Enter an order. `price` is the limit in price units (0 for market orders), `qty`
    /// the quantity in lots.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct NewOrder {
        pub account: u32,
        pub instrument: u32,
        pub client_order_id: u64,
        pub side: Side,
        pub qty: u64,
        pub price: i64,
        pub order_type: OrderType,
        pub time_in_force: TimeInForce,
        /// Rejected instead of trading if it would cross on entry.
        pub post_only: bool,
    };

    #[new]
    #[pyo3(signature = (
        *, account, instrument, client_order_id, side, qty, price = 0,
        order_type = EnumArg(OrderType::Limit), time_in_force = EnumArg(TimeInForce::Gtc),
        post_only = false,
    ))]
    #[allow(clippy::too_many_arguments)] // One per field, all keyword-only.
    fn new(
        account: u32,
        instrument: u32,
        client_order_id: u64,
        side: EnumArg<Side>,
        qty: u64,
        price: i64,
        order_type: EnumArg<OrderType>,
        time_in_force: EnumArg<TimeInForce>,
        post_only: bool,
    ) -> Self {
        NewOrder {
            account,
            instrument,
            client_order_id,
            side: side.0,
            qty,
            price,
            order_type: order_type.0,
            time_in_force: time_in_force.0,
            post_only,
        }
    }
}

py_record! {
    value
    /// Cancel an open order by its client order id.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct Cancel {
        pub account: u32,
        pub client_order_id: u64,
    };

    #[new]
    #[pyo3(signature = (*, account, client_order_id))]
    fn new(account: u32, client_order_id: u64) -> Self {
        Cancel { account, client_order_id }
    }
}

py_record! {
    value
    /// Cancel/replace an open order. `qty` is the new open quantity. Reducing the quantity
    /// at the same price keeps queue priority; any other change loses it. The order takes
    /// `client_order_id` (unique for the day), or keeps its own when that is omitted.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct Replace {
        pub account: u32,
        pub orig_client_order_id: u64,
        pub client_order_id: u64,
        pub price: i64,
        pub qty: u64,
    };

    #[new]
    #[pyo3(signature = (*, account, orig_client_order_id, price, qty, client_order_id = None))]
    fn new(
        account: u32,
        orig_client_order_id: u64,
        price: i64,
        qty: u64,
        client_order_id: Option<u64>,
    ) -> Self {
        Replace {
            account,
            orig_client_order_id,
            client_order_id: client_order_id.unwrap_or(orig_client_order_id),
            price,
            qty,
        }
    }
}

py_record! {
    value
    /// Cancel every open order of an account, or only those in one instrument.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct MassCancel {
        pub account: u32,
        pub instrument: Option<u32>,
    };

    #[new]
    #[pyo3(signature = (*, account, instrument = None))]
    fn new(account: u32, instrument: Option<u32>) -> Self {
        MassCancel { account, instrument }
    }
}

py_record! {
    value
    /// Close the trading day: every DAY order expires and client order ids of finished
    /// orders may be used again.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct EndOfDay {};

    #[new]
    fn new() -> Self {
        EndOfDay {}
    }
}

py_record! {
    value
    /// List an instrument. Prices must be positive multiples of `tick_size`, quantities of
    /// `lot_size`. Limit orders more than `price_band_bps` basis points away from the
    /// reference (the last trade, or `reference_price` before the first) are rejected; 0
    /// disables the band.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct AddInstrument {
        pub instrument: u32,
        pub tick_size: i64,
        pub lot_size: u64,
        pub reference_price: i64,
        pub price_band_bps: u32,
    };

    #[new]
    #[pyo3(signature = (*, instrument, tick_size, lot_size, reference_price, price_band_bps = 0))]
    fn new(
        instrument: u32,
        tick_size: i64,
        lot_size: u64,
        reference_price: i64,
        price_band_bps: u32,
    ) -> Self {
        AddInstrument { instrument, tick_size, lot_size, reference_price, price_band_bps }
    }
}

py_record! {
    value
    /// Open an account with its pre-trade risk limits. `max_order_notional` bounds
    /// `price * qty` of one order.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct AddAccount {
        pub account: u32,
        pub max_order_qty: u64,
        pub max_order_notional: u128,
        pub max_open_orders: u32,
    };

    #[new]
    #[pyo3(signature = (*, account, max_order_qty, max_order_notional, max_open_orders))]
    fn new(
        account: u32,
        max_order_qty: u64,
        max_order_notional: u128,
        max_open_orders: u32,
    ) -> Self {
        AddAccount { account, max_order_qty, max_order_notional, max_open_orders }
    }
}

py_record! {
    value
    /// Halt or resume an instrument. A halted instrument rejects new orders and replaces;
    /// cancels still work.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct SetHalted {
        pub instrument: u32,
        pub halted: bool,
    };

    #[new]
    #[pyo3(signature = (*, instrument, halted))]
    fn new(instrument: u32, halted: bool) -> Self {
        SetHalted { instrument, halted }
    }
}

/// The core command a Python command object stands for.
pub fn command_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Command> {
    // Most frequent first: a backtest is mostly new orders, cancels and replaces.
    if let Ok(c) = obj.cast::<NewOrder>() {
        let c = c.get();
        return Ok(Command::NewOrder(ringex_core::NewOrder {
            account: c.account,
            instrument: c.instrument,
            client_order_id: c.client_order_id,
            side: c.side,
            order_type: c.order_type,
            time_in_force: c.time_in_force,
            post_only: c.post_only,
            price: c.price,
            qty: c.qty,
        }));
    }
    if let Ok(c) = obj.cast::<Cancel>() {
        let c = c.get();
        return Ok(Command::Cancel(ringex_core::Cancel {
            account: c.account,
            client_order_id: c.client_order_id,
        }));
    }
    if let Ok(c) = obj.cast::<Replace>() {
        let c = c.get();
        return Ok(Command::Replace(ringex_core::Replace {
            account: c.account,
            orig_client_order_id: c.orig_client_order_id,
            client_order_id: c.client_order_id,
            price: c.price,
            qty: c.qty,
        }));
    }
    if let Ok(c) = obj.cast::<MassCancel>() {
        let c = c.get();
        return Ok(Command::MassCancel(ringex_core::MassCancel {
            account: c.account,
            instrument: c.instrument,
        }));
    }
    if obj.cast::<EndOfDay>().is_ok() {
        return Ok(Command::EndOfDay);
    }
    if let Ok(c) = obj.cast::<AddInstrument>() {
        let c = c.get();
        return Ok(Command::AddInstrument(ringex_core::InstrumentSpec {
            instrument: c.instrument,
            tick_size: c.tick_size,
            lot_size: c.lot_size,
            reference_price: c.reference_price,
            price_band_bps: c.price_band_bps,
        }));
    }
    if let Ok(c) = obj.cast::<AddAccount>() {
        let c = c.get();
        return Ok(Command::AddAccount(ringex_core::AccountSpec {
            account: c.account,
            limits: ringex_core::AccountLimits {
                max_order_qty: c.max_order_qty,
                max_order_notional: c.max_order_notional,
                max_open_orders: c.max_open_orders,
            },
        }));
    }
    if let Ok(c) = obj.cast::<SetHalted>() {
        let c = c.get();
        return Ok(Command::SetHalted {
            instrument: c.instrument,
            halted: c.halted,
        });
    }
    Err(PyTypeError::new_err(format!(
        "expected a command (NewOrder, Cancel, Replace, MassCancel, EndOfDay, \
         AddInstrument, AddAccount or SetHalted), got {}",
        obj.get_type().name()?
    )))
}
