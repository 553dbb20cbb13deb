//! Every cut and every bit flip near the end of the journal, on one journal built once
//! on the simulated disk and copied for each case: recovery either keeps every record
//! the durable mark covers (everything fsync'd and so acknowledged) or refuses naming
//! the place. Past the mark lie records of a batch whose fsync never returned (written,
//! never acknowledged): damage there is a torn write and is cut.

mod workload;

use std::path::{Path, PathBuf};

use ringex_daemon::journal::durable_mark::mark_path;
use ringex_daemon::journal::record::encode_record;
use ringex_daemon::journal::segment::{segment_path, segments_in};
use ringex_daemon::journal::{Durability, JournalConfig, JournalEnd, JournalError, JournalWriter};
use ringex_daemon::recovery::{recover_with, RecoveryError, ReplayObserver};
use ringex_daemon::storage::simulated::SimulatedStorage;
use ringex_daemon::storage::{Storage, StorageFile};
use workload::*;

const SEED: u64 = 21;
/// Records the writer commits, all covered by the synced mark.
const ACKED: u64 = 1_200;
/// Records written after the last acknowledged batch whose fsync never returned.
const IN_FLIGHT: u64 = 12;
const SWEPT_BYTES: u64 = 64 << 10;

struct Quiet;
impl ReplayObserver for Quiet {}

fn dir() -> &'static Path {
    Path::new("/data")
}

fn config() -> JournalConfig {
    JournalConfig {
        segment_size_max_bytes: 16 << 10,
        durability: Durability::Fsync,
        batch_records_max: 16,
    }
}

/// The journal: `ACKED` records committed with their mark synced (as the lazy syncer
/// leaves it), then `IN_FLIGHT` records on disk past the mark.
fn build() -> SimulatedStorage {
    let storage = SimulatedStorage::new(SEED);
    let (_, inputs, _) = reference(SEED, ACKED + IN_FLIGHT);
    let mut writer =
        JournalWriter::open(storage.clone(), dir(), config(), &JournalEnd::EMPTY).unwrap();
    for seq in 1..=ACKED {
        if writer.is_batch_full() {
            writer.commit().unwrap();
        }
        let input = &inputs[(seq - 1) as usize];
        writer.append(seq, timestamp_ns_at(seq), input).unwrap();
    }
    assert_eq!(writer.commit().unwrap(), ACKED);
    assert!(writer.mark_syncer().unwrap().sync_if_newer());
    let mut prev = writer.last_checksum();
    let segment = segment_path(dir(), writer.open_segment_first_seq());
    drop(writer);
    let mut tail = Vec::new();
    for seq in ACKED + 1..=ACKED + IN_FLIGHT {
        let input = &inputs[(seq - 1) as usize];
        prev = encode_record(seq, timestamp_ns_at(seq), prev, input, &mut tail);
    }
    let mut file = storage.open(&segment).unwrap();
    let len = file.len_bytes().unwrap();
    file.write_all_at(len, &tail).unwrap();
    file.sync().unwrap();
    storage.crash();
    storage
}

/// The segments as one stream: (path, start offset in the stream, length).
fn stream(storage: &SimulatedStorage) -> Vec<(PathBuf, u64, u64)> {
    let names = storage.list(dir()).unwrap();
    let mut at = 0;
    segments_in(&names)
        .into_iter()
        .map(|first| {
            let path = segment_path(dir(), first);
            let len = storage.file_len_bytes(&path).unwrap();
            at += len;
            (path, at - len, len)
        })
        .collect()
}

/// Where the acknowledged records end in the stream.
fn acked_end(storage: &SimulatedStorage) -> u64 {
    let mut tail = Vec::new();
    let (_, inputs, _) = reference(SEED, ACKED + IN_FLIGHT);
    for seq in ACKED + 1..=ACKED + IN_FLIGHT {
        encode_record(seq, 0, 0, &inputs[(seq - 1) as usize], &mut tail);
    }
    let total: u64 = stream(storage).iter().map(|s| s.2).sum();
    total - tail.len() as u64
}

