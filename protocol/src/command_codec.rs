//! Engine inputs on the wire and in the journal: one type byte, then fixed-width
//! little-endian fields. Order-entry commands are the client's message body with the
//! account in front, so a gateway forwards the client's bytes instead of re-encoding.

use ringex_core::*;

use crate::error::DecodeError;
use crate::wire::{Reader, Writer};

pub const NEW_ORDER: u8 = b'N';
pub const CANCEL: u8 = b'X';
pub const REPLACE: u8 = b'U';
pub const MASS_CANCEL: u8 = b'M';
pub const END_OF_DAY: u8 = b'D';
pub const ADD_INSTRUMENT: u8 = b'I';
pub const ADD_ACCOUNT: u8 = b'A';
pub const SET_HALTED: u8 = b'T';
pub const TAKE_SNAPSHOT: u8 = b'P';
pub const SHUTDOWN: u8 = b'Q';

/// Mass cancel's instrument field value meaning "every instrument".
pub const ALL_INSTRUMENTS: u32 = u32::MAX;
/// Order flag bit: post-only.
pub const FLAG_POST_ONLY: u8 = 0x01;
const FLAGS_DEFINED: u8 = FLAG_POST_ONLY;

/// Everything the sequencer orders: core commands plus the daemon's own controls,
/// which are journaled like the rest so a replay sees the same cut points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Command(Command),
    /// Write a snapshot of the state after every input before this one.
    TakeSnapshot,
    /// Drain, flush and stop.
    Shutdown,
}

/// Size in bytes of the encoding of an input of this type, or `None` for an unknown
/// type. Every input has a fixed size, so frames can be checked before decoding.
/// An instrument's rules on the wire, as AddInstrument and InstrumentAdded carry them:
/// `instrument u32, tick_size i64, lot_size u64, reference_price i64, price_band_bps u32`.
pub const INSTRUMENT_SPEC_LEN: usize = 4 + 8 + 8 + 8 + 4;

pub(crate) fn write_instrument_spec(w: &mut Writer<'_>, s: &InstrumentSpec) {
    w.u32(s.instrument).i64(s.tick_size).u64(s.lot_size);
    w.i64(s.reference_price).u32(s.price_band_bps);
}

pub(crate) fn read_instrument_spec(r: &mut Reader<'_>) -> Result<InstrumentSpec, DecodeError> {
    Ok(InstrumentSpec {
        instrument: r.u32()?,
        tick_size: r.i64()?,
        lot_size: r.u64()?,
        reference_price: r.i64()?,
        price_band_bps: r.u32()?,
    })
}

pub fn encoded_len(kind: u8) -> Option<usize> {
    Some(match kind {
        NEW_ORDER => 1 + 4 + 32,
        CANCEL => 1 + 4 + 8,
        REPLACE => 1 + 4 + 32,
        MASS_CANCEL => 1 + 4 + 4,
        END_OF_DAY | TAKE_SNAPSHOT | SHUTDOWN => 1,
        ADD_INSTRUMENT => 1 + INSTRUMENT_SPEC_LEN,
        ADD_ACCOUNT => 1 + 4 + 8 + 16 + 4,
        SET_HALTED => 1 + 4 + 1,
        _ => return None,
    })
}

pub fn encode_input(input: &Input, buf: &mut Vec<u8>) {
    match input {
        Input::Command(cmd) => encode_command(cmd, buf),
        Input::TakeSnapshot => buf.push(TAKE_SNAPSHOT),
        Input::Shutdown => buf.push(SHUTDOWN),
    }
}

