//! The two kinds of socket a link runs over, behind one interface.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Longest a closing link waits for its peer to take the last frames.
const LINGER: Duration = Duration::from_secs(1);

pub trait LinkStream: Read + Write + Send + Sized + 'static {
    fn try_clone(&self) -> io::Result<Self>;
    fn set_read_timeout(&self, timeout: Duration) -> io::Result<()>;
    fn set_write_timeout(&self, timeout: Duration) -> io::Result<()>;
    /// Ends both directions, waking a thread blocked reading the other handle.
    fn close(&self);
    /// Ends our direction only: the peer reads what is in flight, then end of stream.
    fn shut_write(&self);

    /// Closes after a Goodbye without losing it. Closing a socket that still holds
    /// unread input makes the kernel send a reset, and a reset can make the peer drop
    /// the Goodbye before reading it; so first end our direction, then read and discard
    /// until the peer closes too (or the linger time passes), then close.
    fn linger_close(&mut self) {
        self.shut_write();
        let deadline = std::time::Instant::now() + LINGER;
        let mut sink = [0u8; 16 * 1024];
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            if left.is_zero() || self.set_read_timeout(left).is_err() {
                break;
            }
            match self.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.close();
    }
    /// Who is on the other end, for the log.
    fn peer(&self) -> String;
}

impl LinkStream for TcpStream {
    fn try_clone(&self) -> io::Result<Self> {
        TcpStream::try_clone(self)
    }
    fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        TcpStream::set_read_timeout(self, Some(timeout))
    }
    fn set_write_timeout(&self, timeout: Duration) -> io::Result<()> {
        TcpStream::set_write_timeout(self, Some(timeout))
    }
    fn close(&self) {
        // Already closed by the peer is fine: the goal is only that it is closed.
        let _ = self.shutdown(Shutdown::Both);
    }
    fn shut_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
    fn peer(&self) -> String {
        self.peer_addr()
            .map_or_else(|_| "tcp:unknown".to_string(), |a| format!("tcp:{a}"))
    }
}

impl LinkStream for UnixStream {
    fn try_clone(&self) -> io::Result<Self> {
        UnixStream::try_clone(self)
    }
    fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        UnixStream::set_read_timeout(self, Some(timeout))
    }
    fn set_write_timeout(&self, timeout: Duration) -> io::Result<()> {
        UnixStream::set_write_timeout(self, Some(timeout))
    }
    fn close(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
    fn shut_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
    fn peer(&self) -> String {
        "unix".to_string()
    }
}
