"""Connecting and logging in one raw benchmark session, shared by every generator that
speaks the binary protocol directly: the login is answered (the future resolves), refused
(it fails with the gateway's reason), or the connection ends first (it fails at once)."""

import asyncio
from typing import cast

from ringex_client import FrameReader, Login, LoginAccepted, LoginRejected, decode_server, encode


class LoginProtocol(asyncio.Protocol):
    """An asyncio protocol whose first exchange is a live login (no replay)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._logged_in: asyncio.Future[None] | None = None
        self._login_frames = FrameReader()

    async def open(self, port: int, username: str, password: str) -> None:
        """Connects to the gateway on loopback and logs in."""
        loop = asyncio.get_running_loop()
        self._logged_in = loop.create_future()
        await loop.create_connection(lambda: self, "127.0.0.1", port)
        assert self.transport is not None
        self.transport.write(encode(Login(username, password, 0)))
        await self._logged_in

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keeps the transport."""
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        """Fails a login still waiting."""
        self._fail_login(ConnectionError("gateway closed during login"))

    def logging_in(self, data: bytes) -> bool:
        """True while the login is unanswered, when ``data`` goes to it."""
        if self._logged_in is None or self._logged_in.done():
            return False
        for body in self._login_frames.feed(data):
            answer = decode_server(body)
            if isinstance(answer, LoginAccepted):
                self._logged_in.set_result(None)
            elif isinstance(answer, LoginRejected):
                self._fail_login(ConnectionRefusedError(f"login refused: {answer.reason}"))
        return True

    def _fail_login(self, error: Exception) -> None:
        if self._logged_in is not None and not self._logged_in.done():
            self._logged_in.set_exception(error)
