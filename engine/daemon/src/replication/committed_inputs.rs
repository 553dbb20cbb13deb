//! Reading a node's committed inputs back out of its Raft log, without openraft and
//! without writing: for the journal tools (`dump`, `replay`) on a cluster node's data
//! directory and for gateways resuming from further back than the history window.
//!
//! The log file is read front to back one record at a time (memory bounded by the
//! largest record), every record checked as when the node opens it; reading stops at
//! the committed index the node last saved, so an entry a later leader may still
//! replace is never shown, and at a record still being written.

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use openraft::EntryPayload;
use ringex_core::{Engine, EngineConfig, Event, Seq};

use super::entry_log::LOG_FILE;
use super::entry_record::{claimed_size, decode_entry};
use super::hard_state::HardState;
use super::input_batch::StampedInput;
use super::node::RAFT_DIR;
use super::snapshot_file::read_snapshot;
use crate::apply_input::apply_input;
use crate::storage::FileStorage;

/// Read-ahead for the sequential scan.
const READ_BUFFER_BYTES: usize = 1 << 20;

/// Whether `data_dir` belongs to a cluster node (its journal is a Raft log).
pub fn is_raft_data_dir(data_dir: &Path) -> bool {
    data_dir.join(RAFT_DIR).join(LOG_FILE).exists()
}

/// Calls `visit` with every committed input after `after_seq`, in order, until it
/// breaks or the committed inputs end.
pub fn scan_committed(
    data_dir: &Path,
    after_seq: Seq,
    visit: &mut dyn FnMut(&StampedInput) -> ControlFlow<()>,
) -> Result<(), String> {
    let dir = data_dir.join(RAFT_DIR);
    let committed = HardState::open(FileStorage, &dir)
        .and_then(|h| h.read_committed())
        .map_err(|e| format!("raft state in {}: {e}", dir.display()))?;
    let Some(committed) = committed else {
        return Ok(());
    };
    let path = dir.join(LOG_FILE);
    let file = File::open(&path).map_err(|e| format!("opening {}: {e}", path.display()))?;
    let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
    let mut record = Vec::new();
    let mut offset_bytes = 0u64;
    let mut next_seq = after_seq + 1;
    loop {
        match read_record(&mut reader, &mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(why) => return Err(format!("{} at byte {offset_bytes}: {why}", path.display())),
        }
        offset_bytes += record.len() as u64;
        let (entry, _) = decode_entry(&record).map_err(|f| {
            format!(
                "{} at byte {offset_bytes}: {}",
                path.display(),
                f.describe()
            )
        })?;
        if entry.log_id.index > committed.index {
            return Ok(());
        }
        let EntryPayload::Normal(batch) = entry.payload else {
            continue;
        };
        for stamped in batch.inputs() {
            if stamped.seq <= after_seq {
                continue;
            }
            if stamped.seq != next_seq {
                return Err(format!(
                    "{} holds seq {} next, not {next_seq}: the log no longer reaches back \
                     that far (its head is in the snapshot)",
                    path.display(),
                    stamped.seq
                ));
            }
            next_seq += 1;
            if visit(stamped).is_break() {
                return Ok(());
            }
        }
    }
}

/// Reads the next whole record into `record`; false at the end of what is written.
fn read_record(reader: &mut impl Read, record: &mut Vec<u8>) -> Result<bool, String> {
    let mut size_field = [0u8; 4];
    if read_full(reader, &mut size_field)? < size_field.len() {
        // Nothing more, or a size field still being written.
        return Ok(false);
    }
    let size = claimed_size(&size_field).map_err(|f| f.describe().to_string())?;
    record.clear();
    record.extend_from_slice(&size_field);
    record.resize(size, 0);
    if read_full(reader, &mut record[4..])? < size - 4 {
        // Being appended right now (or torn): the committed part ends before it.
        return Ok(false);
    }
    Ok(true)
}

/// Reads until `buf` is full or the file ends; how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, String> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(filled)
}

/// The engine to replay from for a target of `to_seq`: the node's snapshot if it lies
/// at or before it, else an empty engine (which the log then reaches back to only
/// until the first compaction below a snapshot: a scan says so).
pub fn replay_start(
    data_dir: &Path,
    config: EngineConfig,
    to_seq: Option<Seq>,
) -> Result<Engine, String> {
    let dir = data_dir.join(RAFT_DIR);
    if let Some((_, bytes)) = read_snapshot(&FileStorage, &dir).map_err(|e| e.to_string())? {
        let engine = Engine::decode_snapshot(&bytes, &config)
            .map_err(|e| format!("raft snapshot in {}: {e}", dir.display()))?;
        if to_seq.is_none_or(|to| engine.last_seq() <= to) {
            return Ok(engine);
        }
    }
    Engine::new(config).map_err(|e| e.to_string())
}

/// Applies the committed inputs after `engine`'s last seq through `to_seq` (or to the
/// last committed one), calling `applied` with each input and its events; how many.
pub fn replay_committed(
    data_dir: &Path,
    engine: &mut Engine,
    to_seq: Option<Seq>,
    applied: &mut dyn FnMut(&StampedInput, &[Event]),
) -> Result<u64, String> {
    let mut events: Vec<Event> = Vec::new();
    let mut replayed = 0u64;
    let mut refused = None;
    scan_committed(data_dir, engine.last_seq(), &mut |s| {
        if to_seq.is_some_and(|to| s.seq > to) {
            return ControlFlow::Break(());
        }
        apply_input(engine, s.seq, s.timestamp_ns, &s.input, &mut events);
        if engine.last_seq() != s.seq {
            refused = Some(s.seq);
            return ControlFlow::Break(());
        }
        applied(s, &events);
        events.clear();
        replayed += 1;
        ControlFlow::Continue(())
    })?;
    match refused {
        Some(seq) => Err(format!(
            "the engine refused the committed input at seq {seq}"
        )),
        None => Ok(replayed),
    }
}
