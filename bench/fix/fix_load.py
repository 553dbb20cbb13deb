"""A FIX load session for the FIX benchmark: logs on over FIX and sends NewOrderSingle
IOC buys, timing each from its planned send time to its ExecutionReport (New or
Rejected). It has the shape of the binary benchmark's ``LoadSession``, so the same
closed and open loops drive both.

Kept as cheap as the binary load session, so that the gateway is what is measured:
orders are written from a pre-built template (only MsgSeqNum and ClOrdID change, and the
BodyLength and CheckSum that follow from them), and answers are scanned for the few
fields the benchmark needs rather than parsed whole. The tests check the gateway's FIX
against QuickFIX; here a Reject or a BusinessMessageReject from the gateway stops the run."""

import asyncio
import time
from typing import cast

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]
from load import new_histogram

from ringex_gateway._native import encode_fix

_SENDING_TIME = "20261203-00:00:00.000"
_PREFIX = b"8=FIX.4.4\x019="
#: Where ClOrdID starts: only the ExecutionReports among the answers carry it.
_CL_ORD_ID = b"\x0111="
#: ExecType, after ClOrdID in the gateway's ExecutionReports.
_EXEC_TYPE = b"\x01150="
_TRAILER = b"\x0110="
_TRAILER_BYTES = 8  # SOH 10=nnn SOH
_FATAL = (b"\x0135=3\x01", b"\x0135=j\x01")


class FixLoadSession(asyncio.Protocol):
    """One FIX session; ``send(n)`` sends n orders stamped with a planned time."""

    def __init__(self, sender: str, first_coid: int, price: str) -> None:
        self.sender = sender
        self.next_coid = first_coid
        self.seq = 1
        self.planned: dict[int, int] = {}
        self.histogram: HdrHistogram | None = new_histogram()
        self.window = 0
        self.completed = 0
        self.rejected = 0
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._logged_on: asyncio.Future[None] | None = None
        self._head = f"35=D\x0149={sender}\x0156=RINGEX\x0134=".encode()
        self._mid = f"\x0152={_SENDING_TIME}\x0111=".encode()
        self._tail = (
            f"\x0155=XAU\x0154=1\x0160={_SENDING_TIME}\x0138=1\x0140=2\x0144={price}\x0159=3\x01"
        ).encode()
        self._fixed_sum = sum(_PREFIX) + 1 + sum(self._head) + sum(self._mid) + sum(self._tail)
        self._fixed_len = len(self._head) + len(self._mid) + len(self._tail)
        # Literal percent signs cannot occur: FIX values here are printable, without '%'.
        self._template = (
            _PREFIX
            + b"%d\x01"
            + self._head
            + b"%d"
            + self._mid
            + b"%d"
            + self._tail
            + b"10=%03d\x01"
        )

    def _message(self, msg_type: str, *body: tuple[int, str]) -> bytes:
        head = [(35, msg_type), (49, self.sender), (56, "RINGEX"), (34, str(self.seq))]
        self.seq += 1
        return encode_fix([*head, (52, _SENDING_TIME), *body])

    def _order(self, coid: int) -> bytes:
        """A NewOrderSingle from the template: the next MsgSeqNum, ClOrdID ``coid``."""
        seq = self.seq
        self.seq += 1
        # A separator (SOH, byte value 1) that the message does not hold between the two
        # numbers: taken off the length and the sum.
        numbers = b"%d\x01%d" % (seq, coid)
        length = self._fixed_len + len(numbers) - 1
        checksum = (self._fixed_sum + sum(b"%d%s" % (length, numbers)) - 1) % 256
        return self._template % (length, seq, coid, checksum)

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
            out.append(self._order(coid))
        self.transport.write(b"".join(out))

    def outstanding(self) -> int:
        """Orders sent and not yet answered."""
        return len(self.planned)

    def data_received(self, data: bytes) -> None:
        """Times every New or Rejected ExecutionReport; in the closed loop, refills."""
        now = time.monotonic_ns()
        buf = self._buf
        buf += data
        end = buf.rfind(_TRAILER)
        if end >= 0 and end + _TRAILER_BYTES > len(buf):
            end = buf.rfind(_TRAILER, 0, end)
        if end < 0:
            return
        whole = bytes(buf[: end + _TRAILER_BYTES])
        del buf[: end + _TRAILER_BYTES]
        if any(fatal in whole for fatal in _FATAL):
            raise RuntimeError(f"the gateway refused or ended the session: {whole[-300:]!r}")
        logging_on = self._logged_on is not None and not self._logged_on.done()
        if logging_on and b"\x0135=A\x01" in whole:
            assert self._logged_on is not None
            self._logged_on.set_result(None)
        planned, histogram = self.planned, self.histogram
        for report in whole.split(_CL_ORD_ID)[1:]:
            at = report.find(_EXEC_TYPE) + len(_EXEC_TYPE)
            exec_type = report[at : at + 1] if at >= len(_EXEC_TYPE) else b""
            if exec_type not in (b"0", b"8"):
                continue
            self.rejected += exec_type == b"8"
            sent = planned.pop(int(report[: report.index(b"\x01")]), None)
            if sent is not None:
                if histogram is not None:
                    histogram.record_value(max(now - sent, 1))
                self.completed += 1
        missing = self.window - len(planned)
        if self.window and missing > 0:
            self.send(missing, now)

    async def close(self) -> None:
        """Logs out and closes."""
        if self.transport is not None:
            self.transport.write(self._message("5"))
            self.transport.close()
