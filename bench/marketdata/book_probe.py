"""A subscriber keeping a LocalBook (the client library's, asyncio flavour: L3 and the
top-10 L2 of instrument 1; or, given a multicast group, an AsyncMulticastLocalBook of
instrument 1's L3 feed over multicast), in a process of its own so its decoding does
not slow the order-entry load generator. Each change to the book records its age — now, on the wall
clock, less the engine's sequencing timestamp the incremental carries (the same clock:
Unix-epoch nanoseconds on this machine) — in an HDR histogram, between a start and a
stop told by a pipe."""

import asyncio
import time
from multiprocessing.connection import Connection
from typing import Any

import uvloop
from child_process import start_child
from load import new_histogram
from run import summary

from ringex_client import AsyncClient, AsyncLocalBook, Message, SnapshotEnd
from ringex_client.aio_multicast_local_book import AsyncMulticastLocalBook
from ringex_client.aio_multicast_receiver import AsyncMulticastReceiver
from tests.system_processes import PASSWORD

# A multicast group to keep the book from: (group, port, (retransmission host, port)).
Group = tuple[str, int, tuple[str, int]]


class BookProbe:
    """The probe process; :meth:`start` and :meth:`stop` bracket one measured run."""

    def __init__(self, port: int, username: str, multicast: Group | None = None) -> None:
        self.pipe, self.process = start_child(_serve, port, username, multicast)

    def start(self) -> None:
        """Forgets what was recorded; records from now on."""
        self.pipe.send("start")
        assert self.pipe.recv() == "started"

    def stop(self) -> dict[str, Any]:
        """Stops recording once the book has caught up with what it was sent; returns
        the percentiles (ns) and the book's resync count."""
        self.pipe.send("stop")
        result: dict[str, Any] = self.pipe.recv()
        return result

    def close(self) -> None:
        self.pipe.send(None)
        self.process.join(30)


def _serve(pipe: Connection, port: int, username: str, multicast: Group | None) -> None:
    uvloop.run(_probe(pipe, port, username, multicast))


async def _probe(pipe: Connection, port: int, username: str, multicast: Group | None) -> None:
    histogram = new_histogram()
    recording = False

    def updated(instrument: int, m: Message) -> None:
        if recording and not isinstance(m, SnapshotEnd):
            stamp: int = getattr(m, "timestamp_ns", 0)
            histogram.record_value(max(time.time_ns() - stamp, 1))

    client = AsyncClient("127.0.0.1", port, username, PASSWORD, reconnect=False, timeout_s=60)
    await client.connect()
    drain = asyncio.create_task(_discard(client))
    receiver = None
    book: AsyncLocalBook
    if multicast is None:
        book = AsyncLocalBook(client, 1, l2_depth=10, on_update=updated)
    else:
        receiver = AsyncMulticastReceiver(*multicast)
        book = AsyncMulticastLocalBook(client, receiver, 1, on_update=updated)
    book.subscribe()
    await book.wait_synced(timeout=60)
    pipe.send("ready")
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, pipe.recv)) is not None:
        if command == "start":
            histogram.reset()
            recording = True
            pipe.send("started")
        else:
            await _caught_up(book)
            recording = False
            pipe.send({"latency": summary(histogram), "resyncs": book.resyncs})
    await book.close()
    if receiver is not None:
        receiver.close()
    await client.close()
    drain.cancel()


async def _discard(client: AsyncClient) -> None:
    """Takes the client's delivered messages, so its queue stays empty: the book has
    them already, through the client's callback."""
    async for _ in client.messages():
        pass


async def _caught_up(book: AsyncLocalBook, quiet_s: float = 0.5) -> None:
    """Waits until the book has not moved for ``quiet_s`` (bounded: one minute)."""
    deadline = time.monotonic() + 60
    seq = -1
    while book.feed_seq() != seq and time.monotonic() < deadline:
        seq = book.feed_seq()
        await asyncio.sleep(quiet_s)
