//! The engine link: how gateways talk to the engine daemon. u32-prefixed frames, each
//! one message; writers batch many frames into one socket write.

use ringex_core::Event;

use crate::command_codec::{decode_input, encode_input, Input};
use crate::error::DecodeError;
use crate::event_codec::{decode_event, encode_event};
use crate::frame::{write_frame, LengthPrefix};
use crate::wire::{Reader, Writer};

/// Largest frame body on the link. A command whose events do not fit is reported in
/// several frames, the last one flagged.
pub const LINK_FRAME_MAX: usize = 64 * 1024;

/// Gateway to engine: an input to sequence, with the gateway's correlation token.
pub const LINK_INPUT: u8 = b'C';
/// Either way: nothing to say, still alive.
pub const LINK_HEARTBEAT: u8 = b'H';
/// Engine to gateway, first on every link: the last sequence number applied.
pub const LINK_WELCOME: u8 = b'W';
/// Engine to gateway: events of one sequenced input (or a chunk of them).
pub const LINK_EVENTS: u8 = b'E';
/// Engine to gateway, last before the engine closes the link: why.
pub const LINK_GOODBYE: u8 = b'Z';

/// `LINK_EVENTS` flag: no more events follow for this sequence number.
pub const EVENTS_LAST: u8 = 0x01;

/// Type, seq, timestamp, correlation, flags, count.
const EVENTS_HEADER_LEN: usize = 1 + 8 + 8 + 8 + 1 + 2;

/// Why the engine closed a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum GoodbyeReason {
    /// The engine is shutting down.
    Shutdown = 1,
    /// The peer sent bytes that do not decode; the detail is the decode error code.
    BadInput = 2,
    /// The peer was silent past the heartbeat timeout.
    Timeout = 3,
    /// The peer did not read its events fast enough.
    SlowConsumer = 4,
    /// The engine stopped after an I/O error rather than acknowledge what is not durable.
    Failed = 5,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventsHeader {
    pub seq: u64,
    pub timestamp_ns: u64,
    /// The sender's token on the link that sent the input; 0 on every other link.
    pub correlation: u64,
    pub last: bool,
    pub count: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToEngine {
    Input { correlation: u64, input: Input },
    Heartbeat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FromEngine<'a> {
    Welcome {
        last_seq: u64,
    },
    Events {
        header: EventsHeader,
        events: &'a [u8],
    },
    Heartbeat,
    Goodbye {
        reason: u8,
        detail: u8,
    },
}

pub fn write_input(buf: &mut Vec<u8>, correlation: u64, input: &Input) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        Writer::new(b).u8(LINK_INPUT).u64(correlation);
        encode_input(input, b);
    });
}

/// Forwards an input the caller already holds encoded (a client's order body behind an
/// account), checking it decodes before it goes on the link.
pub fn write_input_bytes(
    buf: &mut Vec<u8>,
    correlation: u64,
    input: &[u8],
) -> Result<(), DecodeError> {
    decode_input(input)?;
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        Writer::new(b).u8(LINK_INPUT).u64(correlation).bytes(input);
    });
    Ok(())
}

pub fn write_heartbeat(buf: &mut Vec<u8>) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        b.push(LINK_HEARTBEAT)
    });
}

pub fn write_welcome(buf: &mut Vec<u8>, last_seq: u64) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        Writer::new(b).u8(LINK_WELCOME).u64(last_seq);
    });
}

pub fn write_goodbye(buf: &mut Vec<u8>, reason: GoodbyeReason, detail: u8) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        Writer::new(b).u8(LINK_GOODBYE).u8(reason as u8).u8(detail);
    });
}

/// Writes the events of one input as one or more frames; the last is flagged. An input
/// with no events still gets one (empty, last) frame, so every sequence number shows.
pub fn write_events(
    buf: &mut Vec<u8>,
    seq: u64,
    timestamp_ns: u64,
    correlation: u64,
    events: &[Event],
) {
    let mut rest = events;
    loop {
        let frame_start = buf.len();
        let mut count: u16 = 0;
        let mut last = false;
        write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
            let header_at = b.len();
            Writer::new(b)
                .u8(LINK_EVENTS)
                .u64(seq)
                .u64(timestamp_ns)
                .u64(correlation)
                .u8(0)
                .u16(0);
            // Largest event is well under 128 bytes; stop while one more surely fits.
            while let Some((event, tail)) = rest.split_first() {
                if b.len() - header_at + 128 > LINK_FRAME_MAX || count == u16::MAX {
                    break;
                }
                encode_event(event, b);
                count += 1;
                rest = tail;
            }
            last = rest.is_empty();
            let flags_at = header_at + EVENTS_HEADER_LEN - 3;
            b[flags_at] = if last { EVENTS_LAST } else { 0 };
            b[flags_at + 1..flags_at + 3].copy_from_slice(&count.to_le_bytes());
        });
        debug_assert!(buf.len() > frame_start);
        if last {
            return;
        }
    }
}

/// Decodes one frame body (type byte onwards) sent to the engine.
pub fn decode_to_engine(body: &[u8]) -> Result<ToEngine, DecodeError> {
    let mut r = Reader::new(body);
    match r.u8()? {
        LINK_INPUT => {
            let correlation = r.u64()?;
            let input = decode_input(r.rest())?;
            Ok(ToEngine::Input { correlation, input })
        }
        LINK_HEARTBEAT => r.finish().map(|()| ToEngine::Heartbeat),
        _ => Err(DecodeError::UnknownType),
    }
}

/// Decodes one frame body (type byte onwards) sent by the engine. Event bodies are
/// returned raw; iterate them with [`events`].
pub fn decode_from_engine(body: &[u8]) -> Result<FromEngine<'_>, DecodeError> {
    let mut r = Reader::new(body);
    let message = match r.u8()? {
        LINK_WELCOME => FromEngine::Welcome { last_seq: r.u64()? },
        LINK_HEARTBEAT => FromEngine::Heartbeat,
        LINK_GOODBYE => FromEngine::Goodbye {
            reason: r.u8()?,
            detail: r.u8()?,
        },
        LINK_EVENTS => {
            let seq = r.u64()?;
            let timestamp_ns = r.u64()?;
            let correlation = r.u64()?;
            let flags = r.u8()?;
            if flags & !EVENTS_LAST != 0 {
                return Err(DecodeError::BadFlags);
            }
            let count = r.u16()?;
            let header = EventsHeader {
                seq,
                timestamp_ns,
                correlation,
                last: flags & EVENTS_LAST != 0,
                count,
            };
            let events = r.rest();
            // Check the whole batch now, so iterating it later cannot fail.
            let mut n = 0u16;
            for event in EventIter(events) {
                event?;
                n = n.checked_add(1).ok_or(DecodeError::BadLength)?;
            }
            if n != count {
                return Err(DecodeError::BadLength);
            }
            return Ok(FromEngine::Events { header, events });
        }
        _ => return Err(DecodeError::UnknownType),
    };
    r.finish()?;
    Ok(message)
}

/// The events in an events frame, in order.
pub fn events(bytes: &[u8]) -> EventIter<'_> {
    EventIter(bytes)
}

pub struct EventIter<'a>(&'a [u8]);

impl Iterator for EventIter<'_> {
    type Item = Result<Event, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        match decode_event(self.0) {
            Ok((event, used)) => {
                self.0 = &self.0[used..];
                Some(Ok(event))
            }
            Err(e) => {
                self.0 = &[];
                Some(Err(e))
            }
        }
    }
}
