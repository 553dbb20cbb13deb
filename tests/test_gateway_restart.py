"""The gateway restarted with its stream journal: streams come back with the same epoch
and numbering, so clients reconnect and lose nothing and see nothing twice."""

from pathlib import Path

import pytest

from ringex_client import Accepted, Client, Executed, Message
from tests.session_tools import expect
from tests.system_processes import PASSWORD, Engine, Gateway, wait_engine_up

pytestmark = pytest.mark.timeout(90)

P = 100_000


def test_streams_survive_a_gateway_restart(engine: Engine, tmp_path: Path) -> None:
    gateway = Gateway(tmp_path, engine.port, journal_dir=str(tmp_path / "streams"))
    gateway.start()
    seen: list[Message] = []
    alice = Client("127.0.0.1", gateway.port, "alice", PASSWORD, on_message=seen.append)
    bob = Client("127.0.0.1", gateway.port, "bob", PASSWORD)
    try:
        wait_engine_up(gateway)
        epoch = alice.connect().epoch
        bob.connect()
        ids = [alice.sell(1, 1, P + 700 + i) for i in range(5)]
        expect(alice, Accepted, client_order_id=ids[-1])
        gateway.stop()
        gateway.start()
        wait_engine_up(gateway)
        # Alice reconnects by herself and carries on from where she was.
        bob_buy = bob.buy(1, 2, P + 701)
        expect(bob, Executed, client_order_id=bob_buy, timeout=15)
        expect(alice, Executed, client_order_id=ids[1], timeout=15)
        assert alice.protocol.epoch == epoch
        seqs = [m.seq for m in seen if getattr(m, "seq", 0)]  # type: ignore[attr-defined]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert alice.protocol.gaps == 0
        # A new client asking for everything gets the history from before the restart.
        with Client("127.0.0.1", gateway.port, "alice", PASSWORD, replay_from_start=True) as fresh:
            first = expect(fresh, Accepted, client_order_id=ids[0])
            assert first.seq == seqs[0]
        alice.mass_cancel()
        alice.poll(0.2)
    finally:
        alice.close()
        bob.close()
        gateway.stop()
