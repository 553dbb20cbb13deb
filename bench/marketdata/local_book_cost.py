"""What a client's LocalBook costs per feed message, with no network and no other
process: a synthetic feed of one instrument (the market data benchmark's order flow
over a resting book) is framed once, then split into frames, decoded and applied by
the book state machine (:class:`ringex_client.book_sync.BookSync`, what both local
books run), timed on this process's CPU clock. Decoding alone is timed too. Several
runs; the figures are their medians. Writes ``bench/results/local_book.json``.

The feed: a snapshot of 20 levels a side with 5 orders each (L3, and the top 10
levels of L2), one tick apart either side of an empty price, then pairs that add a
sell of one lot at that price, trade it out and remove it, with the level updates the
engine sends: seven messages per pair, three L3 (OrderAdded, Trade, OrderRemoved) and
four L2 (the tenth ask level deleted and the new best one added; then the other way
round).
"""

import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "e2e"))

from run import run_info, write_results  # noqa: E402

from ringex_client import FeedKind, FrameReader, LevelAction, Side, decode_server  # noqa: E402
from ringex_client.book_checksum import l2_checksum, l3_checksum  # noqa: E402
from ringex_client.book_sync import BookSync  # noqa: E402
from ringex_client.codec import FRAME_MAX, encode  # noqa: E402
from ringex_client.enums import RemoveReason  # noqa: E402
from ringex_client.messages import (  # noqa: E402
    LevelUpdate,
    Message,
    OrderAdded,
    OrderRemoved,
    SnapshotBegin,
    SnapshotEnd,
    SnapshotLevel,
    SnapshotOrder,
    Trade,
)

INSTRUMENT = 1
DEPTH = 10
LEVELS_PER_SIDE = 20
ORDERS_PER_LEVEL = 5
PAIRS = 100_000
RUNS = 5
# What one read of a socket might bring.
CHUNK_BYTES = 64 * 1024
# The pairs' price: the resting bids are below it and the resting asks above.
PAIR_PRICE = 100_000
TICK = 1
RESTING_QTY = 10
TIMESTAMP_NS = 1_700_000_000_000_000_000


def resting_orders() -> list[tuple[Side, int, int, int]]:
    """``(side, price, order_id, qty)`` of the resting book, bids then asks, best first."""
    orders = []
    order_id = 1
    for side, step in ((Side.BUY, -TICK), (Side.SELL, TICK)):
        for level in range(1, LEVELS_PER_SIDE + 1):
            for _ in range(ORDERS_PER_LEVEL):
                orders.append((side, PAIR_PRICE + level * step, order_id, RESTING_QTY))
                order_id += 1
    return orders


def snapshots(orders: list[tuple[Side, int, int, int]]) -> list[Message]:
    """The L3 and L2 snapshots of the resting book, at sequence 0."""
    l3: list[Message] = [SnapshotOrder(INSTRUMENT, *o) for o in orders]
    # Each side's levels, best first (the orders are listed so).
    levels: dict[Side, dict[int, list[int]]] = {side: {} for side in Side}
    for side, price, _, qty in orders:
        levels[side].setdefault(price, []).append(qty)
    top = [
        (side, price, sum(qtys), len(qtys))
        for side in Side
        for price, qtys in list(levels[side].items())[:DEPTH]
    ]
    l2: list[Message] = [SnapshotLevel(INSTRUMENT, *lv) for lv in top]
    l3_sum, l2_sum = l3_checksum(orders), l2_checksum(top)
    return [
        SnapshotBegin(INSTRUMENT, FeedKind.L3, 0, 0, 0, False, len(l3), l3_sum),
        *l3,
        SnapshotEnd(INSTRUMENT, FeedKind.L3, 0, 0, 0),
        SnapshotBegin(INSTRUMENT, FeedKind.L2, DEPTH, 0, 0, False, len(l2), l2_sum),
        *l2,
        SnapshotEnd(INSTRUMENT, FeedKind.L2, DEPTH, 0, 0),
    ]


