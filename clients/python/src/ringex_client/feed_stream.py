"""One feed of one instrument in a local book (its L3 feed, or its L2 feed of one
depth), without I/O: the book, the sequence number it is at, the incrementals that
arrived early, and what it needs from the gateway to stay in step.

It applies an incremental only when it is the next in sequence; one from further
ahead waits in a bounded buffer while the missing ones are asked for again (a resend
for a short gap, a fresh snapshot for a long one, a buffer over its bound, a book that
cannot take an update, a snapshot that does not match its checksum, or a request not
answered in time). Anything at or below the sequence it is at is a duplicate and is
dropped.
"""

from dataclasses import dataclass, field
from enum import Enum

from ringex_client.book_entries import BookInconsistentError
from ringex_client.enums import FeedKind
from ringex_client.l2_book import L2Book
from ringex_client.l3_book import L3Book
from ringex_client.messages import BookEvent, LevelUpdate, SnapshotBegin, SnapshotEnd
from ringex_client.resync import Resync, ResyncCause

Incremental = BookEvent | LevelUpdate


class Need(Enum):
    """What a stream has asked the gateway for."""

    NOTHING = 0
    RESEND = 1
    SNAPSHOT = 2


@dataclass(frozen=True)
class StreamLimits:
    """The bounds a stream works within."""

    buffer_limit: int
    """Incrementals held while waiting for a missing one; past it, a fresh snapshot."""
    resend_limit: int
    """The longest gap asked for as a resend; a longer one asks for a snapshot (0: every
    gap does)."""
    timeout_s: float
    """How long a resend or snapshot asked for may take before it is asked again."""


@dataclass
class StreamOutput:
    """What streams produced while handling input, for the book to act on."""

    applied: list[tuple[int, Incremental | SnapshotEnd]] = field(default_factory=list)
    resyncs: list[Resync] = field(default_factory=list)
    resends: list[tuple["FeedStream", int, int]] = field(default_factory=list)
    snapshots: list["FeedStream"] = field(default_factory=list)


