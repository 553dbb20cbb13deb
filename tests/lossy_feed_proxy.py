"""A TCP proxy of the test's own on loopback, between a client and the gateway, that
damages market data the way a lossy network path or a faulty relay would: it reads the
gateway's bytes frame by frame and, at random (seeded), drops, repeats or holds back
(and so reorders) feed messages — incrementals, snapshot entries and snapshot edges —
while every other frame passes intact. The client's bytes pass unchanged."""

import contextlib
import random
import socket
import threading

from ringex_client import FrameReader
from tests.session_tools import frame

# Type bytes of feed messages (SPEC.md): incrementals, snapshot begin, entries and end.
FEED_TYPES = frozenset(b"arxutslbove")


class LossyFeedProxy:
    """Listens on a free port of 127.0.0.1 and forwards to the gateway at ``port``."""

    def __init__(self, port: int, seed: int, loss: float = 0.03) -> None:
        self.target = ("127.0.0.1", port)
        self.rng = random.Random(seed)
        self.loss = loss
        self.damaged = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        self._socks: list[socket.socket] = []
        self._stopping = False
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def heal(self) -> None:
        """From now on every frame passes unchanged (held ones go out first)."""
        with self._lock:
            self.loss = 0.0

    def close(self) -> None:
        self._stopping = True
        for s in [self._listener, *self._socks]:
            s.close()
        for t in self._threads:
            t.join(5)

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            gateway = socket.create_connection(self.target)
            self._socks += [client, gateway]
            pumps = ((self._pass, client, gateway), (self._damage, gateway, client))
            for pump, src, dst in pumps:
                t = threading.Thread(target=pump, args=(src, dst), daemon=True)
                t.start()
                self._threads.append(t)

    def _pass(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _shut(dst)

    def _damage(self, src: socket.socket, dst: socket.socket) -> None:
        reader = FrameReader()
        held: list[bytes] = []
        try:
            while data := src.recv(65536):
                out = bytearray()
                for body in reader.feed(data):
                    out += self._carry(body, held)
                dst.sendall(out)
        except OSError:
            pass
        finally:
            _shut(dst)

    def _carry(self, body: bytes, held: list[bytes]) -> bytes:
        with self._lock:
            loss = self.loss
            roll = self.rng.random()
            release = self.rng.random() < 0.2
        out = b"".join(held) if loss == 0.0 else b""
        if loss == 0.0:
            held.clear()
        elif held and release:
            out += held.pop(0)
        if body[0] not in FEED_TYPES or roll >= 3 * loss:
            return out + frame(body)
        self.damaged += 1
        if roll < loss:
            return out  # dropped
        if roll < 2 * loss:
            return out + frame(body) * 2  # repeated
        held.append(frame(body))  # held back: goes out after later frames
        return out


def _shut(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
