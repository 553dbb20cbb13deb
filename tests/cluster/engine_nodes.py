"""Engine nodes as real daemons: one (the embedded single-node engine) or a Raft
cluster of several, each node on its own loopback address (127.0.0.1, .2, .3) so faults
can tell them apart, with its own data directory, config and log."""

import json
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.system_processes import ENGINE_CONFIG, Engine, free_port


@dataclass(frozen=True)
class NodeAddress:
    """Where a node listens: its Raft peers' listener, the gateway link listener and its
    Prometheus /metrics."""

    node_id: int
    host: str
    raft_port: int
    link_port: int
    metrics_port: int

    @property
    def link(self) -> str:
        return f"{self.host}:{self.link_port}"


def node_addresses(count: int) -> list[NodeAddress]:
    """Node ids 1..count, node i on 127.0.0.i."""
    out = []
    for node_id in range(1, count + 1):
        host = f"127.0.0.{node_id}"
        # Three ports of one node are picked before it binds any: never the same twice.
        ports = (free_port(host), free_port(host), free_port(host))
        out.append(NodeAddress(node_id, host, *ports))
    return out


def cluster_config(me: NodeAddress, nodes: list[NodeAddress]) -> str:
    """The engine TOML of node ``me``: the test engine's instruments and accounts, plus
    the ``[cluster]`` table for several nodes (one node runs without it, as today)."""
    if len(nodes) == 1:
        return ENGINE_CONFIG
    return ENGINE_CONFIG + cluster_table(me, nodes)


def cluster_table(me: NodeAddress, nodes: list[NodeAddress]) -> str:
    """The ``[cluster]`` table of node ``me`` listing ``nodes`` (a table listing only
    ``me`` makes a one-node cluster that initialises itself)."""
    lines = ["[cluster]", f"node_id = {me.node_id}", f'metrics = "{me.host}:{me.metrics_port}"']
    for n in nodes:
        lines += [
            "",
            "[[cluster.nodes]]",
            f"id = {n.node_id}",
            f'raft = "{n.host}:{n.raft_port}"',
            f'link = "{n.link}"',
        ]
    return "\n".join(lines) + "\n"


class EngineNode(Engine):
    """One ringex-engine process of the cluster, on its node's own loopback address."""

    def __init__(self, binary: Path, workdir: Path, me: NodeAddress, config: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        super().__init__(binary, workdir)
        self.address = me
        self.host, self.port = me.host, me.link_port
        self.config.write_text(config)
        self.data_dir = workdir / "data"
        self.stopped_by_signal = False

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9 (a frozen process dies too)."""
        self.stopped_by_signal = False
        super().kill()

    def stop(self) -> None:
        # A stopped process keeps a SIGTERM pending until it runs again.
        self.resume()
        super().stop()

    def pause(self) -> None:
        """SIGSTOP: the process is frozen, its sockets stay open."""
        if self.running():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGSTOP)
            self.stopped_by_signal = True

    def resume(self) -> None:
        if self.stopped_by_signal and self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        self.stopped_by_signal = False

    def wipe(self) -> None:
        """Loses the node's data directory (the node must be stopped)."""
        assert not self.running()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def damage_log(self) -> bool:
        """Flips a byte a third of the way into the node's Raft entry log (the node must
        be stopped): damage to an entry it flushed, not a torn last append. False when
        the log is empty."""
        assert not self.running()
        path = self.data_dir / "raft" / "entries"
        if not path.exists() or path.stat().st_size == 0:
            return False
        with path.open("r+b") as f:
            at = path.stat().st_size // 3
            f.seek(at)
            byte = f.read(1)
            f.seek(at)
            f.write(bytes([byte[0] ^ 0x40]))
        return True

    def status(self) -> dict[str, object]:
        """``cluster status --json`` of this node (a running cluster node only)."""
        out = subprocess.run(
            [str(self.binary), "cluster", "status", "--json", "--config", str(self.config)],
            capture_output=True,
            timeout=10,
            check=True,
        )
        status = json.loads(out.stdout)
        assert isinstance(status, dict)
        return status


class EngineCluster:
    """``count`` engine nodes; with more than one, a Raft cluster initialised once."""

    def __init__(self, binary: Path, workdir: Path, count: int) -> None:
        self.binary = binary
        addresses = node_addresses(count)
        self.nodes = [
            EngineNode(binary, workdir / f"node{a.node_id}", a, cluster_config(a, addresses))
            for a in addresses
        ]

    @property
    def links(self) -> list[str]:
        """Every node's link address, in node id order (the gateway's ``engines``)."""
        return [n.address.link for n in self.nodes]

    def start_nodes(self) -> None:
        for n in self.nodes:
            n.start()

    def start(self) -> None:
        """Starts every node, then initialises a cluster's membership."""
        self.start_nodes()
        if len(self.nodes) > 1:
            subprocess.run(
                [str(self.binary), "cluster", "init", "--config", str(self.nodes[0].config)],
                capture_output=True,
                timeout=30,
                check=True,
            )

    def leader(self, wait_s: float = 15.0) -> EngineNode:
        """The node that leads now (the only one, with one node), waiting out an
        election for up to ``wait_s``."""
        if len(self.nodes) == 1:
            return self.nodes[0]
        deadline = time.monotonic() + wait_s
        while True:
            for n in self.nodes:
                if n.running() and not n.stopped_by_signal and n.status().get("role") == "leader":
                    return n
            if time.monotonic() > deadline:
                raise LookupError(f"no node led within {wait_s} s")
            time.sleep(0.1)

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()
