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
//!
//! Every start verifies the whole journal, from its oldest segment, not only the part
//! after the snapshot, and holds it against the durable mark
//! ([`crate::journal::durable_mark`]): damage to any record the mark says was fsync'd,
//! a missing segment, or a journal shorter than the mark stops recovery with an error
//! naming the file, the offset and the sequence numbers. Only with
//! [`RecoveryOptions::accept_journal_loss`] (or a loss already recorded for exactly this
//! spot) is the journal cut to its last good record, the loss recorded first
//! ([`crate::journal::loss_acceptance`]).

use std::fmt;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::{Duration, Instant};

use ringex_core::{Engine, EngineConfig, Event, Seq, SnapshotError, TimestampNs};
use ringex_protocol::Input;

use crate::journal::durable_mark::{mark_path, read_mark, DurableMark, MarkState};
use crate::journal::loss_acceptance::{accept_loss, covering_loss};
use crate::journal::loss_record::{read_losses, LossKind, RecordedLoss};
use crate::journal::segment::segment_path;
use crate::journal::{
    oldest_segment_first_seq, scan_journal, scan_whole_journal, JournalConfig, JournalError,
    JournalWriter, Record, ScanMode, ScanSummary, TornTail,
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
            RecoveryError::Journal(e @ JournalError::Corrupt { .. }) => write!(
                f,
                "{e}. Refusing to start: acknowledged inputs may be lost. Restore the data \
                 directory from a backup, or start once with --accept-journal-loss to cut \
                 the journal to its last good record and record the loss (see the \
                 operations guide, \"Journal damage\")"
            ),
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
    options: &RecoveryOptions,
) -> Result<Recovered<S>, RecoveryError> {
    recover_with_options(
        storage,
        dir,
        engine_config,
        journal_config,
        options,
        &mut LogProgress,
    )
}

/// Choices an operator makes at startup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecoveryOptions {
    /// Cut a damaged or short journal to its last good record instead of refusing,
    /// recording the loss durably first.
    pub accept_journal_loss: bool,
}

/// Damage found and cut in one start at most this often: each cut removes at least one
/// record or file, and a journal this damaged is a restore, not a repair.
const ACCEPTED_CUTS_MAX: usize = 16;

/// Recovers the data directory `dir`, reporting replay to `observer`; refuses any loss
/// of durable records.
pub fn recover_with<S: Storage>(
    storage: S,
    dir: &Path,
    engine_config: EngineConfig,
    journal_config: JournalConfig,
    observer: &mut dyn ReplayObserver,
) -> Result<Recovered<S>, RecoveryError> {
    let options = RecoveryOptions::default();
    recover_with_options(
        storage,
        dir,
        engine_config,
        journal_config,
        &options,
        observer,
    )
}

/// Recovers the data directory `dir` under `options`, reporting replay to `observer`.
pub fn recover_with_options<S: Storage>(
    storage: S,
    dir: &Path,
    engine_config: EngineConfig,
    journal_config: JournalConfig,
    options: &RecoveryOptions,
    observer: &mut dyn ReplayObserver,
) -> Result<Recovered<S>, RecoveryError> {
    engine_config.validate().map_err(RecoveryError::Config)?;
    journal_config.validate().map_err(RecoveryError::Config)?;
    let mut cuts = 0;
    loop {
        let attempt = recover_once(
            &storage,
            dir,
            engine_config,
            journal_config,
            options,
            observer,
        );
        let (finding, snapshot_seq) = match attempt {
            Err(Attempt::Damage {
                finding,
                snapshot_seq,
            }) => (finding, snapshot_seq),
            Err(Attempt::Failed(e)) => return Err(e),
            Ok(recovered) => return Ok(recovered),
        };
        let losses = read_losses(&storage, dir)?;
        let recorded = covering_loss(&losses, &finding).is_some();
        if !(options.accept_journal_loss || recorded) || cuts == ACCEPTED_CUTS_MAX {
            return Err(RecoveryError::Journal(finding));
        }
        tracing::warn!(
            error = %finding,
            already_recorded = recorded,
            "journal loss accepted by the operator: cutting to the last good record"
        );
        accept_loss(&storage, dir, &finding, snapshot_seq, &losses)?;
        cuts += 1;
    }
}

/// Why one pass of recovery stopped.
enum Attempt {
    /// Damage an operator may accept: the place, and the snapshot the pass used.
    Damage {
        finding: JournalError,
        snapshot_seq: Seq,
    },
    Failed(RecoveryError),
}

