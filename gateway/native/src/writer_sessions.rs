//! Sessions handed to the socket writer: a session that subscribes to a feed asks for
//! it, Python hands its socket over when the transport holds no unsent bytes (a FIX
//! session, whose bytes are translated, never is), and from then on every byte of the
//! session goes through the writer, its Goodbye last. The writer's events come back
//! here: sessions that caught up are drained again, failed ones are ended by Python.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::Arc;

use crate::gateway::Core;
use crate::socket_writer::{Order, SocketSlot, SocketWriter, WriterSettings};

impl Core {
    /// Starts the socket writer; sessions are handed to it from then on.
    pub fn start_writer(&mut self, settings: WriterSettings) -> io::Result<()> {
        self.writer = Some(SocketWriter::start(settings)?);
        Ok(())
    }

    /// A session subscribed to a feed: its writes are to move to the writer.
    pub(crate) fn request_writer(&mut self, sid: u64) {
        let handed = self.sessions.get(sid).is_none_or(|s| s.writer.is_some());
        if self.writer.is_some() && !handed && !self.writer_requests.contains(&sid) {
            self.writer_requests.push(sid);
        }
    }

    /// The sessions asking for the writer since the last call. A session Python does
    /// not hand over stays with the event loop (until it subscribes again).
    pub fn take_writer_requests(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.writer_requests)
    }

    /// Hands a session's socket to the writer; every byte the event loop wrote to it
    /// must have left the transport. False if the session or the writer is gone.
    pub fn hand_over(&mut self, sid: u64, socket: BorrowedFd<'_>) -> io::Result<bool> {
        let (Some(writer), Some(s)) = (&self.writer, self.sessions.get_mut(sid)) else {
            return Ok(false);
        };
        if s.writer.is_none() {
            s.writer = Some(writer.open(sid, socket)?);
        }
        Ok(true)
    }

    /// A session ends: for one handed over (`slot`), the writer sends `last` (its
    /// Goodbye) after everything before it and closes its socket, or closes it at once
    /// when there is nothing to send (the connection is gone). Returns what the event
    /// loop is to write itself: `last` for a session never handed over.
    pub(crate) fn close_written(
        &mut self,
        sid: u64,
        slot: Option<Arc<SocketSlot>>,
        last: Vec<u8>,
    ) -> Vec<u8> {
        let (Some(slot), Some(writer)) = (slot, &self.writer) else {
            return last;
        };
        let order = if last.is_empty() {
            Order::Drop { sid }
        } else {
            Order::close(sid, &slot, last)
        };
        writer.submit(vec![order]);
        Vec::new()
    }

    /// The writer's events: sessions that caught up are listed for the next drain; the
    /// sessions whose sockets failed are returned, for Python to end.
    pub fn writer_events(&mut self) -> Vec<u64> {
        let Some(writer) = &self.writer else {
            return Vec::new();
        };
        let events = writer.take_events();
        for sid in events.resumed {
            self.sessions.mark(sid);
        }
        events.failed
    }

    /// The descriptor that becomes readable when the writer has events.
    pub fn writer_wake_fd(&self) -> Option<RawFd> {
        self.writer.as_ref().map(SocketWriter::wake_fd)
    }

    /// Whether the writer has sent everything handed to it and closed what it was to.
    pub fn writer_idle(&self) -> bool {
        self.writer.as_ref().is_none_or(SocketWriter::idle)
    }
}
