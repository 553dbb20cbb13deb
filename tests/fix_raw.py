"""A hand-driven FIX connection for system tests: what QuickFIX would never send, or a
peer that stops reading."""

import socket
import time

from ringex_gateway._native import FixBroken, FixFramer, FixMessage, encode_fix
from tests.fix_initiator import Fields
from tests.fix_venue import NOW
from tests.system_processes import PASSWORD


class RawFix:
    """A hand-driven FIX connection for what QuickFIX would never send."""

    def __init__(self, port: int, sender: str, receive_buffer_bytes: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer_bytes:
            # Before connecting, so the window it offers stays small.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer_bytes)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.sender = sender
        self.seq = 1
        self.framer = FixFramer(1 << 16)
        self.pending: list[Fields] = []

    def message(self, msg_type: str, *body: tuple[int, str], seq: int = 0) -> bytes:
        """A message numbered ``seq`` (else the next number)."""
        if not seq:
            seq, self.seq = self.seq, self.seq + 1
        head = [(35, msg_type), (49, self.sender), (56, "RINGEX"), (34, str(seq)), (52, NOW)]
        return encode_fix(head + list(body))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self, timeout: float = 10.0) -> Fields | None:
        """The next message, or None once the gateway closed the connection."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            data = self.sock.recv(65536)
            if not data:
                return None
            for item in self.framer.feed(data):
                assert isinstance(item, FixMessage)
                self.pending.append(item.fields)
        return self.pending.pop(0)

    def read_all(self, quiet_s: float = 1.0, timeout: float = 30.0) -> tuple[list[Fields], bool]:
        """Everything received until nothing came for ``quiet_s``, and whether the
        gateway closed the connection. Messages with repeating groups (market data) are
        not parsed here: they read as their MsgType alone."""
        got: list[Fields] = []
        deadline = time.monotonic() + timeout
        self.sock.settimeout(quiet_s)
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                return got, False
            if not data:
                return got, True
            for item in self.framer.feed(data):
                assert not isinstance(item, FixBroken)
                got.append(item.fields if isinstance(item, FixMessage) else {35: item.msg_type})
        raise TimeoutError("the connection never went quiet")

    def logon(self, username: str) -> None:
        self.send(
            self.message("A", (98, "0"), (108, "30"), (141, "Y"), (553, username), (554, PASSWORD))
        )
        assert (self.receive() or {}).get(35) == "A"

    def close(self) -> None:
        self.sock.close()
