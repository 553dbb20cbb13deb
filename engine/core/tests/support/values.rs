//! Field values for generated commands: specs, limits, prices and quantities, mostly
//! sensible and near each other so that orders meet, with a steady share just off the
//! rules and at the edges of each type.

use ringex_core::*;

use crate::rng::Rng;

/// A spec the core accepts: everyday, or near the core's maxima when `huge`.
pub fn valid_spec(rng: &mut Rng, instrument: InstrumentId, huge: bool) -> InstrumentSpec {
    if huge {
        let tick = rng.pick(&[1, 1 << 10, 1 << 40, PRICE_MAX / 4, PRICE_MAX]);
        let top = PRICE_MAX - PRICE_MAX % tick;
        InstrumentSpec {
            instrument,
            tick_size: tick,
            lot_size: rng.pick(&[1, 1 << 20, QTY_MAX / 4, QTY_MAX]),
            reference_price: (top - tick * rng.between(0, 3)).max(tick),
            price_band_bps: rng.between(0, i64::from(BPS_ONE)) as u32,
        }
    } else {
        let tick = rng.pick(&[1, 5, 25, 100]);
        InstrumentSpec {
            instrument,
            tick_size: tick,
            lot_size: rng.pick(&[1, 10, 100]),
            reference_price: tick * rng.between(20, 400),
            price_band_bps: rng.pick(&[0, 50, 500, 1000, 1000, 2000, BPS_ONE]),
        }
    }
}

/// Account limits: tight enough to reject often, at the maxima when `huge`, or roomy.
pub fn limits(rng: &mut Rng, tight: bool, huge: bool) -> AccountLimits {
    if tight {
        return AccountLimits {
            max_order_qty: rng.pick(&[0, 1, 10, 50, 100, 1000]),
            max_order_notional: rng.pick(&[0, 1_000, 50_000, 200_000, 5_000_000]),
            max_open_orders: rng.between(0, 4) as u32,
        };
    }
    if huge {
        return AccountLimits {
            max_order_qty: rng.pick(&[QTY_MAX, u64::MAX]),
            max_order_notional: rng.pick(&[u128::MAX, 1 << 89, 1 << 90]),
            max_open_orders: rng.pick(&[64, u32::MAX]),
        };
    }
    AccountLimits {
        max_order_qty: rng.pick(&[5_000, 100_000, u64::MAX]),
        max_order_notional: rng.pick(&[10_000_000, 1_000_000_000, u128::MAX]),
        max_open_orders: rng.pick(&[8, 32, u32::MAX]),
    }
}

/// A price for `spec`: mostly on tick within the band around `centre`, sometimes off
/// tick, far away or at the edges of the type. With a `side`, mostly on the passive
/// side of `centre`, so that books grow deep and the other orders sweep them.
pub fn price(rng: &mut Rng, spec: &InstrumentSpec, centre: Price, side: Option<Side>) -> Price {
    let tick = spec.tick_size;
    let band_ticks = match spec.price_band_bps {
        0 => 12,
        bps => i128::from(centre) * i128::from(bps) / i128::from(BPS_ONE) / i128::from(tick),
    };
    // Inside the band and a tick beyond it, never more than a dozen ticks away.
    let spread = (band_ticks + 1).clamp(2, 12) as i64;
    let ticks = match side {
        Some(Side::Buy) if rng.chance(700) => rng.between(-spread, 0),
        Some(Side::Sell) if rng.chance(700) => rng.between(0, spread),
        _ => rng.between(-spread, spread),
    };
    let near = centre.saturating_add(tick.saturating_mul(ticks));
    match rng.below(100) {
        0..=81 => near,
        82..=87 => near.saturating_add(1),
        88..=93 => centre.saturating_add(tick.saturating_mul(rng.between(-1000, 1000))),
        _ => rng.pick(&[
            0,
            -1,
            -tick,
            i64::MIN,
            i64::MAX,
            tick,
            PRICE_MAX,
            PRICE_MAX + 1,
            PRICE_MAX - PRICE_MAX % tick,
        ]),
    }
}

/// A quantity for `spec`: mostly a few lots, sometimes many (sweeps), sometimes off
/// lot or at the edges of the type.
pub fn qty(rng: &mut Rng, spec: &InstrumentSpec) -> Qty {
    let lot = spec.lot_size;
    match rng.below(100) {
        0..=79 => lot.saturating_mul(rng.between(1, 6) as u64),
        80..=89 => lot.saturating_mul(rng.between(7, 60) as u64),
        _ => rng.pick(&[
            0,
            lot.saturating_add(1),
            QTY_MAX,
            QTY_MAX + 1,
            QTY_MAX - QTY_MAX % lot,
            u64::MAX,
        ]),
    }
}
