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
/// Gateway to engine: an input with a deadline; the engine drops it unsequenced (and
/// answers [`LINK_EXPIRED`]) if its sequencer reaches it after the deadline.
pub const LINK_TIMED_INPUT: u8 = b'T';
/// Gateway to engine, first on a link: where the gateway's copy of the stream ends.
pub const LINK_RESUME: u8 = b'R';
/// Engine to gateway: a timed input was dropped unsequenced, past its deadline.
pub const LINK_EXPIRED: u8 = b'X';
/// Either way: nothing to say, still alive. From the engine it carries the engine's
/// clock, read with nothing queued for the link: everything published before that time
/// was sent ahead of it, which lets a gateway know an unanswered order's fate.
pub const LINK_HEARTBEAT: u8 = b'H';
/// Engine to gateway, first on every link: the last sequence number applied.
pub const LINK_WELCOME: u8 = b'W';
/// Engine to gateway: events of one sequenced input (or a chunk of them).
pub const LINK_EVENTS: u8 = b'E';
/// Engine to gateway, last before the engine closes the link: why.
pub const LINK_GOODBYE: u8 = b'Z';
/// Engine to gateway, then the engine closes the link: this node is not the cluster's
/// leader, so it serves no link; the frame names the leader it knows of.
pub const LINK_NOT_LEADER: u8 = b'N';

/// `LINK_EVENTS` flag: no more events follow for this sequence number.
pub const EVENTS_LAST: u8 = 0x01;

/// `LINK_RESUME` flag: the gateway holds no history; send only what comes after the
/// Welcome (`after_seq` is then 0).
pub const RESUME_LIVE: u8 = 0x01;

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
    /// The history the gateway asked to resume from is no longer held (journal purged
    /// past it, or it could not be read back).
    HistoryUnavailable = 6,
    /// The gateway asked to resume after a sequence number this engine never reached:
    /// the engine is behind the gateway and must not be trusted.
    AheadOfEngine = 7,
}

/// Where a link starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumeFrom {
    /// Every event after this sequence number, then live.
    After(u64),
    /// Only events after the Welcome.
    Live,
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
    /// `deadline_ns` is Unix-epoch nanoseconds, 0 for none.
    Input {
        correlation: u64,
        deadline_ns: u64,
        input: Input,
    },
    Heartbeat,
    Resume(ResumeFrom),
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
    /// `time_ns`: the engine's Unix-epoch clock when it sent the heartbeat.
    Heartbeat {
        time_ns: u64,
    },
    Goodbye {
        reason: u8,
        detail: u8,
    },
    Expired {
        correlation: u64,
    },
    /// `leader_id` is the node the sender believes leads in `term`; 0 when unknown.
    NotLeader {
        leader_id: u64,
        term: u64,
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

/// Writes an input frame with a deadline (Unix-epoch nanoseconds), from bytes the caller
/// already checked decode.
pub fn write_timed_input_with(
    buf: &mut Vec<u8>,
    correlation: u64,
    deadline_ns: u64,
    input: impl FnOnce(&mut Vec<u8>),
) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        Writer::new(b)
            .u8(LINK_TIMED_INPUT)
            .u64(correlation)
            .u64(deadline_ns);
        input(b);
    });
}

pub fn write_resume(buf: &mut Vec<u8>, from: ResumeFrom) {
    let (after_seq, flags) = match from {
        ResumeFrom::After(seq) => (seq, 0),
        ResumeFrom::Live => (0, RESUME_LIVE),
    };
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        Writer::new(b).u8(LINK_RESUME).u64(after_seq).u8(flags);
    });
}

pub fn write_expired(buf: &mut Vec<u8>, correlation: u64) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        Writer::new(b).u8(LINK_EXPIRED).u64(correlation);
    });
}

/// A gateway's heartbeat: nothing but the type.
pub fn write_heartbeat(buf: &mut Vec<u8>) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        b.push(LINK_HEARTBEAT)
    });
}

/// The engine's heartbeat, with its Unix-epoch clock.
pub fn write_engine_heartbeat(buf: &mut Vec<u8>, time_ns: u64) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        Writer::new(b).u8(LINK_HEARTBEAT).u64(time_ns);
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

