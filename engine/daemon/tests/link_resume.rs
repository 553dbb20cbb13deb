//! A link resumes from a sequence number: the engine sends every event after it, from
//! its history window or replayed from the journal, then continues live with no gap and
//! no duplicate; it refuses a gateway that has seen more than it holds; and it drops
//! timed inputs whose deadline passed before sequencing, telling the sender.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use ringex_core::{Event, Side};
use ringex_protocol::command_codec::encode_input;
use ringex_protocol::link::{write_timed_input_with, GoodbyeReason, ResumeFrom};
use support::{journal_tool, limit, Daemon, Frame, LinkClient, TempDir};

/// Sends `count` crossing orders on a live link; returns every input's events by seq,
/// with the Welcome's seq.
fn trade(link: &mut LinkClient, first_id: u64, count: u64) -> (u64, Vec<(u64, Vec<Event>)>) {
    let welcome = link.welcome();
    for id in first_id..first_id + count {
        let side = if id % 2 == 0 { Side::Buy } else { Side::Sell };
        link.queue(id, &limit(1, id, side, 100, 1));
    }
    link.flush().unwrap();
    // Inputs the daemon makes itself (its first start's set-up) may come first.
    let mut got = Vec::new();
    loop {
        match link.next_frame() {
            Some(Frame::Events(h, events)) => {
                let done = h.last && h.correlation == first_id + count - 1;
                got.push((h, events));
                if done {
                    return (welcome, merge(got));
                }
            }
            Some(Frame::Heartbeat(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Joins the frames of each seq.
fn merge(frames: Vec<(ringex_protocol::link::EventsHeader, Vec<Event>)>) -> Vec<(u64, Vec<Event>)> {
    let mut out: Vec<(u64, Vec<Event>)> = Vec::new();
    for (h, events) in frames {
        match out.last_mut() {
            Some((seq, list)) if *seq == h.seq => list.extend(events),
            _ => out.push((h.seq, events)),
        }
    }
    out
}

/// Resumes after `after_seq` and reads through `through_seq`, checking that no frame
/// carries a correlation (history belongs to other links).
fn resume(daemon: &Daemon, after_seq: u64, through_seq: u64) -> (u64, Vec<(u64, Vec<Event>)>) {
    let mut link = LinkClient::connect_quiet(daemon.port);
    link.resume(ResumeFrom::After(after_seq));
    let welcome = link.welcome();
    let frames = link.events_until(through_seq);
    assert!(frames.iter().all(|(h, _)| h.correlation == 0));
    assert_eq!(
        frames[0].0.seq,
        after_seq + 1,
        "history starts right after the resume point"
    );
    (welcome, merge(frames))
}

fn resumes_with_every_event(extra: &[&str], name: &str) {
    let dir = TempDir::new(name);
    let daemon = Daemon::start(&dir.0, extra);
    let mut first = daemon.link();
    let (welcome, live) = trade(&mut first, 1, 40);
    let end = live.last().unwrap().0;
    assert_eq!(live[0].0, welcome + 1);
    // A gateway that saw up to `welcome + 10` comes back while the engine moved on.
    let (resumed_welcome, history) = resume(&daemon, welcome + 10, end);
    assert_eq!(resumed_welcome, end);
    assert_eq!(history, live[10..].to_vec());
    // And then it is live: the next input follows with no gap.
    let mut again = LinkClient::connect_quiet(daemon.port);
    again.resume(ResumeFrom::After(end));
    assert_eq!(again.welcome(), end);
    again.send(99, &limit(1, 99, Side::Buy, 90, 1));
    let next = again.events_until(end + 1);
    assert_eq!(next[0].0.seq, end + 1);
    assert_eq!(next[0].0.correlation, 99);
}

#[test]
fn resume_from_the_history_window() {
    resumes_with_every_event(&[], "resume-window");
}

#[test]
fn resume_by_replaying_the_journal() {
    resumes_with_every_event(
        &[
            "--history-window-bytes",
            "0",
            "--snapshot-every-inputs",
            "7",
        ],
        "resume-journal",
    );
}

#[test]
fn a_gateway_ahead_of_the_engine_is_refused() {
    let dir = TempDir::new("resume-ahead");
    let daemon = Daemon::start(&dir.0, &[]);
    let mut link = LinkClient::connect_quiet(daemon.port);
    link.resume(ResumeFrom::After(1_000_000));
    let _ = link.welcome();
    assert_eq!(
        link.next_frame(),
        Some(Frame::Goodbye(GoodbyeReason::AheadOfEngine as u8, 0))
    );
}

#[test]
fn a_second_resume_is_bad_input() {
    let dir = TempDir::new("resume-twice");
    let daemon = Daemon::start(&dir.0, &[]);
    let mut link = daemon.link();
    let _ = link.welcome();
    link.resume(ResumeFrom::Live);
    let end = loop {
        match link.next_frame() {
            Some(Frame::Events(..) | Frame::Heartbeat(_)) => {}
            other => break other,
        }
    };
    assert_eq!(end, Some(Frame::Goodbye(GoodbyeReason::BadInput as u8, 3)));
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[test]
fn an_input_past_its_deadline_is_never_sequenced() {
    let dir = TempDir::new("deadline");
    let data = dir.0.clone();
    let daemon = Daemon::start(&data, &[]);
    let mut link = daemon.link();
    let _ = link.welcome();
    let late = limit(1, 7, Side::Buy, 100, 1);
    let mut out = Vec::new();
    write_timed_input_with(&mut out, 7, now_ns() - 1_000_000, |b| {
        encode_input(&late, b)
    });
    write_timed_input_with(&mut out, 8, now_ns() + 60_000_000_000, |b| {
        encode_input(&limit(1, 8, Side::Buy, 100, 1), b)
    });
    link.send_raw(&out).unwrap();
    let mut expired = Vec::new();
    let mut sequenced = Vec::new();
    while sequenced.is_empty() || expired.is_empty() {
        match link.next_frame() {
            Some(Frame::Expired(c)) => expired.push(c),
            Some(Frame::Events(h, _)) if h.last && h.correlation != 0 => {
                sequenced.push(h.correlation)
            }
            Some(Frame::Events(..) | Frame::Heartbeat(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(expired, vec![7]);
    assert_eq!(sequenced, vec![8]);
    drop(daemon);
    let dump = journal_tool(&data, &["dump", "--format", "json"]);
    assert!(dump.contains("\"client_order_id\":8"), "{dump}");
    assert!(
        !dump.contains("\"client_order_id\":7"),
        "the late input was journaled"
    );
}

/// An idle link's heartbeat carries the engine's clock, and comes after the events of
/// every input sequenced before that clock reading: a gateway relies on both to answer
/// an order the engine has not executed.
#[test]
fn an_idle_links_heartbeat_tells_the_engines_clock_after_its_events() {
    let dir = TempDir::new("heartbeat-clock");
    let daemon = Daemon::start(
        &dir.0,
        &[
            "--heartbeat-interval-ms",
            "100",
            "--heartbeat-timeout-ms",
            "5000",
        ],
    );
    let mut link = daemon.link();
    trade(&mut link, 1, 5);
    let before_ns = now_ns();
    loop {
        match link.next_frame() {
            Some(Frame::Heartbeat(0)) => {}
            Some(Frame::Heartbeat(time_ns)) => {
                assert!(time_ns >= before_ns, "{time_ns} < {before_ns}");
                assert!(time_ns <= now_ns());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
