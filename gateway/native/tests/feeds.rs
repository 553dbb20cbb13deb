//! The market data feeds through the gateway core: a real engine's events in, as the
//! engine link carries them; per-session feed messages out. A book rebuilt from a
//! snapshot and the incrementals after it must be the engine's, with no gap between them.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

use ringex_core::market_data::{LevelAction, RemoveReason};
use ringex_core::*;
use ringex_gateway_native::binary_session::SessionAction;
use ringex_gateway_native::feed_fanout::FeedSettings;
use ringex_gateway_native::gateway::{Core, Limits};
use ringex_gateway_native::socket_writer::WriterSettings;
use ringex_protocol::client::{decode_server, encode_client, ClientMessage, ServerMessage};
use ringex_protocol::command_codec::ALL_INSTRUMENTS;
use ringex_protocol::feed::{FeedKind, FeedRejectReason};
use ringex_protocol::frame::{split_frame, write_frame};
use ringex_protocol::link::{write_events, write_welcome};
use ringex_protocol::session::*;

const MS: u64 = 1_000_000;
/// The engine's clock: Unix-epoch nanoseconds.
const EPOCH_NS: u64 = 1_763_800_000_000_000_000;

fn limits() -> Limits {
    Limits {
        journal_messages: 10_000,
        max_backlog: 10_000,
        unsequenced_bytes: 1 << 20,
        drain_bytes: 1 << 20,
        heartbeat_ns: 1000 * MS,
        idle_timeout_ns: 5000 * MS,
        frame_timeout_ns: 1000 * MS,
        login_timeout_ns: 2000 * MS,
        acked_ids_max: 100_000,
    }
}

fn settings() -> FeedSettings {
    FeedSettings {
        max_orders: 4096,
        max_instruments: 8,
        levels_per_side: 64,
        l2_depths: vec![1, 3],
        window_events: 64,
        subscriptions_per_session: 4,
        backlog_bytes: 1 << 20,
        conflate: true,
        coalesce_ns: 0,
        coalesce_bytes: 1 << 16,
    }
}

/// A real engine feeding a gateway core over the link's frames.
struct Exchange {
    engine: Engine,
    core: Core,
    seq: u64,
}

impl Exchange {
    fn new(settings: FeedSettings) -> Exchange {
        Exchange::with_limits(limits(), settings)
    }

    fn with_limits(limits: Limits, settings: FeedSettings) -> Exchange {
        let config = EngineConfig {
            max_orders: 4096,
            max_instruments: 8,
            levels_per_side: 64,
            ..EngineConfig::default()
        };
        let mut core = Core::new(limits, 1, false);
        core.configure_feeds(settings).unwrap();
        let mut welcome = Vec::new();
        write_welcome(&mut welcome, 0);
        core.feed_engine(&welcome, 0);
        let mut x = Exchange {
            engine: Engine::new(config).unwrap(),
            core,
            seq: 0,
        };
        x.apply(Command::AddInstrument(InstrumentSpec {
            instrument: 1,
            tick_size: 1,
            lot_size: 1,
            reference_price: 100,
            price_band_bps: 0,
        }));
        for account in [7, 8] {
            x.apply(Command::AddAccount(AccountSpec {
                account,
                limits: AccountLimits {
                    max_order_qty: 1_000_000,
                    max_order_notional: u128::MAX,
                    max_open_orders: 10_000,
                },
            }));
        }
        x
    }

    fn apply(&mut self, command: Command) {
        self.seq += 1;
        let mut events = Vec::new();
        let ts = EPOCH_NS + self.seq * 1000;
        self.engine.apply(self.seq, ts, &command, &mut events);
        let mut frame = Vec::new();
        write_events(&mut frame, self.seq, ts, 0, &events);
        let outcome = self.core.feed_engine(&frame, 0);
        assert_eq!(outcome.error, None);
    }

    fn order(&mut self, coid: u64, side: Side, price: i64, qty: u64) {
        self.apply(Command::NewOrder(NewOrder {
            account: 7 + (coid % 2) as u32,
            instrument: 1,
            client_order_id: coid,
            side,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            post_only: false,
            price,
            qty,
        }));
    }

    fn login(&mut self, sid: u64) {
        self.core.open_session(sid, 0);
        let login = ClientMessage::Login {
            username: encode_text("u").unwrap(),
            password: encode_text("p").unwrap(),
            next_seq: 0,
        };
        let action = self.core.feed_session(sid, &framed(&login), 0);
        assert!(matches!(action, SessionAction::Login { .. }));
        self.core
            .accept_login(sid, 99, Role::ReadOnly, 0, 0, 1, false, 0);
        self.drain(sid);
    }

    fn send(&mut self, sid: u64, message: ClientMessage) {
        let action = self.core.feed_session(sid, &framed(&message), 0);
        assert_eq!(action, SessionAction::Continue);
    }

