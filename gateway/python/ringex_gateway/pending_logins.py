"""Connections that have not logged in yet, per source address, with a cap.

Every connection costs the event loop work before its login can be refused (accepting
it, reading its Login, answering, closing), and that work delays the sessions already
trading. Past ``per_source`` connections from one address still waiting for their
login's answer, further connections from it are cut at once, before anything is read,
so one address's flood costs the loop little more than the accepts.
"""

from collections import Counter


class PendingLogins:
    """Which connections await their login's answer, and from where."""

    def __init__(self, per_source: int) -> None:
        self.per_source = per_source
        self._sources: dict[int, str] = {}
        self._counts: Counter[str] = Counter()
        self.refused = 0

    def admit(self, sid: int, source: str) -> bool:
        """Records a new connection; False (and counted) when its address is at its cap."""
        if self._counts[source] >= self.per_source:
            self.refused += 1
            return False
        self._sources[sid] = source
        self._counts[source] += 1
        return True

    def source(self, sid: int) -> str:
        """The address a pending connection came from."""
        return self._sources.get(sid, "")

    def done(self, sid: int) -> None:
        """The connection logged in, was refused, or went away."""
        source = self._sources.pop(sid, None)
        if source is not None:
            self._counts[source] -= 1
            if not self._counts[source]:
                del self._counts[source]
