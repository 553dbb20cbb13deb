"""One instrument's best price levels as an L2 feed of one depth describes them,
loaded from a snapshot and kept by the level updates after it."""

from collections.abc import Iterable

from ringex_client.book_checksum import l2_checksum
from ringex_client.book_entries import BookInconsistentError, Level
from ringex_client.enums import LevelAction, Side
from ringex_client.messages import LevelUpdate, SnapshotLevel
from ringex_client.sorted_prices import SortedPrices


class L2Book:
    """The best ``depth`` levels of each side of one instrument."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self._levels: dict[Side, dict[int, Level]] = {Side.BUY: {}, Side.SELL: {}}
        self._prices = {side: SortedPrices(side) for side in Side}

    @classmethod
    def from_snapshot(cls, depth: int, levels: Iterable[SnapshotLevel]) -> "L2Book":
        """The book a snapshot's entries describe."""
        book = cls(depth)
        for lv in levels:
            book._put(lv.side, Level(lv.price, lv.qty, lv.order_count), new=True)
        return book

    def apply(self, update: LevelUpdate) -> None:
        """Applies one level update. Raises BookInconsistentError for a level added
        twice, one changed or deleted that is not held, or more than ``depth`` levels."""
        if update.action == LevelAction.DELETE:
            if self._levels[update.side].pop(update.price, None) is None:
                raise BookInconsistentError(f"no level {update.side.name} {update.price}")
            self._prices[update.side].remove(update.price)
        else:
            level = Level(update.price, update.qty, update.order_count)
            self._put(update.side, level, new=update.action == LevelAction.ADD)

    def _put(self, side: Side, level: Level, *, new: bool) -> None:
        levels = self._levels[side]
        if (level.price in levels) == new:
            raise BookInconsistentError(f"level {side.name} {level.price} not as expected")
        if new:
            if len(levels) >= self.depth:
                raise BookInconsistentError(f"more than {self.depth} levels on {side.name}")
            self._prices[side].add(level.price)
        levels[level.price] = level

    def best(self, side: Side) -> Level | None:
        """The best level of a side, or None when the side is empty."""
        price = self._prices[side].best()
        return None if price is None else self._levels[side][price]

    def levels(self, side: Side, depth: int | None = None) -> list[Level]:
        """The best ``depth`` levels held of a side (all with None), best first."""
        return [self._levels[side][p] for p in self._prices[side].best_first(depth)]

    def checksum(self) -> int:
        """The book checksum an L2 snapshot of these levels carries."""
        return l2_checksum(
            (side, lv.price, lv.qty, lv.order_count) for side in Side for lv in self.levels(side)
        )
