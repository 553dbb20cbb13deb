"""The L3 feed over UDP multicast on loopback (TTL 0: it never leaves this host), end
to end: the real daemon and gateway, receivers on real sockets. What a receiver yields
equals the TCP L3 feed for the same activity; packets a receiver loses (dropped by its
test hook) come back from the retransmission server; a range older than the server's
window is reported lost; the session's end is seen."""

import asyncio
import random
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ringex_client import BookEvent, Client, FeedKind, Message, SnapshotBegin, SnapshotEnd
from ringex_client.aio_multicast_receiver import AsyncMulticastReceiver
from ringex_client.mold_packet import decode_packet
from ringex_client.mold_sequencer import MulticastLost
from ringex_client.multicast_receiver import FeedItem, MulticastReceiver, ReceiverOptions
from tests.system_processes import Gateway, free_port
from tests.test_market_data import (  # noqa: F401 (exchange: a fixture)
    GatewayFactory,
    client,
    collect,
    exchange,
    login,
    trade_randomly,
)

pytestmark = pytest.mark.timeout(120)


class Multicast:
    """A gateway publishing multicast, and receivers of its group."""

    def __init__(self, gateway: Gateway, group: str, port: int, retransmit_port: int) -> None:
        self.gateway = gateway
        self.group = group
        self.port = port
        self.retransmit = ("127.0.0.1", retransmit_port)

    def receiver(self, **options: Any) -> MulticastReceiver:
        """A receiver from the session's first message on, unless told otherwise."""
        return MulticastReceiver(
            self.group, self.port, self.retransmit, ReceiverOptions(**({"start_seq": 1} | options))
        )


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def multicast(request: pytest.FixtureRequest) -> Callable[..., Multicast]:
    """Gateways of one engine, each publishing to a group of the test's own."""
    gateway: GatewayFactory = request.getfixturevalue("exchange")

    def make(**settings: Any) -> Multicast:
        rng = random.Random()
        group = f"239.255.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        port, retransmit_port = free_udp_port(), free_port()
        base: dict[str, Any] = {
            "multicast_group": f"{group}:{port}",
            "multicast_retransmit": f"127.0.0.1:{retransmit_port}",
            "multicast_heartbeat_ms": 100,
            "multicast_session": "TEST",
        }
        return Multicast(gateway(**(base | settings)), group, port, retransmit_port)

    return make


def lossy(seed: int) -> Callable[[bytes], bool]:
    """A drop hook losing about 30% of the packets that carry messages."""
    rng = random.Random(seed)
    return lambda data: decode_packet(data).count > 0 and rng.random() < 0.3


def is_last(item: FeedItem, last_feed_seq: int) -> bool:
    """Whether ``item`` is instrument 1's message numbered ``last_feed_seq``."""
    return isinstance(item, BookEvent) and (item.instrument, item.feed_seq) == (1, last_feed_seq)


def receive(rx: MulticastReceiver, last_feed_seq: int, timeout: float = 20.0) -> list[FeedItem]:
    """What ``rx`` yields up to instrument 1's message numbered ``last_feed_seq``."""
    got: list[FeedItem] = []
    for item in rx.messages(idle_timeout=timeout):
        got.append(item)
        if is_last(item, last_feed_seq):
            break
    return got


def tcp_l3(c: Client, last_feed_seq: int) -> list[Message]:
    """The L3 incrementals of instrument 1 a subscriber got up to ``last_feed_seq``."""
    got = collect(
        c,
        lambda ms: any(getattr(m, "feed_seq", 0) == last_feed_seq for m in ms[1:]),
        timeout=20,
    )
    return [m for m in got if isinstance(m, BookEvent)]


def traded(m: Multicast, orders: int, seed: int) -> int:
    """Random orders on instrument 1; returns its L3 feed_seq once all are answered."""
    alice, bob = login(m.gateway, "alice"), login(m.gateway, "bob")
    trade_randomly([alice, bob], orders, seed)
    alice.close()
    bob.close()
    with client(m.gateway, "viewer") as c:
        c.subscribe_feed(1, FeedKind.L3)
        got = collect(c, lambda ms: any(isinstance(x, SnapshotEnd) for x in ms))
    return next(x for x in got if isinstance(x, SnapshotBegin)).feed_seq


def test_multicast_equals_the_tcp_l3_feed_and_ends_with_the_session(
    multicast: Callable[..., Multicast],
) -> None:
    m = multicast()
    with m.receiver() as rx:
        viewer = login(m.gateway, "viewer")
        viewer.subscribe_feed(1, FeedKind.L3)
        collect(viewer, lambda ms: any(isinstance(x, SnapshotEnd) for x in ms))
        last = traded(m, 300, seed=11)
        over_tcp = tcp_l3(viewer, last)
        viewer.close()
        # The TCP subscriber's snapshot covered the listing (feed_seq 1).
        over_multicast = [
            x
            for x in receive(rx, last)
            if isinstance(x, BookEvent) and x.instrument == 1 and x.feed_seq > 1
        ]
        assert over_multicast == over_tcp
        m.gateway.stop()
        assert list(rx.messages(idle_timeout=10)) == []
        assert rx.ended


