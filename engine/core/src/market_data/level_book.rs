//! The level book: price levels (L2) of every instrument, kept from the book events
//! alone, reporting each change to the best `depth` levels of a side.
//!
//! A client that holds the top `depth` levels and applies the updates in order holds
//! exactly the top `depth` of the exchange's book: when a level leaves the top (emptied,
//! or pushed down by a better one) the update deleting it is followed by the one adding
//! the level that takes its place, if there is one, so the client never needs to know
//! the levels below.

use super::book_event::{BookChange, BookEvent};
use super::book_snapshot::{L2Snapshot, PriceLevel};
use super::feed_error::{FeedError, FeedErrorReason};
use crate::config::EngineConfig;
use crate::types::*;

/// What happened to a level in the top `depth` of its side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LevelAction {
    /// A level entered the top: new, or one below moved up.
    Add = 1,
    /// A level in the top changed its quantity or order count.
    Change = 2,
    /// A level left the top: emptied, or pushed below it. Its qty and count read 0.
    Delete = 3,
}

/// One change to the top `depth` levels of one side of one book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LevelUpdate {
    pub instrument: InstrumentId,
    /// The instrument's own sequence of level updates: 1, 2, 3, …
    pub level_seq: u64,
    /// The book event that caused it (one event may cause two updates, many none).
    pub feed_seq: u64,
    pub engine_seq: Seq,
    pub timestamp_ns: TimestampNs,
    pub side: Side,
    pub action: LevelAction,
    pub price: Price,
    pub qty: Qty,
    pub order_count: u32,
}

#[derive(Default)]
struct InstrumentLevels {
    /// Each side sorted worst to best: the best is the last element, so changes near
    /// the touch move few elements.
    bids: Vec<PriceLevel>,
    asks: Vec<PriceLevel>,
    feed_seq: u64,
    level_seq: u64,
}

impl InstrumentLevels {
    fn side(&mut self, side: Side) -> SideLevels<'_> {
        let levels = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        SideLevels { side, levels }
    }
}

/// Where the level updates of the event being applied go.
struct Sink<'a> {
    event: &'a BookEvent,
    level_seq: u64,
    depth: usize,
    out: &'a mut Vec<LevelUpdate>,
}

impl Sink<'_> {
    fn push(&mut self, side: Side, action: LevelAction, level: PriceLevel) {
        self.level_seq += 1;
        let (qty, order_count) = match action {
            LevelAction::Delete => (0, 0),
            _ => (level.qty, level.order_count),
        };
        self.out.push(LevelUpdate {
            instrument: self.event.instrument,
            level_seq: self.level_seq,
            feed_seq: self.event.feed_seq,
            engine_seq: self.event.engine_seq,
            timestamp_ns: self.event.timestamp_ns,
            side,
            action,
            price: level.price,
            qty,
            order_count,
        });
    }
}

/// The L2 books of every instrument, reporting the top `depth` levels per side.
pub struct LevelBook {
    depth: usize,
    instruments: Vec<Option<InstrumentLevels>>,
}

impl LevelBook {
    /// Level books for the instruments an engine with this configuration may list,
    /// reporting changes to the best `depth` (at least 1) levels of each side.
    pub fn new(depth: usize, config: &EngineConfig) -> Result<LevelBook, &'static str> {
        config.validate()?;
        if depth == 0 {
            return Err("depth must be at least 1");
        }
        let mut instruments = Vec::with_capacity(config.max_instruments as usize);
        instruments.resize_with(config.max_instruments as usize, || None);
        Ok(LevelBook { depth, instruments })
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Applies one book event, appending the level updates it causes to `out`.
    ///
    /// Events must come in feed order per instrument, starting from its first. An event
    /// out of order, or one that does not fit the levels, is refused with nothing
    /// changed.
    pub fn apply(
        &mut self,
        event: &BookEvent,
        out: &mut Vec<LevelUpdate>,
    ) -> Result<(), FeedError> {
        let error = |reason| FeedError {
            engine_seq: event.engine_seq,
            reason,
        };
        let entry = self
            .instruments
            .get_mut(event.instrument as usize)
            .ok_or(error(FeedErrorReason::UnknownInstrument))?;
        let levels = match entry {
            Some(levels) => levels,
            None if event.feed_seq == 1 => entry.insert(InstrumentLevels::default()),
            None => return Err(error(FeedErrorReason::UnknownInstrument)),
        };
        if Some(event.feed_seq) != levels.feed_seq.checked_add(1) {
            return Err(error(FeedErrorReason::Inconsistent));
        }
        let mut sink = Sink {
            event,
            level_seq: levels.level_seq,
            depth: self.depth,
            out,
        };
        apply_change(levels, event.change, &mut sink).map_err(error)?;
        levels.level_seq = sink.level_seq;
        levels.feed_seq = event.feed_seq;
        Ok(())
    }

    /// The best `depth` levels of each side of one book (all of them with
    /// `usize::MAX`), with the sequence numbers they cover and their checksum; `None`
    /// for an instrument that has had no event.
    pub fn snapshot(&self, instrument: InstrumentId, depth: usize) -> Option<L2Snapshot> {
        let levels = self.instruments.get(instrument as usize)?.as_ref()?;
        let best_first = |side: &[PriceLevel]| side.iter().rev().take(depth).copied().collect();
        let mut snapshot = L2Snapshot {
            instrument,
            feed_seq: levels.feed_seq,
            level_seq: levels.level_seq,
            bids: best_first(&levels.bids),
            asks: best_first(&levels.asks),
            checksum: 0,
        };
        snapshot.checksum = snapshot.compute_checksum();
        Some(snapshot)
    }
}

type Outcome = Result<(), FeedErrorReason>;

