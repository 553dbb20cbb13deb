//! After a clean stop the durable mark is exact, so any damage to the journal refuses
//! startup, naming the file, the offset and the sequence numbers; with
//! `--accept-journal-loss` the loss is recorded, the journal cut to its last good record,
//! and the daemon starts (and starts again later without the flag). Each case runs the
//! real daemon, with the acknowledged-order oracle of the kill -9 test: nothing
//! acknowledged is lost without a refusal and a recorded loss, nothing is journaled twice.

mod support;

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ringex_core::Command as EngineCommand;
use ringex_protocol::Input;
use support::{
    flip_byte, free_port, journal_tool, replay_journal, run_and_stop_on, start_refused_on, Daemon,
    TempDir,
};

const ORDERS: u64 = 800;
const FLAGS: [&str; 4] = ["--segment-bytes", "8192", "--batch-max", "64"];

fn run_and_stop(data: &Path, flags: &[&str]) -> Vec<(u64, u64)> {
    run_and_stop_on(data, free_port(), flags, ORDERS)
}

fn start_refused(data: &Path, flags: &[&str]) -> String {
    start_refused_on(data, free_port(), flags)
}

fn segments(data: &Path) -> Vec<PathBuf> {
    let mut segs: Vec<PathBuf> = fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    segs.sort();
    segs
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// The refusal names the damaged file, an offset and a seq, and says what to do.
fn assert_refusal_names_the_place(log: &str, file: &str) {
    assert!(log.contains(file), "refusal does not name {file}:\n{log}");
    assert!(log.contains("offset"), "{log}");
    assert!(log.contains("seq"), "{log}");
    assert!(log.contains("--accept-journal-loss"), "{log}");
}

/// Accepts the loss, checks the oracle, and checks that a later start needs no flag.
/// Returns the seq the daemon came back at.
fn accept_and_check(data: &Path, acked: &[(u64, u64)], flags: &[&str]) -> u64 {
    let mut accepting: Vec<&str> = flags.to_vec();
    accepting.push("--accept-journal-loss");
    let daemon = Daemon::start(data, &accepting);
    let welcome = daemon.link().welcome();
    daemon.signal(libc::SIGTERM);
    let mut daemon = daemon;
    assert!(daemon.wait_exit(Duration::from_secs(30)).success());
    let verify = journal_tool(data, &["verify"]);
    let lost_any = acked.iter().any(|&(_, seq)| seq > welcome);
    if lost_any {
        // The loss is on record, covering every acknowledged seq past the cut.
        let line = verify
            .lines()
            .find(|l| l.contains("recorded loss") && l.contains("acknowledged-cut"))
            .unwrap_or_else(|| panic!("no recorded loss:\n{verify}"));
        assert!(line.contains(&format!("seqs {}..=", welcome + 1)), "{line}");
        let max_acked = acked.iter().map(|&(_, s)| s).max().unwrap();
        let last: u64 = line
            .split("..=")
            .nth(1)
            .unwrap()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(last >= max_acked, "{line}");
    }
    // No flag needed any more; the clean stop journaled its Shutdown input.
    let mut again = Daemon::start(data, flags);
    assert_eq!(again.link().welcome(), welcome + 1);
    again.signal(libc::SIGTERM);
    assert!(again.wait_exit(Duration::from_secs(30)).success());
    welcome
}

/// Every acknowledged order at or below `kept` is journaled at its seq; none twice.
fn assert_oracle(data: &Path, acked: &[(u64, u64)], kept: u64) {
    let replay = replay_journal(data);
    assert!(replay.records.len() as u64 >= kept);
    let mut journaled = HashSet::new();
    for r in &replay.records {
        if let Input::Command(EngineCommand::NewOrder(o)) = r.input {
            assert!(
                journaled.insert(o.client_order_id),
                "{} twice",
                o.client_order_id
            );
        }
    }
    for &(id, seq) in acked.iter().filter(|&&(_, seq)| seq <= kept) {
        match replay.records[(seq - 1) as usize].input {
            Input::Command(EngineCommand::NewOrder(o)) => assert_eq!(o.client_order_id, id),
            other => panic!("acked {id} at seq {seq}, journal has {other:?}"),
        }
    }
}

/// Damages the newest segment after a clean stop; refusal, then accepted loss. The
/// refusal names the damaged segment, or for a deleted one the segment the journal now
/// ends in.
fn tail_case(name: &str, named: usize, damage: impl FnOnce(&Path)) {
    let dir = TempDir::new(name);
    let data = dir.0.join("data");
    let acked = run_and_stop(&data, &FLAGS);
    let segs = segments(&data);
    damage(&segs[segs.len() - 1]);
    let log = start_refused(&data, &FLAGS);
    let named = &segs[segs.len() - 1 - named];
    assert_refusal_names_the_place(&log, named.file_name().unwrap().to_str().unwrap());
    // Refusing changed nothing: it refuses again.
    start_refused(&data, &FLAGS);
    let kept = accept_and_check(&data, &acked, &FLAGS);
    // The journal ended with the clean stop's Shutdown input, after the last ack.
    assert!(
        kept < acked.last().unwrap().1 + 1,
        "{name}: nothing was cut"
    );
    assert_oracle(&data, &acked, kept);
}

#[test]
fn last_4_kib_zeroed() {
    tail_case("loss-zero4k", 0, |seg| {
        let len = file_len(seg);
        let mut bytes = fs::read(seg).unwrap();
        let from = (len.saturating_sub(4096)).max(28) as usize;
        bytes[from..].fill(0);
        fs::write(seg, bytes).unwrap();
    });
}

#[test]
fn one_byte_flipped_in_the_last_record() {
    tail_case("loss-flip", 0, |seg| flip_byte(seg, file_len(seg) - 5));
}

#[test]
fn segment_truncated_midway() {
    tail_case("loss-trunc", 0, |seg| {
        let file = fs::OpenOptions::new().write(true).open(seg).unwrap();
        file.set_len(file_len(seg) / 2 + 3).unwrap();
    });
}

#[test]
fn newest_segment_deleted() {
    tail_case("loss-deleted", 1, |seg| fs::remove_file(seg).unwrap());
}

/// Deleting the mark must not turn acknowledged records back into a tail a crash could
/// explain: the start refuses, and with the flag it judges the tail without the mark
/// and writes a new one.
#[test]
fn durable_mark_deleted() {
    let dir = TempDir::new("loss-mark");
    let data = dir.0.join("data");
    let acked = run_and_stop(&data, &FLAGS);
    fs::remove_file(data.join("journal.mark")).unwrap();
    let log = start_refused(&data, &FLAGS);
    assert!(log.contains("journal.mark is missing"), "{log}");
    assert!(log.contains("--accept-journal-loss"), "{log}");
    let mut accepting: Vec<&str> = FLAGS.to_vec();
    accepting.push("--accept-journal-loss");
    let mut daemon = Daemon::start(&data, &accepting);
    // Nothing was damaged: everything, the clean stop's Shutdown input included, is there.
    assert_eq!(daemon.link().welcome(), acked.last().unwrap().1 + 1);
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(30)).success());
    assert!(data.join("journal.mark").exists());
    assert_oracle(&data, &acked, acked.last().unwrap().1);
}

