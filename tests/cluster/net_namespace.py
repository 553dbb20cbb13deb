"""A network namespace of the test's own, for faults the proxy cannot make: packets
dropped silently (no reset, no close) by iptables rules on loopback addresses and ports.

The namespace has only its own loopback, so nothing the test starts can reach or be
reached from outside it. The calling thread enters it (setns), so every process the
test starts afterwards, every client socket and every thread it creates is inside; the
thread returns to its own namespace and the namespace is deleted at the end, whatever
happened. Needs root and the ``ip`` and ``iptables`` tools.
"""

import ctypes
import os
import secrets
import shutil
import subprocess
from types import TracebackType

_CLONE_NEWNET = 0x40000000


def unavailable_reason() -> str | None:
    """Why namespace faults cannot run here, or None if they can."""
    if os.geteuid() != 0:
        return "network namespace faults need root (ip netns, iptables)"
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            return f"network namespace faults need {tool} (make setup-apt installs iptables)"
    return None


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, _CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns failed")


class NetNamespace:
    """``with NetNamespace() as ns:`` — the calling thread runs inside ``ns``."""

    def __init__(self) -> None:
        self.name = f"ringex-test-{os.getpid()}-{secrets.token_hex(4)}"
        self._home: int | None = None

    def __enter__(self) -> "NetNamespace":
        self._ip("netns", "add", self.name)
        try:
            self._ip("netns", "exec", self.name, "ip", "link", "set", "lo", "up")
            self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            target = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
            try:
                _setns(target)
            finally:
                os.close(target)
        except BaseException:
            self._leave()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave()

    def _leave(self) -> None:
        try:
            if self._home is not None:
                _setns(self._home)
                os.close(self._home)
                self._home = None
        finally:
            subprocess.run(["ip", "netns", "delete", self.name], capture_output=True, timeout=10)

    def drop_port(self, port: int, one_way: bool = False) -> None:
        """Silently drops every TCP packet to ``port`` and, unless ``one_way``, from it."""
        for direction in ("--dport",) if one_way else ("--dport", "--sport"):
            self._iptables("-A", "OUTPUT", "-p", "tcp", direction, str(port), "-j", "DROP")

    def drop_between(self, a: str, b: str) -> None:
        """Silently drops every packet from address ``a`` to ``b`` and back."""
        for src, dst in ((a, b), (b, a)):
            self._iptables("-A", "OUTPUT", "-s", src, "-d", dst, "-j", "DROP")

    def heal(self) -> None:
        """Removes every drop rule."""
        self._iptables("-F", "OUTPUT")

    def _iptables(self, *args: str) -> None:
        # The calling thread is inside the namespace: iptables runs there too.
        subprocess.run(["iptables", *args], check=True, capture_output=True, timeout=10)

    @staticmethod
    def _ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)
