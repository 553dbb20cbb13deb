//! One instrument's order book: two ladders of price levels, each level a FIFO queue
//! threaded through the order slab.
//!
//! A ladder is an array sorted so that the best level is the *last* element: best price
//! is O(1), removing an exhausted best level is a `pop`, and new levels, which mostly
//! appear near the touch, move only the few elements behind them. The array keeps spare
//! room at its front too (`SlackVec`), so levels far from the touch are as cheap to add
//! and drop. Both sides share one code path by sorting on a key: the price for bids, the
//! negated price for asks.

mod slack_vec;

use crate::order::{OrderPool, NIL};
use crate::types::*;
use slack_vec::SlackVec;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Level {
    pub price: Price,
    pub total_qty: Qty,
    pub count: u32,
    pub head: u32,
    pub tail: u32,
}

pub struct Ladder {
    /// All ones for asks, zero for bids: see `key`.
    key_mask: Price,
    levels: SlackVec<Level>,
}

impl Ladder {
    fn new(side: Side, levels_capacity: usize) -> Ladder {
        Ladder {
            key_mask: match side {
                Side::Buy => 0,
                Side::Sell => !0,
            },
            levels: SlackVec::with_capacity(levels_capacity),
        }
    }

    /// The sort key: rises towards the best price. For asks it is `!price`, which is
    /// `-price - 1`: the same order as negating, in one instruction without a branch
    /// inside the binary search.
    #[inline]
    fn key(&self, price: Price) -> Price {
        price ^ self.key_mask
    }

    /// Levels from worst to best.
    pub fn levels(&self) -> &[Level] {
        self.levels.as_slice()
    }

    #[inline]
    pub fn best(&self) -> Option<&Level> {
        self.levels.as_slice().last()
    }

    #[inline]
    pub fn best_mut(&mut self) -> Option<&mut Level> {
        self.levels.as_mut_slice().last_mut()
    }

    pub fn pop_best(&mut self) {
        let level = self.levels.pop();
        assert!(matches!(level, Some(l) if l.count == 0 && l.total_qty == 0));
    }

    /// Index of the level at `price`, or where it would be inserted.
    #[inline]
    fn find(&self, price: Price) -> Result<usize, usize> {
        let key = self.key(price);
        // Most activity is near the touch, at the end: a binary search over a few
        // hundred levels costs a handful of comparisons on hot cache lines.
        self.levels
            .as_slice()
            .binary_search_by(|l| self.key(l.price).cmp(&key))
    }

    /// `find`, starting from the level at `hint`, which is known to be near `price`: an
    /// order's price moves a short way, so galloping out from its old level touches a
    /// few levels where a binary search of the whole ladder would touch log2(len).
    fn find_near(&self, price: Price, hint: usize) -> Result<usize, usize> {
        let levels = self.levels.as_slice();
        let key = self.key(price);
        let hint_key = self.key(levels[hint].price);
        // Bracket the answer in levels[lo..hi] by doubling steps, then search there.
        let (lo, hi) = if key > hint_key {
            let (mut lo, mut step) = (hint + 1, 1);
            loop {
                let probe = hint + step;
                if probe >= levels.len() {
                    break (lo, levels.len());
                }
                if self.key(levels[probe].price) >= key {
                    break (lo, probe + 1);
                }
                lo = probe + 1;
                step *= 2;
            }
        } else if key < hint_key {
            let (mut hi, mut step) = (hint, 1);
            loop {
                if step > hint {
                    break (0, hi);
                }
                let probe = hint - step;
                if self.key(levels[probe].price) <= key {
                    break (probe, hi);
                }
                hi = probe;
                step *= 2;
            }
        } else {
            return Ok(hint);
        };
        levels[lo..hi]
            .binary_search_by(|l| self.key(l.price).cmp(&key))
            .map(|i| lo + i)
            .map_err(|i| lo + i)
    }

    /// Appends `slot` to the back of the queue at its price, creating the level.
    pub fn push_back(&mut self, pool: &mut OrderPool, slot: u32) {
        let found = self.find(pool.get(slot).price);
        self.push_back_at(pool, slot, found);
    }

