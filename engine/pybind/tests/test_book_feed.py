"""The book feed through the bindings: L3 events and level updates built from an
engine's events, snapshots that match its book, and checksums a client can recompute."""

import struct
from typing import Any

import pytest

from ringex_engine import (
    AddAccount,
    AddInstrument,
    Book,
    BookEvent,
    BookFeed,
    BookFeedError,
    BookTrade,
    Cancel,
    Cancelled,
    Command,
    EndOfDay,
    Engine,
    L2Snapshot,
    L3Snapshot,
    LevelAction,
    LevelUpdate,
    NewOrder,
    OrderAdded,
    OrderReduced,
    OrderRemoved,
    OrderReplaced,
    RemoveReason,
    Replace,
    SetHalted,
    Side,
    TimeInForce,
    TradingStatus,
)

INST = 1
ALICE, BOB = 7, 8
CAPACITIES = {"max_orders": 64, "max_instruments": 4, "levels_per_side": 8}


class Feed:
    """An engine with a book feed behind it, fed command by command."""

    def __init__(self, depth: int = 2) -> None:
        self.engine = Engine(max_accounts=16, max_client_ids_per_day=256, **CAPACITIES)
        self.feed = BookFeed(depth=depth, **CAPACITIES)
        self.book_events: list[BookEvent] = []
        self.level_updates: list[LevelUpdate] = []
        self.submit(AddInstrument(instrument=INST, tick_size=1, lot_size=1, reference_price=100))
        for account in (ALICE, BOB):
            limits = {"max_order_qty": 10**6, "max_order_notional": 10**12}
            self.submit(AddAccount(account=account, max_open_orders=50, **limits))

    def submit(self, command: Command) -> list[BookEvent]:
        events = self.engine.submit(command)
        seq, timestamp_ns = self.engine.last_seq, self.engine.last_timestamp_ns
        book, levels = self.feed.apply(events, seq=seq, timestamp_ns=timestamp_ns)
        self.book_events += book
        self.level_updates += levels
        return book

    def order(
        self, account: int, cid: int, side: Side, price: int, qty: int, tif: TimeInForce
    ) -> list[BookEvent]:
        return self.submit(
            NewOrder(
                account=account,
                instrument=INST,
                client_order_id=cid,
                side=side,
                price=price,
                qty=qty,
                time_in_force=tif,
            )
        )


