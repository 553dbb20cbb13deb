//! Under a supervisor speaking the systemd notification protocol: READY=1 once the
//! daemon serves, WATCHDOG=1 while it is healthy, STOPPING=1 on SIGTERM. Also checks
//! that links work over the Unix socket.

mod support;

use std::os::unix::net::{UnixDatagram, UnixStream};
use std::time::{Duration, Instant};

use ringex_protocol::link::{decode_from_engine, FromEngine, LINK_FRAME_MAX};
use support::{Daemon, TempDir};

/// The next notification, or None after `timeout`.
fn next_message(socket: &UnixDatagram, timeout: Duration) -> Option<String> {
    socket.set_read_timeout(Some(timeout)).unwrap();
    let mut buf = [0u8; 1024];
    let n = socket.recv(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Waits for a message starting with `prefix`, skipping others.
fn wait_for(socket: &UnixDatagram, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(m) = next_message(socket, Duration::from_secs(1)) {
            if m.starts_with(prefix) {
                return m;
            }
        }
    }
    panic!("no {prefix} notification");
}

#[test]
fn notifies_ready_watchdog_and_stopping_and_serves_the_unix_socket() {
    let dir = TempDir::new("notify");
    let notify_path = dir.0.join("notify.sock");
    let supervisor = UnixDatagram::bind(&notify_path).unwrap();
    let data = dir.0.join("data");
    let env = [
        ("NOTIFY_SOCKET", notify_path.to_str().unwrap().to_string()),
        ("WATCHDOG_USEC", "200000".to_string()),
    ];
    let mut daemon = Daemon::start_with_env(&data, &["--unix-socket", "link.sock"], &env);
    let ready = wait_for(&supervisor, "READY=1");
    assert!(ready.contains(&format!("MAINPID={}", daemon.child.id())));
    // Idle with nothing queued counts as healthy: pings every 100 ms.
    wait_for(&supervisor, "WATCHDOG=1");
    wait_for(&supervisor, "WATCHDOG=1");

    let mut unix = UnixStream::connect(data.join("link.sock")).unwrap();
    unix.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = vec![0u8; LINK_FRAME_MAX];
    let mut got = 0;
    while got < 4 + 9 {
        got += std::io::Read::read(&mut unix, &mut buf[got..]).unwrap();
    }
    assert!(matches!(
        decode_from_engine(&buf[4..13]).unwrap(),
        FromEngine::Welcome { .. }
    ));

    daemon.signal(libc::SIGTERM);
    wait_for(&supervisor, "STOPPING=1");
    assert_eq!(daemon.wait_exit(Duration::from_secs(30)).code(), Some(0));
    assert!(
        !data.join("link.sock").exists(),
        "the socket file was left behind"
    );
}