    /// `push_back` with the level's place already found.
    fn push_back_at(&mut self, pool: &mut OrderPool, slot: u32, found: Result<usize, usize>) {
        let (price, qty) = {
            let o = pool.get(slot);
            (o.price, o.leaves)
        };
        let idx = match found {
            Ok(i) => i,
            Err(i) => {
                let level = Level {
                    price,
                    total_qty: 0,
                    count: 0,
                    head: NIL,
                    tail: NIL,
                };
                self.levels.insert(i, level);
                i
            }
        };
        let level = &mut self.levels.as_mut_slice()[idx];
        let tail = level.tail;
        {
            let o = pool.get_mut(slot);
            o.prev = tail;
            o.next = NIL;
        }
        if tail == NIL {
            level.head = slot;
        } else {
            pool.get_mut(tail).next = slot;
        }
        level.tail = slot;
        level.count += 1;
        level.total_qty += qty;
    }

    /// Takes `slot` out of its level's queue, dropping the level if it empties.
    pub fn unlink(&mut self, pool: &mut OrderPool, slot: u32) {
        let idx = self
            .find(pool.get(slot).price)
            .expect("resting order has a level");
        self.unlink_at(pool, slot, idx);
    }

    /// `unlink` with the index of the order's level already found.
    fn unlink_at(&mut self, pool: &mut OrderPool, slot: u32, idx: usize) {
        let (leaves, prev, next) = {
            let o = pool.get(slot);
            (o.leaves, o.prev, o.next)
        };
        let level = &mut self.levels.as_mut_slice()[idx];
        if prev == NIL {
            assert_eq!(level.head, slot);
            level.head = next;
        } else {
            pool.get_mut(prev).next = next;
        }
        if next == NIL {
            assert_eq!(level.tail, slot);
            level.tail = prev;
        } else {
            pool.get_mut(next).prev = prev;
        }
        assert!(level.count > 0 && level.total_qty >= leaves);
        level.count -= 1;
        level.total_qty -= leaves;
        if level.count == 0 {
            assert_eq!(level.total_qty, 0);
            self.levels.remove(idx);
        }
    }

    /// Moves a resting order to the back of the queue at `price` with open quantity
    /// `leaves`: the same as `unlink`, updating the order, then `push_back`.
    ///
    /// Faster in the common case of a repriced order that was alone at its level and
    /// goes to a price with no level: the level itself moves, shifting only the levels
    /// between its old and new place instead of everything behind both places.
    pub fn requeue(&mut self, pool: &mut OrderPool, slot: u32, price: Price, leaves: Qty) {
        let old_price = pool.get(slot).price;
        let old_idx = self.find(old_price).expect("resting order has a level");
        let target = self.find_near(price, old_idx);
        let alone = self.levels.as_slice()[old_idx].count == 1;
        let o = pool.get_mut(slot);
        match target {
            Err(insert_at) if alone => {
                o.price = price;
                o.leaves = leaves;
                let levels = self.levels.as_mut_slice();
                let level = &mut levels[old_idx];
                level.price = price;
                level.total_qty = leaves;
                // `insert_at` counts the old level when it lies before the new place.
                if insert_at > old_idx {
                    levels[old_idx..insert_at].rotate_left(1);
                } else {
                    levels[insert_at..=old_idx].rotate_right(1);
                }
            }
            _ if price == old_price => {
                // Same level, back of its queue (a larger quantity loses priority).
                self.unlink_at(pool, slot, old_idx);
                pool.get_mut(slot).leaves = leaves;
                self.push_back(pool, slot);
            }
            _ => {
                self.unlink_at(pool, slot, old_idx);
                let o = pool.get_mut(slot);
                o.price = price;
                o.leaves = leaves;
                // Unlinking the last order dropped the old level: places after it moved
                // down by one.
                let shift = |i: usize| if alone && i > old_idx { i - 1 } else { i };
                self.push_back_at(pool, slot, target.map(shift).map_err(shift));
            }
        }
    }

    /// Lowers the open quantity of a resting order in place, keeping its priority.
    pub fn reduce(&mut self, pool: &mut OrderPool, slot: u32, new_leaves: Qty) {
        let o = pool.get_mut(slot);
        assert!(new_leaves > 0 && new_leaves <= o.leaves);
        let delta = o.leaves - new_leaves;
        o.leaves = new_leaves;
        let price = o.price;
        let idx = self.find(price).expect("resting order has a level");
        self.levels.as_mut_slice()[idx].total_qty -= delta;
    }

