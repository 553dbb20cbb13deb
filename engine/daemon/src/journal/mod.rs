//! The journal: every sequenced input, framed, checksummed and chained, in segment files.
//!
//! - [`record`]: the byte layout of one record;
//! - [`segment`]: segment file names and headers;
//! - [`writer`]: appends batches with one fsync per batch (group commit), fail-stop;
//! - [`reader`]: scans and verifies, truncating a torn last record and refusing any
//!   other damage;
//! - [`durable_mark`]: how far the journal was made durable, and whether it stopped
//!   cleanly, so a torn write is told from damage to acknowledged records;
//! - [`loss_record`]: losses an operator accepted, recorded before the journal is cut;
//! - [`retention`]: removes or archives segments that snapshots made unnecessary.

pub mod durable_mark;
pub mod error;
pub mod loss_acceptance;
pub mod loss_record;
pub mod reader;
pub mod record;
pub mod retention;
pub mod segment;
pub mod writer;

pub use error::JournalError;
pub use reader::{
    oldest_segment_first_seq, scan_journal, scan_whole_journal, JournalEnd, ScanMode, ScanSummary,
    TornTail,
};
pub use record::Record;
pub use writer::JournalWriter;

/// When a batch counts as durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// One fsync per batch (group commit) before its sequence numbers are reported
    /// durable. The default.
    Fsync,
    /// No fsync at all: a crash may lose acknowledged inputs. For benchmarks only.
    UnsafeNoFsync,
}

/// Settings of the journal writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalConfig {
    /// A segment is closed and a new one started before a record would take it past
    /// this size (a segment always holds at least one record).
    pub segment_size_max_bytes: u64,
    pub durability: Durability,
    /// Records per batch, the bound on one write and one fsync.
    pub batch_records_max: usize,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            segment_size_max_bytes: 64 << 20,
            durability: Durability::Fsync,
            batch_records_max: 4096,
        }
    }
}

impl JournalConfig {
    pub fn validate(&self) -> Result<(), &'static str> {
        let smallest = (segment::SEGMENT_HEADER_BYTES + record::RECORD_MAX_BYTES) as u64;
        if self.segment_size_max_bytes < smallest || self.segment_size_max_bytes > 1 << 40 {
            return Err("segment_size_max_bytes must be in 92..=2^40");
        }
        if self.batch_records_max == 0 || self.batch_records_max > 1 << 20 {
            return Err("batch_records_max must be in 1..=1048576");
        }
        Ok(())
    }
}
