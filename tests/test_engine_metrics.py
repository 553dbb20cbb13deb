"""A real Prometheus, configured from ops/prometheus/, scrapes every node of a real
three-node engine cluster: it sees one leader serving, the commit and applied indexes,
each follower's lag on the leader, and, once the leader is killed, the elections that
follow, the new leader and the lost node's lag growing on it."""

import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cluster.engine_nodes import EngineCluster, EngineNode
from tests.test_prometheus_scrape import query, running_prometheus, wait_until

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="prometheus not installed (Debian's prometheus package; `make setup` installs it)",
    ),
]


def metrics_target(node: EngineNode) -> str:
    return f"{node.host}:{node.address.metrics_port}"


@pytest.fixture
def prometheus(cluster: EngineCluster, tmp_path: Path) -> Iterator[str]:
    targets = ",".join(metrics_target(n) for n in cluster.nodes)
    (tmp_path / "prometheus").mkdir()
    with running_prometheus(tmp_path / "prometheus", {"127.0.0.1:9711": targets}) as url:
        yield url


def equals(base: str, promql: str, value: float) -> Callable[[], bool]:
    return lambda: query(base, promql) == value


def at_least(base: str, promql: str, floor: float) -> Callable[[], bool]:
    return lambda: (query(base, promql) or 0) >= floor


def test_the_endpoint_answers_only_get_metrics(cluster: EngineCluster) -> None:
    node = cluster.leader()
    base = f"http://{metrics_target(node)}"
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert f"ringex_raft_node_id {node.address.node_id}" in text.splitlines()
    assert text.endswith("# EOF\n")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/elsewhere", timeout=5)
    assert refused.value.code == 404


def test_prometheus_follows_the_cluster_through_a_failover(
    cluster: EngineCluster, prometheus: str
) -> None:
    leaders = 'sum(ringex_raft_role{job="ringex-engine", role="leader"})'
    serving = 'sum(ringex_engine_serving{job="ringex-engine"})'
    wait_until(equals(prometheus, 'count(up{job="ringex-engine"} == 1)', 3), [], "3 nodes up")
    wait_until(equals(prometheus, leaders, 1), [], "one leader")
    wait_until(equals(prometheus, serving, 1), [], "one node serving")
    for index in ("commit", "applied"):
        promql = f'min(ringex_raft_{index}_index{{job="ringex-engine"}})'
        wait_until(at_least(prometheus, promql, 1), [], f"{index} index on all")
    old = cluster.leader()
    lag_on_old = f'count(ringex_raft_follower_lag_entries{{instance="{metrics_target(old)}"}})'
    wait_until(equals(prometheus, lag_on_old, 2), [], "the leader reports both followers")

    old.kill()
    new = cluster.leader()
    assert new is not old
    new_target = metrics_target(new)
    wait_until(
        equals(prometheus, f'ringex_raft_role{{instance="{new_target}", role="leader"}}', 1),
        [],
        "the new leader seen",
    )
    wait_until(equals(prometheus, serving, 1), [], "the new leader serving")
    elections = f'ringex_raft_elections_total{{instance="{new_target}"}}'
    wait_until(at_least(prometheus, elections, 1), [], "an election counted")
    lost = f'follower="{old.address.node_id}"'
    lag = f'ringex_raft_follower_lag_entries{{instance="{new_target}", {lost}}}'
    wait_until(at_least(prometheus, lag, 1), [], "the lost node lagging")
    wait_until(
        equals(prometheus, f'up{{instance="{metrics_target(old)}"}}', 0), [], "the old leader down"
    )
