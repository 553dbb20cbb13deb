"""Graceful shutdown: SIGTERM gives every session a Goodbye (Shutdown) and the gateway
exits cleanly."""

from pathlib import Path

import pytest

from ringex_client import Goodbye, LoginAccepted, SessionEndReason
from tests.session_tools import RawSession
from tests.system_processes import PASSWORD, Engine, Gateway, wait_engine_up

pytestmark = pytest.mark.timeout(60)


def test_sigterm_says_goodbye_to_every_session(engine: Engine, tmp_path: Path) -> None:
    gateway = Gateway(tmp_path, engine.port)
    gateway.start()
    try:
        wait_engine_up(gateway)
        sessions = [RawSession(gateway.port) for _ in range(3)]
        for raw, user in zip(sessions, ("alice", "bob", "viewer"), strict=True):
            assert isinstance(raw.login(user, PASSWORD), LoginAccepted)
        gateway.stop()
        assert gateway.proc is not None
        assert gateway.proc.returncode == 0
        for raw in sessions:
            assert raw.read_until_closed()[-1:] == [Goodbye(SessionEndReason.SHUTDOWN, 0)]
    finally:
        gateway.stop()
