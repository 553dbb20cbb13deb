//! Python bindings of the ringex matching core: the native half of `ringex_engine`.
//!
//! The same core the daemon runs, so a backtest in Python reproduces production bit for
//! bit. The Python package re-exports everything here with the `IntEnum`s it defines.

mod book_events;
mod book_feed;
mod commands;
mod engine;
mod enums;
mod errors;
mod event_input;
mod events;
mod record;
mod views;

use pyo3::prelude::*;

/// Native classes of `ringex_engine`; import them from `ringex_engine`.
#[pymodule]
mod _native {
    #[pymodule_export]
    use crate::book_events::{
        BookTrade, L2Snapshot, L3Snapshot, LevelUpdate, OrderAdded, OrderReduced, OrderRemoved,
        OrderReplaced, PriceLevel, TradingStatus,
    };
    #[pymodule_export]
    use crate::book_feed::PyBookFeed;
    #[pymodule_export]
    use crate::commands::{
        AddAccount, AddInstrument, Cancel, EndOfDay, MassCancel, NewOrder, Replace, SetHalted,
    };
    #[pymodule_export]
    use crate::engine::PyEngine;
    #[pymodule_export]
    use crate::errors::{BookFeedError, InvariantError};
    #[pymodule_export]
    use crate::events::{
        Accepted, AccountAdded, Cancelled, DayEnded, Expired, HaltChanged, InstrumentAdded,
        MassCancelled, Rejected, Replaced, Trade,
    };
    #[pymodule_export]
    use crate::views::{Book, InstrumentState, Level, RestingOrder, TopOfBook};
}
