//! Which sessions take each instrument's TopOfBook and TradeReport messages.

use rustc_hash::FxHashMap as HashMap;

#[derive(Default)]
pub struct TopOfBookSubscribers {
    by_instrument: HashMap<u32, Vec<u64>>,
}

impl TopOfBookSubscribers {
    /// Subscribes (`on`) or unsubscribes a session; a session is listed at most once.
    pub fn set(&mut self, sid: u64, instrument: u32, on: bool) {
        let list = self.by_instrument.entry(instrument).or_default();
        list.retain(|&s| s != sid);
        if on {
            list.push(sid);
        }
    }

    /// The subscribers of an instrument.
    pub fn of(&self, instrument: u32) -> &[u64] {
        self.by_instrument.get(&instrument).map_or(&[], |l| &l[..])
    }

    /// Unsubscribes a session from everything (it ended).
    pub fn forget(&mut self, sid: u64) {
        for list in self.by_instrument.values_mut() {
            list.retain(|&s| s != sid);
        }
    }
}
