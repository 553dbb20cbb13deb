"""The chaos rig: engine nodes, one proxy per node in front of the gateways' links to
it, two real gateways configured with every node, and the order load across both (each
gateway sees the other's orders only as events with correlation 0); and the faults it can
inject, each followed by a heal, a settle and the checks.

A run is a seeded schedule of faults, so a failing run replays exactly from its seed
(the load's orders are seeded too; the timing of processes is not, so a replay repeats
the faults and the orders, not every interleaving).
"""

import contextlib
import random
from collections.abc import Callable
from pathlib import Path

from tests.cluster.chaos_checks import check_clients, check_journal, state_hash, verify_journal
from tests.cluster.engine_nodes import EngineCluster, EngineNode, NodeAddress
from tests.cluster.link_proxy import LinkProxy
from tests.cluster.net_namespace import NetNamespace
from tests.cluster.order_load import OrderLoad
from tests.system_processes import Gateway, wait_engine_up
from tests.test_engine_link import metric

#: Faults that apply to a single node (the proxy stands for the network).
SINGLE_NODE_FAULTS = (
    "kill_leader",
    "pause_leader",
    "restart_all",
    "cut_gateway_link",
    "stall_to_engine",
    "stall_to_gateway",
)
#: Faults that need followers.
CLUSTER_FAULTS = (*SINGLE_NODE_FAULTS, "kill_follower", "wipe_follower", "damage_follower")
#: Faults that need the test's own network namespace (silent packet drops).
NAMESPACE_FAULTS = ("drop_gateway_link", "drop_to_engine")
#: Those that also need followers. Dropping by address needs every node to send from
#: its own address (127.0.0.N), as it listens there.
CLUSTER_NAMESPACE_FAULTS = (*NAMESPACE_FAULTS, "partition_leader")

ANSWER_MS = 1000
#: The answer bound the clients check: the gateway's, plus slack for the clients' own
#: polling and the machine's load (the bound is the feature; the slack is not tight).
CLIENT_ANSWER_BOUND_S = ANSWER_MS / 1000 + 3.0
#: How long a fault lasts: past the gateway's engine timeout and answer bound.
FAULT_S = 1.3
LOAD_BETWEEN_S = 0.6
GATEWAYS = 2


def fault_schedule(seed: int, cycles: int, faults: tuple[str, ...]) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(faults) for _ in range(cycles)]


class ChaosGateway(Gateway):
    """A gateway whose ``engines`` lists every node (through its proxy)."""

    def __init__(self, workdir: Path, engines: list[str], extra_toml: str = "") -> None:
        super().__init__(
            workdir,
            0,
            extra_toml=extra_toml,
            engine_answer_ms=ANSWER_MS,
            engine_timeout_ms=1000,
            engine_heartbeat_ms=200,
            reconnect_min_ms=10,
            reconnect_max_ms=100,
        )
        listed = ", ".join(f'"{e}"' for e in engines)
        text = self.config.read_text().replace(
            "[gateway]\n", f"[gateway]\nengines = [{listed}]\n", 1
        )
        self.config.write_text(text)


