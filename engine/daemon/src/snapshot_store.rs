//! The snapshot store: engine snapshots in the data directory, each written atomically
//! (temporary file, fsync, rename, directory fsync) and named for the sequence number
//! it covers. The newest few are kept, so a damaged newest falls back to the one before
//! it with more journal to replay; once the oldest kept snapshot covers a segment, the
//! retention policy may release that segment.
//!
//! ```text
//! snapshot-00000000000000001000.snap
//! offset  size  field
//!      0     8  magic            "RINGEXSS"
//!      8     4  version          u32  SNAPSHOT_FILE_VERSION
//!     12     8  seq              u64  last input applied to the state
//!     20     4  chain_checksum   u32  checksum of the journal record at seq (0 at seq 0)
//!     24     8  body_len         u64
//!     32     4  header_checksum  u32  CRC-32C of bytes 0..32
//!     36     …  the engine snapshot (versioned and checksummed by the core)
//! ```

use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use ringex_core::Seq;

use crate::journal::retention::{release_segments, Retention};
use crate::journal::{scan_journal, JournalError, ScanMode};
use crate::storage::{Storage, StorageFile};

pub const SNAPSHOT_FILE_MAGIC: [u8; 8] = *b"RINGEXSS";
pub const SNAPSHOT_FILE_VERSION: u32 = 1;
const HEADER_BYTES: usize = 36;
const PREFIX: &str = "snapshot-";
const SUFFIX: &str = ".snap";
const TEMP_SUFFIX: &str = ".snap.tmp";
const SEQ_DIGITS: usize = 20;

/// How many snapshots to keep and what to do with journal segments they cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// Snapshots kept, newest first; at least 2 so a damaged newest has a fallback.
    pub keep: usize,
    pub retention: Retention,
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        SnapshotPolicy {
            keep: 2,
            retention: Retention::Keep,
        }
    }
}

/// A snapshot file read back, its header verified; the engine bytes are checked when
/// they are decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub seq: Seq,
    pub chain_checksum: u32,
    pub engine_bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotStoreError {
    /// The file system refused, or the journal could not be read.
    Journal(JournalError),
    /// A snapshot file is not what it should be.
    Damaged { path: PathBuf, what: String },
}

impl fmt::Display for SnapshotStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotStoreError::Journal(e) => write!(f, "{e}"),
            SnapshotStoreError::Damaged { path, what } => {
                write!(f, "snapshot {} damaged: {what}", path.display())
            }
        }
    }
}

impl std::error::Error for SnapshotStoreError {}

impl From<JournalError> for SnapshotStoreError {
    fn from(e: JournalError) -> Self {
        SnapshotStoreError::Journal(e)
    }
}

fn io_error(op: &'static str, path: &Path, e: &std::io::Error) -> SnapshotStoreError {
    SnapshotStoreError::Journal(JournalError::io(op, path, e))
}

pub fn snapshot_name(seq: Seq) -> String {
    format!("{PREFIX}{seq:0SEQ_DIGITS$}{SUFFIX}")
}

/// The seq a snapshot file's name declares, or `None` for any other file.
pub fn parse_snapshot_name(name: &str) -> Option<Seq> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != SEQ_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn temp_name(seq: Seq) -> String {
    format!("{PREFIX}{seq:0SEQ_DIGITS$}{TEMP_SUFFIX}")
}

fn is_temp_name(name: &str) -> bool {
    name.starts_with(PREFIX) && name.ends_with(TEMP_SUFFIX)
}

fn encode_header(seq: Seq, chain_checksum: u32, body_len: u64) -> [u8; HEADER_BYTES] {
    let mut h = [0u8; HEADER_BYTES];
    h[0..8].copy_from_slice(&SNAPSHOT_FILE_MAGIC);
    h[8..12].copy_from_slice(&SNAPSHOT_FILE_VERSION.to_le_bytes());
    h[12..20].copy_from_slice(&seq.to_le_bytes());
    h[20..24].copy_from_slice(&chain_checksum.to_le_bytes());
    h[24..32].copy_from_slice(&body_len.to_le_bytes());
    let checksum = crc32c::crc32c(&h[0..32]);
    h[32..36].copy_from_slice(&checksum.to_le_bytes());
    assert_eq!(decode_header(&h), Ok((seq, chain_checksum, body_len)));
    h
}

