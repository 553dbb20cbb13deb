"""The local book's state machine (no I/O) against the engine's own feed, in-process.

Random command streams (the seeded workload of ``ringex_engine``: limit, market, IOC,
FOK and post-only orders, cancels, replaces, mass cancels, a halt, an end of day) drive
the real core; its BookFeed's output, as wire messages, drives a BookSync. After every
command the L3 book equals the engine's book (prices, queue order, open quantities) and
both checksums equal those of the feed's own snapshots. Then the same through a lossy
channel of the test's own that drops, repeats and reorders messages, snapshot entries
included, with a gateway of the test's own answering resends from a window and
subscriptions with snapshots: the book always converges and says it resynced.
"""

import random

import pytest

from ringex_client import (
    ALL_INSTRUMENTS,
    BookEvent,
    BookSync,
    FeedKind,
    FeedRejected,
    FeedRejectReason,
    FeedSubscribe,
    LevelUpdate,
    Message,
    RejectedFeed,
    ResendRequest,
    Resync,
    ResyncCause,
    Side,
)
from ringex_client.book_checksum import l2_checksum
from ringex_engine import NewOrder, TimeInForce
from ringex_engine import Side as CoreSide
from ringex_engine.workload import Listing, random_orders, setup_commands
from tests.engine_feed import EngineFeed

pytestmark = pytest.mark.timeout(120)

DEPTH = 3
LISTINGS = [Listing(1, "ONE", 10_000), Listing(2, "TWO", 500)]
ACCOUNTS = [11, 12, 13]
CAPACITIES = {"max_orders": 8192, "max_instruments": 8, "levels_per_side": 512}


def exchange() -> EngineFeed:
    f = EngineFeed(DEPTH, **CAPACITIES)
    for command in setup_commands(LISTINGS, ACCOUNTS):
        f.submit(command)
    return f


def snapshots(f: EngineFeed, instrument: int) -> list[Message]:
    return f.l3_snapshot(instrument) + f.l2_snapshot(instrument)


def assert_same_book(book: BookSync, f: EngineFeed) -> None:
    for listing in LISTINGS:
        i = listing.instrument
        assert book.orders(i) == f.orders(i)
        assert book.feed_seq(i) == f.feed.feed_seq(i)
        assert book.checksum(FeedKind.L3, i) == f.feed.snapshot(i).checksum
        top = f.feed.levels(i)
        assert book.checksum(FeedKind.L2, i) == top.checksum
        assert book.level_seq(i) == top.level_seq
        ours = [
            (s, lv.price, lv.qty, lv.order_count) for s in Side for lv in book.levels(s, DEPTH, i)
        ]
        assert l2_checksum(ours) == top.checksum


@pytest.mark.parametrize("seed", range(4))
def test_a_local_book_fed_by_the_feed_equals_the_engines_book_after_every_command(
    seed: int,
) -> None:
    f = exchange()
    resyncs: list[Resync] = []
    book = BookSync(ALL_INSTRUMENTS, l2_depth=DEPTH, on_resync=resyncs.append)
    book.start(0.0)
    assert book.take_requests() == [
        FeedSubscribe(ALL_INSTRUMENTS, FeedKind.L3),
        FeedSubscribe(ALL_INSTRUMENTS, FeedKind.L2, DEPTH),
    ]
    for listing in LISTINGS:
        for m in snapshots(f, listing.instrument):
            book.receive(m, 0.0)
    assert book.synced()
    assert book.instruments() == [1, 2]
    for command in random_orders(seed, 400, LISTINGS, ACCOUNTS):
        for m in f.submit(command):
            book.receive(m, 0.0)
        assert_same_book(book, f)
    assert book.synced()
    assert (book.take_requests(), resyncs, book.gaps, book.duplicates) == ([], [], 0, 0)


def test_a_book_joining_mid_stream_takes_the_snapshot_then_only_later_incrementals() -> None:
    f = exchange()
    commands = random_orders(7, 600, LISTINGS, ACCOUNTS)
    for _, command in zip(range(300), commands, strict=False):
        f.submit(command)
    book = BookSync(1, l2_depth=DEPTH)
    book.start(0.0)
    early = [m for _ in range(5) for m in f.submit(next(commands))]
    # Incrementals before the snapshot arrive first (as they may on a resubscription).
    for m in early + snapshots(f, 1) + early:
        book.receive(m, 0.0)
    for command in commands:
        for m in f.submit(command):
            book.receive(m, 0.0)
    assert book.synced()
    assert book.orders() == f.orders(1)
    bids = book.levels(Side.BUY)
    assert book.best_bid() == (bids[0] if bids else None)
    best = book.best_ask()
    if best is not None:
        assert sum(o.qty for o in book.queue(Side.SELL, best.price)) == best.qty


