//! The state hash over the reference's structures, word for word in the core's
//! canonical order, using the core's public hasher and client-id digest term.

use ringex_core::*;

use super::Reference;

impl Reference {
    pub fn state_hash(&self) -> u64 {
        let mut h = StateHasher::new();
        h.word(self.last_seq);
        h.word(self.last_timestamp_ns);
        h.word(self.next_order_id);
        h.word(self.next_match_id);
        let digest = self.used_ids.iter().fold(0u64, |sum, &(account, id)| {
            sum.wrapping_add(client_id_digest_term(account, id))
        });
        h.word(digest);
        h.word(self.used_ids.len() as u64);
        for (&id, inst) in &self.instruments {
            h.word(u64::from(id));
            h.signed(inst.spec.tick_size);
            h.word(inst.spec.lot_size);
            h.signed(inst.spec.reference_price);
            h.word(u64::from(inst.spec.price_band_bps));
            h.signed(inst.last_trade_price.unwrap_or(-1));
            h.word(u64::from(inst.halted));
            let book = self.book_view(id).unwrap();
            // Each side from its worst level to its best.
            for side in [book.bids, book.asks] {
                h.word(side.len() as u64);
                for level in side.iter().rev() {
                    h.signed(level.price);
                    h.word(level.total_qty);
                    h.word(level.orders.len() as u64);
                    for order in &level.orders {
                        h.order(order);
                    }
                }
            }
        }
        for (&id, account) in &self.accounts {
            h.word(u64::from(id));
            h.word(account.limits.max_order_qty);
            h.word(account.limits.max_order_notional as u64);
            h.word((account.limits.max_order_notional >> 64) as u64);
            h.word(u64::from(account.limits.max_open_orders));
            let open = self.open_orders(id).unwrap();
            h.word(open.len() as u64);
            for (&instrument, &position) in &account.positions {
                h.word(u64::from(instrument));
                h.signed(position);
            }
            for order in &open {
                h.word(order.order_id);
            }
        }
        h.finish()
    }
}
