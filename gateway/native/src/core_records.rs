//! The gateway core's answers as Python sees them: small frozen records instead of
//! tuples, so the Python side reads named fields checked by its type stubs.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use ringex_protocol::link::GoodbyeReason;

use crate::binary_session::SessionAction;
use crate::engine_events::LinkOutcome;

/// The session asked to log in: check these credentials, then call `accept_login` or
/// `reject_login`.
#[pyclass(
    name = "LoginRequested",
    module = "ringex_gateway._native",
    frozen,
    get_all
)]
pub struct LoginRequested {
    username: String,
    password: String,
    next_seq: u64,
}

/// The session must end: call `end_session(reason, detail)`.
#[pyclass(
    name = "CloseSession",
    module = "ringex_gateway._native",
    frozen,
    get_all
)]
pub struct CloseSession {
    reason: u8,
    detail: u8,
}

/// None, LoginRequested or CloseSession.
pub fn session_action(py: Python<'_>, action: SessionAction) -> PyResult<Option<Py<PyAny>>> {
    Ok(match action {
        SessionAction::Continue => None,
        SessionAction::Login {
            username,
            password,
            next_seq,
        } => {
            let login = LoginRequested {
                username,
                password,
                next_seq,
            };
            Some(Py::new(py, login)?.into_any())
        }
        SessionAction::Close { reason, detail } => {
            let close = CloseSession {
                reason: reason as u8,
                detail,
            };
            Some(Py::new(py, close)?.into_any())
        }
    })
}

/// A session whose timer ran out, and the session end reason to end it with.
#[pyclass(name = "TimedOut", module = "ringex_gateway._native", frozen, get_all)]
pub struct TimedOut {
    sid: u64,
    reason: u8,
}

impl TimedOut {
    pub fn new(sid: u64, reason: u8) -> TimedOut {
        TimedOut { sid, reason }
    }
}

/// One drain: `writes` is [(sid, bytes)] to write, `slow` the sessions to end as slow
/// consumers.
#[pyclass(name = "Drained", module = "ringex_gateway._native", frozen, get_all)]
pub struct Drained {
    writes: Py<PyList>,
    slow: Py<PyList>,
}

impl Drained {
    pub fn new(py: Python<'_>, writes: Vec<(u64, Vec<u8>)>, slow: Vec<u64>) -> PyResult<Drained> {
        let writes = writes
            .into_iter()
            .map(|(sid, bytes)| (sid, PyBytes::new(py, &bytes)));
        Ok(Drained {
            writes: PyList::new(py, writes)?.unbind(),
            slow: PyList::new(py, slow)?.unbind(),
        })
    }
}

/// The engine said Goodbye: its reason and detail codes.
#[pyclass(
    name = "EngineGoodbye",
    module = "ringex_gateway._native",
    frozen,
    get_all
)]
pub struct EngineGoodbye {
    reason: u8,
    detail: u8,
}

/// The engine node is not the cluster's leader: the leader it names (0 if unknown) and
/// its term.
#[pyclass(name = "NotLeader", module = "ringex_gateway._native", frozen, get_all)]
pub struct NotLeader {
    leader_id: u64,
    term: u64,
}

/// What the engine link's bytes said besides the events the core routed.
#[pyclass(
    name = "LinkReport",
    module = "ringex_gateway._native",
    frozen,
    get_all
)]
pub struct LinkReport {
    /// The engine's last sequence number from its Welcome.
    welcome_seq: Option<u64>,
    /// The Welcome was below what this gateway has seen: the link must not be used.
    refused: bool,
    goodbye: Option<Py<EngineGoodbye>>,
    /// The engine sent bytes that do not decode: the decode error code.
    error: Option<u8>,
    not_leader: Option<Py<NotLeader>>,
}

impl LinkReport {
    pub fn new(py: Python<'_>, o: LinkOutcome) -> PyResult<LinkReport> {
        let goodbye = o
            .goodbye
            .map(|(reason, detail)| Py::new(py, EngineGoodbye { reason, detail }))
            .transpose()?;
        let not_leader = o
            .not_leader
            .map(|(leader_id, term)| Py::new(py, NotLeader { leader_id, term }))
            .transpose()?;
        Ok(LinkReport {
            welcome_seq: o.welcome,
            refused: o.refused,
            goodbye,
            error: o.error,
            not_leader,
        })
    }
}

/// The engine's Welcome was behind what this gateway has seen.
#[pyclass(
    name = "Regression",
    module = "ringex_gateway._native",
    frozen,
    get_all
)]
pub struct Regression {
    engine_seq: u64,
    seen_seq: u64,
}

impl Regression {
    pub fn new(engine_seq: u64, seen_seq: u64) -> Regression {
        Regression {
            engine_seq,
            seen_seq,
        }
    }
}

/// What the acked-id journal must do: be emptied first (`cleared`: the day ended),
/// then have `records` appended.
#[pyclass(
    name = "AckedOutput",
    module = "ringex_gateway._native",
    frozen,
    get_all
)]
pub struct AckedOutput {
    cleared: bool,
    records: Py<PyBytes>,
}

impl AckedOutput {
    pub fn new(py: Python<'_>, cleared: bool, records: &[u8]) -> AckedOutput {
        AckedOutput {
            cleared,
            records: PyBytes::new(py, records).unbind(),
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LoginRequested>()?;
    m.add_class::<CloseSession>()?;
    m.add_class::<TimedOut>()?;
    m.add_class::<Drained>()?;
    m.add_class::<EngineGoodbye>()?;
    m.add_class::<NotLeader>()?;
    m.add_class::<LinkReport>()?;
    m.add_class::<Regression>()?;
    m.add_class::<AckedOutput>()?;
    // The Goodbye reasons the link acts on, from the link's own declaration.
    m.add(
        "GOODBYE_HISTORY_UNAVAILABLE",
        GoodbyeReason::HistoryUnavailable as u8,
    )?;
    m.add(
        "GOODBYE_AHEAD_OF_ENGINE",
        GoodbyeReason::AheadOfEngine as u8,
    )?;
    Ok(())
}
