//! An input's events on the link: split over as many events frames as they need (the
//! last flagged), and read back checked whole.

use ringex_core::Event;

use crate::declare::largest;
use crate::error::DecodeError;
use crate::event_codec::{decode_event, encode_event, EVENT_MESSAGES};
use crate::frame::{write_frame, LengthPrefix};
use crate::link::from_engine::{encode_from_engine, FromEngineFrame};
use crate::link::link_fields::EventsHeader;
use crate::link::LINK_FRAME_MAX;

/// Room kept free in a frame before one more event is added: any event fits in it.
const EVENT_ROOM_BYTES: usize = 128;
const _: () = assert!(largest(EVENT_MESSAGES) <= EVENT_ROOM_BYTES);

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
        let mut header = EventsHeader {
            seq,
            timestamp_ns,
            correlation,
            last: false,
            count: 0,
        };
        write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
            let header_at = b.len();
            encode_from_engine(&FromEngineFrame::Events { header }, b);
            let header_end = b.len();
            while let Some((event, tail)) = rest.split_first() {
                if b.len() - header_at + EVENT_ROOM_BYTES > LINK_FRAME_MAX
                    || header.count == u16::MAX
                {
                    break;
                }
                encode_event(event, b);
                header.count += 1;
                rest = tail;
            }
            header.last = rest.is_empty();
            let tail = header_end - EventsHeader::FINISHED_TAIL_BYTES..header_end;
            EventsHeader::finish_encoded(&mut b[tail], header.last, header.count);
        });
        if header.last {
            return;
        }
    }
}

/// Checks an events frame's events whole: every one decodes and there are `count`.
pub(crate) fn checked_events(count: u16, bytes: &[u8]) -> Result<&[u8], DecodeError> {
    let mut n = 0u16;
    for event in events(bytes) {
        event?;
        n = n.checked_add(1).ok_or(DecodeError::BadLength)?;
    }
    if n != count {
        return Err(DecodeError::BadLength);
    }
    Ok(bytes)
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
