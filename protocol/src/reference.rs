//! Instrument reference data codes: an instrument's trading state and why a definition
//! was sent, and the limits every instrument shares, so a client can check an order the
//! way the engine will before sending it.

use ringex_core::{Qty, QTY_MAX};

use crate::session::u8_codes;

/// Width of an instrument's symbol on the wire.
pub const SYMBOL_LEN: usize = 16;

/// Whether an instrument takes new orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum InstrumentState {
    /// New orders and replaces are matched.
    Trading = 1,
    /// New orders and replaces are refused (`InstrumentHalted`); cancels still work.
    Halted = 2,
}

/// Why an InstrumentDefinition was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DefinitionUpdate {
    /// The answer to an InstrumentRequest: the definition as it stands.
    Current = 1,
    /// The instrument was listed.
    Listed = 2,
    /// Trading was halted.
    Halted = 3,
    /// Trading resumed.
    Resumed = 4,
}

u8_codes!(InstrumentState { Trading, Halted });
u8_codes!(DefinitionUpdate {
    Current,
    Listed,
    Halted,
    Resumed
});

/// The largest quantity an instrument takes, rounded down to its lot (the engine refuses
/// more: `InvalidQuantity`); the smallest is one lot.
pub fn max_qty(lot_size: Qty) -> Qty {
    QTY_MAX - QTY_MAX % lot_size.max(1)
}
