//! Frames between Raft peers on the `raft` listener:
//!
//! ```text
//! offset  size  field
//!      0     4  body_len   u32  bytes after this 8-byte header, 1..=PEER_FRAME_MAX_BYTES
//!      4     4  checksum   u32  CRC-32C of the body
//!      8     1  kind       u8   what the body holds (see [`FrameKind`])
//!      9     n  payload         bincode of openraft's request or response type
//! ```
//!
//! Little-endian. The length is checked against the bound before anything is
//! allocated and the checksum before anything is decoded, and decoding itself is
//! limited to the frame's size, so no peer (or damaged byte) can make a node allocate
//! without bound or act on a corrupted message.

use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The largest body: an append of big entries or a snapshot chunk fits with room.
pub const PEER_FRAME_MAX_BYTES: usize = 64 << 20;
const HEADER_BYTES: usize = 8;

/// What a frame carries. Requests and their answers share the kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    AppendEntries = 1,
    Vote = 2,
    InstallSnapshot = 3,
    /// The cluster tool: status, init, add, remove.
    Admin = 4,
}

impl FrameKind {
    fn from_byte(b: u8) -> Option<FrameKind> {
        Some(match b {
            1 => FrameKind::AppendEntries,
            2 => FrameKind::Vote,
            3 => FrameKind::InstallSnapshot,
            4 => FrameKind::Admin,
            _ => return None,
        })
    }
}

/// Why bytes from a peer are not a valid frame.
#[derive(Debug)]
pub enum PeerFrameError {
    Io(std::io::Error),
    BadLength(u64),
    BadChecksum,
    UnknownKind(u8),
    BadPayload(String),
}

impl std::fmt::Display for PeerFrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerFrameError::Io(e) => write!(f, "peer i/o: {e}"),
            PeerFrameError::BadLength(n) => write!(f, "peer frame length {n} out of range"),
            PeerFrameError::BadChecksum => f.write_str("peer frame checksum mismatch"),
            PeerFrameError::UnknownKind(k) => write!(f, "peer frame kind {k} unknown"),
            PeerFrameError::BadPayload(e) => write!(f, "peer frame payload: {e}"),
        }
    }
}

impl std::error::Error for PeerFrameError {}

fn codec() -> impl Options {
    bincode::DefaultOptions::new().with_limit(PEER_FRAME_MAX_BYTES as u64)
}

/// One whole frame, header included.
pub fn encode_frame<T: Serialize>(kind: FrameKind, message: &T) -> Result<Vec<u8>, PeerFrameError> {
    let mut out = vec![0u8; HEADER_BYTES];
    out.push(kind as u8);
    codec()
        .serialize_into(&mut out, message)
        .map_err(|e| PeerFrameError::BadPayload(e.to_string()))?;
    let body_len = out.len() - HEADER_BYTES;
    if body_len > PEER_FRAME_MAX_BYTES {
        return Err(PeerFrameError::BadLength(body_len as u64));
    }
    let checksum = crc32c::crc32c(&out[HEADER_BYTES..]);
    out[0..4].copy_from_slice(&(body_len as u32).to_le_bytes());
    out[4..8].copy_from_slice(&checksum.to_le_bytes());
    Ok(out)
}

/// The body length and checksum a header claims, the length checked against the bound.
pub fn parse_header(header: &[u8; HEADER_BYTES]) -> Result<(usize, u32), PeerFrameError> {
    let body_len = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes")) as usize;
    if body_len == 0 || body_len > PEER_FRAME_MAX_BYTES {
        return Err(PeerFrameError::BadLength(body_len as u64));
    }
    Ok((
        body_len,
        u32::from_le_bytes(header[4..8].try_into().expect("4 bytes")),
    ))
}

/// Checks a body against its checksum and splits off its kind.
pub fn check_body(body: &[u8], checksum: u32) -> Result<(FrameKind, &[u8]), PeerFrameError> {
    if crc32c::crc32c(body) != checksum {
        return Err(PeerFrameError::BadChecksum);
    }
    let (&kind, payload) = body.split_first().ok_or(PeerFrameError::BadLength(0))?;
    let kind = FrameKind::from_byte(kind).ok_or(PeerFrameError::UnknownKind(kind))?;
    Ok((kind, payload))
}

/// Decodes a checked payload; never allocates past the frame bound.
pub fn decode_payload<T: DeserializeOwned>(payload: &[u8]) -> Result<T, PeerFrameError> {
    codec()
        .deserialize(payload)
        .map_err(|e| PeerFrameError::BadPayload(e.to_string()))
}

/// Reads one frame: its kind and payload.
pub async fn read_frame<R: AsyncReadExt + Unpin>(
    reader: &mut R,
) -> Result<(FrameKind, Vec<u8>), PeerFrameError> {
    let mut header = [0u8; HEADER_BYTES];
    reader
        .read_exact(&mut header)
        .await
        .map_err(PeerFrameError::Io)?;
    let (body_len, checksum) = parse_header(&header)?;
    let mut body = vec![0u8; body_len];
    reader
        .read_exact(&mut body)
        .await
        .map_err(PeerFrameError::Io)?;
    let (kind, _) = check_body(&body, checksum)?;
    body.remove(0);
    Ok((kind, body))
}

pub async fn write_frame<W: AsyncWriteExt + Unpin>(
    writer: &mut W,
    frame: &[u8],
) -> Result<(), PeerFrameError> {
    writer.write_all(frame).await.map_err(PeerFrameError::Io)?;
    writer.flush().await.map_err(PeerFrameError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_and_every_damage_is_caught() {
        let message = (7u64, "vote".to_string(), vec![1u8, 2, 3]);
        let frame = encode_frame(FrameKind::Vote, &message).expect("encodes");
        let header: [u8; HEADER_BYTES] = frame[..HEADER_BYTES].try_into().expect("header");
        let (len, checksum) = parse_header(&header).expect("valid header");
        let (kind, payload) = check_body(&frame[HEADER_BYTES..], checksum).expect("valid body");
        assert_eq!((kind, len), (FrameKind::Vote, frame.len() - HEADER_BYTES));
        let back: (u64, String, Vec<u8>) = decode_payload(payload).expect("decodes");
        assert_eq!(back, message);
        for bit in 0..(frame.len() - HEADER_BYTES) * 8 {
            let mut body = frame[HEADER_BYTES..].to_vec();
            body[bit / 8] ^= 1 << (bit % 8);
            assert!(check_body(&body, checksum).is_err(), "bit {bit}");
        }
        let mut huge = header;
        huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            parse_header(&huge),
            Err(PeerFrameError::BadLength(_))
        ));
    }
}
