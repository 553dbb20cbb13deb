//! Hand-written scenarios for each order type and command, read as specifications.

use ringex_core::*;

const INST: InstrumentId = 7;
const ALICE: AccountId = 1;
const BOB: AccountId = 2;

struct Harness {
    engine: Engine,
    seq: Seq,
    out: Vec<Event>,
}

impl Harness {
    fn new() -> Harness {
        let config = EngineConfig {
            max_orders: 64,
            max_instruments: 16,
            max_accounts: 16,
            max_client_ids_per_day: 256,
            levels_per_side: 8,
        };
        let mut h = Harness {
            engine: Engine::new(config).unwrap(),
            seq: 0,
            out: Vec::new(),
        };
        h.run(Command::AddInstrument(InstrumentSpec {
            instrument: INST,
            tick_size: 5,
            lot_size: 10,
            reference_price: 1000,
            price_band_bps: 1000,
        }));
        for account in [ALICE, BOB] {
            h.run(Command::AddAccount(AccountSpec {
                account,
                limits: AccountLimits {
                    max_order_qty: 1000,
                    max_order_notional: 1_000_000,
                    max_open_orders: 4,
                },
            }));
        }
        h
    }

    fn run(&mut self, cmd: Command) -> Vec<Event> {
        self.seq += 1;
        self.out.clear();
        self.engine
            .apply(self.seq, self.seq * 1000, &cmd, &mut self.out);
        self.engine.check_invariants().unwrap();
        self.out.clone()
    }

    fn order(
        &mut self,
        account: AccountId,
        id: ClientOrderId,
        side: Side,
        price: Price,
        qty: Qty,
        tif: TimeInForce,
    ) -> Vec<Event> {
        self.run(Command::NewOrder(NewOrder {
            account,
            instrument: INST,
            client_order_id: id,
            side,
            order_type: OrderType::Limit,
            time_in_force: tif,
            post_only: false,
            price,
            qty,
        }))
    }
}

fn reject_reason(events: &[Event]) -> Option<RejectReason> {
    match events {
        [Event::Rejected { reason, .. }] => Some(*reason),
        _ => None,
    }
}

fn trades(events: &[Event]) -> Vec<(Price, Qty, ClientOrderId)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Trade(t) => Some((t.price, t.qty, t.maker_client_order_id)),
            _ => None,
        })
        .collect()
}

#[test]
fn limit_orders_match_in_price_then_time_priority() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Sell, 1010, 10, TimeInForce::Gtc);
    h.order(ALICE, 2, Side::Sell, 1005, 10, TimeInForce::Gtc);
    h.order(BOB, 3, Side::Sell, 1005, 10, TimeInForce::Gtc);
    let events = h.order(BOB, 4, Side::Buy, 1010, 30, TimeInForce::Gtc);
    assert_eq!(
        trades(&events),
        vec![(1005, 10, 2), (1005, 10, 3), (1010, 10, 1)]
    );
    assert_eq!(h.engine.position(BOB, INST), Some(20));
    assert_eq!(h.engine.position(ALICE, INST), Some(-20));
    assert_eq!(h.engine.resting_orders(), 0);
}

#[test]
fn partial_fill_rests_the_remainder() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Sell, 1000, 10, TimeInForce::Gtc);
    let events = h.order(BOB, 2, Side::Buy, 1000, 30, TimeInForce::Day);
    assert_eq!(trades(&events), vec![(1000, 10, 1)]);
    let book = h.engine.book_view(INST).unwrap();
    assert_eq!(book.bids.len(), 1);
    assert_eq!(book.bids[0].orders[0].leaves, 20);
    assert_eq!(book.bids[0].orders[0].filled, 10);
}

