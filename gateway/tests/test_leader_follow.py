"""Leader following across engine nodes, and the configuration of those nodes."""

import msgspec
import pytest

from ringex_gateway.cli import main
from ringex_gateway.config import GatewayConfig, Settings
from ringex_gateway.leader_follow import EngineNode, LeaderFollower

pytestmark = pytest.mark.timeout(30)

NODES = [EngineNode(i, "127.0.0.1", 7700 + i) for i in (1, 2, 3)]


def test_a_hint_is_followed_at_once_and_its_welcome_is_a_leader_change() -> None:
    f = LeaderFollower(NODES)
    assert f.target().node_id == 1
    assert not f.welcomed()
    assert f.leader() == NODES[0]
    # Node 1 is deposed and names node 3.
    assert f.not_leader(3)
    assert f.target().node_id == 3
    assert f.welcomed()
    assert f.counters.leader_changes == 1
    assert f.counters.redirects == 1
    assert f.counters.not_leader == 1


def test_a_dropped_leader_is_tried_again_first_then_the_others_in_turn() -> None:
    f = LeaderFollower(NODES)
    f.failed()
    assert f.target().node_id == 2
    f.welcomed()
    # The leader's link dropped: the link retries it (nothing to report), then cycles.
    assert f.target().node_id == 2
    f.failed()
    assert f.target().node_id == 3
    f.failed()
    assert f.target().node_id == 1
    assert f.welcomed()
    assert f.counters.leader_changes == 1


def test_unknown_or_unconfigured_hints_move_to_the_next_node_with_back_off() -> None:
    f = LeaderFollower(NODES)
    assert not f.not_leader(0)
    assert f.target().node_id == 2
    assert not f.not_leader(99)
    assert f.target().node_id == 3
    # A node naming itself is no hint either.
    assert not f.not_leader(3)
    assert f.target().node_id == 1
    assert f.counters.redirects == 0


def test_nodes_pointing_at_each_other_are_followed_a_bounded_number_of_times() -> None:
    f = LeaderFollower(NODES)
    followed = 0
    for _ in range(20):
        other = 2 if f.target().node_id == 1 else 1
        if f.not_leader(other):
            followed += 1
        else:
            break
    assert followed == len(NODES)
    # After backing off once, hints are followed again.
    assert f.not_leader(1 if f.target().node_id != 1 else 2)


def test_a_single_node_is_always_the_target() -> None:
    f = LeaderFollower(NODES[:1])
    f.failed()
    assert not f.not_leader(0)
    assert f.target() == NODES[0]
    with pytest.raises(ValueError, match="at least one"):
        LeaderFollower([])


def test_engines_as_a_list_a_table_or_the_single_engine_setting() -> None:
    single = GatewayConfig(gateway=Settings(engine="127.0.0.1:9000"))
    assert single.gateway_engine_nodes() == [EngineNode(1, "127.0.0.1", 9000)]
    listed = msgspec.toml.decode(
        b'[gateway]\nengines = ["127.0.0.1:7701", "127.0.0.2:7701"]\n', type=GatewayConfig
    )
    listed.validate()
    assert [(n.node_id, n.host) for n in listed.gateway_engine_nodes()] == [
        (1, "127.0.0.1"),
        (2, "127.0.0.2"),
    ]
    table = msgspec.toml.decode(
        b'[gateway.engines]\n3 = "127.0.0.3:7700"\n1 = "127.0.0.1:7700"\n', type=GatewayConfig
    )
    assert [n.node_id for n in table.gateway_engine_nodes()] == [1, 3]


@pytest.mark.parametrize(
    "engines",
    [
        ["127.0.0.1:7700", "127.0.0.1:7700"],
        {"0": "127.0.0.1:7700"},
        {"x": "127.0.0.1:7700"},
        {"1": "127.0.0.1:7700", "01": "127.0.0.1:7701"},
        ["127.0.0.1"],
        [f"127.0.0.1:{7000 + i}" for i in range(17)],
    ],
)
def test_bad_engine_lists_are_refused(engines: list[str] | dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"engines|address"):
        GatewayConfig(gateway=Settings(engines=engines)).validate()


def test_engines_on_the_command_line_are_separated_by_commas(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--engines", "127.0.0.1:7700, 127.0.0.2:7700", "--print-config"]) == 0
    printed = msgspec.json.decode(capsys.readouterr().out)
    assert printed["gateway"]["engines"] == ["127.0.0.1:7700", "127.0.0.2:7700"]