def test_lost_packets_come_back_from_the_retransmission_server(
    multicast: Callable[..., Multicast],
) -> None:
    m = multicast(multicast_mtu_bytes=400)
    with m.receiver() as whole, m.receiver(drop=lossy(5)) as rx:
        last = traded(m, 300, seed=12)
        expected = receive(whole, last)
        assert receive(rx, last) == expected
        assert rx.dropped_by_hook > 0
        assert rx.requests > 0
        assert rx.sequencer.stats().lost == 0


def test_the_asyncio_receiver_recovers_the_same_messages(
    multicast: Callable[..., Multicast],
) -> None:
    m = multicast(multicast_mtu_bytes=400)

    async def take(last_feed_seq: int) -> list[FeedItem]:
        got: list[FeedItem] = []
        rx = AsyncMulticastReceiver(
            m.group, m.port, m.retransmit, ReceiverOptions(start_seq=1, drop=lossy(6))
        )
        async with rx:
            async for item in rx.messages(idle_timeout=20):
                got.append(item)
                if is_last(item, last_feed_seq):
                    break
        assert rx.requests > 0
        return got

    with m.receiver() as whole:
        last = traded(m, 200, seed=13)
        expected = receive(whole, last)
    # Joined after the trading: every message comes from the retransmission server.
    assert asyncio.run(asyncio.wait_for(take(last), 60)) == expected


def test_a_range_older_than_the_window_is_reported_lost(
    multicast: Callable[..., Multicast],
) -> None:
    m = multicast(multicast_window_messages=50)
    with m.receiver(start_seq=None) as whole:
        last = traded(m, 200, seed=14)
        expected = receive(whole, last)
    # Joined after the trading, asking for the session from its start: the server
    # holds only the newest 50 messages.
    with m.receiver() as late:
        got = receive(late, last)
        assert late.sequencer.next_seq is not None
        published = late.sequencer.next_seq - 1
    assert got[0] == MulticastLost(1, published - 50)
    assert got[1:] == expected[-50:]
    assert late.sequencer.stats().lost == published - 50


def a_burst(first: int, packets: int) -> Callable[[bytes], bool]:
    """A drop hook losing ``packets`` packets that carry messages in a row, from the
    ``first``-th (counted from 0)."""
    seen = 0

    def drop(data: bytes) -> bool:
        nonlocal seen
        if decode_packet(data).count == 0:
            return False
        seen += 1
        return first < seen <= first + packets

    return drop


def test_a_receiver_asking_for_more_than_the_server_allows_takes_its_bound(
    multicast: Callable[..., Multicast],
) -> None:
    # The server answers at most 8 messages a request; the receiver asks for up to
    # 1024 and loses a burst of far more than 8 messages in a row.
    m = multicast(multicast_mtu_bytes=400, multicast_retransmit_max=8)
    with m.receiver() as whole, m.receiver(drop=a_burst(2, 10)) as rx:
        last = traded(m, 300, seed=15)
        expected = receive(whole, last)
        assert receive(rx, last) == expected
        assert rx.dropped_by_hook == 10
        assert rx.request_max == 8
        assert rx.sequencer.stats().lost == 0


def session_of(m: Multicast) -> bytes:
    """The session name on the packets the gateway publishes now (its heartbeats)."""
    with m.receiver(start_seq=None) as rx:
        deadline = time.monotonic() + 5
        while rx.sequencer.session is None and time.monotonic() < deadline:
            rx.poll(0.2)
        assert rx.sequencer.session is not None, "no heartbeat in 5 s"
        return rx.sequencer.session


def test_a_restarted_gateway_never_publishes_under_a_session_name_twice(
    multicast: Callable[..., Multicast], tmp_path: Path
) -> None:
    # Its receivers would take the new run's messages for ones they hold already.
    m = multicast(journal_dir=str(tmp_path / "journal"), multicast_session="DAY1")
    g = m.gateway
    g.stop()
    with pytest.raises(RuntimeError, match="exited with 2"):
        g.start()
    assert "multicast_session 'DAY1' was published under" in g.log.read_text()
    # Unnamed, each start is a session of its own, even two in one second.
    g.config.write_text(g.config.read_text().replace('multicast_session = "DAY1"\n', ""))
    names = []
    for _ in range(2):
        g.start()
        names.append(session_of(m))
        g.stop()
    assert names[0] != names[1]
    assert all(n.strip().isdigit() for n in names)
