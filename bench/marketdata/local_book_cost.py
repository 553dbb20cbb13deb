"""What a client's LocalBook costs per feed message, with no network and no other
process: the engine's own feed of one instrument (the core and its book feed
in-process, :mod:`tests.engine_feed`, driven by the market data benchmark's order
flow beside a resting book) is framed once, then split into frames, decoded and
applied by the book state machine (:class:`ringex_client.book_sync.BookSync`, what
both local books run), timed on this process's CPU clock. Decoding alone is timed
too, and so is the whole path of a user's book but the socket: the asyncio client's
session protocol and an AsyncLocalBook on it. Several runs; the figures are their
medians. Writes
``bench/results/local_book.json``.

The feed: the snapshots (L3, and L2 of the top 10 levels) of a book of 20 levels a
side with 5 orders each, one tick apart either side of an empty price; then pairs of
a GTC sell and a GTC buy of one lot at that price, the buy trading the sell out, and
every book event and level update the engine makes of them.
"""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench" / "e2e")]

from run import run_info, write_results  # noqa: E402

from ringex_client import AsyncClient, AsyncLocalBook, FrameReader, decode_server  # noqa: E402
from ringex_client.book_sync import BookSync  # noqa: E402
from ringex_client.codec import FRAME_MAX, encode  # noqa: E402
from ringex_engine import NewOrder, TimeInForce  # noqa: E402
from ringex_engine import Side as CoreSide  # noqa: E402
from ringex_engine.workload import Listing, setup_commands  # noqa: E402
from tests.engine_feed import EngineFeed  # noqa: E402

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
SELLER, BUYER = 11, 12
CAPACITIES = {"max_orders": 4096, "max_instruments": 2, "levels_per_side": 256}


class Orders:
    """GTC limit orders for the feed's instrument, each with a fresh client order id."""

    def __init__(self) -> None:
        self.client_order_id = 0

    def __call__(self, account: int, side: CoreSide, price: int, qty: int) -> NewOrder:
        self.client_order_id += 1
        return NewOrder(
            account=account, instrument=INSTRUMENT, client_order_id=self.client_order_id,
            side=side, price=price, qty=qty, time_in_force=TimeInForce.GTC,
        )  # fmt: skip


def feed_bytes() -> tuple[bytes, int, int]:
    """The whole feed framed, how many messages it holds and how many are incrementals."""
    feed = EngineFeed(DEPTH, **CAPACITIES)
    for command in setup_commands([Listing(INSTRUMENT, "ONE", PAIR_PRICE)], [SELLER, BUYER]):
        feed.submit(command)
    order = Orders()
    for level in range(1, LEVELS_PER_SIDE + 1):
        for _ in range(ORDERS_PER_LEVEL):
            feed.submit(order(BUYER, CoreSide.BUY, PAIR_PRICE - level * TICK, RESTING_QTY))
            feed.submit(order(SELLER, CoreSide.SELL, PAIR_PRICE + level * TICK, RESTING_QTY))
    head = feed.l3_snapshot(INSTRUMENT) + feed.l2_snapshot(INSTRUMENT)
    body = []
    for _ in range(PAIRS):
        body += feed.submit(order(SELLER, CoreSide.SELL, PAIR_PRICE, 1))
        body += feed.submit(order(BUYER, CoreSide.BUY, PAIR_PRICE, 1))
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


class Updates:
    """A change callback as a user would give (:meth:`changed`), counting the changes."""

    def __init__(self) -> None:
        self.count = 0

    def changed(self, instrument: int, message: object) -> None:
        self.count += 1

    def check(self, book: BookSync, incrementals: int) -> None:
        """The book ended in step, with every incremental and both snapshots reported."""
        assert book.synced(), "the synthetic feed must leave the book in step"
        assert book.resyncs == 0, "the synthetic feed must apply without a resync"
        assert self.count == incrementals + 2, "every incremental and both snapshots reported"


def book_kept(parts: list[bytes], incrementals: int) -> float:
    """CPU seconds to split, decode and apply every message, with a change callback as
    a user would give; checks the book ended in step with every incremental applied."""
    updates = Updates()
    book = BookSync(INSTRUMENT, l2_depth=DEPTH, on_update=updates.changed)
    book.start(0.0)
    book.take_requests()
    start = time.process_time()
    reader = FrameReader(FRAME_MAX)
    for part in parts:
        for body in reader.feed(part):
            book.receive(decode_server(body), 0.0)
    used = time.process_time() - start
    updates.check(book, incrementals)
    return used


def through_client(parts: list[bytes], incrementals: int) -> float:
    """CPU seconds for the whole path of a user's book, but for the socket: the session
    protocol's decoding and checks (:class:`ringex_client.protocol.ClientProtocol`,
    as the asyncio client's reader runs it) and the message hook of an
    :class:`ringex_client.AsyncLocalBook` on that client, with a change callback."""
    updates = Updates()
    client = AsyncClient("127.0.0.1", 1, "viewer", "unused", max_queued_messages=0)
    book = AsyncLocalBook(client, INSTRUMENT, l2_depth=DEPTH, on_update=updates.changed)
    book.start(0.0)
    book.take_requests()
    on_message = client.on_message
    assert on_message is not None
    start = time.process_time()
    for part in parts:
        for message in client.protocol.receive(part):
            on_message(message)
    used = time.process_time() - start
    updates.check(book, incrementals)
    return used


def main() -> int:
    data, messages, incrementals = feed_bytes()
    parts = chunks(data)
    decode: list[float] = []
    kept: list[float] = []
    client: list[float] = []
    for n in range(RUNS):
        decode.append(decode_only(parts) / messages * 1e6)
        kept.append(book_kept(parts, incrementals) / messages * 1e6)
        client.append(through_client(parts, incrementals) / messages * 1e6)
        print(
            f"run {n + 1}/{RUNS}: {decode[-1]:.2f} µs/msg decoding, {kept[-1]:.2f} kept, "
            f"{client[-1]:.2f} through the client"
        )
    result = {
        "benchmark": "local_book",
        "command": "make bench-localbook",
        **run_info(),
        "messages": messages,
        "us_per_msg_decoded": round(statistics.median(decode), 3),
        "us_per_msg_book_kept": round(statistics.median(kept), 3),
        "us_per_msg_through_client": round(statistics.median(client), 3),
        "runs": {
            "decoded": [round(x, 3) for x in decode],
            "kept": [round(x, 3) for x in kept],
            "through_client": [round(x, 3) for x in client],
        },
        "feed": (
            f"the engine's feed of one instrument: the snapshots of {LEVELS_PER_SIDE} "
            f"levels a side, {ORDERS_PER_LEVEL} orders each (L3 and top-{DEPTH} L2), then "
            f"{PAIRS} pairs of a GTC sell and a GTC buy of one lot at an empty price "
            "between them"
        ),
        "method": (
            f"the framed feed in {CHUNK_BYTES}-byte reads through FrameReader, "
            "decode_server and BookSync.receive (L3 and L2 depth 10, a change "
            "callback), this process's CPU time; decoded: FrameReader and "
            "decode_server alone; through_client: the asyncio client's session protocol "
            "(ClientProtocol.receive) and an AsyncLocalBook's message hook instead, the "
            f"whole path of a user's book but the socket; median of {RUNS} runs"
        ),
    }
    write_results("local_book", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
