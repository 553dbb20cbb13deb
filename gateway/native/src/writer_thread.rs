//! The socket writer's thread: takes the event loop's orders in batches, appends each
//! session's bytes to its socket's backlog, sends with non-blocking gathering sends,
//! and sleeps in `poll` on the sockets the kernel would not take more of and on its
//! wake-up pair. A socket that fails is closed and reported; a closing one is closed
//! once its last bytes are sent, or when its grace runs out.

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Instant;

use rustc_hash::FxHashMap as HashMap;

use crate::socket_backlog::SocketBacklog;
use crate::writer_shared::{drain_wakes, Order, Shared, SocketSlot};

struct Socket {
    fd: OwnedFd,
    slot: Arc<SocketSlot>,
    backlog: SocketBacklog,
    /// Closing: closed once the backlog is sent, or at this time.
    close_by: Option<Instant>,
}

/// One non-blocking gathering send that never raises SIGPIPE.
fn send(fd: RawFd, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: IoSlice is ABI-compatible with iovec on Unix; msghdr is plain data.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = slices.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = slices.len() as _;
    // SAFETY: `msg` points at `slices`, which outlive the call.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Puts this thread in the idle scheduling class: it runs on the CPU the event loop,
/// the engine and everything else on the host leave, so the fan-out never delays them
/// (subscribers then fall behind and are conflated or disconnected instead). A host
/// that refuses it leaves the thread at its normal priority.
fn lower_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: changes this thread's own policy (pid 0); `param` is valid.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
}

struct Writer<'a> {
    shared: &'a Shared,
    sockets: HashMap<u64, Socket>,
    /// Sockets to try sending to this round.
    ready: Vec<u64>,
    /// Held sessions that caught up this round, told to the event loop at its end (one
    /// wake-up per round, not one per session).
    resumed: Vec<u64>,
}

pub(crate) fn run(shared: &Shared, wake: &UnixStream) {
    if shared.settings.idle_priority {
        lower_priority();
    }
    let mut w = Writer {
        shared,
        sockets: HashMap::default(),
        ready: Vec::new(),
        resumed: Vec::new(),
    };
    let mut stop_by = None;
    loop {
        for order in shared.take_orders() {
            w.apply(order);
        }
        w.send_ready();
        if shared.stop.load(SeqCst) {
            let by = *stop_by.get_or_insert_with(|| Instant::now() + shared.settings.close_grace);
            w.close_all_by(by);
        }
        w.close_finished(Instant::now());
        w.report_resumed();
        let busy = w.busy();
        shared.busy.store(busy, SeqCst);
        if stop_by.is_some() && busy == 0 {
            return; // every socket closed, by its last byte or its grace
        }
        w.wait(wake);
    }
}

impl Writer<'_> {
    fn apply(&mut self, order: Order) {
        match order {
            Order::Open { sid, socket, slot } => {
                let socket = Socket {
                    fd: socket,
                    slot,
                    backlog: SocketBacklog::default(),
                    close_by: None,
                };
                self.sockets.insert(sid, socket);
            }
            Order::Write { sid, runs } => {
                if let Some(s) = self.sockets.get_mut(&sid) {
                    for run in runs {
                        s.backlog.push(run);
                    }
                    self.ready.push(sid);
                }
            }
            Order::Close { sid, last } => {
                if let Some(s) = self.sockets.get_mut(&sid) {
                    s.backlog.push(crate::output_chunks::Chunk::Owned(last));
                    s.close_by = Some(Instant::now() + self.shared.settings.close_grace);
                    self.ready.push(sid);
                }
            }
            Order::Drop { sid } => self.forget(sid),
        }
    }

    /// Closes a socket and releases what it still held.
    fn forget(&mut self, sid: u64) {
        if let Some(mut s) = self.sockets.remove(&sid) {
            let dropped = s.backlog.clear();
            self.release(sid, &s.slot, dropped);
        }
    }

    fn release(&mut self, sid: u64, slot: &SocketSlot, bytes: usize) {
        if bytes > 0 && slot.done(bytes, self.shared.settings.bound_bytes) {
            self.resumed.push(sid);
        }
    }

    fn report_resumed(&mut self) {
        if !self.resumed.is_empty() {
            let resumed = std::mem::take(&mut self.resumed);
            self.shared.report(|e| e.resumed.extend(resumed));
        }
    }

    fn send_ready(&mut self) {
        let mut ready = std::mem::take(&mut self.ready);
        ready.sort_unstable();
        ready.dedup();
        for sid in ready.drain(..) {
            let Some(s) = self.sockets.get_mut(&sid) else {
                continue;
            };
            let fd = s.fd.as_raw_fd();
            match s.backlog.write(|slices| send(fd, slices)) {
                Ok(sent) => {
                    let slot = Arc::clone(&s.slot);
                    self.release(sid, &slot, sent);
                }
                Err(_) => {
                    self.forget(sid);
                    self.shared.report(|e| e.failed.push(sid));
                }
            }
        }
        self.ready = ready;
    }

    /// Closes the closing sockets whose last bytes are sent or whose grace ran out.
    fn close_finished(&mut self, now: Instant) {
        let done: Vec<u64> = self
            .sockets
            .iter()
            .filter(|(_, s)| {
                s.close_by
                    .is_some_and(|by| s.backlog.is_empty() || now >= by)
            })
            .map(|(&sid, _)| sid)
            .collect();
        for sid in done {
            self.forget(sid);
        }
    }

    /// While stopping: every socket closes by `by` at the latest.
    fn close_all_by(&mut self, by: Instant) {
        for s in self.sockets.values_mut() {
            s.close_by = Some(s.close_by.map_or(by, |c| c.min(by)));
        }
    }

    fn busy(&self) -> usize {
        self.sockets
            .values()
            .filter(|s| !s.backlog.is_empty() || s.close_by.is_some())
            .count()
    }

    /// Sleeps until a blocked socket can take more, an order comes, or a close is due.
    fn wait(&mut self, wake: &UnixStream) {
        let mut fds = vec![libc::pollfd {
            fd: wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let mut sids = Vec::new();
        let mut due: Option<Instant> = None;
        for (&sid, s) in &self.sockets {
            if !s.backlog.is_empty() {
                fds.push(libc::pollfd {
                    fd: s.fd.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                });
                sids.push(sid);
            }
            if let Some(by) = s.close_by {
                due = Some(due.map_or(by, |d| d.min(by)));
            }
        }
        let timeout_ms = due.map_or(-1, |by| {
            let left = by.saturating_duration_since(Instant::now());
            i32::try_from(left.as_millis() + 1).unwrap_or(i32::MAX)
        });
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd records.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n <= 0 {
            return; // timed out, or interrupted: the next round looks again
        }
        if fds[0].revents != 0 {
            drain_wakes(wake);
        }
        for (pfd, sid) in fds[1..].iter().zip(sids) {
            if pfd.revents != 0 {
                self.ready.push(sid);
            }
        }
    }
}
