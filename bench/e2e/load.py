"""Load generators for the end-to-end benchmark: raw client sessions that log in, send
pre-encoded NewOrder frames (only the client order id changes) and time each order from
its planned send time to its Accepted (or Rejected) message.

Every order is an IOC buy against an empty book: it is accepted and its remainder
cancelled, so the book does not grow however long the run. Each one is journaled and
fsync'd by the engine before its events come back.

The generator is kept cheap so that it is not what is measured: each session is a bare
asyncio protocol that parses only the type byte and client order id of each answer, the
closed loop refills a session's window from inside its read callback (no task wake-up
between an answer and the next order), and the open loop keeps its schedule in a thread
rather than spinning the event loop.
"""

import asyncio
import struct
import time
from collections import Counter

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]
from session_login import LoginProtocol

from ringex_client import NewOrder, OrderType, Side, TimeInForce, encode

_LEN = struct.Struct("<H")
_COID = struct.Struct("<Q")
# Offsets of client_order_id in Accepted and Rejected frames (length prefix, type, seq,
# timestamp_ns...).
_ACCEPTED_COID = 2 + 17
_REJECTED_COID = 2 + 19
_REJECTED_REASON = 2 + 18
_ACCEPTED = 0x41
_REJECTED = 0x4A
_COID_AT = 2 + 1  # in a NewOrder frame: length prefix, type byte


def new_histogram() -> HdrHistogram:
    """Nanoseconds from 1 ns to one minute, three significant digits."""
    return HdrHistogram(1, 60_000_000_000, 3)


class LoadSession(LoginProtocol):
    """One logged-in session; ``send(n)`` sends n orders stamped with a planned time.

    With ``window`` set, every answer is replaced by a new order at once, keeping
    ``window`` orders outstanding (the closed loop). ``histogram`` None records nothing.
    """

    def __init__(self, first_coid: int, price: int) -> None:
        super().__init__()
        self.template = encode(
            NewOrder(0, 1, Side.BUY, OrderType.LIMIT, TimeInForce.IOC, False, price, 1)
        )
        self.next_coid = first_coid
        self.planned: dict[int, int] = {}
        self.histogram: HdrHistogram | None = new_histogram()
        self.window = 0
        self.completed = 0
        # Rejections by reason code (RejectReason).
        self.reject_reasons: Counter[int] = Counter()
        self._buf = bytearray()

    def send(self, count: int, planned_ns: int) -> None:
        """Sends ``count`` orders in one write, all planned for ``planned_ns``."""
        assert self.transport is not None
        size = len(self.template)
        out = bytearray(self.template * count)
        coid = self.next_coid
        for at in range(_COID_AT, size * count, size):
            _COID.pack_into(out, at, coid)
            self.planned[coid] = planned_ns
            coid += 1
        self.next_coid = coid
        self.transport.write(out)

    @property
    def rejected(self) -> int:
        """Orders rejected, whatever the reason."""
        return self.reject_reasons.total()

    def outstanding(self) -> int:
        """Orders sent and not yet answered."""
        return len(self.planned)

    def data_received(self, data: bytes) -> None:
        """Times every Accepted or Rejected; in the closed loop, refills the window."""
        if self.logging_in(data):
            return
        now = time.monotonic_ns()
        buf = self._buf
        buf += data
        end = len(buf)
        pos = 0
        planned = self.planned
        histogram = self.histogram
        while end - pos >= 2:
            (length,) = _LEN.unpack_from(buf, pos)
            if end - pos - 2 < length:
                break
            kind = buf[pos + 2]
            if kind == _ACCEPTED:
                (coid,) = _COID.unpack_from(buf, pos + _ACCEPTED_COID)
            elif kind == _REJECTED:
                (coid,) = _COID.unpack_from(buf, pos + _REJECTED_COID)
                self.reject_reasons[buf[pos + _REJECTED_REASON]] += 1
            else:
                pos += 2 + length
                continue
            pos += 2 + length
            sent = planned.pop(coid, None)
            if sent is not None:
                if histogram is not None:
                    histogram.record_value(max(now - sent, 1))
                self.completed += 1
        del buf[:pos]
        missing = self.window - len(planned)
        if self.window and missing > 0:
            self.send(missing, now)

    async def close(self) -> None:
        """Closes the connection."""
        if self.transport is not None:
            self.transport.close()


async def closed_loop(sessions: list[LoadSession], window: int, seconds: float) -> int:
    """Keeps ``window`` orders outstanding per session for ``seconds``; returns the
    orders answered per second."""
    start_count = sum(s.completed for s in sessions)
    start = time.monotonic()
    for s in sessions:
        s.window = window
        s.send(window - s.outstanding(), time.monotonic_ns())
    await asyncio.sleep(seconds)
    answered = sum(s.completed for s in sessions) - start_count
    elapsed = time.monotonic() - start
    for s in sessions:
        s.window = 0
    # Let the stragglers finish so the next run starts from an empty pipeline.
    await drain(sessions, 10.0)
    return int(answered / elapsed)


async def open_loop(session: LoadSession, rate: int, seconds: float) -> dict[str, float]:
    """Offers ``rate`` orders a second on a fixed schedule, whatever the answers do.
    Latency counts from each order's planned time, so a stall is charged in full.
    Returns how far the sends fell behind their planned times: the most (nanoseconds)
    and the share of orders sent more than 1 ms late.

    A thread keeps the schedule with timed sleeps and wakes the event loop to send what
    is due: the loop's own timers have millisecond resolution (a shorter asyncio.sleep
    spins the loop), and the loop stays free to read answers between sends."""
    loop = asyncio.get_running_loop()
    interval_ns = 1_000_000_000 // rate
    start = time.monotonic_ns()
    total = int(rate * seconds)
    sent = 0
    worst_lag = 0
    late = 0

    def send_due() -> None:
        nonlocal sent, worst_lag, late
        now = time.monotonic_ns()
        due = min(total, (now - start) // interval_ns + 1)
        if sent < due:
            worst_lag = max(worst_lag, now - (start + sent * interval_ns))
            # Planned more than 1 ms ago: the orders from there on are late.
            late += max(0, min(due, (now - 1_000_000 - start) // interval_ns + 1) - sent)
        while sent < due:
            session.send(1, start + sent * interval_ns)
            sent += 1

    def keep_schedule() -> None:
        for k in range(total):
            wait = start + k * interval_ns - time.monotonic_ns()
            if wait > 0:
                time.sleep(wait / 1e9)
            loop.call_soon_threadsafe(send_due)

    await asyncio.to_thread(keep_schedule)
    send_due()
    await drain([session], 30.0)
    return {"max_ns": worst_lag, "over_1ms_fraction": round(late / total, 5)}


async def drain(sessions: list[LoadSession], timeout: float) -> None:
    """Waits until every sent order is answered."""
    deadline = time.monotonic() + timeout
    while any(s.outstanding() for s in sessions) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
