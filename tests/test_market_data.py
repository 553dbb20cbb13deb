"""Market data feeds end to end: the real daemon and gateway, subscribers on real sockets.

A read-only client keeps L3 and L2 books from a snapshot and the incrementals after it
while traders enter random orders; its books must equal a fresh subscriber's snapshot
(and the checksum that snapshot carries), and its L2 book the levels of its L3 book.
Resends inside and outside the window, unknown instruments, and a subscriber that stops
reading (conflated, or disconnected) while other sessions keep trading."""

import contextlib
import random
import socket
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ringex_client import (
    Accepted,
    BookEvent,
    BookSync,
    Client,
    FeedKind,
    FeedRejected,
    FeedRejectReason,
    FeedSubscribe,
    FrameReader,
    Goodbye,
    Heartbeat,
    LocalBook,
    Login,
    Message,
    RejectedFeed,
    ResendRequest,
    SessionEndReason,
    Side,
    SnapshotBegin,
    SnapshotEnd,
    TopOfBook,
    decode_server,
    encode,
)
from ringex_client.book_checksum import l2_checksum
from tests.session_tools import expect
from tests.system_processes import PASSWORD, Engine, Gateway, wait_engine_up
from tests.test_engine_link import metric, wait_metric

pytestmark = pytest.mark.timeout(120)

P = 100_000
WINDOW = 256


GatewayFactory = Callable[..., Gateway]


@pytest.fixture
def exchange(engine_bin: Path, tmp_path: Path) -> Iterator[GatewayFactory]:
    """An engine of the test's own; gateways in front of it, made with settings."""
    (tmp_path / "e").mkdir()
    engine = Engine(engine_bin, tmp_path / "e")
    engine.start()
    gateways: list[Gateway] = []

    def gateway(**settings: Any) -> Gateway:
        workdir = tmp_path / f"g{len(gateways)}"
        workdir.mkdir()
        g = Gateway(workdir, engine.port, **({"feed_window_events": WINDOW} | settings))
        gateways.append(g)
        g.start()
        wait_engine_up(g)
        return g

    try:
        yield gateway
    finally:
        for g in gateways:
            g.stop()
        engine.stop()


def client(g: Gateway, username: str) -> Client:
    """A client not yet connected (``with`` connects it)."""
    return Client("127.0.0.1", g.port, username, PASSWORD, reconnect=False)


def login(g: Gateway, username: str) -> Client:
    c = client(g, username)
    c.connect()
    return c


def collect(
    c: Client, done: Callable[[list[Message]], bool], timeout: float = 10.0
) -> list[Message]:
    """Messages until ``done`` holds for them."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while not done(got):
        assert time.monotonic() < deadline, f"not done; last: {got[-3:]}"
        got += c.poll(0.05)
    return got


def book_events(messages: list[Message]) -> list[Message]:
    """The L3 feed's messages among ``messages``, in order."""
    return [m for m in messages if isinstance(m, BookEvent)]


def trade_randomly(traders: list[Client], orders: int, seed: int) -> None:
    """Random limit orders, cancels and replaces around P; returns once all are answered."""
    rng = random.Random(seed)
    sent: list[list[int]] = [[] for _ in traders]
    for _ in range(orders):
        i = rng.randrange(len(traders))
        c, mine = traders[i], sent[i]
        roll = rng.random()
        if roll < 0.15 and mine:
            c.cancel(rng.choice(mine))
        elif roll < 0.25 and mine:
            old = rng.choice(mine)
            mine.append(c.replace(old, qty=rng.randint(1, 9), price=P + rng.randint(-10, 10)))
        else:
            side = rng.choice([Side.BUY, Side.SELL])
            mine.append(c.submit(1, side, rng.randint(1, 9), P + rng.randint(-10, 10)))
    for c in traders:
        marker = c.buy(1, 1, P - 500)
        expect(c, Accepted, timeout=30, client_order_id=marker)


def snapshot_of(g: Gateway, feed: FeedKind, depth: int = 0) -> tuple[SnapshotBegin, LocalBook]:
    """A fresh subscriber's snapshot of instrument 1 (and the book it describes)."""
    with client(g, "viewer") as c:
        book = LocalBook(c, 1, l3=feed == FeedKind.L3, l2_depth=depth)
        book.subscribe()
        got = collect(c, lambda ms: any(isinstance(m, SnapshotEnd) for m in ms))
    assert book.synced()
    begin = next(m for m in got if isinstance(m, SnapshotBegin))
    return begin, book


