//! The gateway core for Python (`GatewayCore`): Python owns the sockets and timers and
//! calls in once per batch of bytes; the answers are the records of `core_records`.

use std::os::fd::BorrowedFd;
use std::time::Duration;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use ringex_protocol::session::{encode_text, LoginRejectReason, Role, SessionEndReason};

use crate::core_records::{self, AckedOutput, Drained, LinkReport, Regression, TimedOut};
use crate::engine_link_state;
use crate::feed_fanout::FeedSettings;
use crate::gateway::{Core, Limits};
use crate::multicast_publisher::{MulticastPublisher, MulticastSettings};
use crate::socket_writer::WriterSettings;

fn code<T: TryFrom<u8>>(value: u8, what: &str) -> PyResult<T> {
    T::try_from(value).map_err(|_| PyValueError::new_err(format!("unknown {what} {value}")))
}

/// Sessions, account streams, event routing and market data of one gateway process.
#[pyclass(name = "GatewayCore", module = "ringex_gateway._native", unsendable)]
pub struct PyGatewayCore {
    core: Core,
}

#[pymethods]
impl PyGatewayCore {
    #[new]
    #[pyo3(signature = (*, epoch, journal_messages, max_backlog, unsequenced_bytes,
        drain_bytes, heartbeat_ns, idle_timeout_ns, frame_timeout_ns, login_timeout_ns,
        persist=false, acked_ids_max=1_000_000))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        epoch: u64,
        journal_messages: usize,
        max_backlog: u64,
        unsequenced_bytes: usize,
        drain_bytes: usize,
        heartbeat_ns: u64,
        idle_timeout_ns: u64,
        frame_timeout_ns: u64,
        login_timeout_ns: u64,
        persist: bool,
        acked_ids_max: usize,
    ) -> PyGatewayCore {
        let limits = Limits {
            journal_messages,
            max_backlog,
            unsequenced_bytes,
            drain_bytes,
            heartbeat_ns,
            idle_timeout_ns,
            frame_timeout_ns,
            login_timeout_ns,
            acked_ids_max,
        };
        PyGatewayCore {
            core: Core::new(limits, epoch, persist),
        }
    }

    /// Sets the market data feeds' bounds (before the engine link is fed).
    #[pyo3(signature = (*, max_orders, max_instruments, levels_per_side, l2_depths,
        window_events, subscriptions_per_session, backlog_bytes, conflate, coalesce_ns,
        coalesce_bytes))]
    #[allow(clippy::too_many_arguments)]
    fn configure_feeds(
        &mut self,
        max_orders: u32,
        max_instruments: u32,
        levels_per_side: u32,
        l2_depths: Vec<u8>,
        window_events: usize,
        subscriptions_per_session: usize,
        backlog_bytes: usize,
        conflate: bool,
        coalesce_ns: u64,
        coalesce_bytes: usize,
    ) -> PyResult<()> {
        let settings = FeedSettings {
            max_orders,
            max_instruments,
            levels_per_side,
            l2_depths,
            window_events,
            subscriptions_per_session,
            backlog_bytes,
            conflate,
            coalesce_ns,
            coalesce_bytes,
        };
        self.core
            .configure_feeds(settings)
            .map_err(PyValueError::new_err)
    }

    /// Starts the socket writer, which takes over the sockets of sessions that subscribe
    /// to a feed (see :meth:`take_writer_requests`): at most `write_buffer_bytes` of a
    /// session's bytes wait in it; a closing session's Goodbye gets `close_grace_ns`;
    /// with `idle_priority` it runs only on CPU nothing else on the host wants.
    #[pyo3(signature = (*, write_buffer_bytes, close_grace_ns, idle_priority))]
    fn start_writer(
        &mut self,
        write_buffer_bytes: usize,
        close_grace_ns: u64,
        idle_priority: bool,
    ) -> PyResult<()> {
        let settings = WriterSettings {
            bound_bytes: write_buffer_bytes,
            close_grace: Duration::from_nanos(close_grace_ns),
            idle_priority,
        };
        self.core
            .start_writer(settings)
            .map_err(|e| PyOSError::new_err(e.to_string()))
    }

    /// Sessions that subscribed to a feed since the last call: hand each one's socket
    /// over (:meth:`hand_over`) if its transport holds no unsent bytes.
    fn take_writer_requests(&mut self) -> Vec<u64> {
        self.core.take_writer_requests()
    }

    /// The socket writer takes over writing to the session's socket (a duplicate of
    /// `fd`; the caller keeps its own for reading, and never writes to it again).
    fn hand_over(&mut self, sid: u64, fd: i32) -> PyResult<bool> {
        if fd < 0 {
            return Err(PyValueError::new_err("not a file descriptor"));
        }
        // SAFETY: the caller's transport holds `fd` open for the length of this call.
        let socket = unsafe { BorrowedFd::borrow_raw(fd) };
        self.core
            .hand_over(sid, socket)
            .map_err(|e| PyOSError::new_err(e.to_string()))
    }

    /// The socket writer's events: sessions whose sockets failed, to end; sessions that
    /// caught up are drained again.
    fn writer_events(&mut self) -> Vec<u64> {
        self.core.writer_events()
    }

    /// Readable when the socket writer has events (None without a writer).
    fn writer_wake_fd(&self) -> Option<i32> {
        self.core.writer_wake_fd()
    }

    /// Whether the socket writer has sent everything and closed what it was to.
    fn writer_idle(&self) -> bool {
        self.core.writer_idle()
    }

    /// Names an instrument in its InstrumentDefinitions: 1-16 printable ASCII characters.
    fn set_symbol(&mut self, instrument: u32, symbol: &str) -> PyResult<()> {
        let text = encode_text(symbol)
            .filter(|_| !symbol.is_empty())
            .ok_or_else(|| PyValueError::new_err("symbol: 1-16 printable ASCII characters"))?;
        if !self.core.instruments.set_symbol(instrument, text) {
            return Err(PyValueError::new_err("too many symbols"));
        }
        Ok(())
    }

    /// The engine's terms for a listed instrument, as `(tick_size, lot_size, halted)`
    /// in engine units; None for an instrument the engine has not listed.
    fn listing(&self, instrument: u32) -> Option<(i64, u64, bool)> {
        self.core
            .instruments
            .listing(instrument)
            .map(|(spec, halted)| (spec.tick_size, spec.lot_size, halted))
    }

    /// Publishes the L3 feed as multicast packets (after configure_feeds, before the
    /// engine link is fed); `session` is 1-10 printable ASCII characters.
    #[pyo3(signature = (*, session, mtu_bytes, window_messages, queue_packets, retransmit_max))]
    fn configure_multicast(
        &mut self,
        session: &str,
        mtu_bytes: usize,
        window_messages: usize,
        queue_packets: usize,
        retransmit_max: u16,
    ) -> PyResult<()> {
        let session = ringex_protocol::mold::session_name(session).ok_or_else(|| {
            PyValueError::new_err("the multicast session is 1-10 printable ASCII characters")
        })?;
        let settings = MulticastSettings {
            session,
            mtu_bytes,
            window_messages,
            queue_packets,
            retransmit_max,
        };
        self.core.feeds.multicast =
            Some(MulticastPublisher::new(settings).map_err(PyValueError::new_err)?);
        Ok(())
    }

    /// The multicast packets to send now (the batch ended); none when not configured.
    fn take_multicast_packets<'py>(&mut self, py: Python<'py>) -> Vec<Bound<'py, PyBytes>> {
        self.multicast()
            .map(|m| m.take_packets())
            .unwrap_or_default()
            .iter()
            .map(|p| PyBytes::new(py, p))
            .collect()
    }

    /// A multicast heartbeat, or the end of the session with `end` true.
    #[pyo3(signature = (end=false))]
    fn multicast_heartbeat<'py>(
        &mut self,
        py: Python<'py>,
        end: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let m = self.multicast_or_err()?;
        let packet = if end {
            m.end_of_session()
        } else {
            m.heartbeat()
        };
        Ok(PyBytes::new(py, &packet))
    }

    /// The reply to one retransmission request of exactly 20 bytes.
    fn multicast_retransmit<'py>(
        &mut self,
        py: Python<'py>,
        request: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let request = request
            .try_into()
            .map_err(|_| PyValueError::new_err("a retransmission request is 20 bytes"))?;
        let reply = self.multicast_or_err()?.retransmit(request);
        Ok(PyBytes::new(py, &reply))
    }

    fn open_session(&mut self, sid: u64, now_ns: u64) {
        self.core.open_session(sid, now_ns);
    }

    /// How many sessions are logged in.
    fn logged_in_count(&self) -> usize {
        self.core.logged_in_count()
    }

    /// Returns None, LoginRequested or CloseSession.
    fn feed_session(
        &mut self,
        py: Python<'_>,
        sid: u64,
        data: &[u8],
        now_ns: u64,
    ) -> PyResult<Option<Py<PyAny>>> {
        core_records::session_action(py, self.core.feed_session(sid, data, now_ns))
    }

    /// Returns what to do about the bytes that followed the Login, as feed_session.
    #[allow(clippy::too_many_arguments)]
    fn accept_login(
        &mut self,
        py: Python<'_>,
        sid: u64,
        account: u32,
        role: u8,
        next_seq: u64,
        rate_per_s: u64,
        burst: u64,
        cancel_on_disconnect: bool,
        now_ns: u64,
    ) -> PyResult<Option<Py<PyAny>>> {
        let role: Role = code(role, "role")?;
        let action = self.core.accept_login(
            sid,
            account,
            role,
            next_seq,
            rate_per_s,
            burst,
            cancel_on_disconnect,
            now_ns,
        );
        core_records::session_action(py, action)
    }

    fn reject_login<'py>(
        &mut self,
        py: Python<'py>,
        sid: u64,
        reason: u8,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let reason: LoginRejectReason = code(reason, "login reject reason")?;
        Ok(PyBytes::new(py, &self.core.reject_login(sid, reason)))
    }

    /// Ends a session; `reason` None when the connection is already gone. Returns the
    /// Goodbye frame to write before closing.
    #[pyo3(signature = (sid, reason=None, detail=0))]
    fn end_session<'py>(
        &mut self,
        py: Python<'py>,
        sid: u64,
        reason: Option<u8>,
        detail: u8,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let reason = match reason {
            Some(r) => Some((code::<SessionEndReason>(r, "session end reason")?, detail)),
            None => None,
        };
        Ok(PyBytes::new(py, &self.core.end_session(sid, reason)))
    }

    fn set_paused(&mut self, sid: u64, paused: bool) {
        self.core.set_paused(sid, paused);
    }

    /// Builds and queues the feed messages of the commands received since the last
    /// call (after the answers to the orders were written).
    fn publish_feeds(&mut self) {
        self.core.publish_feeds();
    }

    fn has_pending(&self) -> bool {
        self.core.has_pending()
    }

    /// When feed bytes held back for coalescing are due (monotonic ns), if any are.
    fn held_due_ns(&self) -> Option<u64> {
        self.core.held_due_ns()
    }

    /// The bytes to write per session and the slow consumers to end; feed messages of
    /// commands received since :meth:`publish_feeds` wait for it.
    fn drain(&mut self, py: Python<'_>, now_ns: u64) -> PyResult<Drained> {
        let (writes, slow) = self.core.drain_sessions(now_ns);
        Drained::new(py, writes, slow)
    }

    /// The sessions whose timers ran out, each with the reason to end it.
    fn tick(&mut self, now_ns: u64) -> Vec<TimedOut> {
        self.core
            .tick(now_ns)
            .into_iter()
            .map(|(sid, reason)| TimedOut::new(sid, reason as u8))
            .collect()
    }

    fn link_reset(&mut self) {
        self.core.link_reset();
    }

    /// The engine link's connection is gone: orders are refused until a Welcome.
    fn link_down(&mut self) {
        self.core.link_down();
    }

    /// Whether the engine link is up: connected and its Welcome accepted.
    fn engine_up(&self) -> bool {
        self.core.engine_up()
    }

    /// Every order is answered within `bound_ns` (EngineUnavailable if the engine did
    /// not), and its deadline is the send time plus the bound less `allowance_ns`.
    fn set_answer_bound(&mut self, bound_ns: u64, allowance_ns: u64) -> PyResult<()> {
        if bound_ns != 0 && allowance_ns >= bound_ns {
            return Err(PyValueError::new_err(
                "the deadline allowance must be below the answer bound",
            ));
        }
        self.core.link = engine_link_state::EngineLinkState::new(bound_ns, allowance_ns);
        Ok(())
    }

    /// Unix-epoch time minus the monotonic clock passed as `now_ns`, for deadlines.
    fn set_clock_offset(&mut self, offset_ns: i64) {
        self.core.link.set_clock_offset(offset_ns);
    }

    /// Raises the last engine sequence number seen to one an earlier run persisted.
    fn note_engine_seq(&mut self, seq: u64) {
        self.core.note_engine_seq(seq);
    }

    fn last_engine_seq(&self) -> u64 {
        self.core.last_engine_seq()
    }

    /// The engine's last seq and ours while the engine is behind what we have seen.
    fn engine_regressed(&self) -> Option<Regression> {
        let (engine_seq, seen_seq) = self.core.link.regressed()?;
        Some(Regression::new(engine_seq, seen_seq))
    }

    fn link_heartbeat(&mut self) {
        self.core.link_heartbeat();
    }

    fn take_engine_output<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.core.take_engine_output())
    }

    /// Routes the engine's events; reports what else the link said.
    fn feed_engine(&mut self, py: Python<'_>, data: &[u8], now_ns: u64) -> PyResult<LinkReport> {
        LinkReport::new(py, self.core.feed_engine(data, now_ns))
    }

    /// Events frames routed since the last call, to append to the stream journal.
    fn take_journal_output<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.core.take_journal_output())
    }

    /// Rebuilds the streams from a stream journal; returns the length of its whole frames.
    fn restore(&mut self, data: &[u8]) -> usize {
        self.core.restore(data)
    }

    /// What the acked-id journal must do since the last call.
    fn take_acked_output(&mut self, py: Python<'_>) -> AckedOutput {
        let (cleared, records) = self.core.acked.take_output();
        AckedOutput::new(py, cleared, &records)
    }

    /// Replaces the acknowledged ids with an acked-id journal's records; returns the
    /// length of its whole, undamaged records.
    fn restore_acked(&mut self, data: &[u8]) -> usize {
        self.core.acked.restore(data)
    }

    /// Counters for the metrics endpoint.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.core.stats;
        let d = PyDict::new(py);
        d.set_item("sessions", self.core.session_count())?;
        d.set_item("engine_up", self.core.engine_up())?;
        d.set_item("last_engine_seq", self.core.last_engine_seq())?;
        d.set_item("messages_in", s.messages_in)?;
        d.set_item("messages_out", s.messages_out)?;
        d.set_item("engine_inputs", s.engine_inputs)?;
        d.set_item("engine_events", s.engine_events)?;
        d.set_item("engine_seq_gaps", s.engine_seq_gaps)?;
        let link = self.core.link.counters;
        d.set_item("engine_answer_timeouts", link.answer_timeouts)?;
        d.set_item("engine_expired", link.expired)?;
        d.set_item("engine_late_answers", link.late_answers)?;
        d.set_item("engine_orders_in_doubt", link.in_doubt)?;
        d.set_item("engine_regressions", link.regressions)?;
        d.set_item("engine_regressed", self.core.link.regressed().is_some())?;
        d.set_item("rejects", s.rejects.clone())?;
        d.set_item("session_ends", s.session_ends.clone())?;
        d.set_item("latency_buckets", s.latency_buckets.to_vec())?;
        d.set_item("latency_sum_ns", s.latency_sum_ns)?;
        d.set_item("acked_ids", self.core.acked.len())?;
        d.set_item("acked_ids_dropped", self.core.acked.dropped)?;
        let feeds = self.core.feeds.counters;
        d.set_item("feed_messages_out", feeds.messages_out)?;
        d.set_item("feed_snapshots", feeds.snapshots)?;
        d.set_item("feed_resends", feeds.resends)?;
        d.set_item("feed_conflations", feeds.conflations)?;
        d.set_item("feed_rejects", feeds.rejects)?;
        d.set_item("feeds_stopped", self.core.feeds.stopped())?;
        if let Some(m) = &self.core.feeds.multicast {
            let c = m.counters;
            d.set_item("multicast_packets", c.packets)?;
            d.set_item("multicast_messages", c.messages)?;
            d.set_item("multicast_packets_dropped", c.packets_dropped)?;
            d.set_item("multicast_retransmit_requests", c.retransmit_requests)?;
            d.set_item("multicast_retransmit_messages", c.retransmit_messages)?;
            d.set_item("multicast_retransmit_too_old", c.retransmit_too_old)?;
        }
        Ok(d)
    }
}

impl PyGatewayCore {
    fn multicast(&mut self) -> Option<&mut MulticastPublisher> {
        self.core.feeds.multicast.as_mut()
    }

    fn multicast_or_err(&mut self) -> PyResult<&mut MulticastPublisher> {
        self.multicast()
            .ok_or_else(|| PyValueError::new_err("multicast is not configured"))
    }
}
