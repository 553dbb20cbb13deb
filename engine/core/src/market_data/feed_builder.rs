//! The feed builder: turns the core's events, one command at a time, into book events.
//!
//! It keeps its own copy of every book (the core's ladders over its own order slab) and
//! learns everything from the events, never from the engine, so it can run wherever
//! the event stream goes. How each command's events map onto the book:
//!
//! - `Accepted` opens the command's aggressor; its `Trade`s follow (each reduces or
//!   removes a maker); then either a `Cancelled` of the aggressor's remainder (IOC, FOK,
//!   market: it never rested, so the book does not change) or nothing, and a remainder
//!   of a resting order type joins the book: `OrderAdded` after the trades.
//! - `Replaced` keeping priority reduces the order in place. One losing priority takes
//!   the order out of the book while it trades at its new price, then puts what is left
//!   at the back of the new level: `OrderReplaced` after the trades (or `OrderRemoved`,
//!   filled, if nothing is left).
//! - `Cancelled` and `Expired` of a resting order remove it; mass cancels and the end
//!   of the day send one of them per order, then a summary that changes nothing here.
//! - `InstrumentAdded` starts the instrument's feed; `HaltChanged` that changes the
//!   state is a `TradingStatus`.

use rustc_hash::FxHashMap;

use super::book_event::{BookChange, BookEvent, RemoveReason};
use super::book_snapshot::{L3Level, L3Order, L3Snapshot};
use super::feed_error::{FeedError, FeedErrorReason};
use crate::book::{Book, Ladder, Level};
use crate::config::EngineConfig;
use crate::event::{Event, Trade};
use crate::order::{Order, OrderPool, NIL};
use crate::types::*;

struct InstrumentFeed {
    book: Book,
    /// The last feed sequence number used.
    feed_seq: u64,
    halted: bool,
}

/// How the command's aggressor came to trade.
#[derive(Clone, Copy)]
enum Entry {
    /// A new order; whether its remainder may rest.
    New { rests: bool },
    /// A resting order replaced without keeping priority; where it rested before. It
    /// is out of the ladder and the index (still in the slab) until it is settled.
    Replace {
        slot: u32,
        old_price: Price,
        old_qty: Qty,
    },
}

/// The order that trades on entry in the command being applied.
#[derive(Clone, Copy)]
struct Aggressor {
    order_id: OrderId,
    instrument: InstrumentId,
    side: Side,
    price: Price,
    leaves: Qty,
    entry: Entry,
}

/// Where the book events of the command being applied go.
struct Sink<'a> {
    engine_seq: Seq,
    timestamp_ns: TimestampNs,
    out: &'a mut Vec<BookEvent>,
}

type Outcome = Result<(), FeedErrorReason>;

/// Builds the L3 book-event feed of every instrument from the core's sequenced output.
pub struct FeedBuilder {
    instruments: Vec<Option<InstrumentFeed>>,
    pool: OrderPool,
    /// Slot of each resting order; looked up, never iterated.
    slots: FxHashMap<OrderId, u32>,
    levels_per_side: usize,
    failed: Option<FeedError>,
}