#[test]
fn ioc_fok_and_market_never_rest() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Sell, 1000, 10, TimeInForce::Gtc);
    let ioc = h.order(BOB, 2, Side::Buy, 1000, 20, TimeInForce::Ioc);
    assert!(matches!(
        ioc.last(),
        Some(Event::Cancelled {
            qty: 10,
            reason: CancelReason::ImmediateRemainder,
            ..
        })
    ));
    h.order(ALICE, 3, Side::Sell, 1000, 10, TimeInForce::Gtc);
    let fok = h.order(BOB, 4, Side::Buy, 1000, 20, TimeInForce::Fok);
    assert_eq!(trades(&fok), vec![]);
    assert!(matches!(
        fok.last(),
        Some(Event::Cancelled {
            qty: 20,
            reason: CancelReason::FillOrKill,
            ..
        })
    ));
    let market = h.run(Command::NewOrder(NewOrder {
        account: BOB,
        instrument: INST,
        client_order_id: 5,
        side: Side::Buy,
        order_type: OrderType::Market,
        time_in_force: TimeInForce::Ioc,
        post_only: false,
        price: 0,
        qty: 20,
    }));
    assert_eq!(trades(&market), vec![(1000, 10, 3)]);
    let empty = h.run(Command::NewOrder(NewOrder {
        account: BOB,
        instrument: INST,
        client_order_id: 6,
        side: Side::Buy,
        order_type: OrderType::Market,
        time_in_force: TimeInForce::Ioc,
        post_only: false,
        price: 0,
        qty: 20,
    }));
    assert!(matches!(
        empty.last(),
        Some(Event::Cancelled {
            reason: CancelReason::NoLiquidity,
            ..
        })
    ));
    assert_eq!(h.engine.resting_orders(), 0);
}

#[test]
fn replace_keeps_priority_only_when_reducing_at_the_same_price() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Buy, 1000, 20, TimeInForce::Gtc);
    h.order(BOB, 2, Side::Buy, 1000, 20, TimeInForce::Gtc);
    let reduce = h.run(Command::Replace(Replace {
        account: ALICE,
        orig_client_order_id: 1,
        client_order_id: 11,
        price: 1000,
        qty: 10,
    }));
    assert!(matches!(
        reduce[0],
        Event::Replaced {
            priority_kept: true,
            ..
        }
    ));
    let book = h.engine.book_view(INST).unwrap();
    assert_eq!(book.bids[0].orders[0].client_order_id, 11);
    let grow = h.run(Command::Replace(Replace {
        account: ALICE,
        orig_client_order_id: 11,
        client_order_id: 11,
        price: 1000,
        qty: 30,
    }));
    assert!(matches!(
        grow[0],
        Event::Replaced {
            priority_kept: false,
            ..
        }
    ));
    let book = h.engine.book_view(INST).unwrap();
    assert_eq!(book.bids[0].orders[0].client_order_id, 2);
    assert_eq!(book.bids[0].total_qty, 50);
    // The old id is spent for the day.
    let reuse = h.order(ALICE, 1, Side::Buy, 1000, 10, TimeInForce::Gtc);
    assert_eq!(
        reject_reason(&reuse),
        Some(RejectReason::DuplicateClientOrderId)
    );
}

#[test]
fn replace_to_a_crossing_price_trades() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Sell, 1010, 10, TimeInForce::Gtc);
    h.order(BOB, 2, Side::Buy, 1000, 20, TimeInForce::Gtc);
    let events = h.run(Command::Replace(Replace {
        account: BOB,
        orig_client_order_id: 2,
        client_order_id: 2,
        price: 1010,
        qty: 20,
    }));
    assert_eq!(trades(&events), vec![(1010, 10, 1)]);
    assert_eq!(h.engine.open_order_view(BOB, 2).unwrap().leaves, 10);
}

#[test]
fn post_only_that_would_cross_is_rejected() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Sell, 1000, 10, TimeInForce::Gtc);
    let events = h.run(Command::NewOrder(NewOrder {
        account: BOB,
        instrument: INST,
        client_order_id: 2,
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        post_only: true,
        price: 1000,
        qty: 10,
    }));
    assert_eq!(
        reject_reason(&events),
        Some(RejectReason::PostOnlyWouldCross)
    );
}

