//! The entry log rewritten without its purged head, on a simulated disk: the kept
//! entries survive a crash at any point of it, appends made while the copy runs apart
//! are kept, a truncation meanwhile abandons the copy, and through openraft's purge the
//! copy runs off the caller's thread.

mod workload;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use openraft::storage::RaftLogStorage;
use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId};
use ringex_daemon::durability::Durability;
use ringex_daemon::replication::entry_log::{EntryLog, EntryLogError};
use ringex_daemon::replication::input_batch::{InputBatch, StampedInput};
use ringex_daemon::replication::log_compaction::Compaction;
use ringex_daemon::replication::log_store::LogStore;
use ringex_daemon::replication::type_config::RingexRaft;
use ringex_daemon::storage::simulated::{FaultPlan, SimFile, SimulatedStorage};
use workload::Workload;

const DIR: &str = "/data/raft";
/// Inputs per entry: 400 such entries are past the size at which a purged head is
/// removed from disk.
const BIG_BATCH_INPUTS: u64 = 4_000;
const BIG_ENTRIES: u64 = 400;
/// Entries kept by the purges below.
const KEPT: u64 = 10;

fn path() -> PathBuf {
    Path::new(DIR).join("entries")
}

fn compacting_path() -> PathBuf {
    Path::new(DIR).join("entries.compacting")
}

fn open(storage: &SimulatedStorage) -> EntryLog<SimulatedStorage> {
    EntryLog::open(storage, Path::new(DIR), Durability::Fsync).expect("opens")
}

fn big_entry(workload: &mut Workload, index: u64) -> Entry<RingexRaft> {
    let input = workload.next_input();
    let mut batch = InputBatch::default();
    for i in 0..BIG_BATCH_INPUTS {
        let seq = (index - 1) * BIG_BATCH_INPUTS + i + 1;
        batch.push(&StampedInput {
            seq,
            timestamp_ns: seq,
            input,
        });
    }
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
        payload: EntryPayload::Normal(batch),
    }
}

/// A log of `BIG_ENTRIES` large entries, flushed.
fn written(storage: &SimulatedStorage, workload: &mut Workload) -> EntryLog<SimulatedStorage> {
    let mut log = open(storage);
    for index in 1..=BIG_ENTRIES {
        log.append(&[big_entry(workload, index)]).expect("appends");
    }
    log
}

/// A whole compaction at once, if the purged head is large enough for one.
fn compact(log: &mut EntryLog<SimulatedStorage>) -> Result<(), EntryLogError> {
    if let Some(compaction) = log.compaction_begin()? {
        log.compaction_finish(compaction)?;
    }
    Ok(())
}

/// A compaction begun on `log` and copied as far as the log reaches now.
fn copied_apart(log: &mut EntryLog<SimulatedStorage>) -> Compaction<SimFile> {
    let mut compaction = log.compaction_begin().expect("begins").expect("head large");
    let end = log.compaction_end_bytes(&compaction).expect("current");
    compaction.copy_until(end, None).expect("copies");
    compaction
}

fn len_bytes(storage: &SimulatedStorage) -> u64 {
    storage.file_len_bytes(&path()).expect("exists")
}

#[test]
fn a_purged_head_is_removed_from_disk_and_the_kept_entries_survive_a_crash() {
    let storage = SimulatedStorage::new(12);
    let mut log = written(&storage, &mut Workload::new(6));
    let full_bytes = len_bytes(&storage);
    let kept_from = BIG_ENTRIES - KEPT + 1;
    let kept = log.read_range(kept_from..).expect("reads");
    log.purge_through(kept_from - 1).expect("purges");
    assert_eq!(
        len_bytes(&storage),
        full_bytes,
        "a purge alone copies nothing"
    );
    compact(&mut log).expect("compacts");
    let compacted_bytes = len_bytes(&storage);
    assert!(
        compacted_bytes * 20 < full_bytes,
        "{compacted_bytes} of {full_bytes} bytes left after purging all but {KEPT} entries"
    );
    assert_eq!(log.read_range(..).expect("reads"), kept);
    storage.crash();
    let log = open(&storage);
    assert_eq!(log.last_log_id().map(|l| l.index), Some(BIG_ENTRIES));
    assert_eq!(log.read_range(..).expect("reads"), kept);
}

#[test]
fn appends_made_while_the_copy_runs_apart_are_kept() {
    const APPENDED: u64 = 12;
    let storage = SimulatedStorage::new(13);
    let mut workload = Workload::new(7);
    let mut log = written(&storage, &mut workload);
    let kept_from = BIG_ENTRIES - KEPT + 1;
    log.purge_through(kept_from - 1).expect("purges");
    let compaction = copied_apart(&mut log);
    assert!(
        log.compaction_begin().expect("asks").is_none(),
        "one compaction at a time"
    );
    for index in BIG_ENTRIES + 1..=BIG_ENTRIES + APPENDED {
        log.append(&[big_entry(&mut workload, index)])
            .expect("appends");
    }
    let kept = log.read_range(kept_from..).expect("reads");
    log.compaction_finish(compaction)
        .expect("finishes")
        .expect("replaced");
    assert_eq!(log.read_range(..).expect("reads"), kept);
    assert_eq!(storage.file_len_bytes(&compacting_path()), None);
    // The next append follows the copied ones in the new file.
    let next = BIG_ENTRIES + APPENDED + 1;
    log.append(&[big_entry(&mut workload, next)])
        .expect("appends");
    let kept = log.read_range(kept_from..).expect("reads");
    storage.crash();
    assert_eq!(open(&storage).read_range(..).expect("reads"), kept);
}