    /// Total quantity available to an aggressor with `limit`, stopping once `wanted` is
    /// reached. Used by fill-or-kill before it touches the book.
    pub fn available(&self, aggressor: Side, limit: Price, wanted: Qty) -> Qty {
        let mut sum: Qty = 0;
        for level in self.levels.as_slice().iter().rev() {
            if sum >= wanted || !aggressor.accepts(limit, level.price) {
                break;
            }
            sum += level.total_qty;
        }
        sum
    }
}

pub struct Book {
    pub bids: Ladder,
    pub asks: Ladder,
}

impl Book {
    pub fn new(levels_capacity: usize) -> Book {
        Book {
            bids: Ladder::new(Side::Buy, levels_capacity),
            asks: Ladder::new(Side::Sell, levels_capacity),
        }
    }

    #[inline]
    pub fn side(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    #[inline]
    pub fn side_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// The book is never crossed between commands.
    pub fn is_uncrossed(&self) -> bool {
        match (self.bids.best(), self.asks.best()) {
            (Some(b), Some(a)) => b.price < a.price,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::Order;

    fn order(side: Side, price: Price, leaves: Qty) -> Order {
        Order {
            order_id: 0,
            client_order_id: 0,
            price,
            leaves,
            filled: 0,
            account: 0,
            instrument: 0,
            prev: NIL,
            next: NIL,
            account_prev: NIL,
            account_next: NIL,
            side,
            time_in_force: TimeInForce::Gtc,
            post_only: false,
        }
    }

    /// A level with `(slot, price, leaves)` of each order in its queue.
    type LevelShape = (Level, Vec<(u32, Price, Qty)>);

    /// Every level of a ladder with its queue, worst level first.
    fn shape(ladder: &Ladder, pool: &OrderPool) -> Vec<LevelShape> {
        ladder
            .levels()
            .iter()
            .map(|level| {
                let mut queue = Vec::new();
                let mut slot = level.head;
                while slot != NIL {
                    let o = pool.get(slot);
                    queue.push((slot, o.price, o.leaves));
                    slot = o.next;
                }
                (*level, queue)
            })
            .collect()
    }

    #[test]
    fn find_near_agrees_with_find_from_any_hint() {
        for side in [Side::Buy, Side::Sell] {
            let (mut ladder, mut pool) = (Ladder::new(side, 4), OrderPool::with_capacity(64));
            for i in 0..30 {
                let slot = pool.alloc(order(side, 100 + 3 * i, 1)).unwrap();
                ladder.push_back(&mut pool, slot);
            }
            for hint in 0..30 {
                for price in 90..200 {
                    assert_eq!(ladder.find_near(price, hint), ladder.find(price));
                }
            }
        }
    }

    #[test]
    fn requeue_equals_unlink_then_push_back() {
        for side in [Side::Buy, Side::Sell] {
            let mut fast = (Ladder::new(side, 4), OrderPool::with_capacity(64));
            let mut slow = (Ladder::new(side, 4), OrderPool::with_capacity(64));
            for (ladder, pool) in [&mut fast, &mut slow] {
                for i in 0..40u32 {
                    let price = 100 + Price::from(i * 7 % 23);
                    let slot = pool
                        .alloc(order(side, price, 1 + u64::from(i % 5)))
                        .unwrap();
                    ladder.push_back(pool, slot);
                }
            }
            // A fixed walk of reprices: to empty and occupied prices, up and down.
            for step in 0..400u32 {
                let slot = step * 13 % 40;
                let price = 95 + Price::from(step * 11 % 37);
                let leaves = 1 + u64::from(step % 9);
                fast.0.requeue(&mut fast.1, slot, price, leaves);
                slow.0.unlink(&mut slow.1, slot);
                let o = slow.1.get_mut(slot);
                o.price = price;
                o.leaves = leaves;
                slow.0.push_back(&mut slow.1, slot);
                assert_eq!(shape(&fast.0, &fast.1), shape(&slow.0, &slow.1), "{step}");
            }
        }
    }
}
