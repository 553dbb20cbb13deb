"""The multicast feed's TCP retransmission server: each request (20 bytes: session,
sequence, count) gets one reply from the core's window of recent messages, or a status
saying why not (``protocol/SPEC.md``, "Multicast transport"). Bounded: a cap on
connections, an idle timeout, one request answered at a time per connection and the
next read only once the reply drained."""

import asyncio
import contextlib
import logging

from ringex_gateway._native import GatewayCore

log = logging.getLogger("ringex_gateway")

REQUEST_LEN = 20


class RetransmitServer:
    """Serves retransmission requests from ``core``'s multicast window."""

    def __init__(self, core: GatewayCore, max_connections: int, idle_timeout_s: float) -> None:
        self.core = core
        self.max_connections = max_connections
        self.idle_timeout_s = idle_timeout_s
        self.connections: set[asyncio.StreamWriter] = set()
        self.refused = 0
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listens; returns the address bound (port 0 picks one)."""
        self._server = await asyncio.start_server(self._serve, host, port, reuse_address=True)
        bound = self._server.sockets[0].getsockname()
        return str(bound[0]), int(bound[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self.connections) >= self.max_connections:
            self.refused += 1
            writer.close()
            return
        self.connections.add(writer)
        try:
            while True:
                request = await asyncio.wait_for(
                    reader.readexactly(REQUEST_LEN), self.idle_timeout_s
                )
                writer.write(self.core.multicast_retransmit(request))
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass  # the receiver left, or said nothing for too long
        finally:
            self.connections.discard(writer)
            writer.close()

    async def stop(self) -> None:
        """Stops listening and closes every connection."""
        if self._server is not None:
            self._server.close()
        for writer in list(self.connections):
            writer.close()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
