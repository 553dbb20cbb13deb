//! The book feed against the real engine: random command streams go through `Engine`,
//! every command's events through `FeedBuilder` and `LevelBook`, and after every command
//! a book rebuilt only from the feed's events must equal the engine's own (levels, queue
//! order, open quantities), as must a top-N book kept only from the level updates; the
//! snapshots' checksums must match a CRC-32C computed here, independently, from the
//! engine's book.

#[path = "support/arbitrary.rs"]
mod arbitrary;
#[path = "support/generator.rs"]
mod generator;
#[path = "support/market_model.rs"]
mod market_model;
#[path = "support/rng.rs"]
mod rng;
#[path = "support/stamps.rs"]
mod stamps;
#[path = "support/values.rs"]
mod values;

use std::collections::BTreeMap;

use ringex_core::market_data::*;
use ringex_core::*;

use generator::{Generator, Profile};
use stamps::Sequencer;

/// Depth of the level feed: small, so levels often enter and leave the top.
const DEPTH: usize = 3;

fn profile(end_of_day_per_mille: u32) -> Profile {
    Profile {
        config: EngineConfig {
            max_orders: 256,
            max_instruments: 6,
            max_accounts: 6,
            max_client_ids_per_day: 4096,
            levels_per_side: 8,
        },
        instruments: 3,
        accounts: 5,
        client_ids: 400,
        huge: false,
        chaos_per_mille: 10,
        end_of_day_per_mille,
        cancel_per_mille: 60,
        tight_limits_per_mille: 100,
    }
}

/// `(order id, open qty)` per level, best first, per side: a book as the L3 feed shows it.
type Queues = BTreeMap<Price, Vec<(OrderId, Qty)>>;

/// A client's L3 book, kept from book events only.
#[derive(Default, Clone)]
struct RebuiltBook {
    bids: Queues,
    asks: Queues,
    feed_seq: u64,
    halted: bool,
}

impl RebuiltBook {
    fn from_snapshot(s: &L3Snapshot) -> RebuiltBook {
        let side = |levels: &[L3Level]| -> Queues {
            levels
                .iter()
                .map(|l| {
                    (
                        l.price,
                        l.orders.iter().map(|o| (o.order_id, o.qty)).collect(),
                    )
                })
                .collect()
        };
        RebuiltBook {
            bids: side(&s.bids),
            asks: side(&s.asks),
            feed_seq: s.feed_seq,
            halted: s.halted,
        }
    }

