"""The L3 feed over UDP multicast: sends the packets the native core packs, a heartbeat
when idle and the end of the session at shutdown. The socket never blocks the order
path: a packet the kernel will not take at once is dropped and counted, and receivers
recover it from the retransmission server."""

import logging
import socket
import time
from typing import Any

from ringex_gateway._native import GatewayCore
from ringex_gateway.config import Settings, parse_address

log = logging.getLogger("ringex_gateway")

#: Copies of the end-of-session packet sent, as receivers cannot ask for it again.
_END_COPIES = 3
_MS = 1_000_000


class MulticastPublisher:
    """One multicast group's sender, fed by ``core`` (configured for multicast)."""

    def __init__(self, core: GatewayCore, settings: Settings) -> None:
        self.core = core
        self.group = parse_address(settings.multicast_group)
        self.heartbeat_ns = settings.multicast_heartbeat_ms * _MS
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        interface = socket.inet_aton(settings.multicast_interface)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, interface)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, settings.multicast_ttl)
        # Receivers on this host (every receiver, with TTL 0) get the packets too.
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        self.last_send_ns = time.monotonic_ns()
        self.send_dropped = 0
        self._dropped_reported = 0

    def send_batch(self) -> None:
        """Sends every packet the core closed (the batch ended)."""
        for packet in self.core.take_multicast_packets():
            self._send(packet)

    def tick(self, now_ns: int, stats: dict[str, Any]) -> None:
        """A heartbeat if nothing went out for the heartbeat period; logs new drops
        (``stats``: the core's counters)."""
        if now_ns - self.last_send_ns >= self.heartbeat_ns:
            self._send(self.core.multicast_heartbeat())
        dropped = self.send_dropped + int(stats["multicast_packets_dropped"])
        if dropped > self._dropped_reported:
            log.warning(
                "%d multicast packets dropped (queue or socket full); receivers recover "
                "them by retransmission",
                dropped - self._dropped_reported,
            )
            self._dropped_reported = dropped

    def end(self) -> None:
        """Sends what is left, then the end of the session, and closes the socket."""
        self.send_batch()
        end = self.core.multicast_heartbeat(end=True)
        for _ in range(_END_COPIES):
            self._send(end)
        self.sock.close()

    def _send(self, packet: bytes) -> None:
        try:
            self.sock.sendto(packet, self.group)
        except OSError:
            self.send_dropped += 1
        self.last_send_ns = time.monotonic_ns()

    def stats(self) -> dict[str, int]:
        """Counters kept here rather than in the core."""
        return {"multicast_send_dropped": self.send_dropped}
