//! The Raft entry log under seeded storage faults, on the simulated disk:
//!
//! - power lost during any storage operation of a run of appends (one to four entries
//!   each) and truncations: the log reopens holding every append reported flushed, then
//!   at most a whole-entry prefix of the append that was being written, never anything
//!   else; and goes on appending;
//! - injected EIO on writes and fsyncs: the first failure stops the log for good, and
//!   what reopens after a crash holds every flushed append;
//! - every bit flip in the last records, and zeros past the last record: the log either
//!   keeps every flushed entry but a torn last one, or refuses naming the damage;
//! - the hard state: every flipped bit of the vote or the purge point is refused, and of
//!   the committed index reads as none (a torn in-place write); never as another value.

mod workload;

use std::path::Path;

use openraft::{CommittedLeaderId, Entry, LogId, Vote};
use ringex_daemon::durability::Durability;
use ringex_daemon::replication::entry_log::{EntryLog, LOG_FILE};
use ringex_daemon::replication::hard_state::{HardState, COMMITTED_FILE, PURGED_FILE, VOTE_FILE};
use ringex_daemon::replication::type_config::RingexRaft;
use ringex_daemon::storage::simulated::{FaultPlan, SimulatedStorage};
use workload::{raft_entry, Rng, Workload};

const DIR: &str = "/data/raft";
const INPUTS_PER_ENTRY: u64 = 6;

fn dir() -> &'static Path {
    Path::new(DIR)
}

fn open(storage: &SimulatedStorage) -> Result<EntryLog<SimulatedStorage>, String> {
    EntryLog::open(storage, dir(), Durability::Fsync).map_err(|e| e.to_string())
}

fn held(log: &EntryLog<SimulatedStorage>) -> Vec<Entry<RingexRaft>> {
    log.read_range(..).expect("reads")
}

/// One step of a run: what the log should hold if it succeeds.
struct Step {
    before: Vec<Entry<RingexRaft>>,
    after: Vec<Entry<RingexRaft>>,
}

/// Appends (one to four entries at a time) and now and then truncates a suffix, as a
/// follower overridden by a new leader does; the terms grow with each truncation.
/// Returns the step that failed (the crash or the error), if any, and the last model
/// the log reported durable.
fn run(
    log: &mut EntryLog<SimulatedStorage>,
    rng: &mut Rng,
    steps: u64,
) -> (Option<Step>, Vec<Entry<RingexRaft>>) {
    let mut model: Vec<Entry<RingexRaft>> = Vec::new();
    let mut workload = Workload::new(rng.next_u64());
    let mut term = 1;
    for _ in 0..steps {
        let before = model.clone();
        let result = if rng.below(8) == 0 && model.len() > 2 {
            let from = model.len() as u64 - rng.below(2);
            term += 1;
            model.truncate(from as usize - 1);
            log.truncate_from(from)
        } else {
            let next = model.last().map_or(1, |e| e.log_id.index + 1);
            let entries: Vec<_> = (0..1 + rng.below(4))
                .map(|i| raft_entry(&mut workload, next + i, term, INPUTS_PER_ENTRY))
                .collect();
            model.extend(entries.iter().cloned());
            log.append(&entries)
        };
        if result.is_err() {
            let after = std::mem::replace(&mut model, before.clone());
            return (Some(Step { before, after }), model);
        }
    }
    (None, model)
}

/// What may survive a failed step: the log before it, or (an append) the log before it
/// plus whole entries of what it wrote, or (a truncation) the log after it.
fn assert_allowed(held: &[Entry<RingexRaft>], step: &Step, seed: u64) {
    let grew = step.after.len() > step.before.len();
    let ok = if grew {
        held.len() >= step.before.len() && step.after.starts_with(held)
    } else {
        held == step.before.as_slice() || held == step.after.as_slice()
    };
    assert!(
        ok,
        "seed {seed}: {} entries held, {} before the failed step, {} after",
        held.len(),
        step.before.len(),
        step.after.len()
    );
}

