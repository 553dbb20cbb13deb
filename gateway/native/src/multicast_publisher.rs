//! The L3 feed as multicast packets (see `ringex_protocol::mold`): every L3 message of
//! every instrument gets the next number of one sequence space and joins the packet
//! being filled; a packet closes when the next message would not fit the MTU or when
//! the gateway flushes a batch. Closed packets wait in a bounded queue for the socket;
//! past the bound the oldest is dropped and counted, never waited for: its messages
//! stay in the retransmission window, which answers requests for the newest
//! `window_messages` messages, re-encoded from the book events it keeps.

use std::collections::VecDeque;

use ringex_core::market_data::BookEvent;
use ringex_protocol::client::{encode_server, ServerMessage};
use ringex_protocol::frame::write_frame;
use ringex_protocol::mold::{
    write_status_reply, Header, ReplyStatus, END_OF_SESSION, HEADER_LEN, MTU_MAX, MTU_MIN,
    REPLY_MAX, REQUEST_LEN, SESSION_LEN,
};
use ringex_protocol::session::{CLIENT_FRAME_MAX, CLIENT_PREFIX};

use crate::feed_window::{FeedWindow, Miss};

/// The publisher's bounds, fixed when the gateway starts.
#[derive(Clone, Debug)]
pub struct MulticastSettings {
    pub session: [u8; SESSION_LEN],
    /// Largest packet (UDP payload) in bytes.
    pub mtu_bytes: usize,
    /// Messages kept for retransmission.
    pub window_messages: usize,
    /// Closed packets that may wait for the socket.
    pub queue_packets: usize,
    /// Most messages one retransmission request may ask for.
    pub retransmit_max: u16,
}

/// Counters for the metrics endpoint.
#[derive(Clone, Copy, Debug, Default)]
pub struct MulticastCounters {
    pub packets: u64,
    pub messages: u64,
    pub packets_dropped: u64,
    pub retransmit_requests: u64,
    pub retransmit_messages: u64,
    pub retransmit_too_old: u64,
}

pub struct MulticastPublisher {
    settings: MulticastSettings,
    /// The number the next message gets (the first is 1).
    next_seq: u64,
    /// The packet being filled: a header, then `count` messages.
    packet: Vec<u8>,
    count: u16,
    queue: VecDeque<Vec<u8>>,
    window: FeedWindow<BookEvent>,
    frame: Vec<u8>,
    pub counters: MulticastCounters,
}

