"""Fixtures for the bindings' tests (see engine_harness)."""

import pytest
from engine_harness import PlaceOrder, order_placer, small_engine

from ringex_engine import Engine


@pytest.fixture
def engine() -> Engine:
    return small_engine()


@pytest.fixture
def order(engine: Engine) -> PlaceOrder:
    return order_placer(engine)
