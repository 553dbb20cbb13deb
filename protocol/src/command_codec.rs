//! Engine inputs on the wire and in the journal: one type byte, then fixed-width
//! little-endian fields. Order-entry commands are the client's message body with the
//! account in front, so a gateway forwards the client's bytes instead of re-encoding.
//! Every input is declared once below; its size, encoder, decoder and the table in
//! `protocol/SPEC.md` come from the declaration.

use ringex_core::*;

use crate::declare_messages;
use crate::engine_fields::AnyInstrument;
pub use crate::engine_fields::ALL_INSTRUMENTS;
use crate::error::DecodeError;
use crate::field_codec::PostOnlyFlags;

declare_messages! {
    /// An engine input as the engine link and the journal carry it.
    pub enum InputMessage;
    table INPUT_MESSAGES, len encoded_len, family input_family,
    encode encode_input_message, decode decode_input_message;

    /// Enter an order for `account`.
    NEW_ORDER = b'N' => NewOrder(EngineInput) {
        account: AccountId,
        client_order_id: ClientOrderId,
        instrument: InstrumentId,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        post_only: bool as PostOnlyFlags,
        price: Price,
        qty: Qty,
    },
    /// Cancel the account's open order with this client order id.
    CANCEL = b'X' => Cancel(EngineInput) {
        account: AccountId,
        client_order_id: ClientOrderId,
    },
    /// Cancel/replace: new price and open quantity, under `client_order_id`.
    REPLACE = b'U' => Replace(EngineInput) {
        account: AccountId,
        orig_client_order_id: ClientOrderId,
        client_order_id: ClientOrderId,
        price: Price,
        qty: Qty,
    },
    /// Cancel every open order of the account on `instrument` (`0xFFFFFFFF`: on all).
    MASS_CANCEL = b'M' => MassCancel(EngineInput) {
        account: AccountId,
        instrument: Option<InstrumentId> as AnyInstrument,
    },
    /// Close the trading day: DAY orders expire.
    END_OF_DAY = b'D' => EndOfDay(EngineInput) {},
    /// List an instrument under these rules.
    ADD_INSTRUMENT = b'I' => AddInstrument(EngineInput) {
        spec: InstrumentSpec,
    },
    /// Open an account with these limits.
    ADD_ACCOUNT = b'A' => AddAccount(EngineInput) {
        account: AccountId,
        limits: AccountLimits,
    },
    /// Halt or resume trading in an instrument.
    SET_HALTED = b'T' => SetHalted(EngineInput) {
        instrument: InstrumentId,
        halted: bool,
    },
    /// The daemon writes a snapshot at this point of the stream.
    TAKE_SNAPSHOT = b'P' => TakeSnapshot(EngineInput) {},
    /// The daemon drains, flushes and stops; the sequencer stops at it, unnumbered.
    SHUTDOWN = b'Q' => Shutdown(EngineControl) {},
}

/// What the engine link carries into the sequencer: core commands plus the daemon's own
/// controls. TakeSnapshot is sequenced and journaled like a command, so a replay sees the
/// same cut points; Shutdown stops the sequencer and is never numbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Command(Command),
    /// Write a snapshot of the state after every input before this one.
    TakeSnapshot,
    /// Drain, flush and stop.
    Shutdown,
}

impl From<&Input> for InputMessage {
    fn from(input: &Input) -> InputMessage {
        match input {
            Input::Command(cmd) => InputMessage::from(cmd),
            Input::TakeSnapshot => InputMessage::TakeSnapshot {},
            Input::Shutdown => InputMessage::Shutdown {},
        }
    }
}

/// Maps each core command onto the declared input of the same name and fields, and
/// back: commands that wrap a struct of those fields, then those that hold them.
macro_rules! same_fields {
    (
        $($wrapping:ident($inner:ident { $($field:ident),* })),+;
        $($holding:ident { $($own:ident),* }),+ $(,)?
    ) => {
        impl From<&Command> for InputMessage {
            fn from(cmd: &Command) -> InputMessage {
                match *cmd {
                    Command::AddInstrument(spec) => InputMessage::AddInstrument { spec },
                    $(Command::$wrapping($inner { $($field),* }) =>
                        InputMessage::$wrapping { $($field),* },)+
                    $(Command::$holding { $($own),* } => InputMessage::$holding { $($own),* },)+
                }
            }
        }

        impl From<InputMessage> for Input {
            fn from(message: InputMessage) -> Input {
                Input::Command(match message {
                    InputMessage::AddInstrument { spec } => Command::AddInstrument(spec),
                    $(InputMessage::$wrapping { $($field),* } =>
                        Command::$wrapping($inner { $($field),* }),)+
                    $(InputMessage::$holding { $($own),* } => Command::$holding { $($own),* },)+
                    InputMessage::TakeSnapshot {} => return Input::TakeSnapshot,
                    InputMessage::Shutdown {} => return Input::Shutdown,
                })
            }
        }
    };
}

same_fields!(
    NewOrder(NewOrder { account, instrument, client_order_id, side, order_type,
        time_in_force, post_only, price, qty }),
    Cancel(Cancel { account, client_order_id }),
    Replace(Replace { account, orig_client_order_id, client_order_id, price, qty }),
    MassCancel(MassCancel { account, instrument }),
    AddAccount(AccountSpec { account, limits });
    EndOfDay {},
    SetHalted { instrument, halted },
);

pub fn encode_input(input: &Input, buf: &mut Vec<u8>) {
    encode_input_message(&InputMessage::from(input), buf);
}

pub fn encode_command(cmd: &Command, buf: &mut Vec<u8>) {
    encode_input_message(&InputMessage::from(cmd), buf);
}

/// Decodes exactly one input occupying all of `bytes`.
pub fn decode_input(bytes: &[u8]) -> Result<Input, DecodeError> {
    decode_input_message(bytes).map(Input::from)
}

/// Decodes exactly one core command occupying all of `bytes`.
pub fn decode_command(bytes: &[u8]) -> Result<Command, DecodeError> {
    match decode_input(bytes)? {
        Input::Command(cmd) => Ok(cmd),
        _ => Err(DecodeError::UnknownType),
    }
}
