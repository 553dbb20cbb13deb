//! The file of Raft entries: appended with one write and one fsync per append, read
//! back by log index (the newest from memory), truncated from an index on, purged below one.
//!
//! Opening scans the whole file and checks every record (size, checksum, the chain,
//! consecutive indexes). A torn *last* record (cut short, failing its checksum with
//! nothing after it, or zeros where it should begin) is cut off with a log line: it is the append that was being
//! written when the node stopped, and its `LogFlushed` never fired, so no peer counted
//! it. Damage anywhere else stops the node with an error naming the offset: it must be
//! repaired from the other nodes, never skipped.
//!
//! Fail-stop: after an I/O error the log refuses every further call (see the journal
//! writer for why a retried fsync cannot be trusted).
//!
//! Purging forgets entries; the bytes go once the purged head is large, when the kept
//! tail is rewritten into a new file ([`Compaction`]). That copy can take seconds, so
//! it is split: [`EntryLog::compaction_begin`] hands out the copy to run apart from the
//! log, and [`EntryLog::compaction_finish`] copies what was appended meanwhile and puts
//! the new file in place.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use openraft::{Entry, LogId};

use super::damage::Damage;
use super::entry_record::{
    check_entry, claimed_size, decode_entry, encode_entry, EntryFault, ENTRY_RECORD_MAX_BYTES,
};
use super::log_compaction::{Compaction, ReplacedFile};
use super::recent_entries::RecentEntries;
use super::type_config::RingexRaft;
use crate::durability::Durability;
use crate::storage::{Storage, StorageFile};

/// The log file inside the Raft directory.
pub const LOG_FILE: &str = "entries";
/// Where a compaction writes the kept entries before they replace the log file.
const COMPACTING_FILE: &str = "entries.compacting";
/// Purged bytes at the head of the file past which it is rewritten without them (and
/// only once they are at least half the file), so the disk holds about what is kept.
const COMPACT_MIN_BYTES: u64 = 64 << 20;
/// The most one append can leave torn: openraft hands over at most a few entries of
/// bounded size per append.
const TORN_TAIL_MAX_BYTES: u64 = 4 * ENTRY_RECORD_MAX_BYTES as u64;

/// Where one entry lies in the file.
#[derive(Clone, Copy, Debug)]
struct Located {
    log_id: LogId<u64>,
    offset_bytes: u64,
    size_bytes: u32,
    checksum: u32,
}

/// What went wrong with the entry log.
#[derive(Debug)]
pub struct EntryLogError {
    pub message: String,
    /// What failed its checks (none for an I/O error): the node must be repaired from
    /// the others, or the loss accepted.
    pub damage: Option<Damage>,
}

impl EntryLogError {
    pub fn new(message: impl Into<String>) -> EntryLogError {
        EntryLogError {
            message: message.into(),
            damage: None,
        }
    }

    pub fn damaged(message: impl Into<String>, damage: Damage) -> EntryLogError {
        EntryLogError {
            message: message.into(),
            damage: Some(damage),
        }
    }
}

impl fmt::Display for EntryLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EntryLogError {}

pub struct EntryLog<S: Storage> {
    storage: S,
    dir: PathBuf,
    path: PathBuf,
    file: S::File,
    durability: Durability,
    located: BTreeMap<u64, Located>,
    /// The newest entries, read back without the file (see [`RecentEntries`]).
    recent: RecentEntries,
    len_bytes: u64,
    /// Checksum of the last record in the file, purged or not: the next one chains to it.
    last_checksum: u32,
    last_log_id: Option<LogId<u64>>,
    torn_tail_bytes: u64,
    /// Bumped by every change that rewrites bytes already written (a truncation), so a
    /// compaction copying them apart knows its copy is stale.
    generation: u64,
    /// Whether a compaction is under way (one at a time).
    compacting: bool,
    /// Counts the handles on the current file that appends are syncing outside the log:
    /// a compaction closes the old file only after them (see [`ReplacedFile`]).
    file_users: Arc<()>,
    stopped: Option<String>,
}

