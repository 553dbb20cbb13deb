//! What the gateway's event loop and its socket writer thread share: the settings, each
//! socket's count of bytes in flight, the orders the loop gives the writer and the
//! events the writer reports back, and the wake-up pairs that tell each side.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::output_chunks::Chunk;

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
pub(crate) fn nudge(mut stream: &UnixStream) {
    let _ = stream.write(&[1]);
}

/// Reads every pending wake-up byte.
pub(crate) fn drain_wakes(mut stream: &UnixStream) {
    let mut buf = [0u8; 64];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

impl Shared {
    /// `loop_wake`: the event loop's end of its wake-up pair.
    pub fn new(settings: WriterSettings, loop_wake: UnixStream) -> Shared {
        Shared {
            settings,
            inbox: Mutex::new(Vec::new()),
            events: Mutex::new(Events::default()),
            busy: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            loop_wake,
        }
    }

    /// The event loop's orders, after those it gave before.
    pub fn give_orders(&self, orders: Vec<Order>) {
        lock(&self.inbox).extend(orders);
    }

    /// Whether the writer has taken every order given.
    pub fn no_orders(&self) -> bool {
        lock(&self.inbox).is_empty()
    }

    /// The writer's events since the event loop last took them.
    pub fn take_events(&self) -> Events {
        std::mem::take(&mut *lock(&self.events))
    }

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
