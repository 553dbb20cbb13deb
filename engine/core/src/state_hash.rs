//! A 64-bit digest of everything that can change what the engine does next: counters,
//! instruments, every level and order in queue order, accounts with their limits,
//! positions and order lists, and the day's used client order ids.
//! Two engines fed the same commands have equal hashes; one call compares them.

use crate::book_view::OrderView;
use crate::engine::Engine;
use crate::order::NIL;

/// A simple, fixed (unseeded) 64-bit mixer: equal inputs give equal digests on every
/// machine and run. Public so that other models of the state (a reference matcher, a
/// snapshot checker) can digest their own structures in the same canonical order.
pub struct StateHasher(u64);

impl Default for StateHasher {
    fn default() -> Self {
        StateHasher::new()
    }
}

impl StateHasher {
    pub fn new() -> StateHasher {
        StateHasher(0)
    }

    pub fn word(&mut self, w: u64) {
        let x = (self.0 ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29) ^ 0x632B_E59B_D9B4_E019;
    }

    pub fn signed(&mut self, w: i64) {
        self.word(w as u64);
    }

    /// The words of one resting order, in their canonical order.
    pub fn order(&mut self, o: &OrderView) {
        self.word(o.order_id);
        self.word(o.client_order_id);
        self.signed(o.price);
        self.word(o.leaves);
        self.word(o.filled);
        self.word(u64::from(o.account));
        self.word(u64::from(o.instrument));
        self.word(o.side as u64);
        self.word(o.time_in_force as u64);
        self.word(u64::from(o.post_only));
    }

    pub fn finish(self) -> u64 {
        let mut x = self.0;
        x = (x ^ (x >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        x = (x ^ (x >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        x ^ (x >> 33)
    }
}

impl Engine {
    /// Digest of the whole state that affects the future.
    pub fn state_hash(&self) -> u64 {
        let mut h = StateHasher::new();
        h.word(self.last_seq);
        h.word(self.last_timestamp_ns);
        h.word(self.next_order_id);
        h.word(self.next_match_id);
        h.word(self.ids.digest());
        h.word(self.ids.used_today() as u64);
        for (id, inst) in self.instruments.iter().enumerate() {
            let Some(inst) = inst else { continue };
            h.word(id as u64);
            h.signed(inst.spec.tick_size);
            h.word(inst.spec.lot_size);
            h.signed(inst.spec.reference_price);
            h.word(u64::from(inst.spec.price_band_bps));
            h.signed(inst.last_trade_price.unwrap_or(-1));
            h.word(u64::from(inst.halted));
            for ladder in [&inst.book.bids, &inst.book.asks] {
                h.word(ladder.levels().len() as u64);
                for level in ladder.levels() {
                    h.signed(level.price);
                    h.word(level.total_qty);
                    h.word(u64::from(level.count));
                    let mut slot = level.head;
                    while slot != NIL {
                        let o = self.pool.get(slot);
                        h.order(&OrderView::from(o));
                        slot = o.next;
                    }
                }
            }
        }
        for (id, account) in self.accounts.iter().enumerate() {
            let Some(account) = account else { continue };
            h.word(id as u64);
            h.word(account.limits.max_order_qty);
            h.word(account.limits.max_order_notional as u64);
            h.word((account.limits.max_order_notional >> 64) as u64);
            h.word(u64::from(account.limits.max_open_orders));
            h.word(u64::from(account.open_orders));
            for &(instrument, position) in account.positions() {
                h.word(u64::from(instrument));
                h.signed(position);
            }
            let mut slot = account.head;
            while slot != NIL {
                let o = self.pool.get(slot);
                h.word(o.order_id);
                slot = o.account_next;
            }
        }
        h.finish()
    }
}
