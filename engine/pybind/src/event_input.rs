//! Core events back from their Python classes, so that events an `Engine` returned (or
//! kept from a backtest) can be fed to a `BookFeed`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use ringex_core::{Event, InstrumentSpec, Trade as CoreTrade};

use crate::events::*;

/// The core event a Python event object holds; `TypeError` for anything else.
pub fn event_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Event> {
    if let Ok(e) = obj.cast::<Accepted>() {
        let e = e.get();
        return Ok(Event::Accepted {
            order_id: e.order_id,
            account: e.account,
            instrument: e.instrument,
            client_order_id: e.client_order_id,
            side: e.side,
            order_type: e.order_type,
            time_in_force: e.time_in_force,
            post_only: e.post_only,
            price: e.price,
            qty: e.qty,
        });
    }
    if let Ok(e) = obj.cast::<Trade>() {
        let e = e.get();
        return Ok(Event::Trade(CoreTrade {
            instrument: e.instrument,
            match_id: e.match_id,
            price: e.price,
            qty: e.qty,
            aggressor_side: e.aggressor_side,
            maker_order_id: e.maker_order_id,
            maker_account: e.maker_account,
            maker_client_order_id: e.maker_client_order_id,
            maker_leaves: e.maker_leaves,
            taker_order_id: e.taker_order_id,
            taker_account: e.taker_account,
            taker_client_order_id: e.taker_client_order_id,
            taker_leaves: e.taker_leaves,
        }));
    }
    if let Ok(e) = obj.cast::<Cancelled>() {
        let e = e.get();
        return Ok(Event::Cancelled {
            order_id: e.order_id,
            account: e.account,
            instrument: e.instrument,
            client_order_id: e.client_order_id,
            qty: e.qty,
            reason: e.reason,
        });
    }
    if let Ok(e) = obj.cast::<Replaced>() {
        let e = e.get();
        return Ok(Event::Replaced {
            order_id: e.order_id,
            account: e.account,
            instrument: e.instrument,
            orig_client_order_id: e.orig_client_order_id,
            client_order_id: e.client_order_id,
            price: e.price,
            qty: e.qty,
            priority_kept: e.priority_kept,
        });
    }
    if let Ok(e) = obj.cast::<Expired>() {
        let e = e.get();
        return Ok(Event::Expired {
            order_id: e.order_id,
            account: e.account,
            instrument: e.instrument,
            client_order_id: e.client_order_id,
            qty: e.qty,
        });
    }
    if let Ok(e) = obj.cast::<InstrumentAdded>() {
        let e = e.get();
        let spec = InstrumentSpec {
            instrument: e.instrument,
            tick_size: e.tick_size,
            lot_size: e.lot_size,
            reference_price: e.reference_price,
            price_band_bps: e.price_band_bps,
        };
        return Ok(Event::InstrumentAdded { spec });
    }
    if let Ok(e) = obj.cast::<HaltChanged>() {
        let e = e.get();
        return Ok(Event::HaltChanged {
            instrument: e.instrument,
            halted: e.halted,
        });
    }
    if let Ok(e) = obj.cast::<Rejected>() {
        let e = e.get();
        return Ok(Event::Rejected {
            command: e.command,
            account: e.account,
            client_order_id: e.client_order_id,
            reason: e.reason,
        });
    }
    if let Ok(e) = obj.cast::<MassCancelled>() {
        let e = e.get();
        return Ok(Event::MassCancelled {
            account: e.account,
            instrument: e.instrument,
            count: e.count,
        });
    }
    if let Ok(e) = obj.cast::<DayEnded>() {
        let expired = e.get().expired;
        return Ok(Event::DayEnded { expired });
    }
    if let Ok(e) = obj.cast::<AccountAdded>() {
        let account = e.get().account;
        return Ok(Event::AccountAdded { account });
    }
    Err(PyTypeError::new_err(format!(
        "expected an engine event (Accepted, Trade, ...), got {}",
        obj.get_type().name()?
    )))
}
