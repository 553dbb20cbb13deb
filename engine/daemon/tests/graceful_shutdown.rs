//! SIGTERM or a Shutdown input: the daemon takes no more inputs, applies and sends
//! everything it accepted, says Goodbye(Shutdown), syncs and exits 0; a restart
//! recovers the same state.

mod support;

use std::time::Duration;

use ringex_protocol::link::GoodbyeReason;
use ringex_protocol::Input;
use support::{journal_tool, log_field, random_order, Daemon, Frame, LinkClient, Rng, TempDir};

/// Reads to the end of the link: the seqs of the inputs acknowledged to it, in order,
/// and the last frame. Checks every seq arrives once, in order.
fn read_to_end(link: &mut LinkClient, welcome: u64) -> (Vec<(u64, u64)>, Option<Frame>) {
    let mut acked = Vec::new();
    let mut expect = welcome + 1;
    let mut last = None;
    while let Some(frame) = link.next_frame() {
        if let Frame::Events(h, _) = &frame {
            assert_eq!(h.seq, expect);
            if h.last {
                expect += 1;
                if h.correlation != 0 {
                    acked.push((h.correlation, h.seq));
                }
            }
        }
        last = Some(frame);
    }
    (acked, last)
}

#[test]
fn sigterm_drains_and_a_restart_recovers_the_same_state() {
    let dir = TempDir::new("sigterm");
    let data = dir.0.join("data");
    let mut daemon = Daemon::start(&data, &[]);
    let mut link = daemon.link();
    let welcome = link.welcome();
    let mut rng = Rng(7);
    for id in 1..=3000 {
        link.queue(id, &random_order(&mut rng, id));
    }
    link.flush().unwrap();
    daemon.signal(libc::SIGTERM);
    let (acked, last) = read_to_end(&mut link, welcome);
    assert_eq!(
        last,
        Some(Frame::Goodbye(GoodbyeReason::Shutdown as u8, 0)),
        "{}",
        daemon.log_text()
    );
    // One link's inputs are sequenced in the order sent: what was taken is a prefix.
    for (i, (correlation, _)) in acked.iter().enumerate() {
        assert_eq!(*correlation, i as u64 + 1);
    }
    let status = daemon.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
    let log = daemon.log_text();
    let last_seq = log_field(&log, "node drained", "last_seq").unwrap();
    let hash = log_field(&log, "node drained", "state_hash").unwrap();

    journal_tool(&data, &["verify"]);
    let replayed = journal_tool(&data, &["replay"]);
    assert!(
        replayed.contains(&format!("state_hash=0x{hash}")),
        "{replayed}"
    );
    assert!(
        replayed.contains(&format!("replayed to seq {last_seq} ")),
        "{replayed}"
    );

    let mut daemon = Daemon::start(&data, &[]);
    let log = daemon.log_text();
    assert_eq!(log_field(&log, "recovered", "state_hash"), Some(hash));
    let mut link = daemon.link();
    assert_eq!(link.welcome().to_string(), last_seq);
    daemon.signal(libc::SIGTERM);
    assert_eq!(daemon.wait_exit(Duration::from_secs(30)).code(), Some(0));
}

#[test]
fn a_shutdown_input_stops_the_daemon_after_its_events() {
    let dir = TempDir::new("shutdown-input");
    let mut daemon = Daemon::start(&dir.0.join("data"), &["--durability", "none"]);
    let mut other = daemon.link();
    let other_welcome = other.welcome();
    let mut link = daemon.link();
    let welcome = link.welcome();
    link.send(1, &random_order(&mut Rng(1), 1));
    link.send(2, &Input::Shutdown);
    let (acked, last) = read_to_end(&mut link, welcome);
    // The Shutdown stops this node only, so it is answered by the Goodbye, never
    // sequenced: another node of its cluster would go on without it.
    let seq = acked[0].1;
    assert_eq!(acked, vec![(1, seq)]);
    assert_eq!(last, Some(Frame::Goodbye(GoodbyeReason::Shutdown as u8, 0)));
    // The other link saw both inputs, without the correlations.
    let (acked, last) = read_to_end(&mut other, other_welcome);
    assert!(acked.is_empty());
    assert_eq!(last, Some(Frame::Goodbye(GoodbyeReason::Shutdown as u8, 0)));
    assert_eq!(daemon.wait_exit(Duration::from_secs(30)).code(), Some(0));
}

#[test]
fn a_second_daemon_on_the_same_data_directory_is_refused() {
    let dir = TempDir::new("second-daemon");
    let data = dir.0.join("data");
    let mut first = Daemon::start(&data, &["--durability", "none"]);
    let second = std::process::Command::new(support::BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["--tcp", &format!("127.0.0.1:{}", support::free_port())])
        .args(["--unix-socket", ""])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("in use by another"));
    // The first one is unharmed.
    let mut link = first.link();
    link.welcome();
    first.signal(libc::SIGTERM);
    assert_eq!(first.wait_exit(Duration::from_secs(30)).code(), Some(0));
}
