//! Bad bytes on one link close that link with a Goodbye naming the decode error; the
//! other links and the matcher go on. A link that stops reading is dropped as a slow
//! consumer, and a silent one times out.

mod support;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ringex_core::{Event, Side};
use ringex_protocol::link::{write_heartbeat, GoodbyeReason, LINK_INPUT};
use ringex_protocol::DecodeError;
use support::{limit, Daemon, Frame, LinkClient, TempDir};

/// Reads until the engine closes the link; returns the last frame before that.
fn last_frame(link: &mut LinkClient) -> Option<Frame> {
    let mut last = None;
    while let Some(f) = link.next_frame() {
        last = Some(f);
    }
    last
}

/// Sends heartbeats on a link from a thread of its own until stopped.
struct KeepAlive {
    beating: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl KeepAlive {
    fn start(link: &LinkClient) -> KeepAlive {
        let mut stream = link.stream.try_clone().unwrap();
        let beating = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&beating);
        let thread = std::thread::spawn(move || {
            let mut frame = Vec::new();
            write_heartbeat(&mut frame);
            // A write fails once the engine has closed the link: then stop.
            while flag.load(Ordering::Relaxed) && stream.write_all(&frame).is_ok() {
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        KeepAlive { beating, thread }
    }

    fn stop(self) {
        self.beating.store(false, Ordering::Relaxed);
        self.thread.join().unwrap();
    }
}

/// A link frame (u32 length prefix) around `body`.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as u32).to_le_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

/// An order from the good link is accepted; returns its seq.
fn order_works(good: &mut LinkClient, id: u64) -> u64 {
    good.send(id, &limit(1, id, Side::Buy, 99_000, 10));
    loop {
        match good.next_frame() {
            Some(Frame::Events(h, events)) if h.correlation == id => {
                assert!(
                    matches!(events[0], Event::Accepted { client_order_id, .. } if client_order_id == id)
                );
                return h.seq;
            }
            Some(Frame::Events(..) | Frame::Heartbeat(_)) => {}
            other => panic!("good link got {other:?}"),
        }
    }
}

#[test]
fn bad_input_closes_only_that_link() {
    let dir = TempDir::new("bad-input");
    let daemon = Daemon::start(&dir.0.join("data"), &["--durability", "none"]);
    let mut good = daemon.link();
    good.welcome();
    let mut valid_new_order = vec![LINK_INPUT];
    valid_new_order.extend_from_slice(&7u64.to_le_bytes());
    ringex_protocol::command_codec::encode_input(
        &limit(1, 1, Side::Buy, 1, 1),
        &mut valid_new_order,
    );
    let mut bad_side = valid_new_order.clone();
    bad_side[1 + 8 + 1 + 4 + 8 + 4] = 9; // the side byte
    let mut trailing = valid_new_order.clone();
    trailing.push(0);
    let cases: Vec<(&str, Vec<u8>, DecodeError)> = vec![
        ("garbage length", vec![0xFF; 64], DecodeError::BadLength),
        ("zero length", vec![0, 0, 0, 0], DecodeError::BadLength),
        (
            "oversize frame",
            frame(&vec![b'C'; 70_000]),
            DecodeError::BadLength,
        ),
        ("unknown link type", frame(b"Q"), DecodeError::UnknownType),
        (
            "unknown input type",
            frame(&[LINK_INPUT, 1, 0, 0, 0, 0, 0, 0, 0, b'?']),
            DecodeError::UnknownType,
        ),
        (
            "truncated input",
            frame(&valid_new_order[..20]),
            DecodeError::Truncated,
        ),
        (
            "trailing bytes",
            frame(&trailing),
            DecodeError::TrailingBytes,
        ),
        ("enum out of range", frame(&bad_side), DecodeError::BadEnum),
    ];
    for (i, (name, bytes, error)) in cases.into_iter().enumerate() {
        let mut bad = daemon.link();
        bad.welcome();
        // The peer may close before it has read everything: a reset is fine.
        let _ = bad.send_raw(&bytes);
        assert_eq!(
            last_frame(&mut bad),
            Some(Frame::Goodbye(GoodbyeReason::BadInput as u8, error.code())),
            "{name}"
        );
        order_works(&mut good, 100 + i as u64);
    }
}

#[test]
fn slow_and_silent_links_are_closed_and_the_rest_go_on() {
    let dir = TempDir::new("slow-link");
    let daemon = Daemon::start(
        &dir.0.join("data"),
        &[
            "--durability",
            "none",
            "--queue-bytes",
            "65536",
            "--heartbeat-interval-ms",
            "200",
            "--heartbeat-timeout-ms",
            "1000",
        ],
    );
    // The silent link reads but never sends, not even a heartbeat.
    let mut silent = daemon.link();
    silent.welcome();
    // Checked before any traffic: under a flood a lagging reader could be dropped as a
    // slow consumer first, and the point here is the silence rule.
    let mut end = None;
    while let Some(f) = silent.next_frame() {
        if !matches!(f, Frame::Events(..) | Frame::Heartbeat(_)) {
            end = Some(f);
        }
    }
    assert_eq!(end, Some(Frame::Goodbye(GoodbyeReason::Timeout as u8, 0)));
    let mut slow = daemon.link();
    slow.welcome();
    // It sends heartbeats, so it is dropped for not reading, not for silence.
    let slow_alive = KeepAlive::start(&slow);
    slow.stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut good = daemon.link();
    good.welcome();
    // Far more events than the slow link's socket buffers and four batches hold. The
    // good link sends in bursts and reads each burst's events, so its own queue stays
    // short.
    let mut id = 1_000u64;
    let mut last_seq = 0;
    for _ in 0..400 {
        for _ in 0..250 {
            id += 1;
            let side = if id.is_multiple_of(2) {
                Side::Buy
            } else {
                Side::Sell
            };
            good.queue(id, &limit(1 + (id % 3) as u32, id, side, 100_000, 1));
        }
        good.flush().unwrap();
        loop {
            match good.next_frame() {
                Some(Frame::Events(h, _)) => {
                    last_seq = h.seq;
                    if h.correlation == id && h.last {
                        break;
                    }
                }
                Some(Frame::Heartbeat(_)) => {}
                other => panic!("good link got {other:?}"),
            }
        }
    }
    // Keep the good link heard from while the others are read to their end.
    let good_alive = KeepAlive::start(&good);
    // The slow link now reads what it was sent before it was dropped, then the reason.
    let mut seen = 0;
    let end = loop {
        match slow.next_frame() {
            Some(Frame::Events(h, _)) => seen = h.seq,
            Some(Frame::Heartbeat(_)) => {}
            other => break other,
        }
    };
    // Either it was told, or, with its socket jammed past the write timeout, the
    // engine could only close it.
    assert!(
        matches!(end, None | Some(Frame::Goodbye(4, 0))),
        "slow link ended with {end:?}"
    );
    assert_eq!(GoodbyeReason::SlowConsumer as u8, 4);
    assert!(daemon.log_text().contains("slow consumer"));
    assert!(seen < last_seq, "the slow link saw everything ({seen})");
    good_alive.stop();
    slow_alive.stop();
    order_works(&mut good, 1);
}
