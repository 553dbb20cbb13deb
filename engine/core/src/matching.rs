//! The matching loop: an aggressor walks the opposite ladder from the best level,
//! filling makers in time order, until it is done or the next price is beyond its limit.

use crate::engine::{Engine, Taker};
use crate::event::{Event, Trade};
use crate::order::NIL;
use crate::types::*;

impl Engine {
    /// Trades `taker` against the book up to `limit`, emitting one trade per fill and
    /// retiring makers that fill completely. `taker.leaves` is what remains.
    pub(crate) fn match_taker(&mut self, taker: &mut Taker, limit: Price, out: &mut Vec<Event>) {
        let inst = self.instruments[taker.instrument as usize]
            .as_mut()
            .expect("taker's instrument exists");
        let ladder = inst.book.side_mut(taker.side.opposite());
        let mut last_price = None;
        while taker.leaves > 0 {
            let Some(level) = ladder.best_mut() else {
                break;
            };
            if !taker.side.accepts(limit, level.price) {
                break;
            }
            let price = level.price;
            last_price = Some(price);
            while taker.leaves > 0 && level.head != NIL {
                let slot = level.head;
                let maker = self.pool.get_mut(slot);
                let qty = maker.leaves.min(taker.leaves);
                maker.leaves -= qty;
                maker.filled += qty;
                taker.leaves -= qty;
                level.total_qty -= qty;
                let match_id = self.next_match_id;
                self.next_match_id += 1;
                out.push(Event::Trade(Trade {
                    instrument: taker.instrument,
                    match_id,
                    price,
                    qty,
                    aggressor_side: taker.side,
                    maker_order_id: maker.order_id,
                    maker_account: maker.account,
                    maker_client_order_id: maker.client_order_id,
                    maker_leaves: maker.leaves,
                    taker_order_id: taker.order_id,
                    taker_account: taker.account,
                    taker_client_order_id: taker.client_order_id,
                    taker_leaves: taker.leaves,
                }));
                let (maker_account, maker_id, maker_done, next) = (
                    maker.account,
                    maker.client_order_id,
                    maker.leaves == 0,
                    maker.next,
                );
                // qty <= QTY_MAX, so the cast is exact.
                let signed = qty as i64;
                let (maker_delta, taker_delta) = match taker.side {
                    Side::Buy => (-signed, signed),
                    Side::Sell => (signed, -signed),
                };
                let accounts = &mut self.accounts;
                let maker_acct = accounts[maker_account as usize].as_mut().expect("exists");
                maker_acct.add_position(taker.instrument, maker_delta);
                if maker_done {
                    level.head = next;
                    if next == NIL {
                        level.tail = NIL;
                    } else {
                        self.pool.get_mut(next).prev = NIL;
                    }
                    level.count -= 1;
                    maker_acct.remove_order(&mut self.pool, slot);
                    self.ids.close(maker_account, maker_id);
                    self.pool.free(slot);
                }
                let taker_acct = accounts[taker.account as usize].as_mut().expect("exists");
                taker_acct.add_position(taker.instrument, taker_delta);
            }
            if level.count == 0 {
                ladder.pop_best();
            }
        }
        if let Some(price) = last_price {
            inst.set_last_trade_price(price);
        }
    }
}
