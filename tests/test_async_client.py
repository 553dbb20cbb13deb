"""The asyncio client against the real gateway: trading, callbacks and reconnect."""

import asyncio

import pytest

from ringex_client import (
    Accepted,
    AsyncClient,
    Executed,
    InstrumentsEnd,
    Message,
    OrderRefusedError,
    OrderStatus,
    RejectReason,
)
from tests.session_tools import accepted_ids
from tests.system_processes import PASSWORD, ClientFactory, Gateway

pytestmark = pytest.mark.timeout(60)

P = 100_000


async def until(client: AsyncClient, kind: type, client_order_id: int) -> Message:
    while True:
        m = await client.next_message(timeout=5)
        if isinstance(m, kind) and getattr(m, "client_order_id", None) == client_order_id:
            return m


def test_async_clients_trade_and_reconnect(connect: ClientFactory, gateway: Gateway) -> None:
    async def scenario() -> None:
        seen: list[Message] = []
        async with (
            AsyncClient("127.0.0.1", gateway.port, "alice", PASSWORD, on_message=seen.append) as a,
            AsyncClient("127.0.0.1", gateway.port, "bob", PASSWORD) as b,
        ):
            sell = a.sell(1, 4, P)
            await until(a, Accepted, sell)
            # Lose the connection, then trade against the resting order while away.
            assert a._writer is not None
            a._writer.transport.abort()
            buy = b.buy(1, 4, P)
            await until(b, Executed, buy)
            fill = await until(a, Executed, sell)
            assert fill.leaves == 0  # type: ignore[attr-defined]
            assert a.tracker.orders[sell].status == OrderStatus.FILLED
            assert sum(isinstance(m, Executed) for m in seen) == 1

    asyncio.run(scenario())


def test_async_logout_leaves_every_answer_queued_before_the_end(
    connect: ClientFactory, gateway: Gateway
) -> None:
    """Orders answered but not yet taken stay queued after ``logout()``; the queue then
    ends. A second session of the account says when the engine answered them."""

    async def scenario() -> None:
        watcher = connect("alice")
        leaving = AsyncClient("127.0.0.1", gateway.port, "alice", PASSWORD)
        await leaving.connect()
        ids = {leaving.sell(1, 1, P + 1_000 * (n + 1)) for n in range(5)}
        answered: set[int] = set()
        while not ids <= answered:
            answered |= accepted_ids(watcher.poll(0.1))
        await leaving.logout()
        assert ids <= accepted_ids([m async for m in leaving.messages()])

    asyncio.run(scenario())


def test_async_client_keeps_the_gateways_parameters_and_definitions(gateway: Gateway) -> None:
    async def scenario() -> None:
        async with AsyncClient("127.0.0.1", gateway.port, "alice", PASSWORD) as a:
            while not isinstance(await a.next_message(timeout=5), InstrumentsEnd):
                pass
            # The test gateway's heartbeat_ms and idle_timeout_ms, not the defaults.
            assert (a.heartbeat_s, a.timeout_s) == (0.3, 3.0)
            assert sorted(a.instruments) == [1, 2]
            assert (a.instruments[2].tick_size, a.instruments[2].lot_size) == (5, 10)
            with pytest.raises(OrderRefusedError) as refused:
                a.buy(2, 15, 25_000)
            assert refused.value.reason == RejectReason.QTY_NOT_ON_LOT

    asyncio.run(scenario())
