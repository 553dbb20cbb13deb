"""Locust drives the real gateway for a few seconds with bench/locust/locustfile.py:
every kind of order round trip goes through, and none fails."""

import sys
from pathlib import Path

import pytest

from tests.system_processes import ROOT, ClientFactory, Gateway

sys.path.insert(0, str(ROOT / "bench" / "locust"))

from run_locust import run_locust

pytestmark = pytest.mark.timeout(60)


def test_locust_trades_through_the_gateway(
    gateway: Gateway, connect: ClientFactory, tmp_path: Path
) -> None:
    # `connect` cancels whatever the users left resting once the test is over.
    status, figures = run_locust(gateway.port, ["alice", "bob", "erin"], 3, 5, tmp_path)
    assert (status, figures["failures"]) == (0, 0), figures
    assert set(figures["by_request"]) == {"IOC buy", "rest", "cancel", "trade"}, figures
    assert all(f["requests"] > 0 for f in figures["by_request"].values()), figures