impl From<RecoveryError> for Attempt {
    fn from(e: RecoveryError) -> Self {
        match e {
            RecoveryError::Journal(finding @ JournalError::Corrupt { .. }) => Attempt::Damage {
                finding,
                snapshot_seq: 0,
            },
            other => Attempt::Failed(other),
        }
    }
}

impl From<JournalError> for Attempt {
    fn from(e: JournalError) -> Self {
        Attempt::from(RecoveryError::Journal(e))
    }
}

impl From<SnapshotStoreError> for Attempt {
    fn from(e: SnapshotStoreError) -> Self {
        Attempt::Failed(e.into())
    }
}

fn recover_once<S: Storage>(
    storage: &S,
    dir: &Path,
    engine_config: EngineConfig,
    journal_config: JournalConfig,
    options: &RecoveryOptions,
    observer: &mut dyn ReplayObserver,
) -> Result<Recovered<S>, Attempt> {
    let mark = read_mark(storage, dir)?;
    if mark.is_none() {
        check_mark_not_missing(storage, dir, options)?;
    }
    let store = SnapshotStore::new(storage.clone(), dir);
    let mut rejected = Vec::new();
    let start = newest_usable_snapshot(&store, &engine_config, Seq::MAX, &mut rejected)?;
    let snapshot_seq = start.as_ref().map(|(_, s)| s.seq);
    if let Some(seq) = snapshot_seq {
        check_older_snapshots(&store, seq, &mut rejected)?;
    }
    let (mut engine, chain) = match start {
        Some((engine, stored)) => (engine, stored.chain_checksum),
        None => (
            Engine::new(engine_config).map_err(RecoveryError::Config)?,
            0,
        ),
    };
    let with_snapshot = |finding| Attempt::Damage {
        finding,
        snapshot_seq: snapshot_seq.unwrap_or(0),
    };
    let mode = ScanMode::RepairTornTail;
    let known_durable_seq = match mark {
        // After a clean stop nothing was in flight: no damage is a torn write.
        Some(m) if m.state == MarkState::CleanStop => Seq::MAX,
        Some(m) => m.durable_seq,
        None => 0,
    };
    let replayed = replay(
        storage,
        dir,
        &mut engine,
        chain,
        mode,
        None,
        known_durable_seq,
        observer,
    );
    let (summary, replayed) = match replayed {
        Ok(done) => done,
        Err(RecoveryError::Journal(finding @ JournalError::Corrupt { .. })) => {
            return Err(with_snapshot(finding))
        }
        Err(e) => return Err(Attempt::Failed(e)),
    };
    if !summary.complete {
        return Err(Attempt::Failed(RecoveryError::Inconsistent(format!(
            "the engine refused journaled seq {}",
            engine.last_seq() + 1
        ))));
    }
    if let Some(mark) = mark {
        let losses = read_losses(storage, dir)?;
        check_against_mark(storage, dir, &mark, &losses, &summary).map_err(with_snapshot)?;
    }
    engine
        .check_invariants()
        .map_err(|why| RecoveryError::Inconsistent(format!("recovered state is broken: {why}")))?;
    let writer = JournalWriter::open(storage.clone(), dir, journal_config, &summary.end)?;
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

/// A writer creates the mark before its first record, so a journal with segments and no
/// mark lost it (or was copied without it). Without the mark a damaged record the mark
/// covered would pass for a torn write, so this refuses unless the operator accepts the
/// risk, which is logged: the tail is then judged by the chain alone, once, and the
/// writer creates a new mark at the journal's end.
fn check_mark_not_missing<S: Storage>(
    storage: &S,
    dir: &Path,
    options: &RecoveryOptions,
) -> Result<(), RecoveryError> {
    let Some(oldest) = oldest_segment_first_seq(storage, dir)? else {
        return Ok(());
    };
    if options.accept_journal_loss {
        tracing::warn!(
            mark = %mark_path(dir).display(),
            "journal: the durable mark is missing; accepted by the operator, the tail is \
             judged without it and a new mark is written"
        );
        return Ok(());
    }
    Err(RecoveryError::Inconsistent(format!(
        "{} is missing but the journal holds segments from seq {oldest}: without it a \
         damaged acknowledged record could pass for a torn write. Restore the data \
         directory, or start once with --accept-journal-loss to judge the tail without it",
        mark_path(dir).display()
    )))
}

/// The journal must reach the durable mark and hold, at the mark's seq, the record the
/// mark names: anything shorter lost records that were fsync'd (and perhaps
/// acknowledged), anything else is another history.
fn check_against_mark<S: Storage>(
    storage: &S,
    dir: &Path,
    mark: &DurableMark,
    losses: &[RecordedLoss],
    summary: &ScanSummary,
) -> Result<(), JournalError> {
    let end_seq = summary.end.next_seq - 1;
    // A cut the operator accepted here: the writer now lowers the mark to the end.
    let accepted = losses.iter().any(|l| {
        l.kind == LossKind::AcknowledgedCut
            && l.first_seq == end_seq + 1
            && l.last_seq >= mark.durable_seq
    });
    if end_seq < mark.durable_seq && !accepted {
        let (path, offset) = match summary.end.last_segment {
            Some((first, len)) => (segment_path(dir, first), len),
            None => (segment_path(dir, summary.end.next_seq), 0),
        };
        let what = format!(
            "the journal ends at seq {end_seq}, but the durable mark ({}) says seq {} was \
             fsync'd: seqs {}..={} are missing",
            mark_path(dir).display(),
            mark.durable_seq,
            end_seq + 1,
            mark.durable_seq
        );
        return Err(JournalError::corrupt(&path, offset, end_seq + 1, what));
    }
    let oldest = oldest_segment_first_seq(storage, dir)?.unwrap_or(1);
    if mark.durable_seq == 0 || mark.durable_seq < oldest {
        return Ok(());
    }
    let found = checksum_at(storage, dir, mark.durable_seq)?;
    if found != Some(mark.durable_checksum) {
        let what = format!(
            "the record at seq {} is not the one the durable mark names: the journal was \
             replaced or rewritten",
            mark.durable_seq
        );
        return Err(JournalError::corrupt(
            &mark_path(dir),
            0,
            mark.durable_seq,
            what,
        ));
    }
    Ok(())
}

/// The checksum of the record at `seq`, if the journal holds it.
pub(crate) fn checksum_at<S: Storage>(
    storage: &S,
    dir: &Path,
    seq: Seq,
) -> Result<Option<u32>, JournalError> {
    let mut found = None;
    scan_journal(storage, dir, ScanMode::ReadOnly, seq, seq, &mut |r| {
        found = Some(r.checksum);
        ControlFlow::Break(())
    })?;
    Ok(found)
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

/// Reads back every snapshot older than the one recovery starts from (length, header
/// and body checksum), so damage to one a later recovery or a resuming link might fall back on is
/// reported now, with a warning, not found when it is needed.
fn check_older_snapshots<S: Storage>(
    store: &SnapshotStore<S>,
    used_seq: Seq,
    rejected: &mut Vec<(Seq, String)>,
) -> Result<(), RecoveryError> {
    for seq in store.list()?.into_iter().filter(|&s| s < used_seq) {
        let why = match store.load(seq) {
            Ok(stored) => match Engine::verify_snapshot(&stored.engine_bytes) {
                Ok(()) => continue,
                Err(e) => e.to_string(),
            },
            Err(e @ SnapshotStoreError::Damaged { .. }) => e.to_string(),
            Err(e) => return Err(e.into()),
        };
        tracing::warn!(seq, error = %why, "older snapshot damaged; it will not be used");
        rejected.push((seq, why));
    }
    Ok(())
}

/// Verifies the whole journal, from its oldest segment, and replays it into `engine`
/// from `engine.last_seq() + 1`, checking that the chain continues from
/// `chain_checksum` (the checksum of the record at `engine.last_seq()`), up to `to_seq`
/// or the end. Damage at or before `known_durable_seq` (or the snapshot) is never taken
/// for a torn write. The summary is incomplete if the engine refused a record (or
/// `to_seq` was reached). Returns it and the number of records replayed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn replay<S: Storage>(
    storage: &S,
    dir: &Path,
    engine: &mut Engine,
    chain_checksum: u32,
    mode: ScanMode,
    to_seq: Option<Seq>,
    known_durable_seq: Seq,
    observer: &mut dyn ReplayObserver,
) -> Result<(ScanSummary, u64), RecoveryError> {
    let base_seq = engine.last_seq();
    let oldest = oldest_segment_first_seq(storage, dir)?.unwrap_or(1);
    if oldest > base_seq + 1 {
        let what = format!(
            "journal starts at seq {oldest}, after the wanted seq {}",
            base_seq + 1
        );
        let path = segment_path(dir, oldest);
        return Err(JournalError::corrupt(&path, 0, base_seq + 1, what).into());
    }
    let started = Instant::now();
    let mut events = Vec::with_capacity(256);
    let mut replayed = 0u64;
    let mut broken_chain = None;
    let known = known_durable_seq.max(base_seq);
    let summary = scan_whole_journal(storage, dir, mode, base_seq + 1, known, &mut |record| {
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
