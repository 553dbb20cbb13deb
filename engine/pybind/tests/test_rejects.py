"""Well-formed commands the core refuses: a Rejected event, and no change of state."""

import pytest
from engine_harness import ALICE, BOB, INST, PlaceOrder

from ringex_engine import (
    AddAccount,
    AddInstrument,
    Cancel,
    Command,
    CommandKind,
    Engine,
    NewOrder,
    OrderType,
    Rejected,
    RejectReason,
    Replace,
    Side,
    TimeInForce,
)


def buy(price: int = 1000, qty: int = 10, **fields: object) -> NewOrder:
    args: dict[str, object] = {
        "account": ALICE,
        "instrument": INST,
        "client_order_id": 1,
        "side": Side.BUY,
        "price": price,
        "qty": qty,
    }
    args.update(fields)
    return NewOrder(**args)  # type: ignore[arg-type]


def state(engine: Engine) -> str:
    """What a refused command must leave alone, as one comparable string."""
    return repr(
        (
            engine.book(INST),
            engine.instrument_state(INST),
            [engine.open_orders(a) for a in (ALICE, BOB)],
            [engine.position(a, INST) for a in (ALICE, BOB)],
        )
    )


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (buy(instrument=99), RejectReason.UNKNOWN_INSTRUMENT),
        (buy(account=9), RejectReason.UNKNOWN_ACCOUNT),
        (buy(qty=0), RejectReason.INVALID_QUANTITY),
        (buy(price=0), RejectReason.INVALID_PRICE),
        (buy(price=1001), RejectReason.PRICE_NOT_ON_TICK),
        (buy(qty=15), RejectReason.QTY_NOT_ON_LOT),
        (buy(time_in_force=TimeInForce.IOC, post_only=True), RejectReason.INVALID_ORDER_TYPE),
        (
            buy(price=0, order_type=OrderType.MARKET, time_in_force=TimeInForce.GTC),
            RejectReason.INVALID_ORDER_TYPE,
        ),
        (buy(qty=1010), RejectReason.MAX_ORDER_QTY),
        (buy(price=1095, qty=1000), RejectReason.MAX_ORDER_NOTIONAL),
        (buy(price=1200), RejectReason.PRICE_BAND),
        (Cancel(account=ALICE, client_order_id=5), RejectReason.UNKNOWN_ORDER),
        (Cancel(account=9, client_order_id=5), RejectReason.UNKNOWN_ACCOUNT),
        (
            Replace(account=ALICE, orig_client_order_id=5, price=1000, qty=10),
            RejectReason.UNKNOWN_ORDER,
        ),
        (
            AddInstrument(instrument=INST, tick_size=1, lot_size=1, reference_price=1),
            RejectReason.DUPLICATE_INSTRUMENT,
        ),
        (
            AddInstrument(instrument=1000, tick_size=1, lot_size=1, reference_price=1),
            RejectReason.INVALID_INSTRUMENT,
        ),
        (
            AddInstrument(instrument=1, tick_size=3, lot_size=1, reference_price=10),
            RejectReason.INVALID_INSTRUMENT,
        ),
        (
            AddAccount(account=BOB, max_order_qty=1, max_order_notional=1, max_open_orders=1),
            RejectReason.DUPLICATE_ACCOUNT,
        ),
        (
            AddAccount(account=16, max_order_qty=1, max_order_notional=1, max_open_orders=1),
            RejectReason.INVALID_ACCOUNT,
        ),
    ],
)
def test_refused_command_is_rejected_and_changes_nothing(
    engine: Engine, order: PlaceOrder, command: Command, reason: RejectReason
) -> None:
    order(BOB, 1, Side.SELL, 1050, 10)
    before = state(engine)
    [rejected] = engine.submit(command)
    assert isinstance(rejected, Rejected)
    assert rejected.reason is reason
    # Only the sequence number moved on.
    assert state(engine) == before


def test_reject_echoes_the_command(engine: Engine) -> None:
    [rejected] = engine.submit(Cancel(account=BOB, client_order_id=77))
    assert isinstance(rejected, Rejected)
    assert rejected.command is CommandKind.CANCEL
    assert (rejected.account, rejected.client_order_id) == (BOB, 77)


def test_duplicate_and_finished_client_order_ids(engine: Engine, order: PlaceOrder) -> None:
    order(ALICE, 1, Side.BUY, 1000, 10)
    [duplicate] = order(ALICE, 1, Side.BUY, 995, 10)
    assert isinstance(duplicate, Rejected)
    assert duplicate.reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID
    engine.submit(Cancel(account=ALICE, client_order_id=1))
    [late] = engine.submit(Cancel(account=ALICE, client_order_id=1))
    assert isinstance(late, Rejected)
    assert late.reason is RejectReason.TOO_LATE_TO_CANCEL


def test_post_only_that_would_cross(order: PlaceOrder) -> None:
    order(ALICE, 1, Side.SELL, 1000, 10)
    [rejected] = order(BOB, 2, Side.BUY, 1000, 10, post_only=True)
    assert isinstance(rejected, Rejected)
    assert rejected.reason is RejectReason.POST_ONLY_WOULD_CROSS


def test_max_open_orders(order: PlaceOrder) -> None:
    for n in range(4):
        order(ALICE, n, Side.BUY, 950 + 5 * n, 10)
    [rejected] = order(ALICE, 9, Side.BUY, 900, 10)
    assert isinstance(rejected, Rejected)
    assert rejected.reason is RejectReason.MAX_OPEN_ORDERS


def test_sequence_gap_and_timestamp_regression(engine: Engine) -> None:
    seq, ts = engine.last_seq, engine.last_timestamp_ns
    before = engine.state_hash()
    command = Cancel(account=ALICE, client_order_id=1)
    [gap] = engine.apply(command, seq=seq + 2, timestamp_ns=ts)
    assert isinstance(gap, Rejected)
    assert gap.reason is RejectReason.SEQUENCE_GAP
    engine.apply(buy(), seq=seq + 1, timestamp_ns=1_000)
    [regressed] = engine.apply(command, seq=seq + 2, timestamp_ns=999)
    assert isinstance(regressed, Rejected)
    assert regressed.reason is RejectReason.TIMESTAMP_REGRESSED
    assert (engine.last_seq, engine.last_timestamp_ns) == (seq + 1, 1_000)
    assert engine.state_hash() != before