def crc32c(data: bytes) -> int:
    """CRC-32C bit by bit, as a client without a library would write it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def l3_checksum(book: Book) -> int:
    data = b"".join(
        struct.pack("<BqQQ", side, level.price, order.order_id, order.leaves)
        for side, levels in ((1, book.bids), (2, book.asks))
        for level in levels
        for order in level.orders
    )
    return crc32c(data)


def l2_checksum(book: Book, depth: int) -> int:
    data = b"".join(
        struct.pack("<BqQI", side, level.price, level.total_qty, len(level.orders))
        for side, levels in ((1, book.bids), (2, book.asks))
        for level in levels[:depth]
    )
    return crc32c(data)


def assert_snapshots_match_engine(f: Feed, depth: int) -> tuple[L3Snapshot, L2Snapshot]:
    book = f.engine.book(INST)
    l3 = f.feed.snapshot(INST)
    engine_queues = [
        (level.price, tuple((o.order_id, o.leaves) for o in level.orders)) for level in book.bids
    ]
    assert list(l3.bids) == engine_queues
    assert l3.checksum == l3_checksum(book)
    l2 = f.feed.levels(INST)
    assert [(lv.price, lv.qty, lv.order_count) for lv in l2.bids] == [
        (lv.price, lv.total_qty, len(lv.orders)) for lv in book.bids[:depth]
    ]
    assert l2.checksum == l2_checksum(book, depth)
    assert l3.feed_seq == l2.feed_seq == f.feed.feed_seq(INST)
    return l3, l2


def test_resting_trading_replacing_and_cancelling_orders_make_book_events() -> None:
    f = Feed()
    assert [type(e) for e in f.book_events] == [TradingStatus]
    f.order(ALICE, 1, Side.SELL, 101, 10, TimeInForce.GTC)
    f.order(ALICE, 2, Side.SELL, 101, 5, TimeInForce.DAY)
    # An IOC that trades part of the first ask; its remainder never rests.
    events = f.order(BOB, 3, Side.BUY, 101, 4, TimeInForce.IOC)
    assert [type(e) for e in events] == [BookTrade, OrderReduced]
    trade, reduced = events
    assert isinstance(trade, BookTrade)
    assert isinstance(reduced, OrderReduced)
    assert (trade.price, trade.qty, trade.aggressor_side) == (101, 4, Side.BUY)
    assert (reduced.order_id, reduced.remaining_qty) == (trade.maker_order_id, 6)
    # A buy that sweeps the level and rests its remainder: added after its trades.
    events = f.order(BOB, 4, Side.BUY, 101, 20, TimeInForce.GTC)
    assert [type(e) for e in events] == [
        BookTrade,
        OrderRemoved,
        BookTrade,
        OrderRemoved,
        OrderAdded,
    ]
    added = events[-1]
    assert isinstance(added, OrderAdded)
    assert (added.price, added.qty) == (101, 9)
    removed = events[1]
    assert isinstance(removed, OrderRemoved)
    assert removed.reason is RemoveReason.FILLED
    # Reducing keeps priority; moving loses it.
    f.order(BOB, 5, Side.BUY, 99, 3, TimeInForce.DAY)
    (kept,) = f.submit(
        Replace(account=BOB, orig_client_order_id=4, client_order_id=4, price=101, qty=7)
    )
    assert isinstance(kept, OrderReplaced)
    assert kept.priority_kept
    assert kept.old_qty == 9
    (moved,) = f.submit(
        Replace(account=BOB, orig_client_order_id=4, client_order_id=6, price=100, qty=7)
    )
    assert isinstance(moved, OrderReplaced)
    assert not moved.priority_kept
    assert (moved.old_price, moved.price) == (101, 100)
    assert_snapshots_match_engine(f, 2)
    (cancelled,) = f.submit(Cancel(account=BOB, client_order_id=6))
    assert isinstance(cancelled, OrderRemoved)
    assert cancelled.reason is RemoveReason.CANCELLED
    (expired,) = f.submit(EndOfDay())
    assert isinstance(expired, OrderRemoved)
    assert expired.reason is RemoveReason.EXPIRED
    (halt,) = f.submit(SetHalted(instrument=INST, halted=True))
    assert isinstance(halt, TradingStatus)
    assert halt.halted
    seqs = [e.feed_seq for e in f.book_events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert f.feed.snapshot(INST).halted
    assert not hasattr(added, "account")


def test_levels_entering_the_top_are_reported() -> None:
    f = Feed(depth=2)
    for cid, price in enumerate((100, 99, 98), start=1):
        f.order(ALICE, cid, Side.BUY, price, 1, TimeInForce.GTC)
    assert [(u.action, u.price) for u in f.level_updates] == [
        (LevelAction.ADD, 100),
        (LevelAction.ADD, 99),
    ]
    f.level_updates.clear()
    f.submit(Cancel(account=ALICE, client_order_id=1))
    assert [(u.action, u.price) for u in f.level_updates] == [
        (LevelAction.DELETE, 100),
        (LevelAction.ADD, 98),
    ]
    full = f.feed.levels(INST, depth=100)
    assert [lv.price for lv in full.bids] == [99, 98]
    assert_snapshots_match_engine(f, 2)


def test_the_same_commands_give_the_same_feed() -> None:
    def run() -> list[BookEvent]:
        f = Feed()
        for cid in range(1, 40):
            side = Side.BUY if cid % 3 else Side.SELL
            f.order(
                ALICE if cid % 2 else BOB, cid, side, 95 + cid % 11, cid % 7 + 1, TimeInForce.GTC
            )
        return f.book_events

    assert run() == run()


def test_events_the_engine_could_not_have_produced_are_refused() -> None:
    f = Feed()
    f.order(ALICE, 1, Side.BUY, 100, 1, TimeInForce.GTC)
    cancel = f.engine.submit(Cancel(account=ALICE, client_order_id=1))
    assert [type(e) for e in cancel] == [Cancelled]
    f.feed.apply(cancel, seq=5, timestamp_ns=0)
    # The same cancel again names an order that no longer rests.
    with pytest.raises(BookFeedError, match="seq 10"):
        f.feed.apply(cancel, seq=10, timestamp_ns=0)
    with pytest.raises(BookFeedError, match="stopped"):
        f.feed.apply([], seq=11, timestamp_ns=0)
    not_events: list[Any] = [object()]
    with pytest.raises(TypeError, match="engine event"):
        BookFeed(**CAPACITIES).apply(not_events, seq=1, timestamp_ns=0)
    with pytest.raises(KeyError):
        BookFeed(**CAPACITIES).snapshot(3)
    with pytest.raises(ValueError, match="depth"):
        BookFeed(depth=0)