fn check(fits: bool) -> Outcome {
    if fits {
        Ok(())
    } else {
        Err(FeedErrorReason::Inconsistent)
    }
}

/// Applies one book change to its side, checking that it fits before changing anything.
fn apply_change(levels: &mut InstrumentLevels, change: BookChange, sink: &mut Sink<'_>) -> Outcome {
    match change {
        BookChange::OrderAdded {
            side, price, qty, ..
        } => {
            let mut side = levels.side(side);
            check(side.can_add(price, qty))?;
            side.add(price, qty, sink);
        }
        BookChange::OrderReduced {
            side, price, qty, ..
        } => {
            let mut side = levels.side(side);
            check(side.can_take(price, qty, 0))?;
            side.take(price, qty, 0, sink);
        }
        BookChange::OrderRemoved {
            side, price, qty, ..
        } => {
            let mut side = levels.side(side);
            check(side.can_take(price, qty, 1))?;
            side.take(price, qty, 1, sink);
        }
        BookChange::OrderReplaced {
            side,
            old_price,
            old_qty,
            price,
            qty,
            ..
        } => {
            let mut side = levels.side(side);
            if old_price == price {
                check(side.can_resize(price, old_qty, qty))?;
                side.resize(price, old_qty, qty, sink);
            } else {
                check(side.can_take(old_price, old_qty, 1) && side.can_add(price, qty))?;
                side.take(old_price, old_qty, 1, sink);
                side.add(price, qty, sink);
            }
        }
        BookChange::Trade { .. } | BookChange::TradingStatus { .. } => {}
    }
    Ok(())
}

/// One side of one book.
struct SideLevels<'a> {
    side: Side,
    levels: &'a mut Vec<PriceLevel>,
}

impl SideLevels<'_> {
    /// Rises towards the best price, as the levels are sorted.
    fn key(&self, price: Price) -> Price {
        match self.side {
            Side::Buy => price,
            Side::Sell => !price,
        }
    }

    fn find(&self, price: Price) -> Result<usize, usize> {
        let key = self.key(price);
        self.levels
            .binary_search_by(|level| self.key(level.price).cmp(&key))
    }

    /// 0 for the best level.
    fn rank(&self, index: usize) -> usize {
        self.levels.len() - 1 - index
    }

    /// Whether one more order of `qty` fits at `price`.
    fn can_add(&self, price: Price, qty: Qty) -> bool {
        qty > 0
            && match self.find(price) {
                Ok(i) => self.levels[i].qty.checked_add(qty).is_some(),
                Err(_) => true,
            }
    }

    /// Whether the level at `price` holds `qty` and `count` orders to take, and is left
    /// either empty or with both quantity and orders.
    fn can_take(&self, price: Price, qty: Qty, count: u32) -> bool {
        let Ok(i) = self.find(price) else {
            return false;
        };
        let level = self.levels[i];
        match (
            level.qty.checked_sub(qty),
            level.order_count.checked_sub(count),
        ) {
            (Some(qty_left), Some(count_left)) => (qty_left == 0) == (count_left == 0),
            _ => false,
        }
    }

    /// Whether one order at `price` can go from `old_qty` to `qty` open.
    fn can_resize(&self, price: Price, old_qty: Qty, qty: Qty) -> bool {
        let Ok(i) = self.find(price) else {
            return false;
        };
        let level = self.levels[i];
        qty > 0
            && level.order_count > 0
            && level
                .qty
                .checked_sub(old_qty)
                .and_then(|rest| rest.checked_add(qty))
                .is_some()
    }

    fn add(&mut self, price: Price, qty: Qty, sink: &mut Sink<'_>) {
        match self.find(price) {
            Ok(i) => {
                let level = &mut self.levels[i];
                level.qty += qty;
                level.order_count += 1;
                let level = *level;
                self.report(i, LevelAction::Change, level, sink);
            }
            Err(i) => {
                let level = PriceLevel {
                    price,
                    qty,
                    order_count: 1,
                };
                self.levels.insert(i, level);
                if self.rank(i) < sink.depth {
                    // The level that was last in the top is pushed out of it.
                    if let Some(out) = self.levels.len().checked_sub(sink.depth + 1) {
                        sink.push(self.side, LevelAction::Delete, self.levels[out]);
                    }
                    sink.push(self.side, LevelAction::Add, level);
                }
            }
        }
    }

    fn take(&mut self, price: Price, qty: Qty, count: u32, sink: &mut Sink<'_>) {
        let i = self.find(price).expect("checked by can_take");
        let level = &mut self.levels[i];
        level.qty -= qty;
        level.order_count -= count;
        let level = *level;
        if level.order_count > 0 {
            return self.report(i, LevelAction::Change, level, sink);
        }
        let rank = self.rank(i);
        self.levels.remove(i);
        if rank < sink.depth {
            sink.push(self.side, LevelAction::Delete, level);
            // The level below the top, if any, moves into it.
            if let Some(entering) = self.levels.len().checked_sub(sink.depth) {
                sink.push(self.side, LevelAction::Add, self.levels[entering]);
            }
        }
    }

    fn resize(&mut self, price: Price, old_qty: Qty, qty: Qty, sink: &mut Sink<'_>) {
        let i = self.find(price).expect("checked by can_resize");
        let level = &mut self.levels[i];
        level.qty = level.qty - old_qty + qty;
        let level = *level;
        self.report(i, LevelAction::Change, level, sink);
    }

    /// Reports a level that changed in place, if it is in the top.
    fn report(&self, index: usize, action: LevelAction, level: PriceLevel, sink: &mut Sink<'_>) {
        if self.rank(index) < sink.depth {
            sink.push(self.side, action, level);
        }
    }
}
