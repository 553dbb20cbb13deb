"""A FIX load session for the FIX benchmark: logs on over FIX and sends NewOrderSingle
IOC buys, timing each from its planned send time to its ExecutionReport (New or
Rejected). It has the shape of the binary benchmark's ``LoadSession``, so the same
closed and open loops drive both.

Kept as cheap as the binary load session, so that the gateway is what is measured: a
window of orders is formatted in one step from a pre-built template (only MsgSeqNum and
ClOrdID change, and the BodyLength and CheckSum that follow from them; digit sums come
from a table), and answers are scanned with one regular expression for the ClOrdIDs of
the New and Rejected ExecutionReports rather than parsed whole. The tests check the
gateway's FIX against QuickFIX; here a Reject or a BusinessMessageReject from the
gateway stops the run."""

import asyncio
import re
import time
from typing import cast

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]
from load import new_histogram

from ringex_gateway._native import encode_fix

_SENDING_TIME = "20261203-00:00:00.000"
_PREFIX = b"8=FIX.4.4\x019="
_TRAILER = b"\x0110="
_TRAILER_BYTES = 8  # SOH 10=nnn SOH
#: ClOrdID and ExecType of the New (0) and Rejected (8) ExecutionReports: the gateway
#: writes ExecID(17) and ExecType(150) right after ClOrdID(11) in those.
_ANSWER = re.compile(rb"\x0111=(\d+)\x0117=[^\x01]*\x01150=([08])")
#: A Reject or a BusinessMessageReject.
_FATAL = re.compile(rb"\x0135=[3j]\x01")
#: Digit sums of 0-99,999: a number below 10^10 is two table look-ups.
_SPLIT = 100_000
_DIGIT_SUMS = [sum(map(int, str(n))) for n in range(_SPLIT)]
_NUMBER_MAX = _SPLIT * _SPLIT - 1


def _same_width(n: int, count: int) -> int:
    """How many of ``count`` numbers from ``n`` have as many digits as ``n``."""
    wider: int = 10 ** len(str(n))
    return min(count, wider - n)


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
        head = f"35=D\x0149={sender}\x0156=RINGEX\x0134=".encode()
        mid = f"\x0152={_SENDING_TIME}\x0111=".encode()
        tail = (
            f"\x0155=XAU\x0154=1\x0160={_SENDING_TIME}\x0138=1\x0140=2\x0144={price}\x0159=3\x01"
        ).encode()
        self._fixed_sum = sum(_PREFIX) + 1 + sum(head) + sum(mid) + sum(tail)
        self._fixed_len = len(head) + len(mid) + len(tail)
        # Literal percent signs cannot occur: FIX values here are printable, without '%'.
        self._template = _PREFIX + b"%d\x01" + head + b"%%d" + mid + b"%%d" + tail + b"10=%%03d\x01"

    def _message(self, msg_type: str, *body: tuple[int, str]) -> bytes:
        head = [(35, msg_type), (49, self.sender), (56, "RINGEX"), (34, str(self.seq))]
        self.seq += 1
        return encode_fix([*head, (52, _SENDING_TIME), *body])

    def _orders(self, count: int) -> bytes:
        """``count`` NewOrderSingles from the next MsgSeqNum and ClOrdID, each of which
        keeps its number of digits over them (so all have one BodyLength)."""
        seq, coid = self.seq, self.next_coid
        assert seq + count <= _NUMBER_MAX, "MsgSeqNum within the digit-sum table"
        assert coid + count <= _NUMBER_MAX, "ClOrdID within the digit-sum table"
        digits = len(str(seq)) + len(str(coid))
        length = self._fixed_len + digits
        base = self._fixed_sum + sum(b"%d" % length) + ord("0") * digits
        sums, split = _DIGIT_SUMS, _SPLIT
        fields: list[int] = []
        for s, c in zip(range(seq, seq + count), range(coid, coid + count), strict=True):
            digit_sum = sums[s % split] + sums[s // split] + sums[c % split] + sums[c // split]
            fields += (s, c, (base + digit_sum) % 256)
        self.seq += count
        self.next_coid += count
        return ((self._template % length) * count) % tuple(fields)

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
        self.planned.update(
            dict.fromkeys(range(self.next_coid, self.next_coid + count), planned_ns)
        )
        out = []
        while count:
            same = _same_width(self.next_coid, _same_width(self.seq, count))
            out.append(self._orders(same))
            count -= same
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
        if _FATAL.search(whole):
            raise RuntimeError(f"the gateway refused or ended the session: {whole[-300:]!r}")
        logging_on = self._logged_on is not None and not self._logged_on.done()
        if logging_on and b"\x0135=A\x01" in whole:
            assert self._logged_on is not None
            self._logged_on.set_result(None)
        planned, histogram = self.planned, self.histogram
        for coid, exec_type in _ANSWER.findall(whole):
            self.rejected += exec_type == b"8"
            sent = planned.pop(int(coid), None)
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
