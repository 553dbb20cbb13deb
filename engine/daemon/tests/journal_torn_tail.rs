//! A torn last record is cut off with a log line; damage anywhere else stops recovery
//! with an error naming the file, the offset and the sequence number. On real files.

mod workload;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use ringex_daemon::journal::durable_mark::MarkFile;
use ringex_daemon::journal::record::{encode_record, RECORD_HEADER_BYTES};
use ringex_daemon::journal::segment::{segment_path, SegmentHeader};
use ringex_daemon::journal::{Durability, JournalConfig, JournalError};
use ringex_daemon::journal_tools::verify;
use ringex_daemon::recovery::{recover_with, RecoveryError, ReplayObserver};
use ringex_daemon::storage::FileStorage;
use ringex_protocol::Input;
use workload::*;

struct Quiet;
impl ReplayObserver for Quiet {}

/// A data directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("ringex-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn config() -> JournalConfig {
    JournalConfig {
        segment_size_max_bytes: 1 << 20,
        durability: Durability::Fsync,
        batch_records_max: 16,
    }
}

const RECORDS: u64 = 50;

/// Writes a one-segment journal of `RECORDS` records without snapshots, as a crash
/// leaves it while the last record was in flight: the durable mark names the record
/// before it. Returns the segment's path and the offsets at which its records start.
fn write_journal(dir: &Path) -> (PathBuf, Vec<u64>) {
    let mut workload = Workload::new(3);
    let mut inputs = Vec::new();
    while inputs.len() < RECORDS as usize {
        let input = workload.next_input();
        if input != Input::TakeSnapshot {
            inputs.push(input);
        }
    }
    let mut bytes = SegmentHeader {
        first_seq: 1,
        prev_checksum: 0,
    }
    .encode()
    .to_vec();
    let mut offsets = Vec::new();
    let mut prev = 0;
    let mut durable_checksum = 0;
    for (i, input) in inputs.iter().enumerate() {
        offsets.push(bytes.len() as u64);
        let seq = i as u64 + 1;
        durable_checksum = prev;
        prev = encode_record(seq, timestamp_ns_at(seq), prev, input, &mut bytes);
    }
    MarkFile::open(&FileStorage, dir, RECORDS - 1, durable_checksum).unwrap();
    let path = segment_path(dir, 1);
    fs::write(&path, &bytes).unwrap();
    (path, offsets)
}

fn recover(dir: &Path) -> Result<ringex_daemon::recovery::Recovered<FileStorage>, RecoveryError> {
    recover_with(FileStorage, dir, engine_config(), config(), &mut Quiet)
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x40;
    fs::write(path, bytes).unwrap();
}

#[test]
fn every_cut_inside_the_last_record_is_truncated() {
    let dir = TempDir::new("torn-cut");
    let (path, offsets) = write_journal(&dir.0);
    let full = fs::metadata(&path).unwrap().len();
    let last_start = *offsets.last().unwrap();
    for cut in 1..full - last_start {
        write_journal(&dir.0);
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(full - cut).unwrap();
        // The tools only report the tear.
        let mut out = Vec::new();
        let summary = verify(&FileStorage, &dir.0, &mut out).unwrap();
        assert_eq!(summary.last_seq, RECORDS - 1);
        assert_eq!(summary.torn_tail.as_ref().unwrap().offset_bytes, last_start);
        assert!(String::from_utf8(out).unwrap().contains("torn tail"));
        assert_eq!(fs::metadata(&path).unwrap().len(), full - cut);
        // Recovery cuts it off and appends after it.
        let recovered = recover(&dir.0).unwrap();
        assert_eq!(recovered.engine.last_seq(), RECORDS - 1);
        assert_eq!(recovered.writer.next_seq(), RECORDS);
        let torn = recovered.report.torn_tail.unwrap();
        assert_eq!(
            (torn.path, torn.offset_bytes, torn.seq),
            (path.clone(), last_start, RECORDS)
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), last_start);
    }
}

#[test]
fn a_bad_checksum_at_the_very_end_is_a_torn_tail() {
    let dir = TempDir::new("torn-crc");
    let (path, offsets) = write_journal(&dir.0);
    let last_start = *offsets.last().unwrap();
    flip_byte(&path, last_start + RECORD_HEADER_BYTES as u64 + 3);
    let recovered = recover(&dir.0).unwrap();
    assert_eq!(recovered.engine.last_seq(), RECORDS - 1);
    assert_eq!(
        recovered.report.torn_tail.unwrap().what,
        "record checksum mismatch"
    );
}

