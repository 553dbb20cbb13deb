"""Tools the system tests share: waiting for a message, raw protocol sessions, frames."""

import socket
import struct
import time
from collections import deque
from typing import Any, TypeVar

from ringex_client import (
    Accepted,
    Client,
    FrameReader,
    Heartbeat,
    Login,
    LoginAccepted,
    Message,
    SessionParameters,
    decode_server,
    encode,
)

M = TypeVar("M", bound=Message)


def expect(client: Client, kind: type[M], timeout: float = 5.0, **fields: Any) -> M:
    """The next message of ``kind`` whose fields equal ``fields`` (others skipped)."""

    def match(m: Message) -> bool:
        return isinstance(m, kind) and all(getattr(m, k) == v for k, v in fields.items())

    found = client.wait_for(match, timeout)
    assert isinstance(found, kind)
    return found


def accepted_ids(messages: list[Message]) -> set[int]:
    """The client order ids of the Accepted messages among ``messages``."""
    return {m.client_order_id for m in messages if isinstance(m, Accepted)}


class RawSession:
    """A socket that speaks raw protocol bytes to the gateway."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.reader = FrameReader()
        self.inbox: deque[Message] = deque()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def login(self, username: str, password: str, next_seq: int = 0) -> Message:
        """Logs in; returns the answer (SessionParameters, which follows LoginAccepted,
        is kept in ``parameters``)."""
        self.send(encode(Login(username, password, next_seq)))
        answer = self.read()
        if isinstance(answer, LoginAccepted):
            parameters = self.read()
            assert isinstance(parameters, SessionParameters)
            self.parameters = parameters
        return answer

    def read(self, timeout: float = 5.0) -> Message:
        """The next message (heartbeats skipped)."""
        deadline = time.monotonic() + timeout
        while not self.inbox:
            if time.monotonic() > deadline:
                raise TimeoutError("no message")
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionResetError("closed")
            for body in self.reader.feed(data):
                m = decode_server(body)
                if not isinstance(m, Heartbeat):
                    self.inbox.append(m)
        return self.inbox.popleft()

    def read_until_closed(self, timeout: float = 5.0) -> list[Message]:
        """Every message until the gateway closes the connection."""
        out: list[Message] = list(self.inbox)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return out
            if not data:
                return out
            out.extend(decode_server(b) for b in self.reader.feed(data))
            out = [m for m in out if not isinstance(m, Heartbeat)]
        raise TimeoutError("connection not closed")

    def close(self) -> None:
        self.sock.close()


def frame(body: bytes) -> bytes:
    """A u16-prefixed frame around ``body``."""
    return struct.pack("<H", len(body)) + body
