//! Storage faults, thousands of seeded cases on the simulated disk.
//!
//! - Power loss during a random storage operation (unsynced writes lost, the last one
//!   possibly torn), sometimes again during the recovery after it: recovery restores at
//!   least every record reported durable, exactly the workload's inputs with no gap, and
//!   the state equals the oracle's at that seq; the recovered writer then goes on
//!   appending.
//! - Media damage (a flipped bit, a zeroed sector, a truncated file) in a segment or a
//!   snapshot: recovery either restores a state equal to the oracle's, losing durable
//!   records only to damage at the very end of the last segment, or refuses with an
//!   error naming the damaged file and offset. Snapshot damage never stops recovery.
//! - Injected EIO on writes and fsyncs: the writer stops for good at the first error,
//!   nothing after it is applied or released, and recovery restores every durable record.

mod workload;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use ringex_daemon::journal::durable_mark::mark_path;
use ringex_daemon::journal::{
    scan_journal, Durability, JournalConfig, JournalEnd, JournalError, JournalWriter, ScanMode,
};
use ringex_daemon::recovery::{recover_with, RecoveryError, RecoveryReport, ReplayObserver};
use ringex_daemon::snapshot_store::SnapshotStore;
use ringex_daemon::storage::simulated::{FaultPlan, SimulatedStorage};
use ringex_daemon::storage::Storage;
use ringex_protocol::Input;
use workload::*;

const DIR: &str = "/data";

struct Quiet;
impl ReplayObserver for Quiet {}

fn dir() -> &'static Path {
    Path::new(DIR)
}

/// Small segments and batches, so rollovers and partial batches are everywhere.
fn random_config(rng: &mut Rng) -> JournalConfig {
    JournalConfig {
        segment_size_max_bytes: 200 + rng.below(3_000),
        durability: Durability::Fsync,
        batch_records_max: 1 + rng.below(24) as usize,
    }
}

/// Recovers and checks the result against the oracle.
fn recover_and_check(
    storage: &SimulatedStorage,
    seed: u64,
    config: JournalConfig,
) -> RecoveryReport {
    let recovered = recover_with(storage.clone(), dir(), engine_config(), config, &mut Quiet)
        .unwrap_or_else(|e| panic!("seed {seed}: recovery failed: {e}"));
    let last = recovered.engine.last_seq();
    let (oracle, inputs, _) = reference(seed, last);
    assert_eq!(
        recovered.engine.state_hash(),
        oracle.state_hash(),
        "seed {seed}"
    );
    assert_journal_holds(storage, seed, &inputs);
    recovered.report
}

/// The journal holds exactly `inputs`, from its oldest segment on, and nothing more.
fn assert_journal_holds(storage: &SimulatedStorage, seed: u64, inputs: &[Input]) {
    let mut next = 1u64;
    let summary = scan_journal(storage, dir(), ScanMode::ReadOnly, 1, 0, &mut |r| {
        assert_eq!(r.seq, next, "seed {seed}");
        assert_eq!(
            r.input,
            inputs[(r.seq - 1) as usize],
            "seed {seed} seq {}",
            r.seq
        );
        assert_eq!(r.timestamp_ns, timestamp_ns_at(r.seq), "seed {seed}");
        next += 1;
        ControlFlow::Continue(())
    })
    .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    assert_eq!(summary.end.next_seq, inputs.len() as u64 + 1, "seed {seed}");
    assert_eq!(
        summary.torn_tail, None,
        "seed {seed}: recovery left a torn tail"
    );
}

/// Appends more of the workload with the recovered writer, then recovers again.
fn continue_after_recovery(storage: &SimulatedStorage, seed: u64, config: JournalConfig) {
    let recovered = recover_with(storage.clone(), dir(), engine_config(), config, &mut Quiet)
        .unwrap_or_else(|e| panic!("seed {seed}: recovery failed: {e}"));
    let last = recovered.engine.last_seq();
    let mut workload = Workload::new(seed);
    for _ in 0..last {
        workload.next_input();
    }
    let mut live = LiveRun {
        engine: recovered.engine,
        events: Vec::new(),
        durable_seq: last,
        failure: None,
        snapshots_failing: false,
    };
    let mut writer = recovered.writer;
    let mut store = SnapshotStore::new(storage.clone(), dir());
    let batch = config.batch_records_max as u64;
    continue_live(&mut live, &mut writer, &mut store, &mut workload, 60, batch);
    assert!(live.failure.is_none(), "seed {seed}: {:?}", live.failure);
    drop(writer);
    storage.crash();
    let again = recover_and_check(storage, seed, config);
    assert_eq!(again.last_seq, last + 60, "seed {seed}");
}

/// What power loss left for recovery to deal with, counted over all cases.
#[derive(Default, Debug)]
struct PowerLossOutcomes {
    torn_tails_cut: u32,
    unsynced_records_kept: u32,
    recovered_from_snapshot: u32,
    recoveries_interrupted: u32,
}

