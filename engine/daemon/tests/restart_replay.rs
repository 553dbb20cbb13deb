//! Replay equals live across a real restart: a seeded workload through the link in two
//! lives of the daemon (a snapshot requested in the first, a SIGTERM between them, the
//! second recovering from that snapshot).
//! Replaying the journal from the first record gives every event the links received,
//! byte for byte in meaning, and the state hash the daemon ended with.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ringex_core::Event;
use ringex_protocol::Input;
use support::{journal_tool, log_field, random_order, replay_journal, Daemon, Frame, Rng, TempDir};

/// Sends `count` orders from `first_id` and collects every input's events, by seq.
fn run_life(
    daemon: &Daemon,
    rng: &mut Rng,
    first_id: u64,
    count: u64,
    live: &mut BTreeMap<u64, Vec<Event>>,
) {
    let mut link = daemon.link();
    let welcome = link.welcome();
    let last_id = first_id + count - 1;
    for id in first_id..=last_id {
        let input = if id == first_id + count / 2 {
            Input::TakeSnapshot
        } else {
            random_order(rng, id)
        };
        link.queue(id, &input);
    }
    link.flush().unwrap();
    let mut expect = welcome + 1;
    let mut partial = Vec::new();
    loop {
        match link.next_frame() {
            Some(Frame::Events(h, events)) => {
                assert_eq!(h.seq, expect);
                partial.extend(events);
                if h.last {
                    live.insert(h.seq, std::mem::take(&mut partial));
                    expect += 1;
                    if h.correlation == last_id {
                        return;
                    }
                }
            }
            Some(Frame::Heartbeat(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn replaying_the_journal_reproduces_both_lives() {
    let dir = TempDir::new("restart-replay");
    let data = dir.0.join("data");
    let mut rng = Rng(42);
    let mut live = BTreeMap::new();

    let mut daemon = Daemon::start(&data, &[]);
    run_life(&daemon, &mut rng, 1, 4000, &mut live);
    // The node asks openraft for the snapshot, which builds it off the apply path.
    let snapshot = data.join("raft").join("snapshot");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !snapshot.exists() {
        assert!(
            Instant::now() < deadline,
            "no snapshot:\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon.signal(libc::SIGTERM);
    assert_eq!(daemon.wait_exit(Duration::from_secs(30)).code(), Some(0));

    let mut daemon = Daemon::start(&data, &[]);
    let recovered_from = log_field(&daemon.log_text(), "recovered", "snapshot_seq").unwrap();
    assert_ne!(recovered_from, "0", "the requested snapshot was not used");
    run_life(&daemon, &mut rng, 4001, 4000, &mut live);
    daemon.signal(libc::SIGTERM);
    assert_eq!(daemon.wait_exit(Duration::from_secs(30)).code(), Some(0));
    let live_hash = log_field(&daemon.log_text(), "node drained", "state_hash").unwrap();

    let replay = replay_journal(&data);
    assert_eq!(format!("{:016x}", replay.engine.state_hash()), live_hash);
    let trades = live
        .values()
        .flatten()
        .filter(|e| matches!(e, Event::Trade(_)))
        .count();
    assert!(trades > 100, "the workload hardly traded ({trades})");
    for (seq, events) in &live {
        assert_eq!(&replay.events[(*seq - 1) as usize], events, "seq {seq}");
    }
    // The operator's tool agrees, from the snapshot and from the start.
    let tool = journal_tool(&data, &["replay"]);
    assert!(
        tool.contains(&format!("state_hash=0x{live_hash}")),
        "{tool}"
    );
}
