//! The journal tools on a cluster node's data directory, where the journal is the
//! Raft log: `dump` prints the committed inputs, `replay` rebuilds the state at a seq
//! and prints its hash, in the same formats as on the embedded daemon's journal.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use ringex_core::{EngineConfig, Seq};

use super::committed_inputs::{replay_committed, replay_start, scan_committed};
use crate::journal_tools::{input_json, DumpFormat, ToolError};

fn failed(why: String) -> ToolError {
    ToolError::Output(std::io::Error::other(why))
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
