"""The multicast local book's state machine on hand-made messages: incrementals from the
multicast receiver, snapshots from the TCP session, the snapshot subscription ended
once loaded, gaps and lost ranges recovered by snapshots, snapshots asked for a few
instruments at a time, and random input never making it raise."""

import random

import pytest
from feed_messages import add, random_message, snapshot

from ringex_client import (
    ALL_INSTRUMENTS,
    BookEvent,
    DefinitionUpdate,
    FeedKind,
    FeedSubscribe,
    InstrumentDefinition,
    InstrumentState,
    LoginAccepted,
    Message,
    Resync,
    ResyncCause,
    Role,
    Side,
    SnapshotBegin,
    SnapshotEnd,
)
from ringex_client.mold_sequencer import MulticastLost
from ringex_client.multicast_book_sync import SNAPSHOTS_AT_ONCE, MulticastBookSync
from ringex_client.multicast_receiver import FeedItem

pytestmark = pytest.mark.timeout(60)


def sub(instrument: int, on: bool = True) -> FeedSubscribe:
    return FeedSubscribe(instrument, FeedKind.L3, 0, on)


def tcp(book: MulticastBookSync, messages: list[Message], now: float = 0.0) -> None:
    for m in messages:
        book.receive(m, now)


def multicast(book: MulticastBookSync, items: list[FeedItem], now: float = 0.0) -> None:
    for item in items:
        book.receive_multicast(item, now)


def loaded() -> tuple[MulticastBookSync, list[Resync]]:
    """Instrument 1's book, loaded from a snapshot at seq 10 and unsubscribed."""
    resyncs: list[Resync] = []
    book = MulticastBookSync(1, on_resync=resyncs.append)
    book.start(0.0)
    assert book.take_requests() == [sub(1)]
    tcp(book, snapshot(10, [(100, 1, 5)]))
    assert book.take_requests() == [sub(1, False)]
    assert book.synced()
    return book, resyncs


def empty_snapshot(instrument: int, seq: int) -> list[Message]:
    return [
        SnapshotBegin(instrument, FeedKind.L3, 0, seq, 0, False, 0, 0),
        SnapshotEnd(instrument, FeedKind.L3, 0, seq, 0),
    ]


def listed(instrument: int) -> InstrumentDefinition:
    return InstrumentDefinition(
        0, 0, instrument, "X", 1, 1, 1, 100, 100, 0, InstrumentState.TRADING,
        DefinitionUpdate.CURRENT,
    )  # fmt: skip


def test_the_snapshot_comes_over_tcp_and_the_incrementals_over_multicast() -> None:
    book = MulticastBookSync(1)
    book.start(0.0)
    assert book.take_requests() == [sub(1)]
    # Multicast runs ahead of the snapshot: its incrementals wait for it.
    multicast(book, [add(seq, seq) for seq in range(9, 13)])
    tcp(book, snapshot(10, [(100, 1, 5)]))
    assert book.take_requests() == [sub(1, False)]
    assert book.synced()
    assert book.feed_seq() == 12
    # What the subscription sent before it ended is the multicast feed's again.
    tcp(book, [add(13, 13)])
    assert book.feed_seq() == 12
    multicast(book, [add(12, 12), add(13, 13)])
    assert book.feed_seq() == 13
    assert book.duplicates == 1
    assert [o.order_id for o in book.queue(Side.BUY, 100)] == [1, 11, 12, 13]
    assert book.take_requests() == []


def test_a_gap_is_recovered_by_a_snapshot_not_a_resend() -> None:
    book, resyncs = loaded()
    multicast(book, [add(11, 2), add(13, 4)])
    assert book.take_requests() == [sub(1)]
    assert not book.synced()
    tcp(book, snapshot(13, [(100, 1, 5), (100, 2, 5), (100, 3, 5), (100, 4, 5)]))
    assert book.take_requests() == [sub(1, False)]
    assert book.synced()
    assert book.feed_seq() == 13
    assert resyncs == [Resync(1, FeedKind.L3, 0, ResyncCause.GAP, True, 13)]


def test_a_range_lost_to_the_receiver_reloads_every_book() -> None:
    book = MulticastBookSync(ALL_INSTRUMENTS)
    book.start(0.0)
    tcp(book, [listed(1), listed(2)])
    assert book.take_requests() == [sub(1), sub(2)]
    tcp(book, empty_snapshot(1, 5) + empty_snapshot(2, 7))
    assert book.take_requests() == [sub(1, False), sub(2, False)]
    assert book.synced()
    multicast(book, [MulticastLost(40, 3)])
    assert book.take_requests() == [sub(1), sub(2)]
    assert not book.synced(1)
    assert not book.synced(2)


