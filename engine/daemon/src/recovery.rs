//! Recovery: from the data directory back to the state the daemon had, and a journal
//! writer ready for the next sequence number.
//!
//! The newest snapshot that reads back intact is loaded (a damaged one is passed over
//! for the one before it, with more journal to replay); the journal is then verified and
//! replayed from the record after the snapshot, its chain checked across the boundary
//! against the checksum the snapshot recorded. A torn last record is truncated; any
//! other damage stops recovery with an error. Replay goes through [`apply_input`], the
//! same function the live matcher uses, so it produces the same events and the same
//! state hash.

use std::fmt;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::{Duration, Instant};

use ringex_core::{Engine, EngineConfig, Event, Seq, SnapshotError, TimestampNs};
use ringex_protocol::Input;

use crate::journal::{
    scan_journal, JournalConfig, JournalError, JournalWriter, Record, ScanMode, ScanSummary,
    TornTail,
};
use crate::snapshot_store::{SnapshotStore, SnapshotStoreError, StoredSnapshot};
use crate::storage::Storage;

/// Records between two progress reports while replaying.
pub const PROGRESS_EVERY_RECORDS: u64 = 1 << 20;

/// Applies one sequenced input to the engine, appending its events to `out`. The live
/// matcher and every replay call this, so they cannot diverge. Controls (snapshot
/// points, shutdown) consume their sequence number and change nothing else.
pub fn apply_input(
    engine: &mut Engine,
    seq: Seq,
    timestamp_ns: TimestampNs,
    input: &Input,
    out: &mut Vec<Event>,
) {
    match input {
        Input::Command(cmd) => engine.apply(seq, timestamp_ns, cmd, out),
        Input::TakeSnapshot | Input::Shutdown => {
            // A refusal leaves `last_seq` behind, which callers check.
            engine.apply_marker(seq, timestamp_ns);
        }
    }
}

/// How far a replay has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayProgress {
    pub replayed_records: u64,
    pub last_seq: Seq,
    pub elapsed: Duration,
}

/// Watches a replay: progress every [`PROGRESS_EVERY_RECORDS`] records, and every
/// record with the events it produced (for tests and tools that compare streams).
pub trait ReplayObserver {
    fn progress(&mut self, _progress: &ReplayProgress) {}
    fn applied(&mut self, _record: &Record, _events: &[Event]) {}
}

/// Logs progress and nothing else.
pub struct LogProgress;

impl ReplayObserver for LogProgress {
    fn progress(&mut self, p: &ReplayProgress) {
        tracing::info!(
            replayed = p.replayed_records,
            last_seq = p.last_seq,
            elapsed_ms = p.elapsed.as_millis() as u64,
            "replaying the journal"
        );
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecoveryError {
    Journal(JournalError),
    Snapshot(SnapshotStoreError),
    /// A snapshot was taken with other engine capacities than configured now; replaying
    /// with different capacities would not reproduce the same state.
    ConfigMismatch {
        seq: Seq,
    },
    /// The engine or journal settings are invalid.
    Config(&'static str),
    /// The snapshot and the journal do not describe one history.
    Inconsistent(String),
}

impl fmt::Display for RecoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoveryError::Journal(e) => write!(f, "{e}"),
            RecoveryError::Snapshot(e) => write!(f, "{e}"),
            RecoveryError::ConfigMismatch { seq } => write!(
                f,
                "snapshot at seq {seq} was taken with other engine capacities than configured"
            ),
            RecoveryError::Config(why) => write!(f, "invalid configuration: {why}"),
            RecoveryError::Inconsistent(why) => write!(f, "cannot recover: {why}"),
        }
    }
}

impl std::error::Error for RecoveryError {}

impl From<JournalError> for RecoveryError {
    fn from(e: JournalError) -> Self {
        RecoveryError::Journal(e)
    }
}

impl From<SnapshotStoreError> for RecoveryError {
    fn from(e: SnapshotStoreError) -> Self {
        RecoveryError::Snapshot(e)
    }
}

/// What recovery found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The snapshot the state was loaded from, if any.
    pub snapshot_seq: Option<Seq>,
    /// Snapshots passed over as damaged, newest first, with the reason.
    pub snapshots_rejected: Vec<(Seq, String)>,
    pub replayed_records: u64,
    pub torn_tail: Option<TornTail>,
    pub last_seq: Seq,
    pub state_hash: u64,
}

pub struct Recovered<S: Storage> {
    pub engine: Engine,
    /// Positioned to append `engine.last_seq() + 1`.
    pub writer: JournalWriter<S>,
    /// The timestamp of the last input, which the sequencer must not go below.
    pub last_timestamp_ns: TimestampNs,
    pub report: RecoveryReport,
}

/// Recovers the data directory `dir`, logging replay progress.
pub fn recover<S: Storage>(
    storage: S,
    dir: &Path,
    engine_config: EngineConfig,
    journal_config: JournalConfig,
) -> Result<Recovered<S>, RecoveryError> {
    recover_with(
        storage,
        dir,
        engine_config,
        journal_config,
        &mut LogProgress,
    )
}