#[test]
fn a_truncation_while_the_copy_runs_apart_abandons_it() {
    let storage = SimulatedStorage::new(14);
    let mut log = written(&storage, &mut Workload::new(8));
    let full_bytes = len_bytes(&storage);
    let kept_from = BIG_ENTRIES - KEPT + 1;
    log.purge_through(kept_from - 1).expect("purges");
    let compaction = copied_apart(&mut log);
    log.truncate_from(BIG_ENTRIES - 1).expect("truncates");
    assert!(log.compaction_end_bytes(&compaction).is_none(), "stale");
    let kept = log.read_range(..).expect("reads");
    assert!(log
        .compaction_finish(compaction)
        .expect("abandons")
        .is_none());
    assert!(len_bytes(&storage) > full_bytes / 2, "nothing was replaced");
    assert_eq!(storage.file_len_bytes(&compacting_path()), None);
    assert_eq!(log.read_range(..).expect("reads"), kept);
    compact(&mut log).expect("compacts");
    assert!(len_bytes(&storage) * 20 < full_bytes);
    storage.crash();
    assert_eq!(open(&storage).read_range(..).expect("reads"), kept);
}

#[test]
fn a_log_stopped_by_an_io_error_during_the_copy_is_not_replaced() {
    let storage = SimulatedStorage::new(18);
    let mut workload = Workload::new(12);
    let mut log = written(&storage, &mut workload);
    let full_bytes = len_bytes(&storage);
    let kept_from = BIG_ENTRIES - KEPT + 1;
    let kept = log.read_range(kept_from..).expect("reads");
    log.purge_through(kept_from - 1).expect("purges");
    let compaction = copied_apart(&mut log);
    storage.set_faults(FaultPlan {
        write_eio_per_million: 0,
        sync_eio_per_million: 1_000_000,
    });
    log.append(&[big_entry(&mut workload, BIG_ENTRIES + 1)])
        .expect_err("the fsync fails");
    storage.set_faults(FaultPlan::default());
    let refused = log.compaction_finish(compaction).err().expect("refused");
    assert!(refused.to_string().contains("stopped after"), "{refused}");
    assert!(len_bytes(&storage) >= full_bytes, "nothing was replaced");
    assert_eq!(storage.file_len_bytes(&compacting_path()), None);
    storage.crash();
    assert_eq!(
        open(&storage).read_range(kept_from..).expect("reads")[..kept.len()],
        kept[..]
    );
}

#[test]
fn a_crash_during_the_copy_leaves_the_log_whole_and_its_copy_removed() {
    let storage = SimulatedStorage::new(15);
    let mut log = written(&storage, &mut Workload::new(9));
    let kept_from = BIG_ENTRIES - KEPT + 1;
    let kept = log.read_range(kept_from..).expect("reads");
    log.purge_through(kept_from - 1).expect("purges");
    let mut compaction = copied_apart(&mut log);
    compaction.sync().expect("syncs");
    storage.crash();
    let mut log = open(&storage);
    assert_eq!(storage.file_len_bytes(&compacting_path()), None);
    // The purge point lives in the hard state; this log alone holds every entry.
    assert_eq!(log.read_range(kept_from..).expect("reads"), kept);
    log.purge_through(kept_from - 1).expect("purges");
    compact(&mut log).expect("compacts");
    assert_eq!(log.read_range(..).expect("reads"), kept);
}

#[test]
fn openraft_purge_returns_before_the_copy_which_finishes_on_its_own() {
    let storage = SimulatedStorage::new(16);
    drop(written(&storage, &mut Workload::new(10)));
    let full_bytes = len_bytes(&storage);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let mut store =
        LogStore::open(storage.clone(), Path::new(DIR), Durability::Fsync).expect("opens");
    // Enough kept (several MiB) that the copy takes tens of ms at its pace.
    let kept_from = BIG_ENTRIES - 4 * KEPT + 1;
    let kept = store.entries_in(kept_from..).expect("reads");
    let purged = LogId::new(CommittedLeaderId::new(1, 1), kept_from - 1);
    runtime.block_on(store.purge(purged)).expect("purges");
    assert_eq!(
        len_bytes(&storage),
        full_bytes,
        "purge returned before the copy finished"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while len_bytes(&storage) * 5 >= full_bytes {
        assert!(Instant::now() < deadline, "the compaction never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(store.entries_in(..).expect("reads"), kept);
    storage.crash();
    let store = LogStore::open(storage, Path::new(DIR), Durability::Fsync).expect("reopens");
    assert_eq!(store.entries_in(..).expect("reads"), kept);
}

#[test]
fn power_loss_at_any_step_of_a_compaction_keeps_the_kept_entries() {
    // Power is lost at the 1st, 2nd, ... change a compaction makes (create, the chunk
    // writes, the syncs, the rename, the directory sync) until one finishes: each crash
    // leaves the old file or the new one, whole, and the next try starts over.
    const OPERATIONS_MAX: u64 = 64;
    let storage = SimulatedStorage::new(17);
    let mut log = written(&storage, &mut Workload::new(11));
    let kept_from = BIG_ENTRIES - KEPT + 1;
    let kept = log.read_range(kept_from..).expect("reads");
    for crash_at in 1..=OPERATIONS_MAX {
        log.purge_through(kept_from - 1).expect("purges");
        storage.crash_during_operation(crash_at);
        let finished = compact(&mut log).is_ok();
        storage.crash();
        log = open(&storage);
        assert_eq!(storage.file_len_bytes(&compacting_path()), None);
        assert_eq!(
            log.read_range(kept_from..).expect("reads"),
            kept,
            "power lost at change {crash_at} of a compaction"
        );
        if finished {
            log.purge_through(kept_from - 1).expect("purges");
            assert_eq!(log.read_range(..).expect("reads"), kept);
            return;
        }
    }
    panic!("no compaction finished within {OPERATIONS_MAX} changes");
}