/// Whether opening may cut a torn last append.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Repair,
    ReadOnly,
}

impl<S: Storage> EntryLog<S> {
    /// Opens (or creates) the entry log in `dir`, checking every record; a torn last
    /// append is cut off.
    pub fn open(storage: &S, dir: &Path, durability: Durability) -> Result<Self, EntryLogError> {
        let path = dir.join(LOG_FILE);
        let io = |op: &str, e: std::io::Error| {
            EntryLogError::new(format!("{op} {}: {e}", path.display()))
        };
        storage.create_dir_all(dir).map_err(|e| io("create", e))?;
        let file = match storage.open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let f = storage.create(&path).map_err(|e| io("create", e))?;
                storage
                    .sync_dir(dir)
                    .map_err(|e| io("sync directory of", e))?;
                f
            }
            Err(e) => return Err(io("open", e)),
        };
        let mut log = EntryLog::over(storage, dir, file, durability);
        log.scan(Mode::Repair)?;
        log.remove_compacting_file()?;
        Ok(log)
    }

    /// Checks every record of the entry log in `dir` without writing anything: for
    /// `journal verify`. A torn last append is reported in [`EntryLog::torn_tail_bytes`],
    /// not cut. The log it returns is for reading only.
    pub fn inspect(storage: &S, dir: &Path) -> Result<Self, EntryLogError> {
        let path = dir.join(LOG_FILE);
        let file = storage
            .open_read_only(&path)
            .map_err(|e| EntryLogError::new(format!("open {}: {e}", path.display())))?;
        let mut log = EntryLog::over(storage, dir, file, Durability::Fsync);
        log.scan(Mode::ReadOnly)?;
        Ok(log)
    }

    fn over(storage: &S, dir: &Path, file: S::File, durability: Durability) -> Self {
        EntryLog {
            storage: storage.clone(),
            dir: dir.to_path_buf(),
            path: dir.join(LOG_FILE),
            file,
            durability,
            located: BTreeMap::new(),
            recent: RecentEntries::default(),
            len_bytes: 0,
            last_checksum: 0,
            last_log_id: None,
            torn_tail_bytes: 0,
            generation: 0,
            compacting: false,
            file_users: Arc::new(()),
            stopped: None,
        }
    }

    /// Bytes of a torn last append found by the scan (cut off unless read-only).
    pub fn torn_tail_bytes(&self) -> u64 {
        self.torn_tail_bytes
    }

    /// The index of the first entry held, if any.
    pub fn first_index(&self) -> Option<u64> {
        self.located.keys().next().copied()
    }

    /// Entries held.
    pub fn entry_count(&self) -> usize {
        self.located.len()
    }

    fn scan(&mut self, mode: Mode) -> Result<(), EntryLogError> {
        let file_len = self.file.len_bytes().map_err(|e| self.io("size", e))?;
        let mut offset = 0u64;
        while offset < file_len {
            match self.read_record_at(offset, file_len) {
                Ok(located) => {
                    if let Some(last) = self.last_log_id {
                        if located.log_id.index <= last.index {
                            return Err(self.corrupt(offset, "entry indexes do not increase"));
                        }
                    }
                    offset += u64::from(located.size_bytes);
                    self.last_checksum = located.checksum;
                    self.last_log_id = Some(located.log_id);
                    self.located.insert(located.log_id.index, located);
                }
                Err(RecordAt::Chain) => return Err(self.corrupt(offset, "chain broken")),
                Err(RecordAt::Fault(fault, record_end)) => {
                    let torn = fault == EntryFault::Incomplete
                        || (fault == EntryFault::BadChecksum && record_end >= file_len)
                        || (fault == EntryFault::BadSize && self.zeros_after(offset, file_len)?);
                    if !torn || self.whole_record_after(offset, file_len)? {
                        return Err(self.corrupt(offset, fault.describe()));
                    }
                    self.torn_tail_bytes = file_len - offset;
                    if mode == Mode::ReadOnly {
                        break;
                    }
                    tracing::warn!(
                        path = %self.path.display(),
                        offset_bytes = offset,
                        dropped_bytes = self.torn_tail_bytes,
                        "entry log: torn last append cut off (it was never reported flushed)"
                    );
                    self.file
                        .truncate(offset)
                        .map_err(|e| self.io("truncate", e))?;
                    self.file.sync().map_err(|e| self.io("sync", e))?;
                    break;
                }
                Err(RecordAt::Io(e)) => return Err(self.io("read", e)),
            }
        }
        self.len_bytes = offset;
        Ok(())
    }

    /// Whether a whole, valid record lies anywhere past `offset`: then the fault at
    /// `offset` is damage (e.g. a size field hit by a bit flip), not a torn last append,
    /// and cutting there would drop flushed entries. A tail too long to be one append
    /// is damage too.
    fn whole_record_after(&self, offset: u64, file_len: u64) -> Result<bool, EntryLogError> {
        Ok(match self.read_tail(offset, file_len)? {
            Some(tail) => (1..tail.len()).any(|at| check_entry(&tail[at..]).is_ok()),
            None => true,
        })
    }

    /// Whether only zeros follow `offset` (within one append's reach): a crash that
    /// grew the file for the last append but never wrote its bytes.
    fn zeros_after(&self, offset: u64, file_len: u64) -> Result<bool, EntryLogError> {
        let tail = self.read_tail(offset, file_len)?;
        Ok(tail.is_some_and(|t| t.iter().all(|&b| b == 0)))
    }

    /// The bytes from `offset` to the end, if no longer than one append can tear.
    fn read_tail(&self, offset: u64, file_len: u64) -> Result<Option<Vec<u8>>, EntryLogError> {
        let tail_len = file_len - offset;
        if tail_len > TORN_TAIL_MAX_BYTES {
            return Ok(None);
        }
        let mut tail = vec![0u8; tail_len as usize];
        self.file
            .read_exact_at(offset, &mut tail)
            .map_err(|e| self.io("read", e))?;
        Ok(Some(tail))
    }

    fn read_record_at(&self, offset: u64, file_len: u64) -> Result<Located, RecordAt> {
        let mut size_field = [0u8; 4];
        let available = file_len - offset;
        if available < 4 {
            return Err(RecordAt::Fault(EntryFault::Incomplete, file_len));
        }
        self.file
            .read_exact_at(offset, &mut size_field)
            .map_err(RecordAt::Io)?;
        let size = claimed_size(&size_field).map_err(|f| RecordAt::Fault(f, file_len))?;
        if (size as u64) > available {
            return Err(RecordAt::Fault(EntryFault::Incomplete, file_len));
        }
        let mut bytes = vec![0u8; size];
        self.file
            .read_exact_at(offset, &mut bytes)
            .map_err(RecordAt::Io)?;
        let header = check_entry(&bytes).map_err(|f| RecordAt::Fault(f, offset + size as u64))?;
        if self.last_log_id.is_some() && header.prev_checksum != self.last_checksum {
            return Err(RecordAt::Chain);
        }
        Ok(Located {
            log_id: header.log_id,
            offset_bytes: offset,
            size_bytes: size as u32,
            checksum: header.checksum,
        })
    }

    /// The last entry written (purged or not), if any.
    pub fn last_log_id(&self) -> Option<LogId<u64>> {
        self.last_log_id
    }

    /// Appends entries that follow the last one, then makes them durable. Returns only
    /// after the fsync (under the fsync policy): the caller reports them flushed.
    pub fn append(&mut self, entries: &[Entry<RingexRaft>]) -> Result<(), EntryLogError> {
        let pending = self.write(entries)?;
        pending.sync().map_err(|e| self.stop("append", e))
    }

    /// Writes entries that follow the last one without making them durable; readers see
    /// them at once. The caller syncs the returned [`PendingSync`] (outside any lock, so
    /// reads go on meanwhile), reports the entries flushed only after that, and after a
    /// failed sync calls [`EntryLog::stop_after_failed_sync`].
    pub fn write(
        &mut self,
        entries: &[Entry<RingexRaft>],
    ) -> Result<PendingSync<S::File>, EntryLogError> {
        self.check_running()?;
        let mut buf = Vec::new();
        let mut placed = Vec::with_capacity(entries.len());
        let mut prev = self.last_checksum;
        let mut last = self.last_log_id;
        for entry in entries {
            if let Some(l) = last {
                // openraft hands over entries that follow the log; its storage suite
                // also appends past gaps, which the chain still covers.
                assert!(entry.log_id.index > l.index, "appends follow the log");
            }
            let offset = self.len_bytes + buf.len() as u64;
            prev = encode_entry(entry, prev, &mut buf);
            placed.push(Located {
                log_id: entry.log_id,
                offset_bytes: offset,
                size_bytes: (self.len_bytes + buf.len() as u64 - offset) as u32,
                checksum: prev,
            });
            last = Some(entry.log_id);
        }
        let handle = match self.durability {
            Durability::Fsync => Some(self.file.try_clone()),
            Durability::UnsafeNoFsync => None,
        };
        let written = self
            .file
            .write_all_at(self.len_bytes, &buf)
            .and_then(|()| handle.transpose());
        let file = match written {
            Ok(file) => file,
            Err(e) => return Err(self.stop("append", e)),
        };
        self.len_bytes += buf.len() as u64;
        self.last_checksum = prev;
        self.last_log_id = last;
        for l in placed {
            self.located.insert(l.log_id.index, l);
        }
        for entry in entries {
            self.recent.keep(entry);
        }
        Ok(PendingSync {
            file,
            _using: Arc::clone(&self.file_users),
        })
    }

    /// After a [`PendingSync`] failed: nothing may be assumed about unsynced data, so
    /// the log refuses every further call.
    pub fn stop_after_failed_sync(&mut self, e: std::io::Error) -> EntryLogError {
        self.stop("append", e)
    }

    /// Removes every entry from `index` on (an uncommitted suffix a new leader
    /// overrides), durably, before returning.
    pub fn truncate_from(&mut self, index: u64) -> Result<(), EntryLogError> {
        self.check_running()?;
        let Some(first) = self.located.get(&index).copied() else {
            return Ok(());
        };
        // The chain continues from the record before the cut, read before cutting.
        let chain_checksum = self.checksum_before(first)?;
        let result = self
            .file
            .truncate(first.offset_bytes)
            .and_then(|()| self.file.sync());
        if let Err(e) = result {
            return Err(self.stop("truncate", e));
        }
        self.generation += 1;
        self.located.split_off(&index);
        self.recent.forget_from(index);
        self.len_bytes = first.offset_bytes;
        self.last_checksum = chain_checksum;
        self.last_log_id = self.located.values().next_back().map(|l| l.log_id);
        Ok(())
    }

    /// Forgets every entry up to and including `index` (a snapshot holds them); their
    /// bytes stay until a compaction. When that is every entry in the file (a node that
    /// installed a snapshot ahead of its log), the file starts over, so the next append
    /// need not follow the old ones.
    pub fn purge_through(&mut self, index: u64) -> Result<(), EntryLogError> {
        self.check_running()?;
        self.located = self.located.split_off(&(index + 1));
        self.recent.forget_through(index);
        if self.last_log_id.is_some_and(|l| l.index <= index) {
            let emptied = self.file.truncate(0).and_then(|()| self.file.sync());
            if let Err(e) = emptied {
                return Err(self.stop("empty", e));
            }
            self.generation += 1;
            self.len_bytes = 0;
            self.last_checksum = 0;
            self.last_log_id = None;
        }
        Ok(())
    }

    /// Starts rewriting the file without its purged head, if that head is at least
    /// [`COMPACT_MIN_BYTES`] and half the file and no compaction is under way. The
    /// caller copies with [`Compaction::copy_until`] up to [`EntryLog::compaction_end_bytes`]
    /// (without holding the log), then calls [`EntryLog::compaction_finish`], or
    /// [`EntryLog::compaction_abandon`] if the copy failed.
    pub fn compaction_begin(&mut self) -> Result<Option<Compaction<S::File>>, EntryLogError> {
        self.check_running()?;
        let Some(start) = self.located.values().next().map(|l| l.offset_bytes) else {
            return Ok(None);
        };
        if self.compacting || start < COMPACT_MIN_BYTES || start < self.len_bytes / 2 {
            return Ok(None);
        }
        self.remove_compacting_file()?;
        let tmp = self.dir.join(COMPACTING_FILE);
        let target = self
            .storage
            .create(&tmp)
            .map_err(|e| self.io("create", e))?;
        let source = self.file.try_clone().map_err(|e| self.io("open", e))?;
        self.compacting = true;
        Ok(Some(Compaction::new(
            source,
            target,
            start,
            self.generation,
        )))
    }

    /// How far a compaction may copy now: the end of the file, or None once the bytes
    /// it copied were rewritten (it must be abandoned).
    pub fn compaction_end_bytes(&self, compaction: &Compaction<S::File>) -> Option<u64> {
        (compaction.generation() == self.generation).then_some(self.len_bytes)
    }

    /// Copies what was appended since the compaction's last copy, then puts the new file
    /// in the log's place: synced, renamed over the log, directory synced, so a crash
    /// leaves either file whole. The first kept record keeps its chain checksum; a log's
    /// first record is never checked against one. A compaction whose copy went stale is
    /// abandoned (nothing changes). Returns the old file's handles for the caller to
    /// close once it no longer holds the log.
    pub fn compaction_finish(
        &mut self,
        mut compaction: Compaction<S::File>,
    ) -> Result<Option<ReplacedFile<S::File>>, EntryLogError> {
        assert!(self.compacting, "a compaction was begun");
        // A stopped log may hold writes whose fsync failed: they must not be made
        // durable in the new file.
        if let Err(e) = self.check_running() {
            self.compaction_abandon()?;
            return Err(e);
        }
        // Appends wait for this part: how long it took says whether they stalled.
        let started = Instant::now();
        let Some(end) = self.compaction_end_bytes(&compaction) else {
            tracing::info!(
                path = %self.path.display(),
                "entry log compaction abandoned: the log was truncated meanwhile"
            );
            return self.compaction_abandon().map(|()| None);
        };
        let start = compaction.start_bytes();
        let copied_from = compaction.copied_end_bytes();
        let copied = compaction
            .copy_until(end, None)
            .and_then(|()| compaction.sync());
        if let Err(e) = copied {
            self.compaction_abandon()?;
            return Err(self.io("compact into", e));
        }
        let replaced = self
            .storage
            .rename(&self.dir.join(COMPACTING_FILE), &self.path)
            .and_then(|()| self.storage.sync_dir(&self.dir));
        if let Err(e) = replaced {
            return Err(self.stop("compact", e));
        }
        let took = compaction.elapsed();
        let (target, source) = compaction.into_files();
        let old_file = std::mem::replace(&mut self.file, target);
        let old_users = std::mem::replace(&mut self.file_users, Arc::new(()));
        let replaced = ReplacedFile::new([old_file, source], old_users);
        self.compacting = false;
        for l in self.located.values_mut() {
            assert!(l.offset_bytes >= start, "only purged bytes are dropped");
            l.offset_bytes -= start;
        }
        self.len_bytes -= start;
        tracing::info!(
            path = %self.path.display(),
            dropped_bytes = start,
            kept_bytes = self.len_bytes,
            copied_last_bytes = end - copied_from,
            took_last_ms = started.elapsed().as_millis() as u64,
            took_ms = took.as_millis() as u64,
            "entry log compacted: entries below the snapshot removed from disk"
        );
        Ok(Some(replaced))
    }

    /// Gives up a compaction: its new file is removed, and a later purge may begin
    /// another.
    pub fn compaction_abandon(&mut self) -> Result<(), EntryLogError> {
        self.compacting = false;
        self.remove_compacting_file()
    }

    /// Removes a compaction's new file left by a crash or an abandoned copy.
    fn remove_compacting_file(&self) -> Result<(), EntryLogError> {
        let tmp = self.dir.join(COMPACTING_FILE);
        match self.storage.remove(&tmp) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io("remove", e)),
        }
    }

    /// The entries with indexes in `range` that are present, in order.
    pub fn read_range(
        &self,
        range: impl RangeBounds<u64>,
    ) -> Result<Vec<Entry<RingexRaft>>, EntryLogError> {
        self.check_running()?;
        let mut out = Vec::new();
        for l in self.located.range(range).map(|(_, l)| *l) {
            if let Some(entry) = self.recent.get(l.log_id.index) {
                out.push(entry);
                continue;
            }
            let mut bytes = vec![0u8; l.size_bytes as usize];
            self.file
                .read_exact_at(l.offset_bytes, &mut bytes)
                .map_err(|e| self.io("read", e))?;
            let (entry, _) =
                decode_entry(&bytes).map_err(|f| self.corrupt(l.offset_bytes, f.describe()))?;
            assert_eq!(entry.log_id, l.log_id, "the log moved under its index");
            out.push(entry);
        }
        Ok(out)
    }

    fn checksum_before(&self, first: Located) -> Result<u32, EntryLogError> {
        let mut bytes = vec![0u8; first.size_bytes as usize];
        self.file
            .read_exact_at(first.offset_bytes, &mut bytes)
            .map_err(|e| self.io("read", e))?;
        check_entry(&bytes)
            .map(|h| h.prev_checksum)
            .map_err(|f| self.corrupt(first.offset_bytes, f.describe()))
    }

    fn check_running(&self) -> Result<(), EntryLogError> {
        match &self.stopped {
            Some(cause) => Err(EntryLogError::new(format!(
                "entry log stopped after: {cause}"
            ))),
            None => Ok(()),
        }
    }

    fn stop(&mut self, op: &str, e: std::io::Error) -> EntryLogError {
        let error = self.io(op, e);
        self.stopped = Some(error.message.clone());
        error
    }

    fn io(&self, op: &str, e: std::io::Error) -> EntryLogError {
        EntryLogError::new(format!("{op} {}: {e}", self.path.display()))
    }

    fn corrupt(&self, offset_bytes: u64, what: &str) -> EntryLogError {
        EntryLogError::damaged(
            format!(
                "entry log {} damaged at byte {offset_bytes}: {what}",
                self.path.display()
            ),
            Damage::EntryAt { offset_bytes },
        )
    }
}

/// Written entries waiting for their fsync, through a handle of their own.
pub struct PendingSync<F: StorageFile> {
    /// None when durability asks for no fsync.
    file: Option<F>,
    /// Held until the handle above is closed (see [`EntryLog::file_users`]).
    _using: Arc<()>,
}

impl<F: StorageFile> PendingSync<F> {
    pub fn sync(self) -> std::io::Result<()> {
        let PendingSync { file, _using } = self;
        // The closure closes the handle; only then is the file's use released.
        let synced = file.map_or(Ok(()), |mut f| f.sync());
        drop(_using);
        synced
    }
}

enum RecordAt {
    Fault(EntryFault, u64),
    Chain,
    Io(std::io::Error),
}
