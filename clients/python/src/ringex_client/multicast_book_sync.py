"""The local book of the L3 feed over UDP multicast, without I/O: incrementals from the
multicast receiver, snapshots from the TCP session.

The multicast session carries every instrument's L3 feed, numbered by the same
``feed_seq`` as the TCP feed, so the two meet without any translation. A book's
snapshot is taken the way a TCP subscriber takes one (FeedSubscribe, then SnapshotBegin
… SnapshotEnd), and the subscription is ended as soon as the snapshot is loaded: from
then on the book moves with the multicast messages alone, and the TCP incrementals that
were already on their way are dropped. A gap in an instrument's ``feed_seq`` is
something the multicast receiver could not get back from the retransmission server, so
it is recovered by a snapshot, not a resend; a range the receiver reports lost
(:class:`MulticastLost`) may have held any instrument's messages, and so may the end of
a session the receiver stopped following for a new one (:class:`NewSession`: a gateway
restarted), so every book loads again. Snapshots are asked for a few instruments at a
time, within the session's bound on subscriptions.
"""

from collections import deque
from collections.abc import Iterable
from typing import Unpack

from ringex_client.book_sync import BookOptions, BookSync, FeedRequest
from ringex_client.enums import ALL_INSTRUMENTS, FeedKind
from ringex_client.feed_stream import FeedStream, Need, StreamOutput
from ringex_client.messages import (
    BookEvent,
    FeedSubscribe,
    InstrumentDefinition,
    LoginAccepted,
    Message,
    SnapshotEnd,
)
from ringex_client.mold_sequencer import MulticastLost
from ringex_client.multicast_receiver import FeedItem, NewSession
from ringex_client.resync import ResyncCause

#: Snapshot subscriptions held at once; the gateway's default bound is 64 a session.
SNAPSHOTS_AT_ONCE = 8


class MulticastEndedError(ConnectionError):
    """The multicast session ended (its gateway stopped) and the receiver does not
    follow sessions: the books would not move again."""


class MulticastBookSync(BookSync):
    """Books of one instrument (or every instrument: ``ALL_INSTRUMENTS``) kept from the
    L3 multicast feed; the options are :class:`BookSync`'s, but the feed is L3 alone
    (``l2_depth`` 0: :meth:`levels` aggregates the L3 book) and a gap is always
    recovered by a snapshot (``resend_limit`` is 0).

    Hand it the receiver's items with :meth:`receive_multicast` and the TCP client's
    messages with :meth:`receive`; send what :meth:`take_requests` returns."""

    def __init__(self, instrument: int, **options: Unpack[BookOptions]) -> None:
        if options.get("l2_depth", 0) != 0 or not options.get("l3", True):
            raise ValueError("the multicast feed is the L3 feed: no L2 depth")
        options["resend_limit"] = 0
        super().__init__(instrument, **options)
        self._asked: set[int] = set()
        """Instruments whose snapshot subscription is on."""
        self._queued: deque[int] = deque()
        """Instruments waiting for room among the snapshot subscriptions."""

    # Input --------------------------------------------------------------------------

    def receive(self, message: Message, now: float) -> None:
        """Takes one message of the TCP session: snapshots, refusals, a new login and
        instrument listings; its L3 incrementals are the multicast feed's again and are
        dropped."""
        if isinstance(message, BookEvent):
            return
        if isinstance(message, InstrumentDefinition):
            self._stream(message.instrument, FeedKind.L3, 0, now)
            return
        super().receive(message, now)

    def receive_multicast(self, item: FeedItem, now: float) -> None:
        """Takes one item of the multicast receiver, in its order."""
        if isinstance(item, MulticastLost | NewSession):
            out = StreamOutput()
            for stream in self._streams.values():
                stream.buffer.clear()
                if stream.asked != Need.SNAPSHOT:
                    stream.lose(ResyncCause.GAP, now, out)
            self._act(out)
            return
        super().receive(item, now)

    def know(self, instruments: Iterable[int], now: float) -> None:
        """Instruments listed before this book saw their definitions: with
        ``ALL_INSTRUMENTS`` each gets a book (and its snapshot) now, not at its first
        multicast message."""
        for instrument in instruments:
            self._stream(instrument, FeedKind.L3, 0, now)

    # Requests -----------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Loads the book (every book seen, with ``ALL_INSTRUMENTS``) from a snapshot."""
        if self.instrument != ALL_INSTRUMENTS:
            self._stream(self.instrument, FeedKind.L3, 0, now)
        for stream in self._streams.values():
            if stream.asked == Need.SNAPSHOT and stream.instrument not in self._asked:
                self._want_snapshot(stream.instrument)

    def stop(self) -> None:
        """Ends the snapshot subscriptions still on."""
        for instrument in self._asked:
            self._request(FeedSubscribe(instrument, FeedKind.L3, 0, False))
        self._asked.clear()
        self._queued.clear()

    def _logged_in(self, _: LoginAccepted, now: float, out: StreamOutput) -> None:
        """A new session holds no subscription: the snapshots still wanted are asked for
        again. The books themselves stay in step through the multicast feed."""
        self._asked.clear()
        self._queued.clear()
        self._loading = None
        self.start(now)

    def _stream(self, instrument: int, feed: FeedKind, depth: int, now: float) -> FeedStream | None:
        """The feed's stream, as :class:`BookSync` makes it; a new one asks for its
        snapshot."""
        new = (instrument, feed, depth) not in self._streams
        stream = super()._stream(instrument, feed, depth, now)
        if stream is not None and new:
            self._want_snapshot(instrument)
        return stream

    def _end(self, end: SnapshotEnd, now: float, out: StreamOutput) -> None:
        """Loads the snapshot; one that put the book in step ends its subscription."""
        super()._end(end, now, out)
        stream = self._streams.get((end.instrument, end.feed, end.depth))
        if stream is not None and stream.live and stream.asked == Need.NOTHING:
            self._snapshot_taken(end.instrument)

    def _ask(self, out: StreamOutput) -> None:
        assert not out.resends, "a multicast book recovers every gap by a snapshot"
        for stream in out.snapshots:
            self._want_snapshot(stream.instrument)
        out.snapshots = []

    def _want_snapshot(self, instrument: int) -> None:
        """Subscribes for the instrument's snapshot now (again, if it was asked for and
        did not come), or once there is room."""
        if instrument not in self._asked and len(self._asked) >= SNAPSHOTS_AT_ONCE:
            if instrument not in self._queued:
                self._queued.append(instrument)
            return
        self._asked.add(instrument)
        self._request(FeedSubscribe(instrument, FeedKind.L3, 0, True))

    def _snapshot_taken(self, instrument: int) -> None:
        if instrument not in self._asked:
            return  # a snapshot already acted on (a resubscription brings it twice)
        self._asked.discard(instrument)
        self._request(FeedSubscribe(instrument, FeedKind.L3, 0, False))
        while self._queued and len(self._asked) < SNAPSHOTS_AT_ONCE:
            self._want_snapshot(self._queued.popleft())

    def _request(self, request: FeedRequest) -> None:
        """Queues a request; a subscription's later request replaces an earlier one not
        yet sent (only the last says what the session should hold)."""
        if isinstance(request, FeedSubscribe):
            key = (request.instrument, request.feed, request.depth)
            self._requests = [
                r
                for r in self._requests
                if not (isinstance(r, FeedSubscribe) and (r.instrument, r.feed, r.depth) == key)
            ]
        super()._request(request)