#[test]
fn damage_in_an_older_segment_covered_by_a_snapshot() {
    let dir = TempDir::new("loss-older");
    let data = dir.0.join("data");
    let flags = [&FLAGS[..], &["--snapshot-every-inputs", "300"]].concat();
    let acked = run_and_stop(&data, &flags);
    let oldest = segments(&data).remove(0);
    flip_byte(&oldest, file_len(&oldest) / 2);
    let log = start_refused(&data, &flags);
    assert_refusal_names_the_place(&log, oldest.file_name().unwrap().to_str().unwrap());
    // The snapshot holds the state: accepting loses history, not acknowledged inputs.
    let kept = accept_and_check(&data, &acked, &flags);
    // Everything, the Shutdown input of the clean stop included.
    assert_eq!(kept, acked.last().unwrap().1 + 1);
    let verify = journal_tool(&data, &["verify"]);
    assert!(verify.contains("history-only"), "{verify}");
    assert!(data.join("lost").join(oldest.file_name().unwrap()).exists());
}

#[test]
fn a_damaged_snapshot_is_passed_over_while_the_journal_covers_it() {
    let dir = TempDir::new("loss-snap");
    let data = dir.0.join("data");
    let flags = [&FLAGS[..], &["--snapshot-every-inputs", "300"]].concat();
    let acked = run_and_stop(&data, &flags);
    let snapshot = fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .max()
        .unwrap();
    flip_byte(&snapshot, file_len(&snapshot) / 2);
    // Every input is still in the journal: nothing acknowledged can be lost, so the
    // start goes on from the journal (with a warning naming the snapshot).
    let mut daemon = Daemon::start(&data, &flags);
    let end = acked.last().unwrap().1 + 1;
    assert_eq!(daemon.link().welcome(), end);
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(30)).success());
    assert!(daemon.log_text().contains("snapshot passed over"));
    assert_oracle(&data, &acked, end);
}

/// Damage to an older snapshot, one this start does not load, is found at startup too.
#[test]
fn a_damaged_older_snapshot_is_reported_at_startup() {
    let dir = TempDir::new("loss-old-snap");
    let data = dir.0.join("data");
    let flags = [&FLAGS[..], &["--snapshot-every-inputs", "300"]].concat();
    let acked = run_and_stop(&data, &flags);
    let oldest = fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .min()
        .unwrap();
    flip_byte(&oldest, file_len(&oldest) / 2);
    let mut daemon = Daemon::start(&data, &flags);
    assert_eq!(daemon.link().welcome(), acked.last().unwrap().1 + 1);
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(30)).success());
    assert!(
        daemon.log_text().contains("older snapshot damaged"),
        "{}",
        daemon.log_text()
    );
}