impl FeedBuilder {
    /// A builder for an engine with this configuration: it holds at most as many
    /// instruments and resting orders as the engine does.
    pub fn new(config: &EngineConfig) -> Result<FeedBuilder, &'static str> {
        config.validate()?;
        let mut instruments = Vec::with_capacity(config.max_instruments as usize);
        instruments.resize_with(config.max_instruments as usize, || None);
        Ok(FeedBuilder {
            instruments,
            pool: OrderPool::with_capacity(config.max_orders),
            slots: FxHashMap::default(),
            levels_per_side: config.levels_per_side as usize,
            failed: None,
        })
    }

    /// Takes the events one command produced, stamped `(engine_seq, timestamp_ns)`,
    /// and appends the book events they mean to `out`.
    ///
    /// Events the engine did not produce in this order may be refused; the builder then
    /// refuses everything after (its book can no longer be trusted), and `out` may hold
    /// part of the refused command's book events.
    pub fn apply(
        &mut self,
        engine_seq: Seq,
        timestamp_ns: TimestampNs,
        events: &[Event],
        out: &mut Vec<BookEvent>,
    ) -> Result<(), FeedError> {
        if self.failed.is_some() {
            return Err(FeedError {
                engine_seq,
                reason: FeedErrorReason::Stopped,
            });
        }
        let mut sink = Sink {
            engine_seq,
            timestamp_ns,
            out,
        };
        self.apply_events(events, &mut sink).map_err(|reason| {
            let error = FeedError { engine_seq, reason };
            self.failed = Some(error);
            error
        })
    }

    /// The last feed sequence number of an instrument (0 before its first event);
    /// `None` for an instrument not listed.
    pub fn feed_seq(&self, instrument: InstrumentId) -> Option<u64> {
        self.instrument(instrument).map(|feed| feed.feed_seq)
    }

    /// Every resting order of one book, with the feed sequence number it covers and its
    /// checksum; `None` for an instrument not listed. Allocates: for snapshots on
    /// request, not for every event.
    pub fn snapshot(&self, instrument: InstrumentId) -> Option<L3Snapshot> {
        let feed = self.instrument(instrument)?;
        let side = |levels: &[Level]| -> Vec<L3Level> {
            levels
                .iter()
                .rev()
                .map(|level| L3Level {
                    price: level.price,
                    orders: self.queue(level.head),
                })
                .collect()
        };
        let mut snapshot = L3Snapshot {
            instrument,
            feed_seq: feed.feed_seq,
            halted: feed.halted,
            bids: side(feed.book.bids.levels()),
            asks: side(feed.book.asks.levels()),
            checksum: 0,
        };
        snapshot.checksum = snapshot.compute_checksum();
        Some(snapshot)
    }

    fn queue(&self, head: u32) -> Vec<L3Order> {
        let mut orders = Vec::new();
        let mut slot = head;
        // Bounded: each step visits a distinct resting order.
        while slot != NIL {
            let o = self.pool.get(slot);
            orders.push(L3Order {
                order_id: o.order_id,
                qty: o.leaves,
            });
            slot = o.next;
        }
        orders
    }

    fn instrument(&self, id: InstrumentId) -> Option<&InstrumentFeed> {
        self.instruments.get(id as usize).and_then(Option::as_ref)
    }

    fn instrument_mut(&mut self, id: InstrumentId) -> Result<&mut InstrumentFeed, FeedErrorReason> {
        self.instruments
            .get_mut(id as usize)
            .and_then(Option::as_mut)
            .ok_or(FeedErrorReason::UnknownInstrument)
    }

    /// One side of an instrument's book, with the slab its queues run through.
    fn ladder(
        &mut self,
        instrument: InstrumentId,
        side: Side,
    ) -> Result<(&mut Ladder, &mut OrderPool), FeedErrorReason> {
        let feed = self
            .instruments
            .get_mut(instrument as usize)
            .and_then(Option::as_mut)
            .ok_or(FeedErrorReason::UnknownInstrument)?;
        Ok((feed.book.side_mut(side), &mut self.pool))
    }

    fn apply_events(&mut self, events: &[Event], sink: &mut Sink<'_>) -> Outcome {
        let mut aggressor: Option<Aggressor> = None;
        for event in events {
            self.apply_event(event, &mut aggressor, sink)?;
        }
        match aggressor {
            Some(a) => self.settle(a, sink),
            None => Ok(()),
        }
    }

    fn apply_event(
        &mut self,
        event: &Event,
        aggressor: &mut Option<Aggressor>,
        sink: &mut Sink<'_>,
    ) -> Outcome {
        match *event {
            Event::Accepted {
                order_id,
                instrument,
                side,
                order_type,
                time_in_force,
                price,
                qty,
                ..
            } => {
                self.instrument_mut(instrument)?;
                check(qty <= QTY_MAX)?;
                let rests = order_type == OrderType::Limit && time_in_force.may_rest();
                let entry = Entry::New { rests };
                let a = Aggressor {
                    order_id,
                    instrument,
                    side,
                    price,
                    leaves: qty,
                    entry,
                };
                open_aggressor(aggressor, a)
            }
            Event::Trade(ref t) => self.trade(t, aggressor.as_mut(), sink),
            Event::Cancelled {
                order_id,
                instrument,
                qty,
                ..
            } => match aggressor {
                Some(a) if a.order_id == order_id => {
                    // The remainder of an order that may not rest: it never joined.
                    check(matches!(a.entry, Entry::New { .. }) && a.leaves == qty)?;
                    *aggressor = None;
                    Ok(())
                }
                _ => self.remove(order_id, instrument, qty, RemoveReason::Cancelled, sink),
            },
            Event::Expired {
                order_id,
                instrument,
                qty,
                ..
            } => self.remove(order_id, instrument, qty, RemoveReason::Expired, sink),
            Event::Replaced {
                order_id,
                instrument,
                price,
                qty,
                priority_kept,
                ..
            } => {
                let replace = Replace {
                    order_id,
                    instrument,
                    price,
                    qty,
                    priority_kept,
                };
                self.replace(replace, aggressor, sink)
            }
            Event::InstrumentAdded { spec } => self.list(spec.instrument, sink),
            Event::HaltChanged { instrument, halted } => {
                let feed = self.instrument_mut(instrument)?;
                if feed.halted != halted {
                    feed.halted = halted;
                    self.emit(instrument, BookChange::TradingStatus { halted }, sink)?;
                }
                Ok(())
            }
            Event::Rejected { .. }
            | Event::MassCancelled { .. }
            | Event::DayEnded { .. }
            | Event::AccountAdded { .. } => Ok(()),
        }
    }

    fn list(&mut self, instrument: InstrumentId, sink: &mut Sink<'_>) -> Outcome {
        let levels_per_side = self.levels_per_side;
        let entry = self
            .instruments
            .get_mut(instrument as usize)
            .filter(|entry| entry.is_none())
            .ok_or(FeedErrorReason::UnknownInstrument)?;
        *entry = Some(InstrumentFeed {
            book: Book::new(levels_per_side),
            feed_seq: 0,
            halted: false,
        });
        self.emit(
            instrument,
            BookChange::TradingStatus { halted: false },
            sink,
        )
    }

    /// Appends a book event with the instrument's next feed sequence number.
    fn emit(
        &mut self,
        instrument: InstrumentId,
        change: BookChange,
        sink: &mut Sink<'_>,
    ) -> Outcome {
        let feed = self.instrument_mut(instrument)?;
        feed.feed_seq += 1;
        sink.out.push(BookEvent {
            instrument,
            feed_seq: feed.feed_seq,
            engine_seq: sink.engine_seq,
            timestamp_ns: sink.timestamp_ns,
            change,
        });
        Ok(())
    }

    /// The slot of a resting order of `instrument`.
    fn resting(&self, order_id: OrderId, instrument: InstrumentId) -> Result<u32, FeedErrorReason> {
        let slot = *self
            .slots
            .get(&order_id)
            .ok_or(FeedErrorReason::UnknownOrder)?;
        check(self.pool.get(slot).instrument == instrument)?;
        Ok(slot)
    }

    fn trade(
        &mut self,
        t: &Trade,
        aggressor: Option<&mut Aggressor>,
        sink: &mut Sink<'_>,
    ) -> Outcome {
        let a = aggressor.ok_or(FeedErrorReason::Inconsistent)?;
        check(
            a.order_id == t.taker_order_id
                && a.instrument == t.instrument
                && a.side == t.aggressor_side
                && a.leaves.checked_sub(t.qty) == Some(t.taker_leaves),
        )?;
        a.leaves = t.taker_leaves;
        let slot = self.resting(t.maker_order_id, t.instrument)?;
        let maker = *self.pool.get(slot);
        check(
            maker.side != t.aggressor_side
                && maker.price == t.price
                && t.qty > 0
                && maker.leaves.checked_sub(t.qty) == Some(t.maker_leaves),
        )?;
        let trade = BookChange::Trade {
            match_id: t.match_id,
            price: t.price,
            qty: t.qty,
            aggressor_side: t.aggressor_side,
            maker_order_id: t.maker_order_id,
        };
        self.emit(t.instrument, trade, sink)?;
        if t.maker_leaves == 0 {
            return self.remove(
                t.maker_order_id,
                t.instrument,
                maker.leaves,
                RemoveReason::Filled,
                sink,
            );
        }
        let (ladder, pool) = self.ladder(t.instrument, maker.side)?;
        ladder.reduce(pool, slot, t.maker_leaves);
        let reduced = BookChange::OrderReduced {
            order_id: maker.order_id,
            side: maker.side,
            price: maker.price,
            qty: t.qty,
            remaining_qty: t.maker_leaves,
        };
        self.emit(t.instrument, reduced, sink)
    }

    /// Takes a resting order with `qty` open off its book.
    fn remove(
        &mut self,
        order_id: OrderId,
        instrument: InstrumentId,
        qty: Qty,
        reason: RemoveReason,
        sink: &mut Sink<'_>,
    ) -> Outcome {
        let slot = self.resting(order_id, instrument)?;
        let o = *self.pool.get(slot);
        check(o.leaves == qty)?;
        let (ladder, pool) = self.ladder(instrument, o.side)?;
        ladder.unlink(pool, slot);
        self.forget(slot);
        let removed = BookChange::OrderRemoved {
            order_id,
            side: o.side,
            price: o.price,
            qty,
            reason,
        };
        self.emit(instrument, removed, sink)
    }

    /// Drops an order that is in no ladder from the slab and the index.
    fn forget(&mut self, slot: u32) {
        self.slots.remove(&self.pool.get(slot).order_id);
        self.pool.free(slot);
    }

    fn replace(
        &mut self,
        r: Replace,
        aggressor: &mut Option<Aggressor>,
        sink: &mut Sink<'_>,
    ) -> Outcome {
        let slot = self.resting(r.order_id, r.instrument)?;
        let o = *self.pool.get(slot);
        check(r.qty > 0 && r.qty <= QTY_MAX)?;
        if !r.priority_kept {
            let (ladder, pool) = self.ladder(r.instrument, o.side)?;
            ladder.unlink(pool, slot);
            // Out of the index too while it trades: no event may name it as resting.
            self.slots.remove(&r.order_id);
            let entry = Entry::Replace {
                slot,
                old_price: o.price,
                old_qty: o.leaves,
            };
            let a = Aggressor {
                order_id: r.order_id,
                instrument: r.instrument,
                side: o.side,
                price: r.price,
                leaves: r.qty,
                entry,
            };
            return open_aggressor(aggressor, a);
        }
        check(r.price == o.price && r.qty <= o.leaves)?;
        if r.qty == o.leaves {
            // Only the client order id changed: nothing public did.
            return Ok(());
        }
        let (ladder, pool) = self.ladder(r.instrument, o.side)?;
        ladder.reduce(pool, slot, r.qty);
        let replaced = BookChange::OrderReplaced {
            order_id: r.order_id,
            side: o.side,
            old_price: o.price,
            old_qty: o.leaves,
            price: r.price,
            qty: r.qty,
            priority_kept: true,
        };
        self.emit(r.instrument, replaced, sink)
    }

    /// Puts what is left of the command's aggressor on the book, after its trades.
    fn settle(&mut self, a: Aggressor, sink: &mut Sink<'_>) -> Outcome {
        match a.entry {
            Entry::New { rests } => {
                if a.leaves == 0 {
                    return Ok(());
                }
                // A remainder that may not rest is always cancelled in the same command.
                check(rests)?;
                self.add(a, sink)
            }
            Entry::Replace {
                slot,
                old_price,
                old_qty,
            } => {
                if a.leaves == 0 {
                    self.pool.free(slot);
                    let removed = BookChange::OrderRemoved {
                        order_id: a.order_id,
                        side: a.side,
                        price: old_price,
                        qty: old_qty,
                        reason: RemoveReason::Filled,
                    };
                    return self.emit(a.instrument, removed, sink);
                }
                let o = self.pool.get_mut(slot);
                o.price = a.price;
                o.leaves = a.leaves;
                self.slots.insert(a.order_id, slot);
                let (ladder, pool) = self.ladder(a.instrument, a.side)?;
                ladder.push_back(pool, slot);
                let replaced = BookChange::OrderReplaced {
                    order_id: a.order_id,
                    side: a.side,
                    old_price,
                    old_qty,
                    price: a.price,
                    qty: a.leaves,
                    priority_kept: false,
                };
                self.emit(a.instrument, replaced, sink)
            }
        }
    }

    fn add(&mut self, a: Aggressor, sink: &mut Sink<'_>) -> Outcome {
        if self.slots.contains_key(&a.order_id) {
            return Err(FeedErrorReason::UnknownOrder);
        }
        let slot = self
            .pool
            .alloc(resting_order(&a))
            .ok_or(FeedErrorReason::Capacity)?;
        self.slots.insert(a.order_id, slot);
        let (ladder, pool) = self.ladder(a.instrument, a.side)?;
        ladder.push_back(pool, slot);
        let added = BookChange::OrderAdded {
            order_id: a.order_id,
            side: a.side,
            price: a.price,
            qty: a.leaves,
        };
        self.emit(a.instrument, added, sink)
    }
}

/// The fields of a `Replaced` event the book needs.
#[derive(Clone, Copy)]
struct Replace {
    order_id: OrderId,
    instrument: InstrumentId,
    price: Price,
    qty: Qty,
    priority_kept: bool,
}

/// A command has at most one aggressor.
fn open_aggressor(slot: &mut Option<Aggressor>, a: Aggressor) -> Outcome {
    check(slot.is_none())?;
    *slot = Some(a);
    Ok(())
}

fn check(consistent: bool) -> Outcome {
    if consistent {
        Ok(())
    } else {
        Err(FeedErrorReason::Inconsistent)
    }
}

/// The builder's copy of a resting order: only what a public book shows.
fn resting_order(a: &Aggressor) -> Order {
    Order {
        order_id: a.order_id,
        client_order_id: 0,
        price: a.price,
        leaves: a.leaves,
        filled: 0,
        account: 0,
        instrument: a.instrument,
        prev: NIL,
        next: NIL,
        account_prev: NIL,
        account_next: NIL,
        side: a.side,
        time_in_force: TimeInForce::Gtc,
        post_only: false,
    }
}
