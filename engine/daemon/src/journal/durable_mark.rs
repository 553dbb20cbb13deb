//! The durable mark: a small file beside the segments recording how far the journal was
//! made durable, so recovery can tell a torn write (bytes past every fsync, which a
//! crash explains) from damage to records that were acknowledged (which it must not cut).
//!
//! ```text
//! journal.mark: two slots, at offsets 0 and 4096 (never in the same page or sector)
//! offset  size  field (per slot)
//!      0     8  magic             "RINGEXDM"
//!      8     4  version           u32  MARK_VERSION
//!     12     4  state             u32  1 running, 2 clean stop
//!     16     8  generation        u64  +1 per write; the valid slot with the highest wins
//!     24     8  durable_seq       u64  highest seq written and fsync'd (0: none)
//!     32     4  durable_checksum  u32  checksum of the record at durable_seq (0 at seq 0)
//!     36    24  reserved          zeros
//!     60     4  slot_checksum     u32  CRC-32C of bytes 0..60
//! ```
//!
//! Generation `g` is written to slot `g % 2`, so a write torn by a crash spoils at most
//! the slot being written and the other still holds the previous mark. The writer
//! `pwrite`s the mark right after each journal fsync: that is exact for a process crash
//! (the page cache survives it). Its own fsync is lazy, off the acknowledgement path
//! ([`MarkSyncer`]), so after a power loss the mark may be behind by what the last sync
//! interval added, never ahead: it only ever claims records that were fsync'd first.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringex_core::Seq;

use super::error::JournalError;
use crate::storage::{Storage, StorageFile};

