//! Segment rollover and retention: segments stay under their size limit, are named for
//! their first seq and chain into each other; snapshots let covered segments be removed
//! or archived, and recovery still reaches the same state.

mod workload;

use std::path::Path;

use ringex_daemon::journal::retention::{Retention, ARCHIVE_DIR_NAME};
use ringex_daemon::journal::segment::{parse_segment_name, SEGMENT_HEADER_BYTES};
use ringex_daemon::journal::{Durability, JournalConfig};
use ringex_daemon::journal_tools::verify;
use ringex_daemon::recovery::{recover_with, RecoveryError, ReplayObserver};
use ringex_daemon::snapshot_store::{SnapshotPolicy, SnapshotStore};
use ringex_daemon::storage::simulated::SimulatedStorage;
use ringex_daemon::storage::Storage;
use workload::*;

struct Quiet;
impl ReplayObserver for Quiet {}

const SEGMENT_MAX_BYTES: u64 = 1_000;

fn config() -> JournalConfig {
    JournalConfig {
        segment_size_max_bytes: SEGMENT_MAX_BYTES,
        durability: Durability::Fsync,
        batch_records_max: 32,
    }
}

fn segments(storage: &SimulatedStorage, dir: &Path) -> Vec<u64> {
    let names = storage.list(dir).unwrap();
    names.iter().filter_map(|n| parse_segment_name(n)).collect()
}

#[test]
fn segments_roll_over_at_their_limit_and_chain() {
    let storage = SimulatedStorage::new(1);
    let dir = Path::new("/data");
    let live = run_live(&storage, dir, config(), &mut Workload::new(1), 3_000, 32);
    let firsts = segments(&storage, dir);
    assert!(firsts.len() > 50, "{} segments", firsts.len());
    assert_eq!(firsts[0], 1);
    for pair in firsts.windows(2) {
        let path = dir.join(format!("journal-{:020}.seg", pair[0]));
        let len = storage.file_len_bytes(&path).unwrap();
        assert!(
            len <= SEGMENT_MAX_BYTES && len > SEGMENT_HEADER_BYTES as u64,
            "{len}"
        );
    }
    let summary = verify(&storage, dir, &mut Vec::new()).unwrap();
    assert_eq!((summary.segments, summary.records), (firsts.len(), 3_000));

    // Recovery replays across every segment and appends into the last one.
    let recovered =
        recover_with(storage.clone(), dir, engine_config(), config(), &mut Quiet).unwrap();
    assert_eq!(recovered.engine.state_hash(), live.engine.state_hash());
    let mut writer = recovered.writer;
    assert_eq!(writer.open_segment_first_seq(), *firsts.last().unwrap());
    let mut workload = Workload::new(1);
    for _ in 0..3_000 {
        workload.next_input();
    }
    for seq in 3_001..=3_100 {
        writer
            .append(seq, timestamp_ns_at(seq), &workload.next_input())
            .unwrap();
        if writer.is_batch_full() {
            writer.commit().unwrap();
        }
    }
    assert_eq!(writer.commit(), Ok(3_100));
    let (oracle, _, _) = reference(1, 3_100);
    let again = recover_with(storage.clone(), dir, engine_config(), config(), &mut Quiet).unwrap();
    assert_eq!(again.engine.state_hash(), oracle.state_hash());
}

fn run_with_retention(retention: Retention) -> (SimulatedStorage, LiveRun) {
    let storage = SimulatedStorage::new(2);
    let dir = Path::new("/data");
    let policy = SnapshotPolicy { keep: 2, retention };
    let live = run_live_with_policy(
        &storage,
        dir,
        config(),
        policy,
        &mut Workload::new(2),
        3_000,
        32,
    );
    assert_eq!(live.durable_seq, 3_000);
    let store = SnapshotStore::new(storage.clone(), dir);
    let snapshots = store.list().unwrap();
    assert_eq!(snapshots.len(), 2, "{snapshots:?}");
    // Every segment left holds a record after the oldest snapshot, or is the last.
    let firsts = segments(&storage, dir);
    let oldest = snapshots[1];
    assert!(firsts[0] > 1, "nothing was released");
    assert!(
        firsts.len() < 2 || firsts[1] > oldest + 1,
        "{firsts:?} {oldest}"
    );
    (storage, live)
}

#[test]
fn released_segments_are_removed_and_recovery_starts_from_a_snapshot() {
    let (storage, live) = run_with_retention(Retention::Remove);
    let dir = Path::new("/data");
    let recovered =
        recover_with(storage.clone(), dir, engine_config(), config(), &mut Quiet).unwrap();
    assert_eq!(recovered.engine.state_hash(), live.engine.state_hash());
    assert!(verify(&storage, dir, &mut Vec::new()).is_ok());
    // With both snapshots gone, the journal alone cannot reach back to seq 1.
    let store = SnapshotStore::new(storage.clone(), dir);
    for seq in store.list().unwrap() {
        storage.remove(&store.path_of(seq)).unwrap();
    }
    let Err(RecoveryError::Journal(e)) =
        recover_with(storage.clone(), dir, engine_config(), config(), &mut Quiet)
    else {
        panic!("recovered without the released segments");
    };
    assert!(e.to_string().contains("journal starts at seq"), "{e}");
}

#[test]
fn released_segments_are_archived() {
    let (storage, live) = run_with_retention(Retention::Archive);
    let dir = Path::new("/data");
    let archived = storage.list(&dir.join(ARCHIVE_DIR_NAME)).unwrap();
    assert!(!archived.is_empty());
    assert_eq!(archived[0], "journal-00000000000000000001.seg");
    let recovered =
        recover_with(storage.clone(), dir, engine_config(), config(), &mut Quiet).unwrap();
    assert_eq!(recovered.engine.state_hash(), live.engine.state_hash());
}
