"""What a local book hands out: a price level and a resting order, as plain tuples."""

from typing import NamedTuple


class Level(NamedTuple):
    """One price level: its price, total displayed quantity and number of orders."""

    price: int
    qty: int
    order_count: int


class RestingOrder(NamedTuple):
    """One resting order in a level's queue (no account: the feed carries none)."""

    order_id: int
    qty: int


class BookInconsistentError(ValueError):
    """An update the book cannot apply (an unknown order or level, a level twice): the
    book no longer matches the exchange's and must be loaded again."""
