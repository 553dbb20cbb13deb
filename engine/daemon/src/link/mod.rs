//! The engine link: gateways connect over TCP (loopback) or a Unix socket, send framed
//! inputs and receive framed events (see the engine link in `protocol/SPEC.md`).
//!
//! A link opens with the engine's Welcome and the gateway's Resume: the writer sends
//! the events the gateway missed (from the output ring's history window, or replayed
//! from the journal), then the link's live queue, which starts right after the Welcome.
//!
//! Each link has a reader thread (frames in, checked whole, onto the input ring) and a
//! writer thread (its queue from the output ring out, many frames per socket write).
//! Blocking I/O on plain threads keeps the path short and the back-pressure natural: a
//! full input ring stops the reader, which stops reading the socket.

mod connection;
mod listener;
mod stream;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::expiry::ExpiryNotices;
use crate::history_replay::HistoryReplay;
use crate::input_ring::{InputSender, LinkId, DAEMON_LINK};
use crate::output_ring::OutputRing;
use crate::replication::leadership::{Leadership, NotLeader};

pub use listener::Listener;

/// What every link shares.
pub struct LinkContext {
    pub inputs: InputSender,
    pub output: Arc<OutputRing>,
    /// Set when the daemon stops taking inputs: readers and listeners wind down, and
    /// writers send what is left before the goodbye.
    pub stopping: Arc<AtomicBool>,
    pub heartbeat_interval: Duration,
    pub heartbeat_timeout: Duration,
    pub max_links: u32,
    /// Tells each link which of its timed inputs expired unsequenced.
    pub expiries: Arc<ExpiryNotices>,
    /// Serves history older than the output ring's window.
    pub history: Arc<HistoryReplay>,
    /// A cluster node's role: only the serving leader keeps links. `None`: the
    /// embedded single node, which always serves.
    pub leadership: Option<Arc<Leadership>>,
    open_links: AtomicU32,
    last_link_id: AtomicU32,
}

impl LinkContext {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        inputs: InputSender,
        output: Arc<OutputRing>,
        stopping: Arc<AtomicBool>,
        heartbeat_interval: Duration,
        heartbeat_timeout: Duration,
        max_links: u32,
        expiries: Arc<ExpiryNotices>,
        history: Arc<HistoryReplay>,
    ) -> LinkContext {
        LinkContext {
            inputs,
            output,
            stopping,
            heartbeat_interval,
            heartbeat_timeout,
            max_links,
            expiries,
            history,
            leadership: None,
            open_links: AtomicU32::new(0),
            last_link_id: AtomicU32::new(DAEMON_LINK),
        }
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// A cluster node's answer to gateways while it does not serve them.
    pub fn not_leader(&self) -> Option<NotLeader> {
        self.leadership.as_ref().and_then(|l| l.not_leader())
    }

    /// Links whose threads are still running.
    pub fn open_links(&self) -> u32 {
        self.open_links.load(Ordering::Acquire)
    }

    /// Claims a slot for a new link, or `None` at the limit.
    fn claim_slot(self: &Arc<Self>) -> Option<LinkSlot> {
        let claimed = self
            .open_links
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_links).then_some(n + 1)
            })
            .is_ok();
        claimed.then(|| LinkSlot {
            id: self.last_link_id.fetch_add(1, Ordering::Relaxed) + 1,
            context: Arc::clone(self),
        })
    }
}

/// One link's claim on a connection slot, released when its last thread ends.
struct LinkSlot {
    id: LinkId,
    context: Arc<LinkContext>,
}

impl Drop for LinkSlot {
    fn drop(&mut self) {
        self.context.open_links.fetch_sub(1, Ordering::AcqRel);
    }
}
