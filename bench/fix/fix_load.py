"""A FIX load session for the FIX benchmark: logs on over FIX and sends NewOrderSingle
IOC buys, timing each from its planned send time to its ExecutionReport (New or
Rejected). It has the shape of the binary benchmark's ``LoadSession``, so the same
closed and open loops drive both."""

import asyncio
import time
from typing import cast

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]
from load import new_histogram

from ringex_gateway._native import FixFramer, FixMessage, encode_fix

_SENDING_TIME = "20261203-00:00:00.000"


class FixLoadSession(asyncio.Protocol):
    """One FIX session; ``send(n)`` sends n orders stamped with a planned time."""

    def __init__(self, sender: str, first_coid: int, price: str) -> None:
        self.sender = sender
        self.price = price
        self.next_coid = first_coid
        self.seq = 1
        self.planned: dict[int, int] = {}
        self.histogram: HdrHistogram | None = new_histogram()
        self.window = 0
        self.completed = 0
        self.rejected = 0
        self.transport: asyncio.Transport | None = None
        self._framer = FixFramer(1 << 16)
        self._logged_on: asyncio.Future[None] | None = None

    def _message(self, msg_type: str, *body: tuple[int, str]) -> bytes:
        head = [(35, msg_type), (49, self.sender), (56, "RINGEX"), (34, str(self.seq))]
        self.seq += 1
        return encode_fix([*head, (52, _SENDING_TIME), *body])

    async def open(self, port: int, username: str, password: str) -> None:
        """Connects and logs on, numbers reset."""
        loop = asyncio.get_running_loop()
        self._logged_on = loop.create_future()
        await loop.create_connection(lambda: self, "127.0.0.1", port)
        assert self.transport is not None
        logon = self._message(
            "A", (98, "0"), (108, "30"), (141, "Y"), (553, username), (554, password)
        )
        self.transport.write(logon)
        await self._logged_on

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keeps the transport."""
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        """Fails a logon still waiting."""
        if self._logged_on is not None and not self._logged_on.done():
            self._logged_on.set_exception(ConnectionError("gateway closed during logon"))

    def send(self, count: int, planned_ns: int) -> None:
        """Sends ``count`` orders in one write, all planned for ``planned_ns``."""
        assert self.transport is not None
        out = []
        for _ in range(count):
            coid = self.next_coid
            self.next_coid += 1
            self.planned[coid] = planned_ns
            out.append(
                self._message(
                    "D",
                    (11, str(coid)),
                    (55, "XAU"),
                    (54, "1"),
                    (60, _SENDING_TIME),
                    (38, "1"),
                    (40, "2"),
                    (44, self.price),
                    (59, "3"),
                )
            )
        self.transport.write(b"".join(out))

    def outstanding(self) -> int:
        """Orders sent and not yet answered."""
        return len(self.planned)

    def data_received(self, data: bytes) -> None:
        """Times every New or Rejected ExecutionReport; in the closed loop, refills."""
        now = time.monotonic_ns()
        for item in self._framer.feed(data):
            if not isinstance(item, FixMessage):
                raise RuntimeError(f"gateway sent a bad FIX message: {item}")
            f = item.fields
            if f[35] == "A" and self._logged_on is not None and not self._logged_on.done():
                self._logged_on.set_result(None)
            if f[35] != "8" or f.get(150) not in ("0", "8"):
                continue
            self.rejected += f[150] == "8"
            sent = self.planned.pop(int(f[11]), None)
            if sent is not None:
                if self.histogram is not None:
                    self.histogram.record_value(max(now - sent, 1))
                self.completed += 1
        missing = self.window - len(self.planned)
        if self.window and missing > 0:
            self.send(missing, now)

    async def close(self) -> None:
        """Logs out and closes."""
        if self.transport is not None:
            self.transport.write(self._message("5"))
            self.transport.close()