def test_books_rebuilt_from_the_feeds_equal_a_fresh_snapshot(exchange: GatewayFactory) -> None:
    gateway = exchange
    g = gateway()
    alice, bob = login(g, "alice"), login(g, "bob")
    trade_randomly([alice, bob], 150, seed=1)
    viewer = login(g, "viewer")
    live: dict[int, Message] = {}

    def keep(instrument: int, m: Message) -> None:
        if isinstance(m, BookEvent):
            live[m.feed_seq] = m

    l3 = LocalBook(viewer, 1, l2_depth=10, on_update=keep)
    l3.subscribe()
    l3.wait_synced()
    trade_randomly([alice, bob], 400, seed=2)
    begin, fresh = snapshot_of(g, FeedKind.L3)
    l3.wait_until(lambda: l3.feed_seq() >= begin.feed_seq)
    assert (l3.gaps, l3.resyncs) == (0, 0)
    assert l3.feed_seq() == begin.feed_seq
    assert l3.orders() == fresh.orders()
    assert l3.checksum(FeedKind.L3) == begin.checksum
    # The L2 book equals the levels of the L3 book, and a fresh L2 snapshot's checksum.
    l2_begin, _ = snapshot_of(g, FeedKind.L2, 10)
    l3.wait_until(lambda: l3.level_seq() >= l2_begin.level_seq)
    l2_levels = [(s, lv.price, lv.qty, lv.order_count) for s in Side for lv in l3.levels(s, 10)]
    assert l2_begin.checksum == l2_checksum(l2_levels) == l3.checksum(FeedKind.L2)

    # A resend inside the window repeats the incrementals as they were sent.
    last = l3.feed_seq()
    viewer.request_resend(1, FeedKind.L3, last - 9, last)
    # The viewer reads alice's account stream too: executions may still be arriving.
    resent = collect(viewer, lambda ms: len(book_events(ms)) >= 10)
    assert book_events(resent)[:10] == [live[s] for s in range(last - 9, last + 1)]
    # One that fell out of the window is refused, and a fresh snapshot follows.
    viewer.request_resend(1, FeedKind.L3, 1, 5)
    got = collect(viewer, lambda ms: any(isinstance(m, SnapshotEnd) for m in ms))
    rejected = next(m for m in got if isinstance(m, FeedRejected))
    assert rejected.reason == FeedRejectReason.RESEND_OUT_OF_WINDOW
    assert next(m for m in got if isinstance(m, SnapshotBegin)).feed_seq == last
    for c in (alice, bob, viewer):
        c.close()


def test_unknown_instruments_and_bad_depths_are_refused(exchange: GatewayFactory) -> None:
    gateway = exchange
    g = gateway()
    with client(g, "viewer") as c:
        c.subscribe_feed(99, FeedKind.L3)
        r = expect(c, FeedRejected)
        assert (r.instrument, r.feed, r.reason) == (
            99,
            RejectedFeed.L3,
            FeedRejectReason.UNKNOWN_INSTRUMENT,
        )
        c.subscribe(99)
        r = expect(c, FeedRejected)
        assert (r.feed, r.reason) == (RejectedFeed.TOP_OF_BOOK, FeedRejectReason.UNKNOWN_INSTRUMENT)
        c.subscribe_feed(1, FeedKind.L2, 7)
        assert expect(c, FeedRejected).reason == FeedRejectReason.BAD_DEPTH


class StalledReader:
    """A session that subscribes, then stops reading. It logs in to an account that does
    not trade, so only its market data can back up."""

    def __init__(self, g: Gateway) -> None:
        self.sock = socket.create_connection(("127.0.0.1", g.port), timeout=5)
        self.sock.sendall(encode(Login("erin", PASSWORD, 0)))
        self.reader = FrameReader()
        self.sock.sendall(encode(FeedSubscribe(1, FeedKind.L3)))

    def flood_resends(self, to_seq: int, count: int) -> None:
        """Asks for the window again and again without reading the answers."""
        ask = encode(ResendRequest(1, FeedKind.L3, 0, max(to_seq - WINDOW + 1, 1), to_seq))
        self.sock.sendall(ask * count)

    def keep_alive(self) -> None:
        """A heartbeat, so only its reading stalls (nothing if it was disconnected)."""
        with contextlib.suppress(OSError):
            self.sock.sendall(encode(Heartbeat()))

    def read_all(self, quiet_s: float = 1.0, timeout: float = 30.0) -> tuple[list[Message], bool]:
        """Everything but heartbeats until none came for ``quiet_s`` (or the connection
        closed: True)."""
        out: list[Message] = []
        deadline = time.monotonic() + timeout
        heard = beat = time.monotonic()
        self.sock.settimeout(0.1)
        while time.monotonic() < deadline:
            if time.monotonic() - heard > quiet_s:
                return out, False
            if time.monotonic() - beat > 0.5:
                self.keep_alive()
                beat = time.monotonic()
            try:
                data = self.sock.recv(1 << 20)
            except TimeoutError:
                continue
            except ConnectionResetError:
                return out, True
            if not data:
                return out, True
            for body in self.reader.feed(data):
                m = decode_server(body)
                if not isinstance(m, Heartbeat):
                    out.append(m)
                    heard = time.monotonic()
        raise TimeoutError("the feed never went quiet")


