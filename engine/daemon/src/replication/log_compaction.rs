//! A rewrite of the entry log without its purged head, built in a new file.
//!
//! The bulk of the copy runs apart from the log (through a second handle on its file),
//! so appends and commits go on meanwhile; the entry log copies what was appended during
//! it, then puts the new file in the log's place. Only bytes the log will not rewrite
//! are copied apart: the log bumps its generation whenever it truncates, and a copy of
//! an older generation is thrown away.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::storage::StorageFile;

/// Bytes copied at a time.
const CHUNK_BYTES: usize = 4 << 20;
/// Bytes copied between two syncs of the new file. On a journaling file system an
/// append's fsync may have to write back the copy's dirty pages too: synced a chunk at a
/// time, the copy never leaves more than a chunk for an append to wait behind.
const SYNC_EVERY_BYTES: u64 = CHUNK_BYTES as u64;

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

    /// Copies the log's bytes from where the copy stands up to `end_bytes`, at most
    /// `bytes_per_s_max` a second if given (so the disk keeps room for the appends).
    pub fn copy_until(&mut self, end_bytes: u64, bytes_per_s_max: Option<u64>) -> io::Result<()> {
        assert!(end_bytes >= self.copied_end_bytes, "a log only grows");
        let paced_from = (Instant::now(), self.copied_end_bytes);
        while self.copied_end_bytes < end_bytes {
            if let Some(rate) = bytes_per_s_max {
                pace(paced_from, self.copied_end_bytes, rate);
            }
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

    /// The new file, once every byte is copied and synced, and the copy's handle on the
    /// log's file.
    pub fn into_files(self) -> (F, F) {
        assert_eq!(
            self.unsynced_bytes, 0,
            "the new file is synced before it is used"
        );
        (self.target, self.source)
    }
}

/// Handles on the log's file after a compaction renamed the new one over it. Closing
/// the last handle frees the old file's blocks, which for gigabytes takes seconds: that
/// must be neither while the log is held nor in an append still syncing the old file.
pub struct ReplacedFile<F: StorageFile> {
    handles: [F; 2],
    /// Shared with every append syncing through its own handle on the old file.
    users: Arc<()>,
}

/// How long closing the old file waits for appends still syncing it: far longer than
/// an fsync, and only a compaction's thread waits.
const USERS_WAIT_MAX: Duration = Duration::from_secs(10);

impl<F: StorageFile> ReplacedFile<F> {
    /// The log's own handle and the copy's on the old file, and the count of its
    /// other users.
    pub fn new(handles: [F; 2], users: Arc<()>) -> Self {
        ReplacedFile { handles, users }
    }

    /// Closes the old file once no append syncs it any more (or after
    /// [`USERS_WAIT_MAX`]): then the close, which frees its blocks, is this thread's.
    pub fn close(self) {
        let deadline = Instant::now() + USERS_WAIT_MAX;
        while Arc::strong_count(&self.users) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(self.handles);
    }
}

/// Sleeps until copying up to `at` since `from` is no faster than `bytes_per_s`.
fn pace(from: (Instant, u64), at: u64, bytes_per_s: u64) {
    assert!(bytes_per_s > 0, "a rate that lets the copy go on");
    let (started, from_bytes) = from;
    let due = Duration::from_secs_f64((at - from_bytes) as f64 / bytes_per_s as f64);
    if let Some(early) = due.checked_sub(started.elapsed()) {
        std::thread::sleep(early);
    }
}
