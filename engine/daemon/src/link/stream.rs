//! The two kinds of socket a link runs over, behind one interface.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

pub trait LinkStream: Read + Write + Send + Sized + 'static {
    fn try_clone(&self) -> io::Result<Self>;
    fn set_read_timeout(&self, timeout: Duration) -> io::Result<()>;
    fn set_write_timeout(&self, timeout: Duration) -> io::Result<()>;
    /// Ends both directions, waking a thread blocked reading the other handle.
    fn close(&self);
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
    fn peer(&self) -> String {
        "unix".to_string()
    }
}