    fn subscribe(&mut self, sid: u64, instrument: u32, feed: FeedKind, depth: u8) {
        let message = ClientMessage::FeedSubscribe {
            instrument,
            feed,
            depth,
            subscribe: true,
        };
        self.send(sid, message);
    }

    fn drain(&mut self, sid: u64) -> Vec<ServerMessage> {
        self.drain_at(sid, 0)
    }

    fn drain_at(&mut self, sid: u64, now_ns: u64) -> Vec<ServerMessage> {
        let (writes, slow) = self.core.drain(now_ns);
        assert!(slow.is_empty());
        writes
            .iter()
            .filter(|(s, _)| *s == sid)
            .flat_map(|(_, b)| messages(b))
            .collect()
    }
}

fn framed(message: &ClientMessage) -> Vec<u8> {
    let mut out = Vec::new();
    write_frame(&mut out, CLIENT_PREFIX, CLIENT_FRAME_MAX, |b| {
        encode_client(message, b)
    });
    out
}

fn messages(bytes: &[u8]) -> Vec<ServerMessage> {
    let (out, used) = whole_frames(bytes);
    assert_eq!(used, bytes.len(), "bytes end in a whole frame");
    out
}

/// The messages of the whole frames at the start of `bytes`, and how many bytes they
/// took (a frame still arriving may follow).
fn whole_frames(bytes: &[u8]) -> (Vec<ServerMessage>, usize) {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some((body, used)) = split_frame(rest, CLIENT_PREFIX, CLIENT_FRAME_MAX).unwrap() {
        out.push(decode_server(body).unwrap());
        rest = &rest[used..];
    }
    (out, bytes.len() - rest.len())
}

/// An L3 book as a client keeps it: per side, price → queue of (order id, qty).
#[derive(Default, Debug, PartialEq)]
struct ClientBook {
    feed_seq: u64,
    sides: [BTreeMap<i64, Vec<(u64, u64)>>; 2],
}

fn side_index(side: Side) -> usize {
    (side as u8 - 1) as usize
}

impl ClientBook {
    fn level(&mut self, side: Side, price: i64) -> &mut Vec<(u64, u64)> {
        self.sides[side_index(side)].entry(price).or_default()
    }

    fn take(&mut self, side: Side, price: i64, order_id: u64) -> usize {
        let level = self.level(side, price);
        let at = level.iter().position(|o| o.0 == order_id).unwrap();
        level.remove(at);
        if level.is_empty() {
            self.sides[side_index(side)].remove(&price);
        }
        at
    }

    /// Applies one message; panics on a gap or an order it does not hold.
    fn apply(&mut self, m: &ServerMessage) {
        let at = match m {
            ServerMessage::OrderAdded { at, .. }
            | ServerMessage::OrderReduced { at, .. }
            | ServerMessage::OrderRemoved { at, .. }
            | ServerMessage::OrderReplaced { at, .. }
            | ServerMessage::Trade { at, .. }
            | ServerMessage::TradingStatus { at, .. } => at,
            ServerMessage::SnapshotBegin {
                feed: FeedKind::L3,
                feed_seq,
                ..
            } => {
                *self = ClientBook {
                    feed_seq: *feed_seq,
                    ..ClientBook::default()
                };
                return;
            }
            ServerMessage::SnapshotOrder {
                side,
                price,
                order_id,
                qty,
                ..
            } => {
                self.level(*side, *price).push((*order_id, *qty));
                return;
            }
            _ => return,
        };
        assert_eq!(at.feed_seq, self.feed_seq + 1, "a gap in the L3 feed");
        assert!(at.timestamp_ns > EPOCH_NS, "the engine's clock");
        self.feed_seq = at.feed_seq;
        match *m {
            ServerMessage::OrderAdded {
                order_id,
                side,
                price,
                qty,
                ..
            } => self.level(side, price).push((order_id, qty)),
            ServerMessage::OrderReduced {
                order_id,
                side,
                price,
                remaining_qty,
                ..
            } => {
                let o = self.level(side, price).iter_mut().find(|o| o.0 == order_id);
                o.unwrap().1 = remaining_qty;
            }
            ServerMessage::OrderRemoved {
                order_id,
                side,
                price,
                ..
            } => {
                self.take(side, price, order_id);
            }
            ServerMessage::OrderReplaced {
                order_id,
                side,
                old_price,
                price,
                qty,
                priority_kept,
                ..
            } => {
                let place = self.take(side, old_price, order_id);
                let level = self.level(side, price);
                let place = if priority_kept { place } else { level.len() };
                level.insert(place, (order_id, qty));
            }
            _ => {}
        }
    }

