//! The socket writer on real loopback sockets: bytes in order and the last one before
//! the close, a reader that stops is held at the bound and resumed when it reads again,
//! a reader that goes away mid-write is reported while another is served on, and sessions
//! waiting for the writer to send what it holds are resumed once it has.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringex_gateway_native::output_chunks::Chunk;
use ringex_gateway_native::socket_writer::{
    Events, Order, SocketSlot, SocketWriter, WriterSettings,
};

const BOUND: usize = 64 * 1024;

fn writer() -> SocketWriter {
    SocketWriter::start(WriterSettings {
        bound_bytes: BOUND,
        close_grace: Duration::from_secs(5),
        idle_priority: false,
    })
    .unwrap()
}

/// A connected loopback pair: the gateway's side and the reader's.
fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let reader = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (gateway, _) = listener.accept().unwrap();
    gateway.set_nonblocking(true).unwrap();
    (gateway, reader)
}

/// Small socket buffers, so a reader that stops holds the writer up soon.
fn shrink(stream: &TcpStream, option: libc::c_int) {
    let size: libc::c_int = 4096;
    // SAFETY: a valid socket and a c_int option value of the right length.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
}

fn run(i: usize) -> Vec<u8> {
    (0..100).map(|b| (i * 7 + b) as u8).collect()
}

/// Hands `count` runs of 100 bytes to `sid`, every other one shared.
fn write_runs(w: &SocketWriter, sid: u64, slot: &SocketSlot, count: usize) {
    let orders = (0..count)
        .map(|i| {
            let run = if i % 2 == 0 {
                Chunk::Owned(run(i))
            } else {
                Chunk::Shared(Arc::from(run(i)))
            };
            Order::write(sid, slot, vec![run])
        })
        .collect();
    w.submit(orders);
}

fn expected(count: usize) -> Vec<u8> {
    (0..count).flat_map(run).collect()
}

/// Waits up to 10 s for the writer's events.
fn events(w: &SocketWriter, mut done: impl FnMut(&Events) -> bool) -> Events {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Events::default();
    while !done(&got) {
        assert!(Instant::now() < deadline, "no events: {got:?}");
        let mut pfd = libc::pollfd {
            fd: w.wake_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 100) };
        let more = w.take_events();
        got.resumed.extend(more.resumed);
        got.failed.extend(more.failed);
    }
    got
}

#[test]
fn bytes_arrive_in_order_and_the_last_before_the_close() {
    let w = writer();
    let (gateway, mut reader) = pair();
    let slot = w.open(1, gateway.as_fd()).unwrap();
    drop(gateway); // the writer's duplicate keeps the socket open
    write_runs(&w, 1, &slot, 500);
    w.submit(vec![Order::close(1, &slot, b"bye".to_vec())]);
    let mut got = Vec::new();
    reader.read_to_end(&mut got).unwrap();
    let mut want = expected(500);
    want.extend_from_slice(b"bye");
    assert!(got == want);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !w.idle() {
        assert!(Instant::now() < deadline, "the writer never went idle");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_reader_that_stops_is_held_at_the_bound_and_resumed_when_it_reads() {
    let w = writer();
    let (gateway, mut reader) = pair();
    shrink(&gateway, libc::SO_SNDBUF);
    shrink(&reader, libc::SO_RCVBUF);
    let slot = w.open(1, gateway.as_fd()).unwrap();
    let mut runs = 0;
    while !slot.over(BOUND) {
        assert!(runs < 10_000, "never held");
        write_runs(&w, 1, &slot, 100);
        runs += 100;
    }
    assert!(w.take_events().resumed.is_empty());
    let reading = std::thread::spawn(move || {
        let mut got = vec![0u8; runs * 100];
        reader.read_exact(&mut got).unwrap();
        got
    });
    assert_eq!(events(&w, |e| !e.resumed.is_empty()).resumed, [1]);
    assert!(!slot.over(BOUND));
    assert!(reading.join().unwrap() == expected(100).repeat(runs / 100));
}

#[test]
fn a_reader_gone_mid_write_is_reported_and_another_is_served_on() {
    let w = writer();
    let (gone_side, gone) = pair();
    let (kept_side, mut kept) = pair();
    shrink(&gone_side, libc::SO_SNDBUF);
    let gone_slot = w.open(1, gone_side.as_fd()).unwrap();
    let kept_slot = w.open(2, kept_side.as_fd()).unwrap();
    drop((gone_side, kept_side)); // the writer holds duplicates
    let reading = std::thread::spawn(move || {
        let mut got = Vec::new();
        kept.read_to_end(&mut got).unwrap();
        got
    });
    write_runs(&w, 1, &gone_slot, 200);
    drop(gone); // unread bytes: the kernel resets the connection
    let mut rounds = 0;
    let failed = events(&w, |e| {
        // Keep writing to both until the writer notices the reset.
        if rounds < 50 {
            write_runs(&w, 1, &gone_slot, 100);
            write_runs(&w, 2, &kept_slot, 100);
            rounds += 1;
        }
        !e.failed.is_empty()
    });
    assert_eq!(failed.failed, [1]);
    w.submit(vec![Order::close(2, &kept_slot, Vec::new())]);
    assert!(reading.join().unwrap() == expected(100).repeat(rounds));
}

#[test]
fn sessions_waiting_for_their_bytes_to_be_sent_are_resumed_once_sent() {
    let w = writer();
    let mut readers = Vec::new();
    let mut slots = Vec::new();
    for sid in 1..=3 {
        let (gateway, reader) = pair();
        shrink(&gateway, libc::SO_SNDBUF);
        shrink(&reader, libc::SO_RCVBUF);
        slots.push(w.open(sid, gateway.as_fd()).unwrap());
        readers.push(reader);
    }
    // Each socket fills: the writer holds bytes of every session.
    let mut runs = Vec::new();
    for (sid, slot) in (1..=3).zip(&slots) {
        let mut count = 0;
        while !slot.over(0) {
            assert!(count < 10_000, "never held");
            write_runs(&w, sid, slot, 100);
            count += 100;
        }
        runs.push(count);
    }
    let reading: Vec<_> = readers
        .into_iter()
        .zip(runs)
        .map(|(mut reader, count)| {
            std::thread::spawn(move || {
                let mut got = vec![0u8; count * 100];
                reader.read_exact(&mut got).unwrap();
            })
        })
        .collect();
    let mut resumed = events(&w, |e| e.resumed.len() >= 3).resumed;
    resumed.sort_unstable();
    assert_eq!(resumed, [1, 2, 3]);
    for r in reading {
        r.join().unwrap();
    }
}
