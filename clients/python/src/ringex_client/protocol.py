"""The client side of a session as a state machine without I/O: bytes in, messages
out, frames to write. The blocking and asyncio clients are thin layers over it.

It logs in with the next sequence number it expects, drops replayed messages it has
already delivered, and once the replay is done resends every order message the stream
has not answered, so a reconnect loses nothing and executes nothing twice (the engine
refuses a second use of a client order id).
"""

import time
import typing
from collections import OrderedDict, deque
from collections.abc import Callable

from ringex_client.codec import FrameReader, ProtocolError, decode_server, encode
from ringex_client.enums import ALL_INSTRUMENTS, CommandKind, LoginRejectReason, SessionEndReason
from ringex_client.messages import (
    Accepted,
    Cancel,
    Cancelled,
    CancelRejected,
    EndOfDay,
    Executed,
    FeedMessage,
    Goodbye,
    Heartbeat,
    InstrumentDefinition,
    InstrumentRequest,
    InstrumentsEnd,
    Login,
    LoginAccepted,
    LoginRejected,
    MassCancel,
    MassCancelled,
    Message,
    NewOrder,
    Rejected,
    Replace,
    Replaced,
    SessionParameters,
    SetHalted,
    TopOfBook,
    TradeReport,
)
from ringex_client.order_pacer import OrderPacer
from ringex_client.state import OrderTracker

OrderMessage = NewOrder | Cancel | Replace | MassCancel
# What the gateway's rate limit counts: every message that becomes an engine command.
_PACED = (NewOrder, Cancel, Replace, MassCancel, EndOfDay, SetHalted)
# Unsequenced market data: delivered as it comes, past the account stream's bookkeeping
# (a feed can bring tens of thousands of these a second).
_MARKET_DATA = frozenset(typing.get_args(FeedMessage)) | {TopOfBook, TradeReport}


class LoginError(Exception):
    """The gateway refused the login."""

    def __init__(self, reason: LoginRejectReason) -> None:
        super().__init__(f"login rejected: {reason.name}")
        self.reason = reason

    @property
    def retryable(self) -> bool:
        """True when the same login may succeed later: the gateway was throttling its
        address or user, or was shutting down. A reconnect retries these after
        :data:`LOGIN_RETRY_S`; any other refusal is final."""
        return self.reason in (LoginRejectReason.THROTTLED, LoginRejectReason.UNAVAILABLE)


LOGIN_RETRY_S = 1.0
"""Seconds a reconnect waits after a retryable login refusal: the gateway's shortest
throttle window, so a client never adds to the failures that keep it throttled."""


class SessionEndedError(Exception):
    """The gateway ended the session (Goodbye)."""

    def __init__(self, reason: SessionEndReason, detail: int) -> None:
        super().__init__(f"session ended: {reason.name} ({detail})")
        self.reason = reason
        self.detail = detail


def _key(message: OrderMessage) -> tuple[str, int]:
    if isinstance(message, MassCancel):
        return ("M", message.instrument)
    return (message.TYPE.decode(), message.client_order_id)


