//! The journal tools on a cluster node's data directory, where the journal is the
//! Raft log: `verify` checks it as a start would, writing nothing; `dump` prints the
//! committed inputs; `replay` rebuilds the state at a seq and prints its hash.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use ringex_core::{Engine, EngineConfig, Seq};

use super::committed_inputs::{replay_committed, replay_start, scan_committed};
use super::entry_log::EntryLog;
use super::hard_state::HardState;
use super::input_json::input_json;
use super::log_store::check_holds_committed;
use super::node::RAFT_DIR;
use super::snapshot_file::read_snapshot;
use crate::storage::FileStorage;

/// Why a tool failed.
#[derive(Debug)]
pub enum ToolError {
    /// The log, the hard state or the snapshot could not be read, or is damaged.
    Log(String),
    /// Writing the report failed (a closed pipe, a full disk).
    Output(std::io::Error),
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::Log(why) => f.write_str(why),
            ToolError::Output(e) => write!(f, "writing the report: {e}"),
        }
    }
}

impl std::error::Error for ToolError {}

impl From<std::io::Error> for ToolError {
    fn from(e: std::io::Error) -> Self {
        ToolError::Output(e)
    }
}

/// How `dump` prints an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpFormat {
    /// One readable line per input.
    Text,
    /// One JSON object per line: seq, timestamp_ns, input.
    JsonLines,
}

fn failed(why: String) -> ToolError {
    ToolError::Log(why)
}

fn io_failed(e: std::io::Error) -> ToolError {
    failed(e.to_string())
}

/// Checks every entry (checksums, chain, indexes), the hard state, that the log holds
/// its committed index, and that the snapshot passes its checksum and decodes; prints
/// what the directory holds. Any damage is an error (exit 1), as it would stop a start.
pub fn verify(data_dir: &Path, config: EngineConfig, out: &mut dyn Write) -> Result<(), ToolError> {
    let dir = data_dir.join(RAFT_DIR);
    let hard = HardState::open(FileStorage, &dir).map_err(|e| failed(e.to_string()))?;
    let vote = hard.read_vote().map_err(io_failed)?;
    let purged = hard.read_purged().map_err(io_failed)?;
    let committed = hard.read_committed().map_err(io_failed)?;
    let log = EntryLog::inspect(&FileStorage, &dir).map_err(|e| failed(e.to_string()))?;
    check_holds_committed(&log, purged, committed).map_err(|e| failed(e.to_string()))?;
    writeln!(
        out,
        "raft log {}: {} entries, indexes {}..={}, committed index {}, purged through {}: \
         checksums and chain intact",
        dir.display(),
        log.entry_count(),
        log.first_index().unwrap_or(0),
        log.last_log_id().map_or(0, |l| l.index),
        committed.map_or(0, |c| c.index),
        purged.map_or(0, |p| p.index),
    )?;
    if let Some((meta, bytes)) =
        read_snapshot(&FileStorage, &dir).map_err(|e| failed(e.to_string()))?
    {
        let engine = Engine::decode_snapshot(&bytes, &config)
            .map_err(|e| failed(format!("raft snapshot in {}: {e}", dir.display())))?;
        writeln!(
            out,
            "snapshot at index {} (seq {}): checksum intact, decodes",
            meta.last_log_id.map_or(0, |l| l.index),
            engine.last_seq()
        )?;
    }
    if let Some(v) = vote {
        writeln!(
            out,
            "vote: term {} for node {}",
            v.leader_id.term,
            v.leader_id.voted_for().unwrap_or(0)
        )?;
    }
    if log.torn_tail_bytes() > 0 {
        writeln!(
            out,
            "torn last append: {} bytes after the last whole entry (never reported flushed; \
             cut off at the next start)",
            log.torn_tail_bytes()
        )?;
    }
    Ok(())
}

/// Prints the committed inputs with `from_seq <= seq <= to_seq`; returns how many.
pub fn dump(
    data_dir: &Path,
    format: DumpFormat,
    from_seq: Option<Seq>,
    to_seq: Option<Seq>,
    out: &mut dyn Write,
) -> Result<u64, ToolError> {
    let mut printed = 0u64;
    let mut output_error = None;
    let after = from_seq.unwrap_or(1).saturating_sub(1);
    scan_committed(data_dir, after, &mut |s| {
        if to_seq.is_some_and(|to| s.seq > to) {
            return ControlFlow::Break(());
        }
        let line = match format {
            DumpFormat::Text => format!(
                "seq={} timestamp_ns={} input={:?}",
                s.seq, s.timestamp_ns, s.input
            ),
            DumpFormat::JsonLines => format!(
                "{{\"seq\":{},\"timestamp_ns\":{},\"input\":{}}}",
                s.seq,
                s.timestamp_ns,
                input_json(&s.input)
            ),
        };
        if let Err(e) = writeln!(out, "{line}") {
            output_error = Some(e);
            return ControlFlow::Break(());
        }
        printed += 1;
        ControlFlow::Continue(())
    })
    .map_err(failed)?;
    match output_error {
        Some(e) => Err(ToolError::Output(e)),
        None => Ok(printed),
    }
}

/// Rebuilds the state at `to_seq` (or at the last committed input) and prints its hash.
pub fn replay_to(
    data_dir: &Path,
    config: EngineConfig,
    to_seq: Option<Seq>,
    out: &mut dyn Write,
) -> Result<u64, ToolError> {
    let started = Instant::now();
    let mut engine = replay_start(data_dir, config, to_seq).map_err(failed)?;
    let from_seq = engine.last_seq();
    let replayed =
        replay_committed(data_dir, &mut engine, to_seq, &mut |_, _| {}).map_err(failed)?;
    writeln!(
        out,
        "replayed to seq {} from seq {from_seq} ({replayed} records in {} ms): state_hash={:#018x}",
        engine.last_seq(),
        started.elapsed().as_millis(),
        engine.state_hash()
    )?;
    writeln!(out, "resting_orders={}", engine.resting_orders())?;
    Ok(replayed)
}
