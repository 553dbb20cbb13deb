//! One socket's bytes waiting in the socket writer: runs of bytes in order, written
//! with gathering sends (several runs per system call) for as long as the socket takes
//! them. Its bound is kept by the gateway's thread, which stops handing a session bytes
//! once too many are on their way (see `socket_writer`).

use std::collections::VecDeque;
use std::io::{self, IoSlice};

use crate::output_chunks::Chunk;

/// Runs handed to one send call: well under every system's IOV_MAX.
const RUNS_PER_SEND: usize = 64;
/// Bytes handed to one send call. On loopback a send also runs the receiver's side of
/// the delivery before it returns, and a kernel that does not preempt system calls
/// lets nothing else run on that CPU meanwhile: short sends keep the writer's
/// stretches short, so the order path's threads get the CPU back within microseconds.
const BYTES_PER_SEND: usize = 16 * 1024;

#[derive(Default)]
pub struct SocketBacklog {
    runs: VecDeque<Chunk>,
    /// Bytes of the first run already written.
    offset: usize,
    bytes: usize,
}

impl SocketBacklog {
    pub fn push(&mut self, run: Chunk) {
        if !run.is_empty() {
            self.bytes += run.len();
            self.runs.push_back(run);
        }
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Forgets every waiting byte; returns how many.
    pub fn clear(&mut self) -> usize {
        self.runs.clear();
        self.offset = 0;
        std::mem::take(&mut self.bytes)
    }

    /// Sends until the backlog is empty or `send` would block (`Ok` either way); returns
    /// the bytes sent. `send` is one gathering send: the bytes it took, or an error.
    pub fn write(
        &mut self,
        mut send: impl FnMut(&[IoSlice<'_>]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let mut sent_total = 0;
        while !self.is_empty() {
            let slices = self.next_slices();
            let sent = match send(&slices) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if sent == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.advance(sent);
            sent_total += sent;
        }
        Ok(sent_total)
    }

    /// The next send's slices: whole runs from the first unsent byte, the last cut so
    /// that they hold at most `BYTES_PER_SEND` bytes.
    fn next_slices(&self) -> Vec<IoSlice<'_>> {
        let mut slices = Vec::with_capacity(RUNS_PER_SEND.min(self.runs.len()));
        let mut left = BYTES_PER_SEND;
        for (i, run) in self.runs.iter().take(RUNS_PER_SEND).enumerate() {
            let bytes = if i == 0 {
                &run[self.offset..]
            } else {
                &run[..]
            };
            let take = bytes.len().min(left);
            slices.push(IoSlice::new(&bytes[..take]));
            left -= take;
            if left == 0 {
                break;
            }
        }
        slices
    }

    fn advance(&mut self, mut sent: usize) {
        self.bytes -= sent;
        while sent > 0 {
            let left = self.runs[0].len() - self.offset;
            if sent < left {
                self.offset += sent;
                return;
            }
            sent -= left;
            self.offset = 0;
            self.runs.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn backlog(runs: &[&[u8]]) -> SocketBacklog {
        let mut b = SocketBacklog::default();
        for (i, run) in runs.iter().enumerate() {
            b.push(if i % 2 == 0 {
                Chunk::Owned(run.to_vec())
            } else {
                Chunk::Shared(Arc::from(*run))
            });
        }
        b
    }

    /// A socket that takes at most `room` bytes, `per_call` at a time.
    fn socket<'a>(
        got: &'a mut Vec<u8>,
        mut room: usize,
        per_call: usize,
    ) -> impl FnMut(&[IoSlice<'_>]) -> io::Result<usize> + 'a {
        move |slices| {
            if room == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let mut n = 0;
            for s in slices {
                for &byte in s.iter() {
                    if n == per_call.min(room) {
                        break;
                    }
                    got.push(byte);
                    n += 1;
                }
            }
            room -= n;
            Ok(n)
        }
    }

    #[test]
    fn partial_sends_resume_where_they_stopped_in_order() {
        let mut b = backlog(&[b"abc", b"defg", b"h"]);
        let mut got = Vec::new();
        assert_eq!(b.write(socket(&mut got, 5, 2)).unwrap(), 5);
        assert_eq!(b.bytes(), 3);
        b.push(Chunk::Owned(b"ij".to_vec()));
        assert_eq!(b.write(socket(&mut got, 100, 3)).unwrap(), 5);
        assert_eq!(got, b"abcdefghij");
        assert!(b.is_empty());
    }

    #[test]
    fn an_error_is_returned_and_clear_forgets_the_rest() {
        let mut b = backlog(&[b"abc", b"d"]);
        let refused = b.write(|_| Err(io::ErrorKind::BrokenPipe.into()));
        assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(b.clear(), 4);
        assert!(b.is_empty());
    }

    #[test]
    fn more_runs_than_one_send_takes_go_in_several() {
        let runs: Vec<Vec<u8>> = (0..200u8).map(|i| vec![i]).collect();
        let refs: Vec<&[u8]> = runs.iter().map(Vec::as_slice).collect();
        let mut b = backlog(&refs);
        let mut got = Vec::new();
        b.write(socket(&mut got, 1000, 1000)).unwrap();
        assert_eq!(got, (0..200u8).collect::<Vec<_>>());
    }

    #[test]
    fn no_send_is_handed_more_than_its_byte_limit() {
        let big = vec![7u8; BYTES_PER_SEND * 2 + 10];
        let mut b = backlog(&[b"ab", &big, b"cd"]);
        let mut offered = Vec::new();
        let mut got = Vec::new();
        let sent = b
            .write(|slices| {
                let n: usize = slices.iter().map(|s| s.len()).sum();
                assert!(n <= BYTES_PER_SEND);
                offered.push(n);
                got.extend(slices.iter().flat_map(|s| s.iter().copied()));
                Ok(n)
            })
            .unwrap();
        assert_eq!(sent, big.len() + 4);
        assert_eq!(offered, [BYTES_PER_SEND, BYTES_PER_SEND, 14]);
        assert_eq!(got[..2], *b"ab");
        assert_eq!(got[got.len() - 2..], *b"cd");
        assert!(b.is_empty());
    }
}
