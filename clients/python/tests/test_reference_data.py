"""Reference data and session parameters in the session state machine, and the local
order checks, without a socket: each check gives the reason the engine would."""

import pytest

from ringex_client import (
    ALL_INSTRUMENTS,
    ClientProtocol,
    DefinitionUpdate,
    FrameReader,
    InstrumentDefinition,
    InstrumentRequest,
    InstrumentsEnd,
    InstrumentState,
    LoginAccepted,
    NewOrder,
    OrderType,
    RejectReason,
    Replace,
    Role,
    SessionParameters,
    Side,
    TimeInForce,
    check_new_order,
    check_replace,
    decode_client,
    encode,
)
from ringex_client.session_timers import SessionTimers

pytestmark = pytest.mark.timeout(10)

QTY_MAX = 1 << 38


def definition(
    seq: int = 0,
    state: InstrumentState = InstrumentState.TRADING,
    update: DefinitionUpdate = DefinitionUpdate.CURRENT,
    band_bps: int = 500,
) -> InstrumentDefinition:
    return InstrumentDefinition(
        seq, 1, 2, "XYZ", 5, 10, 10, QTY_MAX - QTY_MAX % 10, 1_000, band_bps, state, update
    )


def order(
    price: int,
    qty: int,
    order_type: OrderType = OrderType.LIMIT,
    tif: TimeInForce = TimeInForce.GTC,
    post_only: bool = False,
    instrument: int = 2,
) -> NewOrder:
    return NewOrder(1, instrument, Side.BUY, order_type, tif, post_only, price, qty)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (order(1_000, 10), None),
        (order(1_000, 10, instrument=3), RejectReason.UNKNOWN_INSTRUMENT),
        (order(1_000, 0), RejectReason.INVALID_QUANTITY),
        (order(1_000, QTY_MAX + 10), RejectReason.INVALID_QUANTITY),
        # Above max_qty (the last lot below 2^38) but not above 2^38: off the lot.
        (order(1_000, QTY_MAX - QTY_MAX % 10 + 3), RejectReason.QTY_NOT_ON_LOT),
        (order(1_000, QTY_MAX + 1), RejectReason.INVALID_QUANTITY),
        (order(1_000, 15), RejectReason.QTY_NOT_ON_LOT),
        (order(0, 10), RejectReason.INVALID_PRICE),
        (order((1 << 52) + 5, 10), RejectReason.INVALID_PRICE),
        (order(1_001, 10), RejectReason.PRICE_NOT_ON_TICK),
        (order(1_000, 10, tif=TimeInForce.IOC, post_only=True), RejectReason.INVALID_ORDER_TYPE),
        (order(0, 10, OrderType.MARKET, TimeInForce.IOC), None),
        (order(5, 10, OrderType.MARKET, TimeInForce.IOC), RejectReason.INVALID_PRICE),
        (order(0, 10, OrderType.MARKET, TimeInForce.GTC), RejectReason.INVALID_ORDER_TYPE),
        (order(0, 15, OrderType.MARKET, TimeInForce.FOK), RejectReason.QTY_NOT_ON_LOT),
    ],
)
def test_local_checks_give_the_engines_reasons(
    message: NewOrder, reason: RejectReason | None
) -> None:
    assert check_new_order({2: definition()}, message) == reason


def test_halted_and_bandless_instruments_refuse_what_the_engine_refuses() -> None:
    halted = {2: definition(state=InstrumentState.HALTED)}
    assert check_new_order(halted, order(1_000, 10)) == RejectReason.INSTRUMENT_HALTED
    bandless = {2: definition(band_bps=0)}
    market = order(0, 10, OrderType.MARKET, TimeInForce.IOC)
    assert check_new_order(bandless, market) == RejectReason.INVALID_ORDER_TYPE


@pytest.mark.parametrize(
    ("price", "qty", "reason"),
    [
        (1_005, 20, None),
        (1_005, 0, RejectReason.INVALID_QUANTITY),
        (1_005, 25, RejectReason.QTY_NOT_ON_LOT),
        (-5, 20, RejectReason.INVALID_PRICE),
        (1_003, 20, RejectReason.PRICE_NOT_ON_TICK),
    ],
)
def test_a_replace_is_checked_like_the_engine_checks_it(
    price: int, qty: int, reason: RejectReason | None
) -> None:
    assert check_replace(definition(), Replace(1, 2, price, qty)) == reason
    halted = definition(state=InstrumentState.HALTED)
    assert check_replace(halted, Replace(1, 2, price, qty)) == RejectReason.INSTRUMENT_HALTED


def test_the_protocol_keeps_parameters_and_current_definitions() -> None:
    p = ClientProtocol("u", "p", replay_from_start=True)
    p.start()
    params = SessionParameters(250, 4000, 1000, 3000, 1000, 50, 10, 100, 4096)
    p.receive(encode(LoginAccepted(7, Role.TRADER, 1, 1, 2)) + encode(params))
    # The request for every definition goes out once the replay is done.
    assert p.take_outgoing() == b""
    listed = definition(seq=1, update=DefinitionUpdate.LISTED)
    p.receive(encode(listed))
    (request,) = [decode_client(b) for b in FrameReader().feed(p.take_outgoing())]
    assert request == InstrumentRequest(ALL_INSTRUMENTS)
    assert p.parameters == params
    assert not p.instruments_loaded
    p.receive(encode(definition()) + encode(InstrumentsEnd(ALL_INSTRUMENTS, 1)))
    assert p.instruments_loaded
    halted = definition(seq=2, state=InstrumentState.HALTED, update=DefinitionUpdate.HALTED)
    p.receive(encode(halted))
    assert p.instruments[2] == halted
    assert p.next_seq == 3


class _Timers(SessionTimers):
    def __init__(self, heartbeat_s: float | None, timeout_s: float | None) -> None:
        self.protocol = ClientProtocol("u", "p")
        self._heartbeat_s_chosen = heartbeat_s
        self._timeout_s_chosen = timeout_s


def test_timers_follow_the_gateway_unless_chosen() -> None:
    timers = _Timers(None, None)
    assert (timers.heartbeat_s, timers.timeout_s) == (1.0, 10.0)
    timers.protocol.parameters = SessionParameters(250, 4000, 1000, 3000, 1000, 50, 10, 100, 4096)
    assert (timers.heartbeat_s, timers.timeout_s) == (0.25, 4.0)
    assert (_Timers(2.0, 30.0).heartbeat_s, _Timers(2.0, 30.0).timeout_s) == (2.0, 30.0)
