//! The multicast transport of the L3 feed, in the style of MoldUDP64: packets of a
//! session name, the sequence number of their first message and a message count, then
//! that many length-prefixed messages (client-session frames of L3 feed messages). One
//! sequence space covers the session's whole packet stream. A retransmission server
//! answers fixed-size requests over TCP with the same packets, each behind a status.
//! The layouts are in `protocol/SPEC.md`, "Multicast transport".

use crate::error::DecodeError;
use crate::frame::{split_frame, LengthPrefix};
use crate::session::{CLIENT_FRAME_MAX, CLIENT_PREFIX};
use crate::wire::{Reader, Writer};

/// Bytes of a session name: printable ASCII, padded on the right with spaces.
pub const SESSION_LEN: usize = 10;
/// Bytes of a packet header: session, sequence (u64), count (u16).
pub const HEADER_LEN: usize = SESSION_LEN + 8 + 2;
/// The count of a packet that ends the session (its sequence: the next one unsent).
pub const END_OF_SESSION: u16 = 0xFFFF;
/// Bytes of a retransmission request: a packet header asking for `count` messages.
pub const REQUEST_LEN: usize = HEADER_LEN;
/// The largest reply body after its u16 length: a status byte and a packet.
pub const REPLY_MAX: usize = u16::MAX as usize;
/// The smallest packet bound that holds a header and the largest message.
pub const MTU_MIN: usize = HEADER_LEN + 2 + CLIENT_FRAME_MAX;
/// The largest UDP payload over IPv4.
pub const MTU_MAX: usize = 65_507;

/// A packet's header; a retransmission request has the same layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub session: [u8; SESSION_LEN],
    /// The first message's sequence number (a heartbeat or end: the next one to come).
    pub sequence: u64,
    /// Messages in the packet: 0 a heartbeat, [`END_OF_SESSION`] the end.
    pub count: u16,
}

impl Header {
    pub fn write(&self, buf: &mut Vec<u8>) {
        Writer::new(buf)
            .bytes(&self.session)
            .u64(self.sequence)
            .u16(self.count);
    }

    pub fn read(bytes: &[u8]) -> Result<Header, DecodeError> {
        let mut r = Reader::new(bytes);
        Ok(Header {
            session: r.bytes::<SESSION_LEN>()?,
            sequence: r.u64()?,
            count: r.u16()?,
        })
    }

    /// The count field of a packet that carries messages (not a heartbeat or end).
    pub fn messages(&self) -> usize {
        if self.count == END_OF_SESSION {
            0
        } else {
            usize::from(self.count)
        }
    }
}

/// A session name from text: 1 to 10 printable ASCII characters, space-padded.
pub fn session_name(text: &str) -> Option<[u8; SESSION_LEN]> {
    let bytes = text.as_bytes();
    let printable = bytes.iter().all(|b| (0x21..=0x7E).contains(b));
    if bytes.is_empty() || bytes.len() > SESSION_LEN || !printable {
        return None;
    }
    let mut name = [b' '; SESSION_LEN];
    name[..bytes.len()].copy_from_slice(bytes);
    Some(name)
}

/// Splits a packet into its header and its messages' frame bodies (type byte onwards).
/// Refuses a count that the messages do not match exactly, a message of length 0 or
/// over the client frame bound, and bytes after the last message.
pub fn decode_packet(packet: &[u8]) -> Result<(Header, Vec<&[u8]>), DecodeError> {
    let header = Header::read(packet)?;
    let mut rest = &packet[HEADER_LEN..];
    // Each message takes at least 3 bytes, so the count bounds the list before it grows.
    if header.messages() > rest.len() / 3 {
        return Err(DecodeError::Truncated);
    }
    let mut messages = Vec::with_capacity(header.messages());
    for _ in 0..header.messages() {
        match split_frame(rest, CLIENT_PREFIX, CLIENT_FRAME_MAX)? {
            Some((body, used)) => {
                messages.push(body);
                rest = &rest[used..];
            }
            None => return Err(DecodeError::Truncated),
        }
    }
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes);
    }
    Ok((header, messages))
}

