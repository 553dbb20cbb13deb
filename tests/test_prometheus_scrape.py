"""A real Prometheus server, configured from ops/prometheus/, scrapes the real gateway
while clients trade: its queries show the traffic and its rules endpoint shows every
alert rule loaded and evaluating."""

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ringex_client import Client, Executed, Rejected
from tests.session_tools import expect
from tests.system_processes import ROOT, ClientFactory, Gateway, free_port, stop, wait_for_port

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="prometheus not installed (Debian's prometheus package; `make setup` installs it)",
    ),
]

OPS = ROOT / "ops" / "prometheus"
P = 100_000


def get(url: str) -> Any:
    """The ``data`` of a Prometheus HTTP API answer."""
    with urllib.request.urlopen(url, timeout=5) as response:
        answer = json.load(response)
    assert answer["status"] == "success", answer
    return answer["data"]


def prometheus_config(targets: dict[str, str]) -> str:
    """ops/prometheus/prometheus.yml with each shipped target address replaced by the one
    given for it (a comma-separated list stands for several targets), scraping and
    evaluating every second."""
    text = (OPS / "prometheus.yml").read_text()
    for shipped, here in targets.items():
        assert f'"{shipped}"' in text, shipped
        text = text.replace(f'"{shipped}"', ", ".join(f'"{t}"' for t in here.split(",")))
    return re.sub(r"(scrape_interval|scrape_timeout|evaluation_interval): \w+", r"\1: 1s", text)


@contextmanager
def running_prometheus(workdir: Path, targets: dict[str, str]) -> Iterator[str]:
    """A Prometheus server with the shipped configuration and alert rules, scraping
    ``targets`` (see :func:`prometheus_config`); yields its base URL."""
    port = free_port()
    own = f"127.0.0.1:{port}"
    config = workdir / "prometheus.yml"
    config.write_text(prometheus_config({**targets, "127.0.0.1:9090": own}))
    shutil.copy(OPS / "alerts.yml", workdir / "alerts.yml")
    with (workdir / "prometheus.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address={own}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, proc)
        wait_ready(f"http://{own}")
        yield f"http://{own}"
    finally:
        stop(proc)


@pytest.fixture
def prometheus(gateway: Gateway, tmp_path: Path) -> Iterator[str]:
    """A Prometheus server scraping the gateway; yields its base URL."""
    with running_prometheus(
        tmp_path, {"127.0.0.1:9701": f"127.0.0.1:{gateway.metrics_port}"}
    ) as url:
        yield url


def wait_ready(base: str, timeout: float = 30.0) -> None:
    """Waits for /-/ready: Prometheus listens before its storage is open and answers
    503 to API calls until then."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/-/ready", timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            if error.code != 503 or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def query(base: str, promql: str) -> float | None:
    """The value of a query that returns at most one series (None if none)."""
    result = get(f"{base}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")["result"]
    assert len(result) <= 1, result
    return float(result[0]["value"][1]) if result else None


def wait_until(
    check: Callable[[], bool], clients: list[Client], what: str, timeout: float = 30.0
) -> None:
    """Polls ``check`` while the clients keep their sessions alive."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        for c in clients:
            c.poll(0.1)


def test_prometheus_scrapes_the_gateway_while_clients_trade(
    prometheus: str, connect: ClientFactory
) -> None:
    alice, bob = connect("alice"), connect("bob")
    clients = [alice, bob]
    messages_in = 'ringex_gateway_messages_in_total{job="ringex-gateway"}'
    wait_until(lambda: query(prometheus, messages_in) is not None, clients, "first scrape")
    before = query(prometheus, messages_in)
    assert before is not None

    trades = 5
    for _ in range(trades):
        sell = bob.sell(1, 1, P)
        buy = alice.buy(1, 1, P)
        expect(alice, Executed, client_order_id=buy)
        expect(bob, Executed, client_order_id=sell)
    expect(alice, Rejected, client_order_id=alice.buy(99, 1, P, check=False))

    def at_least(promql: str, floor: float) -> Callable[[], bool]:
        return lambda: (query(prometheus, promql) or 0) >= floor

    for promql, floor in (
        (messages_in, before + 2 * trades + 1),
        ('ringex_gateway_sessions{job="ringex-gateway"}', 2),
        ('ringex_gateway_engine_link_up{job="ringex-gateway"}', 1),
        ('up{job="ringex-gateway"}', 1),
        ('ringex_gateway_rejects_total{reason="unknown_instrument"}', 1),
        ("ringex_gateway_order_latency_seconds_count", 2 * trades + 1),
        ("histogram_quantile(0.99, ringex_gateway_order_latency_seconds_bucket)", 1e-9),
    ):
        wait_until(at_least(promql, floor), clients, f"{promql} >= {floor}")


def test_prometheus_loads_and_evaluates_every_alert_rule(prometheus: str) -> None:
    names = set(re.findall(r"- alert: (\w+)", (OPS / "alerts.yml").read_text()))
    assert len(names) >= 6

    def rules() -> dict[str, dict[str, Any]]:
        groups = get(f"{prometheus}/api/v1/rules?type=alert")["groups"]
        return {r["name"]: r for g in groups for r in g["rules"]}

    def all_evaluated() -> bool:
        loaded = rules()
        return bool(loaded) and all(r["health"] == "ok" for r in loaded.values())

    wait_until(all_evaluated, [], "every rule evaluated without error")
    loaded = rules()
    assert set(loaded) == names
    for healthy in ("RingexGatewayDown", "RingexEngineLinkDown"):
        assert loaded[healthy]["state"] == "inactive", loaded[healthy]
