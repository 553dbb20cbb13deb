"""The local book without I/O: subscription requests out, feed messages in, books kept.

:class:`BookSync` is what :class:`ringex_client.LocalBook` (blocking) and
:class:`ringex_client.AsyncLocalBook` (asyncio) share: they hand it every message their
client delivers and the time, and send the requests it makes. It holds one
:class:`FeedStream` per instrument and feed, collects each snapshot's entries, and
routes every incremental to its stream, so its user never sees a sequence number.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict, cast

from ringex_client.book_entries import BookInconsistentError, Level, RestingOrder
from ringex_client.enums import ALL_INSTRUMENTS, FeedKind, FeedRejectReason, RejectedFeed, Side
from ringex_client.feed_stream import (
    FeedStream,
    Incremental,
    Need,
    StreamLimits,
    StreamOutput,
)
from ringex_client.l2_book import L2Book
from ringex_client.l3_book import L3Book
from ringex_client.messages import (
    BookEvent,
    FeedRejected,
    FeedSubscribe,
    LevelUpdate,
    LoginAccepted,
    Message,
    OrderAdded,
    OrderReduced,
    OrderRemoved,
    OrderReplaced,
    ResendRequest,
    SnapshotBegin,
    SnapshotEnd,
    SnapshotLevel,
    SnapshotOrder,
    Trade,
    TradingStatus,
)
from ringex_client.resync import Resync, ResyncCause

UpdateCallback = Callable[[int, Incremental | SnapshotEnd], None]
ResyncCallback = Callable[[Resync], None]
FeedRequest = FeedSubscribe | ResendRequest
_Handler = Callable[[Message, float, "StreamOutput"], None]


class BookOptions(TypedDict, total=False):
    """The keyword options of :class:`BookSync`, as the local books take them."""

    l3: bool
    l2_depth: int
    buffer_limit: int
    resend_limit: int
    resync_timeout_s: float
    on_update: "UpdateCallback | None"
    on_resync: "ResyncCallback | None"


# Incremental buffered per feed while one is missing; the gateway's default resend
# window is 4096 incrementals, so a gap of up to that many is asked for as a resend.
BUFFER_LIMIT = 10_000
RESEND_LIMIT = 4_096
RESYNC_TIMEOUT_S = 2.0


# The L3 feed's incrementals (a LevelUpdate is the L2 feed's).
_L3_EVENTS: frozenset[type[Message]] = frozenset(
    [OrderAdded, OrderReduced, OrderRemoved, OrderReplaced, Trade, TradingStatus]
)


class FeedRefusedError(Exception):
    """The gateway refused a subscription (an unknown instrument, a depth it does not
    offer, too many subscriptions, or its feeds stopped)."""

    def __init__(self, rejected: FeedRejected) -> None:
        super().__init__(f"feed refused: {rejected.reason.name} ({rejected})")
        self.rejected = rejected


@dataclass
class _Loading:
    """A snapshot being received: its opening message and the entries so far."""

    begin: SnapshotBegin
    stream: FeedStream
    entries: list[SnapshotOrder | SnapshotLevel]
    broken: bool = False


class BookSync:
    """Books of one instrument (or of every instrument: ``ALL_INSTRUMENTS``) kept from
    its L3 feed (``l3``), its L2 feed of ``l2_depth`` levels (``l2_depth`` > 0), or both.

    ``on_update(instrument, message)`` is called after each change to a book: every
    incremental applied (a Trade or TradingStatus too: the book's sequence moved) and
    every snapshot loaded (``message`` is its SnapshotEnd). ``on_resync(resync)`` is
    called when a feed that went out of step is back in step.
    """

    def __init__(
        self,
        instrument: int,
        *,
        l3: bool = True,
        l2_depth: int = 0,
        buffer_limit: int = BUFFER_LIMIT,
        resend_limit: int = RESEND_LIMIT,
        resync_timeout_s: float = RESYNC_TIMEOUT_S,
        on_update: UpdateCallback | None = None,
        on_resync: ResyncCallback | None = None,
    ) -> None:
        if not l3 and l2_depth <= 0:
            raise ValueError("a local book needs the L3 feed, an L2 depth, or both")
        if buffer_limit <= 0 or resend_limit < 0 or resync_timeout_s <= 0:
            raise ValueError(
                "the buffer limit and timeout must be positive, the resend limit not negative"
            )
        self.instrument = instrument
        self.subscriptions = [FeedSubscribe(instrument, FeedKind.L3)] if l3 else []
        if l2_depth > 0:
            self.subscriptions.append(FeedSubscribe(instrument, FeedKind.L2, l2_depth))
        self.limits = StreamLimits(buffer_limit, resend_limit, resync_timeout_s)
        self.on_update = on_update
        self.on_resync = on_resync
        self.resyncs = 0
        self.refused: FeedRejected | None = None
        self._streams: dict[tuple[int, FeedKind, int], FeedStream] = {}
        self._loading: _Loading | None = None
        self._requests: list[FeedRequest] = []
        self._out = StreamOutput()
        # Dispatch on the message's type: a feed brings many messages a second.
        l3_event, entry = cast(_Handler, self._l3_incremental), cast(_Handler, self._entry)
        self._handlers: dict[type[Message], _Handler] = {
            LoginAccepted: cast(_Handler, self._logged_in),
            LevelUpdate: cast(_Handler, self._l2_incremental),
            SnapshotBegin: cast(_Handler, self._begin),
            SnapshotOrder: entry,
            SnapshotLevel: entry,
            SnapshotEnd: cast(_Handler, self._end),
            FeedRejected: cast(_Handler, self._refused),
        }
        for kind in _L3_EVENTS:
            self._handlers[kind] = l3_event

    # Requests -----------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Subscribes (again): every feed waits for its snapshot."""
        for stream in self._streams.values():
            stream.restart(now)
        self._loading = None
        for sub in self.subscriptions:
            if sub.instrument != ALL_INSTRUMENTS:
                self._stream(sub.instrument, sub.feed, sub.depth, now)
            self._request(sub)

    def stop(self) -> None:
        """Unsubscribes."""
        for sub in self.subscriptions:
            self._request(FeedSubscribe(sub.instrument, sub.feed, sub.depth, False))

    def take_requests(self) -> list[FeedRequest]:
        """The requests to send to the gateway now, in order."""
        out, self._requests = self._requests, []
        return out

    @property
    def requests_waiting(self) -> bool:
        """Whether :meth:`take_requests` has any to give."""
        return bool(self._requests)

    def _request(self, request: FeedRequest) -> None:
        if isinstance(request, ResendRequest) or request not in self._requests:
            self._requests.append(request)

    # Input --------------------------------------------------------------------------

    def receive(self, message: Message, now: float) -> None:
        """Takes one message the client delivered (others than feed messages are
        ignored, but a LoginAccepted: a new session subscribes again)."""
        kind = type(message)
        # Most messages are the next incremental of a feed in step: they take the
        # shortest way there is to the book, and on to the callback.
        stream: FeedStream | None = None
        if kind is LevelUpdate:
            level = cast(LevelUpdate, message)
            instrument, seq = level.instrument, level.level_seq
            stream = self._streams.get((instrument, FeedKind.L2, level.depth))
        elif kind in _L3_EVENTS:
            event = cast(BookEvent, message)
            instrument, seq = event.instrument, event.feed_seq
            stream = self._streams.get((instrument, FeedKind.L3, 0))
        if stream is not None:
            try:
                applied = stream.apply_in_step(cast(Incremental, message), seq)
            except BookInconsistentError:
                stream.inconsistent(now, self._out)
                self._act(self._out)
                return
            if applied:
                if self.on_update is not None:
                    self.on_update(instrument, cast(Incremental, message))
                return
        handle = self._handlers.get(kind)
        if handle is None:
            return
        # One output kept for every message: a feed brings many a second.
        handle(message, now, self._out)
        self._act(self._out)

    def tick(self, now: float) -> None:
        """Lets time pass: what was asked for and did not come is asked for again."""
        out = StreamOutput()
        for stream in self._streams.values():
            stream.tick(now, out)
        self._act(out)

    def _logged_in(self, _: LoginAccepted, now: float, out: StreamOutput) -> None:
        self.start(now)  # a new session: it holds no subscriptions yet

    def _l3_incremental(self, m: BookEvent, now: float, out: StreamOutput) -> None:
        if stream := self._stream(m.instrument, FeedKind.L3, 0, now):
            stream.incremental(m, m.feed_seq, now, out)

    def _l2_incremental(self, m: LevelUpdate, now: float, out: StreamOutput) -> None:
        if stream := self._stream(m.instrument, FeedKind.L2, m.depth, now):
            stream.incremental(m, m.level_seq, now, out)

    def _begin(self, begin: SnapshotBegin, now: float, out: StreamOutput) -> None:
        stream = self._stream(begin.instrument, begin.feed, begin.depth, now)
        self._loading = _Loading(begin, stream, []) if stream else None

    def _stream(self, instrument: int, feed: FeedKind, depth: int, now: float) -> FeedStream | None:
        """The stream of a feed this book subscribed to (made on first sight for an
        all-instruments subscription); None for a feed it did not."""
        key = (instrument, feed, depth)
        stream = self._streams.get(key)
        if stream is None and self._subscription(instrument, feed, depth) is not None:
            stream = self._streams[key] = FeedStream(instrument, feed, depth, self.limits, now)
        return stream

    def _subscription(self, instrument: int, feed: FeedKind, depth: int) -> FeedSubscribe | None:
        for sub in self.subscriptions:
            covers = sub.instrument in (instrument, ALL_INSTRUMENTS)
            if covers and sub.feed == feed and sub.depth == depth:
                return sub
        return None

    def _entry(self, entry: SnapshotOrder | SnapshotLevel, now: float, out: StreamOutput) -> None:
        loading = self._loading
        if loading is None:
            return
        wanted = SnapshotOrder if loading.begin.feed == FeedKind.L3 else SnapshotLevel
        fits = isinstance(entry, wanted) and entry.instrument == loading.begin.instrument
        if fits and len(loading.entries) < loading.begin.count:
            loading.entries.append(entry)
        else:
            loading.broken = True

    def _end(self, end: SnapshotEnd, now: float, out: StreamOutput) -> None:
        loading, self._loading = self._loading, None
        stream = self._streams.get((end.instrument, end.feed, end.depth))
        if stream is None:
            return
        if loading is None or loading.stream is not stream or not _whole(loading, end):
            stream.lose(ResyncCause.CHECKSUM, now, out)
            return
        try:
            book = _book(loading, end)
        except BookInconsistentError:
            stream.lose(ResyncCause.CHECKSUM, now, out)
            return
        stream.snapshot(loading.begin, book, end, now, out)

    def _refused(self, rejected: FeedRejected, now: float, out: StreamOutput) -> None:
        """A resend refused asks for a snapshot (one out of the window brings one by
        itself); a subscription refused is kept for the user to see."""
        feed = {RejectedFeed.L3: FeedKind.L3, RejectedFeed.L2: FeedKind.L2}.get(rejected.feed)
        if feed is None:
            return
        stream = self._streams.get((rejected.instrument, feed, rejected.depth))
        if rejected.reason == FeedRejectReason.RESEND_OUT_OF_WINDOW:
            return
        if stream is not None and stream.asked == Need.RESEND:
            stream.lose(ResyncCause.GAP, now, out)
        elif self._subscription(rejected.instrument, feed, rejected.depth) is not None:
            self.refused = rejected

    def _act(self, out: StreamOutput) -> None:
        """Asks for what the streams need and calls back for what they did; empties
        ``out`` before any callback (which may hand this book more input)."""
        applied, resyncs = out.applied, out.resyncs
        if out.resends or out.snapshots or resyncs:
            self._ask(out)
            out.resyncs = []
        if applied:
            out.applied = []
            if self.on_update is not None:
                for instrument, message in applied:
                    self.on_update(instrument, message)
        self.resyncs += len(resyncs)
        if self.on_resync is not None:
            for resync in resyncs:
                self.on_resync(resync)

    def _ask(self, out: StreamOutput) -> None:
        """Requests the resends and snapshots ``out`` holds, and forgets them."""
        for stream, from_seq, to_seq in out.resends:
            feed, depth = stream.feed, stream.depth
            self._request(ResendRequest(stream.instrument, feed, depth, from_seq, to_seq))
        for stream in out.snapshots:
            sub = self._subscription(stream.instrument, stream.feed, stream.depth)
            assert sub is not None, "a stream exists only for a subscribed feed"
            self._request(sub)
        out.resends, out.snapshots = [], []

    # Queries ------------------------------------------------------------------------

    def _one(self, instrument: int | None) -> int:
        if instrument is None:
            if self.instrument == ALL_INSTRUMENTS:
                raise ValueError("name the instrument: this book keeps every instrument")
            return self.instrument
        return instrument

    def _book(self, instrument: int | None) -> L3Book | L2Book | None:
        """The instrument's L3 book if this keeps one, else its L2 book."""
        i = self._one(instrument)
        for sub in self.subscriptions:
            stream = self._streams.get((i, sub.feed, sub.depth))
            if stream is not None and stream.loaded_once:
                return stream.book
        return None

    def instruments(self) -> list[int]:
        """The instruments with a book loaded, in id order."""
        return sorted({i for (i, _, _), s in self._streams.items() if s.loaded_once})

    def synced(self, instrument: int | None = None) -> bool:
        """Every feed of the instrument (of every instrument seen, if this keeps all and
        none is named) loaded and in step, with nothing missing."""
        if instrument is None and self.instrument == ALL_INSTRUMENTS:
            streams = list(self._streams.values())
        else:
            i = self._one(instrument)
            streams = [s for (j, _, _), s in self._streams.items() if j == i]
        return bool(streams) and all(s.synced for s in streams)

    def best_bid(self, instrument: int | None = None) -> Level | None:
        """The best bid level, or None (an empty side, or no book yet)."""
        book = self._book(instrument)
        return None if book is None else book.best(Side.BUY)

    def best_ask(self, instrument: int | None = None) -> Level | None:
        """The best ask level, or None (an empty side, or no book yet)."""
        book = self._book(instrument)
        return None if book is None else book.best(Side.SELL)

    def levels(
        self, side: Side, depth: int | None = None, instrument: int | None = None
    ) -> list[Level]:
        """The best ``depth`` levels of a side, best first (from the L3 book if this
        keeps one: every level; else the L2 feed's levels)."""
        book = self._book(instrument)
        return [] if book is None else book.levels(side, depth)

    def queue(self, side: Side, price: int, instrument: int | None = None) -> list[RestingOrder]:
        """The orders resting at ``price``, in queue order (needs the L3 feed)."""
        book = self._l3(instrument)
        return [] if book is None else book.queue(side, price)

    def orders(self, instrument: int | None = None) -> list[tuple[Side, int, int, int]]:
        """Every resting order as ``(side, price, order_id, qty)``, bids then asks, best
        price first, in queue order (needs the L3 feed)."""
        book = self._l3(instrument)
        return [] if book is None else book.orders()

    def halted(self, instrument: int | None = None) -> bool:
        """Whether trading is halted (needs the L3 feed; False until known)."""
        book = self._l3(instrument)
        return book is not None and book.halted

    def _l3(self, instrument: int | None) -> L3Book | None:
        if not any(sub.feed == FeedKind.L3 for sub in self.subscriptions):
            raise ValueError("orders need the L3 feed: make the book with l3=True")
        stream = self._streams.get((self._one(instrument), FeedKind.L3, 0))
        return stream.book if stream is not None and isinstance(stream.book, L3Book) else None

    def feed_seq(self, instrument: int | None = None) -> int:
        """The L3 ``feed_seq`` the book is at (0 before its snapshot)."""
        stream = self._streams.get((self._one(instrument), FeedKind.L3, 0))
        return 0 if stream is None else stream.seq

    def level_seq(self, instrument: int | None = None) -> int:
        """The L2 ``level_seq`` the levels are at (0 before their snapshot)."""
        for sub in self.subscriptions:
            if sub.feed == FeedKind.L2:
                stream = self._streams.get((self._one(instrument), FeedKind.L2, sub.depth))
                return 0 if stream is None else stream.seq
        return 0

    def checksum(self, feed: FeedKind, instrument: int | None = None) -> int:
        """The book checksum of the L3 book or the L2 levels held, as a snapshot of
        them would carry it."""
        for sub in self.subscriptions:
            stream = self._streams.get((self._one(instrument), sub.feed, sub.depth))
            if sub.feed == feed and stream is not None:
                return stream.book.checksum()
        raise ValueError(f"this book does not keep the {feed.name} feed")

    @property
    def duplicates(self) -> int:
        """Incrementals dropped because they were already applied or held."""
        return sum(s.duplicates for s in self._streams.values())

    @property
    def gaps(self) -> int:
        """Gaps seen in a feed's sequence numbers."""
        return sum(s.gaps for s in self._streams.values())


def _whole(loading: _Loading, end: SnapshotEnd) -> bool:
    begin = loading.begin
    same = (begin.feed_seq, begin.level_seq) == (end.feed_seq, end.level_seq)
    return same and not loading.broken and len(loading.entries) == begin.count


def _book(loading: _Loading, end: SnapshotEnd) -> L3Book | L2Book:
    """The book a whole snapshot describes."""
    if end.feed == FeedKind.L3:
        orders = [e for e in loading.entries if isinstance(e, SnapshotOrder)]
        return L3Book.from_snapshot(loading.begin.halted, orders)
    levels = [e for e in loading.entries if isinstance(e, SnapshotLevel)]
    return L2Book.from_snapshot(end.depth, levels)