/// What a retransmission reply says about the request it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ReplyStatus {
    /// The packet holds messages from the requested sequence on (maybe fewer than asked).
    Messages = 0,
    /// The sequence fell out of the server's window; the packet's sequence is the oldest
    /// it still holds. Take a snapshot through the TCP feed.
    TooOld = 1,
    /// The sequence has not been published yet; the packet's sequence is the next one.
    NotYet = 2,
    /// Another session's name; the packet carries the server's own.
    WrongSession = 3,
    /// A count of 0 or above the server's bound, which the packet's count states.
    BadCount = 4,
}

impl TryFrom<u8> for ReplyStatus {
    type Error = DecodeError;

    fn try_from(v: u8) -> Result<ReplyStatus, DecodeError> {
        Ok(match v {
            0 => ReplyStatus::Messages,
            1 => ReplyStatus::TooOld,
            2 => ReplyStatus::NotYet,
            3 => ReplyStatus::WrongSession,
            4 => ReplyStatus::BadCount,
            _ => return Err(DecodeError::BadEnum),
        })
    }
}

/// Appends a reply: its u16 length, the status and a header with no messages.
pub fn write_status_reply(buf: &mut Vec<u8>, status: ReplyStatus, header: &Header) {
    debug_assert!(status != ReplyStatus::Messages || header.count == 0);
    let len = 1 + HEADER_LEN as u16;
    Writer::new(buf).u16(len).u8(status as u8);
    header.write(buf);
}

/// A reply's status, its packet, and the bytes it took from the stream.
pub type SplitReply<'a> = (ReplyStatus, &'a [u8], usize);

/// Splits the first whole reply off `buf`, or `None` while more bytes are needed.
pub fn split_reply(buf: &[u8]) -> Result<Option<SplitReply<'_>>, DecodeError> {
    let Some((body, used)) = split_frame(buf, LengthPrefix::U16, REPLY_MAX)? else {
        return Ok(None);
    };
    let status = ReplyStatus::try_from(body[0])?;
    Ok(Some((status, &body[1..], used)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: [u8; SESSION_LEN] = *b"TEST      ";

    #[test]
    fn a_packet_splits_into_its_messages() {
        let mut packet = Vec::new();
        Header {
            session: NAME,
            sequence: 7,
            count: 2,
        }
        .write(&mut packet);
        packet.extend_from_slice(&[1, 0, b'H', 2, 0, b'x', 9]);
        let (header, messages) = decode_packet(&packet).unwrap();
        assert_eq!((header.sequence, header.count), (7, 2));
        assert_eq!(messages, vec![&b"H"[..], &b"x\x09"[..]]);
        packet.push(0);
        assert_eq!(decode_packet(&packet), Err(DecodeError::TrailingBytes));
        assert_eq!(
            decode_packet(&packet[..HEADER_LEN + 4]),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn heartbeats_and_the_end_carry_no_messages() {
        for count in [0, END_OF_SESSION] {
            let mut packet = Vec::new();
            let header = Header {
                session: NAME,
                sequence: 3,
                count,
            };
            header.write(&mut packet);
            assert_eq!(decode_packet(&packet), Ok((header, vec![])));
        }
    }

    #[test]
    fn session_names_are_printable_and_padded() {
        assert_eq!(session_name("TEST"), Some(NAME));
        assert_eq!(session_name(""), None);
        assert_eq!(session_name("ELEVEN-CHAR"), None);
        assert_eq!(session_name("A B"), None);
    }

    #[test]
    fn a_status_reply_splits_back() {
        let mut buf = Vec::new();
        let header = Header {
            session: NAME,
            sequence: 42,
            count: 0,
        };
        write_status_reply(&mut buf, ReplyStatus::TooOld, &header);
        let (status, packet, used) = split_reply(&buf).unwrap().unwrap();
        assert_eq!((status, used), (ReplyStatus::TooOld, buf.len()));
        assert_eq!(Header::read(packet), Ok(header));
        assert_eq!(split_reply(&buf[..5]), Ok(None));
    }
}
