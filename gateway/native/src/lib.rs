//! `ringex_gateway._native`: the gateway's per-message work in native code. Python owns
//! the sockets and timers and calls in once per batch of bytes; see [`gateway::Core`].

pub mod account_stream;
pub mod account_streams;
pub mod acked_ids;
pub mod binary_session;
pub mod core_py;
pub mod core_records;
pub mod engine_events;
pub mod engine_input;
pub mod engine_link_state;
pub mod event_router;
pub mod feed_batches;
pub mod feed_fanout;
pub mod feed_key;
pub mod feed_log;
pub mod feed_window;
pub mod fix_body;
pub mod fix_codec;
pub mod fix_fast_path;
pub mod fix_finished_orders;
pub mod fix_groups;
pub mod fix_message_error;
pub mod fix_orders;
pub mod fix_orders_py;
pub mod fix_price;
pub mod fix_py;
pub mod fix_reports;
pub mod fix_symbols;
pub mod fix_tracked_order;
pub mod gateway;
pub mod held_sessions;
pub mod instrument_registry;
pub mod market_data;
pub mod multicast_publisher;
pub mod order_entry;
pub mod output_chunks;
pub mod pending_commands;
pub mod rate_limit;
pub mod session;
pub mod session_end;
pub mod session_login;
pub mod session_output;
pub mod session_timers;
pub mod sessions;
pub mod socket_backlog;
pub mod socket_writer;
pub mod stats;
pub mod subscriptions;
pub mod top_of_book_subscribers;
pub mod writer_sessions;
mod writer_shared;
pub mod writer_thread;

use pyo3::prelude::*;

use crate::core_py::PyGatewayCore;
use crate::stats::LATENCY_BOUNDS_NS;

/// The upper bounds in nanoseconds of the latency histogram's buckets.
#[pyfunction]
fn latency_bounds_ns() -> Vec<u64> {
    LATENCY_BOUNDS_NS.to_vec()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGatewayCore>()?;
    m.add_function(wrap_pyfunction!(latency_bounds_ns, m)?)?;
    core_records::register(m)?;
    fix_py::register(m)?;
    Ok(())
}
