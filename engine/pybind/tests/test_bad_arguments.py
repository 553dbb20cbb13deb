"""Invalid input from Python raises a clear exception and never reaches the core."""

from collections.abc import Callable

import pytest
from engine_harness import ALICE, INST

from ringex_engine import (
    AddAccount,
    Cancel,
    Engine,
    MassCancel,
    NewOrder,
    SetHalted,
    Side,
    TimeInForce,
)

GOOD_ORDER: dict[str, object] = {
    "account": ALICE,
    "instrument": INST,
    "client_order_id": 1,
    "side": Side.BUY,
    "price": 1000,
    "qty": 10,
}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("account", "1", TypeError),
        ("account", 1.0, TypeError),
        ("account", None, TypeError),
        ("account", -1, OverflowError),
        ("account", 2**32, OverflowError),
        ("client_order_id", 2**64, OverflowError),
        ("price", 2**63, OverflowError),
        ("qty", -10, OverflowError),
        ("side", 3, ValueError),
        ("side", 0, ValueError),
        ("side", 2**80, ValueError),
        ("side", "BUY", TypeError),
        ("side", True, TypeError),
        ("order_type", 9, ValueError),
        ("time_in_force", -1, ValueError),
        ("post_only", 1, TypeError),
    ],
)
def test_bad_new_order_fields(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        NewOrder(**GOOD_ORDER | {field: value})  # type: ignore[arg-type]


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="7 is not a valid TimeInForce") as raised:
        NewOrder(**GOOD_ORDER | {"time_in_force": 7})  # type: ignore[arg-type]
    assert "while processing 'time_in_force'" in raised.value.__notes__


@pytest.mark.parametrize(
    "make",
    [
        lambda: NewOrder(account=1, instrument=1, client_order_id=1, side=Side.BUY),  # type: ignore[call-arg]
        lambda: NewOrder(1, 1, 1, Side.BUY, 10),  # type: ignore[call-arg]
        lambda: Cancel(account=1, client_order_id=1, price=3),  # type: ignore[call-arg]
        lambda: MassCancel(account=1, instrument="all"),  # type: ignore[arg-type]
        lambda: SetHalted(instrument=1, halted="yes"),  # type: ignore[arg-type]
    ],
)
def test_missing_positional_or_unknown_arguments(make: Callable[[], object]) -> None:
    with pytest.raises(TypeError):
        make()


def test_notional_limit_takes_big_ints_but_not_negative_ones() -> None:
    assert AddAccount(
        account=1, max_order_qty=1, max_order_notional=2**128 - 1, max_open_orders=1
    ).max_order_notional == (2**128 - 1)
    with pytest.raises(OverflowError):
        AddAccount(account=1, max_order_qty=1, max_order_notional=2**128, max_open_orders=1)
    with pytest.raises(OverflowError):
        AddAccount(account=1, max_order_qty=1, max_order_notional=-1, max_open_orders=1)


@pytest.mark.parametrize(
    "capacities",
    [
        {"max_orders": 0},
        {"max_orders": 2**24 + 1},
        {"max_instruments": 0},
        {"max_accounts": 0},
        {"max_orders": 100, "max_client_ids_per_day": 99},
        {"levels_per_side": 0},
    ],
)
def test_bad_capacities_raise_value_error(capacities: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Engine(**capacities)


def test_capacity_out_of_range_raises_overflow_error() -> None:
    with pytest.raises(OverflowError):
        Engine(max_orders=-1)


def test_apply_wants_a_command_and_keyword_stamps(engine: Engine) -> None:
    with pytest.raises(TypeError, match="expected a command"):
        engine.apply("Cancel", seq=engine.last_seq + 1, timestamp_ns=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        engine.apply(Cancel(account=1, client_order_id=1), 4, 0)  # type: ignore[call-arg]
    with pytest.raises(OverflowError):
        engine.apply(Cancel(account=1, client_order_id=1), seq=-1, timestamp_ns=0)
    with pytest.raises(OverflowError):
        engine.submit(Cancel(account=1, client_order_id=1), timestamp_ns=2**64)


def test_a_bad_item_in_a_batch_applies_nothing(engine: Engine) -> None:
    before = (engine.last_seq, engine.state_hash())
    good = Cancel(account=ALICE, client_order_id=1)
    with pytest.raises(TypeError):
        engine.apply_many([(before[0] + 1, 0, good), (before[0] + 2, 0, "oops")])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="length 3"):
        engine.apply_many([(before[0] + 1, good)])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        engine.submit_many([good, None])  # type: ignore[list-item]
    assert (engine.last_seq, engine.state_hash()) == before


def test_bad_read_arguments(engine: Engine) -> None:
    with pytest.raises(OverflowError):
        engine.book(-1)
    with pytest.raises(TypeError):
        engine.position(ALICE, "7")  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        engine.book(INST, depth=-1)


def test_enum_values_are_the_cores() -> None:
    assert [int(s) for s in Side] == [1, 2]
    assert [int(t) for t in TimeInForce] == [1, 2, 3, 4]
    # An enum of the wrong class passes when its value is valid (IntEnums are ints).
    assert NewOrder(**GOOD_ORDER | {"side": TimeInForce.GTC}).side is Side.BUY  # type: ignore[arg-type]
