"""A flood of wrong logins from one address neither delays a correct login from another
nor stalls the sessions already trading: the flood is throttled (refused without
hashing, or cut before it is read), and what it cost shows in /metrics."""

import asyncio
import re
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from ringex_client import Accepted, Client
from tests.session_tools import expect
from tests.system_processes import PASSWORD, Engine, Gateway, wait_engine_up
from tests.wrong_logins import timed_login, wrong_logins

pytestmark = pytest.mark.timeout(120)

FLOOD = 1000
# The bound is 1 s; CI machines get generous slack for scheduling noise.
LOGIN_BOUND_S = 1.0
SLACK_S = 1.5


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def scrape(gateway: Gateway) -> str:
    url = f"http://127.0.0.1:{gateway.metrics_port}/metrics"
    return str(urllib.request.urlopen(url, timeout=5).read().decode())


def test_a_correct_login_is_answered_within_a_second_during_a_flood(
    engine: Engine, tmp_path: Path
) -> None:
    # Production's scrypt cost for the user table, so the flood's hashes are real work.
    # A low failure limit, so the address is surely throttled within the flood (most of
    # which is refused for overflowing the address's share of the check queue anyway).
    gateway = Gateway(tmp_path, engine.port, password_cost=1 << 14, login_failures_per_source=3)
    gateway.start()
    trader = Client("127.0.0.1", gateway.port, "erin", PASSWORD)
    try:
        wait_engine_up(gateway)
        trader.connect()
        reasons: Counter[str] = Counter()
        flood = threading.Thread(
            target=lambda: reasons.update(asyncio.run(wrong_logins(gateway.port, FLOOD)))
        )
        flood.start()
        login_times = []
        orders = 0
        throttled_sources = 0.0
        while flood.is_alive():
            login_times.append(timed_login(gateway.port, "127.0.0.2", "bob", PASSWORD))
            coid = trader.sell(1, 1, 105_000 + orders)
            expect(trader, Accepted, client_order_id=coid, timeout=5)
            orders += 1
            gauge = metric(scrape(gateway), 'ringex_gateway_login_throttled{kind="source"}')
            throttled_sources = max(throttled_sources, gauge)
        flood.join(60)
        assert sum(reasons.values()) == FLOOD
        assert set(reasons) <= {"NOT_AUTHORIZED", "THROTTLED", "cut"}, reasons
        assert reasons["THROTTLED"] + reasons["cut"] > FLOOD // 2, reasons
        assert login_times, "the flood ended before a login was tried"
        assert max(login_times) < LOGIN_BOUND_S + SLACK_S, login_times
        assert orders >= 1
        time.sleep(0.6)  # the gateway refreshes /metrics about every quarter second
        text = scrape(gateway)
        failures = 'ringex_gateway_login_failures_total{reason="%s"}'
        assert metric(text, failures % "not_authorized") >= 1
        refused_unchecked = metric(text, failures % "throttled") + metric(text, failures % "busy")
        assert refused_unchecked == reasons["THROTTLED"]
        assert metric(text, "ringex_gateway_login_connections_cut_total") == reasons["cut"]
        assert throttled_sources >= 1
        assert metric(text, "ringex_gateway_logins_total") >= len(login_times)
        trader.mass_cancel()
        trader.poll(0.2)
        assert gateway.alive()
    finally:
        trader.close()
        gateway.stop()
