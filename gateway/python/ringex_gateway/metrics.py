"""Prometheus metrics: a collector over the native core's counters, served over HTTP.

The core lives on the event loop's thread, so the loop copies its counters into a
snapshot (:meth:`GatewayMetrics.refresh`) and the HTTP thread only reads snapshots.
"""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ringex_client.enums import RejectReason, SessionEndReason
from ringex_gateway._native import latency_bounds_ns

_BOUNDS_S = [b / 1e9 for b in latency_bounds_ns()]


@dataclass(frozen=True)
class LoginStats:
    """The login path's counters, kept by the gateway outside the native core."""

    accepted: int = 0
    #: Refused logins by reason: the LoginRejected reason in lower case, or "busy" for
    #: a Throttled refusal because the check queue was full.
    failures: dict[str, int] = field(default_factory=dict)
    refused_sources: int = 0
    refused_users: int = 0
    waiting: int = 0
    #: Connections cut at once: their address had too many awaiting their login.
    connections_cut: int = 0


class GatewayMetrics(Collector):
    """Exposes the latest snapshot of the gateway's counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[str, Any] = {}
        self._connections = 0
        self._logins = LoginStats()

    def refresh(self, stats: dict[str, Any], connections: int) -> None:
        """Called on the event loop: stores a copy of the core's counters."""
        with self._lock:
            self._stats = stats
            self._connections = connections

    def refresh_logins(self, logins: LoginStats) -> None:
        """Called on the event loop: stores the login path's counters."""
        with self._lock:
            self._logins = logins

    def collect(self) -> Iterator[Metric]:
        """Called by the HTTP thread on every scrape."""
        with self._lock:
            s = self._stats
            connections = self._connections
            logins = self._logins
        if not s:
            return
        yield from _login_metrics(logins)
        yield GaugeMetricFamily(
            "ringex_gateway_sessions", "Client sessions open (logged in or not).", s["sessions"]
        )
        yield GaugeMetricFamily(
            "ringex_gateway_connections", "Client connections open.", connections
        )
        yield GaugeMetricFamily(
            "ringex_gateway_engine_link_up",
            "1 while the engine link is up and welcomed.",
            1 if s["engine_up"] else 0,
        )
        yield GaugeMetricFamily(
            "ringex_gateway_engine_last_seq",
            "Last engine sequence number this gateway has seen.",
            s["last_engine_seq"],
        )
        yield GaugeMetricFamily(
            "ringex_gateway_engine_node",
            "Node id of the engine (the cluster's leader) the link is up to; 0 while down.",
            s["engine_node"],
        )
        yield GaugeMetricFamily(
            "ringex_gateway_feeds_stopped",
            "1 once the market data feeds stopped (history not seen whole, or refused).",
            1 if s["feeds_stopped"] else 0,
        )
        yield GaugeMetricFamily(
            "ringex_gateway_engine_orders_in_doubt",
            "Orders past the answer bound still waiting for the engine to show their fate: "
            "its clock on the link, or after a relink its history up to the Welcome.",
            s["engine_orders_in_doubt"],
        )
        yield GaugeMetricFamily(
            "ringex_gateway_engine_regressed",
            "1 while the engine is behind what this gateway has seen (order entry closed).",
            1 if s["engine_regressed"] else 0,
        )
        for key, text in (
            ("messages_in", "Client messages received."),
            ("messages_out", "Server messages sent to clients."),
            ("engine_inputs", "Inputs forwarded to the engine."),
            ("engine_events", "Engine events received."),
            ("engine_seq_gaps", "Engine sequence numbers never seen (link outages)."),
            (
                "acked_ids_dropped",
                "Acknowledged client order ids not remembered: the "
                "acked-id set was full (acked_ids_max).",
            ),
            ("engine_answer_timeouts", "Orders answered EngineUnavailable at the answer bound."),
            ("engine_expired", "Orders the engine dropped unsequenced, past their deadline."),
            ("engine_late_answers", "Orders answered at the bound whose events came later."),
            ("engine_regressions", "Engine links refused: the engine was behind this gateway."),
            ("engine_not_leader", "NotLeader answers: an engine node that is not the leader."),
            ("engine_redirects", "NotLeader hints followed at once to the named leader."),
            (
                "engine_leader_changes",
                "Links welcomed by a different engine node than before (failovers).",
            ),
            ("feed_messages_out", "Market data feed messages sent (incrementals, snapshots)."),
            ("feed_snapshots", "Feed snapshots sent (subscribes, conflations, resends)."),
            ("feed_resends", "ResendRequests answered from the resend window."),
            ("feed_conflations", "Feed backlogs over feed_backlog_bytes cut to snapshots."),
            ("feed_rejects", "Feed requests refused (FeedRejected)."),
        ):
            yield CounterMetricFamily(f"ringex_gateway_{key}", text, value=s[key])
        for key, text in _MULTICAST_COUNTERS:
            if key in s:
                yield CounterMetricFamily(f"ringex_gateway_{key}", text, value=s[key])
        yield GaugeMetricFamily(
            "ringex_gateway_acked_ids",
            "Client order ids acknowledged today that the gateway refuses to see reused.",
            s["acked_ids"],
        )
        rejects = CounterMetricFamily(
            "ringex_gateway_rejects", "Order rejects sent, by reason.", labels=["reason"]
        )
        for code, count in sorted(s["rejects"].items()):
            rejects.add_metric([RejectReason(code).name.lower()], count)
        yield rejects
        ends = CounterMetricFamily(
            "ringex_gateway_session_ends", "Sessions ended by the gateway, by reason.",
            labels=["reason"],
        )  # fmt: skip
        for code, count in sorted(s["session_ends"].items()):
            ends.add_metric([SessionEndReason(code).name.lower()], count)
        yield ends
        cumulative = 0
        buckets: list[tuple[str, float]] = []
        for bound, count in zip([*_BOUNDS_S, float("inf")], s["latency_buckets"], strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        yield HistogramMetricFamily(
            "ringex_gateway_order_latency_seconds",
            "From an order arriving at the gateway to its engine events arriving.",
            buckets=buckets,
            sum_value=s["latency_sum_ns"] / 1e9,
        )


# Present only when the gateway publishes multicast.
_MULTICAST_COUNTERS = (
    ("multicast_packets", "Multicast packets sent (heartbeats and the end not counted)."),
    ("multicast_messages", "L3 messages numbered on the multicast stream."),
    ("multicast_packets_dropped", "Multicast packets dropped: more than a batch's queue."),
    ("multicast_send_dropped", "Multicast packets the socket did not take at once."),
    ("multicast_retransmit_requests", "Retransmission requests answered."),
    ("multicast_retransmit_messages", "Messages sent again by the retransmission server."),
    ("multicast_retransmit_too_old", "Retransmission requests older than the window."),
)


def _login_metrics(logins: LoginStats) -> Iterator[Metric]:
    yield CounterMetricFamily("ringex_gateway_logins", "Logins accepted.", value=logins.accepted)
    failures = CounterMetricFamily(
        "ringex_gateway_login_failures", "Logins refused, by reason.", labels=["reason"]
    )
    for reason, count in sorted(logins.failures.items()):
        failures.add_metric([reason], count)
    yield failures
    throttled = GaugeMetricFamily(
        "ringex_gateway_login_throttled",
        "Source addresses and usernames whose logins are refused unchecked right now.",
        labels=["kind"],
    )
    throttled.add_metric(["source"], logins.refused_sources)
    throttled.add_metric(["user"], logins.refused_users)
    yield throttled
    yield CounterMetricFamily(
        "ringex_gateway_login_connections_cut",
        "Connections cut before reading: their address had login_pending_per_source "
        "connections awaiting their login's answer.",
        value=logins.connections_cut,
    )
    yield GaugeMetricFamily(
        "ringex_gateway_login_checks_waiting",
        "Password checks waiting for a worker.",
        logins.waiting,
    )


def serve_metrics(metrics: GatewayMetrics, host: str, port: int) -> tuple[Any, int]:
    """Starts the /metrics HTTP server in a thread; returns the server and its port."""
    registry = CollectorRegistry()
    registry.register(metrics)
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server, int(server.server_address[1])
