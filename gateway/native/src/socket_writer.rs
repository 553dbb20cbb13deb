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

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::output_chunks::Chunk;
use crate::writer_thread;

/// Fixed when the gateway starts.
#[derive(Clone, Copy, Debug)]
pub struct WriterSettings {
    /// Bytes a session may have handed over and not yet sent.
    pub bound_bytes: usize,
    /// How long a closing session's last bytes may take before its socket is closed.
    pub close_grace: Duration,
    /// Run the writer in the idle scheduling class (only on CPU nothing else wants).
    pub idle_priority: bool,
}

/// What the event loop's thread and the writer share about one socket.
#[derive(Default)]
pub struct SocketSlot {
    /// Bytes handed over and not yet sent (or dropped).
    in_flight: AtomicUsize,
    /// The session's output is held back until the writer catches up.
    held: AtomicBool,
}

impl SocketSlot {
    /// Whether the session is over the bound: hand it nothing now; the writer says when
    /// it caught up ([`Events::resumed`]).
    pub fn over(&self, bound_bytes: usize) -> bool {
        if self.in_flight.load(SeqCst) <= bound_bytes {
            return false;
        }
        self.held.store(true, SeqCst);
        if self.in_flight.load(SeqCst) <= bound_bytes {
            // Caught up meanwhile, perhaps before it saw the flag: go on now.
            self.held.store(false, SeqCst);
            return false;
        }
        true
    }

    fn handed(&self, bytes: usize) {
        self.in_flight.fetch_add(bytes, SeqCst);
    }

    /// `bytes` were sent or dropped; true if that ends a hold (at a quarter of the bound).
    pub(crate) fn done(&self, bytes: usize, bound_bytes: usize) -> bool {
        let left = self.in_flight.fetch_sub(bytes, SeqCst) - bytes;
        left <= bound_bytes / 4 && self.held.load(SeqCst) && self.held.swap(false, SeqCst)
    }
}

/// What the event loop's thread asks of the writer, in order.
pub enum Order {
    Open {
        sid: u64,
        socket: OwnedFd,
        slot: Arc<SocketSlot>,
    },
    Write {
        sid: u64,
        runs: Vec<Chunk>,
    },
    /// Write `last` after everything before it, then close (within the grace).
    Close {
        sid: u64,
        last: Vec<u8>,
    },
    /// The connection is gone: close at once.
    Drop {
        sid: u64,
    },
}

impl Order {
    /// A session's bytes, counted against its slot's bound.
    pub fn write(sid: u64, slot: &SocketSlot, runs: Vec<Chunk>) -> Order {
        slot.handed(runs.iter().map(|r| r.len()).sum());
        Order::Write { sid, runs }
    }

    /// A session's last bytes (its Goodbye), counted against its slot's bound.
    pub fn close(sid: u64, slot: &SocketSlot, last: Vec<u8>) -> Order {
        slot.handed(last.len());
        Order::Close { sid, last }
    }
}

/// What the writer tells the event loop.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// Held sessions that caught up: drain them again.
    pub resumed: Vec<u64>,
    /// Sessions whose socket failed (reset by the peer): their connections are dead.
    pub failed: Vec<u64>,
}

impl Events {
    fn is_empty(&self) -> bool {
        self.resumed.is_empty() && self.failed.is_empty()
    }
}

pub(crate) struct Shared {
    pub settings: WriterSettings,
    inbox: Mutex<Vec<Order>>,
    events: Mutex<Events>,
    /// Sockets with bytes waiting or a close pending, as of the writer's last round.
    pub busy: AtomicUsize,
    pub stop: AtomicBool,
    /// The event loop's end of its wake-up pair (the writer writes a byte to it).
    loop_wake: UnixStream,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic on the writer thread is a bug; the data (a list) is still whole.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One byte to wake a poller; a full pair means a wake-up is pending already.
fn nudge(mut stream: &UnixStream) {
    let _ = stream.write(&[1]);
}

/// Reads every pending wake-up byte.
pub(crate) fn drain_wakes(mut stream: &UnixStream) {
    let mut buf = [0u8; 64];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

impl Shared {
    pub fn take_orders(&self) -> Vec<Order> {
        std::mem::take(&mut *lock(&self.inbox))
    }

    /// Records an event and wakes the event loop if it had none waiting.
    pub fn report(&self, add: impl FnOnce(&mut Events)) {
        let mut events = lock(&self.events);
        let was_empty = events.is_empty();
        add(&mut events);
        if was_empty {
            nudge(&self.loop_wake);
        }
    }
}

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
        let shared = Arc::new(Shared {
            settings,
            inbox: Mutex::new(Vec::new()),
            events: Mutex::new(Events::default()),
            busy: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            loop_wake,
        });
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
        lock(&self.shared.inbox).extend(orders);
        nudge(&self.wake);
    }

    /// The descriptor the event loop watches for the writer's events.
    pub fn wake_fd(&self) -> RawFd {
        self.woken.as_raw_fd()
    }

    /// The writer's events since the last call.
    pub fn take_events(&self) -> Events {
        drain_wakes(&self.woken);
        std::mem::take(&mut *lock(&self.shared.events))
    }

    /// Whether every byte handed over has been sent and every close done.
    pub fn idle(&self) -> bool {
        lock(&self.shared.inbox).is_empty() && self.shared.busy.load(SeqCst) == 0
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
