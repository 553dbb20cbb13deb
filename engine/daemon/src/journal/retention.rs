//! What happens to segments that a snapshot has made unnecessary for recovery.

use std::path::{Path, PathBuf};

use ringex_core::Seq;

use super::error::JournalError;
use super::segment::{segment_name, segments_in};
use crate::storage::Storage;

/// Name of the folder, inside the data directory, that archived segments move to.
pub const ARCHIVE_DIR_NAME: &str = "archive";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// Keep every segment (the default: the journal is the audit trail).
    Keep,
    /// Move released segments into `archive/` in the data directory, for an operator
    /// to ship elsewhere; recovery no longer reads them.
    Archive,
    /// Delete released segments.
    Remove,
}

/// Releases, under `policy`, every segment whose records all have `seq <= covered_seq`
/// (the oldest snapshot kept), never the last segment, which the writer may hold open.
/// Returns the segments released, oldest first.
pub fn release_segments<S: Storage>(
    storage: &S,
    dir: &Path,
    covered_seq: Seq,
    policy: Retention,
) -> Result<Vec<PathBuf>, JournalError> {
    if policy == Retention::Keep {
        return Ok(Vec::new());
    }
    let names = storage
        .list(dir)
        .map_err(|e| JournalError::io("list", dir, &e))?;
    let firsts = segments_in(&names);
    let archive = dir.join(ARCHIVE_DIR_NAME);
    if policy == Retention::Archive {
        storage
            .create_dir_all(&archive)
            .map_err(|e| JournalError::io("create directory", &archive, &e))?;
    }
    let mut released = Vec::new();
    // A segment ends where the next begins; its records are covered when the next
    // one starts at or before `covered_seq + 1`.
    for pair in firsts.windows(2) {
        if pair[1] > covered_seq.saturating_add(1) {
            break;
        }
        let path = dir.join(segment_name(pair[0]));
        let result = match policy {
            Retention::Archive => storage.rename(&path, &archive.join(segment_name(pair[0]))),
            _ => storage.remove(&path),
        };
        result.map_err(|e| JournalError::io("release segment", &path, &e))?;
        released.push(path);
    }
    if !released.is_empty() {
        storage
            .sync_dir(dir)
            .map_err(|e| JournalError::io("fsync directory", dir, &e))?;
        if policy == Retention::Archive {
            storage
                .sync_dir(&archive)
                .map_err(|e| JournalError::io("fsync directory", &archive, &e))?;
        }
    }
    Ok(released)
}