    fn side(&mut self, side: Side) -> &mut Queues {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// Takes an order out of its queue; returns its open quantity.
    fn take(&mut self, side: Side, price: Price, order_id: OrderId) -> Qty {
        let queues = self.side(side);
        let queue = queues.get_mut(&price).expect("the order's level");
        let at = queue
            .iter()
            .position(|o| o.0 == order_id)
            .expect("the order");
        let (_, qty) = queue.remove(at);
        if queue.is_empty() {
            queues.remove(&price);
        }
        qty
    }

    fn apply(&mut self, e: &BookEvent) {
        assert_eq!(e.feed_seq, self.feed_seq + 1, "feed sequence has no gaps");
        self.feed_seq = e.feed_seq;
        match e.change {
            BookChange::OrderAdded {
                order_id,
                side,
                price,
                qty,
            } => self
                .side(side)
                .entry(price)
                .or_default()
                .push((order_id, qty)),
            BookChange::OrderReduced {
                order_id,
                side,
                price,
                qty,
                remaining_qty,
            } => {
                let queue = self.side(side).get_mut(&price).expect("level");
                let order = queue.iter_mut().find(|o| o.0 == order_id).expect("order");
                assert_eq!(order.1 - qty, remaining_qty);
                order.1 = remaining_qty;
            }
            BookChange::OrderRemoved {
                order_id,
                side,
                price,
                qty,
                ..
            } => assert_eq!(self.take(side, price, order_id), qty),
            BookChange::OrderReplaced {
                order_id,
                side,
                old_price,
                old_qty,
                price,
                qty,
                priority_kept,
            } => {
                if priority_kept {
                    assert_eq!(old_price, price);
                    let queue = self.side(side).get_mut(&price).expect("level");
                    let order = queue.iter_mut().find(|o| o.0 == order_id).expect("order");
                    assert_eq!(order.1, old_qty);
                    order.1 = qty;
                } else {
                    assert_eq!(self.take(side, old_price, order_id), old_qty);
                    self.side(side)
                        .entry(price)
                        .or_default()
                        .push((order_id, qty));
                }
            }
            BookChange::Trade { .. } => {}
            BookChange::TradingStatus { halted } => self.halted = halted,
        }
    }

    /// Best first, as the engine's view lists them.
    fn levels(&self, side: Side) -> Vec<(Price, Vec<(OrderId, Qty)>)> {
        let levels = self.clone_side(side);
        match side {
            Side::Buy => levels.into_iter().rev().collect(),
            Side::Sell => levels,
        }
    }

    fn clone_side(&self, side: Side) -> Vec<(Price, Vec<(OrderId, Qty)>)> {
        let queues = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        queues.iter().map(|(p, q)| (*p, q.clone())).collect()
    }
}

/// A client's top-`DEPTH` L2 book, kept from level updates only.
#[derive(Default, Clone)]
struct TopLevels {
    bids: BTreeMap<Price, (Qty, u32)>,
    asks: BTreeMap<Price, (Qty, u32)>,
    level_seq: u64,
}

impl TopLevels {
    fn from_snapshot(s: &L2Snapshot) -> TopLevels {
        let side = |levels: &[PriceLevel]| {
            levels
                .iter()
                .map(|l| (l.price, (l.qty, l.order_count)))
                .collect()
        };
        TopLevels {
            bids: side(&s.bids),
            asks: side(&s.asks),
            level_seq: s.level_seq,
        }
    }

    fn apply(&mut self, u: &LevelUpdate) {
        assert_eq!(
            u.level_seq,
            self.level_seq + 1,
            "level sequence has no gaps"
        );
        self.level_seq = u.level_seq;
        let side = match u.side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        match u.action {
            LevelAction::Add => {
                assert!(side.insert(u.price, (u.qty, u.order_count)).is_none());
            }
            LevelAction::Change => {
                assert!(side.insert(u.price, (u.qty, u.order_count)).is_some());
            }
            LevelAction::Delete => {
                assert!(side.remove(&u.price).is_some());
            }
        }
        assert!(side.len() <= DEPTH, "a top-{DEPTH} client never holds more");
    }

    fn levels(&self, side: Side) -> Vec<(Price, Qty, u32)> {
        let flat = |(p, (q, c)): (&Price, &(Qty, u32))| (*p, *q, *c);
        match side {
            Side::Buy => self.bids.iter().rev().map(flat).collect(),
            Side::Sell => self.asks.iter().map(flat).collect(),
        }
    }
}

fn engine_levels(view: &[LevelView]) -> Vec<(Price, Vec<(OrderId, Qty)>)> {
    view.iter()
        .map(|l| {
            (
                l.price,
                l.orders.iter().map(|o| (o.order_id, o.leaves)).collect(),
            )
        })
        .collect()
}

fn engine_top(view: &[LevelView]) -> Vec<(Price, Qty, u32)> {
    view.iter()
        .take(DEPTH)
        .map(|l| (l.price, l.total_qty, l.orders.len() as u32))
        .collect()
}

/// The checksums of the engine's book as the documentation defines them, encoded here
/// byte by byte rather than through the crate's own encoder.
fn engine_checksums(view: &BookView) -> (u32, u32) {
    let (mut l3, mut l2) = (Vec::new(), Vec::new());
    for (side, levels) in [(1u8, &view.bids), (2u8, &view.asks)] {
        for (rank, level) in levels.iter().enumerate() {
            for o in &level.orders {
                l3.push(side);
                l3.extend(o.price.to_le_bytes());
                l3.extend(o.order_id.to_le_bytes());
                l3.extend(o.leaves.to_le_bytes());
            }
            if rank < DEPTH {
                l2.push(side);
                l2.extend(level.price.to_le_bytes());
                l2.extend(level.total_qty.to_le_bytes());
                l2.extend((level.orders.len() as u32).to_le_bytes());
            }
        }
    }
    (crc32c::crc32c(&l3), crc32c::crc32c(&l2))
}

/// How often the stream exercised each kind of book change.
#[derive(Default, Debug)]
struct Coverage {
    added: u64,
    reduced: u64,
    filled: u64,
    cancelled: u64,
    expired: u64,
    kept_priority: u64,
    lost_priority: u64,
    halts: u64,
    level_deletes: u64,
    level_entries: u64,
}

impl Coverage {
    fn count(&mut self, e: &BookEvent) {
        match e.change {
            BookChange::OrderAdded { .. } => self.added += 1,
            BookChange::OrderReduced { .. } => self.reduced += 1,
            BookChange::OrderRemoved { reason, .. } => match reason {
                RemoveReason::Filled => self.filled += 1,
                RemoveReason::Cancelled => self.cancelled += 1,
                RemoveReason::Expired => self.expired += 1,
            },
            BookChange::OrderReplaced { priority_kept, .. } => {
                if priority_kept {
                    self.kept_priority += 1
                } else {
                    self.lost_priority += 1
                }
            }
            BookChange::Trade { .. } => {}
            BookChange::TradingStatus { halted } => self.halts += u64::from(halted),
        }
    }

