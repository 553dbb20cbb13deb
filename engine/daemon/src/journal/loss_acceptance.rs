//! Accepting a journal loss, when the operator said so (`--accept-journal-loss`) or a
//! loss was already recorded for exactly this spot (a start that crashed while cutting).
//!
//! The loss is recorded durably first ([`super::loss_record`]), then the journal is cut
//! to its last good record. Nothing is destroyed: segments, snapshots and segment tails
//! that are cut away move into `lost/` in the data directory for inspection.
//!
//! Two cases:
//! - the damage lies in segments a snapshot wholly covers (older history): those
//!   segments and every older one move away, the snapshot keeps the state, and no
//!   acknowledged input is lost (a history-only loss);
//! - otherwise the journal is cut at the damage: later segments and snapshots past the
//!   cut move away, the damaged segment keeps its good prefix, and the engine comes
//!   back at the last good seq (an acknowledged-cut loss).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ringex_core::Seq;

use super::durable_mark::{mark_path, read_mark, MARK_FILE_NAME};
use super::error::JournalError;
use super::loss_record::{record_loss, LossKind, RecordedLoss};
use super::segment::{parse_segment_name, segment_name, segments_in, SEGMENT_HEADER_BYTES};
use crate::snapshot_store::parse_snapshot_name;
use crate::storage::{Storage, StorageFile};

/// Folder in the data directory that cut-away files move to.
pub const LOST_DIR_NAME: &str = "lost";

/// The recorded loss that already accepts `finding`, if any.
pub fn covering_loss<'a>(
    losses: &'a [RecordedLoss],
    finding: &JournalError,
) -> Option<&'a RecordedLoss> {
    let JournalError::Corrupt { seq, path, .. } = finding else {
        return None;
    };
    if path.file_name().is_some_and(|n| n == MARK_FILE_NAME) {
        return None;
    }
    losses.iter().rev().find(|l| match l.kind {
        LossKind::AcknowledgedCut => l.first_seq == *seq,
        LossKind::HistoryOnly => l.first_seq <= *seq && *seq <= l.last_seq,
    })
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Records and carries out the loss `finding` describes; `snapshot_seq` is the state the
/// failed pass started from (0 for none).
pub fn accept_loss<S: Storage>(
    storage: &S,
    dir: &Path,
    finding: &JournalError,
    snapshot_seq: Seq,
    losses: &[RecordedLoss],
) -> Result<(), JournalError> {
    let JournalError::Corrupt {
        path,
        offset_bytes,
        seq,
        ..
    } = finding
    else {
        unreachable!("only damage is accepted");
    };
    let lost = dir.join(LOST_DIR_NAME);
    storage
        .create_dir_all(&lost)
        .map_err(|e| JournalError::io("create directory", &lost, &e))?;
    if path.file_name().is_some_and(|n| n == MARK_FILE_NAME) {
        // The mark itself is damaged or names another history: set it aside; the
        // writer starts a new one at the end the journal verifiably has.
        move_aside(storage, dir, &mark_path(dir), &lost)?;
        return sync_both(storage, dir, &lost);
    }
    let names = storage
        .list(dir)
        .map_err(|e| JournalError::io("list", dir, &e))?;
    let firsts = segments_in(&names);
    let damaged_first = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(parse_segment_name);
    let next_first = damaged_first.and_then(|d| firsts.iter().copied().find(|&f| f > d));
    let history_only = *seq <= snapshot_seq && next_first.is_some_and(|n| n <= snapshot_seq + 1);
    let already = covering_loss(losses, finding).copied();
    if history_only {
        let next = next_first.expect("checked above");
        let loss = already.unwrap_or(RecordedLoss {
            kind: LossKind::HistoryOnly,
            first_seq: firsts.first().copied().unwrap_or(1),
            last_seq: next - 1,
            kept_last_seq: snapshot_seq,
            recorded_unix_ms: unix_ms(),
        });
        if already.is_none() {
            record_loss(storage, dir, &loss)?;
        }
        for &first in firsts.iter().filter(|&&f| f < next) {
            move_aside(storage, dir, &dir.join(segment_name(first)), &lost)?;
        }
        return sync_both(storage, dir, &lost);
    }
    if already.is_none() {
        let durable_seq = read_mark(storage, dir)
            .ok()
            .flatten()
            .map_or(0, |m| m.durable_seq);
        record_loss(
            storage,
            dir,
            &RecordedLoss {
                kind: LossKind::AcknowledgedCut,
                first_seq: *seq,
                last_seq: durable_seq.max(*seq),
                kept_last_seq: seq - 1,
                recorded_unix_ms: unix_ms(),
            },
        )?;
    }
    if let Some(damaged) = damaged_first {
        for &first in firsts.iter().filter(|&&f| f > damaged) {
            move_aside(storage, dir, &dir.join(segment_name(first)), &lost)?;
        }
        if *offset_bytes <= SEGMENT_HEADER_BYTES as u64 {
            move_aside(storage, dir, path, &lost)?;
        } else {
            cut_tail(storage, path, *offset_bytes, &lost)?;
        }
    }
    for name in &names {
        if parse_snapshot_name(name).is_some_and(|s| s >= *seq) {
            move_aside(storage, dir, &dir.join(name), &lost)?;
        }
    }
    sync_both(storage, dir, &lost)
}

