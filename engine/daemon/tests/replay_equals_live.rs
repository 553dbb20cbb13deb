//! Replay equals live: a seeded workload journaled and applied as the daemon does, then
//! recovered from snapshot plus journal and from the journal alone. The state hash, the
//! re-produced events and the events after recovery all equal the live run's.

mod workload;

use std::path::Path;

use ringex_core::{Engine, Event};
use ringex_daemon::journal::{Durability, JournalConfig, Record};
use ringex_daemon::recovery::{recover_with, ReplayObserver};
use ringex_daemon::snapshot_store::SnapshotStore;
use ringex_daemon::storage::simulated::SimulatedStorage;
use ringex_daemon::storage::{FileStorage, Storage};
use workload::*;

#[derive(Default)]
struct Recorder {
    events: EventLog,
}

impl ReplayObserver for Recorder {
    fn applied(&mut self, record: &Record, events: &[Event]) {
        self.events.push((record.seq, events.to_vec()));
    }
}

fn journal_config() -> JournalConfig {
    JournalConfig {
        segment_size_max_bytes: 32 << 10,
        durability: Durability::Fsync,
        batch_records_max: 64,
    }
}

/// Recovers `dir` and checks it against `live`; returns the recovered engine.
fn recover_and_compare<S: Storage>(
    storage: &S,
    dir: &Path,
    live: &LiveRun,
) -> (Engine, Option<u64>) {
    let mut recorder = Recorder::default();
    let recovered = recover_with(
        storage.clone(),
        dir,
        engine_config(),
        journal_config(),
        &mut recorder,
    )
    .expect("recovers");
    assert_eq!(recovered.engine.state_hash(), live.engine.state_hash());
    assert_eq!(
        recovered.engine.encode_snapshot(),
        live.engine.encode_snapshot()
    );
    assert_eq!(recovered.writer.next_seq(), live.durable_seq + 1);
    let from = recovered.report.snapshot_seq.unwrap_or(0);
    assert_eq!(recorder.events.as_slice(), &live.events[from as usize..]);
    assert_eq!(recovered.report.replayed_records, live.durable_seq - from);
    (recovered.engine, recovered.report.snapshot_seq)
}

fn check_replay_equals_live<S: Storage>(storage: &S, dir: &Path, seed: u64) {
    let mut workload = Workload::new(seed);
    let mut live = run_live(storage, dir, journal_config(), &mut workload, 12_000, 37);
    assert!(live.failure.is_none());
    assert_eq!(live.durable_seq, 12_000);

    let (mut from_snapshot, snapshot_seq) = recover_and_compare(storage, dir, &live);
    assert!(snapshot_seq.is_some_and(|s| s > 10_000), "{snapshot_seq:?}");

    // Without snapshots: the journal alone, from seq 1.
    let store = SnapshotStore::new(storage.clone(), dir);
    for seq in store.list().unwrap() {
        storage.remove(&store.path_of(seq)).unwrap();
    }
    let (_, snapshot_seq) = recover_and_compare(storage, dir, &live);
    assert_eq!(snapshot_seq, None);

    // The restored engine goes on exactly as the original.
    let mut more = workload.clone();
    let expected = apply_more(&mut live.engine, &mut workload, 3_000);
    assert_eq!(apply_more(&mut from_snapshot, &mut more, 3_000), expected);
    assert_eq!(from_snapshot.state_hash(), live.engine.state_hash());
}

#[test]
fn replay_equals_live_on_simulated_storage() {
    for seed in 1..=3 {
        check_replay_equals_live(&SimulatedStorage::new(seed), Path::new("/data"), seed);
    }
}

#[test]
fn replay_equals_live_on_real_files() {
    let dir =
        std::env::temp_dir().join(format!("ringex-replay-equals-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    check_replay_equals_live(&FileStorage, &dir, 42);
    std::fs::remove_dir_all(&dir).unwrap();
}
