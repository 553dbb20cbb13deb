"""System-test fixtures: the real engine daemon and the real gateway as processes on
loopback, with temporary data directories, free ports, timeouts and cleanup."""

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The test modules import their shared code as `tests.…` from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ringex_client import ALL_INSTRUMENTS, Client
from tests.cluster.engine_nodes import EngineCluster
from tests.fix_venue import FixGateway
from tests.system_processes import (
    PASSWORD,
    TRADERS,
    ClientFactory,
    Engine,
    Gateway,
    engine_binary,
    wait_engine_up,
)

_ENGINE_BIN: list[Path] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Builds the daemon once, before any test's timeout starts, if a system test is
    about to run (a release build from scratch takes minutes)."""
    here = Path(__file__).parent
    if _ENGINE_BIN or not any(here in Path(str(item.path)).parents for item in items):
        return
    if shutil.which("cargo") is None and "RINGEX_ENGINE_BIN" not in os.environ:
        raise pytest.UsageError("cargo is needed to build ringex-engine")
    _ENGINE_BIN.append(engine_binary())


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    return _ENGINE_BIN[0]


@pytest.fixture(scope="session")
def engine(engine_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    e = Engine(engine_bin, tmp_path_factory.mktemp("engine"))
    e.start()
    yield e
    e.stop()


@pytest.fixture(scope="session")
def gateway(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    g = Gateway(tmp_path_factory.mktemp("gateway"), engine.port)
    g.start()
    wait_engine_up(g)
    yield g
    g.stop()


@pytest.fixture
def pair(engine_bin: Path, tmp_path: Path) -> Iterator[tuple[Engine, Gateway]]:
    """An engine and a gateway of the test's own, for tests that stop or stall them."""
    (tmp_path / "e").mkdir()
    (tmp_path / "g").mkdir()
    engine = Engine(engine_bin, tmp_path / "e")
    engine.start()
    gateway = Gateway(tmp_path / "g", engine.port)
    gateway.start()
    try:
        wait_engine_up(gateway)
        yield engine, gateway
    finally:
        gateway.stop()
        engine.stop()


@pytest.fixture
def connect(gateway: Gateway) -> Iterator[ClientFactory]:
    """Logs clients in to the session gateway; logs them out after the test, and
    cancels every trader's orders so tests do not see each other's book."""
    clients: list[Client] = []

    def make(username: str, **kw: object) -> Client:
        c = Client("127.0.0.1", gateway.port, username, PASSWORD, **kw)  # type: ignore[arg-type]
        c.connect()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()
    for name in TRADERS:
        with Client("127.0.0.1", gateway.port, name, PASSWORD, reconnect=False) as c:
            c.mass_cancel(ALL_INSTRUMENTS)
            c.wait_for(lambda m: type(m).__name__ in ("MassCancelled", "Rejected"), 5)


@pytest.fixture
def fix_venue(
    engine_bin: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[FixGateway]:
    """An engine and a gateway with the FIX acceptor; gateway settings come as the
    indirect parameter, if any."""
    v = FixGateway(engine_bin, tmp_path, **getattr(request, "param", {}))
    v.start()
    try:
        yield v
    finally:
        v.stop()


@pytest.fixture
def cluster(engine_bin: Path, tmp_path: Path) -> Iterator[EngineCluster]:
    """A three-node engine cluster of the test's own, stopped when it ends."""
    nodes = EngineCluster(engine_bin, tmp_path / "cluster", 3)
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()