impl MulticastPublisher {
    pub fn new(settings: MulticastSettings) -> Result<MulticastPublisher, &'static str> {
        if !(MTU_MIN..=MTU_MAX).contains(&settings.mtu_bytes) {
            return Err("the multicast MTU must hold a header and the largest message");
        }
        if settings.window_messages == 0 || settings.queue_packets == 0 {
            return Err("the multicast window and queue must be positive");
        }
        if settings.retransmit_max == 0 || settings.retransmit_max == END_OF_SESSION {
            return Err("a retransmission request may ask for 1 to 65534 messages");
        }
        Ok(MulticastPublisher {
            window: FeedWindow::new(settings.window_messages),
            settings,
            next_seq: 1,
            packet: Vec::new(),
            count: 0,
            queue: VecDeque::new(),
            frame: Vec::new(),
            counters: MulticastCounters::default(),
        })
    }

    fn header(&self, sequence: u64, count: u16) -> Header {
        Header {
            session: self.settings.session,
            sequence,
            count,
        }
    }

    /// Numbers an L3 book event and adds its message to the packet being filled.
    pub fn push(&mut self, event: &BookEvent) {
        self.frame.clear();
        write_frame(&mut self.frame, CLIENT_PREFIX, CLIENT_FRAME_MAX, |b| {
            encode_server(&ServerMessage::from_book_event(event), b)
        });
        if self.count > 0 && self.packet.len() + self.frame.len() > self.settings.mtu_bytes {
            self.close();
        }
        if self.count == 0 {
            self.packet.clear();
            self.header(self.next_seq, 0).write(&mut self.packet);
        }
        self.packet.extend_from_slice(&self.frame);
        self.count += 1;
        assert!(self.count < END_OF_SESSION, "an MTU holds fewer messages");
        self.window.push(self.next_seq, *event);
        self.next_seq += 1;
        self.counters.messages += 1;
    }

    /// Closes the packet being filled into the queue (dropping the oldest when full).
    fn close(&mut self) {
        if self.count == 0 {
            return;
        }
        self.packet[HEADER_LEN - 2..HEADER_LEN].copy_from_slice(&self.count.to_le_bytes());
        if self.queue.len() == self.settings.queue_packets {
            self.queue.pop_front();
            self.counters.packets_dropped += 1;
        }
        self.queue.push_back(std::mem::take(&mut self.packet));
        self.count = 0;
    }

    /// The batch ended: every packet to send now, the one being filled included.
    pub fn take_packets(&mut self) -> Vec<Vec<u8>> {
        self.close();
        self.counters.packets += self.queue.len() as u64;
        self.queue.drain(..).collect()
    }

    /// A heartbeat: no messages, the next sequence number.
    pub fn heartbeat(&self) -> Vec<u8> {
        let mut packet = Vec::with_capacity(HEADER_LEN);
        self.header(self.next_seq, 0).write(&mut packet);
        packet
    }

    /// The end of the session: no messages after those already numbered.
    pub fn end_of_session(&self) -> Vec<u8> {
        let mut packet = Vec::with_capacity(HEADER_LEN);
        self.header(self.next_seq, END_OF_SESSION)
            .write(&mut packet);
        packet
    }

    /// Answers one retransmission request (exactly [`REQUEST_LEN`] bytes) with one reply.
    pub fn retransmit(&mut self, request: &[u8; REQUEST_LEN]) -> Vec<u8> {
        self.counters.retransmit_requests += 1;
        let asked = Header::read(request).expect("a request is a whole header");
        let status = |status, header: &Header| {
            let mut reply = Vec::new();
            write_status_reply(&mut reply, status, header);
            reply
        };
        if asked.session != self.settings.session {
            return status(ReplyStatus::WrongSession, &self.header(asked.sequence, 0));
        }
        let max = self.settings.retransmit_max;
        if asked.count == 0 || asked.count > max {
            return status(ReplyStatus::BadCount, &self.header(asked.sequence, max));
        }
        if asked.sequence >= self.next_seq {
            return status(ReplyStatus::NotYet, &self.header(self.next_seq, 0));
        }
        let last = asked
            .sequence
            .saturating_add(u64::from(asked.count) - 1)
            .min(self.next_seq - 1);
        let events = match self.window.range(asked.sequence, last) {
            Ok(events) => events,
            Err(Miss::Gone) => {
                self.counters.retransmit_too_old += 1;
                let oldest = self.window.first_seq();
                return status(ReplyStatus::TooOld, &self.header(oldest, 0));
            }
            Err(Miss::Ahead) => unreachable!("the range ends at the newest message"),
        };
        // The length and the count are filled in once the messages that fit are known.
        let mut reply = vec![0, 0, ReplyStatus::Messages as u8];
        self.header(asked.sequence, 0).write(&mut reply);
        let mut count: u16 = 0;
        for event in events {
            self.frame.clear();
            write_frame(&mut self.frame, CLIENT_PREFIX, CLIENT_FRAME_MAX, |b| {
                encode_server(&ServerMessage::from_book_event(event), b)
            });
            if reply.len() - 2 + self.frame.len() > REPLY_MAX {
                break;
            }
            reply.extend_from_slice(&self.frame);
            count += 1;
        }
        let len = u16::try_from(reply.len() - 2).expect("a reply fits its bound");
        reply[..2].copy_from_slice(&len.to_le_bytes());
        let count_at = 3 + HEADER_LEN - 2;
        reply[count_at..count_at + 2].copy_from_slice(&count.to_le_bytes());
        self.counters.retransmit_messages += u64::from(count);
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringex_core::market_data::BookChange;
    use ringex_core::Side;
    use ringex_protocol::mold::{decode_packet, split_reply};

    fn settings(mtu_bytes: usize, window_messages: usize) -> MulticastSettings {
        MulticastSettings {
            session: *b"TEST      ",
            mtu_bytes,
            window_messages,
            queue_packets: 2,
            retransmit_max: 100,
        }
    }

    fn event(feed_seq: u64) -> BookEvent {
        BookEvent {
            instrument: 1,
            feed_seq,
            engine_seq: feed_seq,
            timestamp_ns: 5,
            change: BookChange::OrderAdded {
                order_id: feed_seq,
                side: Side::Buy,
                price: 100,
                qty: 1,
            },
        }
    }

    fn request(sequence: u64, count: u16) -> [u8; REQUEST_LEN] {
        let mut buf = Vec::new();
        Header {
            session: *b"TEST      ",
            sequence,
            count,
        }
        .write(&mut buf);
        buf.try_into().unwrap()
    }

    #[test]
    fn packets_fill_to_the_mtu_and_number_every_message_once() {
        let mut p = MulticastPublisher::new(settings(MTU_MIN, 100)).unwrap();
        for seq in 1..=30 {
            p.push(&event(seq));
        }
        let packets = p.take_packets();
        // The queue holds two packets: the older ones were dropped and counted.
        assert_eq!(packets.len(), 2);
        assert!(p.counters.packets_dropped > 0);
        let mut next = None;
        for packet in &packets {
            assert!(packet.len() <= MTU_MIN);
            let (header, messages) = decode_packet(packet).unwrap();
            assert_eq!(messages.len(), usize::from(header.count));
            if let Some(n) = next {
                assert_eq!(header.sequence, n);
            }
            next = Some(header.sequence + u64::from(header.count));
        }
        assert_eq!(next, Some(31));
        let (end, _) = decode_packet(&p.end_of_session()).unwrap();
        assert_eq!((end.sequence, end.count), (31, END_OF_SESSION));
    }

    #[test]
    fn retransmission_answers_from_the_window_else_too_old_or_not_yet() {
        let mut p = MulticastPublisher::new(settings(1400, 4)).unwrap();
        for seq in 1..=6 {
            p.push(&event(seq));
        }
        let answer = |p: &mut MulticastPublisher, seq, count| {
            let reply = p.retransmit(&request(seq, count));
            let (status, packet, _) = split_reply(&reply).unwrap().unwrap();
            let header = Header::read(packet).unwrap();
            let messages = match status {
                ReplyStatus::Messages => decode_packet(packet).unwrap().1.len(),
                _ => 0,
            };
            (status, header.sequence, messages)
        };
        assert_eq!(answer(&mut p, 4, 10), (ReplyStatus::Messages, 4, 3));
        assert_eq!(answer(&mut p, 2, 1), (ReplyStatus::TooOld, 3, 0));
        assert_eq!(answer(&mut p, 7, 1), (ReplyStatus::NotYet, 7, 0));
        assert_eq!(answer(&mut p, 4, 0).0, ReplyStatus::BadCount);
        assert_eq!(answer(&mut p, 4, 101).0, ReplyStatus::BadCount);
        let mut other = request(4, 1);
        other[0] = b'X';
        let reply = p.retransmit(&other);
        assert_eq!(
            split_reply(&reply).unwrap().unwrap().0,
            ReplyStatus::WrongSession
        );
    }
}
