//! One Raft entry in the log file: a fixed header, then the payload.
//!
//! ```text
//! offset  size  field
//!      0     4  size_bytes      u32  whole record, header included
//!      4     4  checksum        u32  CRC-32C of bytes 0..4 and 8..size_bytes
//!      8     8  index           u64  Raft log index
//!     16     8  term            u64  term of the leader that created the entry
//!     24     8  leader_node_id  u64  that leader's node id
//!     32     4  prev_checksum   u32  checksum of the record before (the hash chain)
//!     36     1  kind            u8   0 blank, 1 inputs, 2 membership
//!     37     n  payload              inputs: the batch bytes; membership: JSON
//! ```
//!
//! All little-endian. As in the journal of inputs, the checksum covers every byte but
//! itself and chains to the record before, so a gap, a reordering or a record from
//! another history is found; the size is bounded before anything is read or allocated.

use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId, Membership};

use super::input_batch::InputBatch;
use super::type_config::{ClusterNode, RingexRaft};

pub const ENTRY_HEADER_BYTES: usize = 37;
/// The largest record: a batch of the most inputs one entry may hold, with room.
pub const ENTRY_RECORD_MAX_BYTES: usize = 16 << 20;

const KIND_BLANK: u8 = 0;
const KIND_INPUTS: u8 = 1;
const KIND_MEMBERSHIP: u8 = 2;

/// Why bytes are not a whole, valid entry record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryFault {
    /// The bytes end before the record does: a torn write if at the end of the log.
    Incomplete,
    BadSize,
    BadChecksum,
    /// The checksum matches but the payload does not decode (a writer bug, never a tear).
    BadPayload,
}

impl EntryFault {
    pub fn describe(self) -> &'static str {
        match self {
            EntryFault::Incomplete => "entry record incomplete",
            EntryFault::BadSize => "entry record size field invalid",
            EntryFault::BadChecksum => "entry record checksum mismatch",
            EntryFault::BadPayload => "entry record payload does not decode",
        }
    }
}

fn checksum_of(record: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&record[0..4]), &record[8..])
}

/// Appends one entry's record to `out`; returns its checksum.
pub fn encode_entry(entry: &Entry<RingexRaft>, prev_checksum: u32, out: &mut Vec<u8>) -> u32 {
    let start = out.len();
    out.extend_from_slice(&[0u8; ENTRY_HEADER_BYTES]);
    let kind = match &entry.payload {
        EntryPayload::Blank => KIND_BLANK,
        EntryPayload::Normal(batch) => {
            out.extend_from_slice(batch.as_bytes());
            KIND_INPUTS
        }
        EntryPayload::Membership(m) => {
            serde_json::to_writer(&mut *out, m).expect("a membership serialises");
            KIND_MEMBERSHIP
        }
    };
    let size = out.len() - start;
    assert!(
        size <= ENTRY_RECORD_MAX_BYTES,
        "an entry over the record bound"
    );
    let record = &mut out[start..];
    let log_id = entry.log_id;
    record[0..4].copy_from_slice(&(size as u32).to_le_bytes());
    record[8..16].copy_from_slice(&log_id.index.to_le_bytes());
    record[16..24].copy_from_slice(&log_id.leader_id.term.to_le_bytes());
    record[24..32].copy_from_slice(&log_id.leader_id.node_id.to_le_bytes());
    record[32..36].copy_from_slice(&prev_checksum.to_le_bytes());
    record[36] = kind;
    let checksum = checksum_of(record);
    record[4..8].copy_from_slice(&checksum.to_le_bytes());
    checksum
}

/// A record's header, checksum verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryHeader {
    pub log_id: LogId<u64>,
    pub checksum: u32,
    pub prev_checksum: u32,
    pub size_bytes: usize,
}

/// The size the record at the front of `bytes` claims, if possible at all.
pub fn claimed_size(bytes: &[u8]) -> Result<usize, EntryFault> {
    if bytes.len() < 4 {
        return Err(EntryFault::Incomplete);
    }
    let size = u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes")) as usize;
    if !(ENTRY_HEADER_BYTES..=ENTRY_RECORD_MAX_BYTES).contains(&size) {
        return Err(EntryFault::BadSize);
    }
    Ok(size)
}

/// Checks the record at the front of `bytes` (size, checksum) and reads its header.
pub fn check_entry(bytes: &[u8]) -> Result<EntryHeader, EntryFault> {
    let size = claimed_size(bytes)?;
    if bytes.len() < size {
        return Err(EntryFault::Incomplete);
    }
    let record = &bytes[..size];
    let u64_at = |at: usize| u64::from_le_bytes(record[at..at + 8].try_into().expect("8 bytes"));
    let u32_at = |at: usize| u32::from_le_bytes(record[at..at + 4].try_into().expect("4 bytes"));
    let checksum = u32_at(4);
    if checksum_of(record) != checksum {
        return Err(EntryFault::BadChecksum);
    }
    Ok(EntryHeader {
        log_id: LogId::new(CommittedLeaderId::new(u64_at(16), u64_at(24)), u64_at(8)),
        checksum,
        prev_checksum: u32_at(32),
        size_bytes: size,
    })
}

/// Decodes the record at the front of `bytes`.
pub fn decode_entry(bytes: &[u8]) -> Result<(Entry<RingexRaft>, EntryHeader), EntryFault> {
    let header = check_entry(bytes)?;
    let payload = &bytes[ENTRY_HEADER_BYTES..header.size_bytes];
    let payload = match bytes[36] {
        KIND_BLANK if payload.is_empty() => EntryPayload::Blank,
        KIND_INPUTS => EntryPayload::Normal(
            InputBatch::from_bytes(payload.to_vec()).map_err(|_| EntryFault::BadPayload)?,
        ),
        KIND_MEMBERSHIP => {
            let m: Membership<u64, ClusterNode> =
                serde_json::from_slice(payload).map_err(|_| EntryFault::BadPayload)?;
            EntryPayload::Membership(m)
        }
        _ => return Err(EntryFault::BadPayload),
    };
    let entry = Entry {
        log_id: header.log_id,
        payload,
    };
    Ok((entry, header))
}
