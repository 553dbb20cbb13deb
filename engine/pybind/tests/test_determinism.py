"""The same command stream gives the same events and state hash, however it is fed."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ringex_engine import Command, Engine, Event
from ringex_engine.workload import Listing, random_orders, setup_commands

LISTINGS = (
    Listing(instrument=1, symbol="ONE", reference_price=10_000, tick_size=5),
    Listing(instrument=2, symbol="TWO", reference_price=300, lot_size=10, price_band_bps=0),
)
ACCOUNTS = (1, 2, 3)
PINNED_HASH = 367714912898582854


def workload(seed: int, count: int) -> list[Command]:
    return setup_commands(LISTINGS, ACCOUNTS) + list(random_orders(seed, count, LISTINGS, ACCOUNTS))


def stamped(commands: list[Command], step_ns: int = 1_000) -> list[tuple[int, int, Command]]:
    return [(n + 1, step_ns * n, c) for n, c in enumerate(commands)]


def one_by_one(batch: list[tuple[int, int, Command]]) -> tuple[Engine, list[list[Event]]]:
    engine = Engine()
    events = [engine.apply(c, seq=seq, timestamp_ns=ts) for seq, ts, c in batch]
    return engine, events


def test_two_engines_fed_the_same_stream_agree() -> None:
    batch = stamped(workload(seed=1, count=3000))
    first, first_events = one_by_one(batch)
    second, second_events = one_by_one(batch)
    assert first_events == second_events
    assert first.state_hash() == second.state_hash()
    assert first.last_seq == len(batch)
    first.check_invariants()


def test_a_different_stream_gives_a_different_hash() -> None:
    first, _ = one_by_one(stamped(workload(seed=1, count=500)))
    second, _ = one_by_one(stamped(workload(seed=2, count=500)))
    assert first.state_hash() != second.state_hash()


def test_the_hash_is_the_same_on_every_machine_and_run() -> None:
    # Pinned: if this changes, states recorded earlier (journals, backtests) no longer
    # compare equal to new runs. Change it only with the core's state hash definition or
    # a deliberate change of the core's rules (last: market orders need a price band).
    engine, _ = one_by_one(stamped(workload(seed=5, count=200)))
    assert engine.state_hash() == PINNED_HASH


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), count=st.integers(0, 400))
def test_batches_and_submit_equal_one_by_one(seed: int, count: int) -> None:
    commands = workload(seed, count)
    batch = stamped(commands)
    reference, expected = one_by_one(batch)
    reference.check_invariants()

    batched = Engine()
    assert batched.apply_many(batch) == expected
    assert batched.state_hash() == reference.state_hash()

    submitted = Engine()
    got = [submitted.submit(c, timestamp_ns=ts) for _, ts, c in batch]
    assert got == expected
    assert submitted.state_hash() == reference.state_hash()

    # Events carry no timestamps; the state does (the last one applied).
    at_once = Engine()
    assert at_once.submit_many(commands) == expected
    timeless, _ = one_by_one(stamped(commands, step_ns=0))
    assert at_once.state_hash() == timeless.state_hash()


def test_submit_reuses_the_last_timestamp_unless_given() -> None:
    engine = Engine()
    add_7, add_8, add_9 = setup_commands((), (7, 8, 9))
    engine.submit_many(setup_commands(LISTINGS, ()), timestamp_ns=500)
    assert (engine.last_seq, engine.last_timestamp_ns) == (2, 500)
    engine.submit(add_7)
    assert (engine.last_seq, engine.last_timestamp_ns) == (3, 500)
    engine.apply(add_8, seq=4, timestamp_ns=900)
    engine.submit(add_9)
    assert (engine.last_seq, engine.last_timestamp_ns) == (5, 900)
    # A refused stamp does not move the clock.
    engine.submit(add_9, timestamp_ns=100)
    assert (engine.last_seq, engine.last_timestamp_ns) == (5, 900)
