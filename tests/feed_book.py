"""Books a test rebuilds from a gateway's feed messages, as a subscriber would: an L3
book (every order in queue order) from a snapshot and the incrementals after it, and an
L2 book (the best levels) from level snapshots and updates. Gaps and resends are
tracked, not applied: a gap leaves the book stale until the next snapshot."""

from ringex_client import (
    BookEvent,
    LevelAction,
    LevelUpdate,
    Message,
    OrderAdded,
    OrderReduced,
    OrderRemoved,
    OrderReplaced,
    Side,
    SnapshotBegin,
    SnapshotLevel,
    SnapshotOrder,
)
from ringex_client.book_checksum import l2_checksum, l3_checksum
from ringex_client.enums import FeedKind

Queue = list[tuple[int, int]]


class L3Book:
    """One instrument's order book kept from the L3 feed."""

    def __init__(self, instrument: int) -> None:
        self.instrument = instrument
        self.feed_seq = 0
        self.synced = False
        self.gaps = 0
        self.snapshots: list[SnapshotBegin] = []
        self.sides: dict[Side, dict[int, Queue]] = {Side.BUY: {}, Side.SELL: {}}

    def apply(self, m: Message) -> None:
        if getattr(m, "instrument", None) != self.instrument:
            return
        if isinstance(m, SnapshotBegin) and m.feed == FeedKind.L3:
            self.sides = {Side.BUY: {}, Side.SELL: {}}
            self.feed_seq, self.synced = m.feed_seq, True
            self.snapshots.append(m)
        elif isinstance(m, SnapshotOrder):
            self.sides[m.side].setdefault(m.price, []).append((m.order_id, m.qty))
        elif isinstance(m, BookEvent):
            self._incremental(m)

    def _incremental(self, m: BookEvent) -> None:
        if not self.synced or m.feed_seq <= self.feed_seq:
            return  # before the first snapshot, or a resent one already applied
        if m.feed_seq != self.feed_seq + 1:
            self.gaps += 1
            self.synced = False
            return
        self.feed_seq = m.feed_seq
        if isinstance(m, OrderAdded):
            self.sides[m.side].setdefault(m.price, []).append((m.order_id, m.qty))
        elif isinstance(m, OrderReduced):
            queue = self.sides[m.side][m.price]
            at = [oid for oid, _ in queue].index(m.order_id)
            queue[at] = (m.order_id, m.remaining_qty)
        elif isinstance(m, OrderRemoved):
            self._take(m.side, m.price, m.order_id)
        elif isinstance(m, OrderReplaced):
            at = self._take(m.side, m.old_price, m.order_id)
            queue = self.sides[m.side].setdefault(m.price, [])
            queue.insert(at if m.priority_kept else len(queue), (m.order_id, m.qty))

    def _take(self, side: Side, price: int, order_id: int) -> int:
        queue = self.sides[side][price]
        at = [oid for oid, _ in queue].index(order_id)
        del queue[at]
        if not queue:
            del self.sides[side][price]
        return at

    def orders(self) -> list[tuple[Side, int, int, int]]:
        """Every order, bids then asks, best price first, in queue order."""
        out = []
        for side in (Side.BUY, Side.SELL):
            prices = sorted(self.sides[side], reverse=side == Side.BUY)
            for price in prices:
                out += [(side, price, oid, qty) for oid, qty in self.sides[side][price]]
        return out

    def levels(self, depth: int) -> list[tuple[Side, int, int, int]]:
        """The best ``depth`` levels of each side, as an L2 feed reports them."""
        out = []
        for side in (Side.BUY, Side.SELL):
            prices = sorted(self.sides[side], reverse=side == Side.BUY)[:depth]
            for price in prices:
                queue = self.sides[side][price]
                out.append((side, price, sum(q for _, q in queue), len(queue)))
        return out

    def checksum(self) -> int:
        return l3_checksum(self.orders())


class L2Book:
    """One instrument's best levels kept from one L2 feed."""

    def __init__(self, instrument: int, depth: int) -> None:
        self.instrument, self.depth = instrument, depth
        self.level_seq = 0
        self.sides: dict[Side, dict[int, tuple[int, int]]] = {Side.BUY: {}, Side.SELL: {}}

    def apply(self, m: Message) -> None:
        if getattr(m, "instrument", None) != self.instrument:
            return
        if isinstance(m, SnapshotBegin) and m.feed == FeedKind.L2 and m.depth == self.depth:
            self.sides = {Side.BUY: {}, Side.SELL: {}}
            self.level_seq = m.level_seq
        elif isinstance(m, SnapshotLevel):
            self.sides[m.side][m.price] = (m.qty, m.order_count)
        elif isinstance(m, LevelUpdate) and m.depth == self.depth:
            if m.level_seq <= self.level_seq:
                return
            assert m.level_seq == self.level_seq + 1, "a gap in the L2 feed"
            self.level_seq = m.level_seq
            if m.action == LevelAction.DELETE:
                del self.sides[m.side][m.price]
            else:
                self.sides[m.side][m.price] = (m.qty, m.order_count)

    def levels(self) -> list[tuple[Side, int, int, int]]:
        out = []
        for side in (Side.BUY, Side.SELL):
            for price in sorted(self.sides[side], reverse=side == Side.BUY):
                qty, count = self.sides[side][price]
                out.append((side, price, qty, count))
        return out

    def checksum(self) -> int:
        return l2_checksum(self.levels())
