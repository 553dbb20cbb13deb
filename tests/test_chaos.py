"""Faults under a steady order load, against real engine nodes and a real gateway: after
every fault and at the end, nothing acknowledged is lost or doubled, every order is
answered, streams and journals have no gap, and every node holds the same state.

``make test`` runs a short seeded schedule; ``make chaos N=200 SEED=…`` a long one
(CHAOS_CYCLES, CHAOS_SEED and CHAOS_NODES in the environment). A failure prints the
seed and the schedule so far, to replay it.
"""

import os
import random
from pathlib import Path

import pytest

from tests.cluster.chaos_rig import CLUSTER_FAULTS, SINGLE_NODE_FAULTS, ChaosRig, fault_schedule
from tests.cluster.engine_nodes import cluster_supported

CYCLES = int(os.environ.get("CHAOS_CYCLES", "20"))
SEED = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1 << 32))
#: Seconds a cycle may take at most (a fault, its heal and the checks), for the timeout.
CYCLE_MAX_S = 20

pytestmark = pytest.mark.timeout(120 + CYCLES * CYCLE_MAX_S)


def run_schedule(rig: ChaosRig, nodes: int, faults: tuple[str, ...]) -> None:
    schedule = fault_schedule(SEED, CYCLES, faults)
    done: list[str] = []
    try:
        for fault in schedule:
            done.append(fault)
            rig.cycle(fault)
        rig.final_check()
    except BaseException as e:
        raise AssertionError(
            f"chaos failed at cycle {len(done)} ({done[-1] if done else 'start'}): {e}\n"
            f"replay: make chaos N={CYCLES} SEED={SEED} NODES={nodes}\n"
            f"schedule so far: {done}"
        ) from e


@pytest.fixture
def rig_dir(tmp_path: Path) -> Path:
    print(f"chaos seed {SEED}, {CYCLES} cycles")
    return tmp_path


def test_faults_on_a_single_node_lose_and_double_nothing(engine_bin: Path, rig_dir: Path) -> None:
    rig = ChaosRig(engine_bin, rig_dir, 1, SEED)
    try:
        run_schedule(rig, 1, SINGLE_NODE_FAULTS)
    finally:
        rig.close()


def test_faults_on_a_three_node_cluster_lose_and_double_nothing(
    engine_bin: Path, rig_dir: Path
) -> None:
    if not cluster_supported(engine_bin):
        pytest.skip("this ringex-engine build has no cluster mode (its --help lists none)")
    nodes = int(os.environ.get("CHAOS_NODES", "3"))
    rig = ChaosRig(engine_bin, rig_dir, nodes, SEED)
    try:
        run_schedule(rig, nodes, CLUSTER_FAULTS)
    finally:
        rig.close()
