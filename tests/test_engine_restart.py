"""The engine restarted under a running gateway: orders are refused while it is away,
resting orders survive it, and clients carry on (and catch up by replay)."""

import time

import pytest

from ringex_client import Accepted, Client, Executed, Rejected, RejectReason
from tests.session_tools import expect
from tests.system_processes import PASSWORD, Engine, Gateway, wait_engine_up

pytestmark = pytest.mark.timeout(120)

P = 100_000


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_engine_restart_under_the_gateway(pair: tuple[Engine, Gateway], how: str) -> None:
    engine, gateway = pair
    alice = Client("127.0.0.1", gateway.port, "alice", PASSWORD)
    bob = Client("127.0.0.1", gateway.port, "bob", PASSWORD)
    alice.connect()
    bob.connect()
    resting = alice.sell(1, 5, P)
    expect(alice, Accepted, client_order_id=resting)
    engine.stop() if how == "stop" else engine.kill()
    # While the engine is away, orders are refused at once, not queued.
    deadline = time.monotonic() + 10
    while True:
        coid = bob.buy(1, 1, P - 10)
        m = expect(bob, Rejected | Accepted, client_order_id=coid)  # type: ignore[arg-type]
        if isinstance(m, Rejected) and m.reason == RejectReason.ENGINE_UNAVAILABLE:
            assert m.seq == 0
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    engine.start()
    wait_engine_up(gateway)
    # The resting order survived the restart: bob trades with it.
    buy = bob.buy(1, 2, P)
    assert expect(bob, Executed, client_order_id=buy, timeout=10).qty == 2
    fill = expect(alice, Executed, client_order_id=resting)
    assert fill.leaves == 3
    # A client that reconnects now catches up by replay.
    alice.drop_connection()
    second = bob.buy(1, 3, P)
    expect(bob, Executed, client_order_id=second)
    last = expect(alice, Executed, client_order_id=resting, timeout=10)
    assert last.leaves == 0
    assert alice.tracker.positions[1].qty == -5
    alice.close()
    bob.close()
