"""Which engine node the link tries next, when the engine is a replicated cluster.

Only the cluster's leader serves links; every other node answers NotLeader with the
leader it knows of. The link tries the last node that welcomed it first (a dropped link
is most often a blip, and the leader usually has not changed), follows a NotLeader's
hint at once, and otherwise cycles through the configured nodes with the reconnect
back-off. A hint is only ever a node id, looked up in the gateway's own configuration,
so an engine cannot send the gateway to an address it was not configured with. Two
nodes with stale views could point at each other forever; hints followed without a
back-off are therefore bounded by the number of nodes in a row, after which the link
backs off as for any failed attempt.

Pure bookkeeping, no sockets: the link reports what happened and asks where to go.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineNode:
    """One engine node: its cluster node id and the address of its link listener."""

    node_id: int
    host: str
    port: int

    def __str__(self) -> str:
        return f"node {self.node_id} at {self.host}:{self.port}"


@dataclass
class LeaderCounters:
    """Counters for the metrics endpoint."""

    #: NotLeader answers received.
    not_leader: int = 0
    #: NotLeader hints followed at once to the named node.
    redirects: int = 0
    #: Links welcomed by a different node than the one before (a failover).
    leader_changes: int = 0


class LeaderFollower:
    """Tracks the node to link to; one instance per engine link."""

    def __init__(self, nodes: list[EngineNode]) -> None:
        if not nodes:
            raise ValueError("at least one engine node is needed")
        self.nodes = list(nodes)
        self._by_id = {n.node_id: i for i, n in enumerate(self.nodes)}
        self._index = 0
        self._leader: int | None = None
        self._hints_in_row = 0
        self.counters = LeaderCounters()

    def target(self) -> EngineNode:
        """The node to link to now."""
        return self.nodes[self._index]

    def leader(self) -> EngineNode | None:
        """The node whose link is (or was last) welcomed, if any was."""
        return None if self._leader is None else self.nodes[self._leader]

    def welcomed(self) -> bool:
        """The target welcomed the link: it leads. True if that is a leader change."""
        self._hints_in_row = 0
        changed = self._leader is not None and self._leader != self._index
        if changed:
            self.counters.leader_changes += 1
        self._leader = self._index
        return changed

    def not_leader(self, leader_id: int) -> bool:
        """The target answered NotLeader naming ``leader_id`` (0: unknown). Moves on to
        the named node or the next one; True if the link should try it without back-off."""
        self.counters.not_leader += 1
        hinted = self._by_id.get(leader_id)
        if hinted is not None and hinted != self._index and self._hints_in_row < len(self.nodes):
            self._hints_in_row += 1
            self.counters.redirects += 1
            self._index = hinted
            return True
        self._advance()
        return False

    def failed(self) -> None:
        """The target could not be reached, or closed the link before its Welcome."""
        self._advance()

    def _advance(self) -> None:
        self._hints_in_row = 0
        self._index = (self._index + 1) % len(self.nodes)
