//! The Raft entry log under storage faults, on a simulated disk: a crash keeps every
//! flushed append; a torn last append is cut off on open; a cut or flipped bit anywhere
//! before the last record stops the node (to be repaired from the others), never skipped.

mod workload;

use std::path::Path;

use openraft::{CommittedLeaderId, LogId};
use ringex_daemon::durability::Durability;
use ringex_daemon::replication::damage::Damage;
use ringex_daemon::replication::entry_log::EntryLog;
use ringex_daemon::replication::hard_state::HardState;
use ringex_daemon::replication::log_store::LogStore;
use ringex_daemon::storage::simulated::SimulatedStorage;
use workload::{raft_entry, Workload};

const DIR: &str = "/data/raft";
const ENTRIES: u64 = 12;
const BATCH_INPUTS: u64 = 20;

/// A disk holding `entries` flushed appends, one entry each.
fn written(entries: u64) -> SimulatedStorage {
    let storage = SimulatedStorage::new(11);
    let mut log = EntryLog::open(&storage, Path::new(DIR), Durability::Fsync).expect("opens");
    let mut workload = Workload::new(5);
    for index in 1..=entries {
        log.append(&[raft_entry(&mut workload, index, 1, BATCH_INPUTS)])
            .expect("appends");
    }
    storage.crash();
    storage
}

fn reopen(storage: &SimulatedStorage) -> Result<Option<u64>, String> {
    EntryLog::open(storage, Path::new(DIR), Durability::Fsync)
        .map(|log| log.last_log_id().map(|l| l.index))
        .map_err(|e| {
            assert!(e.damage.is_some(), "a refusal on damage says so: {e}");
            e.to_string()
        })
}

fn path() -> std::path::PathBuf {
    Path::new(DIR).join("entries")
}

#[test]
fn a_crash_keeps_every_flushed_append() {
    let storage = written(ENTRIES);
    assert_eq!(reopen(&storage), Ok(Some(ENTRIES)));
    let log = EntryLog::open(&storage, Path::new(DIR), Durability::Fsync).expect("opens");
    assert_eq!(log.read_range(..).expect("reads").len() as u64, ENTRIES);
}

#[test]
fn a_torn_last_append_is_cut_off_and_anything_else_stops_the_node() {
    let storage = written(ENTRIES);
    let len = storage.file_len_bytes(&path()).expect("exists");
    let last_start = written(ENTRIES - 1)
        .file_len_bytes(&path())
        .expect("exists");
    // Every cut inside the last record: cut off, the entries before it kept.
    for cut in (last_start + 1)..len {
        let s = storage.fork();
        s.truncate_durable(&path(), cut);
        assert_eq!(reopen(&s), Ok(Some(ENTRIES - 1)), "cut at {cut}");
        // Cut off for good: the next open finds a whole log.
        assert_eq!(reopen(&s), Ok(Some(ENTRIES - 1)));
    }
    // A flipped bit in the last record's payload: its checksum fails, nothing after it.
    let s = storage.fork();
    s.flip_bit(&path(), (len - 3) * 8);
    assert_eq!(reopen(&s), Ok(Some(ENTRIES - 1)));
    // A flipped bit in any earlier record: damage, the node refuses to start.
    for at in (0..last_start).step_by(97) {
        let s = storage.fork();
        s.flip_bit(&path(), at * 8 + 3);
        let e = reopen(&s).expect_err("damage refused");
        assert!(e.contains("damaged") && e.contains("byte"), "{e}");
    }
    // A size field made to point past the end looks like a tear, but whole records
    // follow it: damage, never a cut that would drop flushed entries.
    let s = storage.fork();
    s.flip_bit(&path(), 2 * 8 + 4);
    let e = reopen(&s).expect_err("damage refused");
    assert!(e.contains("damaged"), "{e}");
}

#[test]
fn a_log_that_ends_before_its_committed_index_is_damage() {
    let storage = written(ENTRIES);
    let committed = LogId::new(CommittedLeaderId::new(1, 1), ENTRIES - 1);
    HardState::open(storage.clone(), Path::new(DIR))
        .expect("opens")
        .save_committed(&committed)
        .expect("saves");
    assert!(LogStore::open(storage.fork(), Path::new(DIR), Durability::Fsync).is_ok());
    // Cut at a record boundary: no torn record, but committed entries are gone.
    let boundary = written(ENTRIES - 3)
        .file_len_bytes(&path())
        .expect("exists");
    storage.truncate_durable(&path(), boundary);
    let e = LogStore::open(storage, Path::new(DIR), Durability::Fsync)
        .err()
        .expect("refused");
    assert!(
        matches!(e.damage, Some(Damage::EntriesShort { held_index }) if held_index == ENTRIES - 3),
        "{e}"
    );
    assert!(e.to_string().contains("before the committed index"), "{e}");
}
