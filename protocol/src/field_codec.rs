//! How one declared message field travels: its wire columns (name, width, meaning) for
//! the specification and the generated codecs, and how its Rust value is written and
//! read. A field is usually one column; a stamp is several, always in the same order.
//!
//! A field's codec is its Rust type itself, or a marker type named in the declaration
//! (`reason: u8 as RejectCode`) where the same Rust type travels with other rules.

use ringex_core::market_data::{LevelAction, RemoveReason};
use ringex_core::{CancelReason, CommandKind, OrderType, RejectReason, Side, TimeInForce};

use crate::error::DecodeError;
use crate::feed::{decode_level_action, decode_remove_reason, FeedKind, FeedRejectReason};
use crate::reference::{DefinitionUpdate, InstrumentState};
use crate::session::{
    decode_text, GatewayRejectReason, Liquidity, LoginRejectReason, Role, SessionEndReason,
    CANCEL_REASON_EXPIRED, PASSWORD_LEN, USERNAME_LEN,
};
use crate::wire::{Reader, Writer};

/// The width and encoding of one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireType {
    U8,
    U16,
    U32,
    U64,
    I64,
    U128,
    /// One byte, 0 or 1.
    Bool,
    /// Printable ASCII right-padded with spaces to this many bytes.
    Text(usize),
}

impl WireType {
    pub const fn size(self) -> usize {
        match self {
            WireType::U8 | WireType::Bool => 1,
            WireType::U16 => 2,
            WireType::U32 => 4,
            WireType::U64 | WireType::I64 => 8,
            WireType::U128 => 16,
            WireType::Text(n) => n,
        }
    }
}

/// What a column's value means, beyond its width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// A number: ids, prices in ticks, quantities in lots, sequence numbers, nanoseconds.
    Int,
    Bool,
    Text,
    /// One of the named enumeration's codes (see SPEC.md "Enums" and the session codes).
    Enum(&'static str),
    /// Flag bits, each read as a boolean; any other bit set is `BadFlags`.
    Flags(&'static [(&'static str, u8)]),
}

/// One column of a field. `name` is `None` where the column is named by its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: Option<&'static str>,
    pub wire: WireType,
    pub values: Values,
}

pub(crate) const fn own(wire: WireType, values: Values) -> Column {
    Column {
        name: None,
        wire,
        values,
    }
}

pub(crate) const fn named(name: &'static str, wire: WireType, values: Values) -> Column {
    Column {
        name: Some(name),
        wire,
        values,
    }
}

/// Sum of the columns' widths, for the declared sizes (evaluated at compile time).
pub const fn columns_size(columns: &[Column]) -> usize {
    let mut size = 0;
    let mut i = 0;
    while i < columns.len() {
        size += columns[i].wire.size();
        i += 1;
    }
    size
}

