//! Fail-stop: when the journal cannot write, the daemon acknowledges nothing more,
//! tells every link Goodbye(Failed) and exits non-zero. Everything it acknowledged is
//! in the journal, and a restart recovers it.

mod support;

use std::time::Duration;

use ringex_protocol::link::GoodbyeReason;
use support::{random_order, replay_journal, Daemon, Frame, Rng, TempDir};

/// Journal growth the daemon gets before its writes fail.
const FILE_SIZE_LIMIT_BYTES: u64 = 48 * 1024;

#[test]
fn a_journal_write_error_stops_acknowledgements_and_the_daemon() {
    let dir = TempDir::new("fail-stop");
    let data = dir.0.join("data");
    let flags = ["--snapshot-every-inputs", "0"];
    let mut daemon = Daemon::start_with_file_size_limit(&data, &flags, FILE_SIZE_LIMIT_BYTES);
    let mut link = daemon.link();
    link.welcome();
    let mut rng = Rng(3);
    let mut max_acked = 0;
    let mut id = 0;
    // Far more journal than the limit allows, in small acknowledged steps.
    let end = 'run: loop {
        for _ in 0..20 {
            id += 1;
            link.queue(id, &random_order(&mut rng, id));
        }
        // The engine may already have closed the link: the read below tells why.
        let _ = link.flush();
        loop {
            match link.next_frame() {
                Some(Frame::Events(h, _)) => {
                    if h.correlation != 0 && h.last {
                        max_acked = h.seq;
                        if h.correlation == id {
                            break;
                        }
                    }
                }
                Some(Frame::Heartbeat(_)) => {}
                other => break 'run other,
            }
        }
        assert!(id < 100_000, "the journal never failed");
    };
    assert_eq!(
        end,
        Some(Frame::Goodbye(GoodbyeReason::Failed as u8, 0)),
        "{}",
        daemon.log_text()
    );
    let status = daemon.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(1), "{}", daemon.log_text());
    assert!(daemon.log_text().contains("raft stopped on a fatal error"));

    // Every acknowledged input is durable; none past the failure was acknowledged.
    let replay = replay_journal(&data);
    let journaled = replay.records.len() as u64;
    assert!(
        max_acked > 0 && max_acked <= journaled,
        "acked {max_acked}, journal {journaled}"
    );

    // Without the limit the daemon recovers (cutting a torn tail) and goes on.
    let mut daemon = Daemon::start(&data, &flags);
    let mut link = daemon.link();
    assert!(link.welcome() >= max_acked);
    daemon.signal(libc::SIGTERM);
    assert_eq!(daemon.wait_exit(Duration::from_secs(30)).code(), Some(0));
}
