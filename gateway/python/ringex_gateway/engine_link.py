"""The engine link: one TCP connection to the engine daemon, kept up with back-off.

A replicated engine serves links only from its leader; the link follows the leader
across the configured nodes (:mod:`ringex_gateway.leader_follow`) and resumes on the new
leader from its last sequence number, so a failover is a relink like any other.

Every link opens with a Resume after the last engine sequence number the gateway has
seen, so the engine sends what happened while the link was down and account streams
have no holes. Bytes from the engine go to the native core, which routes the events;
the link only reports the engine's Welcome, Goodbye and decode errors. While the link
is down the core rejects new orders (EngineUnavailable) rather than queue them. An
engine whose Welcome is below what the gateway has seen lost acknowledged history: the
gateway refuses it, closes order entry (EngineBehind), raises the alarm and keeps
retrying until an engine that holds its history answers.
"""

import asyncio
import logging
import time
from typing import Protocol, cast

from ringex_gateway._native import (
    GOODBYE_AHEAD_OF_ENGINE,
    GOODBYE_HISTORY_UNAVAILABLE,
    GatewayCore,
    NotLeader,
)
from ringex_gateway.config import Settings
from ringex_gateway.leader_follow import LeaderFollower

log = logging.getLogger("ringex_gateway.engine_link")


class LinkHost(Protocol):
    """What the engine link needs of the gateway it serves."""

    @property
    def core(self) -> GatewayCore:
        """The native core: it routes the engine's bytes and keeps the link's standing."""

    @property
    def settings(self) -> Settings:
        """The gateway's settings."""

    def schedule_flush(self) -> None:
        """Writes what the core produced, soon."""

    def pause_sessions(self, paused: bool) -> None:
        """Back-pressure: stop (or resume) reading from clients."""


class _LinkProtocol(asyncio.Protocol):
    def __init__(self, link: "EngineLink") -> None:
        self.link = link
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        transport = cast(asyncio.Transport, transport)
        self.link.connected(transport)

    def data_received(self, data: bytes) -> None:
        self.link.received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.link.disconnected(exc)
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        self.link.gateway.pause_sessions(True)

    def resume_writing(self) -> None:
        self.link.gateway.pause_sessions(False)