@pytest.mark.parametrize("policy", ["conflate", "disconnect"])
def test_a_stalled_subscriber_is_conflated_or_disconnected_and_trading_goes_on(
    exchange: GatewayFactory, policy: str
) -> None:
    gateway = exchange
    g = gateway(feed_slow=policy, feed_backlog_bytes=65536)
    alice, bob = login(g, "alice"), login(g, "bob")
    trade_randomly([alice, bob], 300, seed=3)
    stalled = StalledReader(g)
    time.sleep(0.3)
    last, _ = snapshot_of(g, FeedKind.L3)
    stalled.flood_resends(last.feed_seq, 2000)
    # Other sessions trade on, answered as usual, while the stalled one reads nothing.
    for round in range(4):
        trade_randomly([alice, bob], 50, seed=10 + round)
        stalled.keep_alive()
    got, closed = stalled.read_all()
    if policy == "conflate":
        assert not closed
        assert (metric(g, "ringex_gateway_feed_conflations_total") or 0) > 0
        book = BookSync(1)
        book.start(0.0)
        for m in got:
            book.receive(m, 0.0)
        final, fresh = snapshot_of(g, FeedKind.L3)
        assert sum(isinstance(m, SnapshotBegin) for m in got) >= 2
        assert book.feed_seq() == final.feed_seq
        assert book.orders() == fresh.orders()
    else:
        assert closed
        goodbyes = [m for m in got if isinstance(m, Goodbye)]
        assert goodbyes == [] or goodbyes[-1].reason == SessionEndReason.SLOW_CONSUMER
        assert metric(g, "ringex_gateway_feeds_stopped") == 0
    stalled.sock.close()
    for c in (alice, bob):
        c.close()


def test_a_subscriber_reset_mid_write_ends_alone_and_the_others_go_on(
    exchange: GatewayFactory,
) -> None:
    """A subscriber's connection reset while bytes wait for it (the socket writer meets
    the reset mid-write): that session ends, and trading and another subscriber's book
    go on whole."""
    g = exchange()
    alice, bob = login(g, "alice"), login(g, "bob")
    viewer = login(g, "viewer")
    book = LocalBook(viewer, 1)
    book.subscribe()
    book.wait_synced()
    gone = StalledReader(g)
    trade_randomly([alice, bob], 100, seed=5)
    gone.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    gone.sock.close()
    trade_randomly([alice, bob], 300, seed=6)
    wait_metric(g, "ringex_gateway_sessions", 3)
    begin, fresh = snapshot_of(g, FeedKind.L3)
    book.wait_until(lambda: book.feed_seq() >= begin.feed_seq)
    assert (book.gaps, book.resyncs) == (0, 0)
    assert book.orders() == fresh.orders()
    for c in (alice, bob, viewer):
        c.close()


def test_read_only_sessions_share_one_pipeline_with_top_of_book(exchange: GatewayFactory) -> None:
    """The old TopOfBook answer is stamped with the engine's clock, like the feeds."""
    gateway = exchange
    g = gateway()
    with client(g, "alice") as alice, login(g, "viewer") as viewer:
        sell = alice.sell(1, 5, P + 1)
        accepted = expect(alice, Accepted, client_order_id=sell)
        viewer.subscribe(1)
        top = expect(viewer, TopOfBook)
        assert top.ask_price == P + 1
        assert top.timestamp_ns == accepted.timestamp_ns


def test_books_survive_a_gateway_restart_and_a_second_gateway_agrees(
    exchange: GatewayFactory, tmp_path: Path
) -> None:
    """A restarted gateway rebuilds its books from its stream journal, a new one from the
    engine's history: both publish the book the first one did."""
    gateway = exchange
    g = gateway(journal_dir=str(tmp_path / "streams"))
    alice, bob = login(g, "alice"), login(g, "bob")
    trade_randomly([alice, bob], 200, seed=5)
    alice.close()
    bob.close()
    before, book = snapshot_of(g, FeedKind.L3)
    g.stop()
    g.start()
    wait_engine_up(g)
    after, again = snapshot_of(g, FeedKind.L3)
    assert (after.feed_seq, after.checksum) == (before.feed_seq, before.checksum)
    assert again.orders() == book.orders()
    other, theirs = snapshot_of(gateway(), FeedKind.L3)
    assert (other.feed_seq, other.checksum) == (before.feed_seq, before.checksum)
    assert theirs.orders() == book.orders()
