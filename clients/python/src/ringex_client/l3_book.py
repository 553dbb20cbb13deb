"""One instrument's order-by-order book as the L3 feed describes it: every resting
order in queue order, loaded from a snapshot and kept by the book events after it."""

from collections.abc import Iterable

from ringex_client.book_checksum import l3_checksum
from ringex_client.book_entries import BookInconsistentError, Level, RestingOrder
from ringex_client.enums import Side
from ringex_client.messages import (
    BookEvent,
    OrderAdded,
    OrderReduced,
    OrderRemoved,
    OrderReplaced,
    SnapshotOrder,
    TradingStatus,
)
from ringex_client.sorted_prices import SortedPrices

# A level's queue: order id to displayed quantity, in queue order (dicts keep insertion
# order, and changing a value keeps the key's place, as a reduction keeps priority).
Queue = dict[int, int]


class L3Book:
    """Every resting order of one instrument, per side and price, in queue order."""

    def __init__(self, halted: bool = False) -> None:
        self.halted = halted
        self._levels: dict[Side, dict[int, Queue]] = {Side.BUY: {}, Side.SELL: {}}
        self._prices = {side: SortedPrices(side) for side in Side}

    @classmethod
    def from_snapshot(cls, halted: bool, orders: Iterable[SnapshotOrder]) -> "L3Book":
        """The book a snapshot's entries describe (in the order they were sent)."""
        book = cls(halted)
        for o in orders:
            book._add(o.side, o.price, o.order_id, o.qty)
        return book

    def apply(self, event: BookEvent) -> None:
        """Applies one book event. Raises BookInconsistentError if it names an order
        the book does not hold (or adds one it already holds)."""
        if isinstance(event, OrderAdded):
            self._add(event.side, event.price, event.order_id, event.qty)
        elif isinstance(event, OrderReduced):
            queue = self._queue(event.side, event.price, event.order_id)
            queue[event.order_id] = event.remaining_qty
        elif isinstance(event, OrderRemoved):
            self._remove(event.side, event.price, event.order_id)
        elif isinstance(event, OrderReplaced):
            if event.priority_kept and event.price == event.old_price:
                self._queue(event.side, event.price, event.order_id)[event.order_id] = event.qty
            else:
                self._remove(event.side, event.old_price, event.order_id)
                self._add(event.side, event.price, event.order_id, event.qty)
        elif isinstance(event, TradingStatus):
            self.halted = event.halted
        # A Trade changes no book: the maker's OrderReduced or OrderRemoved follows it.

    def _queue(self, side: Side, price: int, order_id: int) -> Queue:
        queue = self._levels[side].get(price)
        if queue is None or order_id not in queue:
            raise BookInconsistentError(f"no order {order_id} at {side.name} {price}")
        return queue

    def _add(self, side: Side, price: int, order_id: int, qty: int) -> None:
        levels = self._levels[side]
        queue = levels.get(price)
        if queue is None:
            queue = levels[price] = {}
            self._prices[side].add(price)
        if order_id in queue:
            raise BookInconsistentError(f"order {order_id} added twice")
        queue[order_id] = qty

    def _remove(self, side: Side, price: int, order_id: int) -> None:
        queue = self._queue(side, price, order_id)
        del queue[order_id]
        if not queue:
            del self._levels[side][price]
            self._prices[side].remove(price)

    def best(self, side: Side) -> Level | None:
        """The best level of a side, or None when the side is empty."""
        price = self._prices[side].best()
        return None if price is None else self._level(side, price)

    def levels(self, side: Side, depth: int | None = None) -> list[Level]:
        """The best ``depth`` levels of a side (all with None), best first."""
        return [self._level(side, p) for p in self._prices[side].best_first(depth)]

    def _level(self, side: Side, price: int) -> Level:
        queue = self._levels[side][price]
        return Level(price, sum(queue.values()), len(queue))

    def queue(self, side: Side, price: int) -> list[RestingOrder]:
        """The orders resting at ``price`` in queue order (empty if none)."""
        queue = self._levels[side].get(price, {})
        return [RestingOrder(order_id, qty) for order_id, qty in queue.items()]

    def orders(self) -> list[tuple[Side, int, int, int]]:
        """Every order as ``(side, price, order_id, qty)``: bids then asks, best price
        first, each level in queue order (the checksum's order)."""
        return [
            (side, price, order_id, qty)
            for side in Side
            for price in self._prices[side].best_first()
            for order_id, qty in self._levels[side][price].items()
        ]

    def checksum(self) -> int:
        """The book checksum an L3 snapshot of this book carries."""
        return l3_checksum(self.orders())