pub const MARK_FILE_NAME: &str = "journal.mark";
pub const MARK_MAGIC: [u8; 8] = *b"RINGEXDM";
pub const MARK_VERSION: u32 = 1;
pub const MARK_SLOT_BYTES: usize = 64;
/// Slot `i` starts at `i * MARK_SLOT_STRIDE_BYTES`.
pub const MARK_SLOT_STRIDE_BYTES: u64 = 4096;
/// How often the lazy syncer makes the newest mark durable, at most.
pub const MARK_SYNC_INTERVAL: Duration = Duration::from_millis(50);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkState {
    /// The daemon is (or was, until a crash) running: records past the mark may be a
    /// torn write.
    Running,
    /// The daemon stopped cleanly: the mark is the exact end of the journal, synced.
    CleanStop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurableMark {
    pub state: MarkState,
    pub generation: u64,
    pub durable_seq: Seq,
    pub durable_checksum: u32,
}

impl DurableMark {
    pub fn encode(&self) -> [u8; MARK_SLOT_BYTES] {
        let mut out = [0u8; MARK_SLOT_BYTES];
        out[0..8].copy_from_slice(&MARK_MAGIC);
        out[8..12].copy_from_slice(&MARK_VERSION.to_le_bytes());
        let state: u32 = match self.state {
            MarkState::Running => 1,
            MarkState::CleanStop => 2,
        };
        out[12..16].copy_from_slice(&state.to_le_bytes());
        out[16..24].copy_from_slice(&self.generation.to_le_bytes());
        out[24..32].copy_from_slice(&self.durable_seq.to_le_bytes());
        out[32..36].copy_from_slice(&self.durable_checksum.to_le_bytes());
        let checksum = crc32c::crc32c(&out[0..60]);
        out[60..64].copy_from_slice(&checksum.to_le_bytes());
        assert_eq!(DurableMark::decode(&out), Ok(*self));
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<DurableMark, &'static str> {
        if bytes.len() < MARK_SLOT_BYTES {
            return Err("mark slot incomplete");
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        if crc32c::crc32c(&bytes[0..60]) != u32_at(60) {
            return Err("mark slot checksum mismatch");
        }
        if bytes[0..8] != MARK_MAGIC {
            return Err("not a durable mark (bad magic)");
        }
        if bytes[36..60].iter().any(|&b| b != 0) {
            return Err("reserved bytes are not zero");
        }
        if u32_at(8) != MARK_VERSION {
            return Err("unsupported durable mark version");
        }
        let state = match u32_at(12) {
            1 => MarkState::Running,
            2 => MarkState::CleanStop,
            _ => return Err("unknown durable mark state"),
        };
        Ok(DurableMark {
            state,
            generation: u64_at(16),
            durable_seq: u64_at(24),
            durable_checksum: u32_at(32),
        })
    }
}

pub fn mark_path(dir: &Path) -> PathBuf {
    dir.join(MARK_FILE_NAME)
}

/// The newest valid mark in `dir`; `None` when there is no mark file (a journal written
/// before marks existed, or none at all). A mark file with no valid slot is damage.
pub fn read_mark<S: Storage>(storage: &S, dir: &Path) -> Result<Option<DurableMark>, JournalError> {
    let path = mark_path(dir);
    let file = match storage.open_read_only(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(JournalError::io("open", &path, &e)),
    };
    newest_slot(&file, &path).map(Some)
}

fn newest_slot<F: StorageFile>(file: &F, path: &Path) -> Result<DurableMark, JournalError> {
    let len = file
        .len_bytes()
        .map_err(|e| JournalError::io("stat", path, &e))?;
    let mut best: Option<DurableMark> = None;
    for slot in 0..2u64 {
        let at = slot * MARK_SLOT_STRIDE_BYTES;
        if len < at + MARK_SLOT_BYTES as u64 {
            continue;
        }
        let mut bytes = [0u8; MARK_SLOT_BYTES];
        file.read_exact_at(at, &mut bytes)
            .map_err(|e| JournalError::io("read", path, &e))?;
        if let Ok(mark) = DurableMark::decode(&bytes) {
            if best.is_none_or(|b| mark.generation > b.generation) {
                best = Some(mark);
            }
        }
    }
    best.ok_or_else(|| JournalError::corrupt(path, 0, 0, "no valid durable mark slot"))
}

/// Creates the mark file holding `seq` in both slots: written under a temporary name,
/// synced, then renamed, so a mark file that exists always held a valid mark (a crash
/// while creating it leaves no mark file, never an empty one).
fn create_durably<S: Storage>(
    storage: &S,
    dir: &Path,
    path: &Path,
    seq: Seq,
    checksum: u32,
) -> Result<S::File, JournalError> {
    let temp = dir.join(format!("{MARK_FILE_NAME}.tmp"));
    match storage.remove(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(JournalError::io("remove", &temp, &e)),
    }
    let mut file = storage
        .create(&temp)
        .map_err(|e| JournalError::io("create", &temp, &e))?;
    for generation in 1..=2u64 {
        let mark = DurableMark {
            state: MarkState::Running,
            generation,
            durable_seq: seq,
            durable_checksum: checksum,
        };
        let at = (generation % 2) * MARK_SLOT_STRIDE_BYTES;
        file.write_all_at(at, &mark.encode())
            .map_err(|e| JournalError::io("write", &temp, &e))?;
    }
    file.sync()
        .map_err(|e| JournalError::io("fsync", &temp, &e))?;
    storage
        .rename(&temp, path)
        .map_err(|e| JournalError::io("rename", &temp, &e))?;
    storage
        .sync_dir(dir)
        .map_err(|e| JournalError::io("fsync directory", dir, &e))?;
    Ok(file)
}

/// The writer's side of the mark file.
pub struct MarkFile<S: Storage> {
    file: S::File,
    path: PathBuf,
    generation: u64,
    /// The generation last written; the syncer compares it with what it synced.
    written: Arc<AtomicU64>,
    /// The generation last made durable by [`Self::sync`].
    synced: u64,
    /// An fsync error the syncer met, which stops the writer.
    sync_failure: Arc<Mutex<Option<String>>>,
    storage: S,
}

impl<S: Storage> MarkFile<S> {
    /// Opens (or creates) the mark file in `dir` and writes `mark` (its generation is
    /// set here) durably: at startup the mark must not claim more than the journal now
    /// holds, e.g. after an accepted loss lowered it.
    pub fn open(
        storage: &S,
        dir: &Path,
        end_seq: Seq,
        end_checksum: u32,
    ) -> Result<Self, JournalError> {
        let path = mark_path(dir);
        let (file, generation) = match storage.open(&path) {
            Ok(file) => {
                // A damaged mark file is overwritten only after recovery accepted it.
                let generation = newest_slot(&file, &path).map_or(0, |m| m.generation);
                (file, generation)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                create_durably(storage, dir, &path, end_seq, end_checksum)?,
                2,
            ),
            Err(e) => return Err(JournalError::io("open", &path, &e)),
        };
        let mut marks = MarkFile {
            file,
            path,
            generation,
            written: Arc::new(AtomicU64::new(0)),
            synced: 0,
            sync_failure: Arc::new(Mutex::new(None)),
            storage: storage.clone(),
        };
        marks.write(MarkState::Running, end_seq, end_checksum)?;
        // Twice: both slots then agree, so one torn write later cannot fall back to a
        // mark from before this start.
        marks.write(MarkState::Running, end_seq, end_checksum)?;
        marks.sync()?;
        storage
            .sync_dir(dir)
            .map_err(|e| JournalError::io("fsync directory", dir, &e))?;
        Ok(marks)
    }

    /// Writes the next generation of the mark (no fsync).
    pub fn write(&mut self, state: MarkState, seq: Seq, checksum: u32) -> Result<(), JournalError> {
        if let Some(cause) = self.sync_failure.lock().expect("not poisoned").clone() {
            return Err(JournalError::Stopped { cause });
        }
        self.generation += 1;
        let mark = DurableMark {
            state,
            generation: self.generation,
            durable_seq: seq,
            durable_checksum: checksum,
        };
        let at = (self.generation % 2) * MARK_SLOT_STRIDE_BYTES;
        self.file
            .write_all_at(at, &mark.encode())
            .map_err(|e| JournalError::io("write", &self.path, &e))?;
        self.written.store(self.generation, Ordering::Release);
        Ok(())
    }

    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.file
            .sync()
            .map_err(|e| JournalError::io("fsync", &self.path, &e))?;
        self.synced = self.generation;
        Ok(())
    }

    /// A syncer for this file, to run on its own thread.
    pub fn syncer(&self) -> Result<MarkSyncer<S>, JournalError> {
        let file = self
            .storage
            .open(&self.path)
            .map_err(|e| JournalError::io("open", &self.path, &e))?;
        Ok(MarkSyncer {
            file,
            path: self.path.clone(),
            written: Arc::clone(&self.written),
            synced: self.synced,
            sync_failure: Arc::clone(&self.sync_failure),
        })
    }
}

/// Makes the newest mark durable every [`MARK_SYNC_INTERVAL`] when it changed, off the
/// journal's path. A failed fsync is handed to the writer, which stops (fail-stop).
pub struct MarkSyncer<S: Storage> {
    file: S::File,
    path: PathBuf,
    written: Arc<AtomicU64>,
    synced: u64,
    sync_failure: Arc<Mutex<Option<String>>>,
}

impl<S: Storage> MarkSyncer<S> {
    /// Syncs if a newer mark was written since the last sync; false after a failure.
    pub fn sync_if_newer(&mut self) -> bool {
        let written = self.written.load(Ordering::Acquire);
        if written == self.synced {
            return true;
        }
        match self.file.sync() {
            Ok(()) => {
                self.synced = written;
                true
            }
            Err(e) => {
                let error = JournalError::io("fsync", &self.path, &e);
                tracing::error!(error = %error, "durable mark sync failed");
                *self.sync_failure.lock().expect("not poisoned") = Some(error.to_string());
                false
            }
        }
    }

    /// Runs until `stop` is raised (then syncs once more) or a sync fails.
    pub fn run(mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Acquire) {
            std::thread::sleep(MARK_SYNC_INTERVAL);
            if !self.sync_if_newer() {
                return;
            }
        }
        self.sync_if_newer();
    }
}
