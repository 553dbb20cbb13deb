"""The client's LocalBook against the real daemon and gateway on loopback.

A book behind a lossy proxy of the test's own (feed frames dropped, repeated and
reordered, snapshot entries too) and a book whose reader stalls (so the gateway
conflates or disconnects it) both converge on the book a fresh subscriber gets, and
report that they resynced; order entry is answered in full while one stalls. The
asyncio flavour keeps every instrument's book from an all-instruments subscription."""

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

import pytest

from ringex_client import (
    ALL_INSTRUMENTS,
    Accepted,
    AsyncClient,
    AsyncLocalBook,
    Client,
    FeedKind,
    LocalBook,
    Message,
    Rejected,
    RejectReason,
    Resync,
    ResyncCause,
    SnapshotBegin,
    SnapshotEnd,
)
from tests.lossy_feed_proxy import LossyFeedProxy
from tests.session_tools import expect
from tests.system_processes import PASSWORD, Gateway
from tests.test_engine_link import metric
from tests.test_market_data import (
    GatewayFactory,
    P,
    exchange,  # noqa: F401 (the fixture)
    login,
    snapshot_of,
    trade_randomly,
)

pytestmark = pytest.mark.timeout(180)


def mark_the_top(trader: Client) -> None:
    """A buy above every ask: it trades the best ask or becomes the best bid, so both
    feeds move past anything lost before it."""
    coid = trader.buy(1, 1, P + 50)
    expect(trader, Accepted, timeout=10, client_order_id=coid)


def assert_converged(book: LocalBook, g: Gateway) -> None:
    """The book reaches a fresh subscriber's L3 and L2 snapshots and equals them."""
    l3, fresh = snapshot_of(g, FeedKind.L3)
    l2, _ = snapshot_of(g, FeedKind.L2, 10)
    book.wait_until(
        lambda: (
            book.synced() and book.feed_seq() >= l3.feed_seq and book.level_seq() >= l2.level_seq
        ),
        timeout=30,
    )
    assert (book.feed_seq(), book.level_seq()) == (l3.feed_seq, l2.level_seq)
    assert book.orders() == fresh.orders()
    assert book.checksum(FeedKind.L3) == l3.checksum
    assert book.checksum(FeedKind.L2) == l2.checksum


def conflated_at_last(g: Gateway, timeout: float = 10.0) -> None:
    """The gateway's conflation count shows one (its metrics refresh now and then)."""
    deadline = time.monotonic() + timeout
    while (metric(g, "ringex_gateway_feed_conflations_total") or 0) == 0:
        assert time.monotonic() < deadline, "the gateway never conflated the viewer"
        time.sleep(0.1)


def while_polling(book: LocalBook, work: Callable[[], None]) -> None:
    """Runs ``work`` in a thread of its own while this one keeps the book polled."""
    worker = threading.Thread(target=work)
    worker.start()
    while worker.is_alive():
        book.poll(0.05)
    worker.join()


def test_a_book_behind_a_lossy_proxy_converges_and_says_it_resynced(
    exchange: GatewayFactory,  # noqa: F811
) -> None:
    # Room for the traders' answers while they send: only the feed is under test here.
    g = exchange(max_backlog=100_000, write_buffer_bytes=1 << 20)
    alice, bob = login(g, "alice"), login(g, "bob")
    proxy = LossyFeedProxy(g.port, seed=1, loss=0.02)
    viewer = Client("127.0.0.1", proxy.port, "viewer", PASSWORD)
    viewer.connect()
    resyncs: list[Resync] = []
    book = LocalBook(
        viewer, 1, l2_depth=10, resend_limit=100, resync_timeout_s=0.5,
        on_resync=resyncs.append,
    )  # fmt: skip
    book.subscribe()
    book.wait_synced(timeout=30)
    while_polling(book, lambda: trade_randomly([alice, bob], 500, seed=21))
    # On a busy host the idle-priority socket writer may send the feed only once the
    # trading is over: the proxy stays lossy until the book has been through the damage.
    with contextlib.suppress(TimeoutError):
        book.wait_until(
            lambda: proxy.damaged > 0 and book.gaps > 0 and book.duplicates > 0 and bool(resyncs),
            timeout=30,
        )
    proxy.heal()
    mark_the_top(alice)
    assert_converged(book, g)
    assert proxy.damaged > 0
    assert resyncs
    assert book.resyncs == len(resyncs)
    assert book.gaps > 0
    assert book.duplicates > 0
    book.close()
    for c in (alice, bob, viewer):
        c.close()
    proxy.close()


