//! An instrument: its trading rules, its book, and the price its band is centred on.

use crate::book::Book;
use crate::command::InstrumentSpec;
use crate::divisor::Divisor;
use crate::types::*;

pub struct Instrument {
    pub spec: InstrumentSpec,
    pub book: Book,
    /// Price of the last trade; the band is centred here once the instrument has traded.
    pub last_trade_price: Option<Price>,
    pub halted: bool,
    /// `[low, high]` of the price band, recomputed only when the reference moves.
    band: Option<(Price, Price)>,
    tick: Divisor,
    lot: Divisor,
}

impl Instrument {
    pub fn new(spec: InstrumentSpec, levels_per_side: usize) -> Instrument {
        let mut instrument = Instrument {
            spec,
            book: Book::new(levels_per_side),
            last_trade_price: None,
            halted: false,
            band: None,
            tick: Divisor::new(spec.tick_size.unsigned_abs()),
            lot: Divisor::new(spec.lot_size),
        };
        instrument.band = instrument.compute_band();
        instrument
    }

    /// Whether a positive price is a multiple of the tick size.
    #[inline]
    pub fn on_tick(&self, price: Price) -> bool {
        self.tick.divides(price.unsigned_abs())
    }

    /// Whether a quantity is a multiple of the lot size.
    #[inline]
    pub fn on_lot(&self, qty: Qty) -> bool {
        self.lot.divides(qty)
    }

    /// Records a trade price; moves the band when the reference changes.
    pub fn set_last_trade_price(&mut self, price: Price) {
        if self.last_trade_price != Some(price) {
            self.last_trade_price = Some(price);
            self.band = self.compute_band();
        }
    }

    /// Whether a spec is internally consistent.
    pub fn spec_is_valid(spec: &InstrumentSpec) -> bool {
        spec.tick_size > 0
            && spec.tick_size <= PRICE_MAX
            && spec.lot_size > 0
            && spec.lot_size <= QTY_MAX
            && spec.reference_price > 0
            && spec.reference_price <= PRICE_MAX
            && spec.reference_price % spec.tick_size == 0
            && spec.price_band_bps <= BPS_ONE
    }

    pub fn reference_price(&self) -> Price {
        self.last_trade_price.unwrap_or(self.spec.reference_price)
    }

    /// The band `[low, high]` around the reference price, rounded inwards to ticks;
    /// `None` when the band is disabled.
    pub fn band(&self) -> Option<(Price, Price)> {
        self.band
    }

    fn compute_band(&self) -> Option<(Price, Price)> {
        if self.spec.price_band_bps == 0 {
            return None;
        }
        let reference = i128::from(self.reference_price());
        let width = reference * i128::from(self.spec.price_band_bps) / i128::from(BPS_ONE);
        let tick = i128::from(self.spec.tick_size);
        let low = ((reference - width) + tick - 1).div_euclid(tick) * tick;
        let high = (reference + width).div_euclid(tick) * tick;
        let low = low.max(tick);
        // Both ends fit: reference and width are at most PRICE_MAX.
        Some((low as Price, high as Price))
    }

    pub fn price_in_band(&self, price: Price) -> bool {
        match self.band() {
            None => true,
            Some((low, high)) => price >= low && price <= high,
        }
    }
}
