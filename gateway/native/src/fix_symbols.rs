//! Instruments as FIX names them: a Symbol (55) per engine instrument, and the number of
//! decimals its FIX prices have, so a price converts exactly to the engine's units.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

/// One instrument as FIX names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixSymbol {
    pub name: String,
    pub instrument: u32,
    pub decimals: u32,
}

/// The configured symbols, by name and by instrument id.
pub struct FixSymbols {
    by_name: FxHashMap<String, FixSymbol>,
    by_instrument: FxHashMap<u32, FixSymbol>,
}

impl FixSymbols {
    /// The table of `symbols`; `None` if a name or an instrument appears twice.
    pub fn new(symbols: Vec<FixSymbol>) -> Option<FixSymbols> {
        let count = symbols.len();
        let by_name: FxHashMap<_, _> = symbols
            .iter()
            .map(|s| (s.name.clone(), s.clone()))
            .collect();
        let by_instrument: FxHashMap<_, _> =
            symbols.into_iter().map(|s| (s.instrument, s)).collect();
        (by_name.len() == count && by_instrument.len() == count).then_some(FixSymbols {
            by_name,
            by_instrument,
        })
    }

    /// The instrument FIX calls `name`.
    pub fn by_name(&self, name: &str) -> Option<&FixSymbol> {
        self.by_name.get(name)
    }

    /// The symbol of `instrument`; one not configured is named by its number, with
    /// whole-unit prices.
    pub fn by_instrument(&self, instrument: u32) -> Cow<'_, FixSymbol> {
        match self.by_instrument.get(&instrument) {
            Some(symbol) => Cow::Borrowed(symbol),
            None => Cow::Owned(FixSymbol {
                name: instrument.to_string(),
                instrument,
                decimals: 0,
            }),
        }
    }
}
