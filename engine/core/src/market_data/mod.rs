//! Market data: the public view of the books, derived from the core's sequenced output.
//!
//! [`FeedBuilder`] turns each command's events into order-by-order [`BookEvent`]s (L3),
//! numbered per instrument, with no account ids; [`LevelBook`] folds those into price
//! levels (L2) and reports changes to the top N. Both take snapshots that carry the
//! feed sequence they cover and a [`book_checksum`] a client can recompute from its own
//! book. Pure and deterministic like the core: no clock, no floats, no hash-map
//! iteration. See `engine/MARKET-DATA.md`.

mod book_checksum;
mod book_event;
mod book_snapshot;
mod feed_builder;
mod feed_error;
mod level_book;

pub use book_checksum::BookChecksum;
pub use book_event::{BookChange, BookEvent, RemoveReason};
pub use book_snapshot::{L2Snapshot, L3Level, L3Order, L3Snapshot, PriceLevel};
pub use feed_builder::FeedBuilder;
pub use feed_error::{FeedError, FeedErrorReason};
pub use level_book::{LevelAction, LevelBook, LevelUpdate};