class FeedStream:
    """One instrument's L3 feed (``depth`` 0) or L2 feed of ``depth`` levels."""

    def __init__(
        self, instrument: int, feed: FeedKind, depth: int, limits: StreamLimits, now: float
    ) -> None:
        self.instrument, self.feed, self.depth = instrument, feed, depth
        self.limits = limits
        self.book: L3Book | L2Book = L3Book() if feed == FeedKind.L3 else L2Book(depth)
        self.seq = 0
        self.live = False
        self.loaded_once = False
        self.buffer: dict[int, Incremental] = {}
        self.cause: ResyncCause | None = None
        # A new stream waits for the snapshot its subscription brings.
        self.asked, self.asked_at = Need.SNAPSHOT, now
        self._asked_to = 0
        self.duplicates = 0
        self.gaps = 0

    @property
    def synced(self) -> bool:
        """In step: a snapshot loaded, nothing missing, nothing asked for."""
        return self.live and not self.buffer and self.asked == Need.NOTHING

    def incremental(self, m: Incremental, seq: int, now: float, out: StreamOutput) -> None:
        """Takes one incremental of this feed, numbered ``seq`` in it (an L2
        update's ``level_seq``, an L3 event's ``feed_seq``)."""
        if (self.live and seq <= self.seq) or seq in self.buffer:
            self.duplicates += 1
            return
        if self.live and seq == self.seq + 1:
            self._apply(m, seq, now, out)
            self._drain(now, out)
            return
        self.buffer[seq] = m
        if len(self.buffer) > self.limits.buffer_limit:
            self.buffer.clear()
            if self.asked != Need.SNAPSHOT:
                self.lose(ResyncCause.OVERFLOW, now, out)
        elif self.live and self.asked == Need.NOTHING:
            self.gaps += 1
            self._ask_for_gap(ResyncCause.GAP, now, out)

    def apply_in_step(self, m: Incremental, seq: int) -> bool:
        """Applies ``m`` if it is the next incremental of a stream in step (the case of
        almost every message) as :meth:`incremental` would, but leaves reporting it to
        the caller: True if applied, False (nothing done) in any other case. Raises
        BookInconsistentError when the book cannot take ``m``; the book may then be half
        changed, and the caller must call :meth:`inconsistent`."""
        if seq != self.seq + 1 or not self.live or self.buffer or self.asked != Need.NOTHING:
            return False
        self.book.apply(m)  # type: ignore[arg-type]
        self.seq = seq
        return True

    def _apply(self, m: Incremental, seq: int, now: float, out: StreamOutput) -> None:
        try:
            self.book.apply(m)  # type: ignore[arg-type]
        except BookInconsistentError:
            self.inconsistent(now, out)
            return
        self.seq = seq
        out.applied.append((self.instrument, m))

    def inconsistent(self, now: float, out: StreamOutput) -> None:
        """The book could not take an update: it no longer matches the exchange's."""
        self.buffer.clear()
        self.lose(ResyncCause.INCONSISTENT, now, out)

    def _drain(self, now: float, out: StreamOutput) -> None:
        """Applies what waited and now follows on; asks for the next gap, if any."""
        while self.live and (m := self.buffer.pop(self.seq + 1, None)) is not None:
            self._apply(m, self.seq + 1, now, out)
        if not self.live:
            return
        if self.buffer:
            if self.asked == Need.NOTHING or min(self.buffer) - 1 > self._asked_to:
                self._ask_for_gap(self.cause or ResyncCause.GAP, now, out)
        elif self.asked == Need.RESEND:
            self._back_in_step(by_snapshot=False, out=out)

    def _ask_for_gap(self, cause: ResyncCause, now: float, out: StreamOutput) -> None:
        to = min(self.buffer) - 1
        if to - self.seq > self.limits.resend_limit:
            self.lose(cause, now, out)
            return
        self.cause = self.cause or cause
        self.asked, self.asked_at, self._asked_to = Need.RESEND, now, to
        out.resends.append((self, self.seq + 1, to))

    def lose(self, cause: ResyncCause, now: float, out: StreamOutput) -> None:
        """Out of step for ``cause`` with no way but a fresh snapshot."""
        self.cause = self.cause or cause
        self.live = False
        self.asked, self.asked_at = Need.SNAPSHOT, now
        out.snapshots.append(self)

    def snapshot(
        self, begin: SnapshotBegin, book: L3Book | L2Book, end: SnapshotEnd, now: float,
        out: StreamOutput,
    ) -> None:  # fmt: skip
        """Takes a whole snapshot (its entries already counted and collected)."""
        seq = begin.level_seq if self.feed == FeedKind.L2 else begin.feed_seq
        if book.checksum() != begin.checksum:
            self.lose(ResyncCause.CHECKSUM, now, out)
            return
        if self.live and seq < self.seq:
            return  # older than the book held: nothing to learn from it
        if self.live and self.asked == Need.NOTHING:
            if seq > self.seq:
                self.cause = ResyncCause.CONFLATED
            elif self.book.checksum() != begin.checksum:
                self.cause = ResyncCause.CHECKSUM
        self.book, self.seq, self.live = book, seq, True
        for old in [s for s in self.buffer if s <= seq]:
            del self.buffer[old]
        out.applied.append((self.instrument, end))
        if self.loaded_once and self.cause is not None:
            self._back_in_step(by_snapshot=True, out=out)
        self.loaded_once = True
        self.cause, self.asked = None, Need.NOTHING
        self._drain(now, out)

    def _back_in_step(self, *, by_snapshot: bool, out: StreamOutput) -> None:
        cause = self.cause or ResyncCause.GAP
        self.cause, self.asked = None, Need.NOTHING
        out.resyncs.append(
            Resync(self.instrument, self.feed, self.depth, cause, by_snapshot, self.seq)
        )

    def restart(self, now: float) -> None:
        """The session was logged in again: the subscription brings a fresh snapshot."""
        if self.loaded_once:
            self.cause = self.cause or ResyncCause.RECONNECT
        self.live = False
        self.buffer.clear()
        self.asked, self.asked_at = Need.SNAPSHOT, now

    def tick(self, now: float, out: StreamOutput) -> None:
        """Asks again, for a snapshot, when what was asked for did not come in time."""
        if self.asked != Need.NOTHING and now - self.asked_at > self.limits.timeout_s:
            self.buffer.clear()
            self.lose(ResyncCause.TIMEOUT, now, out)
