//! The Raft snapshot on disk: openraft's snapshot meta (last log id, membership) and
//! the engine snapshot at that point, in one file replaced atomically.
//!
//! ```text
//! offset  size  field
//!      0     8  magic           "RGXRSNP1"
//!      8     4  meta_len        u32
//!     12     4  checksum        u32  CRC-32C of everything after this field
//!     16     m  meta                 JSON of openraft's SnapshotMeta
//!   16+m     n  engine snapshot      ringex_core's snapshot encoding (its own checksum)
//! ```

use std::path::Path;

use openraft::SnapshotMeta;

use super::durable_replace::replace_durably;
use super::type_config::ClusterNode;
use crate::storage::{Storage, StorageFile};

pub const SNAPSHOT_FILE: &str = "snapshot";
const MAGIC: [u8; 8] = *b"RGXRSNP1";
const HEADER_BYTES: usize = 16;
/// A bound on the meta before anything is allocated for it.
const META_MAX_BYTES: usize = 1 << 20;
/// A bound on the whole file: the largest engine state the daemon is configured for
/// fits many times over.
pub const SNAPSHOT_MAX_BYTES: u64 = 16 << 30;

pub type Meta = SnapshotMeta<u64, ClusterNode>;

/// Writes the snapshot: temp file, sync, rename over the old one, sync the directory.
pub fn write_snapshot<S: Storage>(
    storage: &S,
    dir: &Path,
    meta: &Meta,
    engine_bytes: &[u8],
) -> std::io::Result<()> {
    let meta_bytes = serde_json::to_vec(meta).map_err(std::io::Error::other)?;
    let mut bytes = Vec::with_capacity(HEADER_BYTES + meta_bytes.len() + engine_bytes.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&(meta_bytes.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&[0u8; 4]);
    bytes.extend_from_slice(&meta_bytes);
    bytes.extend_from_slice(engine_bytes);
    let checksum = crc32c::crc32c(&bytes[HEADER_BYTES..]);
    bytes[12..16].copy_from_slice(&checksum.to_le_bytes());
    replace_durably(storage, dir, SNAPSHOT_FILE, &bytes)
}

/// Reads the snapshot, if there is one: its meta and the engine bytes. A damaged file
/// is an error: the node must be repaired from the others.
pub fn read_snapshot<S: Storage>(
    storage: &S,
    dir: &Path,
) -> std::io::Result<Option<(Meta, Vec<u8>)>> {
    let path = dir.join(SNAPSHOT_FILE);
    let file = match storage.open_read_only(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let damaged = |why: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} damaged: {why}", path.display()),
        )
    };
    let len = file.len_bytes()?;
    if len < HEADER_BYTES as u64 || len > SNAPSHOT_MAX_BYTES {
        return Err(damaged("impossible size"));
    }
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(0, &mut bytes)?;
    if bytes[0..8] != MAGIC {
        return Err(damaged("bad magic"));
    }
    let meta_len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    let checksum = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
    if meta_len > META_MAX_BYTES || HEADER_BYTES + meta_len > bytes.len() {
        return Err(damaged("meta length out of bounds"));
    }
    if crc32c::crc32c(&bytes[HEADER_BYTES..]) != checksum {
        return Err(damaged("checksum mismatch"));
    }
    let meta: Meta = serde_json::from_slice(&bytes[HEADER_BYTES..HEADER_BYTES + meta_len])
        .map_err(|e| damaged(&format!("meta: {e}")))?;
    let engine = bytes.split_off(HEADER_BYTES + meta_len);
    Ok(Some((meta, engine)))
}
