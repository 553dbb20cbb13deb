"""The local book's state machine on hand-made feed messages: how each way of falling
out of step is noticed, what is asked for, and what is reported; and random messages
(any type, any sequence numbers, any fields) never make it raise."""

import random

import pytest
from feed_messages import add, random_message, snapshot

from ringex_client import (
    BookSync,
    FeedKind,
    FeedRejected,
    FeedRejectReason,
    FeedSubscribe,
    LoginAccepted,
    Message,
    OrderRemoved,
    OrderReplaced,
    RejectedFeed,
    RemoveReason,
    ResendRequest,
    Resync,
    ResyncCause,
    Role,
    Side,
)

pytestmark = pytest.mark.timeout(60)

SUBSCRIBE = FeedSubscribe(1, FeedKind.L3)


def loaded(**options: int | float) -> tuple[BookSync, list[Resync]]:
    """A book of instrument 1's L3 feed, loaded from a snapshot at seq 10."""
    resyncs: list[Resync] = []
    book = BookSync(1, on_resync=resyncs.append, **options)  # type: ignore[arg-type]
    book.start(0.0)
    assert book.take_requests() == [SUBSCRIBE]
    feed(book, snapshot(10, [(100, 1, 5)]))
    assert book.synced()
    return book, resyncs


def feed(book: BookSync, messages: list[Message], now: float = 0.0) -> None:
    for m in messages:
        book.receive(m, now)


def test_a_short_gap_is_asked_for_as_a_resend_and_filled() -> None:
    book, resyncs = loaded()
    feed(book, [add(11, 2), add(14, 5), add(13, 4), add(13, 4)])
    assert book.take_requests() == [ResendRequest(1, FeedKind.L3, 0, 12, 13)]
    assert not book.synced()
    assert book.feed_seq() == 11
    feed(book, [add(12, 3)])
    assert book.synced()
    assert [o.order_id for o in book.queue(Side.BUY, 100)] == [1, 2, 3, 4, 5]
    assert resyncs == [Resync(1, FeedKind.L3, 0, ResyncCause.GAP, False, 14)]
    assert (book.gaps, book.duplicates) == (1, 1)


def test_a_long_gap_a_full_buffer_and_an_unknown_order_each_take_a_fresh_snapshot() -> None:
    book, resyncs = loaded(resend_limit=5, buffer_limit=3)
    feed(book, [add(30, 2)])  # 19 missing: longer than a resend may be
    assert book.take_requests() == [SUBSCRIBE]
    feed(book, snapshot(30, [(100, 1, 5), (100, 2, 5)]))
    feed(book, [add(32, 3), add(33, 4), add(34, 5), add(35, 6)])  # the 4th overflows
    assert book.take_requests() == [ResendRequest(1, FeedKind.L3, 0, 31, 31), SUBSCRIBE]
    feed(book, snapshot(35, [(100, 1, 5)]))
    feed(book, [OrderRemoved(1, 36, 0, 99, Side.BUY, 100, 5, RemoveReason.CANCELLED)])
    assert book.take_requests() == [SUBSCRIBE]
    feed(book, snapshot(36, []))
    assert book.synced()
    assert [(r.cause, r.by_snapshot) for r in resyncs] == [
        (ResyncCause.GAP, True),
        (ResyncCause.GAP, True),
        (ResyncCause.INCONSISTENT, True),
    ]


def test_an_update_that_leaves_the_book_half_changed_takes_a_fresh_snapshot() -> None:
    # Order 1 moves from 100 to 101, where (wrongly) it rests already: the book lets go
    # of it at 100 before it finds it at 101, and may not be trusted after that.
    book, resyncs = loaded()
    feed(book, [add(11, 1, price=101)])  # the same id at another price: taken as sent
    moved = OrderReplaced(1, 12, 0, 1, Side.BUY, 100, 5, 101, 5, False)
    feed(book, [moved, add(13, 7)])
    assert book.take_requests() == [SUBSCRIBE]
    assert not book.synced()
    feed(book, snapshot(13, [(100, 1, 5), (100, 7, 5)]))
    assert book.synced()
    assert book.orders() == [(Side.BUY, 100, 1, 5), (Side.BUY, 100, 7, 5)]
    assert resyncs == [Resync(1, FeedKind.L3, 0, ResyncCause.INCONSISTENT, True, 13)]