fn power_loss_case(seed: u64, outcomes: &mut PowerLossOutcomes) {
    let storage = SimulatedStorage::new(seed);
    let mut rng = Rng(seed ^ 0x5EED);
    let config = random_config(&mut rng);
    let inputs = 20 + rng.below(300);
    let batch = config.batch_records_max as u64;
    // About two operations per batch, more with rollovers and snapshots: sometimes
    // power survives the whole run and is lost after it.
    storage.crash_during_operation(1 + rng.below(2 * inputs / batch + 20));
    let live = run_live(
        &storage,
        dir(),
        config,
        &mut Workload::new(seed),
        inputs,
        batch,
    );
    assert_eq!(
        live.events.len() as u64,
        live.durable_seq,
        "only durable inputs applied"
    );
    storage.crash();
    // Power may fail again while recovery repairs the tail or starts a segment;
    // the next recovery picks up from whatever that left.
    if rng.below(2) == 0 {
        storage.crash_during_operation(1 + rng.below(4));
        let interrupted = recover_with(storage.clone(), dir(), engine_config(), config, &mut Quiet);
        outcomes.recoveries_interrupted += u32::from(interrupted.is_err());
        drop(interrupted);
        storage.crash();
    }
    let report = recover_and_check(&storage, seed, config);
    let last = report.last_seq;
    assert!(
        last >= live.durable_seq,
        "seed {seed}: durable seq {} lost, recovered {last}",
        live.durable_seq
    );
    outcomes.torn_tails_cut += u32::from(report.torn_tail.is_some());
    outcomes.unsynced_records_kept += u32::from(last > live.durable_seq);
    outcomes.recovered_from_snapshot += u32::from(report.snapshot_seq.is_some());
    continue_after_recovery(&storage, seed, config);
}

#[test]
fn power_loss_during_any_operation_keeps_every_durable_record() {
    let mut outcomes = PowerLossOutcomes::default();
    for seed in 0..3_000 {
        power_loss_case(seed, &mut outcomes);
    }
    // Every path was taken, many times.
    assert!(outcomes.torn_tails_cut > 100, "{outcomes:?}");
    assert!(outcomes.unsynced_records_kept > 100, "{outcomes:?}");
    assert!(outcomes.recovered_from_snapshot > 100, "{outcomes:?}");
    assert!(outcomes.recoveries_interrupted > 100, "{outcomes:?}");
}

/// A file the journal or the store wrote, and the kind of damage to do to it.
enum Damage {
    FlipBit(u64),
    ZeroSector(u64),
    Truncate(u64),
}

/// How media damage ended, counted over all cases.
#[derive(Default, Debug)]
struct MediaOutcomes {
    intact: u32,
    tail_lost: u32,
    refused: u32,
    snapshot_passed_over: u32,
}

fn media_case(seed: u64, outcomes: &mut MediaOutcomes) {
    let storage = SimulatedStorage::new(seed);
    let mut rng = Rng(seed ^ 0xD15C);
    let config = random_config(&mut rng);
    let inputs = 30 + rng.below(300);
    let batch = config.batch_records_max as u64;
    let live = run_live(
        &storage,
        dir(),
        config,
        &mut Workload::new(seed),
        inputs,
        batch,
    );
    assert_eq!(live.durable_seq, inputs);
    storage.crash();
    let names = storage.list(dir()).unwrap();
    let target: PathBuf = dir().join(&names[rng.below(names.len() as u64) as usize]);
    let len = storage.file_len_bytes(&target).unwrap();
    let damage = match rng.below(3) {
        0 => Damage::FlipBit(rng.below(len * 8)),
        1 => Damage::ZeroSector(rng.below(len)),
        _ => Damage::Truncate(rng.below(len)),
    };
    // Bytes the damage may have changed: the records lost must reach into them.
    let damage_end = match damage {
        Damage::FlipBit(bit) => {
            storage.flip_bit(&target, bit);
            bit / 8 + 1
        }
        Damage::ZeroSector(offset) => {
            storage.zero_sector(&target, offset);
            (offset / 512 + 1) * 512
        }
        Damage::Truncate(to) => {
            storage.truncate_durable(&target, to);
            len
        }
    };
    let is_snapshot = target.extension().is_some_and(|e| e == "snap");
    let last_segment = names.iter().rfind(|n| n.ends_with(".seg")).unwrap();
    match recover_with(storage.clone(), dir(), engine_config(), config, &mut Quiet) {
        Ok(recovered) => {
            let last = recovered.engine.last_seq();
            let (oracle, _, _) = reference(seed, last);
            assert_eq!(
                recovered.engine.state_hash(),
                oracle.state_hash(),
                "seed {seed}"
            );
            outcomes.snapshot_passed_over +=
                u32::from(!recovered.report.snapshots_rejected.is_empty());
            if last == live.durable_seq {
                outcomes.intact += 1;
            } else {
                outcomes.tail_lost += 1;
                // Only damage at the very end of the last segment can lose records:
                // it looks like a torn write, or, cut at a record boundary, like a
                // journal that ended there.
                assert!(
                    !is_snapshot && target.ends_with(last_segment),
                    "seed {seed}"
                );
                match recovered.report.torn_tail {
                    Some(torn) => {
                        assert_eq!(torn.path, target, "seed {seed}");
                        assert!(torn.offset_bytes < damage_end, "seed {seed}: {torn:?}");
                    }
                    None => assert!(matches!(damage, Damage::Truncate(_)), "seed {seed}"),
                }
            }
        }
        Err(RecoveryError::Journal(JournalError::Corrupt { path, .. })) => {
            // Damage is reported where it was found: in the file, or where the chain
            // into the next segment broke.
            assert!(
                !is_snapshot,
                "seed {seed}: snapshot damage stopped recovery"
            );
            // Or in the durable mark, when both of its slots are damaged: without it
            // the journal's durable end is unknown.
            assert!(
                path.extension().is_some_and(|e| e == "seg")
                    || (path == mark_path(dir()) && target == path),
                "seed {seed}: {path:?}"
            );
            outcomes.refused += 1;
        }
        Err(e) => panic!("seed {seed}: unexpected error for {target:?}: {e}"),
    }
}

