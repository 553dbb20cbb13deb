//! The engine link's own field types, and how each travels in a declared frame: where a
//! link resumes, an events frame's header, and why the engine closed a link.

use crate::error::DecodeError;
use crate::field_codec::{enum_codec, named, own, Column, FieldCodec, Values, WireType};
use crate::session::u8_codes;
use crate::wire::{Reader, Writer};

/// Events frame flag: no more events follow for this sequence number.
pub const EVENTS_LAST: u8 = 0x01;

/// Resume flag: the gateway holds no history; send only what comes after the Welcome
/// (`after_seq` is then 0).
pub const RESUME_LIVE: u8 = 0x01;

/// Where a link starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumeFrom {
    /// Every event after this sequence number, then live.
    After(u64),
    /// Only events after the Welcome.
    Live,
}

impl FieldCodec<ResumeFrom> for ResumeFrom {
    const COLUMNS: &'static [Column] = &[
        named("after_seq", WireType::U64, Values::Int),
        named(
            "flags",
            WireType::U8,
            Values::Flags(&[("live", RESUME_LIVE)]),
        ),
    ];
    fn write(value: &ResumeFrom, w: &mut Writer<'_>) {
        match *value {
            ResumeFrom::After(seq) => w.u64(seq).u8(0),
            ResumeFrom::Live => w.u64(0).u8(RESUME_LIVE),
        };
    }
    fn read(r: &mut Reader<'_>) -> Result<ResumeFrom, DecodeError> {
        let after_seq = r.u64()?;
        match r.u8()? {
            0 => Ok(ResumeFrom::After(after_seq)),
            // Live carries no sequence number: a non-zero one is malformed.
            RESUME_LIVE if after_seq == 0 => Ok(ResumeFrom::Live),
            _ => Err(DecodeError::BadFlags),
        }
    }
}

/// The fields of an events frame; its `count` events follow them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventsHeader {
    pub seq: u64,
    pub timestamp_ns: u64,
    /// The sender's token on the link that sent the input; 0 on every other link.
    pub correlation: u64,
    pub last: bool,
    pub count: u16,
}

impl FieldCodec<EventsHeader> for EventsHeader {
    const COLUMNS: &'static [Column] = &[
        named("seq", WireType::U64, Values::Int),
        named("timestamp_ns", WireType::U64, Values::Int),
        named("correlation", WireType::U64, Values::Int),
        named(
            "flags",
            WireType::U8,
            Values::Flags(&[("last", EVENTS_LAST)]),
        ),
        named("count", WireType::U16, Values::Int),
    ];
    fn write(h: &EventsHeader, w: &mut Writer<'_>) {
        w.u64(h.seq).u64(h.timestamp_ns).u64(h.correlation);
        w.u8(if h.last { EVENTS_LAST } else { 0 }).u16(h.count);
    }
    fn read(r: &mut Reader<'_>) -> Result<EventsHeader, DecodeError> {
        let (seq, timestamp_ns, correlation) = (r.u64()?, r.u64()?, r.u64()?);
        let flags = r.u8()?;
        if flags & !EVENTS_LAST != 0 {
            return Err(DecodeError::BadFlags);
        }
        Ok(EventsHeader {
            seq,
            timestamp_ns,
            correlation,
            last: flags != 0,
            count: r.u16()?,
        })
    }
}

impl EventsHeader {
    /// Bytes at the end of an encoded header that [`EventsHeader::finish_encoded`]
    /// fills in: the flags, then the count.
    pub const FINISHED_TAIL_BYTES: usize = 3;

    /// Sets `last` and `count` in the last bytes of an encoded header. An events frame
    /// writes its header before its events, when neither is known yet, and fills them
    /// in afterwards rather than encoding the header twice.
    pub fn finish_encoded(tail: &mut [u8], last: bool, count: u16) {
        assert_eq!(tail.len(), Self::FINISHED_TAIL_BYTES, "the header's tail");
        tail[0] = if last { EVENTS_LAST } else { 0 };
        tail[1..].copy_from_slice(&count.to_le_bytes());
    }
}

// The flags and the count must stay the header's last columns, in that order.
const _: () = {
    let c = EventsHeader::COLUMNS;
    assert!(matches!(c[c.len() - 2].wire, WireType::U8));
    assert!(matches!(c[c.len() - 2].values, Values::Flags(_)));
    assert!(matches!(c[c.len() - 1].wire, WireType::U16));
};

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

u8_codes!(GoodbyeReason {
    Shutdown,
    BadInput,
    Timeout,
    SlowConsumer,
    Failed,
    HistoryUnavailable,
    AheadOfEngine
});

enum_codec!(GoodbyeReason => "GoodbyeReason");
