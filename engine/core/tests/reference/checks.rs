//! The per-order checks shared by new orders and replaces, each in the order the core
//! applies them.

use ringex_core::*;

use super::state::{Account, Instrument};

/// Quantity: positive, at most `QTY_MAX`, then a whole number of lots.
pub fn check_qty(inst: &Instrument, qty: Qty) -> Result<(), RejectReason> {
    if qty == 0 || qty > QTY_MAX {
        return Err(RejectReason::InvalidQuantity);
    }
    if !qty.is_multiple_of(inst.spec.lot_size) {
        return Err(RejectReason::QtyNotOnLot);
    }
    Ok(())
}

/// Price: positive, at most `PRICE_MAX`, then a whole number of ticks.
pub fn check_price(inst: &Instrument, price: Price) -> Result<(), RejectReason> {
    if !(1..=PRICE_MAX).contains(&price) {
        return Err(RejectReason::InvalidPrice);
    }
    if price % inst.spec.tick_size != 0 {
        return Err(RejectReason::PriceNotOnTick);
    }
    Ok(())
}

/// Size, then notional at `notional_price` (always positive here).
pub fn check_size_and_notional(
    account: &Account,
    notional_price: Price,
    qty: Qty,
) -> Result<(), RejectReason> {
    if qty > account.limits.max_order_qty {
        return Err(RejectReason::MaxOrderQty);
    }
    assert!(notional_price > 0);
    let notional = u128::try_from(notional_price).unwrap() * u128::from(qty);
    if notional > account.limits.max_order_notional {
        return Err(RejectReason::MaxOrderNotional);
    }
    Ok(())
}

/// The net position after the order fills completely stays within `POSITION_MAX`.
pub fn check_position(
    account: &Account,
    instrument: InstrumentId,
    side: Side,
    qty: Qty,
) -> Result<(), RejectReason> {
    let position = i128::from(account.position(instrument));
    let after = match side {
        Side::Buy => position + i128::from(qty),
        Side::Sell => position - i128::from(qty),
    };
    if after.abs() > i128::from(POSITION_MAX) {
        return Err(RejectReason::PositionLimit);
    }
    Ok(())
}

pub fn check_band(inst: &Instrument, price: Price) -> Result<(), RejectReason> {
    if inst.price_in_band(price) {
        Ok(())
    } else {
        Err(RejectReason::PriceBand)
    }
}

/// Whether a limit order on `side` at `price` would trade on entry.
pub fn would_trade(inst: &Instrument, side: Side, price: Price) -> bool {
    inst.best_price(side.opposite())
        .is_some_and(|best| price_acceptable(side, Some(price), best))
}

/// Whether an aggressor on `side` with `limit` (`None`: any price) may trade at `price`.
pub fn price_acceptable(side: Side, limit: Option<Price>, price: Price) -> bool {
    match (limit, side) {
        (None, _) => true,
        (Some(limit), Side::Buy) => price <= limit,
        (Some(limit), Side::Sell) => price >= limit,
    }
}

pub fn may_rest(tif: TimeInForce) -> bool {
    tif == TimeInForce::Gtc || tif == TimeInForce::Day
}
