//! ringex-core: the deterministic matching core of ringex.
//!
//! A pure state machine: [`Engine::apply`] takes one command with the `(seq,
//! timestamp_ns)` its sequencer stamped and appends the resulting events. No I/O, no
//! threads, no clock, no randomness, no floats; the same stream of commands always
//! produces the same events and the same [`Engine::state_hash`].
//!
//! See `engine/DESIGN-core.md` for the data layout and why it is fast.

mod account;
mod book;
mod book_view;
mod client_ids;
mod command;
mod config;
mod divisor;
mod engine;
mod event;
mod instrument;
mod invariants;
pub mod market_data;
mod matching;
mod order;
mod snapshot;
mod state_hash;
mod types;

pub use book_view::{BookView, InstrumentView, LevelView, OrderView, TopOfBook};
pub use client_ids::client_id_digest_term;
pub use command::*;
pub use config::EngineConfig;
pub use engine::Engine;
pub use event::*;
pub use snapshot::{SnapshotError, TakenSnapshot, SNAPSHOT_MAGIC, SNAPSHOT_VERSION};
pub use state_hash::StateHasher;
pub use types::*;