/// Writes and reads one field of Rust type `T`.
pub trait FieldCodec<T> {
    const COLUMNS: &'static [Column];
    const SIZE: usize = columns_size(Self::COLUMNS);
    fn write(value: &T, w: &mut Writer<'_>);
    fn read(r: &mut Reader<'_>) -> Result<T, DecodeError>;
}

macro_rules! number_codec {
    ($($t:ident => $wire:ident),+) => {$(
        impl FieldCodec<$t> for $t {
            const COLUMNS: &'static [Column] = &[own(WireType::$wire, Values::Int)];
            fn write(value: &$t, w: &mut Writer<'_>) {
                w.$t(*value);
            }
            fn read(r: &mut Reader<'_>) -> Result<$t, DecodeError> {
                r.$t()
            }
        }
    )+};
}
number_codec!(u8 => U8, u16 => U16, u32 => U32, u64 => U64, i64 => I64, u128 => U128);

impl FieldCodec<bool> for bool {
    const COLUMNS: &'static [Column] = &[own(WireType::Bool, Values::Bool)];
    fn write(value: &bool, w: &mut Writer<'_>) {
        w.bool(*value);
    }
    fn read(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
        r.bool()
    }
}

/// Enums that travel as their one-byte code, checked on the way in.
macro_rules! enum_codec {
    ($($t:ty => $name:literal),+) => {$(
        impl FieldCodec<$t> for $t {
            const COLUMNS: &'static [Column] = &[own(WireType::U8, Values::Enum($name))];
            fn write(value: &$t, w: &mut Writer<'_>) {
                w.u8(*value as u8);
            }
            fn read(r: &mut Reader<'_>) -> Result<$t, DecodeError> {
                r.enum_u8()
            }
        }
    )+};
}
pub(crate) use enum_codec;
enum_codec!(
    Side => "Side",
    OrderType => "OrderType",
    TimeInForce => "TimeInForce",
    CommandKind => "CommandKind",
    RejectReason => "RejectReason",
    CancelReason => "CancelReason",
    Role => "Role",
    LoginRejectReason => "LoginRejectReason",
    SessionEndReason => "SessionEndReason",
    Liquidity => "Liquidity",
    FeedKind => "FeedKind",
    FeedRejectReason => "FeedRejectReason",
    InstrumentState => "InstrumentState",
    DefinitionUpdate => "DefinitionUpdate"
);

/// The core's market-data enums, whose codes are their discriminants.
macro_rules! core_enum_codec {
    ($($t:ty => $name:literal, $decode:path),+) => {$(
        impl FieldCodec<$t> for $t {
            const COLUMNS: &'static [Column] = &[own(WireType::U8, Values::Enum($name))];
            fn write(value: &$t, w: &mut Writer<'_>) {
                w.u8(*value as u8);
            }
            fn read(r: &mut Reader<'_>) -> Result<$t, DecodeError> {
                $decode(r.u8()?).ok_or(DecodeError::BadEnum)
            }
        }
    )+};
}
core_enum_codec!(
    RemoveReason => "RemoveReason", decode_remove_reason,
    LevelAction => "LevelAction", decode_level_action
);

/// Login's text fields: printable ASCII only, checked on the way in.
macro_rules! text_codec {
    ($($n:expr),+) => {$(
        impl FieldCodec<[u8; $n]> for [u8; $n] {
            const COLUMNS: &'static [Column] = &[own(WireType::Text($n), Values::Text)];
            fn write(value: &[u8; $n], w: &mut Writer<'_>) {
                w.bytes(value);
            }
            fn read(r: &mut Reader<'_>) -> Result<[u8; $n], DecodeError> {
                let bytes = r.bytes::<$n>()?;
                decode_text(&bytes)?;
                Ok(bytes)
            }
        }
    )+};
}
text_codec!(USERNAME_LEN, PASSWORD_LEN);

/// Order flag bit: post-only.
pub const FLAG_POST_ONLY: u8 = 0x01;

/// An order's `flags` byte, read as whether the order is post-only.
pub struct PostOnlyFlags;

impl FieldCodec<bool> for PostOnlyFlags {
    const COLUMNS: &'static [Column] = &[named(
        "flags",
        WireType::U8,
        Values::Flags(&[("post_only", FLAG_POST_ONLY)]),
    )];
    fn write(value: &bool, w: &mut Writer<'_>) {
        w.u8(if *value { FLAG_POST_ONLY } else { 0 });
    }
    fn read(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
        let flags = r.u8()?;
        if flags & !FLAG_POST_ONLY != 0 {
            return Err(DecodeError::BadFlags);
        }
        Ok(flags != 0)
    }
}

/// A reject reason as a raw code: the engine's (1–25) or the gateway's (100–103).
pub struct RejectCode;

/// Whether `reason` is a reject reason a Rejected or CancelRejected may carry.
pub fn valid_reject_reason(reason: u8) -> bool {
    RejectReason::try_from(reason).is_ok() || GatewayRejectReason::try_from(reason).is_ok()
}

impl FieldCodec<u8> for RejectCode {
    const COLUMNS: &'static [Column] = &[own(WireType::U8, Values::Enum("RejectReason"))];
    fn write(value: &u8, w: &mut Writer<'_>) {
        w.u8(*value);
    }
    fn read(r: &mut Reader<'_>) -> Result<u8, DecodeError> {
        checked(r.u8()?, valid_reject_reason)
    }
}

/// A cancel reason as a raw code: the engine's (1–5) or 6, expired at the day's end.
pub struct CancelCode;

