//! `Engine`: the matching core itself, driven from Python.
//!
//! The core is a pure function of `(seq, timestamp_ns, command)`; nothing here reads a
//! clock or adds state of its own beyond the timestamp `submit` reuses, so a Python
//! backtest reproduces the production engine bit for bit.

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use ringex_core::{Command, Engine, EngineConfig, Event};

use crate::commands::command_from_py;
use crate::errors::InvariantError;
use crate::events::event_to_py;
use crate::views::{levels_tuple, resting_orders, Book, InstrumentState, RestingOrder, TopOfBook};

/// How a command gets its `(seq, timestamp_ns)`.
#[derive(Clone, Copy)]
enum Stamp {
    /// As given, e.g. replaying a journal; the core rejects gaps and regressions.
    Given { seq: u64, timestamp_ns: u64 },
    /// The next sequence number, at this time or at the last command's time.
    Next { timestamp_ns: Option<u64> },
}

/// A matching engine: instruments, accounts, books and positions, changed only by
/// applying commands in sequence.
#[pyclass(name = "Engine", module = "ringex_engine")]
pub struct PyEngine {
    engine: Engine,
    /// The timestamp of the last command applied (its stamp was accepted).
    last_timestamp_ns: u64,
    /// Reused for every command's events.
    out: Vec<Event>,
}

impl PyEngine {
    /// Applies commands in order; returns all their events and where each command's end.
    fn run(&mut self, commands: &[(Stamp, Command)]) -> (Vec<Event>, Vec<usize>) {
        let mut ends = Vec::with_capacity(commands.len());
        for (stamp, command) in commands {
            let (seq, timestamp_ns) = match *stamp {
                Stamp::Given { seq, timestamp_ns } => (seq, timestamp_ns),
                Stamp::Next { timestamp_ns } => (
                    // Past u64::MAX the core rejects it as a gap, like any other.
                    self.engine.last_seq().wrapping_add(1),
                    timestamp_ns.unwrap_or(self.last_timestamp_ns),
                ),
            };
            self.engine.apply(seq, timestamp_ns, command, &mut self.out);
            if self.engine.last_seq() == seq {
                self.last_timestamp_ns = timestamp_ns;
            }
            ends.push(self.out.len());
        }
        (std::mem::take(&mut self.out), ends)
    }

    /// One command, events as a list.
    fn run_one<'py>(
        &mut self,
        py: Python<'py>,
        command: &Bound<'py, PyAny>,
        stamp: Stamp,
    ) -> PyResult<Bound<'py, PyList>> {
        let command = command_from_py(command)?;
        let (events, _) = self.run(&[(stamp, command)]);
        let list = events_list(py, &events);
        self.recycle(events);
        list
    }

    /// A batch: converted (and so checked) in full before any is applied, applied
    /// without holding the GIL, events as one list per command.
    fn run_batch<'py>(
        &mut self,
        py: Python<'py>,
        commands: Vec<(Stamp, Command)>,
    ) -> PyResult<Bound<'py, PyList>> {
        let (events, ends) = py.detach(|| self.run(&commands));
        let mut start = 0;
        let lists = ends
            .iter()
            .map(|&end| {
                let list = events_list(py, &events[start..end]);
                start = end;
                list
            })
            .collect::<PyResult<Vec<_>>>();
        self.recycle(events);
        PyList::new(py, lists?)
    }

    /// Keeps the event buffer's capacity for the next call.
    fn recycle(&mut self, mut events: Vec<Event>) {
        events.clear();
        self.out = events;
    }
}

fn events_list<'py>(py: Python<'py>, events: &[Event]) -> PyResult<Bound<'py, PyList>> {
    let items = events
        .iter()
        .map(|e| event_to_py(py, e))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

fn unknown(what: &str, id: u32) -> PyErr {
    PyKeyError::new_err(format!("unknown {what} {id}"))
}

