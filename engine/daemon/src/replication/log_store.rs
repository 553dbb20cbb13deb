//! openraft's log storage on the entry log and the hard state.
//!
//! The durability contract openraft relies on, kept here: `append` reports the entries
//! flushed (`LogFlushed`) only after their fsync; `save_vote` returns only once the
//! vote is on disk; `truncate` and `purge` are durable before they return. Any storage
//! error is returned to openraft, which stops this node's Raft core (fail-stop).

use std::fmt::Debug;
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{Entry, EntryPayload, LogId, StorageError, StorageIOError, Vote};

use super::committed_seq::{CommittedSeq, CommittedSeqSender};
use super::damage::Damage;
use super::entry_log::{EntryLog, EntryLogError};
use super::hard_state::{HardState, COMMITTED_FILE, PURGED_FILE, VOTE_FILE};
use super::log_compaction::Compaction;
use super::type_config::RingexRaft;
use crate::durability::Durability;
use crate::storage::Storage;

/// The log of one node: its entries and its hard state.
pub struct LogStore<S: Storage> {
    entries: Arc<Mutex<EntryLog<S>>>,
    hard: HardState<S>,
    purged: Option<LogId<u64>>,
    /// The committed index as last saved, for the node's status and metrics.
    committed_index: Arc<AtomicU64>,
    /// The last input seq committed, for the proposer's pacing.
    committed_seq: CommittedSeqSender,
}

/// Reads entries while the log is being appended to (replication, apply).
pub struct LogReader<S: Storage> {
    entries: Arc<Mutex<EntryLog<S>>>,
}

impl<S: Storage + Sync> LogStore<S>
where
    S::File: Sync,
{
    /// Opens the Raft directory, checking every entry (see [`EntryLog::open`]).
    pub fn open(storage: S, dir: &Path, durability: Durability) -> Result<Self, EntryLogError> {
        let hard = HardState::open(storage.clone(), dir)
            .map_err(|e| EntryLogError::new(format!("raft state in {}: {e}", dir.display())))?;
        hard.read_vote()
            .map_err(|e| state_file_error(e, VOTE_FILE))?;
        let purged = hard
            .read_purged()
            .map_err(|e| state_file_error(e, PURGED_FILE))?;
        let mut entries = EntryLog::open(&storage, dir, durability)?;
        // The purged head's bytes stay until the next purge compacts them, apart from
        // the Raft core: a copy here would delay the node's start by seconds.
        if let Some(p) = purged {
            entries.purge_through(p.index)?;
        }
        let committed = hard
            .read_committed()
            .map_err(|e| state_file_error(e, COMMITTED_FILE))?;
        check_holds_committed(&entries, purged, committed)?;
        Ok(LogStore {
            entries: Arc::new(Mutex::new(entries)),
            hard,
            purged,
            committed_index: Arc::new(AtomicU64::new(committed.map_or(0, |c| c.index))),
            committed_seq: CommittedSeqSender::default(),
        })
    }

    /// The last input seq committed, kept current while openraft runs on this store.
    pub fn committed_seq(&self) -> CommittedSeq {
        self.committed_seq.subscribe()
    }

    /// The committed index, kept current while openraft runs on this store.
    pub fn committed_index(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.committed_index)
    }

    /// The entries with indexes in `range`, for rebuilding the state on restart.
    pub fn entries_in(
        &self,
        range: impl RangeBounds<u64>,
    ) -> Result<Vec<Entry<RingexRaft>>, EntryLogError> {
        read_range(&self.entries, range)
    }

    /// The committed log id as last saved, for rebuilding the state on restart.
    pub fn committed(&self) -> Option<LogId<u64>> {
        self.hard.read_committed().ok().flatten()
    }
}

/// A hard state file that fails its checksum is damage; any other error is I/O.
fn state_file_error(e: std::io::Error, name: &'static str) -> EntryLogError {
    if e.kind() == std::io::ErrorKind::InvalidData {
        EntryLogError::damaged(e.to_string(), Damage::StateFile(name))
    } else {
        EntryLogError::new(e.to_string())
    }
}

