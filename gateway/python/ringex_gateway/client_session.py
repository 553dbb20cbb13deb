"""One client connection: a thin asyncio protocol. Every byte goes straight to the
gateway's native core; this class only owns the transport and its flow control."""

import asyncio
from typing import cast

from ringex_gateway.gateway_session import SessionHost


class ClientSession(asyncio.Protocol):
    """The transport side of a session (a :class:`GatewaySession`); its protocol state
    lives in the native core."""

    def __init__(self, gateway: SessionHost, sid: int) -> None:
        self.gateway = gateway
        self.sid = sid
        self.transport: asyncio.Transport | None = None
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Registers the session with the gateway (which may refuse it at once)."""
        # uvloop's transports implement asyncio.Transport without subclassing it.
        transport = cast(asyncio.Transport, transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=self.gateway.settings.write_buffer_bytes)
        self.gateway.session_opened(self)

    def data_received(self, data: bytes) -> None:
        """Hands a batch of bytes to the core."""
        if not self.closing:
            self.gateway.session_data(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forgets the session."""
        self.gateway.session_lost(self)

    def pause_writing(self) -> None:
        """The write buffer is full: the core holds this session's messages back."""
        self.gateway.session_paused(self, True)

    def resume_writing(self) -> None:
        """The write buffer drained: the core may send again."""
        self.gateway.session_paused(self, False)

    def source(self) -> str:
        """The peer's address ("" if unknown)."""
        peer = self.transport.get_extra_info("peername") if self.transport else None
        return str(peer[0]) if peer else ""

    def abort(self) -> None:
        """Drops the connection at once."""
        if self.transport is not None:
            self.transport.abort()

    def writer_socket(self) -> int | None:
        """The socket's descriptor once every byte written here has left the transport
        (the writer's bytes must follow them); this class reads it on, and closes its own
        descriptor, the writer a duplicate of its own."""
        if self.transport is None or self.closing or self.transport.get_write_buffer_size():
            return None
        sock = self.transport.get_extra_info("socket")
        return None if sock is None else int(sock.fileno())

    def pause_reading(self, paused: bool) -> None:
        """Stops (or resumes) reading from the peer, unless the session is closing."""
        if self.transport is None or self.closing:
            return
        if paused:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    def is_open(self) -> bool:
        """Whether the connection is still open and not closing."""
        return self.transport is not None and not self.transport.is_closing()

    def write(self, data: bytes) -> None:
        """Queues bytes on the transport."""
        if self.transport is not None and not self.closing:
            self.transport.write(data)

    def close_with(self, last: bytes, abort_after: float) -> None:
        """Writes ``last`` (a Goodbye or LoginRejected), then closes; a peer that does not
        read it within ``abort_after`` seconds is cut off."""
        if self.transport is None or self.closing:
            return
        if last:
            self.transport.write(last)
        self.closing = True
        self.transport.pause_reading()
        self.transport.close()
        transport = self.transport
        asyncio.get_running_loop().call_later(abort_after, transport.abort)
