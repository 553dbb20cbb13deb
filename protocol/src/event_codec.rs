//! Engine events on the wire: one type byte, then fixed-width little-endian fields.
//! Lower-case type letters keep events apart from commands in dumps.

use ringex_core::*;

use crate::command_codec::{
    read_instrument_spec, write_instrument_spec, ALL_INSTRUMENTS, FLAG_POST_ONLY,
    INSTRUMENT_SPEC_LEN,
};
use crate::error::DecodeError;
use crate::wire::{Reader, Writer};

pub const ACCEPTED: u8 = b'a';
pub const REJECTED: u8 = b'j';
pub const TRADE: u8 = b't';
pub const CANCELLED: u8 = b'c';
pub const REPLACED: u8 = b'r';
pub const EXPIRED: u8 = b'e';
pub const MASS_CANCELLED: u8 = b'm';
pub const DAY_ENDED: u8 = b'd';
pub const INSTRUMENT_ADDED: u8 = b'i';
pub const ACCOUNT_ADDED: u8 = b'n';
pub const HALT_CHANGED: u8 = b'h';

/// Size in bytes of an event of this type, or `None` for an unknown type.
pub fn event_len(kind: u8) -> Option<usize> {
    Some(match kind {
        ACCEPTED => 1 + 8 + 4 + 4 + 8 + 4 + 8 + 8,
        REJECTED => 1 + 1 + 1 + 4 + 8,
        TRADE => 1 + 8 + 4 + 1 + 8 + 8 + 2 * (8 + 4 + 8 + 8),
        CANCELLED => 1 + 8 + 4 + 4 + 8 + 8 + 1,
        REPLACED => 1 + 8 + 4 + 4 + 8 + 8 + 8 + 8 + 1,
        EXPIRED => 1 + 8 + 4 + 4 + 8 + 8,
        MASS_CANCELLED => 1 + 4 + 4 + 4,
        DAY_ENDED => 1 + 4,
        INSTRUMENT_ADDED => 1 + INSTRUMENT_SPEC_LEN,
        ACCOUNT_ADDED => 1 + 4,
        HALT_CHANGED => 1 + 4 + 1,
        _ => return None,
    })
}

pub fn encode_event(event: &Event, buf: &mut Vec<u8>) {
    let start = buf.len();
    let mut w = Writer::new(buf);
    match event {
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
        } => {
            w.u8(ACCEPTED).u64(*order_id).u32(*account).u32(*instrument);
            w.u64(*client_order_id)
                .u8(*side as u8)
                .u8(*order_type as u8);
            w.u8(*time_in_force as u8);
            w.u8(if *post_only { FLAG_POST_ONLY } else { 0 });
            w.i64(*price).u64(*qty);
        }
        Event::Rejected {
            command,
            account,
            client_order_id,
            reason,
        } => {
            w.u8(REJECTED).u8(*command as u8).u8(*reason as u8);
            w.u32(*account).u64(*client_order_id);
        }
        Event::Trade(t) => {
            w.u8(TRADE)
                .u64(t.match_id)
                .u32(t.instrument)
                .u8(t.aggressor_side as u8);
            w.i64(t.price).u64(t.qty);
            w.u64(t.maker_order_id).u32(t.maker_account);
            w.u64(t.maker_client_order_id).u64(t.maker_leaves);
            w.u64(t.taker_order_id).u32(t.taker_account);
            w.u64(t.taker_client_order_id).u64(t.taker_leaves);
        }
        Event::Cancelled {
            order_id,
            account,
            instrument,
            client_order_id,
            qty,
            reason,
        } => {
            w.u8(CANCELLED)
                .u64(*order_id)
                .u32(*account)
                .u32(*instrument);
            w.u64(*client_order_id).u64(*qty).u8(*reason as u8);
        }
        Event::Replaced {
            order_id,
            account,
            instrument,
            orig_client_order_id,
            client_order_id,
            price,
            qty,
            priority_kept,
        } => {
            w.u8(REPLACED).u64(*order_id).u32(*account).u32(*instrument);
            w.u64(*orig_client_order_id).u64(*client_order_id);
            w.i64(*price).u64(*qty).bool(*priority_kept);
        }
        Event::Expired {
            order_id,
            account,
            instrument,
            client_order_id,
            qty,
        } => {
            w.u8(EXPIRED).u64(*order_id).u32(*account).u32(*instrument);
            w.u64(*client_order_id).u64(*qty);
        }
        Event::MassCancelled {
            account,
            instrument,
            count,
        } => {
            w.u8(MASS_CANCELLED).u32(*account);
            w.u32(instrument.unwrap_or(ALL_INSTRUMENTS)).u32(*count);
        }
        Event::DayEnded { expired } => {
            w.u8(DAY_ENDED).u32(*expired);
        }
        Event::InstrumentAdded { spec } => {
            w.u8(INSTRUMENT_ADDED);
            write_instrument_spec(&mut w, spec);
        }
        Event::AccountAdded { account } => {
            w.u8(ACCOUNT_ADDED).u32(*account);
        }
        Event::HaltChanged { instrument, halted } => {
            w.u8(HALT_CHANGED).u32(*instrument).bool(*halted);
        }
    }
    assert_eq!(Some(buf.len() - start), event_len(buf[start]));
}

