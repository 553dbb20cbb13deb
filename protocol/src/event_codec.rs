//! Engine events on the wire: one type byte, then fixed-width little-endian fields.
//! Lower-case type letters keep events apart from commands in dumps. Every event is
//! declared once below; its size, encoder, decoder and the table in `protocol/SPEC.md`
//! come from the declaration.

use ringex_core::*;

use crate::declare_messages;
use crate::engine_fields::AnyInstrument;
use crate::error::DecodeError;
use crate::field_codec::PostOnlyFlags;

declare_messages! {
    /// An engine event as the engine link carries it.
    pub enum EventMessage;
    table EVENT_MESSAGES, len event_len, family event_family,
    encode encode_event_message, decode decode_event_message;

    /// A new order was accepted (first for its input).
    ACCEPTED = b'a' => Accepted(EngineEvent) {
        order_id: OrderId,
        account: AccountId,
        instrument: InstrumentId,
        client_order_id: ClientOrderId,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        post_only: bool as PostOnlyFlags,
        price: Price,
        qty: Qty,
    },
    /// A command was refused; `client_order_id` is the id it carried (a Replace's new id).
    REJECTED = b'j' => Rejected(EngineEvent) {
        command: CommandKind,
        reason: RejectReason,
        account: AccountId,
        client_order_id: ClientOrderId,
    },
    /// A match; `maker_leaves` and `taker_leaves` are the open quantities after it.
    TRADE = b't' => Trade(EngineEvent) {
        trade: Trade,
    },
    /// An order's open quantity was cancelled.
    CANCELLED = b'c' => Cancelled(EngineEvent) {
        order_id: OrderId,
        account: AccountId,
        instrument: InstrumentId,
        client_order_id: ClientOrderId,
        qty: Qty,
        reason: CancelReason,
    },
    /// An order now rests at `price` with open quantity `qty`.
    REPLACED = b'r' => Replaced(EngineEvent) {
        order_id: OrderId,
        account: AccountId,
        instrument: InstrumentId,
        orig_client_order_id: ClientOrderId,
        client_order_id: ClientOrderId,
        price: Price,
        qty: Qty,
        priority_kept: bool,
    },
    /// A DAY order expired at the end of the day.
    EXPIRED = b'e' => Expired(EngineEvent) {
        order_id: OrderId,
        account: AccountId,
        instrument: InstrumentId,
        client_order_id: ClientOrderId,
        qty: Qty,
    },
    /// A mass cancel's count (`instrument` `0xFFFFFFFF`: every instrument).
    MASS_CANCELLED = b'm' => MassCancelled(EngineEvent) {
        account: AccountId,
        instrument: Option<InstrumentId> as AnyInstrument,
        count: u32,
    },
    /// The trading day closed; `expired` DAY orders expired.
    DAY_ENDED = b'd' => DayEnded(EngineEvent) {
        expired: u32,
    },
    /// An instrument was listed, under the rules it was listed with.
    INSTRUMENT_ADDED = b'i' => InstrumentAdded(EngineEvent) {
        spec: InstrumentSpec,
    },
    /// An account was opened.
    ACCOUNT_ADDED = b'n' => AccountAdded(EngineEvent) {
        account: AccountId,
    },
    /// An instrument was halted or resumed.
    HALT_CHANGED = b'h' => HaltChanged(EngineEvent) {
        instrument: InstrumentId,
        halted: bool,
    },
}

/// Maps each core event onto the declared message of the same name and fields, and
/// back.
macro_rules! same_fields {
    ($($variant:ident { $($field:ident),* }),+ $(,)?) => {
        impl From<&Event> for EventMessage {
            fn from(event: &Event) -> EventMessage {
                match *event {
                    Event::Trade(trade) => EventMessage::Trade { trade },
                    $(Event::$variant { $($field),* } => EventMessage::$variant { $($field),* },)+
                }
            }
        }

        impl From<EventMessage> for Event {
            fn from(message: EventMessage) -> Event {
                match message {
                    EventMessage::Trade { trade } => Event::Trade(trade),
                    $(EventMessage::$variant { $($field),* } => Event::$variant { $($field),* },)+
                }
            }
        }
    };
}

same_fields!(
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
        qty
    },
    Rejected {
        command,
        reason,
        account,
        client_order_id
    },
    Cancelled {
        order_id,
        account,
        instrument,
        client_order_id,
        qty,
        reason
    },
    Replaced {
        order_id,
        account,
        instrument,
        orig_client_order_id,
        client_order_id,
        price,
        qty,
        priority_kept
    },
    Expired {
        order_id,
        account,
        instrument,
        client_order_id,
        qty
    },
    MassCancelled {
        account,
        instrument,
        count
    },
    DayEnded { expired },
    InstrumentAdded { spec },
    AccountAdded { account },
    HaltChanged { instrument, halted },
);

pub fn encode_event(event: &Event, buf: &mut Vec<u8>) {
    encode_event_message(&EventMessage::from(event), buf);
}

/// Decodes the event at the start of `bytes`; returns it and the bytes it used.
pub fn decode_event(bytes: &[u8]) -> Result<(Event, usize), DecodeError> {
    let kind = *bytes.first().ok_or(DecodeError::Truncated)?;
    let len = event_len(kind).ok_or(DecodeError::UnknownType)?;
    let body = bytes.get(..len).ok_or(DecodeError::Truncated)?;
    Ok((Event::from(decode_event_message(body)?), len))
}
