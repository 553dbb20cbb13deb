"""Load generators for the end-to-end benchmark: raw client sessions that log in, send
pre-encoded NewOrder frames (only the client order id changes) and time each order from
its planned send time to its Accepted (or Rejected) message.

Every order is an IOC buy against an empty book: it is accepted and its remainder
cancelled, so the book does not grow however long the run. Each one is journaled and
fsync'd by the engine before its events come back.
"""

import asyncio
import struct
import time

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

from ringex_client import (
    FrameReader,
    Login,
    LoginAccepted,
    NewOrder,
    OrderType,
    Side,
    TimeInForce,
    decode_server,
    encode,
)

_COID = struct.Struct("<Q")
# Offsets of client_order_id in Accepted and Rejected bodies (type, seq, timestamp_ns...).
_ACCEPTED_COID = 17
_REJECTED_COID = 19
_COID_AT = 2 + 1  # in a NewOrder frame: length prefix, type byte


def new_histogram() -> HdrHistogram:
    """Nanoseconds from 1 ns to one minute, three significant digits."""
    return HdrHistogram(1, 60_000_000_000, 3)


class LoadSession:
    """One logged-in session; ``send(n)`` sends n orders stamped with a planned time."""

    def __init__(self, first_coid: int, price: int) -> None:
        self.template = bytearray(
            encode(NewOrder(0, 1, Side.BUY, OrderType.LIMIT, TimeInForce.IOC, False, price, 1))
        )
        self.next_coid = first_coid
        self.planned: dict[int, int] = {}
        self.histogram = new_histogram()
        self.completed = 0
        self.rejected = 0
        self.done = asyncio.Event()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self, port: int, username: str, password: str) -> None:
        """Connects and logs in (live, no replay)."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(encode(Login(username, password, 0)))
        frames = FrameReader()
        while True:
            data = await self.reader.read(4096)
            if not data:
                raise ConnectionError("gateway closed during login")
            bodies = list(frames.feed(data))
            if any(isinstance(decode_server(b), LoginAccepted) for b in bodies):
                break
        self._task = asyncio.create_task(self._read())

    def send(self, count: int, planned_ns: int) -> None:
        """Sends ``count`` orders in one write, all planned for ``planned_ns``."""
        assert self.writer is not None
        out = bytearray()
        for _ in range(count):
            coid = self.next_coid
            self.next_coid += 1
            _COID.pack_into(self.template, _COID_AT, coid)
            out += self.template
            self.planned[coid] = planned_ns
        self.writer.write(out)

    def outstanding(self) -> int:
        """Orders sent and not yet answered."""
        return len(self.planned)

    async def _read(self) -> None:
        assert self.reader is not None
        frames = FrameReader()
        while True:
            data = await self.reader.read(1 << 16)
            if not data:
                return
            now = time.monotonic_ns()
            for body in frames.feed(data):
                kind = body[0]
                if kind == 0x41:  # Accepted
                    (coid,) = _COID.unpack_from(body, _ACCEPTED_COID)
                elif kind == 0x4A:  # Rejected
                    (coid,) = _COID.unpack_from(body, _REJECTED_COID)
                    self.rejected += 1
                else:
                    continue
                planned = self.planned.pop(coid, None)
                if planned is not None:
                    self.histogram.record_value(max(now - planned, 1))
                    self.completed += 1
            self.done.set()

    async def close(self) -> None:
        """Closes the connection."""
        if self._task is not None:
            self._task.cancel()
        if self.writer is not None:
            self.writer.close()


async def closed_loop(sessions: list[LoadSession], window: int, seconds: float) -> int:
    """Keeps ``window`` orders outstanding per session for ``seconds``; returns the
    orders answered per second."""
    start_count = sum(s.completed for s in sessions)
    start = time.monotonic()
    deadline = start + seconds
    while time.monotonic() < deadline:
        for s in sessions:
            missing = window - s.outstanding()
            if missing > 0:
                s.send(missing, time.monotonic_ns())
            s.done.clear()
        await asyncio.wait(
            [asyncio.create_task(s.done.wait()) for s in sessions],
            timeout=0.5,
            return_when=asyncio.FIRST_COMPLETED,
        )
    elapsed = time.monotonic() - start
    # Let the stragglers finish so the next run starts from an empty pipeline.
    await drain(sessions, 10.0)
    return int((sum(s.completed for s in sessions) - start_count) / elapsed)


async def open_loop(session: LoadSession, rate: int, seconds: float) -> None:
    """Offers ``rate`` orders a second on a fixed schedule, whatever the answers do.
    Latency counts from each order's planned time, so a stall is charged in full."""
    interval_ns = 1_000_000_000 // rate
    start = time.monotonic_ns()
    total = int(rate * seconds)
    sent = 0
    while sent < total:
        now = time.monotonic_ns()
        due = min(total, (now - start) // interval_ns + 1)
        while sent < due:
            session.send(1, start + sent * interval_ns)
            sent += 1
        await asyncio.sleep(max(0.0, (start + sent * interval_ns - time.monotonic_ns()) / 1e9))
    await drain([session], 30.0)


async def drain(sessions: list[LoadSession], timeout: float) -> None:
    """Waits until every sent order is answered."""
    deadline = time.monotonic() + timeout
    while any(s.outstanding() for s in sessions) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
