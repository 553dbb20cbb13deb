//! After a clean stop every entry of the Raft log is committed, so any damage to it
//! refuses startup, naming the damage and the way out (a lone node has nobody to be
//! repaired from); with `--accept-journal-loss` the damaged part is set aside with a
//! record of the loss and the daemon starts (and starts again later without the flag).
//! Each case runs the real daemon with its default configuration (no `[cluster]`),
//! with the acknowledged-order oracle of the kill -9 test: nothing acknowledged is lost
//! without a refusal and a recorded loss, nothing is journaled twice.

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
/// Small batches, so the log holds many entries and a cut near its end loses few.
const FLAGS: [&str; 2] = ["--batch-max", "64"];

fn run_and_stop(data: &Path, flags: &[&str]) -> Vec<(u64, u64)> {
    run_and_stop_on(data, free_port(), flags, ORDERS)
}

fn start_refused(data: &Path, flags: &[&str]) -> String {
    start_refused_on(data, free_port(), flags)
}

fn entries(data: &Path) -> PathBuf {
    data.join("raft").join("entries")
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// The refusal says what is damaged and what to do.
fn assert_refusal_says_the_way_out(log: &str) {
    assert!(log.contains("alone in its cluster"), "{log}");
    assert!(log.contains("--accept-journal-loss"), "{log}");
}

/// Accepts the loss, checks that it is on record, and that a later start needs no
/// flag. Returns the seq the daemon came back at.
fn accept_and_check(data: &Path, flags: &[&str]) -> u64 {
    let accepting = [flags, &["--accept-journal-loss"]].concat();
    let mut daemon = Daemon::start(data, &accepting);
    let (_, welcome) = daemon.serving_link();
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(30)).success());
    let lost: Vec<PathBuf> = fs::read_dir(data.join("lost"))
        .expect("lost/ made")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert!(lost[0].join("accepted-losses.txt").exists(), "{lost:?}");
    journal_tool(data, &["verify"]);
    // No flag needed any more.
    let mut again = Daemon::start(data, flags);
    assert_eq!(again.serving_link().1, welcome);
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

/// Damages the entry log after a clean stop; refusal, then accepted loss.
fn tail_case(name: &str, damage: impl FnOnce(&Path)) {
    let dir = TempDir::new(name);
    let data = dir.0.join("data");
    let acked = run_and_stop(&data, &FLAGS);
    damage(&entries(&data));
    let log = start_refused(&data, &FLAGS);
    assert_refusal_says_the_way_out(&log);
    // Refusing changed nothing: it refuses again.
    start_refused(&data, &FLAGS);
    let kept = accept_and_check(&data, &FLAGS);
    let acked_max = acked.iter().map(|&(_, seq)| seq).max().unwrap();
    assert!(kept < acked_max, "{name}: nothing was cut");
    assert_oracle(&data, &acked, kept);
}

#[test]
fn last_4_kib_zeroed() {
    tail_case("loss-zero4k", |log| {
        let mut bytes = fs::read(log).unwrap();
        let from = bytes.len().saturating_sub(4096);
        bytes[from..].fill(0);
        fs::write(log, bytes).unwrap();
    });
}

#[test]
fn one_byte_flipped_in_the_last_record() {
    tail_case("loss-flip", |log| flip_byte(log, file_len(log) - 5));
}

#[test]
fn log_truncated_midway() {
    tail_case("loss-trunc", |log| {
        let file = fs::OpenOptions::new().write(true).open(log).unwrap();
        file.set_len(file_len(log) / 2 + 3).unwrap();
    });
}

/// A damaged snapshot is set aside like any damage; the log still reaches back to its
/// first entry, so accepting it loses nothing.
#[test]
fn a_damaged_snapshot_refuses_and_accepting_it_loses_nothing() {
    let dir = TempDir::new("loss-snap");
    let data = dir.0.join("data");
    let flags = [&FLAGS[..], &["--snapshot-every-inputs", "300"]].concat();
    let acked = run_and_stop(&data, &flags);
    let snapshot = data.join("raft").join("snapshot");
    flip_byte(&snapshot, file_len(&snapshot) / 2);
    assert_refusal_says_the_way_out(&start_refused(&data, &flags));
    let kept = accept_and_check(&data, &flags);
    let acked_max = acked.iter().map(|&(_, seq)| seq).max().unwrap();
    assert!(kept >= acked_max, "came back at {kept}, acked {acked_max}");
    assert_oracle(&data, &acked, kept);
}
