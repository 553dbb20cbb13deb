"""The client order ids a gateway acknowledged survive its restart: reusing one is
refused by the gateway itself (unsequenced DuplicateClientOrderId), so it would not
execute twice even behind an engine that had forgotten the id."""

import time
from pathlib import Path

import pytest

from ringex_client import (
    Accepted,
    Client,
    CommandKind,
    LoginAccepted,
    MassCancel,
    MassCancelled,
    NewOrder,
    OrderType,
    Rejected,
    RejectReason,
    Side,
    TimeInForce,
    encode,
)
from tests.session_tools import RawSession, expect
from tests.system_processes import PASSWORD, Engine, Gateway, wait_engine_up

pytestmark = pytest.mark.timeout(90)

P = 100_000


def test_a_reused_client_order_id_is_refused_after_a_gateway_restart(
    engine: Engine, tmp_path: Path
) -> None:
    gateway = Gateway(tmp_path, engine.port, journal_dir=str(tmp_path / "journal"))
    gateway.start()
    raw: RawSession | None = None
    try:
        wait_engine_up(gateway)
        with Client("127.0.0.1", gateway.port, "bob", PASSWORD) as bob:
            coid = bob.sell(1, 1, P + 950)
            expect(bob, Accepted, client_order_id=coid)
        gateway.stop()
        gateway.start()
        wait_engine_up(gateway)
        raw = RawSession(gateway.port)
        assert isinstance(raw.login("bob", PASSWORD), LoginAccepted)
        again = NewOrder(coid, 1, Side.SELL, OrderType.LIMIT, TimeInForce.GTC, False, P + 951, 1)
        raw.send(encode(again))
        refused = raw.read()
        assert isinstance(refused, Rejected)
        assert (refused.seq, refused.command, refused.reason, refused.client_order_id) == (
            0, CommandKind.NEW_ORDER, RejectReason.DUPLICATE_CLIENT_ORDER_ID, coid,
        )  # fmt: skip
        # The gateway's own answer carries the gateway's Unix-epoch time.
        assert abs(refused.timestamp_ns - time.time_ns()) < 5_000_000_000
        raw.send(encode(MassCancel()))
        while not isinstance(raw.read(), MassCancelled):
            pass
    finally:
        if raw is not None:
            raw.close()
        gateway.stop()
