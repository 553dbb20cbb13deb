"""Every command kind through the bindings, and the events it produces."""

from engine_harness import ALICE, BOB, INST, PlaceOrder

from ringex_engine import (
    Accepted,
    AccountAdded,
    AddAccount,
    AddInstrument,
    Cancel,
    Cancelled,
    CancelReason,
    DayEnded,
    EndOfDay,
    Engine,
    Expired,
    HaltChanged,
    InstrumentAdded,
    MassCancel,
    MassCancelled,
    NewOrder,
    OrderType,
    Rejected,
    RejectReason,
    Replace,
    Replaced,
    SetHalted,
    Side,
    TimeInForce,
    Trade,
)


def test_add_instrument_and_account() -> None:
    engine = Engine(max_instruments=4, max_accounts=4, max_orders=4, max_client_ids_per_day=8)
    spec = AddInstrument(instrument=3, tick_size=1, lot_size=1, reference_price=50)
    assert spec.price_band_bps == 0
    [listed] = engine.submit(spec)
    assert isinstance(listed, InstrumentAdded)
    assert listed.instrument == 3
    [added] = engine.submit(
        AddAccount(account=2, max_order_qty=10, max_order_notional=2**100, max_open_orders=1)
    )
    assert isinstance(added, AccountAdded)
    assert added.account == 2
    assert engine.instrument_state(3).band is None
    assert engine.open_orders(2) == []


def test_new_order_is_accepted_with_every_field(order: PlaceOrder) -> None:
    [accepted] = order(ALICE, 42, Side.BUY, 995, 20, TimeInForce.DAY, post_only=True)
    assert isinstance(accepted, Accepted)
    assert accepted.order_id == 1
    assert (accepted.account, accepted.instrument, accepted.client_order_id) == (ALICE, INST, 42)
    assert accepted.side is Side.BUY
    assert accepted.order_type is OrderType.LIMIT
    assert accepted.time_in_force is TimeInForce.DAY
    assert (accepted.post_only, accepted.price, accepted.qty) == (True, 995, 20)


def test_cancel(engine: Engine, order: PlaceOrder) -> None:
    order(ALICE, 1, Side.BUY, 995, 20)
    [cancelled] = engine.submit(Cancel(account=ALICE, client_order_id=1))
    assert isinstance(cancelled, Cancelled)
    assert (cancelled.order_id, cancelled.client_order_id, cancelled.qty) == (1, 1, 20)
    assert cancelled.reason is CancelReason.REQUESTED
    assert engine.resting_orders == 0


def test_replace_keeps_priority_only_when_reducing_at_the_same_price(
    engine: Engine, order: PlaceOrder
) -> None:
    order(ALICE, 1, Side.BUY, 1000, 20)
    order(BOB, 2, Side.BUY, 1000, 20)
    [reduced] = engine.submit(
        Replace(account=ALICE, orig_client_order_id=1, client_order_id=11, price=1000, qty=10)
    )
    assert isinstance(reduced, Replaced)
    assert (reduced.orig_client_order_id, reduced.client_order_id) == (1, 11)
    assert (reduced.price, reduced.qty, reduced.priority_kept) == (1000, 10, True)
    [level] = engine.book(INST).bids
    assert [o.client_order_id for o in level.orders] == [11, 2]

    [grown] = engine.submit(Replace(account=ALICE, orig_client_order_id=11, price=1000, qty=30))
    assert isinstance(grown, Replaced)
    assert (grown.client_order_id, grown.priority_kept) == (11, False)
    [level] = engine.book(INST).bids
    assert [o.client_order_id for o in level.orders] == [2, 11]


def test_replace_that_crosses_trades(engine: Engine, order: PlaceOrder) -> None:
    order(ALICE, 1, Side.SELL, 1010, 10)
    order(BOB, 2, Side.BUY, 1000, 10)
    replaced, trade = engine.submit(
        Replace(account=BOB, orig_client_order_id=2, price=1010, qty=10)
    )
    assert isinstance(replaced, Replaced)
    assert isinstance(trade, Trade)
    assert (trade.price, trade.taker_client_order_id) == (1010, 2)
    assert engine.resting_orders == 0


