//! The operator's journal tools behind `ringex-engine journal verify|dump|replay`. All
//! read only: they report a torn tail instead of truncating it.

use std::fmt;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::{Duration, Instant};

use ringex_core::{Command, Engine, EngineConfig, Seq, Side, TimeInForce};
use ringex_protocol::Input;

use crate::journal::durable_mark::{read_mark, DurableMark, MarkState};
use crate::journal::loss_record::{read_losses, RecordedLoss};
use crate::journal::{oldest_segment_first_seq, scan_journal, Record, ScanMode, TornTail};
use crate::recovery::{newest_usable_snapshot, replay, RecoveryError, ReplayObserver};
use crate::snapshot_store::SnapshotStore;
use crate::storage::Storage;

#[derive(Debug)]
pub enum ToolError {
    /// The journal or a snapshot could not be read, or is damaged.
    Recovery(RecoveryError),
    /// Writing the report failed (a closed pipe, a full disk).
    Output(std::io::Error),
    /// `replay --to-seq` asked for more than the journal holds.
    NotReached { to_seq: Seq, last_seq: Seq },
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::Recovery(e) => write!(f, "{e}"),
            ToolError::Output(e) => write!(f, "writing the report: {e}"),
            ToolError::NotReached { to_seq, last_seq } => {
                write!(f, "the journal ends at seq {last_seq}, before seq {to_seq}")
            }
        }
    }
}

impl std::error::Error for ToolError {}

impl From<RecoveryError> for ToolError {
    fn from(e: RecoveryError) -> Self {
        ToolError::Recovery(e)
    }
}

impl From<crate::journal::JournalError> for ToolError {
    fn from(e: crate::journal::JournalError) -> Self {
        ToolError::Recovery(e.into())
    }
}

