//! The socket writer: a thread of the gateway's own that writes the sockets of the
//! sessions handed to it (market data subscribers), so the fan-out's system calls and
//! the loopback delivery they run never hold up the event loop's thread, where order
//! entry is served. The loop's thread decides what each session is sent, as before;
//! each drain hands the writer every such session's bytes in one batch (shared feed
//! batches by reference), and every later byte of the session — snapshots, resends,
//! replies, heartbeats, its Goodbye — goes the same way, so nothing is reordered.
//!
//! Each handed-over socket is a duplicate descriptor the writer owns and alone closes;
//! the event loop keeps its own for reading and closes that, so neither ever uses a
//! descriptor the other closed. The bound: a session with more than `bound_bytes`
//! handed over and not yet sent gets nothing more (its feed backlog then grows in the
//! core and is conflated or disconnected as the feed settings say) until the writer has
//! sent it down to a quarter of the bound; the writer then wakes the event loop.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::writer_shared::{drain_wakes, nudge, Shared};
pub use crate::writer_shared::{Events, Order, SocketSlot, WriterSettings};
use crate::writer_thread;

/// The event loop's handle on the writer thread.
pub struct SocketWriter {
    shared: Arc<Shared>,
    /// Wakes the writer (it polls the other end).
    wake: UnixStream,
    /// The event loop polls this end (see [`Self::wake_fd`]).
    woken: UnixStream,
    thread: Option<JoinHandle<()>>,
}

fn pair() -> io::Result<(UnixStream, UnixStream)> {
    let (a, b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    b.set_nonblocking(true)?;
    Ok((a, b))
}

impl SocketWriter {
    pub fn start(settings: WriterSettings) -> io::Result<SocketWriter> {
        let (wake, writer_end) = pair()?;
        let (woken, loop_wake) = pair()?;
        let shared = Arc::new(Shared::new(settings, loop_wake));
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("ringex-md-writer".into())
            .spawn(move || writer_thread::run(&thread_shared, &writer_end))?;
        Ok(SocketWriter {
            shared,
            wake,
            woken,
            thread: Some(thread),
        })
    }

    pub fn settings(&self) -> WriterSettings {
        self.shared.settings
    }

    /// Takes over writing to `socket` (duplicated: the caller keeps and closes its own).
    pub fn open(&self, sid: u64, socket: BorrowedFd<'_>) -> io::Result<Arc<SocketSlot>> {
        let socket = socket.try_clone_to_owned()?;
        let slot = Arc::new(SocketSlot::default());
        let slot_kept = Arc::clone(&slot);
        self.submit(vec![Order::Open { sid, socket, slot }]);
        Ok(slot_kept)
    }

    /// Hands the writer orders, in one batch.
    pub fn submit(&self, orders: Vec<Order>) {
        if orders.is_empty() {
            return;
        }
        self.shared.give_orders(orders);
        nudge(&self.wake);
    }

    /// The descriptor the event loop watches for the writer's events.
    pub fn wake_fd(&self) -> RawFd {
        self.woken.as_raw_fd()
    }

    /// The writer's events since the last call.
    pub fn take_events(&self) -> Events {
        drain_wakes(&self.woken);
        self.shared.take_events()
    }

    /// Whether every byte handed over has been sent and every close done.
    pub fn idle(&self) -> bool {
        self.shared.no_orders() && self.shared.busy.load(SeqCst) == 0
    }
}

impl Drop for SocketWriter {
    /// Stops the thread once it has sent what it holds (within the close grace).
    fn drop(&mut self) {
        self.shared.stop.store(true, SeqCst);
        nudge(&self.wake);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