#[test]
fn zeros_after_the_last_record_are_a_torn_tail() {
    let dir = TempDir::new("torn-zeros");
    let (path, _) = write_journal(&dir.0);
    let full = fs::metadata(&path).unwrap().len();
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&[0u8; 4096]).unwrap();
    drop(file);
    let recovered = recover(&dir.0).unwrap();
    assert_eq!(recovered.engine.last_seq(), RECORDS);
    assert_eq!(fs::metadata(&path).unwrap().len(), full);
}

#[test]
fn damage_before_the_last_record_is_refused_with_its_place() {
    let dir = TempDir::new("mid-damage");
    for victim in [0usize, 1, 24, RECORDS as usize - 2] {
        let (path, offsets) = write_journal(&dir.0);
        flip_byte(&path, offsets[victim] + 9);
        let Err(RecoveryError::Journal(e)) = recover(&dir.0) else {
            panic!("damage at record {victim} was not refused");
        };
        let JournalError::Corrupt {
            path: at,
            offset_bytes,
            seq,
            ..
        } = &e
        else {
            panic!("{e}");
        };
        assert_eq!(
            (at, *offset_bytes, *seq),
            (&path, offsets[victim], victim as u64 + 1)
        );
        let text = e.to_string();
        assert!(text.contains("journal-00000000000000000001.seg"), "{text}");
        assert!(
            text.contains(&format!("offset {}", offsets[victim])),
            "{text}"
        );
        // The file is left as it was for the operator.
        assert!(verify(&FileStorage, &dir.0, &mut Vec::new()).is_err());
    }
}

/// A record to write: its seq, and a previous checksum to use instead of the chain's.
type Forged = (u64, Option<u32>);

/// Writes records with the given seqs, chained unless a previous checksum is forced,
/// beside a mark that claims none of them durable: what is refused here is refused for
/// its shape alone.
fn write_records(dir: &Path, seqs: &[Forged]) -> PathBuf {
    MarkFile::open(&FileStorage, dir, 0, 0).unwrap();
    let mut bytes = SegmentHeader {
        first_seq: 1,
        prev_checksum: 0,
    }
    .encode()
    .to_vec();
    let mut prev = 0;
    for &(seq, forced_prev) in seqs {
        let input = Input::Command(ringex_core::Command::EndOfDay);
        prev = encode_record(
            seq,
            timestamp_ns_at(seq),
            forced_prev.unwrap_or(prev),
            &input,
            &mut bytes,
        );
    }
    let path = segment_path(dir, 1);
    fs::write(&path, &bytes).unwrap();
    path
}

#[test]
fn gaps_reordering_and_broken_chains_are_refused() {
    let dir = TempDir::new("chain");
    let cases: [(&[Forged], &str); 3] = [
        (
            &[(1, None), (2, None), (4, None), (5, None)],
            "sequence gap: found seq 4",
        ),
        (
            &[(1, None), (3, None), (2, None), (4, None)],
            "sequence gap: found seq 3",
        ),
        (
            &[(1, None), (2, Some(7)), (3, None), (4, None)],
            "breaks the checksum chain",
        ),
    ];
    for (records, expected) in cases {
        write_records(&dir.0, records);
        let Err(e) = recover(&dir.0) else {
            panic!("{records:?} was accepted");
        };
        assert!(e.to_string().contains(expected), "{e}");
    }
}

#[test]
fn a_torn_end_of_an_earlier_segment_is_refused() {
    let dir = TempDir::new("earlier-segment");
    let storage = FileStorage;
    let config = JournalConfig {
        segment_size_max_bytes: 600,
        ..config()
    };
    let live = run_live(&storage, &dir.0, config, &mut Workload::new(5), 200, 8);
    assert_eq!(live.durable_seq, 200);
    let mut segments: Vec<PathBuf> = fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    segments.sort();
    assert!(segments.len() > 3);
    let first = &segments[0];
    let len = fs::metadata(first).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(first)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    // Snapshots are not covering the first segment's end here: remove them so the
    // replay must read it.
    for entry in fs::read_dir(&dir.0).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "snap") {
            fs::remove_file(path).unwrap();
        }
    }
    let Err(RecoveryError::Journal(JournalError::Corrupt { path, .. })) =
        recover_with(FileStorage, &dir.0, engine_config(), config, &mut Quiet)
    else {
        panic!("a torn earlier segment was accepted");
    };
    assert_eq!(&path, first);
}