/// `(seq, chain_checksum, body_len)` from a header.
fn decode_header(h: &[u8]) -> Result<(Seq, u32, u64), &'static str> {
    if h.len() < HEADER_BYTES {
        return Err("shorter than its header");
    }
    let stored = u32::from_le_bytes(h[32..36].try_into().expect("4 bytes"));
    if crc32c::crc32c(&h[0..32]) != stored {
        return Err("header checksum mismatch");
    }
    if h[0..8] != SNAPSHOT_FILE_MAGIC {
        return Err("not a snapshot file (bad magic)");
    }
    if u32::from_le_bytes(h[8..12].try_into().expect("4 bytes")) != SNAPSHOT_FILE_VERSION {
        return Err("unsupported snapshot file version");
    }
    Ok((
        u64::from_le_bytes(h[12..20].try_into().expect("8 bytes")),
        u32::from_le_bytes(h[20..24].try_into().expect("4 bytes")),
        u64::from_le_bytes(h[24..32].try_into().expect("8 bytes")),
    ))
}

pub struct SnapshotStore<S: Storage> {
    storage: S,
    dir: PathBuf,
    policy: SnapshotPolicy,
}

impl<S: Storage> SnapshotStore<S> {
    /// A store in `dir` (the data directory, beside the journal) with the default policy.
    pub fn new(storage: S, dir: &Path) -> SnapshotStore<S> {
        SnapshotStore::with_policy(storage, dir, SnapshotPolicy::default())
    }

    pub fn with_policy(storage: S, dir: &Path, policy: SnapshotPolicy) -> SnapshotStore<S> {
        assert!(policy.keep >= 1, "keep at least one snapshot");
        SnapshotStore {
            storage,
            dir: dir.to_path_buf(),
            policy,
        }
    }

