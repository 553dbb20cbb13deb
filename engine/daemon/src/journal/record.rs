//! One journal record: a fixed header, then one engine input in its wire encoding.
//!
//! ```text
//! offset  size  field
//!      0     4  size_bytes      u32  whole record, header included
//!      4     4  checksum        u32  CRC-32C of bytes 0..4 and 8..size_bytes
//!      8     8  seq             u64  sequence number the sequencer stamped
//!     16     8  timestamp_ns    u64  the sequencer's clock
//!     24     4  prev_checksum   u32  checksum of the record before (the hash chain)
//!     28     n  input               `ringex_protocol::command_codec` encoding
//! ```
//!
//! All little-endian. The checksum covers every byte but itself, the previous record's
//! checksum included, so a gap, a reordering or a record from another history breaks
//! the chain. Inputs have fixed sizes, so `size_bytes` is checked against the size the
//! input's type byte implies: a corrupted length is caught, not followed.

use ringex_core::{Seq, TimestampNs};
use ringex_protocol::command_codec::{decode_input, encode_input, encoded_len};
use ringex_protocol::Input;

pub const RECORD_HEADER_BYTES: usize = 28;
/// The largest input encoding is 37 bytes; leave room for growth of the protocol.
pub const INPUT_MAX_BYTES: usize = 64;
pub const RECORD_MAX_BYTES: usize = RECORD_HEADER_BYTES + INPUT_MAX_BYTES;

/// A record as read back, its checksum verified and its input decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub seq: Seq,
    pub timestamp_ns: TimestampNs,
    pub checksum: u32,
    pub prev_checksum: u32,
    pub input: Input,
}

/// Why bytes at an offset are not a whole, valid record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFault {
    /// The bytes end before the record does: a torn write if at the end of the journal.
    Incomplete,
    /// The size field is impossible for any input, or disagrees with the input's type.
    BadSize,
    BadChecksum,
    /// The checksum matches but the input does not decode (a writer bug, never a tear).
    BadInput,
}

impl RecordFault {
    pub fn describe(self) -> &'static str {
        match self {
            RecordFault::Incomplete => "record incomplete",
            RecordFault::BadSize => "record size field invalid",
            RecordFault::BadChecksum => "record checksum mismatch",
            RecordFault::BadInput => "record input does not decode",
        }
    }
}

fn checksum_of(bytes: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&bytes[0..4]), &bytes[8..])
}

/// Appends one record to `out`; returns its checksum.
pub fn encode_record(
    seq: Seq,
    timestamp_ns: TimestampNs,
    prev_checksum: u32,
    input: &Input,
    out: &mut Vec<u8>,
) -> u32 {
    let start = out.len();
    out.extend_from_slice(&[0u8; RECORD_HEADER_BYTES]);
    encode_input(input, out);
    let size = out.len() - start;
    assert!(size > RECORD_HEADER_BYTES && size <= RECORD_MAX_BYTES);
    let record = &mut out[start..];
    record[0..4].copy_from_slice(&(size as u32).to_le_bytes());
    record[8..16].copy_from_slice(&seq.to_le_bytes());
    record[16..24].copy_from_slice(&timestamp_ns.to_le_bytes());
    record[24..28].copy_from_slice(&prev_checksum.to_le_bytes());
    let checksum = checksum_of(record);
    record[4..8].copy_from_slice(&checksum.to_le_bytes());
    // Read back what was written: the same checks a reader will make.
    let (back, len) = decode_record(record).expect("a record just encoded decodes");
    assert_eq!(len, size);
    assert_eq!((back.seq, back.checksum), (seq, checksum));
    checksum
}

/// The size the record at the front of `bytes` claims, if its size field is possible.
fn claimed_size(bytes: &[u8]) -> Result<usize, RecordFault> {
    if bytes.len() < RECORD_HEADER_BYTES + 1 {
        return Err(RecordFault::Incomplete);
    }
    let size = u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes")) as usize;
    let implied = encoded_len(bytes[RECORD_HEADER_BYTES]).map(|n| RECORD_HEADER_BYTES + n);
    if implied != Some(size) {
        return Err(RecordFault::BadSize);
    }
    Ok(size)
}

/// A record's header, its checksum verified, its input not decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    pub seq: Seq,
    pub timestamp_ns: TimestampNs,
    pub checksum: u32,
    pub prev_checksum: u32,
}

/// Checks the record at the front of `bytes` (size, checksum) without decoding its
/// input: what verifying records that are not replayed needs, at checksum speed.
/// Returns its header and its size in bytes.
pub fn check_record(bytes: &[u8]) -> Result<(RecordHeader, usize), RecordFault> {
    let size = claimed_size(bytes)?;
    if bytes.len() < size {
        return Err(RecordFault::Incomplete);
    }
    let record = &bytes[..size];
    let field = |at: usize| u64::from_le_bytes(record[at..at + 8].try_into().expect("8 bytes"));
    let stored = u32::from_le_bytes(record[4..8].try_into().expect("4 bytes"));
    if checksum_of(record) != stored {
        return Err(RecordFault::BadChecksum);
    }
    let header = RecordHeader {
        seq: field(8),
        timestamp_ns: field(16),
        checksum: stored,
        prev_checksum: u32::from_le_bytes(record[24..28].try_into().expect("4 bytes")),
    };
    Ok((header, size))
}

/// Decodes the record at the front of `bytes`; returns it and its size in bytes.
pub fn decode_record(bytes: &[u8]) -> Result<(Record, usize), RecordFault> {
    let (header, size) = check_record(bytes)?;
    let input =
        decode_input(&bytes[RECORD_HEADER_BYTES..size]).map_err(|_| RecordFault::BadInput)?;
    let record = Record {
        seq: header.seq,
        timestamp_ns: header.timestamp_ns,
        checksum: header.checksum,
        prev_checksum: header.prev_checksum,
        input,
    };
    Ok((record, size))
}
