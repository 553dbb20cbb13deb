"""Trading end to end: the real daemon, the real gateway and the client library."""

import pytest

from ringex_client import (
    Accepted,
    AdminResult,
    Cancelled,
    CancelReason,
    CancelRejected,
    CommandKind,
    DefinitionUpdate,
    Executed,
    InstrumentDefinition,
    InstrumentState,
    Liquidity,
    MassCancelled,
    OrderRefusedError,
    OrderStatus,
    OrderType,
    Rejected,
    RejectReason,
    Replaced,
    Side,
    TimeInForce,
    TopOfBook,
    TradeReport,
)
from tests.session_tools import expect
from tests.system_processes import ClientFactory

pytestmark = pytest.mark.timeout(60)

P = 100_000


def test_two_clients_trade_and_both_see_their_fills(connect: ClientFactory) -> None:
    alice, bob = connect("alice"), connect("bob")
    sell = alice.sell(1, 10, P)
    expect(alice, Accepted, client_order_id=sell)
    buy = bob.buy(1, 4, P)
    taker = expect(bob, Executed, client_order_id=buy)
    maker = expect(alice, Executed, client_order_id=sell)
    assert (taker.price, taker.qty, taker.leaves, taker.liquidity) == (P, 4, 0, Liquidity.TAKER)
    assert (maker.price, maker.qty, maker.leaves, maker.liquidity) == (P, 4, 6, Liquidity.MAKER)
    assert taker.match_id == maker.match_id
    assert (taker.side, maker.side) == (Side.BUY, Side.SELL)
    assert bob.tracker.positions[1].qty == 4
    assert alice.tracker.positions[1].qty == -4
    assert alice.tracker.orders[sell].leaves == 6
    assert bob.tracker.orders[buy].status == OrderStatus.FILLED


def test_every_order_type(connect: ClientFactory) -> None:
    alice, bob = connect("alice"), connect("bob")
    # A resting GTC ask of 10 and a DAY ask of 5 one tick higher.
    gtc = alice.sell(1, 10, P + 10)
    day = alice.sell(1, 5, P + 11, time_in_force=TimeInForce.DAY)
    expect(alice, Accepted, client_order_id=gtc)
    expect(alice, Accepted, client_order_id=day)
    # IOC buys 12 at up to P+10: gets 10, the remainder is cancelled.
    ioc = bob.buy(1, 12, P + 10, time_in_force=TimeInForce.IOC)
    assert expect(bob, Executed, client_order_id=ioc).qty == 10
    cancelled = expect(bob, Cancelled, client_order_id=ioc)
    assert (cancelled.qty, cancelled.reason) == (2, CancelReason.IMMEDIATE_REMAINDER)
    # FOK for more than there is: killed without trading.
    fok = bob.buy(1, 50, P + 11, time_in_force=TimeInForce.FOK)
    assert expect(bob, Cancelled, client_order_id=fok).reason == CancelReason.FILL_OR_KILL
    # Market IOC takes the DAY order.
    mkt = bob.submit(1, Side.BUY, 3, 0, order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC)
    fill = expect(bob, Executed, client_order_id=mkt)
    assert (fill.price, fill.qty) == (P + 11, 3)
    assert expect(alice, Executed, client_order_id=day).leaves == 2
    # Post-only that would cross is rejected; one that does not, rests.
    po = bob.buy(1, 1, P + 11, post_only=True)
    rejected = expect(bob, Rejected, client_order_id=po)
    assert rejected.reason == RejectReason.POST_ONLY_WOULD_CROSS
    po2 = bob.buy(1, 1, P - 50, post_only=True)
    assert expect(bob, Accepted, client_order_id=po2).post_only
    # Replace: smaller at the same price keeps priority; a new price loses it.
    smaller = bob.replace(po2, P - 50, 1, new_client_order_id=po2)
    assert expect(bob, Replaced, client_order_id=smaller).priority_kept
    moved = bob.replace(po2, P - 40, 2)
    r = expect(bob, Replaced, client_order_id=moved)
    assert (r.orig_client_order_id, r.price, r.qty, r.priority_kept) == (po2, P - 40, 2, False)
    # Cancel, then a cancel of the same order again is refused.
    bob.cancel(moved)
    assert expect(bob, Cancelled, client_order_id=moved).reason == CancelReason.REQUESTED
    bob.cancel(moved)
    assert (
        expect(bob, CancelRejected, client_order_id=moved).reason == RejectReason.TOO_LATE_TO_CANCEL
    )
    # Mass cancel takes what alice has left.
    alice.mass_cancel(1)
    assert expect(alice, Cancelled, client_order_id=day).reason == CancelReason.MASS_CANCEL
    assert expect(alice, MassCancelled, instrument=1).count == 1
    assert alice.tracker.open_orders() == []


@pytest.mark.parametrize(
    ("instrument", "qty", "price", "reason"),
    [
        (99, 1, P, RejectReason.UNKNOWN_INSTRUMENT),
        (1, 0, P, RejectReason.INVALID_QUANTITY),
        (1, 1, 0, RejectReason.INVALID_PRICE),
        (2, 10, 25_001, RejectReason.PRICE_NOT_ON_TICK),
        (2, 15, 25_000, RejectReason.QTY_NOT_ON_LOT),
        (1, 1, P * 2, RejectReason.PRICE_BAND),
        (1, 2_000_000, P, RejectReason.MAX_ORDER_QTY),
    ],
)
def test_engine_rejects_carry_their_reason(
    connect: ClientFactory, instrument: int, qty: int, price: int, reason: RejectReason
) -> None:
    alice = connect("alice")
    coid = alice.buy(instrument, qty, price)
    rejected = expect(alice, Rejected, client_order_id=coid)
    assert (rejected.reason, rejected.command) == (reason, CommandKind.NEW_ORDER)
    assert rejected.seq > 0
    assert alice.tracker.orders[coid].status == OrderStatus.REJECTED