    fn assert_broad(&self) {
        let counts = [
            self.added,
            self.reduced,
            self.filled,
            self.cancelled,
            self.expired,
            self.kept_priority,
            self.lost_priority,
            self.halts,
            self.level_deletes,
            self.level_entries,
        ];
        assert!(counts.iter().all(|&n| n > 0), "stream too narrow: {self:?}");
    }
}

/// The engine and the two feeds, fed one stream.
struct Harness {
    generator: Generator,
    sequencer: Sequencer,
    engine: Engine,
    builder: FeedBuilder,
    levels: LevelBook,
    events: Vec<Event>,
    book_events: Vec<BookEvent>,
    level_updates: Vec<LevelUpdate>,
}

impl Harness {
    fn new(profile: Profile, seed: u64) -> Harness {
        Harness {
            generator: Generator::new(profile, seed),
            sequencer: Sequencer::default(),
            engine: Engine::new(profile.config).unwrap(),
            builder: FeedBuilder::new(&profile.config).unwrap(),
            levels: LevelBook::new(DEPTH, &profile.config).unwrap(),
            events: Vec::new(),
            book_events: Vec::new(),
            level_updates: Vec::new(),
        }
    }

    /// Applies the next command; its book events and level updates are left in the
    /// harness's buffers.
    fn step(&mut self) {
        let step = self.generator.next_step();
        let (seq, timestamp_ns) = self.sequencer.stamp(step.stamp);
        self.events.clear();
        self.book_events.clear();
        self.level_updates.clear();
        self.engine
            .apply(seq, timestamp_ns, &step.command, &mut self.events);
        self.builder
            .apply(seq, timestamp_ns, &self.events, &mut self.book_events)
            .unwrap_or_else(|e| panic!("{e}: {:?} -> {:?}", step.command, self.events));
        for e in &self.book_events {
            assert_eq!((e.engine_seq, e.timestamp_ns), (seq, timestamp_ns));
            self.levels.apply(e, &mut self.level_updates).unwrap();
        }
        self.generator.observe(&self.events);
    }
}

fn instruments(profile: &Profile) -> std::ops::Range<InstrumentId> {
    0..profile.config.max_instruments
}

/// Drives `commands` commands, checking both rebuilt books against the engine's after
/// every one; returns what the stream covered.
fn check_stream(profile: Profile, seed: u64, commands: usize) -> Coverage {
    let mut h = Harness::new(profile, seed);
    let mut books: BTreeMap<InstrumentId, RebuiltBook> = BTreeMap::new();
    let mut tops: BTreeMap<InstrumentId, TopLevels> = BTreeMap::new();
    let mut coverage = Coverage::default();
    for i in 0..commands {
        h.step();
        for e in &h.book_events {
            coverage.count(e);
            books.entry(e.instrument).or_default().apply(e);
        }
        for u in &h.level_updates {
            match u.action {
                LevelAction::Delete => coverage.level_deletes += 1,
                LevelAction::Add => coverage.level_entries += 1,
                LevelAction::Change => {}
            }
            tops.entry(u.instrument).or_default().apply(u);
        }
        for instrument in instruments(&profile) {
            let Some(view) = h.engine.book_view(instrument) else {
                assert!(h.builder.snapshot(instrument).is_none());
                continue;
            };
            let context = || format!("seed {seed} command {i} instrument {instrument}");
            let book = &books[&instrument];
            assert_eq!(
                book.levels(Side::Buy),
                engine_levels(&view.bids),
                "{}",
                context()
            );
            assert_eq!(
                book.levels(Side::Sell),
                engine_levels(&view.asks),
                "{}",
                context()
            );
            let top = tops.get(&instrument).cloned().unwrap_or_default();
            assert_eq!(
                top.levels(Side::Buy),
                engine_top(&view.bids),
                "{}",
                context()
            );
            assert_eq!(
                top.levels(Side::Sell),
                engine_top(&view.asks),
                "{}",
                context()
            );
            let halted = h.engine.instrument_view(instrument).unwrap().halted;
            assert_eq!(book.halted, halted, "{}", context());
            let l3 = h.builder.snapshot(instrument).unwrap();
            let l2 = h.levels.snapshot(instrument, DEPTH).unwrap();
            assert_eq!(l3.feed_seq, book.feed_seq);
            assert_eq!((l2.feed_seq, l2.level_seq), (book.feed_seq, top.level_seq));
            assert_eq!(
                (l3.checksum, l2.checksum),
                engine_checksums(&view),
                "{}",
                context()
            );
        }
    }
    coverage
}

#[test]
fn books_rebuilt_from_the_feed_equal_the_engine_after_every_command() {
    let mut coverage = Coverage::default();
    for seed in 0..4 {
        let c = check_stream(profile(3), seed, 60_000);
        coverage.added += c.added;
        coverage.reduced += c.reduced;
        coverage.filled += c.filled;
        coverage.cancelled += c.cancelled;
        coverage.expired += c.expired;
        coverage.kept_priority += c.kept_priority;
        coverage.lost_priority += c.lost_priority;
        coverage.halts += c.halts;
        coverage.level_deletes += c.level_deletes;
        coverage.level_entries += c.level_entries;
    }
    coverage.assert_broad();
}

/// Tiny capacities: book-full rejects and the daily id limit are common.
#[test]
fn books_match_with_tiny_capacities() {
    let mut p = profile(15);
    p.config.max_orders = 12;
    p.config.max_client_ids_per_day = 40;
    p.config.levels_per_side = 1;
    p.client_ids = 24;
    for seed in 10..14 {
        check_stream(p, seed, 20_000);
    }
}

/// The whole output of one stream.
fn feed_output(seed: u64, commands: usize) -> (Vec<BookEvent>, Vec<LevelUpdate>) {
    let mut h = Harness::new(profile(3), seed);
    let (mut events, mut updates) = (Vec::new(), Vec::new());
    for _ in 0..commands {
        h.step();
        events.extend_from_slice(&h.book_events);
        updates.extend_from_slice(&h.level_updates);
    }
    (events, updates)
}

#[test]
fn the_same_stream_gives_the_same_feed() {
    let first = feed_output(7, 50_000);
    assert!(!first.0.is_empty() && !first.1.is_empty());
    assert_eq!(first, feed_output(7, 50_000));
}

#[test]
fn a_snapshot_mid_stream_plus_the_events_after_it_is_the_final_book() {
    let p = profile(3);
    let mut h = Harness::new(p, 99);
    for _ in 0..20_000 {
        h.step();
    }
    let mut books: BTreeMap<InstrumentId, RebuiltBook> = BTreeMap::new();
    let mut tops: BTreeMap<InstrumentId, TopLevels> = BTreeMap::new();
    for instrument in instruments(&p) {
        if let Some(s) = h.builder.snapshot(instrument) {
            assert_eq!(s.checksum, s.compute_checksum());
            books.insert(instrument, RebuiltBook::from_snapshot(&s));
            let l2 = h.levels.snapshot(instrument, DEPTH).unwrap();
            tops.insert(instrument, TopLevels::from_snapshot(&l2));
        }
    }
    for _ in 0..20_000 {
        h.step();
        for e in &h.book_events {
            books.entry(e.instrument).or_default().apply(e);
        }
        for u in &h.level_updates {
            tops.entry(u.instrument).or_default().apply(u);
        }
    }
    for instrument in instruments(&p) {
        let Some(view) = h.engine.book_view(instrument) else {
            continue;
        };
        let (book, top) = (&books[&instrument], &tops[&instrument]);
        assert_eq!(book.levels(Side::Buy), engine_levels(&view.bids));
        assert_eq!(book.levels(Side::Sell), engine_levels(&view.asks));
        assert_eq!(top.levels(Side::Buy), engine_top(&view.bids));
        assert_eq!(top.levels(Side::Sell), engine_top(&view.asks));
        // The full level book on request: every level the engine has.
        let full = h.levels.snapshot(instrument, usize::MAX).unwrap();
        assert_eq!(full.bids.len(), view.bids.len());
        assert_eq!(full.asks.len(), view.asks.len());
    }
}

/// Events that are not the engine's are refused, and the builder stops for good.
#[test]
fn foreign_events_are_refused_and_stop_the_feed() {
    let config = profile(3).config;
    let mut builder = FeedBuilder::new(&config).unwrap();
    let mut out = Vec::new();
    let cancel = Event::Cancelled {
        order_id: 5,
        account: 1,
        instrument: 0,
        client_order_id: 1,
        qty: 1,
        reason: CancelReason::Requested,
    };
    let listed = listed_event(0);
    builder.apply(1, 0, &[listed], &mut out).unwrap();
    let error = builder.apply(2, 0, &[cancel], &mut out).unwrap_err();
    assert_eq!(error.reason, FeedErrorReason::UnknownOrder);
    assert_eq!(error.engine_seq, 2);
    let again = builder.apply(3, 0, &[listed], &mut out).unwrap_err();
    assert_eq!(again.reason, FeedErrorReason::Stopped);
    let out_of_range = listed_event(99);
    let mut fresh = FeedBuilder::new(&config).unwrap();
    let error = fresh.apply(1, 0, &[out_of_range], &mut out).unwrap_err();
    assert_eq!(error.reason, FeedErrorReason::UnknownInstrument);
}

/// Level updates out of feed order are refused without changing the level book.
#[test]
fn level_book_refuses_events_out_of_order() {
    let config = profile(3).config;
    let mut levels = LevelBook::new(DEPTH, &config).unwrap();
    let mut out = Vec::new();
    let event = |feed_seq, change| BookEvent {
        instrument: 1,
        feed_seq,
        engine_seq: feed_seq,
        timestamp_ns: 0,
        change,
    };
    let listed = event(1, BookChange::TradingStatus { halted: false });
    let add = BookChange::OrderAdded {
        order_id: 1,
        side: Side::Buy,
        price: 100,
        qty: 5,
    };
    let remove_too_much = BookChange::OrderRemoved {
        order_id: 1,
        side: Side::Buy,
        price: 100,
        qty: 6,
        reason: RemoveReason::Cancelled,
    };
    levels.apply(&listed, &mut out).unwrap();
    assert!(levels.apply(&event(3, add), &mut out).is_err());
    levels.apply(&event(2, add), &mut out).unwrap();
    assert!(levels.apply(&event(3, remove_too_much), &mut out).is_err());
    let snapshot = levels.snapshot(1, DEPTH).unwrap();
    assert_eq!(snapshot.feed_seq, 2);
    assert_eq!(
        snapshot.bids,
        vec![PriceLevel {
            price: 100,
            qty: 5,
            order_count: 1
        }]
    );
    assert_eq!(out.len(), 1);
}

/// The event listing `instrument` with plain rules.
fn listed_event(instrument: u32) -> Event {
    let spec = InstrumentSpec {
        instrument,
        tick_size: 1,
        lot_size: 1,
        reference_price: 100,
        price_band_bps: 0,
    };
    Event::InstrumentAdded { spec }
}