#[test]
fn risk_and_shape_rejects() {
    let mut h = Harness::new();
    let cases = [
        (1001, 10, RejectReason::PriceNotOnTick),
        (1000, 15, RejectReason::QtyNotOnLot),
        (1000, 0, RejectReason::InvalidQuantity),
        (0, 10, RejectReason::InvalidPrice),
        (1000, 2000, RejectReason::MaxOrderQty),
        (1200, 10, RejectReason::PriceBand),
    ];
    for (i, (price, qty, reason)) in cases.into_iter().enumerate() {
        let events = h.order(
            ALICE,
            100 + i as u64,
            Side::Buy,
            price,
            qty,
            TimeInForce::Gtc,
        );
        assert_eq!(
            reject_reason(&events),
            Some(reason),
            "price {price} qty {qty}"
        );
    }
    for id in 0..4 {
        h.order(ALICE, id, Side::Buy, 950, 10, TimeInForce::Gtc);
    }
    let events = h.order(ALICE, 9, Side::Buy, 950, 10, TimeInForce::Gtc);
    assert_eq!(reject_reason(&events), Some(RejectReason::MaxOpenOrders));
}

#[test]
fn cancel_mass_cancel_and_end_of_day() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Buy, 990, 10, TimeInForce::Gtc);
    h.order(ALICE, 2, Side::Buy, 995, 10, TimeInForce::Day);
    h.order(ALICE, 3, Side::Sell, 1010, 10, TimeInForce::Day);
    let cancel = h.run(Command::Cancel(Cancel {
        account: ALICE,
        client_order_id: 1,
    }));
    assert!(matches!(
        cancel[0],
        Event::Cancelled {
            reason: CancelReason::Requested,
            ..
        }
    ));
    let again = h.run(Command::Cancel(Cancel {
        account: ALICE,
        client_order_id: 1,
    }));
    assert_eq!(reject_reason(&again), Some(RejectReason::TooLateToCancel));
    let other = h.run(Command::Cancel(Cancel {
        account: BOB,
        client_order_id: 2,
    }));
    assert_eq!(reject_reason(&other), Some(RejectReason::UnknownOrder));
    h.order(ALICE, 4, Side::Buy, 985, 10, TimeInForce::Gtc);
    let eod = h.run(Command::EndOfDay);
    assert_eq!(eod.last(), Some(&Event::DayEnded { expired: 2 }));
    assert_eq!(h.engine.resting_orders(), 1);
    // A new day frees finished ids, not those of resting orders.
    assert!(matches!(
        h.order(ALICE, 1, Side::Buy, 980, 10, TimeInForce::Gtc)[0],
        Event::Accepted { .. }
    ));
    let resting = h.order(ALICE, 4, Side::Buy, 980, 10, TimeInForce::Gtc);
    assert_eq!(
        reject_reason(&resting),
        Some(RejectReason::DuplicateClientOrderId)
    );
    let mass = h.run(Command::MassCancel(MassCancel {
        account: ALICE,
        instrument: None,
    }));
    assert_eq!(
        mass.last(),
        Some(&Event::MassCancelled {
            account: ALICE,
            instrument: None,
            count: 2
        })
    );
}

#[test]
fn halted_instruments_refuse_orders_but_allow_cancels() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Buy, 990, 10, TimeInForce::Gtc);
    h.run(Command::SetHalted {
        instrument: INST,
        halted: true,
    });
    let refused = h.order(ALICE, 2, Side::Buy, 990, 10, TimeInForce::Gtc);
    assert_eq!(
        reject_reason(&refused),
        Some(RejectReason::InstrumentHalted)
    );
    let cancel = h.run(Command::Cancel(Cancel {
        account: ALICE,
        client_order_id: 1,
    }));
    assert!(matches!(cancel[0], Event::Cancelled { .. }));
}

#[test]
fn out_of_sequence_commands_change_nothing() {
    let mut h = Harness::new();
    let before = h.engine.state_hash();
    let mut out = Vec::new();
    h.engine
        .apply(h.seq + 2, u64::MAX, &Command::EndOfDay, &mut out);
    assert_eq!(reject_reason(&out), Some(RejectReason::SequenceGap));
    out.clear();
    h.engine.apply(h.seq + 1, 0, &Command::EndOfDay, &mut out);
    assert_eq!(reject_reason(&out), Some(RejectReason::TimestampRegressed));
    assert_eq!(h.engine.state_hash(), before);
}