class ChaosRig:
    def __init__(
        self,
        binary: Path,
        workdir: Path,
        nodes: int,
        seed: int,
        netns: NetNamespace | None = None,
    ) -> None:
        self.binary = binary
        self.netns = netns
        self.cluster = EngineCluster(binary, workdir, nodes)
        self.cluster.start()
        self.proxies = [LinkProxy(n.address.link_port, n.address.host) for n in self.cluster.nodes]
        self.gateways: list[ChaosGateway] = []
        for i in range(GATEWAYS):
            (workdir / f"gateway{i}").mkdir()
            g = ChaosGateway(workdir / f"gateway{i}", [f"127.0.0.1:{p.port}" for p in self.proxies])
            self.gateways.append(g)
            g.start()
            wait_engine_up(g)
        self.load = OrderLoad([g.port for g in self.gateways], seed)
        self.rng = random.Random(seed ^ 0x5EED)

    def close(self) -> None:
        for step in (self.load.close, *(g.stop for g in self.gateways), self.cluster.stop):
            # Cleanup must reach every process even if one step fails.
            with contextlib.suppress(Exception):
                step()
        for p in self.proxies:
            p.close()

    def cycle(self, fault: str) -> None:
        """Load, the fault under load, heal, load, settle, check."""
        self.load.run_for(LOAD_BETWEEN_S)
        heal = self._inject(fault)
        self.load.run_for(FAULT_S)
        heal()
        for g in self.gateways:
            wait_engine_up(g, timeout=30)
        self.load.run_for(LOAD_BETWEEN_S)
        self.load.settle(timeout_s=CLIENT_ANSWER_BOUND_S + 10)
        self.check()

    def check(self) -> None:
        check_clients(self.load, CLIENT_ANSWER_BOUND_S)
        last_seq = self.last_seq()
        leader = self.cluster.leader()
        check_journal(self.binary, leader.data_dir, self.load, last_seq)
        if len(self.cluster.nodes) > 1:
            self.check_nodes_agree(last_seq, [n for n in self.cluster.nodes if n.running()])

    def check_nodes_agree(self, seq: int, nodes: list[EngineNode]) -> None:
        """Every node of ``nodes``, once it has applied ``seq``, holds the same state."""
        hashes = {
            n.address.node_id: state_hash(self.binary, n.config, n.data_dir, seq, wait_s=10)
            for n in nodes
        }
        assert len(set(hashes.values())) == 1, f"state hashes differ at seq {seq}: {hashes}"

    def last_seq(self) -> int:
        """The last engine sequence number any gateway has seen."""
        return max(int(metric(g, "ringex_gateway_engine_last_seq") or 0) for g in self.gateways)

    def final_check(self) -> None:
        """Stops the nodes and compares their state at the last common sequence number."""
        self.load.settle(timeout_s=CLIENT_ANSWER_BOUND_S + 10)
        self.check()
        last_seq = self.last_seq()
        self.cluster.stop()
        for n in self.cluster.nodes:
            verify_journal(self.binary, n.config, n.data_dir)
        self.check_nodes_agree(last_seq, self.cluster.nodes)

    def _inject(self, fault: str) -> Callable[[], None]:
        """Starts ``fault``; returns what ends it."""
        nodes = self.cluster.nodes
        leader = self.cluster.leader()
        followers = [n for n in nodes if n is not leader]
        if fault == "kill_leader":
            leader.kill()
            return leader.start
        if fault == "kill_follower":
            victim = self.rng.choice(followers)
            victim.kill()
            return victim.start
        if fault == "wipe_follower":
            victim = self.rng.choice(followers)
            victim.kill()
            victim.wipe()
            return victim.start
        if fault == "damage_follower":
            victim = self.rng.choice(followers)
            victim.kill()
            victim.damage_log()
            return victim.start
        if fault == "pause_leader":
            leader.pause()
            return leader.resume
        if fault == "restart_all":
            for n in nodes:
                n.kill()
            return lambda: self.cluster.start_nodes()
        if fault in CLUSTER_NAMESPACE_FAULTS:
            return self._drop(fault, leader.address, [f.address for f in followers])
        proxy = self.proxies[nodes.index(leader)]
        if fault == "cut_gateway_link":
            proxy.cut()
        elif fault == "stall_to_engine":
            proxy.stall("to_engine")
        elif fault == "stall_to_gateway":
            proxy.stall("to_gateway")
        else:
            raise ValueError(f"unknown fault {fault}")
        return proxy.heal

    def _drop(
        self, fault: str, leader: NodeAddress, followers: list[NodeAddress]
    ) -> Callable[[], None]:
        """Silent drops: the gateway's link to the leader (or only what goes to the
        leader), and for a partition the leader's traffic with every follower too."""
        ns = self.netns
        assert ns is not None, f"{fault} needs the test's network namespace"
        ns.drop_port(leader.link_port, one_way=fault == "drop_to_engine")
        if fault == "partition_leader":
            for f in followers:
                ns.drop_between(leader.host, f.host)
        return ns.heal
