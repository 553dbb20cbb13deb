//! ringex-protocol: the byte layouts ringex speaks, in one place.
//!
//! - [`client`]: client session messages, declared once ([`declare`], [`field_codec`]);
//! - [`command_codec`]: engine inputs, as journaled and as sent on the engine link;
//! - [`event_codec`]: engine events;
//! - [`engine_fields`]: how the engine's own field types travel in them;
//! - [`reference`]: instrument reference data codes;
//! - [`mold`]: the multicast packets of the L3 feed and their retransmission;
//! - [`link`]: frames between gateways and the engine daemon;
//! - [`frame`]: length-prefixed framing, checked whole before parsing;
//! - [`wire`]: bounds-checked little-endian fields.
//!
//! `protocol/SPEC.md` is the specification; `protocol/vectors/` holds test vectors that
//! every codec (Rust and Python) is checked against.

pub mod client;
pub mod command_codec;
pub mod declare;
pub mod engine_fields;
pub mod error;
pub mod event_codec;
pub mod feed;
pub mod field_codec;
pub mod frame;
pub mod link;
pub mod mold;
pub mod reference;
pub mod session;
pub mod wire;

pub use command_codec::Input;
pub use error::DecodeError;
