//! Commands: the only way state changes. Each is applied with the `(seq, timestamp_ns)`
//! the sequencer stamped on it, so the core is a pure function of its input stream.

use crate::types::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    pub account: AccountId,
    pub instrument: InstrumentId,
    pub client_order_id: ClientOrderId,
    pub side: Side,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    /// Rejected instead of trading if it would cross on entry.
    pub post_only: bool,
    /// Limit price; ignored (must be 0) for market orders.
    pub price: Price,
    pub qty: Qty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancel {
    pub account: AccountId,
    pub client_order_id: ClientOrderId,
}

/// Cancel/replace. `qty` is the new open (leaves) quantity. Reducing quantity at the same
/// price keeps queue priority; a price change or a larger quantity loses it. The order
/// may take the new client order id (unique for the day) or keep its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replace {
    pub account: AccountId,
    pub orig_client_order_id: ClientOrderId,
    pub client_order_id: ClientOrderId,
    pub price: Price,
    pub qty: Qty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MassCancel {
    pub account: AccountId,
    /// Only this instrument's orders, or every order of the account.
    pub instrument: Option<InstrumentId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstrumentSpec {
    pub instrument: InstrumentId,
    /// Every price must be a positive multiple of this.
    pub tick_size: Price,
    /// Every quantity must be a positive multiple of this.
    pub lot_size: Qty,
    /// Centre of the price band until the first trade; then the last trade price is.
    pub reference_price: Price,
    /// Fat-finger band around the reference in basis points; 0 disables it. Market
    /// orders never trade outside the band.
    pub price_band_bps: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountLimits {
    pub max_order_qty: Qty,
    /// Largest `price * qty` of one order, in price units times quantity units.
    pub max_order_notional: u128,
    pub max_open_orders: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountSpec {
    pub account: AccountId,
    pub limits: AccountLimits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    NewOrder(NewOrder),
    Cancel(Cancel),
    Replace(Replace),
    MassCancel(MassCancel),
    /// Closes the trading day: expires every DAY order and starts a new day for client
    /// order id uniqueness.
    EndOfDay,
    AddInstrument(InstrumentSpec),
    AddAccount(AccountSpec),
    /// Halted instruments reject new orders and replaces; cancels still work.
    SetHalted {
        instrument: InstrumentId,
        halted: bool,
    },
}

/// The kind of a command, carried by rejects so a reject names what it refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CommandKind {
    NewOrder = 1,
    Cancel = 2,
    Replace = 3,
    MassCancel = 4,
    EndOfDay = 5,
    AddInstrument = 6,
    AddAccount = 7,
    SetHalted = 8,
}

u8_enum_conversions!(CommandKind {
    NewOrder,
    Cancel,
    Replace,
    MassCancel,
    EndOfDay,
    AddInstrument,
    AddAccount,
    SetHalted
});

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::NewOrder(_) => CommandKind::NewOrder,
            Command::Cancel(_) => CommandKind::Cancel,
            Command::Replace(_) => CommandKind::Replace,
            Command::MassCancel(_) => CommandKind::MassCancel,
            Command::EndOfDay => CommandKind::EndOfDay,
            Command::AddInstrument(_) => CommandKind::AddInstrument,
            Command::AddAccount(_) => CommandKind::AddAccount,
            Command::SetHalted { .. } => CommandKind::SetHalted,
        }
    }

    /// The account a command acts for, where it has one; rejects echo it.
    pub fn account(&self) -> AccountId {
        match self {
            Command::NewOrder(c) => c.account,
            Command::Cancel(c) => c.account,
            Command::Replace(c) => c.account,
            Command::MassCancel(c) => c.account,
            Command::AddAccount(c) => c.account,
            _ => 0,
        }
    }

    /// The client order id a command names, where it has one; rejects echo it.
    pub fn client_order_id(&self) -> ClientOrderId {
        match self {
            Command::NewOrder(c) => c.client_order_id,
            Command::Cancel(c) => c.client_order_id,
            Command::Replace(c) => c.client_order_id,
            _ => 0,
        }
    }
}
