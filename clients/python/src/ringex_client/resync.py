"""How a local book reports that it fell out of step with the exchange and got back."""

from dataclasses import dataclass
from enum import Enum

from ringex_client.enums import FeedKind


class ResyncCause(Enum):
    """Why a feed of a local book went out of step."""

    GAP = "gap"
    """A sequence number was skipped: messages were lost or reordered."""
    CHECKSUM = "checksum"
    """A snapshot did not match its checksum or entry count, or the book held did not
    match a snapshot at the same sequence number."""
    INCONSISTENT = "inconsistent"
    """An update named an order or level the book did not hold."""
    OVERFLOW = "overflow"
    """More incrementals waited for a missing one than the buffer holds."""
    TIMEOUT = "timeout"
    """A resend or snapshot asked for did not come in time."""
    CONFLATED = "conflated"
    """The gateway cut the feed to a fresh snapshot (the subscriber read too slowly)."""
    RECONNECT = "reconnect"
    """The session was lost and logged in again: the feeds were subscribed afresh."""


@dataclass(frozen=True)
class Resync:
    """A feed of one instrument is back in step, at ``seq`` (``feed_seq`` for L3,
    ``level_seq`` for L2), after going out of step for ``cause``; ``by_snapshot`` tells
    whether a fresh snapshot rebuilt the book, or a resend filled the gap."""

    instrument: int
    feed: FeedKind
    depth: int
    cause: ResyncCause
    by_snapshot: bool
    seq: int