    /// The engine's book in the same form.
    fn of_engine(engine: &Engine) -> [BTreeMap<i64, Vec<(u64, u64)>>; 2] {
        let view = engine.book_view(1).unwrap();
        let side = |levels: &[LevelView]| {
            levels
                .iter()
                .map(|l| {
                    let orders = l.orders.iter().map(|o| (o.order_id, o.leaves)).collect();
                    (l.price, orders)
                })
                .collect()
        };
        [side(&view.bids), side(&view.asks)]
    }
}

/// Top `depth` levels per side as a client keeps them from L2 messages.
#[derive(Default)]
struct ClientLevels {
    level_seq: u64,
    sides: [BTreeMap<i64, (u64, u32)>; 2],
}

impl ClientLevels {
    fn apply(&mut self, m: &ServerMessage) {
        match *m {
            ServerMessage::SnapshotBegin {
                feed: FeedKind::L2,
                level_seq,
                ..
            } => {
                *self = ClientLevels {
                    level_seq,
                    ..ClientLevels::default()
                };
            }
            ServerMessage::SnapshotLevel {
                side,
                price,
                qty,
                order_count,
                ..
            } => {
                self.sides[side_index(side)].insert(price, (qty, order_count));
            }
            ServerMessage::LevelUpdate {
                level_seq,
                side,
                action,
                price,
                qty,
                order_count,
                ..
            } => {
                assert_eq!(level_seq, self.level_seq + 1, "a gap in the L2 feed");
                self.level_seq = level_seq;
                let levels = &mut self.sides[side_index(side)];
                match action {
                    LevelAction::Delete => assert!(levels.remove(&price).is_some()),
                    LevelAction::Add => assert!(levels.insert(price, (qty, order_count)).is_none()),
                    LevelAction::Change => {
                        assert!(levels.insert(price, (qty, order_count)).is_some())
                    }
                }
            }
            _ => {}
        }
    }

    fn best(&self, depth: usize) -> Vec<Vec<(i64, u64, u32)>> {
        let bids = self.sides[0].iter().rev().take(depth);
        let asks = self.sides[1].iter().take(depth);
        [bids.collect::<Vec<_>>(), asks.collect()]
            .iter()
            .map(|s| s.iter().map(|(p, (q, c))| (**p, *q, *c)).collect())
            .collect()
    }
}

fn engine_levels(engine: &Engine, depth: usize) -> Vec<Vec<(i64, u64, u32)>> {
    let view = engine.book_view(1).unwrap();
    [&view.bids, &view.asks]
        .iter()
        .map(|levels| {
            levels
                .iter()
                .take(depth)
                .map(|l| (l.price, l.total_qty, l.orders.len() as u32))
                .collect()
        })
        .collect()
}

