"""A trading scenario through the bindings: price-time priority, fills, positions."""

from engine_harness import ALICE, BOB, INST, PlaceOrder

from ringex_engine import (
    Accepted,
    Cancelled,
    CancelReason,
    Engine,
    Event,
    OrderType,
    Side,
    TimeInForce,
    Trade,
)


def trades(events: list[Event]) -> list[tuple[int, int, int]]:
    return [(e.price, e.qty, e.maker_client_order_id) for e in events if isinstance(e, Trade)]


def test_limit_orders_match_in_price_then_time_priority(engine: Engine, order: PlaceOrder) -> None:
    order(ALICE, 1, Side.SELL, 1010, 10)
    order(ALICE, 2, Side.SELL, 1005, 10)
    order(BOB, 3, Side.SELL, 1005, 10)
    events = order(BOB, 4, Side.BUY, 1010, 30)
    assert trades(events) == [(1005, 10, 2), (1005, 10, 3), (1010, 10, 1)]
    assert engine.position(BOB, INST) == 20
    assert engine.position(ALICE, INST) == -20
    assert engine.resting_orders == 0


def test_trade_reports_both_sides(order: PlaceOrder) -> None:
    [maker] = order(ALICE, 1, Side.SELL, 1000, 30)
    assert isinstance(maker, Accepted)
    taker, trade = order(BOB, 2, Side.BUY, 1000, 10)
    assert isinstance(taker, Accepted)
    assert isinstance(trade, Trade)
    assert (trade.instrument, trade.match_id, trade.price, trade.qty) == (INST, 1, 1000, 10)
    assert trade.aggressor_side is Side.BUY
    assert (trade.maker_order_id, trade.maker_account, trade.maker_client_order_id) == (
        maker.order_id,
        ALICE,
        1,
    )
    assert (trade.taker_order_id, trade.taker_account, trade.taker_client_order_id) == (
        taker.order_id,
        BOB,
        2,
    )
    assert (trade.maker_leaves, trade.taker_leaves) == (20, 0)


def test_partial_fill_rests_the_remainder(engine: Engine, order: PlaceOrder) -> None:
    order(ALICE, 1, Side.SELL, 1000, 10)
    events = order(BOB, 2, Side.BUY, 1000, 30, TimeInForce.DAY)
    assert trades(events) == [(1000, 10, 1)]
    [level] = engine.book(INST).bids
    [resting] = level.orders
    assert (resting.leaves, resting.filled, resting.time_in_force) == (20, 10, TimeInForce.DAY)


def test_ioc_fok_and_market_orders_never_rest(engine: Engine, order: PlaceOrder) -> None:
    order(ALICE, 1, Side.SELL, 1000, 10)
    ioc = order(BOB, 2, Side.BUY, 1000, 20, TimeInForce.IOC)
    assert isinstance(ioc[-1], Cancelled)
    assert (ioc[-1].qty, ioc[-1].reason) == (10, CancelReason.IMMEDIATE_REMAINDER)

    order(ALICE, 3, Side.SELL, 1000, 10)
    fok = order(BOB, 4, Side.BUY, 1000, 20, TimeInForce.FOK)
    assert trades(fok) == []
    assert isinstance(fok[-1], Cancelled)
    assert (fok[-1].qty, fok[-1].reason) == (20, CancelReason.FILL_OR_KILL)

    market = order(BOB, 5, Side.BUY, 0, 20, TimeInForce.IOC, OrderType.MARKET)
    assert trades(market) == [(1000, 10, 3)]
    empty = order(BOB, 6, Side.BUY, 0, 20, TimeInForce.IOC, OrderType.MARKET)
    assert isinstance(empty[-1], Cancelled)
    assert empty[-1].reason is CancelReason.NO_LIQUIDITY
    assert engine.resting_orders == 0


def test_trades_move_the_reference_price_and_band(engine: Engine, order: PlaceOrder) -> None:
    assert engine.instrument_state(INST).band == (900, 1100)
    order(ALICE, 1, Side.SELL, 1050, 10)
    order(BOB, 2, Side.BUY, 1050, 10)
    state = engine.instrument_state(INST)
    assert (state.reference_price, state.last_trade_price) == (1050, 1050)
    assert state.band == (945, 1155)
