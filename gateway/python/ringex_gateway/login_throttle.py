"""Failed-login throttles: per source address and per username, each failure raises a
refusal window that grows with the failures and decays with time.

A key's failure score decays by half every ``half_life_ms``; each failure adds one. Once
the score reaches ``threshold``, the key is refused for ``backoff_ms`` doubled per
failure above the threshold, up to ``backoff_max_ms``. A refused attempt is answered at
once and costs no password hash, so a flood buys its sender nothing but refusals, and a
steady guesser is slowed to about one guess per ``backoff_max_ms``. Refusals do not add
to the score: the window ends on its own, and only new failures extend it.

Memory is bounded: at most ``max_keys`` keys per throttle are tracked; the one updated
longest ago is forgotten first.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Failures:
    score: float
    at_ns: int
    refused_until_ns: int


@dataclass(frozen=True)
class ThrottlePolicy:
    """When a key is refused and for how long."""

    threshold: int
    backoff_ms: int
    backoff_max_ms: int
    half_life_ms: int
    max_keys: int = 10_000


class FailureThrottle:
    """Failed attempts per key, and whether a key is refused now."""

    def __init__(
        self, policy: ThrottlePolicy, clock: Callable[[], int] = time.monotonic_ns
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._keys: OrderedDict[str, _Failures] = OrderedDict()

    def refused(self, key: str) -> bool:
        """Whether an attempt for ``key`` is refused without being checked."""
        entry = self._keys.get(key)
        return entry is not None and self._clock() < entry.refused_until_ns

    def failed(self, key: str) -> None:
        """Counts a failed attempt for ``key``."""
        now = self._clock()
        p = self.policy
        entry = self._keys.pop(key, None) or _Failures(0.0, now, 0)
        entry.score = self._decayed(entry, now) + 1
        entry.at_ns = now
        # Within half a failure counts: failures a moment apart have decayed a little.
        over = entry.score - p.threshold
        if over > -0.5:
            doublings = min(max(math.ceil(over), 0), 32)
            window_ms = min(p.backoff_ms << doublings, p.backoff_max_ms)
            entry.refused_until_ns = now + window_ms * 1_000_000
        self._keys[key] = entry
        while len(self._keys) > p.max_keys:
            self._keys.popitem(last=False)

    def succeeded(self, key: str) -> None:
        """Forgets ``key``'s failures."""
        self._keys.pop(key, None)

    def refused_count(self) -> int:
        """Keys refused right now; forgets keys whose score has decayed away."""
        now = self._clock()
        gone = [
            k
            for k, e in self._keys.items()
            if now >= e.refused_until_ns and self._decayed(e, now) < 0.05
        ]
        for k in gone:
            del self._keys[k]
        return sum(1 for e in self._keys.values() if now < e.refused_until_ns)

    def _decayed(self, entry: _Failures, now: int) -> float:
        elapsed_ms = (now - entry.at_ns) / 1_000_000
        return float(entry.score * 0.5 ** (elapsed_ms / self.policy.half_life_ms))


class LoginThrottles:
    """The source-address and username throttles of one gateway."""

    def __init__(
        self,
        source: ThrottlePolicy,
        user: ThrottlePolicy,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.sources = FailureThrottle(source, clock)
        self.users = FailureThrottle(user, clock)

    def refused(self, source: str, username: str) -> bool:
        """Whether a login from ``source`` for ``username`` is refused unchecked."""
        return self.sources.refused(source) or self.users.refused(username)

    def failed(self, source: str, username: str) -> None:
        """A wrong password or an unknown username: both count."""
        self.sources.failed(source)
        self.users.failed(username)

    def succeeded(self, username: str) -> None:
        """A correct login clears its user's failures (not its address's: one good
        password must not reset a flood from the same place)."""
        self.users.succeeded(username)