#[test]
fn a_reduction_stays_allowed_after_the_band_moves_away() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Buy, 905, 20, TimeInForce::Gtc);
    h.order(BOB, 2, Side::Sell, 1095, 20, TimeInForce::Gtc);
    h.order(ALICE, 3, Side::Buy, 1095, 10, TimeInForce::Ioc);
    let band = h.engine.instrument_view(INST).unwrap().band;
    assert_eq!(band, Some((990, 1200)), "the band follows the trade");
    let replace = |qty| {
        Command::Replace(Replace {
            account: ALICE,
            orig_client_order_id: 1,
            client_order_id: 1,
            price: 905,
            qty,
        })
    };
    let reduce = h.run(replace(10));
    assert!(matches!(
        reduce[..],
        [Event::Replaced {
            priority_kept: true,
            qty: 10,
            ..
        }]
    ));
    // More quantity at a price outside the band is still a price being entered.
    assert_eq!(
        reject_reason(&h.run(replace(20))),
        Some(RejectReason::PriceBand)
    );
}

fn expired(events: &[Event]) -> Vec<(AccountId, ClientOrderId)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Expired {
                account,
                client_order_id,
                ..
            } => Some((*account, *client_order_id)),
            _ => None,
        })
        .collect()
}

#[test]
fn end_of_day_expires_day_orders_by_account_then_age() {
    let mut h = Harness::new();
    h.order(BOB, 1, Side::Buy, 950, 10, TimeInForce::Day);
    h.order(ALICE, 2, Side::Buy, 955, 10, TimeInForce::Day);
    h.order(ALICE, 3, Side::Sell, 1050, 10, TimeInForce::Day);
    h.order(ALICE, 4, Side::Buy, 960, 10, TimeInForce::Gtc);
    // Losing queue priority (and taking a new id) does not make an order younger.
    h.run(Command::Replace(Replace {
        account: ALICE,
        orig_client_order_id: 2,
        client_order_id: 5,
        price: 945,
        qty: 10,
    }));
    let eod = h.run(Command::EndOfDay);
    assert_eq!(expired(&eod), vec![(ALICE, 5), (ALICE, 3), (BOB, 1)]);
    assert_eq!(eod.last(), Some(&Event::DayEnded { expired: 3 }));
}

#[test]
fn a_fill_or_kill_that_cannot_fill_leaves_only_its_id_behind() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Sell, 1000, 10, TimeInForce::Gtc);
    let fok = h.order(BOB, 2, Side::Buy, 1000, 20, TimeInForce::Fok);
    assert!(matches!(
        fok[..],
        [
            Event::Accepted { .. },
            Event::Cancelled {
                qty: 20,
                reason: CancelReason::FillOrKill,
                ..
            }
        ]
    ));
    let top = h.engine.top_of_book(INST).unwrap();
    assert_eq!(top.ask, Some((1000, 10)));
    let cancel = h.run(Command::Cancel(Cancel {
        account: BOB,
        client_order_id: 2,
    }));
    assert_eq!(reject_reason(&cancel), Some(RejectReason::TooLateToCancel));
    let again = h.order(BOB, 2, Side::Buy, 1000, 10, TimeInForce::Fok);
    assert_eq!(
        reject_reason(&again),
        Some(RejectReason::DuplicateClientOrderId)
    );
}

#[test]
fn a_replace_under_a_new_id_retires_the_old_id() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Buy, 990, 20, TimeInForce::Gtc);
    h.run(Command::Replace(Replace {
        account: ALICE,
        orig_client_order_id: 1,
        client_order_id: 2,
        price: 995,
        qty: 20,
    }));
    let cancel = |id| {
        Command::Cancel(Cancel {
            account: ALICE,
            client_order_id: id,
        })
    };
    let old = h.run(cancel(1));
    assert_eq!(reject_reason(&old), Some(RejectReason::TooLateToCancel));
    let new = h.run(cancel(2));
    assert!(matches!(
        new[..],
        [Event::Cancelled {
            client_order_id: 2,
            qty: 20,
            ..
        }]
    ));
}

