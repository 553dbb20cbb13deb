"""The engine's book feed in-process, as a gateway would put it on the wire: the core
(``ringex_engine``) applies commands, its BookFeed turns their events into L3 book events
and L2 level updates, and these become the client library's feed messages. Snapshots
are built the same way, so a test can hand a local book exactly what a subscriber gets."""

from typing import Any

import ringex_engine as core
from ringex_client import (
    FeedKind,
    LevelAction,
    LevelUpdate,
    Message,
    OrderAdded,
    OrderReduced,
    OrderRemoved,
    OrderReplaced,
    RemoveReason,
    Side,
    SnapshotBegin,
    SnapshotEnd,
    SnapshotLevel,
    SnapshotOrder,
    Trade,
    TradingStatus,
)


def _at(e: Any) -> tuple[int, int, int]:
    return e.instrument, e.feed_seq, e.timestamp_ns


def wire_event(e: Any) -> Message:
    """The client message of one L3 book event from the bindings."""
    if isinstance(e, core.OrderAdded):
        return OrderAdded(*_at(e), e.order_id, Side(int(e.side)), e.price, e.qty)
    if isinstance(e, core.OrderReduced):
        side = Side(int(e.side))
        return OrderReduced(*_at(e), e.order_id, side, e.price, e.qty, e.remaining_qty)
    if isinstance(e, core.OrderRemoved):
        reason = RemoveReason(int(e.reason))
        return OrderRemoved(*_at(e), e.order_id, Side(int(e.side)), e.price, e.qty, reason)
    if isinstance(e, core.OrderReplaced):
        return OrderReplaced(
            *_at(e), e.order_id, Side(int(e.side)), e.old_price, e.old_qty, e.price, e.qty,
            e.priority_kept,
        )  # fmt: skip
    if isinstance(e, core.BookTrade):
        side = Side(int(e.aggressor_side))
        return Trade(*_at(e), e.match_id, e.price, e.qty, side, e.maker_order_id)
    assert isinstance(e, core.TradingStatus)
    return TradingStatus(*_at(e), e.halted)


def wire_level(depth: int, u: core.LevelUpdate) -> LevelUpdate:
    """The client message of one level update of the depth-``depth`` feed."""
    return LevelUpdate(
        u.instrument, depth, u.level_seq, u.feed_seq, u.timestamp_ns, Side(int(u.side)),
        LevelAction(int(u.action)), u.price, u.qty, u.order_count,
    )  # fmt: skip


class EngineFeed:
    """An engine with its feed, giving wire messages per command."""

    def __init__(self, depth: int, **capacities: int) -> None:
        self.depth = depth
        self.engine = core.Engine(**capacities)
        caps = {k: v for k, v in capacities.items() if k != "max_accounts"}
        caps.pop("max_client_ids_per_day", None)
        self.feed = core.BookFeed(depth=depth, **caps)

    def submit(self, command: core.Command) -> list[Message]:
        """Applies one command; its L3 messages, then its L2 messages."""
        events = self.engine.submit(command)
        book, levels = self.feed.apply(
            events, seq=self.engine.last_seq, timestamp_ns=self.engine.last_timestamp_ns
        )
        return [wire_event(e) for e in book] + [wire_level(self.depth, u) for u in levels]

    def l3_snapshot(self, instrument: int) -> list[Message]:
        """An L3 snapshot as the gateway sends it."""
        s = self.feed.snapshot(instrument)
        orders: list[Message] = [
            SnapshotOrder(instrument, side, price, order_id, qty)
            for side, levels in ((Side.BUY, s.bids), (Side.SELL, s.asks))
            for price, queue in levels
            for order_id, qty in queue
        ]
        begin = SnapshotBegin(
            instrument, FeedKind.L3, 0, s.feed_seq, 0, s.halted, len(orders), s.checksum
        )
        return [begin, *orders, SnapshotEnd(instrument, FeedKind.L3, 0, s.feed_seq, 0)]

    def l2_snapshot(self, instrument: int) -> list[Message]:
        """An L2 snapshot of this feed's depth as the gateway sends it."""
        s = self.feed.levels(instrument)
        levels: list[Message] = [
            SnapshotLevel(instrument, side, lv.price, lv.qty, lv.order_count)
            for side, side_levels in ((Side.BUY, s.bids), (Side.SELL, s.asks))
            for lv in side_levels
        ]
        d = self.depth
        begin = SnapshotBegin(
            instrument, FeedKind.L2, d, s.feed_seq, s.level_seq, False, len(levels), s.checksum
        )
        return [begin, *levels, SnapshotEnd(instrument, FeedKind.L2, d, s.feed_seq, s.level_seq)]

    def orders(self, instrument: int) -> list[tuple[Side, int, int, int]]:
        """The engine's own book: every order, bids then asks, in queue order."""
        book = self.engine.book(instrument)
        return [
            (side, level.price, o.order_id, o.leaves)
            for side, levels in ((Side.BUY, book.bids), (Side.SELL, book.asks))
            for level in levels
            for o in level.orders
        ]
