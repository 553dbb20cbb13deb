"""A blocking receiver of the L3 feed over UDP multicast: joins the group, puts the
messages in sequence order, asks the TCP retransmission server for whatever it missed,
and yields the decoded feed messages once each, in order (a :class:`MulticastLost`
where the server no longer held a range, a :class:`NewSession` where it took up the
session of a restarted gateway). Pure Python, plain sockets."""

import select
import socket
import time
from collections.abc import Callable, Iterator

import msgspec

from ringex_client.codec import ProtocolError
from ringex_client.messages import Message
from ringex_client.mold_packet import (
    Packet,
    Reply,
    ReplyStatus,
    decode_packet,
    encode_header,
    session_name,
    split_reply,
)
from ringex_client.mold_sequencer import MoldSequencer, MulticastLost

#: Largest datagram read (the IPv4 UDP payload bound).
DATAGRAM_MAX = 65_507
#: Retransmission requests made per received packet at most, so the group socket is
#: read again before its buffer fills.
REQUESTS_PER_PACKET = 16


class NewSession(msgspec.Struct, frozen=True):
    """The receiver follows ``session`` from here on (``follow_sessions``): the one it
    followed ended, or fell silent while this one was heard. Whatever the old session
    published last may not have arrived: a book kept from the feed takes a snapshot of
    every instrument again."""

    session: bytes


FeedItem = Message | MulticastLost | NewSession
PacketFilter = Callable[[bytes], bool]


def join_group(group: str, port: int, interface: str, receive_buffer_bytes: int) -> socket.socket:
    """A UDP socket bound to ``group:port`` and joined to the group on ``interface``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer_bytes)
        sock.bind((group, port))
        membership = socket.inet_aton(group) + socket.inet_aton(interface)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    except OSError:
        sock.close()
        raise
    return sock


class ReceiverOptions:
    """What both receivers are configured with (see :class:`MulticastReceiver`)."""

    def __init__(
        self,
        *,
        interface: str = "127.0.0.1",
        session: str | None = None,
        start_seq: int | None = None,
        max_pending: int = 65_536,
        request_max: int = 1024,
        receive_buffer_bytes: int = 1 << 22,
        retransmit_timeout_s: float = 5.0,
        follow_sessions: bool = False,
        session_timeout_s: float = 5.0,
        drop: PacketFilter | None = None,
    ) -> None:
        if not 1 <= request_max < 0xFFFF:
            raise ValueError("request_max must be 1-65534")
        self.interface = interface
        self.session = session_name(session) if session is not None else None
        self.start_seq = start_seq
        self.max_pending = max_pending
        self.request_max = request_max
        self.receive_buffer_bytes = receive_buffer_bytes
        self.retransmit_timeout_s = retransmit_timeout_s
        self.follow_sessions = follow_sessions
        """Take up another session's packets once the session followed has ended, or
        has been silent for ``session_timeout_s`` while the other's arrive (a gateway
        restarted without its end going out); the receiver then never ends."""
        self.session_timeout_s = session_timeout_s
        self.drop = drop
        """A test's hook: packets it returns True for are treated as lost."""