@pytest.mark.parametrize("policy", ["conflate", "disconnect"])
def test_a_stalled_book_catches_up_and_order_entry_is_answered_meanwhile(
    exchange: GatewayFactory,  # noqa: F811
    policy: str,
) -> None:
    """Conflated, the book takes the fresh snapshots the gateway cuts it to, each checked
    against the book held (a snapshot past it is reported as a CONFLATED resync);
    disconnected, the client logs in again and the book resyncs (RECONNECT)."""
    g = exchange(feed_slow=policy, feed_backlog_bytes=65536, max_backlog=100_000)
    alice, bob = login(g, "alice"), login(g, "bob")
    answers: list[Message] = []
    for trader in (alice, bob):
        trader.on_message = answers.append
    trade_randomly([alice, bob], 200, seed=31)
    viewer = Client("127.0.0.1", g.port, "viewer", PASSWORD)
    viewer.connect()
    resyncs: list[Resync] = []
    snapshots: list[SnapshotEnd] = []

    def keep(instrument: int, m: Message) -> None:
        if isinstance(m, SnapshotEnd):
            snapshots.append(m)

    book = LocalBook(viewer, 1, l2_depth=10, on_update=keep, on_resync=resyncs.append)
    book.subscribe()
    book.wait_synced()
    # The viewer stops reading and, between rounds of trading, asks for the whole window
    # again and again: its backlog at the gateway goes over the bound with book changes
    # in it, while the traders trade on.
    for round in range(4):
        trade_randomly([alice, bob], 50, seed=40 + round)
        last = snapshot_of(g, FeedKind.L3)[0].feed_seq
        for _ in range(500):
            viewer.request_resend(1, FeedKind.L3, last - 255, last)
    sent = [m for m in answers if isinstance(m, Accepted | Rejected)]
    assert not [m for m in sent if isinstance(m, Rejected) and m.reason >= 100]
    assert alice.protocol.unacked() == bob.protocol.unacked() == []
    mark_the_top(alice)
    assert_converged(book, g)
    if policy == "conflate":
        conflated_at_last(g)
        assert len(snapshots) > 2
        assert {r.cause for r in resyncs} <= {ResyncCause.CONFLATED}
    else:
        assert ResyncCause.RECONNECT in {r.cause for r in resyncs}
    assert RejectReason.ENGINE_UNAVAILABLE not in {getattr(m, "reason", None) for m in sent}
    book.close()
    for c in (alice, bob, viewer):
        c.close()


def test_the_asyncio_book_keeps_every_instrument(exchange: GatewayFactory) -> None:  # noqa: F811
    g = exchange()
    alice, bob = login(g, "alice"), login(g, "bob")
    trade_randomly([alice, bob], 100, seed=51)
    fresh: SnapshotBegin
    fresh, book_then = snapshot_of(g, FeedKind.L3)

    async def scenario() -> None:
        client = AsyncClient("127.0.0.1", g.port, "viewer", PASSWORD, reconnect=False)
        await client.connect()
        updates: list[int] = []
        async with AsyncLocalBook(
            client, ALL_INSTRUMENTS, l2_depth=10, on_update=lambda i, _: updates.append(i)
        ) as book:
            await book.wait_until(lambda: book.instruments() == [1, 2] and book.synced())
            assert book.feed_seq(1) == fresh.feed_seq
            assert book.orders(1) == book_then.orders()
            await asyncio.to_thread(trade_randomly, [alice, bob], 100, 52)
            l3, now = await asyncio.to_thread(snapshot_of, g, FeedKind.L3)
            await book.wait_until(lambda: book.feed_seq(1) >= l3.feed_seq)
            assert book.orders(1) == now.orders()
            assert book.checksum(FeedKind.L3, 1) == l3.checksum
            assert book.best_bid(2) is None
            assert book.resyncs == 0
        assert 1 in updates
        await client.close()

    asyncio.run(scenario())
    for c in (alice, bob):
        c.close()
