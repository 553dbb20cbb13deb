//! Segment files: the journal is a run of files in the data directory, each named for the
//! first sequence number it holds and opened by a small header.
//!
//! ```text
//! journal-00000000000000000001.seg
//! offset  size  field
//!      0     8  magic           "RINGEXJL"
//!      8     4  version         u32  SEGMENT_VERSION
//!     12     8  first_seq       u64  seq of the first record (also in the name)
//!     20     4  prev_checksum   u32  checksum of the record before first_seq (0 at seq 1)
//!     24     4  header_checksum u32  CRC-32C of bytes 0..24
//!     28     …  records
//! ```
//!
//! The header carries the chain's anchor, so a journal whose older segments were removed
//! still verifies from its first record.

use std::path::{Path, PathBuf};

use ringex_core::Seq;

pub const SEGMENT_MAGIC: [u8; 8] = *b"RINGEXJL";
pub const SEGMENT_VERSION: u32 = 1;
pub const SEGMENT_HEADER_BYTES: usize = 28;
const PREFIX: &str = "journal-";
const SUFFIX: &str = ".seg";
const SEQ_DIGITS: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    pub first_seq: Seq,
    pub prev_checksum: u32,
}

impl SegmentHeader {
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_BYTES] {
        assert!(self.first_seq >= 1);
        let mut out = [0u8; SEGMENT_HEADER_BYTES];
        out[0..8].copy_from_slice(&SEGMENT_MAGIC);
        out[8..12].copy_from_slice(&SEGMENT_VERSION.to_le_bytes());
        out[12..20].copy_from_slice(&self.first_seq.to_le_bytes());
        out[20..24].copy_from_slice(&self.prev_checksum.to_le_bytes());
        let checksum = crc32c::crc32c(&out[0..24]);
        out[24..28].copy_from_slice(&checksum.to_le_bytes());
        assert_eq!(SegmentHeader::decode(&out), Ok(*self));
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<SegmentHeader, &'static str> {
        if bytes.len() < SEGMENT_HEADER_BYTES {
            return Err("segment header incomplete");
        }
        let stored = u32::from_le_bytes(bytes[24..28].try_into().expect("4 bytes"));
        if crc32c::crc32c(&bytes[0..24]) != stored {
            return Err("segment header checksum mismatch");
        }
        if bytes[0..8] != SEGMENT_MAGIC {
            return Err("not a journal segment (bad magic)");
        }
        if u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) != SEGMENT_VERSION {
            return Err("unsupported journal segment version");
        }
        let first_seq = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        if first_seq == 0 {
            return Err("segment header first_seq is 0");
        }
        Ok(SegmentHeader {
            first_seq,
            prev_checksum: u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes")),
        })
    }
}

pub fn segment_name(first_seq: Seq) -> String {
    format!("{PREFIX}{first_seq:0SEQ_DIGITS$}{SUFFIX}")
}

pub fn segment_path(dir: &Path, first_seq: Seq) -> PathBuf {
    dir.join(segment_name(first_seq))
}

/// The first seq a segment file's name declares, or `None` for any other file.
pub fn parse_segment_name(name: &str) -> Option<Seq> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != SEQ_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&seq| seq >= 1)
}

/// The journal's segments in `names` (a directory listing), by first seq.
pub fn segments_in(names: &[String]) -> Vec<Seq> {
    let mut firsts: Vec<Seq> = names.iter().filter_map(|n| parse_segment_name(n)).collect();
    firsts.sort_unstable();
    firsts
}
