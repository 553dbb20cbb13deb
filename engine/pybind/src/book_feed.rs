//! `BookFeed`: the market-data feed of an engine's books, built from its events, for
//! backtests that need what a feed client would have seen.

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use ringex_core::market_data::{BookEvent, FeedBuilder, LevelBook, LevelUpdate as CoreUpdate};
use ringex_core::{EngineConfig, Event};

use crate::book_events::{
    book_event_to_py, l2_snapshot_to_py, l3_snapshot_to_py, L2Snapshot, L3Snapshot, LevelUpdate,
};
use crate::errors::BookFeedError;
use crate::event_input::event_from_py;

/// Order-by-order book events (L3) and top-`depth` level updates (L2) of every
/// instrument, built from an engine's events one command at a time.
#[pyclass(name = "BookFeed", module = "ringex_engine")]
pub struct PyBookFeed {
    builder: FeedBuilder,
    levels: LevelBook,
    /// Reused for every command.
    events: Vec<Event>,
    book_events: Vec<BookEvent>,
    updates: Vec<CoreUpdate>,
}

fn unknown(instrument: u32) -> PyErr {
    PyKeyError::new_err(format!("unknown instrument {instrument}"))
}

#[pymethods]
impl PyBookFeed {
    /// A feed for an engine with these capacities (give the engine's own), reporting
    /// the best `depth` levels of each side.
    #[new]
    #[pyo3(signature = (
        *,
        depth = 10,
        max_orders = EngineConfig::default().max_orders,
        max_instruments = EngineConfig::default().max_instruments,
        levels_per_side = EngineConfig::default().levels_per_side,
    ))]
    fn new(
        depth: usize,
        max_orders: u32,
        max_instruments: u32,
        levels_per_side: u32,
    ) -> PyResult<Self> {
        let config = EngineConfig {
            max_orders,
            max_instruments,
            levels_per_side,
            max_client_ids_per_day: max_orders,
            ..EngineConfig::default()
        };
        let builder = FeedBuilder::new(&config).map_err(PyValueError::new_err)?;
        let levels = LevelBook::new(depth, &config).map_err(PyValueError::new_err)?;
        Ok(PyBookFeed {
            builder,
            levels,
            events: Vec::new(),
            book_events: Vec::new(),
            updates: Vec::new(),
        })
    }

    /// Takes the events of one command, stamped `(seq, timestamp_ns)` as the engine
    /// applied it; returns its book events and the level updates they caused.
    ///
    /// Raises `BookFeedError` for events the engine could not have produced in this
    /// order; the feed then refuses everything after.
    #[pyo3(signature = (events, *, seq, timestamp_ns))]
    fn apply<'py>(
        &mut self,
        py: Python<'py>,
        events: &Bound<'py, PyAny>,
        seq: u64,
        timestamp_ns: u64,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        self.events.clear();
        for event in events.try_iter()? {
            self.events.push(event_from_py(&event?)?);
        }
        self.book_events.clear();
        self.updates.clear();
        self.builder
            .apply(seq, timestamp_ns, &self.events, &mut self.book_events)
            .map_err(|e| BookFeedError::new_err(e.to_string()))?;
        for e in &self.book_events {
            self.levels
                .apply(e, &mut self.updates)
                .map_err(|e| BookFeedError::new_err(e.to_string()))?;
        }
        let book = self
            .book_events
            .iter()
            .map(|e| book_event_to_py(py, e))
            .collect::<PyResult<Vec<_>>>()?;
        let updates = self
            .updates
            .iter()
            .map(|u| Bound::new(py, LevelUpdate::from(u)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok((PyList::new(py, book)?, PyList::new(py, updates)?))
    }

    /// The last feed sequence number of an instrument (0 before its first event).
    /// Raises `KeyError` for an instrument not listed.
    fn feed_seq(&self, instrument: u32) -> PyResult<u64> {
        self.builder
            .feed_seq(instrument)
            .ok_or_else(|| unknown(instrument))
    }

    /// Every resting order of one book, with the feed sequence it covers and its
    /// checksum. Raises `KeyError` for an instrument not listed.
    fn snapshot(&self, py: Python<'_>, instrument: u32) -> PyResult<L3Snapshot> {
        let snapshot = self
            .builder
            .snapshot(instrument)
            .ok_or_else(|| unknown(instrument))?;
        l3_snapshot_to_py(py, &snapshot)
    }

    /// The best `depth` levels of each side of one book (the feed's depth by default,
    /// every level with a larger one), with the sequence numbers they cover and their
    /// checksum. Raises `KeyError` for an instrument not listed.
    #[pyo3(signature = (instrument, depth = None))]
    fn levels(
        &self,
        py: Python<'_>,
        instrument: u32,
        depth: Option<usize>,
    ) -> PyResult<L2Snapshot> {
        let depth = depth.unwrap_or(self.levels.depth());
        let snapshot = self
            .levels
            .snapshot(instrument, depth)
            .ok_or_else(|| unknown(instrument))?;
        l2_snapshot_to_py(py, &snapshot)
    }

    fn __repr__(&self) -> String {
        format!("BookFeed(depth={})", self.levels.depth())
    }
}
