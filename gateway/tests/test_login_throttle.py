"""The failed-login throttles and the password-check queue, on an injected clock and
with stand-in checks (no sockets, no hashing)."""

import asyncio
import threading

import pytest

from ringex_gateway.login_queue import LoginQueue
from ringex_gateway.login_throttle import FailureThrottle, LoginThrottles, ThrottlePolicy

pytestmark = pytest.mark.timeout(30)

MS = 1_000_000
POLICY = ThrottlePolicy(threshold=3, backoff_ms=1000, backoff_max_ms=8000, half_life_ms=10_000)


class Clock:
    def __init__(self) -> None:
        self.now_ns = 0

    def __call__(self) -> int:
        return self.now_ns

    def advance_ms(self, ms: float) -> None:
        self.now_ns += int(ms * MS)


def test_failures_past_the_threshold_open_a_growing_refusal_window() -> None:
    clock = Clock()
    t = FailureThrottle(POLICY, clock)
    t.failed("a")
    t.failed("a")
    assert not t.refused("a")
    t.failed("a")
    assert t.refused("a")
    assert not t.refused("b")
    clock.advance_ms(999)
    assert t.refused("a")
    clock.advance_ms(2)
    assert not t.refused("a")
    # The next failure doubles the window (the score has barely decayed).
    t.failed("a")
    clock.advance_ms(1500)
    assert t.refused("a")
    clock.advance_ms(600)
    assert not t.refused("a")


def test_the_window_is_capped_and_failures_decay() -> None:
    clock = Clock()
    t = FailureThrottle(POLICY, clock)
    for _ in range(40):
        t.failed("a")
    clock.advance_ms(8001)
    assert not t.refused("a")
    # A minute of silence halves the score six times: one failure no longer refuses.
    clock.advance_ms(60_000)
    t.failed("a")
    assert not t.refused("a")
    assert t.refused_count() == 0


def test_refused_count_counts_only_open_windows_and_forgets_decayed_keys() -> None:
    clock = Clock()
    t = FailureThrottle(POLICY, clock)
    for key in ("a", "b"):
        for _ in range(3):
            t.failed(key)
    t.failed("c")
    assert t.refused_count() == 2
    clock.advance_ms(200_000)
    assert t.refused_count() == 0
    assert not t._keys  # decayed keys are forgotten: memory stays bounded


def test_tracked_keys_are_bounded() -> None:
    clock = Clock()
    policy = ThrottlePolicy(
        threshold=1, backoff_ms=1000, backoff_max_ms=1000, half_life_ms=1000, max_keys=5
    )
    t = FailureThrottle(policy, clock)
    for i in range(100):
        t.failed(str(i))
    assert len(t._keys) == 5
    assert t.refused("99")
    assert not t.refused("0")


def test_unknown_users_count_and_a_success_clears_only_the_user() -> None:
    clock = Clock()
    throttles = LoginThrottles(POLICY, POLICY, clock)
    for name in ("nobody", "alice", "alice"):
        throttles.failed("127.0.0.1", name)
    assert throttles.refused("127.0.0.1", "bob")  # the address is throttled
    assert not throttles.refused("127.0.0.2", "alice")
    throttles.failed("127.0.0.2", "alice")
    assert throttles.refused("127.0.0.3", "alice")  # the user is throttled
    throttles.succeeded("alice")
    assert not throttles.refused("127.0.0.3", "alice")
    assert throttles.refused("127.0.0.1", "alice")


class Gate:
    """A check that blocks until released, recording the order checks started in."""

    def __init__(self, started: list[str], name: str, release: threading.Event) -> None:
        self.started, self.name, self.release = started, name, release

    def __call__(self) -> bool:
        self.started.append(self.name)
        return self.release.wait(10)


def test_the_queue_is_bounded_per_source_and_in_all() -> None:
    asyncio.run(_bounded())


async def _bounded() -> None:
    release = threading.Event()
    started: list[str] = []
    q = LoginQueue(workers=1, max_waiting=5, max_waiting_per_source=2)
    alive = lambda: True  # noqa: E731
    first = q.submit("a", Gate(started, "a0", release), alive)
    assert first is not None
    await asyncio.sleep(0.05)  # a0 is running: it no longer waits
    assert q.submit("a", Gate(started, "a1", release), alive) is not None
    assert q.submit("a", Gate(started, "a2", release), alive) is not None
    assert q.submit("a", Gate(started, "a3", release), alive) is None
    for name in ("b0", "c0", "d0"):
        assert q.submit(name[0], Gate(started, name, release), alive) is not None
    assert q.waiting == 5
    assert q.submit("e", Gate(started, "e0", release), alive) is None
    release.set()
    assert await asyncio.wait_for(first, 5) is True
    q.close()


def test_checks_start_round_robin_across_sources_and_dead_ones_are_skipped() -> None:
    asyncio.run(_round_robin())


async def _round_robin() -> None:
    release = threading.Event()
    started: list[str] = []
    q = LoginQueue(workers=1, max_waiting=20, max_waiting_per_source=10)
    closed = {"a2"}
    futures = []
    for name in ("a0", "a1", "a2", "a3", "b0", "c0"):
        alive = lambda name=name: name not in closed  # noqa: E731
        future = q.submit(name[0], Gate(started, name, release), alive)
        assert future is not None
        futures.append(future)
    release.set()
    results = await asyncio.wait_for(asyncio.gather(*futures), 5)
    # a0 was running already; then one per source in turn; a2's connection was gone.
    assert started == ["a0", "a1", "b0", "c0", "a3"]
    assert results == [True, True, None, True, True, True]
    q.close()
