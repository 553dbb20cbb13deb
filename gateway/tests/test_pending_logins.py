"""The per-address cap on connections awaiting their login's answer."""

import pytest

from ringex_gateway.pending_logins import PendingLogins

pytestmark = pytest.mark.timeout(30)


def test_an_address_at_its_cap_is_refused_until_one_of_its_connections_is_done() -> None:
    pending = PendingLogins(per_source=2)
    assert pending.admit(1, "127.0.0.1")
    assert pending.admit(2, "127.0.0.1")
    assert not pending.admit(3, "127.0.0.1")
    assert pending.admit(4, "127.0.0.2")
    assert pending.source(2) == "127.0.0.1"
    pending.done(1)
    pending.done(1)  # twice (refused, then lost) counts once
    assert pending.admit(5, "127.0.0.1")
    assert pending.refused == 1
    for sid in (2, 4, 5):
        pending.done(sid)
    assert not pending._counts
    assert not pending._sources
