"""The asyncio client's bounded message queue, against a gateway stand-in on loopback:
a consumer that stops reading stops the client reading its socket (TCP pushes back),
and every message still arrives, in order, once it reads again."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest

from ringex_client import AsyncClient, Goodbye, LoginAccepted, Message, Role, SessionEndReason
from ringex_client.codec import encode
from ringex_client.messages import TopOfBook
from ringex_client.protocol import SessionEndedError

pytestmark = pytest.mark.timeout(60)

#: TopOfBook messages written per batch; the stand-in drains after each one.
BATCH = 1_000
#: A bound on the stand-in's writing: far more bytes than loopback buffers hold.
BATCHES_MAX = 2_000
#: A drain that waits this long means the client stopped reading.
STALLED_S = 1.0


def quote(n: int) -> bytes:
    return encode(
        TopOfBook(timestamp_ns=n, instrument=1, bid_price=0, bid_qty=0, ask_price=0, ask_qty=0)
    )


Serve = Callable[[asyncio.StreamWriter], Awaitable[None]]


async def gateway_stand_in(serve: Serve) -> tuple[asyncio.Server, int]:
    """Accepts one session: logs it in, then lets ``serve`` write, then says Goodbye."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)  # the Login
        login = LoginAccepted(account=1, role=Role.TRADER, epoch=1, next_seq=1, replay_end=0)
        writer.write(encode(login))
        await serve(writer)
        writer.write(encode(Goodbye(reason=SessionEndReason.LOGOUT)))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def client(port: int, max_queued_messages: int, seen: list[Message] | None = None) -> AsyncClient:
    on_message = None if seen is None else seen.append
    return AsyncClient(
        "127.0.0.1",
        port,
        "alice",
        "pw",
        reconnect=False,
        heartbeat_s=30,
        timeout_s=30,
        on_message=on_message,
        max_queued_messages=max_queued_messages,
    )


def test_an_unread_client_pushes_back_and_loses_nothing() -> None:
    written = 0
    stalled = asyncio.Event()

    async def flood(writer: asyncio.StreamWriter) -> None:
        nonlocal written
        for _ in range(BATCHES_MAX):
            writer.write(b"".join(quote(written + i) for i in range(BATCH)))
            written += BATCH
            try:
                await asyncio.wait_for(writer.drain(), STALLED_S)
            except TimeoutError:
                stalled.set()
                await writer.drain()  # until the client reads again
                return

    async def scenario() -> None:
        server, port = await gateway_stand_in(flood)
        async with server:
            c = client(port, max_queued_messages=100)
            await c.connect()
            await asyncio.wait_for(stalled.wait(), 30)
            # The client holds its bound and no more: the rest waits in TCP's buffers.
            assert c._queue.qsize() == 100
            got = [m.timestamp_ns async for m in c.messages() if isinstance(m, TopOfBook)]
            assert got == list(range(written))
            with pytest.raises(SessionEndedError):
                await c.next_message(timeout=1)
            await c.close()

    asyncio.run(scenario())


async def five(writer: asyncio.StreamWriter) -> None:
    """Five quotes, numbered 0 to 4."""
    writer.write(b"".join(quote(i) for i in range(5)))


async def taken_slowly(c: AsyncClient) -> list[Message]:
    """Takes messages one at a time, letting the reader fill the queue again in between,
    until the session's end."""
    got: list[Message] = []
    while True:
        try:
            got.append(await c.next_message(timeout=5))
        except SessionEndedError:
            return got
        await asyncio.sleep(0.05)


def test_a_session_end_behind_a_full_queue_comes_after_its_messages() -> None:
    async def scenario() -> None:
        server, port = await gateway_stand_in(five)
        async with server:
            c = client(port, max_queued_messages=2)
            await c.connect()
            got = await taken_slowly(c)
            assert [m.timestamp_ns for m in got if isinstance(m, TopOfBook)] == list(range(5))
            await c.close()

    asyncio.run(scenario())


def test_with_no_queue_on_message_sees_everything() -> None:
    async def scenario() -> None:
        server, port = await gateway_stand_in(five)
        async with server:
            seen: list[Message] = []
            c = client(port, max_queued_messages=0, seen=seen)
            await c.connect()
            with pytest.raises(SessionEndedError):
                await c.next_message(timeout=5)
            assert [m.timestamp_ns for m in seen if isinstance(m, TopOfBook)] == list(range(5))
            assert c._queue.empty()
            with contextlib.suppress(OSError):
                await c.close()

    asyncio.run(scenario())


def test_a_negative_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="max_queued_messages"):
        client(1, max_queued_messages=-1)
