//! The reference's structures: instruments with their resting orders, and accounts.

use std::collections::BTreeMap;

use ringex_core::*;

pub struct RestingOrder {
    pub view: OrderView,
    /// When it joined the back of its price level; lower trades first.
    pub queued_at: u64,
}

pub struct Instrument {
    pub spec: InstrumentSpec,
    pub last_trade_price: Option<Price>,
    pub halted: bool,
    /// Resting orders of both sides, in no particular order.
    pub orders: Vec<RestingOrder>,
}

pub struct Account {
    pub limits: AccountLimits,
    /// Net position per instrument. An entry appears with the account's first trade in
    /// the instrument and stays, even when it nets back to zero.
    pub positions: BTreeMap<InstrumentId, i64>,
}

impl Account {
    pub fn position(&self, instrument: InstrumentId) -> i64 {
        self.positions.get(&instrument).copied().unwrap_or(0)
    }
}

impl Instrument {
    pub fn new(spec: InstrumentSpec) -> Instrument {
        Instrument {
            spec,
            last_trade_price: None,
            halted: false,
            orders: Vec::new(),
        }
    }

    /// The band's centre: the last trade price, or the spec's until the first trade.
    pub fn reference_price(&self) -> Price {
        self.last_trade_price.unwrap_or(self.spec.reference_price)
    }

    /// `[low, high]`: the reference plus and minus `reference * bps / 10000` (truncated),
    /// each end moved inwards onto a whole tick, the low end at least one tick.
    pub fn band(&self) -> Option<(Price, Price)> {
        if self.spec.price_band_bps == 0 {
            return None;
        }
        let reference = i128::from(self.reference_price());
        let width = reference * i128::from(self.spec.price_band_bps) / 10_000;
        let tick = i128::from(self.spec.tick_size);
        let mut low = reference - width;
        if low % tick != 0 {
            low += tick - low.rem_euclid(tick);
        }
        let high = reference + width;
        let high = high - high.rem_euclid(tick);
        let low = low.max(tick);
        Some((low.try_into().unwrap(), high.try_into().unwrap()))
    }

    pub fn price_in_band(&self, price: Price) -> bool {
        self.band()
            .is_none_or(|(low, high)| low <= price && price <= high)
    }

    /// The index of the order that trades first on `side`: best price, then earliest.
    pub fn first_in_line(&self, side: Side) -> Option<usize> {
        let rank = |o: &RestingOrder| {
            let price = i128::from(o.view.price);
            let better_first = if side == Side::Buy { -price } else { price };
            (better_first, o.queued_at)
        };
        self.orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.view.side == side)
            .min_by_key(|(_, o)| rank(o))
            .map(|(index, _)| index)
    }

    pub fn best_price(&self, side: Side) -> Option<Price> {
        self.first_in_line(side).map(|i| self.orders[i].view.price)
    }
}
