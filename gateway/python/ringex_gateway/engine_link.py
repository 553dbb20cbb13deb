"""The engine link: one TCP connection to the engine daemon, kept up with back-off.

Bytes from the engine go to the native core, which routes the events; the link only
reports the engine's Welcome, Goodbye and decode errors. While the link is down the
core rejects new orders (EngineUnavailable) rather than queue them.
"""

import asyncio
import logging
import time
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from ringex_gateway.server import Gateway

log = logging.getLogger("ringex_gateway.engine_link")


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

    def __init__(self, gateway: "Gateway", host: str, port: int) -> None:
        self.gateway = gateway
        self.host = host
        self.port = port
        self.transport: asyncio.Transport | None = None
        self.up = False
        self.last_heard_ns = 0
        self._stopping = False

    def connected(self, transport: asyncio.Transport) -> None:
        """A new connection: the core forgets the old one; orders wait for Welcome."""
        self.transport = transport
        self.last_heard_ns = time.monotonic_ns()
        self.gateway.core.link_reset()

    def received(self, data: bytes) -> None:
        """Routes the engine's bytes through the core."""
        now = time.monotonic_ns()
        self.last_heard_ns = now
        welcome, goodbye, error = self.gateway.core.feed_engine(data, now)
        if welcome is not None:
            log.info("engine link up: engine at seq %d", welcome)
            self.up = True
            self.gateway.core.set_engine_up(True)
        if goodbye is not None:
            log.warning("engine said goodbye: reason %d detail %d", *goodbye)
            self.drop()
        elif error is not None:
            log.error("engine sent bytes that do not decode (error %d); reconnecting", error)
            self.drop()
        self.gateway.schedule_flush()

    def disconnected(self, exc: Exception | None) -> None:
        """The link is gone: orders are rejected until it is back."""
        if self.up:
            log.warning("engine link down: %s", exc or "closed")
        self.up = False
        self.transport = None
        self.gateway.core.set_engine_up(False)
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
            try:
                _, protocol = await loop.create_connection(
                    lambda: _LinkProtocol(self), self.host, self.port
                )
            except OSError as e:
                log.info(
                    "engine at %s:%d unreachable (%s); retry in %.2fs",
                    self.host,
                    self.port,
                    e,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, s.reconnect_max_ms / 1000)
                continue
            delay = s.reconnect_min_ms / 1000
            await protocol.lost

    def stop(self) -> None:
        """Stops reconnecting and closes the link."""
        self._stopping = True
        if self.transport is not None:
            self.transport.close()