pub fn write_not_leader(buf: &mut Vec<u8>, leader_id: u64, term: u64) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        Writer::new(b).u8(LINK_NOT_LEADER).u64(leader_id).u64(term);
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
            Ok(ToEngine::Input {
                correlation,
                deadline_ns: 0,
                input,
            })
        }
        LINK_TIMED_INPUT => {
            let correlation = r.u64()?;
            let deadline_ns = r.u64()?;
            let input = decode_input(r.rest())?;
            Ok(ToEngine::Input {
                correlation,
                deadline_ns,
                input,
            })
        }
        LINK_HEARTBEAT => r.finish().map(|()| ToEngine::Heartbeat),
        LINK_RESUME => {
            let after_seq = r.u64()?;
            let flags = r.u8()?;
            r.finish()?;
            match flags {
                0 => Ok(ToEngine::Resume(ResumeFrom::After(after_seq))),
                // Live carries no sequence number: a non-zero one is malformed.
                RESUME_LIVE if after_seq == 0 => Ok(ToEngine::Resume(ResumeFrom::Live)),
                _ => Err(DecodeError::BadFlags),
            }
        }
        _ => Err(DecodeError::UnknownType),
    }
}

/// Decodes one frame body (type byte onwards) sent by the engine. Event bodies are
/// returned raw; iterate them with [`events`].
pub fn decode_from_engine(body: &[u8]) -> Result<FromEngine<'_>, DecodeError> {
    let mut r = Reader::new(body);
    let message = match r.u8()? {
        LINK_WELCOME => FromEngine::Welcome { last_seq: r.u64()? },
        LINK_HEARTBEAT => FromEngine::Heartbeat { time_ns: r.u64()? },
        LINK_GOODBYE => FromEngine::Goodbye {
            reason: r.u8()?,
            detail: r.u8()?,
        },
        LINK_EXPIRED => FromEngine::Expired {
            correlation: r.u64()?,
        },
        LINK_NOT_LEADER => FromEngine::NotLeader {
            leader_id: r.u64()?,
            term: r.u64()?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::split_frame;

    fn body(buf: &[u8]) -> &[u8] {
        let (body, used) = split_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX)
            .unwrap()
            .unwrap();
        assert_eq!(used, buf.len());
        body
    }

    #[test]
    fn resume_round_trips_and_live_carries_no_seq() {
        for from in [
            ResumeFrom::After(0),
            ResumeFrom::After(u64::MAX),
            ResumeFrom::Live,
        ] {
            let mut buf = Vec::new();
            write_resume(&mut buf, from);
            assert_eq!(decode_to_engine(body(&buf)), Ok(ToEngine::Resume(from)));
        }
        let live_with_seq = [LINK_RESUME, 1, 0, 0, 0, 0, 0, 0, 0, RESUME_LIVE];
        assert_eq!(decode_to_engine(&live_with_seq), Err(DecodeError::BadFlags));
        let bad_flags = [LINK_RESUME, 0, 0, 0, 0, 0, 0, 0, 0, 0x02];
        assert_eq!(decode_to_engine(&bad_flags), Err(DecodeError::BadFlags));
        assert_eq!(
            decode_to_engine(&[LINK_RESUME, 0]),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn timed_input_and_expired_round_trip() {
        let input = Input::TakeSnapshot;
        let mut buf = Vec::new();
        write_timed_input_with(&mut buf, 7, 1_700_000_000_000_000_000, |b| {
            encode_input(&input, b)
        });
        assert_eq!(
            decode_to_engine(body(&buf)),
            Ok(ToEngine::Input {
                correlation: 7,
                deadline_ns: 1_700_000_000_000_000_000,
                input
            })
        );
        let mut plain = Vec::new();
        write_input(&mut plain, 7, &input);
        assert_eq!(
            decode_to_engine(body(&plain)),
            Ok(ToEngine::Input {
                correlation: 7,
                deadline_ns: 0,
                input
            })
        );
        let mut expired = Vec::new();
        write_expired(&mut expired, 42);
        assert_eq!(
            decode_from_engine(body(&expired)),
            Ok(FromEngine::Expired { correlation: 42 })
        );
        let mut long = body(&expired).to_vec();
        long.push(0);
        assert_eq!(decode_from_engine(&long), Err(DecodeError::TrailingBytes));
    }

    #[test]
    fn not_leader_round_trips_and_is_exact_length() {
        for (leader_id, term) in [(0, 0), (3, 7), (u64::MAX, u64::MAX)] {
            let mut buf = Vec::new();
            write_not_leader(&mut buf, leader_id, term);
            assert_eq!(
                decode_from_engine(body(&buf)),
                Ok(FromEngine::NotLeader { leader_id, term })
            );
        }
        let mut buf = Vec::new();
        write_not_leader(&mut buf, 2, 9);
        let frame = body(&buf);
        assert_eq!(frame[0], LINK_NOT_LEADER);
        assert_eq!(
            decode_from_engine(&frame[..frame.len() - 1]),
            Err(DecodeError::Truncated)
        );
        let mut long = frame.to_vec();
        long.push(0);
        assert_eq!(decode_from_engine(&long), Err(DecodeError::TrailingBytes));
    }
}