def test_snapshots_are_asked_for_a_few_instruments_at_a_time() -> None:
    count = SNAPSHOTS_AT_ONCE + 3
    book = MulticastBookSync(ALL_INSTRUMENTS)
    book.know(range(1, count + 1), 0.0)
    book.start(0.0)
    assert book.take_requests() == [sub(i) for i in range(1, SNAPSHOTS_AT_ONCE + 1)]
    tcp(book, empty_snapshot(2, 1))
    assert book.take_requests() == [sub(2, False), sub(SNAPSHOTS_AT_ONCE + 1)]
    requests = []
    for i in [1, *range(3, count + 1)]:
        tcp(book, empty_snapshot(i, 1))
        requests += book.take_requests()
    assert book.synced()
    assert book.instruments() == list(range(1, count + 1))
    ended = [sub(i, False) for i in [1, *range(3, count + 1)]]
    subscriptions = [r for r in requests if isinstance(r, FeedSubscribe)]
    assert len(subscriptions) == len(requests)
    assert [r for r in subscriptions if not r.subscribe] == ended
    assert [r for r in subscriptions if r.subscribe] == [sub(SNAPSHOTS_AT_ONCE + 2), sub(count)]


def test_a_new_session_asks_again_only_for_the_snapshots_still_wanted() -> None:
    book = MulticastBookSync(ALL_INSTRUMENTS)
    book.know([1, 2], 0.0)
    book.start(0.0)
    assert book.take_requests() == [sub(1), sub(2)]
    tcp(book, empty_snapshot(1, 3))
    book.take_requests()
    tcp(book, [LoginAccepted(1, Role.READ_ONLY, 1, 1, 1)])
    assert book.take_requests() == [sub(2)]
    assert book.synced(1)  # the multicast feed kept it in step
    multicast(book, [add(4, 9)])
    assert book.feed_seq(1) == 4


def test_a_snapshot_that_does_not_come_is_asked_for_again() -> None:
    book = MulticastBookSync(1, resync_timeout_s=1.0)
    book.start(0.0)
    assert book.take_requests() == [sub(1)]
    book.tick(2.0)
    assert book.take_requests() == [sub(1)]
    # Both subscriptions' snapshots come: the first loads and ends it, the second is
    # older than nothing and is let be.
    tcp(book, snapshot(10, [(100, 1, 5)]) + snapshot(10, [(100, 1, 5)]))
    assert book.take_requests() == [sub(1, False)]
    assert book.synced()


def test_stop_ends_the_snapshot_subscriptions_still_on() -> None:
    book = MulticastBookSync(ALL_INSTRUMENTS)
    book.know([1, 2], 0.0)
    book.start(0.0)
    tcp(book, empty_snapshot(1, 3))
    book.take_requests()
    book.stop()
    assert book.take_requests() == [sub(2, False)]


def test_only_the_l3_feed_is_on_multicast() -> None:
    with pytest.raises(ValueError, match="L3"):
        MulticastBookSync(1, l2_depth=10)
    with pytest.raises(ValueError, match="L3"):
        MulticastBookSync(1, l3=False, l2_depth=1)


@pytest.mark.parametrize("seed", range(5))
def test_random_input_from_both_sides_never_makes_it_raise(seed: int) -> None:
    rng = random.Random(seed)
    book = MulticastBookSync(ALL_INSTRUMENTS, buffer_limit=8, resync_timeout_s=1.0)
    book.start(0.0)
    for step in range(5000):
        now = step * 0.01
        roll = rng.random()
        m = random_message(rng)
        if roll < 0.05:
            book.receive_multicast(MulticastLost(rng.randint(1, 99), rng.randint(1, 9)), now)
        elif roll < 0.1:
            book.receive(listed(rng.randint(1, 3)), now)
        elif roll < 0.6 and isinstance(m, BookEvent):
            book.receive_multicast(m, now)
        else:
            book.receive(m, now)
        if step % 50 == 0:
            book.tick(now)
        assert len(book.take_requests()) <= 2 * SNAPSHOTS_AT_ONCE
    assert book.levels(Side.BUY, instrument=1) is not None
