//! Frames the engine sends a gateway, declared once: their fixed part below; an events
//! frame's events follow it.

use crate::declare_messages;
use crate::error::DecodeError;
use crate::frame::{write_frame, LengthPrefix};
use crate::link::events_frame::checked_events;
use crate::link::link_fields::{EventsHeader, GoodbyeReason};
use crate::link::LINK_FRAME_MAX;

declare_messages! {
    /// A frame from the engine to a gateway, as declared (an events frame without its
    /// events).
    pub enum FromEngineFrame;
    table FROM_ENGINE_FRAMES, len from_engine_len, family from_engine_family,
    encode encode_from_engine, decode decode_from_engine_frame;

    /// First frame on every link: the last sequence number applied.
    LINK_WELCOME = b'W' => Welcome(LinkControl) {
        last_seq: u64,
    },
    /// The events of one sequenced input, or a chunk of them (`flags` bit 0: the last).
    LINK_EVENTS = b'E' => Events(LinkEvents) {
        header: EventsHeader,
    } then "`count` engine events",
    /// The engine's Unix-epoch clock, read with nothing queued for the link: everything
    /// published before then was sent ahead of it (0: no claim).
    LINK_ENGINE_HEARTBEAT = b'H' => Heartbeat(LinkControl) {
        time_ns: u64,
    },
    /// A TimedInput was dropped unsequenced, past its deadline.
    LINK_EXPIRED = b'X' => Expired(LinkControl) {
        correlation: u64,
    },
    /// Why the engine closes the link, last before it does (`detail`: the decode error
    /// code for BadInput, else 0).
    LINK_GOODBYE = b'Z' => Goodbye(LinkControl) {
        reason: GoodbyeReason,
        detail: u8,
    },
    /// This node is not the cluster's leader, so it serves no link: the node it believes
    /// leads in `term` (0: unknown); then it closes the link.
    LINK_NOT_LEADER = b'N' => NotLeader(LinkControl) {
        leader_id: u64,
        term: u64,
    },
}

/// A frame from the engine as a gateway reads it: the declared frames, an events frame
/// with its events (each control frame as its own variant, so a reader matches every
/// frame once and never meets an events frame without them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FromEngine<'a> {
    Welcome {
        last_seq: u64,
    },
    /// `events` were checked whole: iterating them with `events` cannot fail.
    Events {
        header: EventsHeader,
        events: &'a [u8],
    },
    Heartbeat {
        time_ns: u64,
    },
    Expired {
        correlation: u64,
    },
    Goodbye {
        reason: GoodbyeReason,
        detail: u8,
    },
    NotLeader {
        leader_id: u64,
        term: u64,
    },
}

/// Appends one frame: its declared fields, then what `tail` writes.
fn write_from_engine(buf: &mut Vec<u8>, frame: &FromEngineFrame, tail: impl FnOnce(&mut Vec<u8>)) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        encode_from_engine(frame, b);
        tail(b);
    });
}

fn write_fixed(buf: &mut Vec<u8>, frame: FromEngineFrame) {
    write_from_engine(buf, &frame, |_| {});
}

pub fn write_welcome(buf: &mut Vec<u8>, last_seq: u64) {
    write_fixed(buf, FromEngineFrame::Welcome { last_seq });
}

/// The engine's heartbeat, with its Unix-epoch clock.
pub fn write_engine_heartbeat(buf: &mut Vec<u8>, time_ns: u64) {
    write_fixed(buf, FromEngineFrame::Heartbeat { time_ns });
}

pub fn write_expired(buf: &mut Vec<u8>, correlation: u64) {
    write_fixed(buf, FromEngineFrame::Expired { correlation });
}

pub fn write_goodbye(buf: &mut Vec<u8>, reason: GoodbyeReason, detail: u8) {
    write_fixed(buf, FromEngineFrame::Goodbye { reason, detail });
}

pub fn write_not_leader(buf: &mut Vec<u8>, leader_id: u64, term: u64) {
    write_fixed(buf, FromEngineFrame::NotLeader { leader_id, term });
}

/// Decodes one frame body (type byte onwards) sent by the engine. An events frame's
/// events are checked and returned raw; iterate them with `events`.
pub fn decode_from_engine(body: &[u8]) -> Result<FromEngine<'_>, DecodeError> {
    let (frame, tail) = FromEngineFrame::decode_with_tail(body)?;
    Ok(match frame {
        FromEngineFrame::Welcome { last_seq } => FromEngine::Welcome { last_seq },
        FromEngineFrame::Events { header } => FromEngine::Events {
            header,
            events: checked_events(header.count, tail)?,
        },
        FromEngineFrame::Heartbeat { time_ns } => FromEngine::Heartbeat { time_ns },
        FromEngineFrame::Expired { correlation } => FromEngine::Expired { correlation },
        FromEngineFrame::Goodbye { reason, detail } => FromEngine::Goodbye { reason, detail },
        FromEngineFrame::NotLeader { leader_id, term } => FromEngine::NotLeader { leader_id, term },
    })
}
