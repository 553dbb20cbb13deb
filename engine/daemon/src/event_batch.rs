//! The events of a run of consecutive inputs, encoded once as link frames. Every link
//! gets the same bytes; only the correlation differs (the sender's token on the link
//! that sent the input, 0 elsewhere), so the matcher encodes with 0 and remembers where
//! each correlation goes, and a link's writer patches in its own while copying.

use ringex_core::Event;
use ringex_protocol::link::write_events;

use crate::input_ring::{LinkId, DAEMON_LINK};

/// Offset of the seq field in an events frame: u32 length, type.
const SEQ_OFFSET: usize = 4 + 1;
/// Offset of the correlation field in an events frame: u32 length, type, seq, timestamp.
const CORRELATION_OFFSET: usize = SEQ_OFFSET + 8 + 8;

/// Where one correlation belongs.
#[derive(Clone, Copy, Debug)]
struct Origin {
    link: LinkId,
    correlation: u64,
    /// Byte offset of the correlation field of one frame of the input's events.
    at: usize,
}

#[derive(Debug, Default)]
pub struct EventBatch {
    bytes: Vec<u8>,
    origins: Vec<Origin>,
    first_seq: u64,
    last_seq: u64,
}

impl EventBatch {
    pub fn new() -> EventBatch {
        EventBatch::default()
    }

    /// An empty batch with room for `bytes` of frames: the next batch is sized like
    /// the last, so a full entry's events are not copied as their buffer doubles.
    pub fn with_capacity(bytes: usize) -> EventBatch {
        EventBatch {
            bytes: Vec::with_capacity(bytes),
            ..EventBatch::default()
        }
    }

    /// Appends the frames of one input's events; inputs must come in sequence order.
    pub fn push(
        &mut self,
        seq: u64,
        timestamp_ns: u64,
        link: LinkId,
        correlation: u64,
        events: &[Event],
    ) {
        assert!(
            self.last_seq == 0 || seq == self.last_seq + 1,
            "event batch out of sequence: {seq} after {}",
            self.last_seq
        );
        if self.first_seq == 0 {
            self.first_seq = seq;
        }
        self.last_seq = seq;
        let start = self.bytes.len();
        write_events(&mut self.bytes, seq, timestamp_ns, 0, events);
        if link == DAEMON_LINK || correlation == 0 {
            return;
        }
        // An input with many events spans several frames; each carries the correlation.
        let mut at = start;
        while at < self.bytes.len() {
            let len = u32::from_le_bytes(self.bytes[at..at + 4].try_into().expect("4 bytes"));
            self.origins.push(Origin {
                link,
                correlation,
                at: at + CORRELATION_OFFSET,
            });
            at += 4 + len as usize;
        }
    }

    pub fn len_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Sequence numbers covered, first to last.
    pub fn seqs(&self) -> (u64, u64) {
        (self.first_seq, self.last_seq)
    }

    /// Appends the frames of inputs after `after_seq`, as history: with no correlation,
    /// since the links that sent those inputs are not the one being resumed.
    pub fn write_after(&self, after_seq: u64, out: &mut Vec<u8>) {
        if self.first_seq > after_seq {
            out.extend_from_slice(&self.bytes);
            return;
        }
        let mut at = 0;
        while at < self.bytes.len() {
            let len = u32::from_le_bytes(self.bytes[at..at + 4].try_into().expect("4 bytes"));
            let end = at + 4 + len as usize;
            let seq_at = at + SEQ_OFFSET;
            let seq = u64::from_le_bytes(self.bytes[seq_at..seq_at + 8].try_into().expect("8"));
            if seq > after_seq {
                out.extend_from_slice(&self.bytes[at..]);
                return;
            }
            at = end;
        }
    }

    /// Appends the batch as `link` must see it.
    pub fn write_for(&self, link: LinkId, out: &mut Vec<u8>) {
        let base = out.len();
        out.extend_from_slice(&self.bytes);
        for o in self.origins.iter().filter(|o| o.link == link) {
            let at = base + o.at;
            out[at..at + 8].copy_from_slice(&o.correlation.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringex_protocol::frame::{split_frame, LengthPrefix};
    use ringex_protocol::link::{decode_from_engine, FromEngine, LINK_FRAME_MAX};

    fn headers(bytes: &[u8]) -> Vec<(u64, u64, bool, u16)> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while let Some((body, used)) = split_frame(rest, LengthPrefix::U32, LINK_FRAME_MAX).unwrap()
        {
            match decode_from_engine(body).unwrap() {
                FromEngine::Events { header, .. } => {
                    out.push((header.seq, header.correlation, header.last, header.count))
                }
                other => panic!("unexpected {other:?}"),
            }
            rest = &rest[used..];
        }
        assert!(rest.is_empty());
        out
    }

    #[test]
    fn each_link_sees_only_its_own_correlations() {
        let day = Event::DayEnded { expired: 0 };
        let many = vec![day; 20_000]; // more than one frame holds
        let mut b = EventBatch::new();
        b.push(7, 100, 1, 11, &[day]);
        b.push(8, 101, 2, 22, &many);
        b.push(9, 102, DAEMON_LINK, 0, &[]);
        assert_eq!(b.seqs(), (7, 9));
        let mut one = Vec::new();
        b.write_for(1, &mut one);
        let h1 = headers(&one);
        assert_eq!(h1[0], (7, 11, true, 1));
        assert!(h1.len() > 3);
        assert!(h1[1..h1.len() - 1].iter().all(|h| h.0 == 8 && h.1 == 0));
        assert_eq!(*h1.last().unwrap(), (9, 0, true, 0));
        let mut two = Vec::new();
        b.write_for(2, &mut two);
        let h2 = headers(&two);
        assert_eq!(h2[0], (7, 0, true, 1));
        let of_eight: Vec<_> = h2.iter().filter(|h| h.0 == 8).collect();
        assert!(of_eight.iter().all(|h| h.1 == 22));
        assert_eq!(of_eight.iter().filter(|h| h.2).count(), 1);
        assert_eq!(of_eight.iter().map(|h| h.3 as usize).sum::<usize>(), 20_000);
    }

    #[test]
    fn history_starts_after_the_asked_seq_without_correlations() {
        let day = Event::DayEnded { expired: 0 };
        let mut b = EventBatch::new();
        b.push(7, 100, 1, 11, &[day]);
        b.push(8, 101, 2, 22, &[day, day]);
        b.push(9, 102, 1, 33, &[]);
        let mut out = Vec::new();
        b.write_after(7, &mut out);
        assert_eq!(headers(&out), vec![(8, 0, true, 2), (9, 0, true, 0)]);
        out.clear();
        b.write_after(6, &mut out);
        assert_eq!(headers(&out).len(), 3);
        assert!(headers(&out).iter().all(|h| h.1 == 0));
        out.clear();
        b.write_after(9, &mut out);
        assert!(out.is_empty());
    }
}
