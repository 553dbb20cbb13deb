//! A full consistency check of the state, for tests and for the daemon after recovery.
//! O(state): never on the matching path.

use crate::client_ids::Lookup;
use crate::engine::Engine;
use crate::order::NIL;
use crate::types::*;

impl Engine {
    /// Checks every structural invariant; returns the first violation found.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut in_books = 0u64;
        // Summed wide: partial sums over many accounts may pass i64 even though they net to 0.
        let mut net: Vec<i128> = vec![0; self.instruments.len()];
        for (id, inst) in self.instruments.iter().enumerate() {
            let Some(inst) = inst else { continue };
            if !inst.book.is_uncrossed() {
                return Err(format!("instrument {id}: book is crossed"));
            }
            for (side, ladder) in [(Side::Buy, &inst.book.bids), (Side::Sell, &inst.book.asks)] {
                let levels = ladder.levels();
                for pair in levels.windows(2) {
                    let improving = match side {
                        Side::Buy => pair[0].price < pair[1].price,
                        Side::Sell => pair[0].price > pair[1].price,
                    };
                    if !improving {
                        return Err(format!("instrument {id}: {side:?} levels out of order"));
                    }
                }
                for level in levels {
                    let (mut count, mut qty, mut prev, mut slot) = (0u32, 0u64, NIL, level.head);
                    while slot != NIL {
                        let o = self.pool.get(slot);
                        if o.prev != prev || o.price != level.price || o.side != side {
                            return Err(format!(
                                "instrument {id}: broken queue at {}",
                                level.price
                            ));
                        }
                        if o.instrument as usize != id || o.leaves == 0 {
                            return Err(format!("order {}: misplaced or empty", o.order_id));
                        }
                        if !matches!(self.ids.lookup(o.account, o.client_order_id), Lookup::Open(s) if s == slot)
                        {
                            return Err(format!("order {}: client id not open", o.order_id));
                        }
                        count += 1;
                        qty += o.leaves;
                        prev = slot;
                        slot = o.next;
                    }
                    if count == 0
                        || count != level.count
                        || qty != level.total_qty
                        || prev != level.tail
                    {
                        return Err(format!(
                            "instrument {id}: level {} totals wrong",
                            level.price
                        ));
                    }
                    in_books += u64::from(count);
                }
            }
        }
        let mut in_accounts = 0u64;
        for (id, account) in self.accounts.iter().enumerate() {
            let Some(account) = account else { continue };
            let (mut count, mut prev, mut slot) = (0u32, NIL, account.head);
            while slot != NIL {
                let o = self.pool.get(slot);
                if o.account as usize != id || o.account_prev != prev {
                    return Err(format!("account {id}: broken order list"));
                }
                count += 1;
                prev = slot;
                slot = o.account_next;
            }
            if count != account.open_orders || prev != account.tail {
                return Err(format!("account {id}: open order count wrong"));
            }
            in_accounts += u64::from(count);
            for &(instrument, position) in account.positions() {
                net[instrument as usize] += i128::from(position);
            }
        }
        let live = u64::from(self.pool.live());
        if in_books != live || in_accounts != live {
            return Err(format!(
                "{live} live orders, {in_books} in books, {in_accounts} in accounts"
            ));
        }
        if let Some(i) = net.iter().position(|&n| n != 0) {
            return Err(format!("instrument {i}: positions do not net to zero"));
        }
        Ok(())
    }
}