/// Decodes the event at the start of `bytes`; returns it and the bytes it used.
pub fn decode_event(bytes: &[u8]) -> Result<(Event, usize), DecodeError> {
    let kind = *bytes.first().ok_or(DecodeError::Truncated)?;
    let len = event_len(kind).ok_or(DecodeError::UnknownType)?;
    let body = bytes.get(1..len).ok_or(DecodeError::Truncated)?;
    let mut r = Reader::new(body);
    let event = decode_fields(kind, &mut r)?;
    r.finish()?;
    Ok((event, len))
}

fn decode_fields(kind: u8, r: &mut Reader<'_>) -> Result<Event, DecodeError> {
    Ok(match kind {
        ACCEPTED => {
            let order_id = r.u64()?;
            let account = r.u32()?;
            let instrument = r.u32()?;
            let client_order_id = r.u64()?;
            let side = r.enum_u8()?;
            let order_type = r.enum_u8()?;
            let time_in_force = r.enum_u8()?;
            let flags = r.u8()?;
            if flags & !FLAG_POST_ONLY != 0 {
                return Err(DecodeError::BadFlags);
            }
            Event::Accepted {
                order_id,
                account,
                instrument,
                client_order_id,
                side,
                order_type,
                time_in_force,
                post_only: flags != 0,
                price: r.i64()?,
                qty: r.u64()?,
            }
        }
        REJECTED => Event::Rejected {
            command: r.enum_u8()?,
            reason: r.enum_u8()?,
            account: r.u32()?,
            client_order_id: r.u64()?,
        },
        TRADE => Event::Trade(Trade {
            match_id: r.u64()?,
            instrument: r.u32()?,
            aggressor_side: r.enum_u8()?,
            price: r.i64()?,
            qty: r.u64()?,
            maker_order_id: r.u64()?,
            maker_account: r.u32()?,
            maker_client_order_id: r.u64()?,
            maker_leaves: r.u64()?,
            taker_order_id: r.u64()?,
            taker_account: r.u32()?,
            taker_client_order_id: r.u64()?,
            taker_leaves: r.u64()?,
        }),
        CANCELLED => Event::Cancelled {
            order_id: r.u64()?,
            account: r.u32()?,
            instrument: r.u32()?,
            client_order_id: r.u64()?,
            qty: r.u64()?,
            reason: r.enum_u8()?,
        },
        REPLACED => Event::Replaced {
            order_id: r.u64()?,
            account: r.u32()?,
            instrument: r.u32()?,
            orig_client_order_id: r.u64()?,
            client_order_id: r.u64()?,
            price: r.i64()?,
            qty: r.u64()?,
            priority_kept: r.bool()?,
        },
        EXPIRED => Event::Expired {
            order_id: r.u64()?,
            account: r.u32()?,
            instrument: r.u32()?,
            client_order_id: r.u64()?,
            qty: r.u64()?,
        },
        MASS_CANCELLED => {
            let account = r.u32()?;
            let instrument = r.u32()?;
            Event::MassCancelled {
                account,
                instrument: (instrument != ALL_INSTRUMENTS).then_some(instrument),
                count: r.u32()?,
            }
        }
        DAY_ENDED => Event::DayEnded { expired: r.u32()? },
        INSTRUMENT_ADDED => Event::InstrumentAdded {
            spec: read_instrument_spec(r)?,
        },
        ACCOUNT_ADDED => Event::AccountAdded { account: r.u32()? },
        HALT_CHANGED => Event::HaltChanged {
            instrument: r.u32()?,
            halted: r.bool()?,
        },
        _ => return Err(DecodeError::UnknownType),
    })
}