/// The log must hold every entry up to the committed index it saved (or have purged
/// them under a snapshot): a log that ends before it lost entries this node made
/// durable and counted, so a cut at a record boundary is damage, not a torn append.
pub fn check_holds_committed<S: Storage>(
    entries: &EntryLog<S>,
    purged: Option<LogId<u64>>,
    committed: Option<LogId<u64>>,
) -> Result<(), EntryLogError> {
    let Some(committed) = committed else {
        return Ok(());
    };
    let held = entries
        .last_log_id()
        .map_or(0, |l| l.index)
        .max(purged.map_or(0, |p| p.index));
    if held < committed.index {
        return Err(EntryLogError::damaged(
            format!(
                "the entry log ends at index {held}, before the committed index {}: \
                 entries this node made durable are missing",
                committed.index
            ),
            Damage::EntriesShort { held_index: held },
        ));
    }
    Ok(())
}

fn lock<S: Storage>(entries: &Mutex<EntryLog<S>>) -> MutexGuard<'_, EntryLog<S>> {
    // A panic while holding the lock broke an invariant: nothing may continue on it.
    entries
        .lock()
        .expect("the entry log lock is never poisoned")
}

fn read_range<S: Storage, RB: RangeBounds<u64>>(
    entries: &Mutex<EntryLog<S>>,
    range: RB,
) -> Result<Vec<Entry<RingexRaft>>, EntryLogError> {
    lock(entries).read_range(range)
}

impl<S: Storage + Sync> RaftLogReader<RingexRaft> for LogStore<S>
where
    S::File: Sync,
{
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<RingexRaft>>, StorageError<u64>> {
        self.get_log_reader().await.try_get_log_entries(range).await
    }
}

impl<S: Storage + Sync> RaftLogReader<RingexRaft> for LogReader<S>
where
    S::File: Sync,
{
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<RingexRaft>>, StorageError<u64>> {
        read_range(&self.entries, range).map_err(|e| StorageIOError::read_logs(&e).into())
    }
}