class WindowGateway:
    """A gateway of the test's own: resends from a window of the last ``window``
    incrementals per feed, else FeedRejected and a snapshot; snapshots on subscribe."""

    def __init__(self, f: EngineFeed, window: int) -> None:
        self.f, self.window = f, window
        self.sent: dict[tuple[int, FeedKind], dict[int, Message]] = {}

    def publish(self, messages: list[Message]) -> list[Message]:
        for m in messages:
            if isinstance(m, LevelUpdate):
                self.sent.setdefault((m.instrument, FeedKind.L2), {})[m.level_seq] = m
            elif isinstance(m, BookEvent):
                self.sent.setdefault((m.instrument, FeedKind.L3), {})[m.feed_seq] = m
        return messages

    def answer(self, request: FeedSubscribe | ResendRequest) -> list[Message]:
        if isinstance(request, FeedSubscribe):
            instruments = [lst.instrument for lst in LISTINGS]
            if request.instrument != ALL_INSTRUMENTS:
                instruments = [request.instrument]
            take = self.f.l3_snapshot if request.feed == FeedKind.L3 else self.f.l2_snapshot
            return [m for i in instruments for m in take(i)] if request.subscribe else []
        held = self.sent.get((request.instrument, request.feed), {})
        newest = max(held, default=0)
        if request.from_seq > newest - self.window:
            return [held[s] for s in range(request.from_seq, request.to_seq + 1)]
        feed = RejectedFeed(int(request.feed))
        reject = FeedRejected(
            request.instrument, feed, request.depth, FeedRejectReason.RESEND_OUT_OF_WINDOW
        )
        sub = FeedSubscribe(request.instrument, request.feed, request.depth)
        return [reject, *self.answer(sub)]


class LossyChannel:
    """Drops, repeats and holds back (so reorders) messages, at random, until healed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.held: list[Message] = []
        self.lossy = True

    def carry(self, messages: list[Message]) -> list[Message]:
        out: list[Message] = []
        for m in messages:
            roll = self.rng.random() if self.lossy else 1.0
            if roll < 0.03:
                continue
            if roll < 0.06:
                out += [m, m]
            elif roll < 0.09:
                self.held.append(m)
            else:
                out.append(m)
            if self.held and self.rng.random() < 0.3:
                out.append(self.held.pop(0))
        if not self.lossy:
            out += self.held
            self.held = []
        return out


@pytest.mark.parametrize("seed", range(3))
def test_through_a_lossy_channel_the_book_converges_and_says_it_resynced(seed: int) -> None:
    f = exchange()
    gateway = WindowGateway(f, window=64)
    channel = LossyChannel(seed)
    resyncs: list[Resync] = []
    book = BookSync(
        ALL_INSTRUMENTS, l2_depth=DEPTH, buffer_limit=200, resend_limit=100,
        resync_timeout_s=1.0, on_resync=resyncs.append,
    )  # fmt: skip
    now = 0.0

    def deliver(messages: list[Message]) -> None:
        pending = channel.carry(messages)
        for _ in range(100):  # bounded: each round answers the last round's requests
            for m in pending:
                book.receive(m, now)
            requests = book.take_requests()
            if not requests:
                return
            pending = channel.carry([m for r in requests for m in gateway.answer(r)])

    book.start(now)
    deliver([m for r in book.take_requests() for m in gateway.answer(r)])
    for command in random_orders(100 + seed, 3000, LISTINGS, ACCOUNTS):
        now += 0.001
        deliver(gateway.publish(f.submit(command)))
        book.tick(now)
        deliver([])
    channel.lossy = False
    deliver([])
    for _ in range(20):  # a few more commands and ticks show the last gaps, then heal
        now += 1.5
        for listing in LISTINGS:
            deliver(gateway.publish(f.submit(_quiet_order(listing, now))))
        book.tick(now)
        deliver([])
        if book.synced():
            break
    assert book.synced()
    assert_same_book(book, f)
    assert book.resyncs == len(resyncs) > 0
    assert ResyncCause.GAP in {r.cause for r in resyncs}
    assert any(not r.by_snapshot for r in resyncs), "some gaps are filled by a resend"
    assert book.duplicates > 0
    assert book.gaps > 0


def _quiet_order(listing: Listing, now: float) -> NewOrder:
    """A small order far from the market that rests (a fresh client order id each)."""
    return NewOrder(
        account=ACCOUNTS[0], instrument=listing.instrument, client_order_id=10**9 + int(now),
        side=CoreSide.BUY, price=listing.reference_price // 2 + 1, qty=1,
        time_in_force=TimeInForce.GTC,
    )  # fmt: skip
