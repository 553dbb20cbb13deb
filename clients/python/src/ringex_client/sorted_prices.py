"""The prices of one side of a book kept sorted, best first on request, so the best
price is found without sorting and levels are walked in order."""

import bisect

from ringex_client.enums import Side


class SortedPrices:
    """The prices of one side, ascending inside; ``best_first`` walks them best first
    (highest for bids, lowest for asks)."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self._prices: list[int] = []

    def add(self, price: int) -> None:
        """Adds a price not yet held."""
        bisect.insort(self._prices, price)

    def remove(self, price: int) -> None:
        """Removes a price that is held."""
        at = bisect.bisect_left(self._prices, price)
        assert self._prices[at] == price, "removing a price not held"
        del self._prices[at]

    def best(self) -> int | None:
        """The best price, or None for an empty side."""
        if not self._prices:
            return None
        return self._prices[-1] if self.side == Side.BUY else self._prices[0]

    def best_first(self, depth: int | None = None) -> list[int]:
        """Up to ``depth`` prices (all with None), best first."""
        n = len(self._prices) if depth is None else min(depth, len(self._prices))
        if self.side == Side.BUY:
            return self._prices[len(self._prices) - n :][::-1]
        return self._prices[:n]

    def __len__(self) -> int:
        return len(self._prices)