def test_market_order_must_be_immediate(connect: ClientFactory) -> None:
    alice = connect("alice")
    coid = alice.submit(1, Side.BUY, 1, 0, order_type=OrderType.MARKET)
    assert expect(alice, Rejected, client_order_id=coid).reason == RejectReason.INVALID_ORDER_TYPE


def test_duplicate_client_order_id_is_refused_and_never_executes(connect: ClientFactory) -> None:
    alice = connect("alice")
    coid = alice.sell(1, 5, P + 100)
    expect(alice, Accepted, client_order_id=coid)
    alice.sell(1, 5, P + 100, client_order_id=coid)
    rejected = expect(alice, Rejected, client_order_id=coid)
    assert rejected.reason == RejectReason.DUPLICATE_CLIENT_ORDER_ID
    assert alice.tracker.orders[coid].status == OrderStatus.OPEN
    assert alice.tracker.orders[coid].leaves == 5


def test_a_session_cannot_cancel_another_accounts_order(connect: ClientFactory) -> None:
    alice, bob = connect("alice"), connect("bob")
    coid = alice.sell(1, 5, P + 100)
    expect(alice, Accepted, client_order_id=coid)
    bob.cancel(coid)
    assert expect(bob, CancelRejected, client_order_id=coid).reason == RejectReason.UNKNOWN_ORDER
    bob.replace(coid, P + 101, 5)
    assert expect(bob, Rejected, command=CommandKind.REPLACE).reason == RejectReason.UNKNOWN_ORDER
    alice.cancel(coid)
    expect(alice, Cancelled, client_order_id=coid)


def test_read_only_sees_the_stream_but_cannot_trade(connect: ClientFactory) -> None:
    alice, viewer = connect("alice"), connect("viewer")
    coid = viewer.buy(1, 1, P - 100)
    refused = expect(viewer, Rejected, client_order_id=coid)
    assert (refused.reason, refused.seq) == (RejectReason.NOT_PERMITTED, 0)
    mine = alice.buy(1, 1, P - 100)
    assert (
        expect(viewer, Accepted, client_order_id=mine).seq
        == expect(alice, Accepted, client_order_id=mine).seq
    )


def test_admin_halts_and_resumes_an_instrument(connect: ClientFactory) -> None:
    admin, alice = connect("admin"), connect("alice")
    request = alice.end_of_day()
    refused = expect(alice, AdminResult, request_id=request)
    assert (refused.command, refused.reason) == (CommandKind.END_OF_DAY, RejectReason.NOT_PERMITTED)
    request = admin.set_halted(2, True)
    try:
        assert expect(admin, AdminResult, request_id=request).reason == 0
        halted = expect(alice, InstrumentDefinition, instrument=2)
        assert (halted.state, halted.update) == (InstrumentState.HALTED, DefinitionUpdate.HALTED)
        assert alice.instruments[2].state == InstrumentState.HALTED
        with pytest.raises(OrderRefusedError) as local:
            alice.buy(2, 10, 25_000)
        assert local.value.reason == RejectReason.INSTRUMENT_HALTED
        coid = alice.buy(2, 10, 25_000, check=False)
        engine_said = expect(alice, Rejected, client_order_id=coid).reason
        assert engine_said == RejectReason.INSTRUMENT_HALTED
    finally:
        admin.set_halted(2, False)
    resumed = expect(alice, InstrumentDefinition, instrument=2)
    assert (resumed.state, resumed.update) == (InstrumentState.TRADING, DefinitionUpdate.RESUMED)
    coid = alice.buy(2, 10, 25_000)
    expect(alice, Accepted, client_order_id=coid)
    alice.cancel(coid)


def test_market_data_top_of_book_and_trades(connect: ClientFactory) -> None:
    alice, bob, viewer = connect("alice"), connect("bob"), connect("viewer")
    viewer.subscribe(1)
    expect(viewer, TopOfBook, instrument=1)
    bid = alice.buy(1, 7, P - 5)
    expect(viewer, TopOfBook, instrument=1, bid_price=P - 5, bid_qty=7)
    bob.sell(1, 3, P - 5)
    trade = expect(viewer, TradeReport, instrument=1)
    assert (trade.price, trade.qty, trade.aggressor_side) == (P - 5, 3, Side.SELL)
    expect(viewer, TopOfBook, instrument=1, bid_price=P - 5, bid_qty=4)
    alice.cancel(bid)
    expect(viewer, TopOfBook, instrument=1, bid_qty=0)


def test_end_of_day_expires_day_orders(connect: ClientFactory) -> None:
    admin, alice = connect("admin"), connect("alice")
    day = alice.buy(1, 3, P - 700, time_in_force=TimeInForce.DAY)
    gtc = alice.buy(1, 3, P - 701)
    expect(alice, Accepted, client_order_id=gtc)
    admin.end_of_day()
    expired = expect(alice, Cancelled, client_order_id=day)
    assert (expired.reason, expired.qty) == (CancelReason.EXPIRED, 3)
    assert [o.client_order_id for o in alice.tracker.open_orders()] == [gtc]
