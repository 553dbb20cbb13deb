"""A TCP proxy of the tests' own between a gateway and an engine node, on loopback, that
can cut the link (a partition: connections reset and new ones refused), or stall one
direction (bytes held, as a one-way network fault), and then heal.

Threads, one per direction per connection, and a bounded number of connections: the
link it carries is a gateway's engine link, one connection at a time.
"""

import contextlib
import socket
import struct
import threading

#: Connections held at once; more are refused (a gateway has one engine link).
CONNECTIONS_MAX = 8
_CHUNK = 65536


class LinkProxy:
    """Listens on a free port of 127.0.0.1 and forwards to ``target_host:target_port``."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._conns: list[tuple[socket.socket, socket.socket]] = []
        self._cut = False
        # Directions whose bytes are held: "to_engine", "to_gateway".
        self._stalled: set[str] = set()
        self._stalled_changed = threading.Condition(self._lock)
        self._stopping = False
        self._thread = threading.Thread(target=self._accept, name="link-proxy", daemon=True)
        self._thread.start()

    def cut(self) -> None:
        """Partition: resets every connection and refuses new ones until :meth:`heal`."""
        with self._lock:
            self._cut = True
            conns, self._conns = self._conns, []
        for a, b in conns:
            _reset(a)
            _reset(b)

    def stall(self, direction: str) -> None:
        """Holds the bytes of one direction (``to_engine`` or ``to_gateway``)."""
        assert direction in ("to_engine", "to_gateway")
        with self._lock:
            self._stalled.add(direction)

    def heal(self) -> None:
        """Accepts connections again and releases stalled bytes."""
        with self._lock:
            self._cut = False
            self._stalled.clear()
            self._stalled_changed.notify_all()

    def close(self) -> None:
        self._stopping = True
        self.cut()
        self.heal()
        self._thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                refuse = self._cut or len(self._conns) >= CONNECTIONS_MAX
            if refuse:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._conns.append((client, upstream))
            for src, dst, direction in (
                (client, upstream, "to_engine"),
                (upstream, client, "to_gateway"),
            ):
                threading.Thread(target=self._pump, args=(src, dst, direction), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str) -> None:
        try:
            src.settimeout(None)
            while True:
                data = src.recv(_CHUNK)
                if not data:
                    break
                with self._lock:
                    while direction in self._stalled and not self._stopping:
                        self._stalled_changed.wait(0.1)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._forget(src, dst)

    def _forget(self, a: socket.socket, b: socket.socket) -> None:
        with self._lock:
            self._conns = [c for c in self._conns if a not in c]
        _reset(a)
        _reset(b)


def _reset(sock: socket.socket) -> None:
    """Closes with a reset (linger 0), waking a thread blocked reading it."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
