"""The session state machine's decisions that need no socket."""

import pytest

from ringex_client import LoginError, LoginRejectReason

pytestmark = pytest.mark.timeout(10)


def test_only_throttled_and_unavailable_logins_are_retried() -> None:
    retried = {r for r in LoginRejectReason if LoginError(r).retryable}
    assert retried == {LoginRejectReason.THROTTLED, LoginRejectReason.UNAVAILABLE}
