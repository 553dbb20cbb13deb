"""The FIX 4.4 listener and its connections: asyncio transport around the sans-IO session.

A FIX connection is a gateway session like a binary one: the gateway's core sees binary
protocol frames from it (Login with the FIX Logon's Username/Password, so the same
credentials, login throttles and queue apply; then NewOrder, Cancel, Replace,
MassCancel, FeedSubscribe for market data) and writes it the account stream and the
feeds, which this module turns into FIX reports.
Logging in asks for the whole held stream, which rebuilds the order state; only stream
messages after the last one this CompID pair was sent become FIX messages, so a
reconnect (or a gateway restart with a stream journal) loses nothing and repeats nothing.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ringex_client.codec import FrameReader, ProtocolError, decode_server, encode
from ringex_client.enums import SessionEndReason
from ringex_client.messages import (
    Accepted,
    Cancelled,
    CancelRejected,
    Executed,
    Goodbye,
    Heartbeat,
    Login,
    LoginAccepted,
    LoginRejected,
    MassCancelled,
    Message,
    Rejected,
    Replaced,
)
from ringex_gateway._native import FixBroken, FixFramer, FixMessage, FixOrderRun, FixRefused
from ringex_gateway.client_session import ClientSession
from ringex_gateway.config import PASSWORD_MAX, USERNAME_MAX, FixSettings, parse_address
from ringex_gateway.fix.market_data import FEED_MESSAGES, MarketData
from ringex_gateway.fix.order_entry import Forward, InvalidFieldError, OrderEntry
from ringex_gateway.fix.seq_store import SeqStore
from ringex_gateway.fix.session import (
    Application,
    Closed,
    Event,
    FixSession,
    LogonRequested,
    SessionSettings,
)
from ringex_gateway.fix.symbols import Symbol, SymbolTable
from ringex_gateway.fix.tags import MsgType, Tag
from ringex_gateway.gateway_session import SessionHost

log = logging.getLogger("ringex_gateway.fix")

_HEARTBEAT_FRAME = encode(Heartbeat())
#: Type bytes of the account stream's order responses, which become FIX reports at once.
_ORDER_RESPONSES = frozenset(
    m.TYPE[0]
    for m in (Accepted, Rejected, Executed, Cancelled, Replaced, CancelRejected, MassCancelled)
)
_TICK_S = 0.2
_MS = 1_000_000


class FixConnection(ClientSession):
    """One FIX connection: a gateway session whose bytes are FIX on the outside."""

    def __init__(self, gateway: SessionHost, sid: int, acceptor: "FixAcceptor") -> None:
        super().__init__(gateway, sid)
        self.acceptor = acceptor
        self.framer = FixFramer(acceptor.settings.max_message_bytes)
        self.fix = FixSession(acceptor.session_settings, acceptor.open_store, time.monotonic_ns())
        self.entry: OrderEntry | None = None
        self.market_data: MarketData | None = None
        self._core_beat_ns = 0
        # Binary frames for the core, handed over once per batch of received bytes.
        self._to_core: list[bytes] = []

    # Transport -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Registers with the gateway (as any session) and with the acceptor's timers."""
        self.acceptor.connections[self.sid] = self
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forgets the connection."""
        self.acceptor.connections.pop(self.sid, None)
        if self.fix.peer_comp_id and self.acceptor.active.get(self.fix.peer_comp_id) == self.sid:
            del self.acceptor.active[self.fix.peer_comp_id]
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """FIX bytes from the peer: through the framer into the session."""
        if self.closing:
            return
        now = time.monotonic_ns()
        next_in = self.fix.next_in_order()
        items: Sequence[FixOrderRun | FixMessage | FixRefused | FixBroken]
        if next_in and self.entry is not None:
            items = self.framer.feed(
                data, self.entry.orders, self.fix.settings.comp_id, self.fix.peer_comp_id, next_in
            )
        else:
            items = self.framer.feed(data)
        for item in items:
            if isinstance(item, FixOrderRun):
                self.fix.take_orders(item, now)
                self._to_core.append(item.frames)
            else:
                self._handle(self.fix.receive(item, now))
        self._flush_fix()

    def _flush_core(self) -> None:
        if self._to_core and not self.closing:
            frames, self._to_core = b"".join(self._to_core), []
            self.gateway.session_data(self, frames)

    def _flush_fix(self) -> None:
        self._flush_core()
        out = self.fix.take_output()
        if out and self.transport is not None and not self.closing:
            self.transport.write(out)

    def tick(self, now_ns: int) -> None:
        """The session's timers; keeps the gateway core's idle timer fed while the FIX
        session is alive (FIX heartbeats may be further apart than the core's timeout)."""
        self._handle(self.fix.tick(now_ns))
        beat_ns = self.gateway.settings.heartbeat_ms * _MS
        if self.entry is not None and not self.closing and now_ns - self._core_beat_ns >= beat_ns:
            self._core_beat_ns = now_ns
            self.gateway.session_data(self, _HEARTBEAT_FRAME)
        self._flush_fix()

    # FIX session events --------------------------------------------------------------

    def _handle(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, LogonRequested):
                self._logon(event)
            elif isinstance(event, Application):
                self._application(event.fields, event.groups)
            elif isinstance(event, Closed):
                self._closed(event.reason)

    def _logon(self, event: LogonRequested) -> None:
        active = self.acceptor.active.get(event.peer_comp_id)
        if active is not None and active != self.sid:
            self._handle(self.fix.refuse_logon("session already logged on", time.monotonic_ns()))
            return
        if len(event.username) > USERNAME_MAX or len(event.password) > PASSWORD_MAX:
            self._handle(self.fix.refuse_logon("not authorized", time.monotonic_ns()))
            return
        self.acceptor.active[event.peer_comp_id] = self.sid
        login = Login(username=event.username, password=event.password, next_seq=1)
        self.gateway.session_data(self, encode(login))

    def _application(self, fields: dict[int, str], groups: dict[int, list[dict[int, str]]]) -> None:
        assert self.entry is not None, "application messages come after the Logon"
        assert self.market_data is not None
        now = time.monotonic_ns()
        try:
            if fields[Tag.MSG_TYPE] == MsgType.MARKET_DATA_REQUEST:
                self._forward(self.market_data.request(fields, groups))
                self._send_market_data(now)
                return
            outcome = self.entry.request(fields)
        except InvalidFieldError as e:
            self.fix.reject(fields, e.reason, e.tag, e.text, now)
            return
        if isinstance(outcome, Forward):
            self._forward([outcome])
        else:
            self.fix.send_application(outcome.msg_type, outcome.body, now)

    def _forward(self, forwards: list[Forward]) -> None:
        self._to_core += [encode(f.message) for f in forwards]

    def _send_market_data(self, now: int) -> None:
        """The market data reports built so far; never resent (a gap fill covers them)."""
        assert self.market_data is not None
        for report in self.market_data.take_reports():
            self.fix.send_market_data(report.msg_type, report.body, now)

    def _closed(self, reason: str) -> None:
        log.info("FIX session %d (%s) ended: %s", self.sid, self.fix.peer_comp_id, reason)
        self._flush_fix()
        if self.sid in self.gateway.sessions:
            self.gateway.end_session(self, SessionEndReason.LOGOUT)
        else:
            self.fix.finish("session ended", time.monotonic_ns())
            self._flush_fix()
            self._close_transport()

    def _close_transport(self) -> None:
        if self.transport is not None and not self.closing:
            self.closing = True
            self.transport.close()

    # What the gateway core writes ----------------------------------------------------

    def writer_socket(self) -> int | None:
        """Never: the core's bytes are turned into FIX here."""
        return None

    def write(self, data: bytes) -> None:
        """Binary protocol messages from the core (whole frames), turned into FIX: runs
        of order responses at once, in native code, anything else one by one."""
        now = time.monotonic_ns()
        try:
            at = 0
            while at < len(data):
                if data[at + 2] in _ORDER_RESPONSES:
                    at += self._reports(data, at, now)
                if at < len(data):
                    at = self._one_from_core(data, at, now)
            if self.market_data is not None:
                self._send_market_data(now)
        except ProtocolError:
            log.exception("FIX session %d: undecodable message from the core", self.sid)
            self._closed("internal error")
        self._flush_fix()

    def _reports(self, frames: bytes, start: int, now: int) -> int:
        """The reports of the order responses leading from ``start``; the bytes taken."""
        if self.entry is None or self.fix.store is None:
            return 0
        if self.market_data is not None:
            self._send_market_data(now)  # reports keep the order of their causes
        return self.fix.send_reports(self.entry.orders, frames, start, now)

    def _one_from_core(self, data: bytes, at: int, now: int) -> int:
        """The frame at ``at`` of ``data``; returns where the next one starts."""
        end = _frame_end(data, at)
        self._from_core(decode_server(data[at + 2 : end]), now)
        return end

    def _from_core(self, m: Message, now: int) -> None:
        if isinstance(m, LoginAccepted):
            self._logged_in(m, now)
        elif isinstance(m, FEED_MESSAGES) and self.market_data is not None:
            self._forward(self.market_data.response(m))
        elif self.entry is not None and self.fix.store is not None:
            store = self.fix.store
            seq = getattr(m, "seq", 0)
            if seq > store.stream_seq:
                store.set_stream(store.stream_epoch, seq)

    def _logged_in(self, m: LoginAccepted, now: int) -> None:
        store = self.fix.store
        assert store is not None
        if store.stream_epoch != m.epoch:
            # A new pair, or a stream numbering that restarted: report from the live end.
            store.set_stream(m.epoch, m.replay_end - 1)
        self.entry = OrderEntry(
            self.acceptor.symbols,
            self.acceptor.settings.max_orders,
            self.gateway.instrument_listing,
        )
        gateway = self.gateway.settings
        self.market_data = MarketData(
            self.acceptor.symbols, gateway.l2_depths, gateway.feed_subscriptions
        )
        log.info(
            "FIX session %d logged on: %s, account %d", self.sid, self.fix.peer_comp_id, m.account
        )
        self._handle(self.fix.accept_logon(now))

    def close_with(self, last: bytes, abort_after: float) -> None:
        """The gateway ends the session: what it still had for the session (answers
        not yet written, the stream beyond what was reported) is reported first; then
        the refused login or Goodbye that ends ``last`` becomes a FIX Logout saying why,
        or the answer to the peer's own Logout."""
        if self.transport is None or self.closing:
            return
        final = _last_frame_at(last)
        if final:
            self.write(last[:final])
        text = "session ended"
        for body in FrameReader().feed(last[final:]):
            m = decode_server(body)
            if isinstance(m, LoginRejected):
                text = f"logon refused: {m.reason.name.lower()}"
            elif isinstance(m, Goodbye):
                text = m.reason.name.lower()
        self.fix.finish(text, time.monotonic_ns())
        self._flush_fix()
        super().close_with(b"", abort_after)


def _last_frame_at(frames: bytes) -> int:
    """Where the last of ``frames`` (whole binary protocol frames) starts."""
    at = last = 0
    while at < len(frames):
        last, at = at, _frame_end(frames, at)
    return last


def _frame_end(frames: bytes, at: int) -> int:
    """Where the binary protocol frame starting at ``at`` ends (its u16 length first)."""
    return at + 2 + int.from_bytes(frames[at : at + 2], "little")


class FixAcceptor:
    """The FIX listener of a gateway, its sequence stores and its connections' timers."""

    def __init__(self, gateway: SessionHost, settings: FixSettings) -> None:
        self.gateway = gateway
        self.settings = settings
        self.session_settings = SessionSettings(
            comp_id=settings.comp_id,
            peer_comp_ids=frozenset(settings.peer_comp_ids),
            heartbeat_min_s=settings.heartbeat_min_s,
            heartbeat_max_s=settings.heartbeat_max_s,
            logon_timeout_s=settings.logon_timeout_ms / 1000,
            max_message_bytes=settings.max_message_bytes,
        )
        self.symbols = SymbolTable(
            [Symbol(s.symbol, s.instrument, s.price_decimals) for s in settings.symbols]
        )
        self.connections: dict[int, FixConnection] = {}
        #: The connection logged on as each peer CompID.
        self.active: dict[str, int] = {}
        self._stores: dict[tuple[str, str], SeqStore] = {}
        self._server: asyncio.Server | None = None
        self._timer: asyncio.Task[None] | None = None

    def open_store(self, ours: str, theirs: str) -> SeqStore:
        """The one store of a CompID pair (kept open while the gateway runs)."""
        key = (ours, theirs)
        if key not in self._stores:
            directory = Path(self.settings.store_dir) if self.settings.store_dir else None
            self._stores[key] = SeqStore(
                directory,
                ours,
                theirs,
                self.settings.resend_messages,
                self.settings.store_max_bytes,
            )
        return self._stores[key]

    @property
    def address(self) -> tuple[str, int]:
        """The host and port the FIX listener is bound to."""
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self, new_sid: Callable[[], int]) -> None:
        """Binds the listener and starts the timers."""
        host, port = parse_address(self.settings.listen)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: FixConnection(self.gateway, new_sid(), self), host, port, reuse_address=True
        )
        self._timer = asyncio.create_task(self._ticks(), name="fix-timers")
        log.info("FIX acceptor %s listening on %s:%d", self.settings.comp_id, *self.address)

    async def _ticks(self) -> None:
        while True:
            await asyncio.sleep(_TICK_S)
            now = time.monotonic_ns()
            for connection in list(self.connections.values()):
                connection.tick(now)

    def stop_listening(self) -> None:
        """Takes no more connections (the gateway is stopping)."""
        if self._server is not None:
            self._server.close()

    async def stop(self) -> None:
        """Stops the timers and closes the stores, once the sessions have ended."""
        self.stop_listening()
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        for store in self._stores.values():
            store.close()
        self._stores.clear()
