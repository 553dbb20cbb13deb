"""The market data benchmark's subscribers: read-only feed sessions, sinks that read
and drop what they are sent, in a process of their own, told by a pipe how many of
them are to be subscribed."""

import asyncio
import os
from multiprocessing.connection import Connection

import uvloop
from child_process import start_child
from session_login import LoginProtocol

from ringex_client import FeedKind, FeedSubscribe, encode
from tests.system_processes import PASSWORD

# Accounts that do not trade: a subscriber's account stream stays empty.
SUBSCRIBER_USERS = ["carol", "dave", "erin", "admin"]


class Subscriber(LoginProtocol):
    """A read-only feed session that reads (and drops) everything it is sent."""

    def subscribe(self, on: bool) -> None:
        assert self.transport is not None
        l3, l2 = FeedSubscribe(1, FeedKind.L3, 0, on), FeedSubscribe(1, FeedKind.L2, 10, on)
        self.transport.write(encode(l3) + encode(l2))

    def data_received(self, data: bytes) -> None:
        """Reads the login's answer, then drops everything."""
        self.logging_in(data)

    def keep_alive(self) -> None:
        """A heartbeat, so the gateway does not end an idle subscriber."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"\x01\x00H")


async def keep_alive(subs: list[Subscriber]) -> None:
    """Heartbeats for every subscriber, all run long."""
    while True:
        for s in subs:
            s.keep_alive()
        await asyncio.sleep(1.0)


class Audience:
    """The subscribers, in a process of their own (so their reading does not slow the
    order-entry load generator's event loop) at normal priority. Subscribers run on
    machines of their own in production; here their reading shares the venue's cores,
    so the cost measured is an upper bound. That each got every incremental is the
    gateway's to show: one that fell behind was conflated (``feed_conflations``)."""

    def __init__(self, port: int, count: int, nice: int = 0) -> None:
        """``nice`` above 0 lowers the subscribers' priority, to see how much of the
        cost is their own reading on the shared cores."""
        self.pipe, self.process = start_child(_audience, port, count, nice)

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def subscribe(self, count: int) -> None:
        self.pipe.send(count)
        assert self.pipe.recv() == count

    def stop(self) -> None:
        self.pipe.send(None)
        self.process.join(10)


def _audience(pipe: Connection, port: int, count: int, nice: int) -> None:
    os.nice(nice)

    async def serve() -> None:
        subs = []
        for i in range(count):
            s = Subscriber()
            await s.open(port, SUBSCRIBER_USERS[i % len(SUBSCRIBER_USERS)], PASSWORD)
            subs.append(s)
        beats = asyncio.create_task(keep_alive(subs))
        pipe.send("ready")
        loop = asyncio.get_running_loop()
        while (wanted := await loop.run_in_executor(None, pipe.recv)) is not None:
            for i, s in enumerate(subs):
                s.subscribe(i < wanted)
            pipe.send(wanted)
        beats.cancel()

    uvloop.run(serve())
