"""The real engine daemon and the real gateway as processes on loopback, with their own
temporary directories and free ports."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ringex_client import Client
from ringex_gateway.credentials import hash_password

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "s3cret pass"

# Accounts the test engine defines (1-6) and who logs in to them.
USERS = [
    ("alice", 1, "trader"),
    ("viewer", 1, "read-only"),
    ("bob", 2, "trader"),
    ("carol", 3, "trader"),
    ("dave", 4, "trader"),
    ("admin", 5, "admin"),
    ("erin", 6, "trader"),
]
TRADERS = ["alice", "bob", "carol", "dave", "erin"]

_ENGINE_BASE = """\
[link]
heartbeat_interval_ms = 500
heartbeat_timeout_ms = 5000

[[instruments]]
instrument = 1
tick_size = 1
lot_size = 1
reference_price = 100000
price_band_bps = 1000

[[instruments]]
instrument = 2
tick_size = 5
lot_size = 10
reference_price = 25000
price_band_bps = 2000
"""


def engine_config(max_open_orders: int = 10_000) -> str:
    """The test engine's configuration: its instruments, and accounts 1-6, each allowed
    ``max_open_orders`` resting orders."""
    return _ENGINE_BASE + "".join(
        f"""
[[accounts]]
account = {a}
max_order_qty = 1000000
max_order_notional = 100000000000
max_open_orders = {max_open_orders}
"""
        for a in range(1, 7)
    )


ENGINE_CONFIG = engine_config()


def units_nice() -> int:
    """The ``Nice=`` the systemd units in ops/systemd give the venue (one value for
    all of them)."""
    nices = {
        int(line.removeprefix("Nice="))
        for unit in (ROOT / "ops" / "systemd").glob("*.service")
        for line in unit.read_text().splitlines()
        if line.startswith("Nice=")
    }
    assert len(nices) == 1, f"the units give the venue different nice values: {nices}"
    return nices.pop()


_GIVEN_PORTS: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` (a loopback address) nobody is listening on right now,
    and not handed out before by this process: a test that asks for several ports
    before starting what binds them must not get the same one twice."""
    for _ in range(1000):
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port
    raise RuntimeError("every free port offered was handed out already")


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Waits until something accepts on ``port``; fails if ``proc`` exits first."""
    wait_for_address("127.0.0.1", port, proc, timeout)


def wait_for_address(
    host: str, port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0
) -> None:
    """Waits until something accepts on ``host:port``; fails if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=0.2) as s:
                # A connect to a local port nobody listens on meets itself (TCP
                # simultaneous open) when the kernel picks that port as its source.
                if s.getsockname() != s.getpeername():
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it does not exit in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def at_nice(nice: int, command: list[str]) -> list[str]:
    """``command`` to be started at scheduling ``nice`` (as a systemd unit's ``Nice=``).
    A value below 0 takes CAP_SYS_NICE; without it the command runs at the caller's."""
    return command if nice == 0 else ["nice", "-n", str(nice), *command]


def engine_binary() -> Path:
    """Builds (a no-op when up to date) and returns the ringex-engine release binary."""
    override = os.environ.get("RINGEX_ENGINE_BIN")
    if override:
        return Path(override)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "ringex-engine"],
        cwd=ROOT,
        check=True,
        timeout=1800,
    )
    return target / "release" / "ringex-engine"


class Engine:
    """A ringex-engine process with its own data directory and link port."""

    def __init__(self, binary: Path, workdir: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.binary = binary
        self.workdir = workdir
        self.extra_args = extra_args
        # The scheduling nice value each start runs it at (see at_nice).
        self.nice = 0
        self.host = "127.0.0.1"
        self.port = free_port()
        self.config = workdir / "engine.toml"
        self.config.write_text(ENGINE_CONFIG)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.workdir / f"engine-{self.starts}.log").open("wb")
        command = [
            str(self.binary),
            "--config",
            str(self.config),
            "--data-dir",
            str(self.workdir / "data"),
            "--tcp",
            f"{self.host}:{self.port}",
            "--unix-socket",
            "",
            *self.extra_args,
        ]
        self.proc = subprocess.Popen(
            at_nice(self.nice, command),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_address(self.host, self.port, self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)


class Gateway:
    """A ringex-gateway process in front of an engine."""

    def __init__(
        self,
        workdir: Path,
        engine_port: int,
        password_cost: int = 1 << 10,
        extra_toml: str = "",
        **settings: int | str,
    ) -> None:
        self.workdir = workdir
        # The scheduling nice value each start runs it at (see at_nice).
        self.nice = 0
        self.port = free_port()
        self.metrics_port = free_port()
        pw = hash_password(PASSWORD, n=password_cost)
        lines = ["[gateway]"]
        base = {
            "heartbeat_ms": 300,
            "idle_timeout_ms": 3000,
            "frame_timeout_ms": 1000,
            "login_timeout_ms": 3000,
            "max_backlog": 500,
            "write_buffer_bytes": 16384,
            "rate_per_s": 100000,
            "burst": 100000,
            "reconnect_min_ms": 50,
            "reconnect_max_ms": 300,
        } | settings
        lines += [f"{k} = {v!r}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in base.items()]
        lines += [
            "[[accounts]]\naccount = 3\ncancel_on_disconnect = true",
            "[[accounts]]\naccount = 4\nrate_per_s = 5\nburst = 5",
            '[[instruments]]\ninstrument = 1\nsymbol = "ALPHA"',
            '[[instruments]]\ninstrument = 2\nsymbol = "BETA-25"',
        ]
        for name, account, role in USERS:
            lines.append(
                f'[[users]]\nusername = "{name}"\npassword_hash = "{pw}"\n'
                f'account = {account}\nrole = "{role}"'
            )
        self.config = workdir / "gateway.toml"
        self.config.write_text("\n".join(lines) + "\n" + extra_toml)
        self.engine_port = engine_port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log = self.workdir / "gateway.log"
        command = [
            sys.executable,
            "-m",
            "ringex_gateway",
            "--config",
            str(self.config),
            "--listen",
            f"127.0.0.1:{self.port}",
            "--engine",
            f"127.0.0.1:{self.engine_port}",
            "--metrics",
            f"127.0.0.1:{self.metrics_port}",
        ]
        self.proc = subprocess.Popen(
            at_nice(self.nice, command),
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def wait_engine_up(g: Gateway, timeout: float = 15.0) -> None:
    """Waits until the gateway reports its engine link up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{g.metrics_port}/metrics"
            text = urllib.request.urlopen(url, timeout=1).read().decode()
            if "ringex_gateway_engine_link_up 1.0" in text:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError("gateway's engine link never came up")


ClientFactory = Callable[..., Client]