#[test]
fn power_loss_during_any_operation_keeps_every_flushed_append() {
    for seed in 0..300u64 {
        let mut rng = Rng(seed);
        let storage = SimulatedStorage::new(seed);
        let mut log = open(&storage).expect("opens");
        storage.crash_during_operation(1 + rng.below(80));
        let (failed, durable) = run(&mut log, &mut rng, 40);
        storage.crash();
        let mut log = open(&storage).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let kept = held(&log);
        match failed {
            Some(step) => assert_allowed(&kept, &step, seed),
            None => assert_eq!(kept, durable, "seed {seed}"),
        }
        // The reopened log goes on: the next append follows what it holds.
        let next = kept.last().map_or(1, |e| e.log_id.index + 1);
        let term = kept.last().map_or(1, |e| e.log_id.leader_id.term);
        let entry = raft_entry(&mut Workload::new(seed), next, term, INPUTS_PER_ENTRY);
        log.append(std::slice::from_ref(&entry)).expect("appends");
        storage.crash();
        let reopened = open(&storage).expect("reopens");
        assert_eq!(held(&reopened).last(), Some(&entry), "seed {seed}");
    }
}

#[test]
fn an_io_error_stops_the_log_for_good_and_loses_nothing_flushed() {
    for seed in 0..200u64 {
        let mut rng = Rng(seed ^ 0xE10);
        let storage = SimulatedStorage::new(seed);
        let mut log = open(&storage).expect("opens");
        storage.set_faults(FaultPlan {
            write_eio_per_million: 20_000,
            sync_eio_per_million: 20_000,
        });
        let (failed, _) = run(&mut log, &mut rng, 60);
        let Some(step) = failed else { continue };
        // Fail-stop: nothing more is written or read through this log.
        let next = step.before.last().map_or(1, |e| e.log_id.index + 1);
        let more = raft_entry(&mut Workload::new(1), next, 9, INPUTS_PER_ENTRY);
        let refused = log.append(&[more]).expect_err("stopped");
        assert!(refused.to_string().contains("stopped after"), "{refused}");
        assert!(
            log.read_range(..).is_err(),
            "seed {seed}: reads after a failure"
        );
        storage.crash();
        let kept = held(&open(&storage).unwrap_or_else(|e| panic!("seed {seed}: {e}")));
        assert_allowed(&kept, &step, seed);
    }
}

/// A disk holding `entries` flushed appends of one entry each, and the byte offset of
/// each record.
fn written(entries: u64) -> (SimulatedStorage, Vec<u64>) {
    let storage = SimulatedStorage::new(21);
    let mut log = open(&storage).expect("opens");
    let mut workload = Workload::new(8);
    let path = dir().join(LOG_FILE);
    let mut offsets = Vec::new();
    for index in 1..=entries {
        offsets.push(storage.file_len_bytes(&path).expect("exists"));
        let entry = raft_entry(&mut workload, index, 1 + index / 4, INPUTS_PER_ENTRY);
        log.append(&[entry]).expect("appends");
    }
    storage.crash();
    (storage, offsets)
}

#[test]
fn every_bit_flip_in_the_last_records_keeps_the_flushed_or_refuses() {
    const ENTRIES: u64 = 6;
    let (storage, offsets) = written(ENTRIES);
    let path = dir().join(LOG_FILE);
    let len = storage.file_len_bytes(&path).expect("exists");
    let last_start = offsets[ENTRIES as usize - 1];
    for bit in offsets[ENTRIES as usize - 3] * 8..len * 8 {
        let s = storage.fork();
        s.flip_bit(&path, bit);
        match open(&s) {
            // Only the last record may go, and only as a torn append.
            Ok(log) => {
                let held = log.last_log_id().map_or(0, |l| l.index);
                assert!(held >= ENTRIES - 1, "bit {bit}: only {held} entries kept");
                if held == ENTRIES - 1 {
                    assert!(bit >= last_start * 8, "bit {bit}: an earlier record cut");
                }
            }
            Err(e) => assert!(e.contains("damaged at byte"), "bit {bit}: {e}"),
        }
    }
}