class EngineLink:
    """Connects, reconnects with exponential back-off, heartbeats, and times out."""

    def __init__(self, gateway: LinkHost, nodes: LeaderFollower) -> None:
        self.gateway = gateway
        self.nodes = nodes
        self.transport: asyncio.Transport | None = None
        # Whether the current (or last) connection was welcomed and trusted.
        self.welcomed = False
        self.last_heard_ns = 0
        self._stopping = False
        # Logged once per regression, not once per retry.
        self._alarmed = False
        # The current connection answered NotLeader naming a node to try at once.
        self._redirected = False

    def connected(self, transport: asyncio.Transport) -> None:
        """A new connection: the core forgets the old one; orders wait for Welcome."""
        self.transport = transport
        self.welcomed = False
        self.last_heard_ns = time.monotonic_ns()
        self.gateway.core.link_reset()
        # The Resume goes out first, before any order.
        self.gateway.schedule_flush()

    def received(self, data: bytes) -> None:
        """Routes the engine's bytes through the core."""
        now = time.monotonic_ns()
        self.last_heard_ns = now
        report = self.gateway.core.feed_engine(data, now)
        goodbye = report.goodbye
        if report.refused:
            self._refuse()
        elif report.welcome_seq is not None:
            if self._alarmed:
                log.warning("engine is no longer behind this gateway: order entry reopens")
                self._alarmed = False
            if self.nodes.welcomed():
                log.warning("engine leader changed: now %s", self.nodes.target())
            log.info(
                "engine link up to %s: engine at seq %d", self.nodes.target(), report.welcome_seq
            )
            self.welcomed = True
        if report.refused:
            return
        if report.not_leader is not None:
            self._not_leader(report.not_leader)
        elif goodbye is not None and goodbye.reason == GOODBYE_HISTORY_UNAVAILABLE:
            log.error(
                "engine no longer holds the events after seq %d: relinking live; the "
                "events in between are missing from the streams (engine_seq_gaps)",
                self.gateway.core.last_engine_seq(),
            )
            self.drop()
        elif goodbye is not None and goodbye.reason == GOODBYE_AHEAD_OF_ENGINE:
            log.error("ALARM engine refused the resume: it is behind this gateway; retrying")
            self.drop()
        elif goodbye is not None:
            log.warning("engine said goodbye: reason %d detail %d", goodbye.reason, goodbye.detail)
            self.drop()
        elif report.error is not None:
            log.error("engine sent bytes that do not decode (error %d); reconnecting", report.error)
            self.drop()
        self.gateway.schedule_flush()

    def _not_leader(self, answer: NotLeader) -> None:
        was = self.nodes.target()
        self._redirected = self.nodes.not_leader(answer.leader_id)
        log.info(
            "%s is not the leader (term %d, leader %s); trying %s",
            was,
            answer.term,
            answer.leader_id or "unknown",
            self.nodes.target(),
        )
        self.drop()

    def stats(self) -> dict[str, int]:
        """The leader-following counters, for the metrics endpoint."""
        c = self.nodes.counters
        leader = self.nodes.leader()
        return {
            "engine_node": leader.node_id
            if self.gateway.core.engine_up() and leader is not None
            else 0,
            "engine_not_leader": c.not_leader,
            "engine_redirects": c.redirects,
            "engine_leader_changes": c.leader_changes,
        }

    def _refuse(self) -> None:
        regressed = self.gateway.core.engine_regressed()
        if not self._alarmed:
            engine_seq, seen = (regressed.engine_seq, regressed.seen_seq) if regressed else (0, 0)
            log.error(
                "ALARM engine went back in time: its last seq %d is below %d already seen "
                "by this gateway; refusing it, order entry closed (EngineBehind), retrying",
                engine_seq,
                seen,
            )
            self._alarmed = True
        self.drop()

    def disconnected(self, exc: Exception | None) -> None:
        """The link is gone: orders are rejected until it is back."""
        if self.gateway.core.engine_up():
            log.warning("engine link down: %s", exc or "closed")
        self.transport = None
        self.gateway.core.link_down()
        self.gateway.pause_sessions(False)

    def drop(self) -> None:
        """Closes the current connection; :meth:`run` reconnects."""
        if self.transport is not None:
            self.transport.abort()

    def write(self, data: bytes) -> None:
        """Sends bytes the core produced, if connected."""
        if self.transport is not None:
            self.transport.write(data)

    def heartbeat(self, now_ns: int) -> None:
        """Sends a heartbeat; drops a link the engine has been silent on for too long."""
        if self.transport is None:
            return
        timeout_ns = self.gateway.settings.engine_timeout_ms * 1_000_000
        if now_ns - self.last_heard_ns > timeout_ns:
            log.warning(
                "engine silent for %d ms; reconnecting", (now_ns - self.last_heard_ns) // 1e6
            )
            self.drop()
            return
        self.gateway.core.link_heartbeat()
        self.gateway.schedule_flush()

    async def run(self) -> None:
        """Keeps the link up until :meth:`stop`."""
        loop = asyncio.get_running_loop()
        s = self.gateway.settings
        delay = s.reconnect_min_ms / 1000
        while not self._stopping:
            node = self.nodes.target()
            self._redirected = False
            try:
                _, protocol = await loop.create_connection(
                    lambda: _LinkProtocol(self), node.host, node.port
                )
            except OSError as e:
                log.info("engine %s unreachable (%s); retry in %.2fs", node, e, delay)
                self.nodes.failed()
                await asyncio.sleep(delay)
                delay = min(delay * 2, s.reconnect_max_ms / 1000)
                continue
            await protocol.lost
            if self.welcomed:
                # A welcomed link dropped: relink at once, to the same leader or to
                # where its NotLeader pointed.
                delay = s.reconnect_min_ms / 1000
            elif not self._redirected:
                # Refused, gone before its Welcome, or not the leader with no usable
                # hint: back off as for a failed connect, then try the next node.
                if self.nodes.target() == node:
                    self.nodes.failed()
                await asyncio.sleep(delay)
                delay = min(delay * 2, s.reconnect_max_ms / 1000)

    def stop(self) -> None:
        """Stops reconnecting and closes the link."""
        self._stopping = True
        if self.transport is not None:
            self.transport.close()
