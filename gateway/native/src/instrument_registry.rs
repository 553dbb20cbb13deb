//! The instruments the engine listed and the accounts it opened, learnt from its
//! sequenced events only (so a gateway rebuilt from the same events holds the same
//! registry), and the InstrumentDefinition messages that describe them.

use std::collections::{BTreeMap, BTreeSet};

use ringex_core::{Event, InstrumentSpec};
use ringex_protocol::client::{ServerMessage, Stamp};
use ringex_protocol::command_codec::ALL_INSTRUMENTS;
use ringex_protocol::reference::{max_qty, DefinitionUpdate, InstrumentState, SYMBOL_LEN};

/// Most symbols the gateway's settings may name (one per instrument at most).
pub const SYMBOLS_MAX: usize = 65_536;

#[derive(Clone, Copy, Debug)]
struct Listing {
    spec: InstrumentSpec,
    halted: bool,
}

#[derive(Default)]
pub struct InstrumentRegistry {
    /// Ordered, so a list is always answered in instrument order.
    listings: BTreeMap<u32, Listing>,
    /// Accounts the engine opened: the streams every definition change goes to.
    accounts: BTreeSet<u32>,
    /// Symbols from the gateway's settings; an instrument without one has a blank symbol.
    symbols: BTreeMap<u32, [u8; SYMBOL_LEN]>,
}

impl InstrumentRegistry {
    /// Names an instrument; refused past [`SYMBOLS_MAX`] symbols.
    pub fn set_symbol(&mut self, instrument: u32, symbol: [u8; SYMBOL_LEN]) -> bool {
        if self.symbols.len() >= SYMBOLS_MAX && !self.symbols.contains_key(&instrument) {
            return false;
        }
        self.symbols.insert(instrument, symbol);
        true
    }

    /// Applies one engine event; returns the instrument whose definition it changed.
    pub fn event(&mut self, event: &Event) -> Option<(u32, DefinitionUpdate)> {
        match *event {
            Event::InstrumentAdded { spec } => {
                let listing = Listing {
                    spec,
                    halted: false,
                };
                self.listings.insert(spec.instrument, listing);
                Some((spec.instrument, DefinitionUpdate::Listed))
            }
            Event::HaltChanged { instrument, halted } => {
                let listing = self.listings.get_mut(&instrument)?;
                listing.halted = halted;
                let update = if halted {
                    DefinitionUpdate::Halted
                } else {
                    DefinitionUpdate::Resumed
                };
                Some((instrument, update))
            }
            Event::AccountAdded { account } => {
                self.accounts.insert(account);
                None
            }
            _ => None,
        }
    }

    /// Every account the engine opened, in order.
    pub fn accounts(&self) -> Vec<u32> {
        self.accounts.iter().copied().collect()
    }

    /// A listed instrument's terms and whether it is halted, as the engine last said.
    pub fn listing(&self, instrument: u32) -> Option<(InstrumentSpec, bool)> {
        self.listings.get(&instrument).map(|l| (l.spec, l.halted))
    }

    /// The definition of a listed instrument as it stands.
    pub fn definition(
        &self,
        instrument: u32,
        stamp: Stamp,
        update: DefinitionUpdate,
    ) -> Option<ServerMessage> {
        let l = self.listings.get(&instrument)?;
        let s = &l.spec;
        Some(ServerMessage::InstrumentDefinition {
            stamp,
            instrument,
            symbol: self
                .symbols
                .get(&instrument)
                .copied()
                .unwrap_or([b' '; SYMBOL_LEN]),
            tick_size: s.tick_size,
            lot_size: s.lot_size,
            min_qty: s.lot_size,
            max_qty: max_qty(s.lot_size),
            reference_price: s.reference_price,
            price_band_bps: s.price_band_bps,
            state: if l.halted {
                InstrumentState::Halted
            } else {
                InstrumentState::Trading
            },
            update,
        })
    }

    /// The answer to an InstrumentRequest: the definitions asked for (every instrument
    /// with `ALL_INSTRUMENTS`), unsequenced, then InstrumentsEnd.
    pub fn answer(&self, instrument: u32, timestamp_ns: u64) -> Vec<ServerMessage> {
        let stamp = Stamp {
            seq: 0,
            timestamp_ns,
        };
        let wanted: Vec<u32> = if instrument == ALL_INSTRUMENTS {
            self.listings.keys().copied().collect()
        } else {
            vec![instrument]
        };
        let mut out: Vec<ServerMessage> = wanted
            .into_iter()
            .filter_map(|i| self.definition(i, stamp, DefinitionUpdate::Current))
            .collect();
        let count = u32::try_from(out.len()).expect("instruments fit a u32");
        out.push(ServerMessage::InstrumentsEnd { instrument, count });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(instrument: u32) -> Event {
        let spec = InstrumentSpec {
            instrument,
            tick_size: 5,
            lot_size: 10,
            reference_price: 1_000,
            price_band_bps: 100,
        };
        Event::InstrumentAdded { spec }
    }

    #[test]
    fn definitions_follow_listing_and_halts_and_an_unknown_instrument_answers_none() {
        let mut r = InstrumentRegistry::default();
        assert_eq!(r.event(&listed(2)), Some((2, DefinitionUpdate::Listed)));
        assert_eq!(r.event(&listed(1)), Some((1, DefinitionUpdate::Listed)));
        let halt = Event::HaltChanged {
            instrument: 2,
            halted: true,
        };
        assert_eq!(r.event(&halt), Some((2, DefinitionUpdate::Halted)));
        let unknown = Event::HaltChanged {
            instrument: 9,
            halted: true,
        };
        assert_eq!(r.event(&unknown), None);
        let all = r.answer(ALL_INSTRUMENTS, 7);
        assert_eq!(all.len(), 3);
        let ServerMessage::InstrumentDefinition {
            instrument, state, ..
        } = all[1]
        else {
            panic!("a definition");
        };
        assert_eq!((instrument, state), (2, InstrumentState::Halted));
        // The same terms for FIX's SecurityList.
        assert_eq!(
            r.listing(2).map(|(s, h)| (s.instrument, h)),
            Some((2, true))
        );
        assert_eq!(
            r.listing(1).map(|(s, h)| (s.instrument, h)),
            Some((1, false))
        );
        assert!(r.listing(9).is_none());
        assert_eq!(
            r.answer(9, 7),
            vec![ServerMessage::InstrumentsEnd {
                instrument: 9,
                count: 0
            }]
        );
    }
}