/// Recovers the data directory `dir`, reporting replay to `observer`.
pub fn recover_with<S: Storage>(
    storage: S,
    dir: &Path,
    engine_config: EngineConfig,
    journal_config: JournalConfig,
    observer: &mut dyn ReplayObserver,
) -> Result<Recovered<S>, RecoveryError> {
    engine_config.validate().map_err(RecoveryError::Config)?;
    journal_config.validate().map_err(RecoveryError::Config)?;
    let store = SnapshotStore::new(storage.clone(), dir);
    let mut rejected = Vec::new();
    let start = newest_usable_snapshot(&store, &engine_config, Seq::MAX, &mut rejected)?;
    let snapshot_seq = start.as_ref().map(|(_, s)| s.seq);
    let (mut engine, chain) = match start {
        Some((engine, stored)) => (engine, stored.chain_checksum),
        None => (
            Engine::new(engine_config).map_err(RecoveryError::Config)?,
            0,
        ),
    };
    let mode = ScanMode::RepairTornTail;
    let (summary, replayed) = replay(&storage, dir, &mut engine, chain, mode, None, observer)?;
    if !summary.complete {
        return Err(RecoveryError::Inconsistent(format!(
            "the engine refused journaled seq {}",
            engine.last_seq() + 1
        )));
    }
    engine
        .check_invariants()
        .map_err(|why| RecoveryError::Inconsistent(format!("recovered state is broken: {why}")))?;
    let writer = JournalWriter::open(storage, dir, journal_config, &summary.end)?;
    assert_eq!(writer.next_seq(), engine.last_seq() + 1);
    let report = RecoveryReport {
        snapshot_seq,
        snapshots_rejected: rejected,
        replayed_records: replayed,
        torn_tail: summary.torn_tail,
        last_seq: engine.last_seq(),
        state_hash: engine.state_hash(),
    };
    Ok(Recovered {
        last_timestamp_ns: summary.end.last_timestamp_ns,
        engine,
        writer,
        report,
    })
}

/// The newest snapshot with `seq <= at_most` that reads back and decodes, as an engine.
/// Damaged ones are logged and listed in `rejected`; a snapshot of other capacities is
/// an error, since no older one can be of the right ones either.
pub(crate) fn newest_usable_snapshot<S: Storage>(
    store: &SnapshotStore<S>,
    config: &EngineConfig,
    at_most: Seq,
    rejected: &mut Vec<(Seq, String)>,
) -> Result<Option<(Engine, StoredSnapshot)>, RecoveryError> {
    for seq in store.list()?.into_iter().filter(|&s| s <= at_most) {
        let stored = match store.load(seq) {
            Ok(stored) => stored,
            Err(e @ SnapshotStoreError::Damaged { .. }) => {
                tracing::warn!(seq, error = %e, "snapshot passed over");
                rejected.push((seq, e.to_string()));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        match Engine::decode_snapshot(&stored.engine_bytes, config) {
            Ok(engine) if engine.last_seq() == seq => return Ok(Some((engine, stored))),
            Ok(engine) => {
                let why = format!("holds the state at seq {}", engine.last_seq());
                tracing::warn!(seq, why, "snapshot passed over");
                rejected.push((seq, why));
            }
            Err(SnapshotError::ConfigMismatch) => {
                return Err(RecoveryError::ConfigMismatch { seq });
            }
            Err(e) => {
                tracing::warn!(seq, error = %e, "snapshot passed over");
                rejected.push((seq, e.to_string()));
            }
        }
    }
    Ok(None)
}

/// Replays the journal into `engine` from `engine.last_seq() + 1`, checking that the
/// chain continues from `chain_checksum` (the checksum of the record at
/// `engine.last_seq()`), up to `to_seq` or the end. The summary is incomplete if the
/// engine refused a record (or `to_seq` was reached). Returns it and the number of
/// records replayed.
pub(crate) fn replay<S: Storage>(
    storage: &S,
    dir: &Path,
    engine: &mut Engine,
    chain_checksum: u32,
    mode: ScanMode,
    to_seq: Option<Seq>,
    observer: &mut dyn ReplayObserver,
) -> Result<(ScanSummary, u64), RecoveryError> {
    let base_seq = engine.last_seq();
    let started = Instant::now();
    let mut events = Vec::with_capacity(256);
    let mut replayed = 0u64;
    let mut broken_chain = None;
    let summary = scan_journal(storage, dir, mode, base_seq + 1, base_seq, &mut |record| {
        if record.seq == base_seq + 1 && record.prev_checksum != chain_checksum {
            broken_chain = Some(record.prev_checksum);
            return ControlFlow::Break(());
        }
        events.clear();
        apply_input(
            engine,
            record.seq,
            record.timestamp_ns,
            &record.input,
            &mut events,
        );
        if engine.last_seq() != record.seq {
            return ControlFlow::Break(());
        }
        observer.applied(record, &events);
        replayed += 1;
        if replayed.is_multiple_of(PROGRESS_EVERY_RECORDS) {
            observer.progress(&ReplayProgress {
                replayed_records: replayed,
                last_seq: record.seq,
                elapsed: started.elapsed(),
            });
        }
        if to_seq == Some(record.seq) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    let end = summary.end;
    let inconsistent = if let Some(found) = broken_chain {
        Some(format!(
            "the journal after seq {base_seq} chains from {found:#010x}, the snapshot at \
             seq {base_seq} recorded {chain_checksum:#010x}: they are not one history"
        ))
    } else if end.next_seq <= base_seq {
        Some(format!(
            "the journal ends at seq {} but the snapshot covers seq {base_seq}: journal \
             data is missing",
            end.next_seq - 1
        ))
    } else if end.next_seq == base_seq + 1 && end.last_checksum != chain_checksum {
        Some(format!(
            "the journal's record at seq {base_seq} does not match the snapshot's checksum"
        ))
    } else {
        None
    };
    if let Some(why) = inconsistent {
        return Err(RecoveryError::Inconsistent(why));
    }
    observer.progress(&ReplayProgress {
        replayed_records: replayed,
        last_seq: engine.last_seq(),
        elapsed: started.elapsed(),
    });
    Ok((summary, replayed))
}