#[test]
fn zeros_past_the_last_record_are_a_torn_append() {
    const ENTRIES: u64 = 4;
    let (storage, _) = written(ENTRIES);
    let path = dir().join(LOG_FILE);
    let len = storage.file_len_bytes(&path).expect("exists");
    // A crash that grew the file but never wrote the append's bytes leaves zeros.
    for zeros in [1u64, 4, 37, 4096] {
        let s = storage.fork();
        let mut file = ringex_daemon::storage::Storage::open(&s, &path).expect("opens");
        ringex_daemon::storage::StorageFile::write_all_at(
            &mut file,
            len,
            &vec![0u8; zeros as usize],
        )
        .expect("writes");
        ringex_daemon::storage::StorageFile::sync(&mut file).expect("syncs");
        drop(file);
        let log = open(&s).unwrap_or_else(|e| panic!("{zeros} zeros: {e}"));
        assert_eq!(log.last_log_id().map(|l| l.index), Some(ENTRIES));
        assert_eq!(
            s.file_len_bytes(&path),
            Some(len),
            "cut back to the last record"
        );
    }
}

#[test]
fn every_record_carries_its_term_and_a_record_from_another_history_is_refused() {
    const ENTRIES: u64 = 8;
    let (storage, offsets) = written(ENTRIES);
    let log = open(&storage).expect("opens");
    for entry in held(&log) {
        assert_eq!(entry.log_id.leader_id.term, 1 + entry.log_id.index / 4);
    }
    // Records swapped: each is whole and checksummed, but the chain breaks.
    let path = dir().join(LOG_FILE);
    let len = storage.file_len_bytes(&path).expect("exists");
    let (s, bytes) = (storage.fork(), read_all(&storage, &path, len));
    let (a, b, c) = (
        offsets[2] as usize,
        offsets[3] as usize,
        offsets[4] as usize,
    );
    let mut swapped = bytes[..a].to_vec();
    swapped.extend_from_slice(&bytes[b..c]);
    swapped.extend_from_slice(&bytes[a..b]);
    swapped.extend_from_slice(&bytes[c..]);
    rewrite(&s, &path, &swapped);
    let e = open(&s).err().expect("refused");
    assert!(e.contains("damaged at byte"), "{e}");
    // A record left out: a gap, refused the same way.
    let mut gapped = bytes[..a].to_vec();
    gapped.extend_from_slice(&bytes[b..]);
    let s = storage.fork();
    rewrite(&s, &path, &gapped);
    let e = open(&s).err().expect("refused");
    assert!(e.contains("damaged at byte"), "{e}");
}

fn read_all(storage: &SimulatedStorage, path: &Path, len: u64) -> Vec<u8> {
    use ringex_daemon::storage::{Storage, StorageFile};
    let file = storage.open_read_only(path).expect("opens");
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(0, &mut bytes).expect("reads");
    bytes
}

fn rewrite(storage: &SimulatedStorage, path: &Path, bytes: &[u8]) {
    use ringex_daemon::storage::{Storage, StorageFile};
    let mut file = storage.open(path).expect("opens");
    file.truncate(0).expect("truncates");
    file.write_all_at(0, bytes).expect("writes");
    file.sync().expect("syncs");
}

#[test]
fn every_flipped_bit_of_the_hard_state_is_refused() {
    let storage = SimulatedStorage::new(3);
    let mut state = HardState::open(storage.clone(), dir()).expect("opens");
    let log_id = LogId::new(CommittedLeaderId::new(7, 2), 1234);
    state.save_vote(&Vote::new_committed(7, 2)).expect("saves");
    state.save_purged(&log_id).expect("saves");
    state.save_committed(&log_id).expect("saves");
    drop(state);
    storage.crash();
    for name in [VOTE_FILE, PURGED_FILE, COMMITTED_FILE] {
        let path = dir().join(name);
        let len = storage.file_len_bytes(&path).expect("exists");
        for bit in 0..len * 8 {
            let s = storage.fork();
            s.flip_bit(&path, bit);
            let state = HardState::open(s, dir()).expect("opens");
            let read = match name {
                VOTE_FILE => state.read_vote().map(drop),
                PURGED_FILE => state.read_purged().map(drop),
                // Written in place without fsync, so a bad one reads as a torn write:
                // as never written, which is still true, never as another index.
                _ => {
                    assert_eq!(state.read_committed().expect("reads"), None, "bit {bit}");
                    continue;
                }
            };
            let e = read.expect_err("a flipped bit is refused");
            assert!(e.to_string().contains("damaged"), "{name} bit {bit}: {e}");
        }
    }
}
