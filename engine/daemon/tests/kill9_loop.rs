//! kill -9 under load: a client sends orders with unique client order ids and records
//! every acknowledgement (the events of its inputs); the daemon is killed at random
//! moments, also while writing snapshots and rolling segments (both made frequent),
//! then restarted. At the end the journal must hold every acknowledged input at the
//! sequence number it was acknowledged with, replaying to the same events, with no
//! input twice and no gap.

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringex_core::{Command, Event};
use ringex_protocol::Input;
use support::{random_order, replay_journal, Daemon, Frame, Rng, TempDir};

const CYCLES: usize = 50;

/// What the clients saw across all runs.
#[derive(Default)]
struct Seen {
    /// Events of every complete input any run delivered, by seq.
    events: BTreeMap<u64, Vec<Event>>,
    /// Acknowledged client order ids: the seq their events came with.
    acked: HashMap<u64, u64>,
}

#[test]
fn every_acknowledged_input_survives_kill_9() {
    let dir = TempDir::new("kill9");
    let data = dir.0.join("data");
    let flags = [
        "--durability",
        "fsync",
        "--snapshot-every-inputs",
        "400",
        "--batch-max",
        "256",
    ];
    let seen = Arc::new(Mutex::new(Seen::default()));
    let next_id = Arc::new(AtomicU64::new(1));
    let mut rng = Rng(0x5EED);
    let mut last_welcome = 0;
    for cycle in 0..CYCLES {
        let mut daemon = Daemon::start(&data, &flags);
        let mut link = daemon.link();
        let welcome = link.welcome();
        {
            let seen = seen.lock().unwrap();
            let max_acked = seen.acked.values().copied().max().unwrap_or(0);
            let max_seen = seen.events.keys().next_back().copied().unwrap_or(0);
            assert!(
                welcome >= max_acked && welcome >= max_seen && welcome >= last_welcome,
                "cycle {cycle}: restarted at seq {welcome}, but seq {max_seen} was delivered"
            );
        }
        last_welcome = welcome;

        // Reader: collects events until the socket dies.
        let mut reader = link;
        let mut writer = reader.stream.try_clone().unwrap();
        let collector = {
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let mut partial: Vec<Event> = Vec::new();
                let mut expect = welcome + 1;
                while let Some(frame) = reader.next_frame() {
                    let Frame::Events(h, events) = frame else {
                        continue;
                    };
                    assert_eq!(h.seq, expect, "events out of sequence");
                    partial.extend(events);
                    if h.last {
                        let mut seen = seen.lock().unwrap();
                        if h.correlation != 0 {
                            seen.acked.insert(h.correlation, h.seq);
                        }
                        seen.events.insert(h.seq, std::mem::take(&mut partial));
                        expect += 1;
                    }
                }
            })
        };
        // Writer: bursts of orders (now and then a snapshot request) until killed.
        let stop = Arc::new(AtomicBool::new(false));
        let sender = {
            let stop = Arc::clone(&stop);
            let next_id = Arc::clone(&next_id);
            let mut rng = Rng(rng.next_u64());
            std::thread::spawn(move || {
                let mut out = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..50 {
                        let id = next_id.fetch_add(1, Ordering::Relaxed);
                        let input = if rng.below(200) == 0 {
                            Input::TakeSnapshot
                        } else {
                            random_order(&mut rng, id)
                        };
                        ringex_protocol::link::write_input(&mut out, id, &input);
                    }
                    if std::io::Write::write_all(&mut writer, &out).is_err() {
                        return;
                    }
                    out.clear();
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        std::thread::sleep(Duration::from_millis(20 + rng.below(100)));
        daemon.kill9();
        stop.store(true, Ordering::Relaxed);
        sender.join().unwrap();
        collector.join().unwrap();
    }

    let replay = replay_journal(&data);
    let seen = seen.lock().unwrap();
    assert!(
        seen.acked.len() > CYCLES * 10,
        "too little load: {}",
        seen.acked.len()
    );
    eprintln!(
        "{CYCLES} kills: {} orders acknowledged, {} inputs journaled",
        seen.acked.len(),
        replay.records.len()
    );
    // Every delivered input's events are what the journal replays to.
    for (&seq, events) in &seen.events {
        let i = (seq - 1) as usize;
        assert!(
            i < replay.records.len(),
            "delivered seq {seq} is not in the journal"
        );
        assert_eq!(&replay.events[i], events, "seq {seq} replays differently");
    }
    // Every acknowledged order is journaled where it was acknowledged; none twice.
    let mut journaled = HashSet::new();
    for r in &replay.records {
        if let Input::Command(Command::NewOrder(o)) = r.input {
            assert!(
                journaled.insert(o.client_order_id),
                "order {} journaled twice",
                o.client_order_id
            );
        }
    }
    for (&id, &seq) in &seen.acked {
        let r = &replay.records[(seq - 1) as usize];
        match r.input {
            Input::Command(Command::NewOrder(o)) => assert_eq!(o.client_order_id, id),
            Input::TakeSnapshot => {}
            other => panic!("acked {id} at seq {seq}, journal has {other:?}"),
        }
    }
    // The last restart recovered exactly this state.
    let daemon = Daemon::start(&data, &flags);
    daemon.signal(libc::SIGTERM);
    let mut daemon = daemon;
    assert!(daemon.wait_exit(Duration::from_secs(30)).success());
    let hash = format!("state_hash={:016x}", replay.engine.state_hash());
    let log = daemon.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("recovered") && l.contains(&hash)),
        "{hash} not recovered:\n{log}"
    );
}
