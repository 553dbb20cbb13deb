"""Multicast settings: off by default, and refused when out of range or when they could
reach another host without ``multicast_scope = "network"``."""

import pytest

from ringex_gateway.config import GatewayConfig, Settings

pytestmark = pytest.mark.timeout(30)

GROUP = "239.255.1.2:31001"


def check(**settings: object) -> None:
    GatewayConfig(gateway=Settings(**settings)).validate()  # type: ignore[arg-type]


def test_multicast_is_off_by_default_and_on_host_is_accepted() -> None:
    assert Settings().multicast_group == ""
    check(multicast_group=GROUP)
    check(multicast_group=GROUP, multicast_session="DAY1", multicast_mtu_bytes=278)


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"multicast_group": "224.0.0.1:31001"}, "239"),
        ({"multicast_group": "127.0.0.1:31001"}, "239"),
        ({"multicast_group": "239.1.1.1:0"}, "239"),
        ({"multicast_ttl": 2}, "ttl"),
        ({"multicast_scope": "world"}, "scope"),
        ({"multicast_session": "ELEVENCHARS"}, "session"),
        ({"multicast_session": "A B"}, "session"),
        ({"multicast_mtu_bytes": 200}, "mtu"),
        ({"multicast_retransmit_max": 65_535}, "retransmit_max"),
        ({"multicast_interface": "lo"}, "interface"),
    ],
)
def test_out_of_range_settings_are_refused(settings: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check(**({"multicast_group": GROUP} | settings))


@pytest.mark.parametrize(
    "settings",
    [
        {"multicast_ttl": 1, "multicast_interface": "192.0.2.1"},
        {"multicast_retransmit": "0.0.0.0:7702"},
    ],
)
def test_settings_that_reach_other_hosts_need_the_network_scope(
    settings: dict[str, object],
) -> None:
    with pytest.raises(ValueError, match="multicast_scope = network"):
        check(multicast_group=GROUP, **settings)
    check(multicast_group=GROUP, multicast_scope="network", **settings)
    # TTL 0 keeps packets on this host whatever the interface.
    check(multicast_group=GROUP, multicast_interface="192.0.2.1")
