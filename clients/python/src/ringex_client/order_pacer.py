"""Pacing order messages to the rate the gateway states at login, so a client is
never refused ``RateLimited`` for sending faster than its session allows.

The gateway keeps a token bucket per session (``order_rate_per_s`` on average, up to
``order_burst`` at once) and refuses an order message with no token. The client keeps
its own bucket and holds a message back until it has a token. Its bucket is one token
smaller than the gateway's (when the burst allows) and refills a little slower, so
messages bunched up on the way, which reach the gateway closer together than they
left, still find a token there.
"""

RATE_MARGIN = 0.95
"""The share of the gateway's rate the client paces to."""


class OrderPacer:
    """A token bucket in seconds and tokens. Unlimited until :meth:`set_limits`."""

    def __init__(self) -> None:
        self.rate_per_s = 0.0
        self.capacity = 1.0
        self._tokens = 1.0
        self._last_s = 0.0

    def set_limits(self, rate_per_s: int, burst: int, now_s: float) -> None:
        """The session's limits (0: no limit), with the gateway's bucket full, as it is
        at login."""
        assert rate_per_s >= 0, rate_per_s
        assert burst >= 0, burst
        self.rate_per_s = rate_per_s * RATE_MARGIN
        self.capacity = float(max(burst - 1, 1))
        self._tokens = self.capacity
        self._last_s = now_s

    def take(self, now_s: float) -> bool:
        """Takes a token if there is one now."""
        if self.rate_per_s == 0:
            return True
        self._refill(now_s)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait_s(self, now_s: float) -> float:
        """Seconds until a token is there (0: now)."""
        if self.rate_per_s == 0:
            return 0.0
        self._refill(now_s)
        return max(0.0, (1.0 - self._tokens) / self.rate_per_s)

    def _refill(self, now_s: float) -> None:
        elapsed_s = max(0.0, now_s - self._last_s)
        self._last_s = max(self._last_s, now_s)
        self._tokens = min(self.capacity, self._tokens + elapsed_s * self.rate_per_s)