impl From<std::io::Error> for ToolError {
    fn from(e: std::io::Error) -> Self {
        ToolError::Output(e)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifySummary {
    pub segments: usize,
    pub records: u64,
    pub first_seq: Option<Seq>,
    pub last_seq: Seq,
    pub torn_tail: Option<TornTail>,
    pub mark: Option<DurableMark>,
    pub losses: Vec<RecordedLoss>,
}

/// Checks every record and the chain through every segment, and the journal against its
/// durable mark, as a start would; prints a summary, the mark and the recorded losses.
pub fn verify<S: Storage>(
    storage: &S,
    dir: &Path,
    out: &mut dyn Write,
) -> Result<VerifySummary, ToolError> {
    let from = oldest_segment_first_seq(storage, dir)?.unwrap_or(1);
    let mark = read_mark(storage, dir)?;
    let losses = read_losses(storage, dir)?;
    let known_durable_seq = match mark {
        Some(m) if m.state == MarkState::CleanStop => Seq::MAX,
        Some(m) => m.durable_seq,
        None => 0,
    };
    let summary = scan_journal(
        storage,
        dir,
        ScanMode::ReadOnly,
        from,
        known_durable_seq,
        &mut |_| ControlFlow::Continue(()),
    )?;
    let verified = VerifySummary {
        segments: summary.segments_read,
        records: summary.records_verified,
        first_seq: summary.first_seq,
        last_seq: summary.end.next_seq - 1,
        torn_tail: summary.torn_tail,
        mark,
        losses,
    };
    writeln!(
        out,
        "journal {}: {} segments, {} records, seqs {}..={}: checksums and chain intact",
        dir.display(),
        verified.segments,
        verified.records,
        verified.first_seq.unwrap_or(0),
        verified.last_seq,
    )?;
    if let Some(t) = &verified.torn_tail {
        writeln!(
            out,
            "torn tail: {} at offset {} ({} bytes, {}); startup will truncate it",
            t.path.display(),
            t.offset_bytes,
            t.dropped_bytes,
            t.what
        )?;
    }
    match &verified.mark {
        Some(m) => {
            let state = match m.state {
                MarkState::Running => "running (or crashed)",
                MarkState::CleanStop => "clean stop",
            };
            writeln!(
                out,
                "durable mark: seq {} checksum {:#010x} generation {}, {state}",
                m.durable_seq, m.durable_checksum, m.generation
            )?;
            if verified.last_seq < m.durable_seq && verified.losses.is_empty() {
                writeln!(
                    out,
                    "DAMAGE: the journal ends at seq {} before its durable mark: startup \
                     will refuse",
                    verified.last_seq
                )?;
            }
        }
        None => writeln!(
            out,
            "durable mark: none (a journal from before durable marks)"
        )?,
    }
    for loss in &verified.losses {
        writeln!(out, "{}", loss_line(loss))?;
    }
    Ok(verified)
}

fn loss_line(loss: &RecordedLoss) -> String {
    format!(
        "recorded loss: {} seqs {}..={}, journal kept to seq {}, accepted at unix_ms {}",
        loss.kind.name(),
        loss.first_seq,
        loss.last_seq,
        loss.kept_last_seq,
        loss.recorded_unix_ms
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpFormat {
    /// One readable line per record.
    Text,
    /// One JSON object per line: seq, timestamp_ns, checksum, input.
    JsonLines,
}

/// Prints the records with `from_seq <= seq <= to_seq`; returns how many.
pub fn dump<S: Storage>(
    storage: &S,
    dir: &Path,
    format: DumpFormat,
    from_seq: Option<Seq>,
    to_seq: Option<Seq>,
    out: &mut dyn Write,
) -> Result<u64, ToolError> {
    let oldest = oldest_segment_first_seq(storage, dir)?.unwrap_or(1);
    let from = from_seq.unwrap_or(oldest).max(oldest);
    let mut printed = 0u64;
    let mut output_error = None;
    scan_journal(storage, dir, ScanMode::ReadOnly, from, 0, &mut |record| {
        if to_seq.is_some_and(|to| record.seq > to) {
            return ControlFlow::Break(());
        }
        let line = match format {
            DumpFormat::Text => text_line(record),
            DumpFormat::JsonLines => json_line(record),
        };
        if let Err(e) = writeln!(out, "{line}") {
            output_error = Some(e);
            return ControlFlow::Break(());
        }
        printed += 1;
        ControlFlow::Continue(())
    })?;
    if let Some(e) = output_error {
        return Err(ToolError::Output(e));
    }
    // Losses an operator accepted, after the records: the gaps a reader should know of.
    for loss in read_losses(storage, dir)? {
        match format {
            DumpFormat::Text => writeln!(out, "# {}", loss_line(&loss))?,
            DumpFormat::JsonLines => writeln!(
                out,
                "{{\"recorded_loss\":{{\"kind\":\"{}\",\"first_seq\":{},\"last_seq\":{},\
                 \"kept_last_seq\":{},\"recorded_unix_ms\":{}}}}}",
                loss.kind.name(),
                loss.first_seq,
                loss.last_seq,
                loss.kept_last_seq,
                loss.recorded_unix_ms
            )?,
        }
    }
    Ok(printed)
}

fn text_line(r: &Record) -> String {
    format!(
        "seq={} timestamp_ns={} checksum={:#010x} input={:?}",
        r.seq, r.timestamp_ns, r.checksum, r.input
    )
}

fn json_line(r: &Record) -> String {
    format!(
        "{{\"seq\":{},\"timestamp_ns\":{},\"checksum\":{},\"input\":{}}}",
        r.seq,
        r.timestamp_ns,
        r.checksum,
        input_json(&r.input)
    )
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn time_in_force_name(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Gtc => "gtc",
        TimeInForce::Ioc => "ioc",
        TimeInForce::Fok => "fok",
        TimeInForce::Day => "day",
    }
}

/// An input as a JSON object; every field is a number, a boolean or a fixed name.
pub(crate) fn input_json(input: &Input) -> String {
    let cmd = match input {
        Input::TakeSnapshot => return "{\"type\":\"take_snapshot\"}".to_owned(),
        Input::Shutdown => return "{\"type\":\"shutdown\"}".to_owned(),
        Input::Command(cmd) => cmd,
    };
    match cmd {
        Command::NewOrder(c) => format!(
            "{{\"type\":\"new_order\",\"account\":{},\"instrument\":{},\"client_order_id\":{},\
             \"side\":\"{}\",\"order_type\":\"{}\",\"time_in_force\":\"{}\",\"post_only\":{},\
             \"price\":{},\"qty\":{}}}",
            c.account,
            c.instrument,
            c.client_order_id,
            side_name(c.side),
            match c.order_type {
                ringex_core::OrderType::Limit => "limit",
                ringex_core::OrderType::Market => "market",
            },
            time_in_force_name(c.time_in_force),
            c.post_only,
            c.price,
            c.qty
        ),
        Command::Cancel(c) => format!(
            "{{\"type\":\"cancel\",\"account\":{},\"client_order_id\":{}}}",
            c.account, c.client_order_id
        ),
        Command::Replace(c) => format!(
            "{{\"type\":\"replace\",\"account\":{},\"orig_client_order_id\":{},\
             \"client_order_id\":{},\"price\":{},\"qty\":{}}}",
            c.account, c.orig_client_order_id, c.client_order_id, c.price, c.qty
        ),
        Command::MassCancel(c) => format!(
            "{{\"type\":\"mass_cancel\",\"account\":{},\"instrument\":{}}}",
            c.account,
            c.instrument.map_or("null".to_owned(), |i| i.to_string())
        ),
        Command::EndOfDay => "{\"type\":\"end_of_day\"}".to_owned(),
        Command::AddInstrument(s) => format!(
            "{{\"type\":\"add_instrument\",\"instrument\":{},\"tick_size\":{},\"lot_size\":{},\
             \"reference_price\":{},\"price_band_bps\":{}}}",
            s.instrument, s.tick_size, s.lot_size, s.reference_price, s.price_band_bps
        ),
        Command::AddAccount(s) => format!(
            "{{\"type\":\"add_account\",\"account\":{},\"max_order_qty\":{},\
             \"max_order_notional\":{},\"max_open_orders\":{}}}",
            s.account,
            s.limits.max_order_qty,
            s.limits.max_order_notional,
            s.limits.max_open_orders
        ),
        Command::SetHalted { instrument, halted } => {
            format!("{{\"type\":\"set_halted\",\"instrument\":{instrument},\"halted\":{halted}}}")
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplaySummary {
    /// The snapshot the replay started from, if one at or before the target was usable.
    pub snapshot_seq: Option<Seq>,
    pub replayed_records: u64,
    pub last_seq: Seq,
    pub state_hash: u64,
    pub elapsed: Duration,
}

struct Quiet;

impl ReplayObserver for Quiet {}

/// Rebuilds the state at `to_seq` (or at the end of the journal) from the newest usable
/// snapshot at or before it and the journal after; prints the state hash and a summary.
pub fn replay_to<S: Storage>(
    storage: &S,
    dir: &Path,
    engine_config: EngineConfig,
    to_seq: Option<Seq>,
    out: &mut dyn Write,
) -> Result<ReplaySummary, ToolError> {
    let (engine, summary) = rebuild(storage, dir, engine_config, to_seq, true)?;
    writeln!(
        out,
        "replayed to seq {} from {} ({} records in {} ms): state_hash={:#018x}",
        summary.last_seq,
        summary
            .snapshot_seq
            .map_or("an empty engine".to_owned(), |s| format!(
                "the snapshot at seq {s}"
            )),
        summary.replayed_records,
        summary.elapsed.as_millis(),
        summary.state_hash
    )?;
    writeln!(out, "resting_orders={}", engine.resting_orders())?;
    Ok(summary)
}

/// Replay speed, for the daemon benchmark.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplayRate {
    pub records: u64,
    pub elapsed: Duration,
    pub records_per_s: f64,
}

/// Replays the whole journal in `dir` into an empty engine, ignoring snapshots, and
/// times it: verification, decoding and matching, as a restart without a snapshot does.
pub fn measure_replay_rate<S: Storage>(
    storage: &S,
    dir: &Path,
    engine_config: EngineConfig,
) -> Result<ReplayRate, ToolError> {
    let (_, summary) = rebuild(storage, dir, engine_config, None, false)?;
    let seconds = summary.elapsed.as_secs_f64().max(1e-9);
    Ok(ReplayRate {
        records: summary.replayed_records,
        elapsed: summary.elapsed,
        records_per_s: summary.replayed_records as f64 / seconds,
    })
}

fn rebuild<S: Storage>(
    storage: &S,
    dir: &Path,
    engine_config: EngineConfig,
    to_seq: Option<Seq>,
    use_snapshots: bool,
) -> Result<(Engine, ReplaySummary), ToolError> {
    engine_config.validate().map_err(RecoveryError::Config)?;
    let started = Instant::now();
    let store = SnapshotStore::new(storage.clone(), dir);
    let mut rejected = Vec::new();
    let at_most = to_seq.unwrap_or(Seq::MAX);
    let start = if use_snapshots {
        newest_usable_snapshot(&store, &engine_config, at_most, &mut rejected)?
    } else {
        None
    };
    let snapshot_seq = start.as_ref().map(|(_, s)| s.seq);
    let (mut engine, chain) = match start {
        Some((engine, stored)) => (engine, stored.chain_checksum),
        None => (
            Engine::new(engine_config).map_err(RecoveryError::Config)?,
            0,
        ),
    };
    let mut replayed = 0;
    if engine.last_seq() != at_most {
        let mode = ScanMode::ReadOnly;
        let (summary, count) = replay(
            storage,
            dir,
            &mut engine,
            chain,
            mode,
            to_seq,
            0,
            &mut Quiet,
        )?;
        replayed = count;
        // The scan stops early only at the target, or where the engine refused a record.
        if !summary.complete && to_seq != Some(engine.last_seq()) {
            let what = format!("the engine refused journaled seq {}", engine.last_seq() + 1);
            return Err(RecoveryError::Inconsistent(what).into());
        }
    }
    let last_seq = engine.last_seq();
    if let Some(to_seq) = to_seq.filter(|&to| to != last_seq) {
        return Err(ToolError::NotReached { to_seq, last_seq });
    }
    let replay_summary = ReplaySummary {
        snapshot_seq,
        replayed_records: replayed,
        last_seq,
        state_hash: engine.state_hash(),
        elapsed: started.elapsed(),
    };
    Ok((engine, replay_summary))
}
