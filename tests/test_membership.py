"""Membership changes of a real engine cluster under a steady order load through a real
gateway configured with every node: grow 1 -> 3, replace a node (remove it, wipe it, add
it back empty), shrink 3 -> 1. Nothing acknowledged is lost or doubled, every order is
answered, and every member holds the same state at one sequence number.

Node 1 starts alone with a ``[cluster]`` table listing only itself, so it initialises a
one-node cluster; nodes 2 and 3 list every node, so they wait uninitialised until the
leader adds them (a node listing only itself would initialise a cluster of its own).
"""

import subprocess
import time
from pathlib import Path

import pytest

from tests.cluster.chaos_checks import check_clients, check_journal, state_hash
from tests.cluster.chaos_rig import CLIENT_ANSWER_BOUND_S, ChaosGateway
from tests.cluster.engine_nodes import EngineNode, cluster_table, node_addresses
from tests.cluster.order_load import OrderLoad
from tests.system_processes import ENGINE_CONFIG, wait_engine_up
from tests.test_engine_link import metric

pytestmark = pytest.mark.timeout(300)

SEED = 20261204
#: A membership change waits for a learner to catch up: bounded, with room for a
#: loaded machine.
CHANGE_TIMEOUT_S = 60.0
LOAD_BETWEEN_S = 0.5


class Membership:
    """Three engine nodes (node 1 first, alone), a gateway listing all of them and the
    order load through it."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        addresses = node_addresses(3)
        self.nodes = [
            EngineNode(
                binary,
                workdir / f"node{a.node_id}",
                a,
                ENGINE_CONFIG + cluster_table(a, [a] if a.node_id == 1 else addresses),
            )
            for a in addresses
        ]
        self.nodes[0].start()
        (workdir / "gateway").mkdir()
        self.gateway = ChaosGateway(workdir / "gateway", [a.link for a in addresses])
        self.gateway.start()
        wait_engine_up(self.gateway, timeout=30)
        self.load = OrderLoad([self.gateway.port], SEED)

    def close(self) -> None:
        self.load.close()
        self.gateway.stop()
        for n in self.nodes:
            n.stop()

    def change(self, tool: str, node_id: int) -> None:
        """``cluster add|remove --node N`` (asked through a node that lists every node)
        while the load runs; it must succeed within the bound."""
        proc = subprocess.Popen(
            [
                str(self.binary), "cluster", tool, "--node", str(node_id),
                "--config", str(self.nodes[2 if node_id != 3 else 1].config),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + CHANGE_TIMEOUT_S
        while proc.poll() is None:
            assert time.monotonic() < deadline, f"cluster {tool} --node {node_id} hung"
            self.load.run_for(0.1)
        _, err = proc.communicate()
        assert proc.returncode == 0, f"cluster {tool} --node {node_id}: {err.decode()}"
        self.load.run_for(LOAD_BETWEEN_S)

    def voters(self) -> list[int]:
        status = self.leader().status()
        voters = status["voters"]
        assert isinstance(voters, list)
        return sorted(int(v) for v in voters)

    def leader(self) -> EngineNode:
        deadline = time.monotonic() + 15
        while True:
            for n in self.nodes:
                if n.running() and n.status().get("role") == "leader":
                    return n
            assert time.monotonic() < deadline, "no node leads"
            self.load.run_for(0.1)

    def check(self, members: list[EngineNode]) -> None:
        """The clients' answers, the leader's journal, and equal state on ``members``."""
        self.load.settle(timeout_s=CLIENT_ANSWER_BOUND_S + 10)
        check_clients(self.load, CLIENT_ANSWER_BOUND_S)
        last_seq = int(metric(self.gateway, "ringex_gateway_engine_last_seq") or 0)
        assert last_seq > 0
        check_journal(self.binary, self.leader().data_dir, self.load, last_seq)
        hashes = {
            n.address.node_id: state_hash(self.binary, n.config, n.data_dir, last_seq, wait_s=10)
            for n in members
        }
        assert len(set(hashes.values())) == 1, f"state hashes differ at seq {last_seq}: {hashes}"


def test_grow_replace_and_shrink_lose_and_double_nothing(engine_bin: Path, tmp_path: Path) -> None:
    m = Membership(engine_bin, tmp_path)
    try:
        m.load.run_for(LOAD_BETWEEN_S)
        for n in m.nodes[1:]:
            n.start()
            m.change("add", n.address.node_id)
        assert m.voters() == [1, 2, 3]
        m.check(m.nodes)

        replaced = next(n for n in m.nodes if n is not m.leader())
        m.change("remove", replaced.address.node_id)
        replaced.stop()
        replaced.wipe()
        replaced.start()
        m.change("add", replaced.address.node_id)
        assert m.voters() == [1, 2, 3]
        m.check(m.nodes)

        leader = m.leader()
        for n in [n for n in m.nodes if n is not leader]:
            m.change("remove", n.address.node_id)
        assert m.voters() == [leader.address.node_id]
        m.check([leader])
    finally:
        m.close()
