//! Snapshot fallback: a damaged newest snapshot gives way to the one before it (more
//! journal to replay), then to the journal alone; a snapshot of other capacities or of
//! another history stops recovery with a clear error.

mod workload;

use std::path::Path;

use ringex_core::EngineConfig;
use ringex_daemon::journal::{Durability, JournalConfig};
use ringex_daemon::recovery::{recover_with, RecoveryError, ReplayObserver};
use ringex_daemon::snapshot_store::SnapshotStore;
use ringex_daemon::storage::simulated::SimulatedStorage;
use ringex_daemon::storage::{FileStorage, Storage};
use workload::*;

struct Quiet;
impl ReplayObserver for Quiet {}

fn config() -> JournalConfig {
    JournalConfig {
        segment_size_max_bytes: 16 << 10,
        durability: Durability::Fsync,
        batch_records_max: 32,
    }
}

fn dir() -> &'static Path {
    Path::new("/data")
}

fn live_run(seed: u64) -> (SimulatedStorage, LiveRun, Vec<u64>) {
    let storage = SimulatedStorage::new(seed);
    let live = run_live(
        &storage,
        dir(),
        config(),
        &mut Workload::new(seed),
        4_000,
        32,
    );
    let snapshots = SnapshotStore::new(storage.clone(), dir()).list().unwrap();
    assert_eq!(snapshots.len(), 2, "{snapshots:?}");
    (storage, live, snapshots)
}

#[test]
fn a_damaged_newest_snapshot_falls_back_to_the_previous() {
    let (storage, live, snapshots) = live_run(1);
    let store = SnapshotStore::new(storage.clone(), dir());
    let newest = store.path_of(snapshots[0]);
    // A bit in the middle of the engine state.
    let len = storage.file_len_bytes(&newest).unwrap();
    storage.flip_bit(&newest, len * 4);
    let recovered = recover_with(
        storage.clone(),
        dir(),
        engine_config(),
        config(),
        &mut Quiet,
    )
    .unwrap();
    assert_eq!(recovered.report.snapshot_seq, Some(snapshots[1]));
    assert_eq!(recovered.report.snapshots_rejected.len(), 1);
    assert_eq!(recovered.report.snapshots_rejected[0].0, snapshots[0]);
    assert_eq!(recovered.report.replayed_records, 4_000 - snapshots[1]);
    assert_eq!(recovered.engine.state_hash(), live.engine.state_hash());
}

#[test]
fn with_every_snapshot_damaged_the_journal_alone_recovers() {
    let (storage, live, snapshots) = live_run(2);
    let store = SnapshotStore::new(storage.clone(), dir());
    storage.truncate_durable(&store.path_of(snapshots[0]), 30);
    storage.zero_sector(&store.path_of(snapshots[1]), 0);
    let recovered = recover_with(
        storage.clone(),
        dir(),
        engine_config(),
        config(),
        &mut Quiet,
    )
    .unwrap();
    assert_eq!(recovered.report.snapshot_seq, None);
    assert_eq!(recovered.report.snapshots_rejected.len(), 2);
    assert_eq!(recovered.report.replayed_records, 4_000);
    assert_eq!(recovered.engine.state_hash(), live.engine.state_hash());
}

#[test]
fn a_snapshot_of_other_capacities_is_refused() {
    let (storage, _, snapshots) = live_run(3);
    let other = EngineConfig {
        max_orders: 2048,
        ..engine_config()
    };
    let Err(e) = recover_with(storage.clone(), dir(), other, config(), &mut Quiet) else {
        panic!("recovered with other capacities");
    };
    assert_eq!(e, RecoveryError::ConfigMismatch { seq: snapshots[0] });
}

#[test]
fn a_snapshot_of_another_history_is_refused() {
    let base = std::env::temp_dir().join(format!("ringex-other-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (a, b) = (base.join("a"), base.join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    run_live(&FileStorage, &a, config(), &mut Workload::new(4), 2_000, 32);
    run_live(&FileStorage, &b, config(), &mut Workload::new(5), 2_000, 32);
    // Put a's newest snapshot into b under a seq b's journal also holds.
    let store_a = SnapshotStore::new(FileStorage, &a);
    let store_b = SnapshotStore::new(FileStorage, &b);
    let seq = store_a.list().unwrap()[0];
    for old in store_b.list().unwrap() {
        std::fs::remove_file(store_b.path_of(old)).unwrap();
    }
    std::fs::copy(store_a.path_of(seq), store_b.path_of(seq)).unwrap();
    let result = recover_with(FileStorage, &b, engine_config(), config(), &mut Quiet);
    std::fs::remove_dir_all(&base).unwrap();
    let Err(RecoveryError::Inconsistent(why)) = result else {
        panic!("a foreign snapshot was accepted");
    };
    assert!(
        why.contains("not one history") || why.contains("does not match"),
        "{why}"
    );
}

#[test]
fn a_temporary_file_of_an_interrupted_write_is_ignored() {
    let (storage, live, _) = live_run(6);
    let temp = dir().join("snapshot-00000000000000009999.snap.tmp");
    storage.create(&temp).unwrap();
    let recovered = recover_with(
        storage.clone(),
        dir(),
        engine_config(),
        config(),
        &mut Quiet,
    )
    .unwrap();
    assert_eq!(recovered.engine.state_hash(), live.engine.state_hash());
    assert!(recovered.report.snapshots_rejected.is_empty());
    // The next snapshot written clears it away.
    let mut store = SnapshotStore::new(storage.clone(), dir());
    let mut engine = recovered.engine;
    let mut writer = recovered.writer;
    let seq = writer.next_seq();
    writer
        .append(
            seq,
            timestamp_ns_at(seq),
            &ringex_protocol::Input::TakeSnapshot,
        )
        .unwrap();
    writer.commit().unwrap();
    ringex_daemon::recovery::apply_input(
        &mut engine,
        seq,
        timestamp_ns_at(seq),
        &ringex_protocol::Input::TakeSnapshot,
        &mut Vec::new(),
    );
    store.write(seq, &engine.encode_snapshot()).unwrap();
    assert!(storage.file_len_bytes(&temp).is_none());
    assert_eq!(store.list().unwrap()[0], seq);
}