class ClientProtocol:
    """One account's session, across reconnects."""

    def __init__(
        self,
        username: str,
        password: str,
        *,
        replay_from_start: bool = False,
        pace_orders: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``pace_orders``: hold order and admin messages back to the rate the gateway
        states at login instead of sending them to be refused ``RateLimited``."""
        self.username = username
        self.password = password
        self.tracker = OrderTracker()
        # The next stream sequence number to deliver; 0 until the first login says.
        self.next_seq = 1 if replay_from_start else 0
        self.epoch: int | None = None
        self.account: int | None = None
        self.logged_in = False
        self.replay_end = 0
        self.gaps = 0
        self._reader = FrameReader()
        self._out = bytearray()
        # Order messages sent (or waiting to be) with no answer in the stream yet.
        self._unacked: OrderedDict[tuple[str, int], OrderMessage] = OrderedDict()
        self._resent = False
        # The session's limits and timers, from the gateway's SessionParameters.
        self.parameters: SessionParameters | None = None
        # Every listed instrument's definition, kept current by the stream's updates;
        # complete once the first InstrumentsEnd arrived.
        self.instruments: dict[int, InstrumentDefinition] = {}
        self.instruments_loaded = False
        self.pace_orders = pace_orders
        self._clock = clock
        self._pacer = OrderPacer()
        # Paced messages waiting for a token, in the order they were sent.
        self._held: deque[Message] = deque()
        # The Goodbye that ended this connection, raised once what came before it is out.
        self._ended: SessionEndedError | None = None

    # Outgoing -----------------------------------------------------------------------

    def start(self) -> bytes:
        """A new connection: forget partial input; returns the Login frame."""
        self._reader = FrameReader()
        self._out.clear()
        # Unanswered order messages among them are resent after the replay.
        self._held.clear()
        self.logged_in = False
        self._ended = None
        self._resent = False
        login = Login(self.username, self.password, self.next_seq)
        return encode(login)

    def send(self, message: Message) -> None:
        """Queues a message. Order messages are remembered until the stream answers them
        and are held back while logged out (then sent after the replay)."""
        if isinstance(message, NewOrder | Cancel | Replace | MassCancel):
            self._unacked[_key(message)] = message
            if isinstance(message, NewOrder):
                self.tracker.sent(message)
            if not (self.logged_in and self._resent):
                return
        elif not self.logged_in:
            return
        if isinstance(message, _PACED):
            self._held.append(message)
            self._release()
        else:
            self._out += encode(message)

    def _release(self) -> None:
        now_s = self._clock()
        while self._held and self._pacer.take(now_s):
            self._out += encode(self._held.popleft())

    def pacing_wait_s(self) -> float | None:
        """Seconds until the next held-back message may go; None when none is held.
        The transport takes the outgoing bytes again then."""
        return self._pacer.wait_s(self._clock()) if self._held else None

    def take_outgoing(self) -> bytes:
        """Bytes to write now."""
        self._release()
        out = bytes(self._out)
        self._out.clear()
        return out

    def unacked(self) -> list[OrderMessage]:
        """Order messages not yet answered, in the order they were sent."""
        return list(self._unacked.values())

    # Incoming -----------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Message]:
        """Decodes new bytes; returns the messages to deliver, in order. Raises
        ProtocolError on bad bytes, LoginError when the gateway refuses the login. A
        Goodbye ends decoding: the messages before it are returned, and
        :meth:`raise_if_ended` raises it once they are delivered."""
        delivered: list[Message] = []
        if self._ended is not None:
            return delivered
        for body in self._reader.feed(data):
            message = decode_server(body)
            if type(message) in _MARKET_DATA:
                delivered.append(message)  # not part of the account's stream
                continue
            if isinstance(message, Heartbeat):
                continue
            if isinstance(message, LoginAccepted):
                self._logged_in(message)
            elif isinstance(message, LoginRejected):
                raise LoginError(message.reason)
            elif isinstance(message, Goodbye):
                self.logged_in = False
                self._ended = SessionEndedError(message.reason, message.detail)
                break
            elif isinstance(message, SessionParameters):
                self.parameters = message
                if self.pace_orders:
                    rate, burst = message.order_rate_per_s, message.order_burst
                    self._pacer.set_limits(rate, burst, self._clock())
            elif isinstance(message, InstrumentsEnd):
                self.instruments_loaded |= message.instrument == ALL_INSTRUMENTS
            seq = getattr(message, "seq", 0)
            if seq:
                if seq < self.next_seq:
                    continue  # delivered before the reconnect
                if seq > self.next_seq and self.next_seq:
                    self.gaps += seq - self.next_seq
                self.next_seq = seq + 1
            if isinstance(message, InstrumentDefinition):
                self.instruments[message.instrument] = message
            self._answered(message)
            self.tracker.apply(message)
            delivered.append(message)
            self._maybe_resend()
        return delivered

    def raise_if_ended(self) -> None:
        """Raises SessionEndedError once the gateway said Goodbye on this connection."""
        if self._ended is not None:
            raise self._ended

    def _logged_in(self, message: LoginAccepted) -> None:
        if self.epoch is not None and message.epoch != self.epoch:
            # The gateway's numbering restarted: nothing to deduplicate against.
            self.next_seq = message.next_seq
        if message.next_seq > self.next_seq:
            self.gaps += message.next_seq - self.next_seq if self.next_seq else 0
        self.next_seq = message.next_seq
        self.epoch = message.epoch
        self.account = message.account
        self.replay_end = message.replay_end
        self.logged_in = True
        self._maybe_resend()

    def _maybe_resend(self) -> None:
        if self.logged_in and not self._resent and self.next_seq >= self.replay_end:
            self._resent = True
            # Asked after the replay, so no replayed (older) definition follows the answer.
            self._out += encode(InstrumentRequest(ALL_INSTRUMENTS))
            self._held.extend(self._unacked.values())
            self._release()

    def _answered(self, m: Message) -> None:
        key: tuple[str, int] | None = None
        if isinstance(m, Accepted):
            key = ("N", m.client_order_id)
        elif isinstance(m, Replaced):
            key = ("U", m.client_order_id)
        elif isinstance(m, Cancelled | CancelRejected):
            key = ("X", m.client_order_id)
        elif isinstance(m, MassCancelled):
            key = ("M", m.instrument)
        elif isinstance(m, Rejected):
            letter = {CommandKind.NEW_ORDER: "N", CommandKind.REPLACE: "U"}.get(m.command, "M")
            key = (letter, m.client_order_id) if letter != "M" else None
            if letter == "M":
                for k in [k for k in self._unacked if k[0] == "M"][:1]:
                    del self._unacked[k]
        elif isinstance(m, Executed):
            self._unacked.pop(("N", m.client_order_id), None)
        if key is not None:
            self._unacked.pop(key, None)
        if isinstance(m, Cancelled):
            self._unacked.pop(("N", m.client_order_id), None)


__all__ = ["ClientProtocol", "LoginError", "ProtocolError", "SessionEndedError"]