def pairs(count: int, first_order_id: int) -> Iterator[Message]:
    """The pairs' incrementals, in the order the gateway sends them. The pair's level
    enters the top ``DEPTH`` asks and pushes the last one out (deleted first, as the
    engine sends it), and leaves it again."""
    last = PAIR_PRICE + DEPTH * TICK  # the last ask level of the top DEPTH
    last_qty, last_orders = RESTING_QTY * ORDERS_PER_LEVEL, ORDERS_PER_LEVEL
    ts = TIMESTAMP_NS

    def level(
        level_seq: int, seq: int, action: LevelAction, price: int, qty: int, orders: int
    ) -> LevelUpdate:
        return LevelUpdate(
            INSTRUMENT, DEPTH, level_seq, seq, ts, Side.SELL, action, price, qty, orders
        )

    for n in range(count):
        order_id, seq, level_seq = first_order_id + n, 3 * n, 4 * n
        yield OrderAdded(INSTRUMENT, seq + 1, ts, order_id, Side.SELL, PAIR_PRICE, 1)
        yield level(level_seq + 1, seq + 1, LevelAction.DELETE, last, 0, 0)
        yield level(level_seq + 2, seq + 1, LevelAction.ADD, PAIR_PRICE, 1, 1)
        yield Trade(INSTRUMENT, seq + 2, ts, n + 1, PAIR_PRICE, 1, Side.BUY, order_id)
        yield OrderRemoved(
            INSTRUMENT, seq + 3, ts, order_id, Side.SELL, PAIR_PRICE, 0, RemoveReason.FILLED
        )
        yield level(level_seq + 3, seq + 3, LevelAction.DELETE, PAIR_PRICE, 0, 0)
        yield level(level_seq + 4, seq + 3, LevelAction.ADD, last, last_qty, last_orders)


def feed_bytes() -> tuple[bytes, int, int]:
    """The whole feed framed, how many messages it holds and how many are incrementals."""
    orders = resting_orders()
    head = snapshots(orders)
    body = list(pairs(PAIRS, len(orders) + 1))
    data = b"".join(encode(m) for m in [*head, *body])
    return data, len(head) + len(body), len(body)


def chunks(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)]


def decode_only(parts: list[bytes]) -> float:
    """CPU seconds to split and decode every message."""
    start = time.process_time()
    reader = FrameReader(FRAME_MAX)
    for part in parts:
        for body in reader.feed(part):
            decode_server(body)
    return time.process_time() - start


def book_kept(parts: list[bytes], incrementals: int) -> float:
    """CPU seconds to split, decode and apply every message, with a change callback as
    a user would give; checks the book ended in step with every incremental applied."""
    updates = 0

    def updated(instrument: int, message: object) -> None:
        nonlocal updates
        updates += 1

    book = BookSync(INSTRUMENT, l2_depth=DEPTH, on_update=updated)
    book.start(0.0)
    book.take_requests()
    start = time.process_time()
    reader = FrameReader(FRAME_MAX)
    for part in parts:
        for body in reader.feed(part):
            book.receive(decode_server(body), 0.0)
    used = time.process_time() - start
    assert book.synced(), "the synthetic feed must leave the book in step"
    assert book.resyncs == 0, "the synthetic feed must apply without a resync"
    assert updates == incrementals + 2, "every incremental and both snapshots reported"
    return used


def main() -> int:
    data, messages, incrementals = feed_bytes()
    parts = chunks(data)
    decode, kept = [], []
    for n in range(RUNS):
        decode.append(decode_only(parts) / messages * 1e6)
        kept.append(book_kept(parts, incrementals) / messages * 1e6)
        print(f"run {n + 1}/{RUNS}: {decode[-1]:.2f} µs/msg decoding, {kept[-1]:.2f} kept")
    result = {
        "benchmark": "local_book",
        "command": "make bench-localbook",
        **run_info(),
        "messages": messages,
        "us_per_msg_decoded": round(statistics.median(decode), 3),
        "us_per_msg_book_kept": round(statistics.median(kept), 3),
        "runs": {"decoded": [round(x, 3) for x in decode], "kept": [round(x, 3) for x in kept]},
        "feed": (
            f"one instrument: a snapshot of {LEVELS_PER_SIDE} levels a side, "
            f"{ORDERS_PER_LEVEL} orders each (L3 and top-{DEPTH} L2), then {PAIRS} pairs "
            "of OrderAdded, two LevelUpdates, Trade, OrderRemoved, two LevelUpdates"
        ),
        "method": (
            f"the framed feed in {CHUNK_BYTES}-byte reads through FrameReader, "
            "decode_server and BookSync.receive (L3 and L2 depth 10, a change "
            "callback), this process's CPU time; decoded: FrameReader and "
            f"decode_server alone; median of {RUNS} runs"
        ),
    }
    write_results("local_book", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