/// Whether `reason` is a reason a Cancelled may carry.
pub fn valid_cancel_reason(reason: u8) -> bool {
    CancelReason::try_from(reason).is_ok() || reason == CANCEL_REASON_EXPIRED
}

impl FieldCodec<u8> for CancelCode {
    const COLUMNS: &'static [Column] = &[own(WireType::U8, Values::Enum("CancelReason"))];
    fn write(value: &u8, w: &mut Writer<'_>) {
        w.u8(*value);
    }
    fn read(r: &mut Reader<'_>) -> Result<u8, DecodeError> {
        checked(r.u8()?, valid_cancel_reason)
    }
}

/// An admin command's outcome: 0 done, else why it was refused (a reject reason).
pub struct AdminCode;

/// Whether `reason` is an outcome an AdminResult may carry.
pub fn valid_admin_outcome(reason: u8) -> bool {
    reason == 0 || valid_reject_reason(reason)
}

impl FieldCodec<u8> for AdminCode {
    const COLUMNS: &'static [Column] = &[own(WireType::U8, Values::Int)];
    fn write(value: &u8, w: &mut Writer<'_>) {
        w.u8(*value);
    }
    fn read(r: &mut Reader<'_>) -> Result<u8, DecodeError> {
        checked(r.u8()?, valid_admin_outcome)
    }
}

fn checked(value: u8, valid: fn(u8) -> bool) -> Result<u8, DecodeError> {
    if valid(value) {
        Ok(value)
    } else {
        Err(DecodeError::BadEnum)
    }
}

/// The feed a FeedRejected answers: a feed, or 0 for the top-of-book Subscribe.
pub struct RejectedFeed;

impl FieldCodec<Option<FeedKind>> for RejectedFeed {
    const COLUMNS: &'static [Column] = &[own(WireType::U8, Values::Enum("RejectedFeed"))];
    fn write(value: &Option<FeedKind>, w: &mut Writer<'_>) {
        w.u8(value.map_or(0, |f| f as u8));
    }
    fn read(r: &mut Reader<'_>) -> Result<Option<FeedKind>, DecodeError> {
        match r.u8()? {
            0 => Ok(None),
            f => FeedKind::try_from(f)
                .map(Some)
                .map_err(|_| DecodeError::BadEnum),
        }
    }
}

/// The engine's stamp on an order response: where it sits in the account's stream
/// (`seq`, 0 for an unsequenced gateway reject) and when the engine sequenced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub seq: u64,
    pub timestamp_ns: u64,
}

impl FieldCodec<Stamp> for Stamp {
    const COLUMNS: &'static [Column] = &[
        named("seq", WireType::U64, Values::Int),
        named("timestamp_ns", WireType::U64, Values::Int),
    ];
    fn write(value: &Stamp, w: &mut Writer<'_>) {
        w.u64(value.seq).u64(value.timestamp_ns);
    }
    fn read(r: &mut Reader<'_>) -> Result<Stamp, DecodeError> {
        Ok(Stamp {
            seq: r.u64()?,
            timestamp_ns: r.u64()?,
        })
    }
}

/// Where an L3 incremental sits in its instrument's feed, and when the engine
/// sequenced the command that caused it (Unix-epoch nanoseconds, the engine's clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedStamp {
    pub instrument: u32,
    pub feed_seq: u64,
    pub timestamp_ns: u64,
}

impl FieldCodec<FeedStamp> for FeedStamp {
    const COLUMNS: &'static [Column] = &[
        named("instrument", WireType::U32, Values::Int),
        named("feed_seq", WireType::U64, Values::Int),
        named("timestamp_ns", WireType::U64, Values::Int),
    ];
    fn write(value: &FeedStamp, w: &mut Writer<'_>) {
        w.u32(value.instrument)
            .u64(value.feed_seq)
            .u64(value.timestamp_ns);
    }
    fn read(r: &mut Reader<'_>) -> Result<FeedStamp, DecodeError> {
        Ok(FeedStamp {
            instrument: r.u32()?,
            feed_seq: r.u64()?,
            timestamp_ns: r.u64()?,
        })
    }
}
