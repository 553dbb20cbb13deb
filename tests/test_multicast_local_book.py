"""Local books kept from the L3 feed over UDP multicast (TTL 0 on loopback), against the
real daemon and gateway: the snapshot comes through a TCP session whose subscription
ends once it is loaded, the incrementals through a receiver that loses packets (its
test hook) and gets them back from the retransmission server, and a range older than
the server's window makes the book load a fresh snapshot, and so does a gateway
restarted under a new session name, whether it sent the end of its session or was
killed. Each book converges on the book a fresh TCP subscriber gets. A book whose
receiver does not follow sessions says when its session ended."""

import asyncio
import re
from collections.abc import Callable

import pytest

from ringex_client import (
    ALL_INSTRUMENTS,
    Accepted,
    AsyncClient,
    BookEvent,
    Client,
    FeedKind,
    Message,
    Resync,
    ResyncCause,
)
from ringex_client.aio_multicast_local_book import IDLE_TIMEOUT_S, AsyncMulticastLocalBook
from ringex_client.aio_multicast_receiver import AsyncMulticastReceiver
from ringex_client.multicast_book_sync import MulticastEndedError
from ringex_client.multicast_local_book import MulticastLocalBook
from ringex_client.multicast_receiver import MulticastReceiver, ReceiverOptions
from tests.session_tools import expect
from tests.system_processes import PASSWORD, Gateway, wait_engine_up
from tests.test_local_book import while_polling
from tests.test_market_data import (  # noqa: F401 (exchange: a fixture)
    client,
    exchange,
    login,
    snapshot_of,
    trade_randomly,
)
from tests.test_multicast import Multicast, a_burst, lossy, multicast  # noqa: F401 (a fixture)

pytestmark = pytest.mark.timeout(180)

# A bid on instrument 2 (tick 5, lot 10, reference price 25,000).
BETA_BID = 24_900


def traders(m: Multicast) -> list[Client]:
    return [login(m.gateway, "alice"), login(m.gateway, "bob")]


def assert_converged(book: MulticastLocalBook, m: Multicast) -> None:
    """The book reaches a fresh TCP subscriber's L3 snapshot and equals it."""
    l3, fresh = snapshot_of(m.gateway, FeedKind.L3)
    book.wait_until(lambda: book.synced() and book.feed_seq() >= l3.feed_seq, timeout=30)
    assert book.feed_seq() == l3.feed_seq
    assert book.orders() == fresh.orders()
    assert book.checksum(FeedKind.L3) == l3.checksum


def test_a_book_from_a_lossy_multicast_feed_converges_without_a_tcp_feed(
    multicast: Callable[..., Multicast],  # noqa: F811
) -> None:
    m = multicast(multicast_mtu_bytes=400)
    alice, bob = traders(m)
    trade_randomly([alice, bob], 150, seed=31)  # a book to load before the receiver joins
    over_tcp: list[Message] = []
    with (
        m.receiver(start_seq=None, drop=lossy(31)) as rx,
        client(m.gateway, "viewer") as viewer,
    ):
        viewer.on_message = over_tcp.append
        with MulticastLocalBook(viewer, rx, 1) as book:
            book.wait_synced(timeout=30)
            book.poll(0.5)  # what the snapshot's subscription sent before it ended
            over_tcp.clear()
            while_polling(book, lambda: trade_randomly([alice, bob], 300, seed=32))
            assert_converged(book, m)
            assert not [x for x in over_tcp if isinstance(x, BookEvent)]
            assert book.resyncs == 0
        assert rx.dropped_by_hook > 0
        assert rx.requests > 0
    for c in (alice, bob):
        c.close()


def test_a_range_the_receiver_lost_is_recovered_by_a_snapshot(
    multicast: Callable[..., Multicast],  # noqa: F811
) -> None:
    # The server keeps 50 messages; a burst of 40 lost packets of up to 400 bytes holds
    # far more than that.
    m = multicast(multicast_mtu_bytes=400, multicast_window_messages=50)
    alice, bob = traders(m)
    resyncs: list[Resync] = []
    with (
        m.receiver(start_seq=None, drop=a_burst(5, 40)) as rx,
        client(m.gateway, "viewer") as viewer,
        MulticastLocalBook(viewer, rx, 1, on_resync=resyncs.append) as book,
    ):
        book.wait_synced(timeout=30)
        while_polling(book, lambda: trade_randomly([alice, bob], 400, seed=33))
        assert_converged(book, m)
        assert rx.sequencer.stats().lost > 0
        assert [(r.cause, r.by_snapshot) for r in resyncs] == [(ResyncCause.GAP, True)]
    for c in (alice, bob):
        c.close()


def test_the_asyncio_book_keeps_every_instrument_from_multicast(
    multicast: Callable[..., Multicast],  # noqa: F811
) -> None:
    m = multicast(multicast_mtu_bytes=400)
    alice, bob = traders(m)
    trade_randomly([alice, bob], 100, seed=34)
    bid = alice.buy(2, 30, BETA_BID)
    expect(alice, Accepted, timeout=10, client_order_id=bid)

    async def scenario() -> None:
        viewer = AsyncClient("127.0.0.1", m.gateway.port, "viewer", PASSWORD, reconnect=False)
        await viewer.connect()
        options = ReceiverOptions(drop=lossy(34))
        async with (
            AsyncMulticastReceiver(m.group, m.port, m.retransmit, options) as rx,
            AsyncMulticastLocalBook(viewer, rx, ALL_INSTRUMENTS) as book,
        ):
            await book.wait_until(lambda: book.instruments() == [1, 2] and book.synced())
            best = book.best_bid(2)
            assert best is not None
            assert (best.price, best.qty) == (BETA_BID, 30)
            await asyncio.to_thread(trade_randomly, [alice, bob], 200, 35)
            l3, fresh = await asyncio.to_thread(snapshot_of, m.gateway, FeedKind.L3)
            await book.wait_until(lambda: book.feed_seq(1) >= l3.feed_seq, timeout=30)
            assert book.orders(1) == fresh.orders()
            assert book.checksum(FeedKind.L3, 1) == l3.checksum
            assert book.resyncs == 0
        await viewer.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))
    for c in (alice, bob):
        c.close()


