//! Listening sockets: accept links until the daemon stops. An accept thread waits in
//! `poll` with a short timeout, so it notices the stop without a wake-up connection.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::connection;
use super::LinkContext;

/// How often an idle accept thread looks at the stop flag.
const STOP_CHECK_INTERVAL: Duration = Duration::from_millis(100);

pub enum Listener {
    Tcp(TcpListener),
    /// The socket file is removed when the listener goes.
    Unix(UnixListener, PathBuf),
}

impl Listener {
    pub fn bind_tcp(addr: SocketAddr) -> io::Result<Listener> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(Listener::Tcp(listener))
    }

    /// Binds the socket file, replacing a stale one left by a daemon that was killed.
    /// Only a socket is ever removed: a regular file at the path is an error.
    pub fn bind_unix(path: &Path) -> io::Result<Listener> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)?,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(Listener::Unix(listener, path.to_path_buf()))
    }

    /// Where it listens, for the log and for tests that bind port 0.
    pub fn describe(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map_or_else(|e| format!("tcp:?({e})"), |a| format!("tcp:{a}")),
            Listener::Unix(_, path) => format!("unix:{}", path.display()),
        }
    }

    fn fd(&self) -> RawFd {
        match self {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix(l, _) => l.as_raw_fd(),
        }
    }

    /// Accepts links on a thread of its own until the daemon stops.
    pub fn spawn(self, context: Arc<LinkContext>) -> io::Result<JoinHandle<()>> {
        let name = match self {
            Listener::Tcp(_) => "link-accept-tcp",
            Listener::Unix(..) => "link-accept-unix",
        };
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || self.accept_loop(&context))
    }

    fn accept_loop(&self, context: &Arc<LinkContext>) {
        while !context.is_stopping() {
            match wait_readable(self.fd(), STOP_CHECK_INTERVAL) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(e) => {
                    tracing::error!(listener = %self.describe(), error = %e, "poll failed; no more links accepted");
                    return;
                }
            }
            let accepted = match self {
                Listener::Tcp(l) => l.accept().and_then(|(s, _)| {
                    s.set_nonblocking(false)?;
                    s.set_nodelay(true)?;
                    connection::open(context, s);
                    Ok(())
                }),
                Listener::Unix(l, _) => l.accept().and_then(|(s, _)| {
                    s.set_nonblocking(false)?;
                    connection::open(context, s);
                    Ok(())
                }),
            };
            match accepted {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Out of descriptors or a connection reset before accept: that one
                // connection is lost, the listener goes on.
                Err(e) => {
                    tracing::warn!(listener = %self.describe(), error = %e, "accept failed");
                    std::thread::sleep(STOP_CHECK_INTERVAL);
                }
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            // Gone already is fine; anything else is worth a line but not a failure.
            if let Err(e) = std::fs::remove_file(&*path) {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(path = %path.display(), error = %e, "could not remove the socket file");
                }
            }
        }
    }
}

/// Waits until `fd` is readable (a connection is waiting) or the timeout passes.
fn wait_readable(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let timeout_ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, and the count passed is 1.
    let n = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    match n {
        0 => Ok(false),
        n if n > 0 => Ok(true),
        _ => {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}