#[pymethods]
impl PyEngine {
    /// An empty engine. Every table is sized here, once, from these capacities (the
    /// core's defaults unless given); commands beyond a capacity are rejected.
    #[new]
    #[pyo3(signature = (
        *,
        max_orders = EngineConfig::default().max_orders,
        max_instruments = EngineConfig::default().max_instruments,
        max_accounts = EngineConfig::default().max_accounts,
        max_client_ids_per_day = EngineConfig::default().max_client_ids_per_day,
        levels_per_side = EngineConfig::default().levels_per_side,
    ))]
    fn new(
        max_orders: u32,
        max_instruments: u32,
        max_accounts: u32,
        max_client_ids_per_day: u32,
        levels_per_side: u32,
    ) -> PyResult<Self> {
        let config = EngineConfig {
            max_orders,
            max_instruments,
            max_accounts,
            max_client_ids_per_day,
            levels_per_side,
        };
        let engine = Engine::new(config).map_err(PyValueError::new_err)?;
        Ok(PyEngine {
            engine,
            last_timestamp_ns: 0,
            out: Vec::new(),
        })
    }

    /// Applies one command stamped `(seq, timestamp_ns)` and returns its events.
    ///
    /// `seq` must be exactly `last_seq + 1` and `timestamp_ns` not earlier than the last
    /// command's, or the command is rejected (`SEQUENCE_GAP`, `TIMESTAMP_REGRESSED`)
    /// and nothing changes.
    #[pyo3(signature = (command, *, seq, timestamp_ns))]
    fn apply<'py>(
        &mut self,
        py: Python<'py>,
        command: &Bound<'py, PyAny>,
        seq: u64,
        timestamp_ns: u64,
    ) -> PyResult<Bound<'py, PyList>> {
        self.run_one(py, command, Stamp::Given { seq, timestamp_ns })
    }

    /// Applies `(seq, timestamp_ns, command)` triples in order; returns one list of
    /// events per command. Every item is checked before any is applied.
    fn apply_many<'py>(
        &mut self,
        py: Python<'py>,
        batch: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut commands = Vec::new();
        for item in batch.try_iter()? {
            let (seq, timestamp_ns, command): (u64, u64, Bound<'py, PyAny>) = item?.extract()?;
            commands.push((
                Stamp::Given { seq, timestamp_ns },
                command_from_py(&command)?,
            ));
        }
        self.run_batch(py, commands)
    }

    /// Applies one command as the next in sequence and returns its events.
    ///
    /// Without `timestamp_ns` the command carries the last command's timestamp (0 at
    /// first): time only moves when the caller moves it.
    #[pyo3(signature = (command, *, timestamp_ns = None))]
    fn submit<'py>(
        &mut self,
        py: Python<'py>,
        command: &Bound<'py, PyAny>,
        timestamp_ns: Option<u64>,
    ) -> PyResult<Bound<'py, PyList>> {
        self.run_one(py, command, Stamp::Next { timestamp_ns })
    }

    /// Applies commands as the next in sequence, all at `timestamp_ns` (or the last
    /// command's timestamp); returns one list of events per command.
    #[pyo3(signature = (commands, *, timestamp_ns = None))]
    fn submit_many<'py>(
        &mut self,
        py: Python<'py>,
        commands: &Bound<'py, PyAny>,
        timestamp_ns: Option<u64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let stamp = Stamp::Next { timestamp_ns };
        let commands = commands
            .try_iter()?
            .map(|c| Ok((stamp, command_from_py(&c?)?)))
            .collect::<PyResult<Vec<_>>>()?;
        self.run_batch(py, commands)
    }

    /// The sequence number of the last command applied (0 before the first).
    #[getter]
    fn last_seq(&self) -> u64 {
        self.engine.last_seq()
    }

    /// The timestamp of the last command applied (0 before the first).
    #[getter]
    fn last_timestamp_ns(&self) -> u64 {
        self.last_timestamp_ns
    }

    /// Open orders across all books.
    #[getter]
    fn resting_orders(&self) -> u32 {
        self.engine.resting_orders()
    }

    /// A snapshot of one book, at most `depth` levels per side (all by default).
    /// Raises `KeyError` for an unknown instrument.
    #[pyo3(signature = (instrument, depth = None))]
    fn book(&self, py: Python<'_>, instrument: u32, depth: Option<usize>) -> PyResult<Book> {
        let view = self
            .engine
            .book_view(instrument)
            .ok_or_else(|| unknown("instrument", instrument))?;
        let depth = depth.unwrap_or(usize::MAX);
        Ok(Book {
            instrument,
            bids: levels_tuple(py, &view.bids, depth)?.unbind(),
            asks: levels_tuple(py, &view.asks, depth)?.unbind(),
        })
    }

    /// Best bid and ask. Raises `KeyError` for an unknown instrument.
    fn top_of_book(&self, instrument: u32) -> PyResult<TopOfBook> {
        let top = self
            .engine
            .top_of_book(instrument)
            .ok_or_else(|| unknown("instrument", instrument))?;
        Ok(TopOfBook {
            bid: top.bid,
            ask: top.ask,
        })
    }

    /// An instrument's reference price, band and halt state. Raises `KeyError` for an
    /// unknown instrument.
    fn instrument_state(&self, instrument: u32) -> PyResult<InstrumentState> {
        let view = self
            .engine
            .instrument_view(instrument)
            .ok_or_else(|| unknown("instrument", instrument))?;
        Ok(InstrumentState {
            reference_price: view.reference_price,
            last_trade_price: view.last_trade_price,
            band: view.band,
            halted: view.halted,
        })
    }

    /// An account's open orders, oldest first. Raises `KeyError` for an unknown account.
    fn open_orders<'py>(&self, py: Python<'py>, account: u32) -> PyResult<Bound<'py, PyList>> {
        let orders = self
            .engine
            .open_orders(account)
            .ok_or_else(|| unknown("account", account))?;
        PyList::new(py, resting_orders(py, &orders)?)
    }

    /// One open order by its owner's client order id, or `None` if it is not open.
    fn open_order(&self, account: u32, client_order_id: u64) -> Option<RestingOrder> {
        self.engine
            .open_order_view(account, client_order_id)
            .map(|o| RestingOrder::from(&o))
    }

    /// Net position (bought minus sold) of an account in an instrument. Raises
    /// `KeyError` for an unknown account.
    fn position(&self, account: u32, instrument: u32) -> PyResult<i64> {
        self.engine
            .position(account, instrument)
            .ok_or_else(|| unknown("account", account))
    }

    /// A 64-bit digest of all state that affects what the engine does next. Engines fed
    /// the same commands have equal hashes, on every machine.
    fn state_hash(&self) -> u64 {
        self.engine.state_hash()
    }

    /// Checks every structural invariant of the state; raises `InvariantError` with
    /// the first one broken. Takes time in proportion to the state: for tests.
    fn check_invariants(&self) -> PyResult<()> {
        self.engine
            .check_invariants()
            .map_err(InvariantError::new_err)
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine(last_seq={}, resting_orders={})",
            self.engine.last_seq(),
            self.engine.resting_orders()
        )
    }
}