/// xorshift64*: seeded, std-only.
fn rng(mut state: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn random_traffic(x: &mut Exchange, first_coid: u64, n: u64, seed: u64) {
    let mut r = rng(seed);
    for coid in first_coid..first_coid + n {
        match r(10) {
            0..=6 => {
                let side = if r(2) == 0 { Side::Buy } else { Side::Sell };
                x.order(coid, side, 95 + r(11) as i64, 1 + r(9));
            }
            7 | 8 => x.apply(Command::Cancel(Cancel {
                account: 7 + (coid % 2) as u32,
                client_order_id: coid.saturating_sub(1 + 2 * r(5)),
            })),
            _ => x.apply(Command::Replace(Replace {
                account: 7 + (coid % 2) as u32,
                orig_client_order_id: coid.saturating_sub(2 * (1 + r(5))),
                client_order_id: coid,
                price: 95 + r(11) as i64,
                qty: 1 + r(9),
            })),
        }
    }
}

#[test]
fn snapshot_then_incrementals_rebuild_the_engines_book_with_no_gap() {
    let mut x = Exchange::new(settings());
    random_traffic(&mut x, 1, 300, 11);
    x.login(1);
    x.subscribe(1, 1, FeedKind::L3, 0);
    x.subscribe(1, 1, FeedKind::L2, 3);
    let mut book = ClientBook::default();
    let mut levels = ClientLevels::default();
    let first = x.drain(1);
    assert!(matches!(
        first[0],
        ServerMessage::SnapshotBegin {
            feed: FeedKind::L3,
            ..
        }
    ));
    for m in &first {
        book.apply(m);
        levels.apply(m);
    }
    assert_eq!(book.sides, ClientBook::of_engine(&x.engine));
    for round in 0..20 {
        random_traffic(&mut x, 1000 + round * 50, 50, round);
        for m in x.drain(1) {
            book.apply(&m);
            levels.apply(&m);
        }
        assert_eq!(book.sides, ClientBook::of_engine(&x.engine));
        assert_eq!(levels.best(3), engine_levels(&x.engine, 3));
    }
}

#[test]
fn the_l2_feed_of_depth_0_reports_every_level_when_offered() {
    let mut x = Exchange::new(settings());
    x.login(1);
    x.subscribe(1, 1, FeedKind::L2, 0);
    let refused = x.drain(1);
    assert!(matches!(
        refused[..],
        [ServerMessage::FeedRejected {
            reason: FeedRejectReason::BadDepth,
            ..
        }]
    ));
    let mut x = Exchange::new(FeedSettings {
        l2_depths: vec![0],
        ..settings()
    });
    random_traffic(&mut x, 1, 300, 5);
    x.login(1);
    x.subscribe(1, 1, FeedKind::L2, 0);
    let mut levels = ClientLevels::default();
    for round in 0..10 {
        for m in x.drain(1) {
            levels.apply(&m);
        }
        let every = engine_levels(&x.engine, usize::MAX);
        assert!(
            every.iter().any(|side| side.len() > 3),
            "a book deeper than 3"
        );
        assert_eq!(levels.best(usize::MAX), every);
        random_traffic(&mut x, 1000 + round * 50, 50, round);
    }
}

#[test]
fn incrementals_wait_to_be_coalesced_while_snapshots_and_large_backlogs_go_at_once() {
    let mut x = Exchange::new(FeedSettings {
        coalesce_ns: 1000,
        coalesce_bytes: 400,
        ..settings()
    });
    random_traffic(&mut x, 1, 50, 3);
    x.login(1);
    x.subscribe(1, 1, FeedKind::L3, 0);
    let mut book = ClientBook::default();
    for m in x.drain_at(1, 5_000) {
        book.apply(&m);
    }
    assert_eq!(
        book.sides,
        ClientBook::of_engine(&x.engine),
        "the snapshot at once"
    );
    x.order(100, Side::Buy, 90, 1);
    assert!(x.drain_at(1, 10_000).is_empty());
    assert_eq!(x.core.held_due_ns(), Some(11_000));
    x.order(102, Side::Buy, 91, 1);
    assert!(
        x.drain_at(1, 10_999).is_empty(),
        "held until the oldest is due"
    );
    assert!(
        !x.core.has_pending(),
        "a held session is not drained over and over"
    );
    let got = x.drain_at(1, 11_000);
    assert_eq!(got.len(), 2);
    got.iter().for_each(|m| book.apply(m));
    assert_eq!(book.sides, ClientBook::of_engine(&x.engine));
    assert_eq!(x.core.held_due_ns(), None);
    let mut coid = 200;
    let mut got = Vec::new();
    while got.is_empty() {
        assert!(coid < 300, "a backlog past coalesce_bytes is never written");
        x.order(coid, Side::Sell, 200, 1);
        coid += 2;
        got = x.drain_at(1, 20_000);
    }
    got.iter().for_each(|m| book.apply(m));
    assert_eq!(
        book.sides,
        ClientBook::of_engine(&x.engine),
        "past the size: at once"
    );
}

#[test]
fn a_snapshot_carries_the_books_checksum_and_covers_up_to_the_first_incremental() {
    let mut x = Exchange::new(settings());
    random_traffic(&mut x, 1, 200, 5);
    x.login(1);
    x.subscribe(1, ALL_INSTRUMENTS, FeedKind::L3, 0);
    let got = x.drain(1);
    let ServerMessage::SnapshotBegin {
        feed_seq,
        count,
        checksum,
        ..
    } = got[0]
    else {
        panic!("{:?}", got[0]);
    };
    let mut sum = market_data::BookChecksum::new();
    for m in &got[1..1 + count as usize] {
        let ServerMessage::SnapshotOrder {
            side,
            price,
            order_id,
            qty,
            ..
        } = *m
        else {
            panic!("{m:?}");
        };
        sum.order(side, price, order_id, qty);
    }
    assert_eq!(sum.finish(), checksum);
    assert!(
        matches!(got[1 + count as usize], ServerMessage::SnapshotEnd { feed_seq: f, .. } if f == feed_seq)
    );
    x.order(5000, Side::Buy, 1, 1);
    let next = x.drain(1);
    assert!(matches!(next[0], ServerMessage::OrderAdded { at, .. } if at.feed_seq == feed_seq + 1));
}

#[test]
fn bad_requests_are_refused_with_a_reason() {
    let mut x = Exchange::new(settings());
    x.login(1);
    let rejected = |x: &mut Exchange| match x.drain(1)[..] {
        [ServerMessage::FeedRejected { reason, feed, .. }] => (feed, reason),
        ref other => panic!("{other:?}"),
    };
    x.subscribe(1, 5, FeedKind::L3, 0);
    assert_eq!(
        rejected(&mut x),
        (Some(FeedKind::L3), FeedRejectReason::UnknownInstrument)
    );
    x.subscribe(1, 1, FeedKind::L2, 10);
    assert_eq!(
        rejected(&mut x),
        (Some(FeedKind::L2), FeedRejectReason::BadDepth)
    );
    x.send(
        1,
        ClientMessage::Subscribe {
            instrument: 5,
            subscribe: true,
        },
    );
    assert_eq!(
        rejected(&mut x),
        (None, FeedRejectReason::UnknownInstrument)
    );
    let resend = ClientMessage::ResendRequest {
        instrument: 1,
        feed: FeedKind::L3,
        depth: 0,
        from_seq: 1,
        to_seq: 1,
    };
    x.send(1, resend);
    assert_eq!(
        rejected(&mut x),
        (Some(FeedKind::L3), FeedRejectReason::NotSubscribed)
    );
    x.subscribe(1, 1, FeedKind::L3, 0);
    x.subscribe(1, 1, FeedKind::Trades, 0);
    x.subscribe(1, 1, FeedKind::L2, 1);
    x.subscribe(1, 1, FeedKind::L2, 3);
    x.drain(1);
    x.subscribe(1, ALL_INSTRUMENTS, FeedKind::L3, 0);
    assert_eq!(
        rejected(&mut x),
        (Some(FeedKind::L3), FeedRejectReason::TooManySubscriptions)
    );
}

#[test]
fn resends_come_from_the_window_or_else_a_snapshot() {
    let mut x = Exchange::new(settings());
    x.login(1);
    x.subscribe(1, 1, FeedKind::L3, 0);
    x.drain(1);
    random_traffic(&mut x, 1, 100, 3);
    let live: Vec<ServerMessage> = x.drain(1);
    let last = match live.last().unwrap() {
        ServerMessage::OrderAdded { at, .. }
        | ServerMessage::OrderReduced { at, .. }
        | ServerMessage::OrderRemoved { at, .. }
        | ServerMessage::OrderReplaced { at, .. }
        | ServerMessage::Trade { at, .. } => at.feed_seq,
        other => panic!("{other:?}"),
    };
    let resend = |from_seq, to_seq| ClientMessage::ResendRequest {
        instrument: 1,
        feed: FeedKind::L3,
        depth: 0,
        from_seq,
        to_seq,
    };
    x.send(1, resend(last - 9, last));
    assert_eq!(x.drain(1), live[live.len() - 10..]);
    // The window holds 64: older ones are answered with a snapshot.
    x.send(1, resend(last - 64, last - 60));
    let got = x.drain(1);
    assert!(matches!(
        got[0],
        ServerMessage::FeedRejected {
            reason: FeedRejectReason::ResendOutOfWindow,
            ..
        }
    ));
    assert!(matches!(got[1], ServerMessage::SnapshotBegin { feed_seq, .. } if feed_seq == last));
    x.send(1, resend(last, last + 1));
    assert!(matches!(
        x.drain(1)[..],
        [ServerMessage::FeedRejected {
            reason: FeedRejectReason::BadRange,
            ..
        }]
    ));
}

#[test]
fn a_stalled_subscriber_is_conflated_to_a_snapshot_or_disconnected() {
    for conflate in [true, false] {
        let mut x = Exchange::new(FeedSettings {
            backlog_bytes: 2000,
            conflate,
            ..settings()
        });
        x.login(1);
        x.login(2);
        x.subscribe(1, 1, FeedKind::L3, 0);
        x.subscribe(2, 1, FeedKind::L3, 0);
        let mut book = ClientBook::default();
        let of_2 = |writes: &[(u64, Vec<u8>)], book: &mut ClientBook| {
            for (_, bytes) in writes.iter().filter(|(s, _)| *s == 2) {
                messages(bytes).iter().for_each(|m| book.apply(m));
            }
        };
        of_2(&x.core.drain(0).0, &mut book);
        x.core.set_paused(1, true);
        // The other subscriber reads as it goes and gets everything as it happens.
        let mut slow = Vec::new();
        for coid in 1..200 {
            random_traffic(&mut x, coid, 1, coid);
            let (writes, now_slow) = x.core.drain(0);
            of_2(&writes, &mut book);
            slow.extend(now_slow);
        }
        assert_eq!(book.sides, ClientBook::of_engine(&x.engine));
        if conflate {
            assert!(slow.is_empty());
            assert!(x.core.feeds.counters.conflations > 0);
            x.core.set_paused(1, false);
            let got = x.drain(1);
            let mut book = ClientBook::default();
            got.iter().for_each(|m| book.apply(m));
            assert!(got
                .iter()
                .any(|m| matches!(m, ServerMessage::SnapshotBegin { .. })));
            assert_eq!(book.sides, ClientBook::of_engine(&x.engine));
        } else {
            assert!(!slow.is_empty() && slow.iter().all(|&s| s == 1));
            // What it did not read stays unread: its Goodbye goes first in line.
            let ended = x
                .core
                .end_session(1, Some((SessionEndReason::SlowConsumer, 0)));
            assert!(
                matches!(messages(&ended)[..], [ServerMessage::Goodbye { .. }]),
                "{:?}",
                messages(&ended)
            );
        }
    }
}

#[test]
fn a_quiet_feeds_subscriber_keeps_its_place_while_other_feeds_pass_the_bound() {
    let mut x = Exchange::new(FeedSettings {
        backlog_bytes: 2000,
        ..settings()
    });
    x.apply(Command::AddInstrument(InstrumentSpec {
        instrument: 2,
        tick_size: 1,
        lot_size: 1,
        reference_price: 100,
        price_band_bps: 0,
    }));
    x.login(1);
    x.login(2);
    x.subscribe(1, 2, FeedKind::L3, 0);
    x.subscribe(2, 1, FeedKind::L3, 0);
    x.core.drain(0);
    // Instrument 1's feed carries many times the bound, read as it goes; instrument 2's
    // subscriber is told of none of it.
    let mut busy = 0;
    for coid in 1..200 {
        random_traffic(&mut x, coid, 1, coid);
        let (writes, slow) = x.core.drain(0);
        assert!(slow.is_empty());
        assert!(writes.iter().all(|(sid, _)| *sid == 2));
        busy += writes.iter().map(|(_, b)| b.len()).sum::<usize>();
    }
    assert!(busy > 5 * 2000, "{busy} bytes");
    x.apply(Command::NewOrder(NewOrder {
        account: 7,
        instrument: 2,
        client_order_id: 1000,
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        post_only: false,
        price: 99,
        qty: 3,
    }));
    let got = x.drain(1);
    assert!(
        matches!(
            got[..],
            [ServerMessage::OrderAdded { at, qty: 3, .. }] if at.instrument == 2
        ),
        "its incremental, not a snapshot: {got:?}"
    );
    assert_eq!(x.core.feeds.counters.conflations, 0);
}

/// Subscribers that stall and resume at random under a small backlog bound: whenever
/// one is written to, the book it rebuilds is the engine's, with no gap (ClientBook
/// panics on one). The shared log keeps each one's place, or cuts it to a snapshot.
#[test]
fn subscribers_stalling_at_random_always_rebuild_the_book_without_a_gap() {
    let mut x = Exchange::new(FeedSettings {
        backlog_bytes: 1500,
        ..settings()
    });
    let sids = [1, 2, 3, 4];
    let mut books: [ClientBook; 4] = Default::default();
    let mut paused = [false; 4];
    for &sid in &sids {
        x.login(sid);
    }
    // Every snapshot comes in the loop's first drain (a login drains every session).
    for &sid in &sids {
        x.subscribe(sid, 1, FeedKind::L3, 0);
    }
    let mut r = rng(11);
    for round in 0..600 {
        if r(4) == 0 {
            let i = r(4) as usize;
            paused[i] = !paused[i];
            x.core.set_paused(sids[i], paused[i]);
        } else {
            random_traffic(&mut x, 1 + round, 1, round);
        }
        let (writes, slow) = x.core.drain(0);
        assert!(slow.is_empty());
        for (sid, bytes) in &writes {
            let book = &mut books[(*sid - 1) as usize];
            messages(bytes).iter().for_each(|m| book.apply(m));
        }
        for (i, book) in books.iter().enumerate() {
            if !paused[i] {
                assert_eq!(
                    book.sides,
                    ClientBook::of_engine(&x.engine),
                    "round {round}"
                );
            }
        }
    }
    assert!(
        x.core.feeds.counters.conflations > 0,
        "some fell past the bound"
    );
}

#[test]
fn top_of_book_and_trade_reports_come_from_the_feed_on_the_engines_clock() {
    let mut x = Exchange::new(settings());
    x.order(1, Side::Sell, 101, 5);
    x.login(1);
    x.send(
        1,
        ClientMessage::Subscribe {
            instrument: 1,
            subscribe: true,
        },
    );
    assert!(matches!(
        x.drain(1)[..],
        [ServerMessage::TopOfBook {
            timestamp_ns,
            ask_price: 101,
            ask_qty: 5,
            bid_qty: 0,
            ..
        }] if timestamp_ns == EPOCH_NS + 4000
    ));
    x.order(2, Side::Buy, 101, 2);
    match x.drain(1)[..] {
        [ServerMessage::TradeReport {
            qty: 2,
            price: 101,
            aggressor_side: Side::Buy,
            timestamp_ns: t1,
            ..
        }, ServerMessage::TopOfBook {
            ask_qty: 3,
            timestamp_ns: t2,
            ..
        }] => assert!(t1 == EPOCH_NS + 5000 && t2 == t1),
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn a_gap_in_the_engines_history_stops_the_feeds() {
    let mut x = Exchange::new(settings());
    x.login(1);
    x.seq += 1;
    x.order(1, Side::Sell, 101, 5);
    assert!(x.core.feeds.stopped());
    x.subscribe(1, 1, FeedKind::L3, 0);
    assert!(matches!(
        x.drain(1)[..],
        [ServerMessage::FeedRejected {
            reason: FeedRejectReason::Unavailable,
            ..
        }]
    ));
}

#[test]
fn removed_orders_say_why() {
    let mut x = Exchange::new(settings());
    x.login(1);
    x.subscribe(1, 1, FeedKind::L3, 0);
    x.drain(1);
    x.order(1, Side::Sell, 101, 5);
    x.apply(Command::Cancel(Cancel {
        account: 8,
        client_order_id: 1,
    }));
    let got = x.drain(1);
    assert!(matches!(
        got[1],
        ServerMessage::OrderRemoved {
            reason: RemoveReason::Cancelled,
            qty: 5,
            ..
        }
    ));
}

#[test]
fn random_feed_requests_are_answered_or_refused_and_never_panic() {
    let mut x = Exchange::new(FeedSettings {
        backlog_bytes: 4096,
        ..settings()
    });
    x.login(1);
    let mut r = rng(77);
    let feeds = [FeedKind::L3, FeedKind::L2, FeedKind::Trades];
    for round in 0..2000 {
        let instrument = [0, 1, 2, ALL_INSTRUMENTS][r(4) as usize];
        let feed = feeds[r(3) as usize];
        let depth = [0, 1, 3, 255][r(4) as usize];
        let message = match r(3) {
            0 => ClientMessage::FeedSubscribe {
                instrument,
                feed,
                depth,
                subscribe: r(4) != 0,
            },
            1 => ClientMessage::ResendRequest {
                instrument,
                feed,
                depth,
                from_seq: [0, 1, r(500), u64::MAX][r(4) as usize],
                to_seq: [0, r(500), 1000, u64::MAX][r(4) as usize],
            },
            _ => ClientMessage::Subscribe {
                instrument,
                subscribe: r(2) == 0,
            },
        };
        x.send(1, message);
        if round % 10 == 0 {
            random_traffic(&mut x, 1 + round, 3, round);
        }
        // Every answer decodes (messages() unwraps each frame).
        x.drain(1);
    }
}

#[test]
fn snapshots_of_every_instrument_go_out_a_book_at_a_time_within_the_drain_budget() {
    let mut x = Exchange::with_limits(
        Limits {
            drain_bytes: 64,
            ..limits()
        },
        settings(),
    );
    for instrument in [2, 3] {
        x.apply(Command::AddInstrument(InstrumentSpec {
            instrument,
            tick_size: 1,
            lot_size: 1,
            reference_price: 100,
            price_band_bps: 0,
        }));
    }
    random_traffic(&mut x, 1, 100, 21);
    x.login(1);
    x.subscribe(1, ALL_INSTRUMENTS, FeedKind::L3, 0);
    let mut begins = Vec::new();
    let mut drains = 0;
    let mut book = ClientBook::default();
    while begins.len() < 3 {
        drains += 1;
        assert!(drains < 10, "snapshots never finished: {begins:?}");
        for m in x.drain(1) {
            if let ServerMessage::SnapshotBegin { instrument, .. } = m {
                begins.push(instrument);
            }
            if begins.last() == Some(&1) {
                book.apply(&m);
            }
        }
    }
    assert_eq!(begins, [1, 2, 3]);
    // Instrument 1's book alone is past the budget; the two empty ones fit in one drain.
    assert_eq!(drains, 2);
    assert_eq!(book.sides, ClientBook::of_engine(&x.engine));
}

#[test]
fn an_orders_answer_goes_out_before_the_feeds_of_its_command_are_built() {
    let mut x = Exchange::new(settings());
    x.login(1);
    x.subscribe(1, 1, FeedKind::L3, 0);
    x.drain(1);
    // Session 2 is account 8's: its orders have odd client order ids.
    x.core.open_session(2, 0);
    let login = ClientMessage::Login {
        username: encode_text("t").unwrap(),
        password: encode_text("p").unwrap(),
        next_seq: 0,
    };
    x.core.feed_session(2, &framed(&login), 0);
    x.core.accept_login(2, 8, Role::ReadOnly, 0, 0, 1, false, 0);
    x.drain(2);
    x.order(1, Side::Sell, 101, 5);
    let (writes, slow) = x.core.drain_sessions(0);
    assert!(slow.is_empty());
    let to = |sid| {
        writes
            .iter()
            .filter(|(s, _)| *s == sid)
            .flat_map(|(_, b)| messages(b))
            .collect::<Vec<_>>()
    };
    assert!(matches!(to(2)[..], [ServerMessage::Accepted { .. }]));
    assert!(to(1).is_empty());
    assert!(x.core.has_pending());
    x.core.publish_feeds();
    assert!(matches!(
        x.drain_at(1, 0)[..],
        [ServerMessage::OrderAdded { price: 101, .. }]
    ));
}

#[test]
fn a_subscriber_handed_to_the_socket_writer_gets_its_snapshot_then_every_incremental() {
    let mut x = Exchange::new(settings());
    start_writer(&mut x, false);
    random_traffic(&mut x, 1, 300, 11);
    x.login(1);
    x.subscribe(1, 1, FeedKind::L3, 0);
    let mut reader = hand_to_writer(&mut x, 1);
    let reading = std::thread::spawn(move || {
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        got
    });
    for round in 0..20 {
        random_traffic(&mut x, 1000 + round * 50, 50, round);
        assert!(x.drain(1).is_empty(), "the writer writes this session");
    }
    let logout = Some((SessionEndReason::Logout, 0));
    assert!(x.core.end_session(1, logout).is_empty());
    let got = messages(&reading.join().unwrap());
    assert!(matches!(got[0], ServerMessage::SnapshotBegin { .. }));
    assert!(matches!(got.last(), Some(ServerMessage::Goodbye { .. })));
    let mut book = ClientBook::default();
    got.iter().for_each(|m| book.apply(m));
    assert_eq!(book.sides, ClientBook::of_engine(&x.engine));
}

#[test]
fn a_subscriber_the_idle_socket_writer_serves_is_never_held_for_coalescing() {
    let (mut x, mut reader, mut got) = subscribed_through_writer(true);
    x.order(100, Side::Buy, 90, 1);
    let added = |m: &ServerMessage| matches!(m, ServerMessage::OrderAdded { price: 90, .. });
    pump_until(&mut x, &mut reader, &mut got, added);
}

#[test]
fn a_subscriber_a_normal_priority_writer_serves_is_held_for_coalescing() {
    let (mut x, _reader, _) = subscribed_through_writer(false);
    x.order(100, Side::Buy, 90, 1);
    for _ in 0..500 {
        assert!(x.core.writer_events().is_empty(), "no socket failed");
        assert!(x.drain(1).is_empty(), "the writer writes this session");
        if x.core.held_due_ns() == Some(COALESCE_NS) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the incremental was never held for the interval");
}

/// An interval no test outlasts: only the writer's own pace may gather the bytes.
const COALESCE_NS: u64 = 60_000 * MS;

/// A subscriber of instrument 1's L3 feed handed to a socket writer, with its snapshot
/// read: the exchange, the subscriber's socket and the bytes it has read.
fn subscribed_through_writer(idle_priority: bool) -> (Exchange, TcpStream, Vec<u8>) {
    let mut x = Exchange::new(FeedSettings {
        coalesce_ns: COALESCE_NS,
        ..settings()
    });
    start_writer(&mut x, idle_priority);
    x.login(1);
    x.subscribe(1, 1, FeedKind::L3, 0);
    let mut reader = hand_to_writer(&mut x, 1);
    reader
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut got = Vec::new();
    let snapshot_end = |m: &ServerMessage| matches!(m, ServerMessage::SnapshotEnd { .. });
    pump_until(&mut x, &mut reader, &mut got, snapshot_end);
    (x, reader, got)
}

fn start_writer(x: &mut Exchange, idle_priority: bool) {
    let writer = WriterSettings {
        bound_bytes: 1 << 20,
        close_grace: Duration::from_secs(5),
        idle_priority,
    };
    x.core.start_writer(writer).unwrap();
}

/// Hands the session, the only one waiting for the writer, to it on a loopback socket;
/// returns the client's end.
fn hand_to_writer(x: &mut Exchange, sid: u64) -> TcpStream {
    assert_eq!(x.core.take_writer_requests(), [sid]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let reader = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (socket, _) = listener.accept().unwrap();
    socket.set_nonblocking(true).unwrap();
    assert!(x.core.hand_over(sid, socket.as_fd()).unwrap());
    reader // the writer's duplicate keeps the gateway's end open
}

/// Drains the core, the clock standing still at 0, as the server would, and reads what
/// the socket writer sent, until a message that matches arrives (bounded: 10 s).
fn pump_until(
    x: &mut Exchange,
    reader: &mut TcpStream,
    got: &mut Vec<u8>,
    wanted: impl Fn(&ServerMessage) -> bool,
) {
    let mut buf = [0u8; 4096];
    for _ in 0..500 {
        // As the server does when the writer's wake-up fd is readable.
        assert!(x.core.writer_events().is_empty(), "no socket failed");
        assert!(x.drain(1).is_empty(), "the writer writes this session");
        assert_eq!(x.core.held_due_ns(), None, "never held for the interval");
        if let Ok(n) = reader.read(&mut buf) {
            assert!(n > 0, "the session stays open");
            got.extend_from_slice(&buf[..n]);
        }
        if whole_frames(got).0.iter().any(&wanted) {
            return;
        }
    }
    panic!("the message never reached the socket while the clock stood still");
}
