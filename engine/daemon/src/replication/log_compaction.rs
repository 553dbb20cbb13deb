//! A rewrite of the entry log without its purged head, built in a new file.
//!
//! The bulk of the copy runs apart from the log (through a second handle on its file),
//! so appends and commits go on meanwhile; the entry log copies what was appended during
//! it, then puts the new file in the log's place. Only bytes the log will not rewrite
//! are copied apart: the log bumps its generation whenever it truncates, and a copy of
//! an older generation is thrown away.

use std::io;
use std::time::{Duration, Instant};

use crate::storage::StorageFile;

/// Bytes copied at a time.
const CHUNK_BYTES: usize = 4 << 20;
/// Bytes copied between two syncs of the new file: writing back a little at a time keeps
/// the appends' own fsyncs from waiting behind gigabytes of dirty pages.
const SYNC_EVERY_BYTES: u64 = 64 << 20;

/// A compaction under way: the log's bytes from `start_bytes` on, being copied.
pub struct Compaction<F: StorageFile> {
    source: F,
    target: F,
    chunk: Vec<u8>,
    start_bytes: u64,
    copied_end_bytes: u64,
    unsynced_bytes: u64,
    generation: u64,
    begun: Instant,
}

impl<F: StorageFile> Compaction<F> {
    /// `source` is a handle on the log file, `target` the new, empty file; the log is
    /// kept from `start_bytes` on, as of `generation`.
    pub fn new(source: F, target: F, start_bytes: u64, generation: u64) -> Self {
        Compaction {
            source,
            target,
            chunk: vec![0u8; CHUNK_BYTES],
            start_bytes,
            copied_end_bytes: start_bytes,
            unsynced_bytes: 0,
            generation,
            begun: Instant::now(),
        }
    }

    /// The first byte of the log kept: it is byte 0 of the new file.
    pub fn start_bytes(&self) -> u64 {
        self.start_bytes
    }

    /// The end of what has been copied, as an offset in the log.
    pub fn copied_end_bytes(&self) -> u64 {
        self.copied_end_bytes
    }

    /// The log's generation the copy belongs to.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How long since it began.
    pub fn elapsed(&self) -> Duration {
        self.begun.elapsed()
    }

    /// Copies the log's bytes from where the copy stands up to `end_bytes`.
    pub fn copy_until(&mut self, end_bytes: u64) -> io::Result<()> {
        assert!(end_bytes >= self.copied_end_bytes, "a log only grows");
        while self.copied_end_bytes < end_bytes {
            let n = CHUNK_BYTES.min((end_bytes - self.copied_end_bytes) as usize);
            let at = self.copied_end_bytes;
            self.source.read_exact_at(at, &mut self.chunk[..n])?;
            self.target
                .write_all_at(at - self.start_bytes, &self.chunk[..n])?;
            self.copied_end_bytes += n as u64;
            self.unsynced_bytes += n as u64;
            if self.unsynced_bytes >= SYNC_EVERY_BYTES {
                self.sync()?;
            }
        }
        Ok(())
    }

    /// Makes everything copied so far durable.
    pub fn sync(&mut self) -> io::Result<()> {
        self.target.sync()?;
        self.unsynced_bytes = 0;
        Ok(())
    }

    /// The new file, once every byte is copied and synced.
    pub fn into_target(self) -> F {
        assert_eq!(
            self.unsynced_bytes, 0,
            "the new file is synced before it is used"
        );
        self.target
    }
}