def test_mass_cancel_of_one_instrument_and_of_all(engine: Engine, order: PlaceOrder) -> None:
    engine.submit(AddInstrument(instrument=8, tick_size=1, lot_size=1, reference_price=10))
    order(ALICE, 1, Side.BUY, 990, 10)
    order(ALICE, 2, Side.SELL, 1010, 10)
    engine.submit(
        NewOrder(account=ALICE, instrument=8, client_order_id=3, side=Side.BUY, price=9, qty=1)
    )
    order(BOB, 4, Side.BUY, 990, 10)

    events = engine.submit(MassCancel(account=ALICE, instrument=INST))
    assert [e.client_order_id for e in events if isinstance(e, Cancelled)] == [1, 2]
    assert all(e.reason is CancelReason.MASS_CANCEL for e in events if isinstance(e, Cancelled))
    done = events[-1]
    assert isinstance(done, MassCancelled)
    assert (done.account, done.instrument, done.count) == (ALICE, INST, 2)

    events = engine.submit(MassCancel(account=ALICE))
    assert isinstance(events[-1], MassCancelled)
    assert (events[-1].instrument, events[-1].count) == (None, 1)
    assert [o.client_order_id for o in engine.open_orders(BOB)] == [4]


def test_end_of_day_expires_day_orders_only(engine: Engine, order: PlaceOrder) -> None:
    order(ALICE, 1, Side.BUY, 990, 10, TimeInForce.DAY)
    order(ALICE, 2, Side.BUY, 985, 10, TimeInForce.GTC)
    expired, ended = engine.submit(EndOfDay())
    assert isinstance(expired, Expired)
    assert (expired.client_order_id, expired.qty) == (1, 10)
    assert isinstance(ended, DayEnded)
    assert ended.expired == 1
    assert [o.client_order_id for o in engine.open_orders(ALICE)] == [2]
    # A new day: the finished order's id may be used again, the resting one's may not.
    [accepted] = order(ALICE, 1, Side.BUY, 990, 10)
    assert isinstance(accepted, Accepted)
    [rejected] = order(ALICE, 2, Side.BUY, 990, 10)
    assert isinstance(rejected, Rejected)
    assert rejected.reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID


def test_halt_blocks_new_orders_but_not_cancels(engine: Engine, order: PlaceOrder) -> None:
    order(ALICE, 1, Side.BUY, 990, 10)
    [halted] = engine.submit(SetHalted(instrument=INST, halted=True))
    assert isinstance(halted, HaltChanged)
    assert (halted.instrument, halted.halted) == (INST, True)
    assert engine.instrument_state(INST).halted

    [rejected] = order(BOB, 2, Side.SELL, 990, 10)
    assert isinstance(rejected, Rejected)
    assert rejected.reason is RejectReason.INSTRUMENT_HALTED
    [cancelled] = engine.submit(Cancel(account=ALICE, client_order_id=1))
    assert isinstance(cancelled, Cancelled)

    engine.submit(SetHalted(instrument=INST, halted=False))
    [accepted] = order(BOB, 2, Side.SELL, 990, 10)
    assert isinstance(accepted, Accepted)


def test_commands_are_immutable_values() -> None:
    a = NewOrder(account=1, instrument=2, client_order_id=3, side=Side.SELL, qty=10, price=5)
    b = NewOrder(account=1, instrument=2, client_order_id=3, side=2, qty=10, price=5)  # type: ignore[arg-type]
    assert a == b
    assert hash(a) == hash(b)
    assert b.side is Side.SELL
    assert a != EndOfDay()  # type: ignore[comparison-overlap]
    assert repr(Cancel(account=1, client_order_id=3)) == "Cancel(account=1, client_order_id=3)"
    assert repr(EndOfDay()) == "EndOfDay()"
    assert (a.order_type, a.time_in_force, a.post_only) == (
        OrderType.LIMIT,
        TimeInForce.GTC,
        False,
    )
    replace = Replace(account=1, orig_client_order_id=9, price=5, qty=1)
    assert replace.client_order_id == 9
