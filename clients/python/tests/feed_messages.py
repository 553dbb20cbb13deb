"""Hand-made feed messages of instrument 1 for the local books' state machines."""

import random

from ringex_client import (
    FeedKind,
    FeedRejected,
    FeedRejectReason,
    LevelAction,
    LevelUpdate,
    LoginAccepted,
    Message,
    OrderAdded,
    OrderRemoved,
    RejectedFeed,
    RemoveReason,
    Role,
    Side,
    SnapshotBegin,
    SnapshotEnd,
    SnapshotOrder,
    Trade,
)
from ringex_client.book_checksum import l3_checksum


def snapshot(
    seq: int, orders: list[tuple[int, int, int]], checksum: int | None = None
) -> list[Message]:
    """An L3 snapshot of bids ``(price, order_id, qty)`` in queue order."""
    entries: list[Message] = [SnapshotOrder(1, Side.BUY, p, o, q) for p, o, q in orders]
    rows = [(Side.BUY, p, o, q) for p, o, q in orders]
    crc = l3_checksum(rows) if checksum is None else checksum
    begin = SnapshotBegin(1, FeedKind.L3, 0, seq, 0, False, len(entries), crc)
    return [begin, *entries, SnapshotEnd(1, FeedKind.L3, 0, seq, 0)]


def add(seq: int, order_id: int, price: int = 100, qty: int = 5) -> OrderAdded:
    return OrderAdded(1, seq, 0, order_id, Side.BUY, price, qty)


def random_message(rng: random.Random) -> Message:
    seq, oid, price = rng.randint(0, 30), rng.randint(1, 6), rng.randint(98, 102)
    side, qty = rng.choice(list(Side)), rng.randint(0, 9)
    return rng.choice(
        [
            add(seq, oid, price, qty),
            OrderRemoved(1, seq, 0, oid, side, price, qty, RemoveReason.FILLED),
            Trade(1, seq, 0, seq, price, qty, side, oid),
            LevelUpdate(1, 3, seq, seq, 0, side, rng.choice(list(LevelAction)), price, qty, 1),
            *snapshot(seq, [(price, oid, qty)] * rng.randint(0, 2), rng.choice([None, 0])),
            SnapshotOrder(rng.randint(1, 2), side, price, oid, qty),
            FeedRejected(1, rng.choice(list(RejectedFeed)), 0, rng.choice(list(FeedRejectReason))),
            LoginAccepted(1, Role.READ_ONLY, 1, 1, 1),
        ]
    )