pub fn encode_command(cmd: &Command, buf: &mut Vec<u8>) {
    let start = buf.len();
    let mut w = Writer::new(buf);
    match cmd {
        Command::NewOrder(c) => {
            w.u8(NEW_ORDER).u32(c.account).u64(c.client_order_id);
            w.u32(c.instrument).u8(c.side as u8).u8(c.order_type as u8);
            w.u8(c.time_in_force as u8);
            w.u8(if c.post_only { FLAG_POST_ONLY } else { 0 });
            w.i64(c.price).u64(c.qty);
        }
        Command::Cancel(c) => {
            w.u8(CANCEL).u32(c.account).u64(c.client_order_id);
        }
        Command::Replace(c) => {
            w.u8(REPLACE).u32(c.account).u64(c.orig_client_order_id);
            w.u64(c.client_order_id).i64(c.price).u64(c.qty);
        }
        Command::MassCancel(c) => {
            let instrument = c.instrument.unwrap_or(ALL_INSTRUMENTS);
            w.u8(MASS_CANCEL).u32(c.account).u32(instrument);
        }
        Command::EndOfDay => {
            w.u8(END_OF_DAY);
        }
        Command::AddInstrument(s) => {
            w.u8(ADD_INSTRUMENT);
            write_instrument_spec(&mut w, s);
        }
        Command::AddAccount(s) => {
            w.u8(ADD_ACCOUNT).u32(s.account).u64(s.limits.max_order_qty);
            w.u128(s.limits.max_order_notional)
                .u32(s.limits.max_open_orders);
        }
        Command::SetHalted { instrument, halted } => {
            w.u8(SET_HALTED).u32(*instrument).bool(*halted);
        }
    }
    // The fixed sizes are part of the format: writing and reading assert the same one.
    assert_eq!(Some(buf.len() - start), encoded_len(buf[start]));
}

/// Decodes exactly one input occupying all of `bytes`.
pub fn decode_input(bytes: &[u8]) -> Result<Input, DecodeError> {
    let kind = *bytes.first().ok_or(DecodeError::Truncated)?;
    let expected = encoded_len(kind).ok_or(DecodeError::UnknownType)?;
    if bytes.len() < expected {
        return Err(DecodeError::Truncated);
    }
    if bytes.len() > expected {
        return Err(DecodeError::TrailingBytes);
    }
    let mut r = Reader::new(&bytes[1..]);
    let input = match kind {
        TAKE_SNAPSHOT => Input::TakeSnapshot,
        SHUTDOWN => Input::Shutdown,
        _ => Input::Command(decode_command_fields(kind, &mut r)?),
    };
    r.finish()?;
    Ok(input)
}

/// Decodes exactly one core command occupying all of `bytes`.
pub fn decode_command(bytes: &[u8]) -> Result<Command, DecodeError> {
    match decode_input(bytes)? {
        Input::Command(cmd) => Ok(cmd),
        _ => Err(DecodeError::UnknownType),
    }
}

fn decode_command_fields(kind: u8, r: &mut Reader<'_>) -> Result<Command, DecodeError> {
    Ok(match kind {
        NEW_ORDER => {
            let account = r.u32()?;
            let client_order_id = r.u64()?;
            let instrument = r.u32()?;
            let side = r.enum_u8()?;
            let order_type = r.enum_u8()?;
            let time_in_force = r.enum_u8()?;
            let flags = r.u8()?;
            if flags & !FLAGS_DEFINED != 0 {
                return Err(DecodeError::BadFlags);
            }
            Command::NewOrder(NewOrder {
                account,
                instrument,
                client_order_id,
                side,
                order_type,
                time_in_force,
                post_only: flags & FLAG_POST_ONLY != 0,
                price: r.i64()?,
                qty: r.u64()?,
            })
        }
        CANCEL => Command::Cancel(Cancel {
            account: r.u32()?,
            client_order_id: r.u64()?,
        }),
        REPLACE => Command::Replace(Replace {
            account: r.u32()?,
            orig_client_order_id: r.u64()?,
            client_order_id: r.u64()?,
            price: r.i64()?,
            qty: r.u64()?,
        }),
        MASS_CANCEL => {
            let account = r.u32()?;
            let instrument = r.u32()?;
            Command::MassCancel(MassCancel {
                account,
                instrument: (instrument != ALL_INSTRUMENTS).then_some(instrument),
            })
        }
        END_OF_DAY => Command::EndOfDay,
        ADD_INSTRUMENT => Command::AddInstrument(read_instrument_spec(r)?),
        ADD_ACCOUNT => Command::AddAccount(AccountSpec {
            account: r.u32()?,
            limits: AccountLimits {
                max_order_qty: r.u64()?,
                max_order_notional: r.u128()?,
                max_open_orders: r.u32()?,
            },
        }),
        SET_HALTED => Command::SetHalted {
            instrument: r.u32()?,
            halted: r.bool()?,
        },
        _ => return Err(DecodeError::UnknownType),
    })
}
