//! Commands whose every field is drawn from its whole range (biased to the edges), for
//! checking that no input can make the core panic.

use ringex_core::*;

use crate::rng::Rng;

pub fn arbitrary_side(rng: &mut Rng) -> Side {
    rng.pick(&[Side::Buy, Side::Sell])
}

fn arbitrary_time_in_force(rng: &mut Rng) -> TimeInForce {
    rng.pick(&[
        TimeInForce::Gtc,
        TimeInForce::Ioc,
        TimeInForce::Fok,
        TimeInForce::Day,
    ])
}

pub fn arbitrary_limits(rng: &mut Rng) -> AccountLimits {
    AccountLimits {
        max_order_qty: rng.edgy_u64(),
        max_order_notional: rng.edgy_u128(),
        max_open_orders: rng.edgy_u32(),
    }
}

/// A spec for `instrument` whose fields are anything, so mostly invalid.
pub fn arbitrary_spec(rng: &mut Rng, instrument: InstrumentId) -> InstrumentSpec {
    InstrumentSpec {
        instrument,
        tick_size: rng.edgy_i64(),
        lot_size: rng.edgy_u64(),
        reference_price: rng.edgy_i64(),
        price_band_bps: rng.edgy_u32(),
    }
}

pub fn arbitrary_command(rng: &mut Rng) -> Command {
    // Weighted towards the commands that reach the book.
    match rng.below(13) {
        0..=4 => Command::NewOrder(NewOrder {
            account: rng.edgy_u32(),
            instrument: rng.edgy_u32(),
            client_order_id: rng.edgy_u64(),
            side: arbitrary_side(rng),
            order_type: rng.pick(&[OrderType::Limit, OrderType::Market]),
            time_in_force: arbitrary_time_in_force(rng),
            post_only: rng.flip(),
            price: rng.edgy_i64(),
            qty: rng.edgy_u64(),
        }),
        5 => Command::Cancel(Cancel {
            account: rng.edgy_u32(),
            client_order_id: rng.edgy_u64(),
        }),
        6 | 7 => Command::Replace(Replace {
            account: rng.edgy_u32(),
            orig_client_order_id: rng.edgy_u64(),
            client_order_id: rng.edgy_u64(),
            price: rng.edgy_i64(),
            qty: rng.edgy_u64(),
        }),
        8 => Command::MassCancel(MassCancel {
            account: rng.edgy_u32(),
            instrument: rng.flip().then(|| rng.edgy_u32()),
        }),
        9 => Command::EndOfDay,
        10 => {
            let instrument = rng.edgy_u32();
            Command::AddInstrument(arbitrary_spec(rng, instrument))
        }
        11 => Command::AddAccount(AccountSpec {
            account: rng.edgy_u32(),
            limits: arbitrary_limits(rng),
        }),
        _ => Command::SetHalted {
            instrument: rng.edgy_u32(),
            halted: rng.flip(),
        },
    }
}
