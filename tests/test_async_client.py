"""The asyncio client against the real gateway: trading, callbacks and reconnect."""

import asyncio

import pytest

from ringex_client import Accepted, AsyncClient, Executed, Message, OrderStatus
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