/// Moves `path` into `lost`, if it exists, under a name no earlier loss used.
fn move_aside<S: Storage>(
    storage: &S,
    dir: &Path,
    path: &Path,
    lost: &Path,
) -> Result<(), JournalError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("journal files have ASCII names");
    if !storage
        .list(dir)
        .map_err(|e| JournalError::io("list", dir, &e))?
        .iter()
        .any(|n| n == name)
    {
        return Ok(());
    }
    let to = free_name(storage, lost, name)?;
    storage
        .rename(path, &to)
        .map_err(|e| JournalError::io("move aside", path, &e))?;
    tracing::warn!(from = %path.display(), to = %to.display(), "journal loss: file set aside");
    Ok(())
}

/// `lost/<name>`, or `lost/<name>.N` for the first N not taken.
fn free_name<S: Storage>(storage: &S, lost: &Path, name: &str) -> Result<PathBuf, JournalError> {
    let taken = storage
        .list(lost)
        .map_err(|e| JournalError::io("list", lost, &e))?;
    // Bounded: each candidate is a different name and the directory holds finitely many.
    let candidate = (0..=taken.len())
        .map(|n| match n {
            0 => name.to_owned(),
            n => format!("{name}.{n}"),
        })
        .find(|c| !taken.contains(c))
        .expect("one of len + 1 names is free");
    Ok(lost.join(candidate))
}

/// Copies the bytes of `path` from `offset` into `lost`, then truncates it there.
fn cut_tail<S: Storage>(
    storage: &S,
    path: &Path,
    offset: u64,
    lost: &Path,
) -> Result<(), JournalError> {
    let mut file = storage
        .open(path)
        .map_err(|e| JournalError::io("open", path, &e))?;
    let len = file
        .len_bytes()
        .map_err(|e| JournalError::io("stat", path, &e))?;
    if len > offset {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("journal files have ASCII names");
        let to = free_name(storage, lost, &format!("{name}.from-{offset}"))?;
        let mut tail = storage
            .create(&to)
            .map_err(|e| JournalError::io("create", &to, &e))?;
        // Bounded memory: the tail is copied in chunks.
        let mut buf = vec![0u8; 1 << 20];
        let mut at = offset;
        while at < len {
            let n = (len - at).min(buf.len() as u64) as usize;
            file.read_exact_at(at, &mut buf[..n])
                .map_err(|e| JournalError::io("read", path, &e))?;
            tail.write_all_at(at - offset, &buf[..n])
                .map_err(|e| JournalError::io("write", &to, &e))?;
            at += n as u64;
        }
        tail.sync()
            .map_err(|e| JournalError::io("fsync", &to, &e))?;
    }
    file.truncate(offset)
        .map_err(|e| JournalError::io("truncate", path, &e))?;
    file.sync().map_err(|e| JournalError::io("fsync", path, &e))
}

fn sync_both<S: Storage>(storage: &S, dir: &Path, lost: &Path) -> Result<(), JournalError> {
    storage
        .sync_dir(lost)
        .map_err(|e| JournalError::io("fsync directory", lost, &e))?;
    storage
        .sync_dir(dir)
        .map_err(|e| JournalError::io("fsync directory", dir, &e))
}
