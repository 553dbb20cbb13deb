//! `ringex_gateway._native`: the gateway's per-message work in native code. Python owns
//! the sockets and timers and calls in once per batch of bytes; see [`gateway::Core`].

pub mod account_stream;
pub mod acked_ids;
pub mod engine_link_state;
pub mod feed_batches;
pub mod feed_fanout;
pub mod feed_window;
pub mod fix_codec;
pub mod fix_fast_path;
pub mod fix_groups;
pub mod fix_orders;
pub mod fix_orders_py;
pub mod fix_price;
pub mod fix_py;
pub mod fix_reports;
pub mod fix_symbols;
pub mod gateway;
pub mod held_sessions;
pub mod instrument_registry;
pub mod multicast_publisher;
pub mod pending_commands;
pub mod rate_limit;
pub mod session;
pub mod stats;
pub mod subscriptions;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use ringex_protocol::session::{encode_text, LoginRejectReason, Role, SessionEndReason};

use crate::feed_fanout::FeedSettings;
use crate::gateway::{Core, Limits, SessionAction};
use crate::multicast_publisher::{MulticastPublisher, MulticastSettings};
use crate::stats::LATENCY_BOUNDS_NS;

/// None, ("login", username, password, next_seq) or ("close", reason, detail).
fn action_to_py(py: Python<'_>, action: SessionAction) -> PyResult<Bound<'_, PyAny>> {
    Ok(match action {
        SessionAction::Continue => py.None().into_bound(py),
        SessionAction::Login {
            username,
            password,
            next_seq,
        } => ("login", username, password, next_seq)
            .into_pyobject(py)?
            .into_any(),
        SessionAction::Close { reason, detail } => ("close", reason as u8, detail)
            .into_pyobject(py)?
            .into_any(),
    })
}

fn code<T: TryFrom<u8>>(value: u8, what: &str) -> PyResult<T> {
    T::try_from(value).map_err(|_| PyValueError::new_err(format!("unknown {what} {value}")))
}

/// Sessions, account streams, event routing and market data of one gateway process.
#[pyclass(name = "GatewayCore", module = "ringex_gateway._native", unsendable)]
struct PyGatewayCore {
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

    /// Returns None, ("login", username, password, next_seq) or ("close", reason, detail).
    fn feed_session<'py>(
        &mut self,
        py: Python<'py>,
        sid: u64,
        data: &[u8],
        now_ns: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        action_to_py(py, self.core.feed_session(sid, data, now_ns))
    }

    /// Returns what to do about the bytes that followed the Login, as feed_session.
    #[allow(clippy::too_many_arguments)]
    fn accept_login<'py>(
        &mut self,
        py: Python<'py>,
        sid: u64,
        account: u32,
        role: u8,
        next_seq: u64,
        rate_per_s: u64,
        burst: u64,
        cancel_on_disconnect: bool,
        now_ns: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
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
        action_to_py(py, action)
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

    /// Returns ([(sid, bytes)], [slow consumer sid]); feed messages of commands received
    /// since :meth:`publish_feeds` wait for it.
    #[allow(clippy::type_complexity)]
    fn drain<'py>(
        &mut self,
        py: Python<'py>,
        now_ns: u64,
    ) -> (Vec<(u64, Bound<'py, PyBytes>)>, Vec<u64>) {
        let (writes, slow) = self.core.drain_sessions(now_ns);
        let writes = writes
            .into_iter()
            .map(|(sid, bytes)| (sid, PyBytes::new(py, &bytes)))
            .collect();
        (writes, slow)
    }

    /// Returns [(sid, session end reason)] for sessions whose timers ran out.
    fn tick(&mut self, now_ns: u64) -> Vec<(u64, u8)> {
        self.core
            .tick(now_ns)
            .into_iter()
            .map(|(sid, reason)| (sid, reason as u8))
            .collect()
    }

    fn link_reset(&mut self) {
        self.core.link_reset();
    }

    fn set_engine_up(&mut self, up: bool) {
        self.core.set_engine_up(up);
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

    /// (engine's last seq, ours) while the engine is behind what we have seen.
    fn engine_regressed(&self) -> Option<(u64, u64)> {
        self.core.link.regressed()
    }

    fn link_heartbeat(&mut self) {
        self.core.link_heartbeat();
    }

    fn take_engine_output<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.core.take_engine_output())
    }

    /// Returns (welcome last_seq or None, whether that Welcome was refused as behind
    /// this gateway, (goodbye reason, detail) or None, decode error code or None,
    /// (leader id, term) of a NotLeader or None).
    #[allow(clippy::type_complexity)]
    fn feed_engine(
        &mut self,
        data: &[u8],
        now_ns: u64,
    ) -> (
        Option<u64>,
        bool,
        Option<(u8, u8)>,
        Option<u8>,
        Option<(u64, u64)>,
    ) {
        let o = self.core.feed_engine(data, now_ns);
        (o.welcome, o.refused, o.goodbye, o.error, o.not_leader)
    }

    /// Events frames routed since the last call, to append to the stream journal.
    fn take_journal_output<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.core.take_journal_output())
    }

    /// Rebuilds the streams from a stream journal; returns the length of its whole frames.
    fn restore(&mut self, data: &[u8]) -> usize {
        self.core.restore(data)
    }

    /// (whether the acked-id journal must be emptied first, records to append after).
    fn take_acked_output<'py>(&mut self, py: Python<'py>) -> (bool, Bound<'py, PyBytes>) {
        let (cleared, records) = self.core.acked.take_output();
        (cleared, PyBytes::new(py, &records))
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

/// The upper bounds in nanoseconds of the latency histogram's buckets.
#[pyfunction]
fn latency_bounds_ns() -> Vec<u64> {
    LATENCY_BOUNDS_NS.to_vec()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGatewayCore>()?;
    m.add_function(wrap_pyfunction!(latency_bounds_ns, m)?)?;
    fix_py::register(m)?;
    Ok(())
}