impl<S: Storage + Sync> RaftLogStorage<RingexRaft> for LogStore<S>
where
    S::File: Sync,
{
    type LogReader = LogReader<S>;

    async fn get_log_state(&mut self) -> Result<LogState<RingexRaft>, StorageError<u64>> {
        let last = lock(&self.entries).last_log_id();
        let last_log_id = match (last, self.purged) {
            (Some(l), Some(p)) if p.index >= l.index => Some(p),
            (None, p) => p,
            (l, _) => l,
        };
        Ok(LogState {
            last_purged_log_id: self.purged,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> LogReader<S> {
        LogReader {
            entries: Arc::clone(&self.entries),
        }
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), StorageError<u64>> {
        self.hard
            .save_vote(vote)
            .map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError<u64>> {
        self.hard
            .read_vote()
            .map_err(|e| StorageIOError::read_vote(&e).into())
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId<u64>>,
    ) -> Result<(), StorageError<u64>> {
        let Some(c) = committed else {
            return Ok(());
        };
        self.hard
            .save_committed(&c)
            .map_err(|e| StorageIOError::write(&e))?;
        self.committed_index.store(c.index, Ordering::Release);
        self.committed_seq.committed(c.index);
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, StorageError<u64>> {
        self.hard
            .read_committed()
            .map_err(|e| StorageIOError::read(&e).into())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<RingexRaft>,
    ) -> Result<(), StorageError<u64>>
    where
        I: IntoIterator<Item = Entry<RingexRaft>> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<_> = entries.into_iter().collect();
        let last_input = entries.iter().rev().find_map(|e| match &e.payload {
            EntryPayload::Normal(batch) => batch.last_seq().map(|seq| (e.log_id.index, seq)),
            _ => None,
        });
        let pending = lock(&self.entries).write(&entries);
        // The fsync runs without the lock, in a task spawned on the worker that appends
        // (openraft's core awaits it). A task spawned from a worker takes its LIFO slot,
        // the one place tokio never lets another worker steal from, so the task the core
        // woke last (the state machine's, with the entries committed before) moves to
        // the run queue, where the other worker takes it up while this one syncs. That
        // is what block_in_place did by handing the worker to another thread for every
        // entry, which with entries of a few dozen inputs (a closed loop of traders)
        // cost more CPU than the append itself; a plain blocking call instead held the
        // state machine's task behind the fsync and doubled the lone node's latency.
        let synced = match pending {
            Ok(p) => tokio::spawn(async move { p.sync() })
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(format!("the fsync task: {e}")))),
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                return Err(StorageIOError::write_logs(&e).into());
            }
        };
        let result = synced.map_err(|e| lock(&self.entries).stop_after_failed_sync(e));
        match result {
            Ok(()) => {
                if let Some((index, seq)) = last_input {
                    self.committed_seq.flushed(index, seq);
                }
                // Only now are the entries on disk: openraft may count them.
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                Err(StorageIOError::write_logs(&e).into())
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), StorageError<u64>> {
        self.committed_seq.truncated(log_id.index);
        lock(&self.entries)
            .truncate_from(log_id.index)
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), StorageError<u64>> {
        // The purge point is durable before the entries are forgotten, so a restart
        // never serves entries a snapshot has replaced.
        self.hard
            .save_purged(&log_id)
            .map_err(|e| StorageIOError::write_logs(&e))?;
        self.purged = Some(log_id);
        let begun = {
            let mut entries = lock(&self.entries);
            entries
                .purge_through(log_id.index)
                .map_err(|e| StorageIOError::write_logs(&e))?;
            entries.compaction_begin()
        };
        // Removing the purged bytes from disk can take seconds (a copy of the kept
        // tail), longer than an election timeout: the Raft core, which waits for this
        // call, must not wait for that.
        match begun {
            Ok(Some(compaction)) => compact_apart(Arc::clone(&self.entries), compaction),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "entry log compaction not begun"),
        }
        Ok(())
    }
}

/// Rounds of copying apart from the log before the rest is copied holding it: appends
/// go on while a round copies, so each round has less left to copy. The first rounds
/// are paced; should appends outrun the pace, the later ones are not.
const COMPACTION_ROUNDS_MAX: usize = 12;
const COMPACTION_PACED_ROUNDS: usize = 8;
/// The pace of the copy: a fraction of what a disk writes, so the appends' fsyncs (on
/// the same disk) do not queue behind the copy. Far more than the log grows by: the
/// cluster's peak appends about 30 MiB/s.
const COMPACTION_BYTES_PER_S_MAX: u64 = 128 << 20;
/// What may be left to copy when the log is held for the last part.
const COMPACTION_HELD_COPY_BYTES_MAX: u64 = 4 << 20;

/// Runs a compaction on a thread of its own: copies apart from the log until little is
/// left, then finishes holding it. Whatever fails, the log keeps working on its old
/// file (a failed copy is abandoned), unless putting the new file in place failed,
/// which stops the log like any other I/O error.
fn compact_apart<S: Storage + Sync>(
    entries: Arc<Mutex<EntryLog<S>>>,
    compaction: Compaction<S::File>,
) where
    S::File: Sync + 'static,
{
    let compactor = Arc::clone(&entries);
    let spawned = std::thread::Builder::new()
        .name("log-compaction".into())
        .spawn(move || {
            if let Err(e) = copy_then_finish(&compactor, compaction) {
                tracing::error!(error = %e, "entry log compaction failed");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "entry log compaction not started");
        if let Err(e) = lock(&entries).compaction_abandon() {
            tracing::warn!(error = %e, "entry log compaction not abandoned");
        }
    }
}

fn copy_then_finish<S: Storage>(
    entries: &Mutex<EntryLog<S>>,
    mut compaction: Compaction<S::File>,
) -> Result<(), EntryLogError> {
    for round in 0..COMPACTION_ROUNDS_MAX {
        let Some(end) = lock(entries).compaction_end_bytes(&compaction) else {
            break;
        };
        if end - compaction.copied_end_bytes() <= COMPACTION_HELD_COPY_BYTES_MAX {
            break;
        }
        let pace = (round < COMPACTION_PACED_ROUNDS).then_some(COMPACTION_BYTES_PER_S_MAX);
        if let Err(e) = compaction
            .copy_until(end, pace)
            .and_then(|()| compaction.sync())
        {
            lock(entries).compaction_abandon()?;
            return Err(EntryLogError::new(format!("compaction copy: {e}")));
        }
    }
    let replaced = lock(entries).compaction_finish(compaction)?;
    // The lock is released: closing the old file (freeing its blocks) blocks no append.
    if let Some(replaced) = replaced {
        replaced.close();
    }
    Ok(())
}
