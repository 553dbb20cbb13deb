//! The operator's journal tools: verify's summary, dump as text and as JSON lines,
//! replay to a seq (with and without snapshots) and the replay rate.

mod workload;

use std::path::Path;

use ringex_daemon::journal::{Durability, JournalConfig};
use ringex_daemon::journal_tools::{
    dump, measure_replay_rate, replay_to, verify, DumpFormat, ToolError,
};
use ringex_daemon::storage::simulated::SimulatedStorage;
use workload::*;

const INPUTS: u64 = 3_000;

fn journal() -> (SimulatedStorage, LiveRun) {
    let storage = SimulatedStorage::new(8);
    let config = JournalConfig {
        segment_size_max_bytes: 8 << 10,
        durability: Durability::Fsync,
        batch_records_max: 32,
    };
    let live = run_live(&storage, dir(), config, &mut Workload::new(8), INPUTS, 32);
    assert_eq!(live.durable_seq, INPUTS);
    (storage, live)
}

fn dir() -> &'static Path {
    Path::new("/data")
}

#[test]
fn verify_prints_a_summary() {
    let (storage, _) = journal();
    let mut out = Vec::new();
    let summary = verify(&storage, dir(), &mut out).unwrap();
    assert_eq!(
        (summary.records, summary.first_seq, summary.last_seq),
        (INPUTS, Some(1), INPUTS)
    );
    assert!(summary.torn_tail.is_none());
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(&format!(
            "{} segments, {INPUTS} records, seqs 1..={INPUTS}",
            summary.segments
        )),
        "{text}"
    );
}

#[test]
fn dump_prints_every_record_as_text_or_json() {
    let (storage, _) = journal();
    let (_, inputs, _) = reference(8, INPUTS);
    let mut text = Vec::new();
    let printed = dump(&storage, dir(), DumpFormat::Text, None, None, &mut text).unwrap();
    assert_eq!(printed, INPUTS);
    let text = String::from_utf8(text).unwrap();
    assert_eq!(text.lines().count() as u64, INPUTS);
    assert!(text
        .lines()
        .next()
        .unwrap()
        .starts_with("seq=1 timestamp_ns="));

    let mut json = Vec::new();
    let printed = dump(
        &storage,
        dir(),
        DumpFormat::JsonLines,
        Some(101),
        Some(600),
        &mut json,
    )
    .unwrap();
    assert_eq!(printed, 500);
    let json = String::from_utf8(json).unwrap();
    for (i, line) in json.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let seq = 101 + i as u64;
        assert_eq!(value["seq"], seq);
        assert_eq!(value["timestamp_ns"], timestamp_ns_at(seq));
        let kind = value["input"]["type"].as_str().unwrap();
        let expected = match inputs[(seq - 1) as usize] {
            ringex_protocol::Input::TakeSnapshot => "take_snapshot",
            ringex_protocol::Input::Shutdown => "shutdown",
            ringex_protocol::Input::Command(cmd) => match cmd.kind() {
                ringex_core::CommandKind::NewOrder => "new_order",
                ringex_core::CommandKind::Cancel => "cancel",
                ringex_core::CommandKind::Replace => "replace",
                ringex_core::CommandKind::MassCancel => "mass_cancel",
                ringex_core::CommandKind::EndOfDay => "end_of_day",
                ringex_core::CommandKind::AddInstrument => "add_instrument",
                ringex_core::CommandKind::AddAccount => "add_account",
                ringex_core::CommandKind::SetHalted => "set_halted",
            },
        };
        assert_eq!(kind, expected, "{line}");
    }
}

#[test]
fn replay_to_a_seq_rebuilds_that_state() {
    let (storage, live) = journal();
    for to in [1, 9, 777, 2_000, INPUTS] {
        let mut out = Vec::new();
        let summary = replay_to(&storage, dir(), engine_config(), Some(to), &mut out).unwrap();
        let (oracle, _, _) = reference(8, to);
        assert_eq!(summary.state_hash, oracle.state_hash(), "to {to}");
        assert_eq!(summary.last_seq, to);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(&format!("state_hash={:#018x}", oracle.state_hash())),
            "{text}"
        );
    }
    // Without a target: the end of the journal, from the newest snapshot.
    let summary = replay_to(&storage, dir(), engine_config(), None, &mut Vec::new()).unwrap();
    assert_eq!(summary.state_hash, live.engine.state_hash());
    assert!(summary.snapshot_seq.is_some());
    assert_eq!(
        summary.replayed_records,
        INPUTS - summary.snapshot_seq.unwrap()
    );
    let beyond = replay_to(
        &storage,
        dir(),
        engine_config(),
        Some(INPUTS + 1),
        &mut Vec::new(),
    );
    assert!(
        matches!(beyond, Err(ToolError::NotReached { to_seq, last_seq }) if to_seq == INPUTS + 1 && last_seq == INPUTS)
    );
}

#[test]
fn the_replay_rate_covers_the_whole_journal() {
    let (storage, _) = journal();
    let rate = measure_replay_rate(&storage, dir(), engine_config()).unwrap();
    assert_eq!(rate.records, INPUTS);
    assert!(rate.records_per_s > 0.0);
}
