//! One account's sequenced server messages, kept as ready-to-send frames so a session
//! catching up (a replay after reconnect, or live delivery) only copies bytes. Bounded:
//! the oldest frames fall off once the capacity is reached.

use std::collections::VecDeque;

use ringex_protocol::client::{encode_server, ServerMessage};
use ringex_protocol::frame::write_frame;
use ringex_protocol::session::{CLIENT_FRAME_MAX, CLIENT_PREFIX};

use crate::output_chunks::Output;

pub struct AccountStream {
    /// Sequence number of `frames[0]`.
    first_seq: u64,
    frames: VecDeque<Box<[u8]>>,
    capacity: usize,
    /// Where each frame is encoded before it is boxed at its exact size.
    scratch: Vec<u8>,
}

impl AccountStream {
    pub fn new(capacity: usize) -> AccountStream {
        AccountStream {
            first_seq: 1,
            frames: VecDeque::new(),
            capacity: capacity.max(1),
            scratch: Vec::with_capacity(CLIENT_FRAME_MAX + 2),
        }
    }

    /// The oldest sequence number still held.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// The sequence number the next message will get.
    pub fn next_seq(&self) -> u64 {
        self.first_seq + self.frames.len() as u64
    }

    /// Appends the message `build` makes for the next sequence number.
    pub fn push(&mut self, build: impl FnOnce(u64) -> ServerMessage) {
        let message = build(self.next_seq());
        self.scratch.clear();
        write_frame(&mut self.scratch, CLIENT_PREFIX, CLIENT_FRAME_MAX, |b| {
            encode_server(&message, b)
        });
        if self.frames.len() == self.capacity {
            self.frames.pop_front();
            self.first_seq += 1;
        }
        self.frames.push_back(Box::from(&self.scratch[..]));
    }

    /// The frame of `seq`, if still held.
    pub fn get(&self, seq: u64) -> Option<&[u8]> {
        let index = seq.checked_sub(self.first_seq)?;
        self.frames
            .get(usize::try_from(index).ok()?)
            .map(|f| &f[..])
    }

    /// Appends the frames from `cursor` on, moving it past each, until the stream's end
    /// or until `out` holds `budget_bytes`; returns how many. The cursor must be inside
    /// the stream (a session behind its start is ended, not written to).
    pub fn copy_from(&self, cursor: &mut u64, out: &mut Output, budget_bytes: usize) -> u64 {
        let start = *cursor;
        while *cursor < self.next_seq() && out.len() < budget_bytes {
            out.extend(self.get(*cursor).expect("cursor inside the stream"));
            *cursor += 1;
        }
        *cursor - start
    }

    /// Where a session asking for `requested` starts: 0 means the current end; a number
    /// past the end starts at the end; one older than what is held starts at the oldest.
    pub fn start_for(&self, requested: u64) -> u64 {
        if requested == 0 {
            self.next_seq()
        } else {
            requested.clamp(self.first_seq, self.next_seq())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringex_protocol::client::Stamp;

    fn heartbeatish(seq: u64) -> ServerMessage {
        ServerMessage::MassCancelled {
            stamp: Stamp {
                seq,
                timestamp_ns: 0,
            },
            instrument: 1,
            count: 0,
        }
    }

    #[test]
    fn keeps_the_newest_frames_and_clamps_starts() {
        let mut s = AccountStream::new(3);
        for _ in 0..5 {
            s.push(heartbeatish);
        }
        assert_eq!((s.first_seq(), s.next_seq()), (3, 6));
        assert!(s.get(2).is_none() && s.get(3).is_some() && s.get(6).is_none());
        assert_eq!(s.start_for(0), 6);
        assert_eq!(s.start_for(1), 3);
        assert_eq!(s.start_for(4), 4);
        assert_eq!(s.start_for(99), 6);
        // The frame carries its own sequence number.
        assert_eq!(&s.get(4).unwrap()[3..11], &4u64.to_le_bytes());
    }
}