/// Recovers a damaged copy: every acknowledged record kept (and the state right), or
/// a refusal naming a segment or the mark. Returns whether it recovered.
fn check(storage: &SimulatedStorage, case: &str) -> bool {
    match recover_with(
        storage.clone(),
        dir(),
        engine_config(),
        config(),
        &mut Quiet,
    ) {
        Ok(recovered) => {
            let last = recovered.engine.last_seq();
            assert!(
                last >= ACKED,
                "{case}: acknowledged records lost, kept {last}"
            );
            let (oracle, _, _) = reference(SEED, last);
            assert_eq!(recovered.engine.state_hash(), oracle.state_hash(), "{case}");
            true
        }
        Err(RecoveryError::Journal(JournalError::Corrupt { path, .. })) => {
            assert!(
                path.extension().is_some_and(|e| e == "seg") || path == mark_path(dir()),
                "{case}: {path:?}"
            );
            false
        }
        Err(e) => panic!("{case}: {e}"),
    }
}

#[test]
fn every_cut_in_the_last_64_kib_keeps_the_acknowledged_or_refuses() {
    let built = build();
    let segments = stream(&built);
    let total: u64 = segments.iter().map(|s| s.2).sum();
    let acked_end = acked_end(&built);
    assert!(
        total > SWEPT_BYTES + 1024,
        "journal too small to sweep: {total}"
    );
    // The two halves of the sweep on two threads.
    let half = |lo: u64, hi: u64| {
        let (mut recovered, mut refused) = (0u64, 0u64);
        for cut in lo..hi {
            let storage = built.fork();
            for (path, start, len) in &segments {
                if *start >= cut {
                    storage.remove(path).unwrap();
                } else if start + len > cut {
                    storage.truncate_durable(path, cut - start);
                }
            }
            let kept = check(&storage, &format!("cut at {cut}"));
            // Cuts into acknowledged records refuse; cuts past them are torn writes.
            assert_eq!(
                kept,
                cut >= acked_end,
                "cut at {cut} (acked end {acked_end})"
            );
            recovered += u64::from(kept);
            refused += u64::from(!kept);
        }
        (recovered, refused)
    };
    let mid = total - SWEPT_BYTES / 2;
    let (a, b) = std::thread::scope(|s| {
        let first = s.spawn(|| half(total - SWEPT_BYTES, mid));
        let second = half(mid, total);
        (first.join().unwrap(), second)
    });
    let (recovered, refused) = (a.0 + b.0, a.1 + b.1);
    eprintln!("{recovered} cuts recovered (torn in-flight tail), {refused} refused");
}

#[test]
fn every_bit_flip_in_the_last_records_keeps_the_acknowledged_or_refuses() {
    let built = build();
    let segments = stream(&built);
    let (last_path, last_start, last_len) = segments.last().unwrap().clone();
    let acked_end = acked_end(&built);
    let total = last_start + last_len;
    // The last three acknowledged records and the in-flight ones after them.
    let record_bytes = (total - acked_end) / IN_FLIGHT;
    let from = acked_end
        .saturating_sub(3 * record_bytes + 8)
        .max(last_start + 28);
    let (mut recovered, mut refused) = (0u64, 0u64);
    for byte in from..total {
        for bit in 0..8 {
            let storage = built.fork();
            storage.flip_bit(&last_path, (byte - last_start) * 8 + bit);
            let kept = check(&storage, &format!("bit {bit} of byte {byte}"));
            if byte < acked_end {
                assert!(!kept, "flip in acknowledged byte {byte} was not refused");
            }
            recovered += u64::from(kept);
            refused += u64::from(!kept);
        }
    }
    assert!(recovered > 0 && refused > 0, "{recovered} {refused}");
    eprintln!("{recovered} flips recovered (in the in-flight tail), {refused} refused");
}