#[test]
fn media_damage_is_recovered_from_or_refused_with_its_place() {
    let mut outcomes = MediaOutcomes::default();
    for seed in 0..3_000 {
        media_case(seed, &mut outcomes);
    }
    assert!(outcomes.intact > 100, "{outcomes:?}");
    assert!(outcomes.tail_lost > 20, "{outcomes:?}");
    assert!(outcomes.refused > 100, "{outcomes:?}");
    assert!(outcomes.snapshot_passed_over > 20, "{outcomes:?}");
}

/// Returns whether the writer stopped on an injected error.
fn eio_case(seed: u64) -> bool {
    let storage = SimulatedStorage::new(seed);
    let mut rng = Rng(seed ^ 0xE10);
    let config = random_config(&mut rng);
    storage.set_faults(FaultPlan {
        write_eio_per_million: rng.below(60_000) as u32,
        sync_eio_per_million: rng.below(60_000) as u32,
    });
    let inputs = 20 + rng.below(300);
    let batch = config.batch_records_max as u64;
    let live = run_live(
        &storage,
        dir(),
        config,
        &mut Workload::new(seed),
        inputs,
        batch,
    );
    // Fail-stop: what was applied and released is exactly what was durable.
    assert_eq!(live.events.len() as u64, live.durable_seq, "seed {seed}");
    if live.failure.is_none() {
        assert_eq!(live.durable_seq, inputs);
    }
    storage.crash();
    let report = recover_and_check(&storage, seed, config);
    assert!(report.last_seq >= live.durable_seq, "seed {seed}");
    live.failure.is_some()
}

#[test]
fn io_errors_stop_the_writer_and_lose_nothing_durable() {
    let mut stopped = 0;
    for seed in 0..2_000 {
        stopped += u32::from(eio_case(seed));
    }
    assert!(stopped > 500, "{stopped} runs stopped on an error");
}

#[test]
fn a_failed_fsync_is_final() {
    let storage = SimulatedStorage::new(9);
    let config = JournalConfig {
        segment_size_max_bytes: 1 << 20,
        durability: Durability::Fsync,
        batch_records_max: 8,
    };
    let mut writer =
        JournalWriter::open(storage.clone(), dir(), config, &JournalEnd::EMPTY).unwrap();
    let mut workload = Workload::new(9);
    for seq in 1..=8 {
        writer
            .append(seq, timestamp_ns_at(seq), &workload.next_input())
            .unwrap();
    }
    assert_eq!(writer.commit(), Ok(8));
    for seq in 9..=12 {
        writer
            .append(seq, timestamp_ns_at(seq), &workload.next_input())
            .unwrap();
    }
    storage.set_faults(FaultPlan {
        write_eio_per_million: 0,
        sync_eio_per_million: 1_000_000,
    });
    let failed = writer.commit().unwrap_err();
    assert!(
        matches!(failed, JournalError::Io { op: "fsync", .. }),
        "{failed}"
    );
    // Even with the disk healthy again, nothing more is written or acknowledged.
    storage.set_faults(FaultPlan::default());
    assert_eq!(writer.durable_seq(), 8);
    let input = workload.next_input();
    assert!(matches!(
        writer.append(13, timestamp_ns_at(13), &input),
        Err(JournalError::Stopped { .. })
    ));
    assert!(matches!(writer.commit(), Err(JournalError::Stopped { .. })));
    assert_eq!(writer.durable_seq(), 8);
    assert!(writer
        .stopped()
        .is_some_and(|cause| cause.contains("fsync")));
}