def stopped(g: Gateway, how: str) -> None:
    """Stops ``g`` with SIGTERM (it sends the end of its session) or SIGKILL."""
    assert g.proc is not None
    if how == "kill":
        g.proc.kill()
        g.proc.wait(10)
    else:
        g.stop()


def started_as(g: Gateway, session: str) -> None:
    """Starts ``g`` again, publishing under ``session``."""
    named = f'multicast_session = "{session}"'
    g.config.write_text(re.sub(r'multicast_session = "[^"]*"', named, g.config.read_text()))
    g.start()
    wait_engine_up(g)


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_a_book_follows_a_restarted_gateway_into_its_new_session(
    multicast: Callable[..., Multicast],  # noqa: F811
    how: str,
) -> None:
    m = multicast(multicast_mtu_bytes=400, multicast_session="RUN1")
    alice, bob = traders(m)
    trade_randomly([alice, bob], 100, seed=36)
    resyncs: list[Resync] = []
    options = ReceiverOptions(follow_sessions=True, session_timeout_s=1.0)
    viewer = Client("127.0.0.1", m.gateway.port, "viewer", PASSWORD)
    with (
        MulticastReceiver(m.group, m.port, m.retransmit, options) as rx,
        viewer,
        MulticastLocalBook(viewer, rx, 1, on_resync=resyncs.append) as book,
    ):
        book.wait_synced(timeout=30)
        book.wait_until(lambda: rx.sequencer.session == b"RUN1      ")  # its heartbeats
        alice.close()
        bob.close()
        stopped(m.gateway, how)
        started_as(m.gateway, "RUN2")
        alice, bob = traders(m)
        while_polling(book, lambda: trade_randomly([alice, bob], 200, seed=37))
        assert_converged(book, m)
        assert rx.sequencer.session == b"RUN2      "
        assert [r.by_snapshot for r in resyncs] == [True]
    for c in (alice, bob):
        c.close()


def test_the_asyncio_book_waits_out_a_silent_gateway_and_follows_its_new_session(
    multicast: Callable[..., Multicast],  # noqa: F811
) -> None:
    m = multicast(multicast_mtu_bytes=400, multicast_session="RUN1")
    alice, bob = traders(m)
    trade_randomly([alice, bob], 100, seed=38)
    for c in (alice, bob):
        c.close()

    async def scenario() -> None:
        viewer = AsyncClient("127.0.0.1", m.gateway.port, "viewer", PASSWORD)
        await viewer.connect()
        options = ReceiverOptions(follow_sessions=True, session_timeout_s=1.0)
        async with (
            AsyncMulticastReceiver(m.group, m.port, m.retransmit, options) as rx,
            AsyncMulticastLocalBook(viewer, rx, 1) as book,
        ):
            await book.wait_synced()
            while rx.sequencer.session is None:  # its first heartbeat, which changes no book
                await asyncio.sleep(0.05)
            await asyncio.to_thread(stopped, m.gateway, "stop")
            await asyncio.sleep(IDLE_TIMEOUT_S + 1)  # silent past the reader's idle timeout
            await asyncio.to_thread(started_as, m.gateway, "RUN2")
            traded = await asyncio.to_thread(traders, m)
            await asyncio.to_thread(trade_randomly, traded, 100, 39)
            l3, fresh = await asyncio.to_thread(snapshot_of, m.gateway, FeedKind.L3)
            await book.wait_until(lambda: book.synced() and book.feed_seq() >= l3.feed_seq, 30)
            assert book.orders() == fresh.orders()
            assert rx.sequencer.session == b"RUN2      "
            assert book.feed_error is None
            assert book.resyncs == 1
            for c in traded:
                c.close()
        await viewer.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))


def test_books_on_receivers_that_do_not_follow_say_when_the_session_ended(
    multicast: Callable[..., Multicast],  # noqa: F811
) -> None:
    m = multicast()

    async def asyncio_book_ended(synced: asyncio.Event) -> None:
        viewer = AsyncClient("127.0.0.1", m.gateway.port, "viewer", PASSWORD)
        await viewer.connect()
        async with (
            AsyncMulticastReceiver(m.group, m.port, m.retransmit) as rx,
            AsyncMulticastLocalBook(viewer, rx, 1) as book,
        ):
            await book.wait_synced()
            synced.set()
            with pytest.raises(MulticastEndedError):
                await book.wait_until(lambda: False, timeout=20)
        await viewer.close()

    def blocking_book_ended() -> None:
        viewer = Client("127.0.0.1", m.gateway.port, "viewer", PASSWORD)
        with m.receiver(start_seq=None) as rx, viewer, MulticastLocalBook(viewer, rx, 1) as book:
            book.wait_synced(timeout=30)
            m.gateway.stop()  # it sends the end of its session
            with pytest.raises(MulticastEndedError):
                book.wait_until(lambda: False, timeout=20)

    async def scenario() -> None:
        synced = asyncio.Event()
        ended = asyncio.create_task(asyncio_book_ended(synced))
        await asyncio.wait_for(synced.wait(), 30)
        await asyncio.to_thread(blocking_book_ended)
        await ended

    asyncio.run(asyncio.wait_for(scenario(), 90))