def test_a_snapshot_that_fails_its_checksum_or_count_is_asked_for_again() -> None:
    book, resyncs = loaded()
    feed(book, snapshot(12, [(100, 1, 5), (100, 2, 5)], checksum=1234))
    assert book.take_requests() == [SUBSCRIBE]
    assert not book.synced()
    damaged = snapshot(12, [(100, 1, 5), (100, 2, 5)])
    feed(book, damaged[:2] + damaged[3:])  # an entry lost
    assert book.take_requests() == [SUBSCRIBE]
    feed(book, snapshot(12, [(100, 1, 5), (100, 2, 5)]))
    assert book.synced()
    assert book.orders() == [(Side.BUY, 100, 1, 5), (Side.BUY, 100, 2, 5)]
    assert resyncs == [Resync(1, FeedKind.L3, 0, ResyncCause.CHECKSUM, True, 12)]


def test_what_does_not_come_in_time_is_asked_for_again_as_a_snapshot() -> None:
    book, resyncs = loaded(resync_timeout_s=1.0)
    feed(book, [add(13, 2)], now=5.0)
    assert book.take_requests() == [ResendRequest(1, FeedKind.L3, 0, 11, 12)]
    book.tick(5.5)
    assert book.take_requests() == []
    book.tick(6.5)
    assert book.take_requests() == [SUBSCRIBE]
    book.tick(8.0)  # the snapshot is late too
    assert book.take_requests() == [SUBSCRIBE]
    feed(book, snapshot(13, [(100, 1, 5), (100, 2, 5)]), now=8.1)
    assert resyncs == [Resync(1, FeedKind.L3, 0, ResyncCause.GAP, True, 13)]


def test_a_conflated_snapshot_a_refused_resend_and_a_new_session() -> None:
    book, resyncs = loaded()
    feed(book, snapshot(20, [(101, 7, 1)]))  # the gateway cut the feed to a snapshot
    assert book.best_bid() == (101, 1, 1)
    feed(book, [add(22, 8)])
    assert book.take_requests() == [ResendRequest(1, FeedKind.L3, 0, 21, 21)]
    feed(book, [FeedRejected(1, RejectedFeed.L3, 0, FeedRejectReason.BAD_RANGE)])
    assert book.take_requests() == [SUBSCRIBE]
    feed(book, snapshot(22, [(101, 7, 1), (100, 8, 5)]))
    feed(book, [LoginAccepted(1, Role.READ_ONLY, 1, 1, 1)])
    assert book.take_requests() == [SUBSCRIBE]
    feed(book, snapshot(22, [(101, 7, 1), (100, 8, 5)]))
    assert [r.cause for r in resyncs] == [
        ResyncCause.CONFLATED,
        ResyncCause.GAP,
        ResyncCause.RECONNECT,
    ]
    assert book.synced()
    book.stop()
    assert book.take_requests() == [FeedSubscribe(1, FeedKind.L3, 0, False)]


def test_a_refused_subscription_is_kept_for_the_user() -> None:
    book = BookSync(9, l3=False, l2_depth=7)
    book.start(0.0)
    assert book.take_requests() == [FeedSubscribe(9, FeedKind.L2, 7)]
    feed(book, [FeedRejected(9, RejectedFeed.L2, 7, FeedRejectReason.BAD_DEPTH)])
    assert book.refused is not None
    assert book.refused.reason == FeedRejectReason.BAD_DEPTH
    with pytest.raises(ValueError, match="L3"):
        book.queue(Side.BUY, 100)
    with pytest.raises(ValueError, match="L3 feed, an L2 depth"):
        BookSync(1, l3=False)


@pytest.mark.parametrize("seed", range(5))
def test_random_feed_messages_never_make_it_raise(seed: int) -> None:
    rng = random.Random(seed)
    book = BookSync(1, l2_depth=3, buffer_limit=8, resend_limit=4, resync_timeout_s=1.0)
    book.start(0.0)
    for step in range(5000):
        book.receive(random_message(rng), step * 0.01)
        if step % 50 == 0:
            book.tick(step * 0.01)
        assert len(book.take_requests()) <= 3
    assert book.levels(Side.BUY) is not None