#[test]
fn a_market_buy_is_sized_at_the_top_of_the_band() {
    let mut h = Harness::new();
    h.order(ALICE, 1, Side::Sell, 1000, 1000, TimeInForce::Gtc);
    let market = |qty| {
        Command::NewOrder(NewOrder {
            account: BOB,
            instrument: INST,
            client_order_id: qty,
            side: Side::Buy,
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Ioc,
            post_only: false,
            price: 0,
            qty,
        })
    };
    // 1000 lots at the band's top (1100) exceed the notional limit, although the only
    // offer (1000) would fit it: the check cannot know where a market order will trade.
    let refused = h.run(market(1000));
    assert_eq!(
        reject_reason(&refused),
        Some(RejectReason::MaxOrderNotional)
    );
    assert_eq!(trades(&h.run(market(900))), vec![(1000, 900, 1)]);
}

#[test]
fn positions_stop_at_the_core_bound_and_reducing_orders_still_pass() {
    let config = EngineConfig {
        max_orders: 16,
        max_instruments: 2,
        max_accounts: 4,
        max_client_ids_per_day: 1 << 14,
        levels_per_side: 4,
    };
    let mut engine = Engine::new(config).unwrap();
    let mut out = Vec::new();
    let mut seq = 0;
    let mut run = |engine: &mut Engine, cmd: Command, out: &mut Vec<Event>| {
        seq += 1;
        out.clear();
        engine.apply(seq, seq, &cmd, out);
    };
    run(
        &mut engine,
        Command::AddInstrument(InstrumentSpec {
            instrument: 1,
            tick_size: 1,
            lot_size: 1,
            reference_price: 1,
            price_band_bps: 0,
        }),
        &mut out,
    );
    let limits = AccountLimits {
        max_order_qty: QTY_MAX,
        max_order_notional: u128::MAX,
        max_open_orders: 16,
    };
    for account in [1, 2] {
        run(
            &mut engine,
            Command::AddAccount(AccountSpec { account, limits }),
            &mut out,
        );
    }
    let order = |account, id, side, tif| {
        Command::NewOrder(NewOrder {
            account,
            instrument: 1,
            client_order_id: id,
            side,
            order_type: OrderType::Limit,
            time_in_force: tif,
            post_only: false,
            price: 1,
            qty: QTY_MAX,
        })
    };
    let rounds = (POSITION_MAX as u64 / QTY_MAX) as usize;
    for i in 0..rounds as u64 {
        run(
            &mut engine,
            order(2, i, Side::Sell, TimeInForce::Gtc),
            &mut out,
        );
        run(
            &mut engine,
            order(1, i, Side::Buy, TimeInForce::Ioc),
            &mut out,
        );
        assert_eq!(trades(&out).len(), 1);
    }
    assert_eq!(engine.position(1, 1), Some(POSITION_MAX));
    run(
        &mut engine,
        order(2, 1 << 20, Side::Sell, TimeInForce::Gtc),
        &mut out,
    );
    assert_eq!(reject_reason(&out), Some(RejectReason::PositionLimit));
    // Orders that bring a position back towards zero are always allowed.
    run(
        &mut engine,
        order(1, 1 << 20, Side::Sell, TimeInForce::Gtc),
        &mut out,
    );
    assert!(matches!(out[0], Event::Accepted { .. }));
    engine.check_invariants().unwrap();
}

#[test]
fn market_orders_need_a_price_band() {
    let mut h = Harness::new();
    h.run(Command::AddInstrument(InstrumentSpec {
        instrument: 8,
        tick_size: 1,
        lot_size: 1,
        reference_price: 100,
        price_band_bps: 0,
    }));
    let events = h.run(Command::NewOrder(NewOrder {
        account: ALICE,
        instrument: 8,
        client_order_id: 1,
        side: Side::Buy,
        order_type: OrderType::Market,
        time_in_force: TimeInForce::Ioc,
        post_only: false,
        price: 0,
        qty: 1,
    }));
    assert_eq!(reject_reason(&events), Some(RejectReason::InvalidOrderType));
}
