//! How the engine's own field types travel in engine inputs and events: an instrument's
//! rules (AddInstrument and InstrumentAdded carry the same columns), an account's
//! limits, a trade, and an instrument that may be every instrument.

use ringex_core::{AccountLimits, InstrumentSpec, Trade};

use crate::error::DecodeError;
use crate::field_codec::{named, own, Column, FieldCodec, Values, WireType};
use crate::wire::{Reader, Writer};

/// Mass cancel's instrument field value meaning "every instrument".
pub const ALL_INSTRUMENTS: u32 = u32::MAX;

impl FieldCodec<InstrumentSpec> for InstrumentSpec {
    const COLUMNS: &'static [Column] = &[
        named("instrument", WireType::U32, Values::Int),
        named("tick_size", WireType::I64, Values::Int),
        named("lot_size", WireType::U64, Values::Int),
        named("reference_price", WireType::I64, Values::Int),
        named("price_band_bps", WireType::U32, Values::Int),
    ];
    fn write(s: &InstrumentSpec, w: &mut Writer<'_>) {
        w.u32(s.instrument).i64(s.tick_size).u64(s.lot_size);
        w.i64(s.reference_price).u32(s.price_band_bps);
    }
    fn read(r: &mut Reader<'_>) -> Result<InstrumentSpec, DecodeError> {
        Ok(InstrumentSpec {
            instrument: r.u32()?,
            tick_size: r.i64()?,
            lot_size: r.u64()?,
            reference_price: r.i64()?,
            price_band_bps: r.u32()?,
        })
    }
}

impl FieldCodec<AccountLimits> for AccountLimits {
    const COLUMNS: &'static [Column] = &[
        named("max_order_qty", WireType::U64, Values::Int),
        named("max_order_notional", WireType::U128, Values::Int),
        named("max_open_orders", WireType::U32, Values::Int),
    ];
    fn write(l: &AccountLimits, w: &mut Writer<'_>) {
        w.u64(l.max_order_qty)
            .u128(l.max_order_notional)
            .u32(l.max_open_orders);
    }
    fn read(r: &mut Reader<'_>) -> Result<AccountLimits, DecodeError> {
        Ok(AccountLimits {
            max_order_qty: r.u64()?,
            max_order_notional: r.u128()?,
            max_open_orders: r.u32()?,
        })
    }
}

/// One instrument, or every instrument (`None`) as [`ALL_INSTRUMENTS`].
pub struct AnyInstrument;

impl FieldCodec<Option<u32>> for AnyInstrument {
    const COLUMNS: &'static [Column] = &[own(WireType::U32, Values::Int)];
    fn write(value: &Option<u32>, w: &mut Writer<'_>) {
        w.u32(value.unwrap_or(ALL_INSTRUMENTS));
    }
    fn read(r: &mut Reader<'_>) -> Result<Option<u32>, DecodeError> {
        let instrument = r.u32()?;
        Ok((instrument != ALL_INSTRUMENTS).then_some(instrument))
    }
}

impl FieldCodec<Trade> for Trade {
    const COLUMNS: &'static [Column] = &[
        named("match_id", WireType::U64, Values::Int),
        named("instrument", WireType::U32, Values::Int),
        named("aggressor_side", WireType::U8, Values::Enum("Side")),
        named("price", WireType::I64, Values::Int),
        named("qty", WireType::U64, Values::Int),
        named("maker_order_id", WireType::U64, Values::Int),
        named("maker_account", WireType::U32, Values::Int),
        named("maker_client_order_id", WireType::U64, Values::Int),
        named("maker_leaves", WireType::U64, Values::Int),
        named("taker_order_id", WireType::U64, Values::Int),
        named("taker_account", WireType::U32, Values::Int),
        named("taker_client_order_id", WireType::U64, Values::Int),
        named("taker_leaves", WireType::U64, Values::Int),
    ];
    fn write(t: &Trade, w: &mut Writer<'_>) {
        w.u64(t.match_id)
            .u32(t.instrument)
            .u8(t.aggressor_side as u8);
        w.i64(t.price).u64(t.qty);
        w.u64(t.maker_order_id).u32(t.maker_account);
        w.u64(t.maker_client_order_id).u64(t.maker_leaves);
        w.u64(t.taker_order_id).u32(t.taker_account);
        w.u64(t.taker_client_order_id).u64(t.taker_leaves);
    }
    fn read(r: &mut Reader<'_>) -> Result<Trade, DecodeError> {
        Ok(Trade {
            match_id: r.u64()?,
            instrument: r.u32()?,
            aggressor_side: r.enum_u8()?,
            price: r.i64()?,
            qty: r.u64()?,
            maker_order_id: r.u64()?,
            maker_account: r.u32()?,
            maker_client_order_id: r.u64()?,
            maker_leaves: r.u64()?,
            taker_order_id: r.u64()?,
            taker_account: r.u32()?,
            taker_client_order_id: r.u64()?,
            taker_leaves: r.u64()?,
        })
    }
}
