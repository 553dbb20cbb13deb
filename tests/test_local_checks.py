"""The client library's local order checks against the real engine: for a grid of
prices, sizes and order types on every instrument, an order or replace the library
would refuse is refused by the engine with the same reason, and one it would send is
refused by the engine only for a rule no definition states (the moving band, the
account's limits)."""

import asyncio
from itertools import product

import pytest

from ringex_client import (
    Accepted,
    AsyncClient,
    Client,
    InstrumentDefinition,
    InstrumentsEnd,
    Message,
    NewOrder,
    OrderRefusedError,
    OrderType,
    Rejected,
    RejectReason,
    Replace,
    Replaced,
    Side,
    TimeInForce,
    check_new_order,
    check_replace,
)
from ringex_client.instrument_rules import PRICE_MAX, QTY_MAX
from tests.session_tools import expect
from tests.system_processes import PASSWORD, ClientFactory, Gateway

pytestmark = pytest.mark.timeout(120)

# What only the engine can judge: the band moves with trades, the limits are the account's.
ENGINE_ONLY = {
    RejectReason.PRICE_BAND,
    RejectReason.MAX_ORDER_QTY,
    RejectReason.MAX_ORDER_NOTIONAL,
    RejectReason.POSITION_LIMIT,
    RejectReason.POST_ONLY_WOULD_CROSS,
}
KINDS = [
    (OrderType.LIMIT, TimeInForce.GTC, False),
    (OrderType.LIMIT, TimeInForce.IOC, True),
    (OrderType.MARKET, TimeInForce.IOC, False),
    (OrderType.MARKET, TimeInForce.DAY, False),
]


def prices(d: InstrumentDefinition) -> list[int]:
    ref, tick = d.reference_price, d.tick_size
    return [0, -tick, ref - tick - 1, ref - tick, ref, PRICE_MAX, PRICE_MAX + tick, ref * 3]


def sizes(d: InstrumentDefinition) -> list[int]:
    return [0, d.lot_size, d.lot_size + 1, d.max_qty, d.max_qty + 1, QTY_MAX + 1]


@pytest.fixture
def erin(connect: ClientFactory) -> tuple[Client, dict[int, InstrumentDefinition]]:
    """A trader whose client holds every instrument's definition."""
    client = connect("erin")
    expect(client, InstrumentsEnd)
    return client, dict(client.instruments)


def answers(client: Client, kind: type[Message], ids: set[int]) -> dict[int, Message]:
    """The engine's Accepted/Replaced or Rejected for each client order id in ``ids``."""
    found: dict[int, Message] = {}
    while len(found) < len(ids):
        m = client.wait_for(lambda m: isinstance(m, kind | Rejected), timeout=10)
        assert isinstance(m, Accepted | Replaced | Rejected)
        if m.client_order_id in ids:
            found[m.client_order_id] = m
    return found


def agrees(local: RejectReason | None, engine: Message) -> bool:
    if local is not None:
        return isinstance(engine, Rejected) and engine.reason == local
    return not isinstance(engine, Rejected) or engine.reason in ENGINE_ONLY


def test_new_orders_are_refused_locally_as_the_engine_refuses_them(
    erin: tuple[Client, dict[int, InstrumentDefinition]],
) -> None:
    trader, instruments = erin
    orders: list[NewOrder] = []
    for d in instruments.values():
        grid = product(prices(d), sizes(d), KINDS, (Side.BUY, Side.SELL))
        for price, qty, (order_type, tif, post_only), side in grid:
            if order_type == OrderType.MARKET and price not in (0, d.reference_price):
                continue
            coid = trader.next_client_order_id()
            orders.append(
                NewOrder(coid, d.instrument, side, order_type, tif, post_only, price, qty)
            )
    expected = {o.client_order_id: check_new_order(instruments, o) for o in orders}
    engine: dict[int, Message] = {}
    # A hundred at a time, read before the next: the whole grid's answers at once
    # would be more than a session may leave unread.
    for at in range(0, len(orders), 100):
        chunk = orders[at : at + 100]
        for o in chunk:
            trader.submit(
                o.instrument, o.side, o.qty, o.price, order_type=o.order_type,
                time_in_force=o.time_in_force, post_only=o.post_only,
                client_order_id=o.client_order_id, check=False,
            )  # fmt: skip
        engine.update(answers(trader, Accepted, {o.client_order_id for o in chunk}))
    wrong = {c: (expected[c], engine[c]) for c in expected if not agrees(expected[c], engine[c])}
    assert wrong == {}
    assert {r for r in expected.values() if r} >= {
        RejectReason.INVALID_QUANTITY,
        RejectReason.QTY_NOT_ON_LOT,
        RejectReason.INVALID_PRICE,
        RejectReason.PRICE_NOT_ON_TICK,
        RejectReason.INVALID_ORDER_TYPE,
    }


def test_replaces_are_refused_locally_as_the_engine_refuses_them(
    erin: tuple[Client, dict[int, InstrumentDefinition]],
) -> None:
    trader, instruments = erin
    expected: dict[int, RejectReason | None] = {}
    for d in instruments.values():
        resting = trader.buy(d.instrument, d.lot_size, d.reference_price - d.tick_size)
        expect(trader, Accepted, client_order_id=resting)
        for price, qty in product(prices(d), sizes(d)):
            if price >= d.reference_price:
                continue  # the order must not trade away while the grid runs
            new = trader.replace(resting, price, qty, check=False)
            expected[new] = check_replace(d, Replace(resting, new, price, qty))
            replaced = answers(trader, Replaced, {new})[new]
            assert agrees(expected[new], replaced), (price, qty, replaced)
            if isinstance(replaced, Replaced):
                resting = new
    assert {RejectReason.QTY_NOT_ON_LOT, RejectReason.PRICE_NOT_ON_TICK} <= set(expected.values())


def test_the_asyncio_client_refuses_a_replace_off_the_tick(gateway: Gateway) -> None:
    async def scenario() -> None:
        async with AsyncClient("127.0.0.1", gateway.port, "erin", PASSWORD) as e:
            while not isinstance(await e.next_message(timeout=5), InstrumentsEnd):
                pass
            coid = e.buy(2, 10, 24_000)
            while not isinstance(m := await e.next_message(timeout=5), Accepted):
                pass
            assert m.client_order_id == coid
            with pytest.raises(OrderRefusedError) as refused:
                e.replace(coid, 24_001, 10)
            assert refused.value.reason == RejectReason.PRICE_NOT_ON_TICK
            e.cancel(coid)

    asyncio.run(scenario())
