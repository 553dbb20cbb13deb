//! Losses an operator accepted (`--accept-journal-loss`), recorded durably beside the
//! journal before the journal is changed, so the tools show them and a later start
//! knows the journal is shorter than its durable mark on purpose.
//!
//! ```text
//! journal.losses: 64-byte entries, appended
//! offset  size  field
//!      0     8  magic           "RINGEXLS"
//!      8     4  version         u32  LOSS_VERSION
//!     12     4  kind            u32  1 acknowledged inputs cut, 2 history only
//!     16     8  first_seq       u64  first seq lost
//!     24     8  last_seq        u64  last seq lost that may have been acknowledged
//!     32     8  kept_last_seq   u64  where the journal ends after the cut
//!     40     8  recorded_unix_ms u64 when the operator accepted it
//!     48    12  reserved        zeros
//!     60     4  entry_checksum  u32  CRC-32C of bytes 0..60
//! ```
//!
//! An entry is written and fsync'd before anything is cut, so a crash between the two
//! leaves the entry and an uncut journal, which the next start cuts again. A torn last
//! entry (a crash while writing it) is ignored: nothing was cut after it.

use std::path::{Path, PathBuf};

use ringex_core::Seq;

use super::error::JournalError;
use crate::storage::{Storage, StorageFile};

pub const LOSS_FILE_NAME: &str = "journal.losses";
pub const LOSS_MAGIC: [u8; 8] = *b"RINGEXLS";
pub const LOSS_VERSION: u32 = 1;
pub const LOSS_ENTRY_BYTES: usize = 64;
/// More entries than any data directory should ever see; the reader's bound.
pub const LOSS_ENTRIES_MAX: u64 = 1 << 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    /// Inputs that may have been acknowledged were cut from the end of the journal:
    /// the engine came back at a lower sequence number.
    AcknowledgedCut,
    /// Old segments were set aside; a snapshot holds their effect, so the state lost
    /// nothing, only the journal's history.
    HistoryOnly,
}

impl LossKind {
    pub fn name(self) -> &'static str {
        match self {
            LossKind::AcknowledgedCut => "acknowledged-cut",
            LossKind::HistoryOnly => "history-only",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedLoss {
    pub kind: LossKind,
    pub first_seq: Seq,
    pub last_seq: Seq,
    pub kept_last_seq: Seq,
    pub recorded_unix_ms: u64,
}

impl RecordedLoss {
    pub fn encode(&self) -> [u8; LOSS_ENTRY_BYTES] {
        let mut out = [0u8; LOSS_ENTRY_BYTES];
        out[0..8].copy_from_slice(&LOSS_MAGIC);
        out[8..12].copy_from_slice(&LOSS_VERSION.to_le_bytes());
        let kind: u32 = match self.kind {
            LossKind::AcknowledgedCut => 1,
            LossKind::HistoryOnly => 2,
        };
        out[12..16].copy_from_slice(&kind.to_le_bytes());
        out[16..24].copy_from_slice(&self.first_seq.to_le_bytes());
        out[24..32].copy_from_slice(&self.last_seq.to_le_bytes());
        out[32..40].copy_from_slice(&self.kept_last_seq.to_le_bytes());
        out[40..48].copy_from_slice(&self.recorded_unix_ms.to_le_bytes());
        let checksum = crc32c::crc32c(&out[0..60]);
        out[60..64].copy_from_slice(&checksum.to_le_bytes());
        assert_eq!(RecordedLoss::decode(&out), Ok(*self));
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<RecordedLoss, &'static str> {
        if bytes.len() < LOSS_ENTRY_BYTES {
            return Err("loss entry incomplete");
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        if crc32c::crc32c(&bytes[0..60]) != u32_at(60) {
            return Err("loss entry checksum mismatch");
        }
        if bytes[0..8] != LOSS_MAGIC {
            return Err("not a loss entry (bad magic)");
        }
        if bytes[48..60].iter().any(|&b| b != 0) {
            return Err("reserved bytes are not zero");
        }
        if u32_at(8) != LOSS_VERSION {
            return Err("unsupported loss entry version");
        }
        let kind = match u32_at(12) {
            1 => LossKind::AcknowledgedCut,
            2 => LossKind::HistoryOnly,
            _ => return Err("unknown loss kind"),
        };
        Ok(RecordedLoss {
            kind,
            first_seq: u64_at(16),
            last_seq: u64_at(24),
            kept_last_seq: u64_at(32),
            recorded_unix_ms: u64_at(40),
        })
    }
}

pub fn loss_path(dir: &Path) -> PathBuf {
    dir.join(LOSS_FILE_NAME)
}

/// Every recorded loss in `dir`, oldest first.
pub fn read_losses<S: Storage>(storage: &S, dir: &Path) -> Result<Vec<RecordedLoss>, JournalError> {
    let path = loss_path(dir);
    let file = match storage.open_read_only(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(JournalError::io("open", &path, &e)),
    };
    let len = file
        .len_bytes()
        .map_err(|e| JournalError::io("stat", &path, &e))?;
    let entries = len / LOSS_ENTRY_BYTES as u64;
    if entries > LOSS_ENTRIES_MAX {
        return Err(JournalError::corrupt(&path, 0, 0, "too many loss entries"));
    }
    let mut losses = Vec::new();
    let mut bytes = [0u8; LOSS_ENTRY_BYTES];
    for i in 0..entries {
        let at = i * LOSS_ENTRY_BYTES as u64;
        file.read_exact_at(at, &mut bytes)
            .map_err(|e| JournalError::io("read", &path, &e))?;
        match RecordedLoss::decode(&bytes) {
            Ok(loss) => losses.push(loss),
            // The torn last entry of a crash: nothing was cut after it.
            Err(_) if i + 1 == entries => break,
            Err(what) => return Err(JournalError::corrupt(&path, at, 0, what)),
        }
    }
    Ok(losses)
}

/// Appends `loss` durably (file and name).
pub fn record_loss<S: Storage>(
    storage: &S,
    dir: &Path,
    loss: &RecordedLoss,
) -> Result<(), JournalError> {
    let path = loss_path(dir);
    let mut file = match storage.open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => storage
            .create(&path)
            .map_err(|e| JournalError::io("create", &path, &e))?,
        Err(e) => return Err(JournalError::io("open", &path, &e)),
    };
    // After the valid entries: a torn last entry is overwritten.
    let at = read_losses(storage, dir)?.len() as u64 * LOSS_ENTRY_BYTES as u64;
    file.write_all_at(at, &loss.encode())
        .map_err(|e| JournalError::io("write", &path, &e))?;
    file.sync()
        .map_err(|e| JournalError::io("fsync", &path, &e))?;
    storage
        .sync_dir(dir)
        .map_err(|e| JournalError::io("fsync directory", dir, &e))
}
