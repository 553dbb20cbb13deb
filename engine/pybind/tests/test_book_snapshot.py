"""Snapshots of the state: books best first, top of book, open orders, instruments."""

from collections.abc import Callable

import pytest
from engine_harness import ALICE, BOB, INST, PlaceOrder

from ringex_engine import Engine, Side, TimeInForce


@pytest.fixture
def book_engine(engine: Engine, order: PlaceOrder) -> Engine:
    """Bids 990 (Alice 10 then Bob 20) and 985 (Alice 30); asks 1005 (Bob 10), 1010."""
    order(ALICE, 1, Side.BUY, 990, 10)
    order(BOB, 2, Side.BUY, 990, 20, TimeInForce.DAY)
    order(ALICE, 3, Side.BUY, 985, 30)
    order(BOB, 4, Side.SELL, 1010, 40)
    order(BOB, 5, Side.SELL, 1005, 10, post_only=True)
    return engine


def test_levels_are_best_first_and_orders_in_time_priority(book_engine: Engine) -> None:
    book = book_engine.book(INST)
    assert book.instrument == INST
    assert [(lv.price, lv.total_qty) for lv in book.bids] == [(990, 30), (985, 30)]
    assert [(lv.price, lv.total_qty) for lv in book.asks] == [(1005, 10), (1010, 40)]
    assert [(o.account, o.client_order_id, o.leaves) for o in book.bids[0].orders] == [
        (ALICE, 1, 10),
        (BOB, 2, 20),
    ]
    first = book.bids[0].orders[0]
    assert (first.order_id, first.instrument, first.side, first.price) == (1, INST, Side.BUY, 990)
    assert (first.time_in_force, first.post_only, first.filled) == (TimeInForce.GTC, False, 0)
    assert book.asks[0].orders[0].post_only


def test_depth_limits_the_levels_per_side(book_engine: Engine) -> None:
    book = book_engine.book(INST, depth=1)
    assert [lv.price for lv in book.bids] == [990]
    assert [lv.price for lv in book.asks] == [1005]
    assert book_engine.book(INST, 0).bids == ()


def test_top_of_book(book_engine: Engine, order: PlaceOrder) -> None:
    top = book_engine.top_of_book(INST)
    assert (top.bid, top.ask) == ((990, 30), (1005, 10))
    order(ALICE, 6, Side.BUY, 1005, 10)
    assert book_engine.top_of_book(INST).ask == (1010, 40)


def test_empty_book(engine: Engine) -> None:
    book = engine.book(INST)
    assert (book.bids, book.asks) == ((), ())
    top = engine.top_of_book(INST)
    assert (top.bid, top.ask) == (None, None)


def test_snapshot_does_not_change_as_the_engine_moves_on(
    book_engine: Engine, order: PlaceOrder
) -> None:
    book = book_engine.book(INST)
    order(ALICE, 6, Side.BUY, 1010, 50)
    assert [lv.price for lv in book.asks] == [1005, 1010]
    assert book_engine.book(INST).asks == ()


def test_open_orders_oldest_first_and_lookup(book_engine: Engine, order: PlaceOrder) -> None:
    assert [o.client_order_id for o in book_engine.open_orders(BOB)] == [2, 4, 5]
    found = book_engine.open_order(BOB, 4)
    assert found is not None
    assert (found.side, found.price, found.leaves) == (Side.SELL, 1010, 40)
    assert found == book_engine.open_orders(BOB)[1]
    order(ALICE, 6, Side.BUY, 1010, 50)
    assert book_engine.open_order(BOB, 4) is None
    assert book_engine.open_order(BOB, 404) is None


def test_positions_start_flat(book_engine: Engine) -> None:
    assert book_engine.position(ALICE, INST) == 0
    assert book_engine.position(ALICE, 12345) == 0


@pytest.mark.parametrize(
    "read",
    [
        lambda e: e.book(99),
        lambda e: e.top_of_book(99),
        lambda e: e.instrument_state(99),
        lambda e: e.open_orders(99),
        lambda e: e.position(99, INST),
    ],
)
def test_unknown_ids_raise_key_error(engine: Engine, read: Callable[[Engine], object]) -> None:
    with pytest.raises(KeyError, match="unknown"):
        read(engine)


def test_repr_reads_like_the_constructor(book_engine: Engine) -> None:
    assert repr(book_engine.top_of_book(INST)) == "TopOfBook(bid=(990, 30), ask=(1005, 10))"
    assert "Level(price=990, total_qty=30, orders=(RestingOrder(order_id=1," in repr(
        book_engine.book(INST)
    )
    assert "side=Side.BUY" in repr(book_engine.open_orders(ALICE)[0])
    assert repr(book_engine) == "Engine(last_seq=8, resting_orders=5)"
