"""The gateway's Prometheus endpoint exposes what operators alert on."""

import urllib.request

import pytest

from ringex_client import Rejected
from tests.session_tools import expect
from tests.system_processes import ClientFactory, Gateway

pytestmark = pytest.mark.timeout(30)


def test_metrics_endpoint(connect: ClientFactory, gateway: Gateway) -> None:
    alice = connect("alice")
    coid = alice.buy(99, 1, 1)
    expect(alice, Rejected, client_order_id=coid)
    alice.poll(0.6)  # the metrics snapshot refreshes on the gateway's timer
    text = (
        urllib.request.urlopen(f"http://127.0.0.1:{gateway.metrics_port}/metrics", timeout=5)
        .read()
        .decode()
    )
    for name in (
        "ringex_gateway_sessions ",
        "ringex_gateway_engine_link_up 1.0",
        "ringex_gateway_messages_in_total",
        "ringex_gateway_messages_out_total",
        'ringex_gateway_rejects_total{reason="unknown_instrument"}',
        "ringex_gateway_order_latency_seconds_bucket",
        "ringex_gateway_order_latency_seconds_count",
    ):
        assert name in text, name