    /// The sequence numbers of the snapshots present, newest first.
    pub fn list(&self) -> Result<Vec<Seq>, SnapshotStoreError> {
        let names = match self.storage.list(&self.dir) {
            Ok(names) => names,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_error("list", &self.dir, &e)),
        };
        let mut seqs: Vec<Seq> = names
            .iter()
            .filter_map(|n| parse_snapshot_name(n))
            .collect();
        seqs.sort_unstable_by(|a, b| b.cmp(a));
        Ok(seqs)
    }

    pub fn path_of(&self, seq: Seq) -> PathBuf {
        self.dir.join(snapshot_name(seq))
    }

    /// Writes the engine snapshot `engine_bytes` taken after input `seq`, which must be
    /// durable in the journal: the record's checksum is read back from it and stored,
    /// so recovery can check that the journal after the snapshot continues this state.
    /// Then drops snapshots beyond the policy's count and releases covered segments.
    pub fn write(&mut self, seq: Seq, engine_bytes: &[u8]) -> Result<(), SnapshotStoreError> {
        let chain_checksum = self.journal_checksum_at(seq)?;
        self.write_file(seq, chain_checksum, engine_bytes)?;
        self.prune()
    }

    fn journal_checksum_at(&self, seq: Seq) -> Result<u32, SnapshotStoreError> {
        if seq == 0 {
            return Ok(0);
        }
        let mut found = None;
        scan_journal(
            &self.storage,
            &self.dir,
            ScanMode::ReadOnly,
            seq,
            seq,
            &mut |r| {
                assert_eq!(r.seq, seq, "the scan starts at the wanted seq");
                found = Some(r.checksum);
                ControlFlow::Break(())
            },
        )?;
        found.ok_or_else(|| SnapshotStoreError::Damaged {
            path: self.path_of(seq),
            what: format!("seq {seq} is not in the journal: snapshots cover durable inputs only"),
        })
    }

    fn write_file(
        &self,
        seq: Seq,
        chain_checksum: u32,
        engine_bytes: &[u8],
    ) -> Result<(), SnapshotStoreError> {
        let path = self.path_of(seq);
        let temp = self.dir.join(temp_name(seq));
        // A crash may have left a temporary file of an earlier attempt.
        match self.storage.remove(&temp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("remove", &temp, &e)),
        }
        let mut file = self
            .storage
            .create(&temp)
            .map_err(|e| io_error("create", &temp, &e))?;
        let header = encode_header(seq, chain_checksum, engine_bytes.len() as u64);
        file.write_all_at(0, &header)
            .map_err(|e| io_error("write", &temp, &e))?;
        file.write_all_at(HEADER_BYTES as u64, engine_bytes)
            .map_err(|e| io_error("write", &temp, &e))?;
        file.sync().map_err(|e| io_error("fsync", &temp, &e))?;
        self.storage
            .rename(&temp, &path)
            .map_err(|e| io_error("rename", &temp, &e))?;
        self.storage
            .sync_dir(&self.dir)
            .map_err(|e| io_error("fsync directory", &self.dir, &e))?;
        // Read back what was written: the same checks recovery will make.
        let back = self.load(seq)?;
        assert_eq!((back.seq, back.chain_checksum), (seq, chain_checksum));
        assert!(back.engine_bytes == engine_bytes);
        Ok(())
    }

    /// Removes snapshots beyond the policy's count and temporary files that writes cut
    /// short by a crash left behind, then releases the journal segments the oldest kept
    /// snapshot covers.
    fn prune(&self) -> Result<(), SnapshotStoreError> {
        let seqs = self.list()?;
        let names = self
            .storage
            .list(&self.dir)
            .map_err(|e| io_error("list", &self.dir, &e))?;
        let stale = names
            .iter()
            .filter(|n| is_temp_name(n))
            .map(|n| self.dir.join(n));
        let dropped = seqs
            .iter()
            .skip(self.policy.keep)
            .map(|&seq| self.path_of(seq));
        let doomed: Vec<PathBuf> = stale.chain(dropped).collect();
        if !doomed.is_empty() {
            for path in &doomed {
                self.storage
                    .remove(path)
                    .map_err(|e| io_error("remove", path, &e))?;
            }
            self.storage
                .sync_dir(&self.dir)
                .map_err(|e| io_error("fsync directory", &self.dir, &e))?;
        }
        let kept = &seqs[..seqs.len().min(self.policy.keep)];
        if let Some(&oldest) = kept.last() {
            release_segments(&self.storage, &self.dir, oldest, self.policy.retention)?;
        }
        Ok(())
    }

    /// Reads one snapshot file and checks its header; the body is checked by decoding.
    pub fn load(&self, seq: Seq) -> Result<StoredSnapshot, SnapshotStoreError> {
        let path = self.path_of(seq);
        let damaged = |what: String| SnapshotStoreError::Damaged {
            path: path.clone(),
            what,
        };
        let file = self
            .storage
            .open_read_only(&path)
            .map_err(|e| io_error("open", &path, &e))?;
        let len = file.len_bytes().map_err(|e| io_error("stat", &path, &e))?;
        let mut header = [0u8; HEADER_BYTES];
        if len < HEADER_BYTES as u64 {
            return Err(damaged(format!("only {len} bytes")));
        }
        file.read_exact_at(0, &mut header)
            .map_err(|e| io_error("read", &path, &e))?;
        let (stored_seq, chain_checksum, body_len) =
            decode_header(&header).map_err(|what| damaged(what.to_owned()))?;
        if stored_seq != seq {
            return Err(damaged(format!("holds seq {stored_seq}")));
        }
        if body_len != len - HEADER_BYTES as u64 {
            return Err(damaged(format!(
                "body of {body_len} bytes declared, file is {len}"
            )));
        }
        let mut engine_bytes = vec![0u8; body_len as usize];
        file.read_exact_at(HEADER_BYTES as u64, &mut engine_bytes)
            .map_err(|e| io_error("read", &path, &e))?;
        Ok(StoredSnapshot {
            seq,
            chain_checksum,
            engine_bytes,
        })
    }
}