class JoinedGroup:
    """What both receivers hold: the group's socket, the sequencer, the options and
    the counters; checks each datagram into a packet."""

    def __init__(
        self,
        group: str,
        port: int,
        retransmit: tuple[str, int],
        options: ReceiverOptions | None = None,
    ) -> None:
        self.options = o = options or ReceiverOptions()
        self.retransmit = retransmit
        self.sequencer = MoldSequencer(o.session, o.start_seq, o.max_pending)
        self.sock = join_group(group, port, o.interface, o.receive_buffer_bytes)
        self.sock.setblocking(False)
        self._replies = bytearray()
        self.request_max = o.request_max
        """Most messages asked for at once: the option, lowered to the server's bound
        when a reply states a smaller one."""
        self._heard_at = time.monotonic()
        self.dropped_by_hook = 0
        self.bad_packets = 0
        self.requests = 0
        self.retransmitted = 0
        """Messages received in retransmission replies (duplicates included)."""

    def _packet(self, data: bytes) -> Packet | None:
        """The datagram as a packet; None (counted) if malformed or the hook drops it."""
        if self.options.drop is not None and self.options.drop(data):
            self.dropped_by_hook += 1
            return None
        try:
            return decode_packet(data)
        except ProtocolError:
            self.bad_packets += 1
            return None

    @property
    def ended(self) -> bool:
        """The session ended and every message of it was delivered (never, when the
        receiver follows sessions)."""
        return self.sequencer.ended and not self.options.follow_sessions

    def _accept(self, packet: Packet) -> list[FeedItem]:
        """What ``packet`` puts in order; a packet of another session starts following
        that session instead, when the options allow it now."""
        now = time.monotonic()
        out: list[FeedItem] = []
        if packet.session != self.sequencer.session and self._may_follow(now):
            self.sequencer = MoldSequencer(None, None, self.options.max_pending)
            self._forget_retransmission()
            self._replies.clear()
            out.append(NewSession(packet.session))
        if self.sequencer.session in (None, packet.session):
            self._heard_at = now
        out += self.sequencer.accept(packet)
        return out

    def _may_follow(self, now: float) -> bool:
        silent_s = now - self._heard_at
        return (
            self.options.follow_sessions
            and self.sequencer.session is not None
            and (self.sequencer.ended or silent_s > self.options.session_timeout_s)
        )

    def _forget_retransmission(self) -> None:
        """Closes the retransmission connection (it served the old session)."""
        raise NotImplementedError

    def _request_bytes(self, sequence: int, count: int) -> bytes:
        assert self.sequencer.session is not None
        self.requests += 1
        return encode_header(self.sequencer.session, sequence, count)

    def _gap(self) -> tuple[int, int] | None:
        """The next range to ask the retransmission server for, if any."""
        return self.sequencer.gap(self.request_max)

    def _accept_reply(self, reply: Reply) -> tuple[list[FeedItem], bool]:
        """What ``reply`` puts in order, and whether asking again now may bring more
        (not when nothing moved: the rest is not published yet). A reply refusing the
        count for being over the server's bound lowers ours to it, so the next request
        is one the server answers rather than a gap that is never filled."""
        if reply.status == ReplyStatus.BAD_COUNT:
            bound = reply.packet.count
            if 0 < bound < self.request_max:
                self.request_max = bound
                return [], True
            return [], False
        if reply.status == ReplyStatus.MESSAGES:
            self.retransmitted += len(reply.packet.messages)
        before = self.sequencer.next_seq
        out: list[FeedItem] = list(self.sequencer.accept_reply(reply))
        return out, self.sequencer.next_seq != before

    def _take_reply(self) -> Reply | None:
        """The first whole reply received, if there is one yet."""
        split = split_reply(self._replies)
        if split is None:
            return None
        reply, used = split
        del self._replies[:used]
        return reply


class MulticastReceiver(JoinedGroup):
    """Receives one multicast session of the L3 feed.

    ``retransmit`` is the gateway's retransmission server (host, port). Without
    ``session`` the first packet's is followed; without ``start_seq`` the first packet
    says where the stream starts (give 1 to get the session from its first message).
    Use as a context manager; iterate :meth:`messages`."""

    _tcp: socket.socket | None = None

    def __enter__(self) -> "MulticastReceiver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Leaves the group and closes the retransmission connection."""
        self.sock.close()
        self._forget_retransmission()

    def _forget_retransmission(self) -> None:
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None

    def poll(self, timeout: float) -> list[FeedItem]:
        """Waits up to ``timeout`` seconds for a packet; returns what is now in order."""
        readable, _, _ = select.select([self.sock], [], [], timeout)
        if not readable:
            return self._recover()
        try:
            packet = self._packet(self.sock.recv(DATAGRAM_MAX))
        except BlockingIOError:
            return []  # readable, but the datagram was gone (its checksum failed)
        if packet is None:
            return []
        return self._accept(packet) + self._recover()

    def messages(self, idle_timeout: float = 5.0) -> Iterator[FeedItem]:
        """Every message in order until the session ends; TimeoutError after
        ``idle_timeout`` seconds with no packet."""
        while not self.ended:
            deadline = time.monotonic() + idle_timeout
            items = self.poll(idle_timeout)
            if not items and time.monotonic() >= deadline:
                raise TimeoutError(f"no multicast packet for {idle_timeout} s")
            yield from items

    def _recover(self) -> list[FeedItem]:
        """Asks the retransmission server for the first missing range, a bounded number
        of times."""
        out: list[FeedItem] = []
        for _ in range(REQUESTS_PER_PACKET):
            gap = self._gap()
            if gap is None:
                break
            items, again = self._accept_reply(self._request(*gap))
            out += items
            if not again:
                break
        return out

    def _request(self, sequence: int, count: int) -> Reply:
        """One request and its reply over the (lazily opened) TCP connection."""
        if self._tcp is None:
            self._tcp = socket.create_connection(
                self.retransmit, timeout=self.options.retransmit_timeout_s
            )
        try:
            self._tcp.sendall(self._request_bytes(sequence, count))
            while (reply := self._take_reply()) is None:
                data = self._tcp.recv(1 << 16)
                if not data:
                    raise ConnectionError("the retransmission server closed the connection")
                self._replies += data
        except (OSError, ProtocolError):
            self._tcp.close()
            self._tcp = None
            self._replies.clear()
            raise
        return reply
