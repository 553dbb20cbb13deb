"""FIX market data without I/O: MarketDataRequest (V) as subscriptions to the gateway's
own L2 and trades feeds, and those feeds' messages as MarketDataSnapshotFullRefresh (W),
MarketDataIncrementalRefresh (X) and MarketDataRequestReject (Y).

The feeds are the binary protocol's: the same sequenced pipeline, the same snapshots and
the same slow-consumer rule (a FIX session over its feed backlog gets fresh snapshots,
each a new W, or is ended, as the gateway's ``feed_slow`` says). Nothing here keeps a
book: a W is the gateway's L2 snapshot in FIX, an X its level updates and trades.
"""

from dataclasses import dataclass, field

from ringex_client.enums import FeedKind, FeedRejectReason, LevelAction, RejectedFeed, Side
from ringex_client.messages import (
    FeedRejected,
    FeedSubscribe,
    LevelUpdate,
    Message,
    SnapshotBegin,
    SnapshotEnd,
    SnapshotLevel,
    Trade,
)
from ringex_gateway.fix.order_entry import Fields, Forward, InvalidFieldError, Report, required
from ringex_gateway.fix.symbols import Symbol, SymbolTable
from ringex_gateway.fix.tags import MsgType, SessionRejectReason, Tag

#: The feed messages this layer turns into FIX.
FEED_MESSAGES = (FeedRejected, LevelUpdate, SnapshotBegin, SnapshotEnd, SnapshotLevel, Trade)
#: Entries in one MarketDataIncrementalRefresh; more go in the next.
X_ENTRIES_MAX = 100

_BID, _OFFER, _TRADE = "0", "1", "2"
_SIDE_ENTRY = {Side.BUY: _BID, Side.SELL: _OFFER}
_ACTIONS = {LevelAction.ADD: "0", LevelAction.CHANGE: "1", LevelAction.DELETE: "2"}
_SNAPSHOT, _SUBSCRIBE, _UNSUBSCRIBE = "0", "1", "2"
_INCREMENTAL = "1"

#: MDReqRejReason (281).
UNKNOWN_SYMBOL = "0"
DUPLICATE_MD_REQ_ID = "1"
INSUFFICIENT_BANDWIDTH = "2"
UNSUPPORTED_SUBSCRIPTION_REQUEST_TYPE = "4"
UNSUPPORTED_MARKET_DEPTH = "5"
UNSUPPORTED_MD_UPDATE_TYPE = "6"
UNSUPPORTED_MD_ENTRY_TYPE = "8"
_FEED_REJECTS = {
    FeedRejectReason.UNKNOWN_INSTRUMENT: UNKNOWN_SYMBOL,
    FeedRejectReason.BAD_DEPTH: UNSUPPORTED_MARKET_DEPTH,
}

FeedKey = tuple[int, FeedKind, int]


@dataclass
class _Outgoing:
    """A report being built: W and Y have their body, an X gathers entries."""

    msg_type: str
    md_req_id: str
    body: Fields = field(default_factory=list)
    entries: list[Fields] = field(default_factory=list)

    def report(self) -> Report:
        head: Fields = [(Tag.MD_REQ_ID, self.md_req_id)]
        if self.msg_type == MsgType.MARKET_DATA_INCREMENTAL_REFRESH:
            head.append((Tag.NO_MD_ENTRIES, str(len(self.entries))))
        return Report(self.msg_type, head + self.body + [f for e in self.entries for f in e])


@dataclass
class _Request:
    """One MarketDataRequest being served."""

    md_req_id: str
    symbols: list[Symbol]
    depth: int
    entry_types: frozenset[str]
    updates: bool
    #: Instruments whose W is still to be sent (a snapshot-only request ends after).
    waiting: set[int]

    def feeds(self) -> list[FeedKey]:
        """The feeds it needs: L2 at its depth for bids or offers, trades for trades."""
        feeds = []
        if self.entry_types & {_BID, _OFFER}:
            feeds.append((FeedKind.L2, self.depth))
        if _TRADE in self.entry_types and (self.updates or not feeds):
            feeds.append((FeedKind.TRADES, 0))
        return [(s.instrument, feed, depth) for s in self.symbols for feed, depth in feeds]

    def snapshot_feed(self) -> FeedKind:
        """The feed whose snapshot becomes its W."""
        return FeedKind.L2 if self.entry_types & {_BID, _OFFER} else FeedKind.TRADES


class RequestRefusedError(Exception):
    """A MarketDataRequest refused with a MarketDataRequestReject."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(text)
        self.reason, self.text = reason, text

    def outgoing(self, md_req_id: str) -> _Outgoing:
        body: Fields = [(Tag.MD_REQ_REJ_REASON, self.reason), (Tag.TEXT, self.text)]
        return _Outgoing(MsgType.MARKET_DATA_REQUEST_REJECT, md_req_id, body)


class MarketData:
    """The market data requests of one FIX session and the reports they receive."""

    def __init__(self, symbols: SymbolTable, depths: list[int], requests_max: int) -> None:
        self.symbols = symbols
        self.depths = sorted({1, *depths})
        self.requests_max = requests_max
        self._requests: dict[str, _Request] = {}
        self._by_feed: dict[FeedKey, list[str]] = {}
        self._snapshot: list[Fields] = []
        self._out: list[_Outgoing] = []
        #: The X being filled per MDReqID.
        self._open_x: dict[str, _Outgoing] = {}

    # FIX → feed subscriptions ----------------------------------------------------------

    def request(
        self, fields: dict[int, str], groups: dict[int, list[dict[int, str]]]
    ) -> list[Forward]:
        """The feed subscriptions a MarketDataRequest becomes (a reject waits in
        :meth:`take_reports`); raises :class:`InvalidFieldError`."""
        required(fields, Tag.MD_REQ_ID, Tag.SUBSCRIPTION_REQUEST_TYPE)
        md_req_id = fields[Tag.MD_REQ_ID]
        try:
            if fields[Tag.SUBSCRIPTION_REQUEST_TYPE] == _UNSUBSCRIBE:
                return self._unsubscribe(md_req_id)
            request = self._parse(fields, groups)
        except RequestRefusedError as e:
            self._out.append(e.outgoing(md_req_id))
            return []
        self._requests[md_req_id] = request
        forwards = []
        for key in request.feeds():
            # Subscribing again (another request holds the feed) brings a fresh snapshot.
            self._by_feed.setdefault(key, []).append(md_req_id)
            instrument, feed, depth = key
            forwards.append(Forward(FeedSubscribe(instrument=instrument, feed=feed, depth=depth)))
        return forwards

    def _parse(self, f: dict[int, str], groups: dict[int, list[dict[int, str]]]) -> _Request:
        required(f, Tag.MARKET_DEPTH)
        entry_types = _group(groups, Tag.NO_MD_ENTRY_TYPES, Tag.MD_ENTRY_TYPE)
        names = _group(groups, Tag.NO_RELATED_SYM, Tag.SYMBOL)
        md_req_id, kind = f[Tag.MD_REQ_ID], f[Tag.SUBSCRIPTION_REQUEST_TYPE]
        if md_req_id in self._requests:
            raise RequestRefusedError(DUPLICATE_MD_REQ_ID, "MDReqID already in use")
        if kind not in (_SNAPSHOT, _SUBSCRIBE):
            raise RequestRefusedError(
                UNSUPPORTED_SUBSCRIPTION_REQUEST_TYPE, "SubscriptionRequestType: 0-2"
            )
        if f.get(Tag.MD_UPDATE_TYPE, _INCREMENTAL) != _INCREMENTAL:
            raise RequestRefusedError(UNSUPPORTED_MD_UPDATE_TYPE, "MDUpdateType: 1 (incremental)")
        if int(f[Tag.MARKET_DEPTH]) not in self.depths:
            offered = ", ".join(map(str, self.depths))
            raise RequestRefusedError(UNSUPPORTED_MARKET_DEPTH, f"MarketDepth: one of {offered}")
        if not set(entry_types) <= {_BID, _OFFER, _TRADE}:
            raise RequestRefusedError(UNSUPPORTED_MD_ENTRY_TYPE, "MDEntryType: 0, 1 or 2")
        symbols: list[Symbol] = []
        for name in names:
            symbol = self.symbols.by_name(name)
            if symbol is None:
                raise RequestRefusedError(UNKNOWN_SYMBOL, f"unknown symbol {name}")
            if symbol not in symbols:
                symbols.append(symbol)
        if len(self._requests) >= self.requests_max:
            raise RequestRefusedError(INSUFFICIENT_BANDWIDTH, "too many market data requests")
        return _Request(
            md_req_id,
            symbols,
            int(f[Tag.MARKET_DEPTH]),
            frozenset(entry_types),
            updates=kind == _SUBSCRIBE,
            waiting={s.instrument for s in symbols},
        )

    def _unsubscribe(self, md_req_id: str) -> list[Forward]:
        if md_req_id not in self._requests:
            raise RequestRefusedError(
                UNSUPPORTED_SUBSCRIPTION_REQUEST_TYPE, "no such MDReqID to end"
            )
        return self._drop(md_req_id)

    def _drop(self, md_req_id: str) -> list[Forward]:
        """Forgets a request; unsubscribes the feeds no other request holds."""
        request = self._requests.pop(md_req_id)
        self._open_x.pop(md_req_id, None)
        forwards = []
        for key in request.feeds():
            holders = self._by_feed.get(key, [])
            if md_req_id in holders:
                holders.remove(md_req_id)
            if not holders:
                self._by_feed.pop(key, None)
                instrument, feed, depth = key
                off = FeedSubscribe(instrument=instrument, feed=feed, depth=depth, subscribe=False)
                forwards.append(Forward(off))
        return forwards

    # Feed messages → FIX ---------------------------------------------------------------

    def response(self, m: Message) -> list[Forward]:
        """Takes one feed message; returns the unsubscriptions it caused. The FIX reports
        wait in :meth:`take_reports`."""
        if isinstance(m, SnapshotBegin):
            self._snapshot = []
        elif isinstance(m, SnapshotLevel):
            self._snapshot.append(self._level_entry(m))
        elif isinstance(m, SnapshotEnd):
            return self._snapshot_end(m)
        elif isinstance(m, LevelUpdate):
            self._level_update(m)
        elif isinstance(m, Trade):
            self._trade(m)
        elif isinstance(m, FeedRejected):
            return self._feed_rejected(m)
        return []

    def take_reports(self) -> list[Report]:
        """The W, X and Y built since the last call, in order."""
        out, self._out = self._out, []
        self._open_x.clear()
        return [o.report() for o in out]

    def _level_entry(self, m: SnapshotLevel) -> Fields:
        symbol = self.symbols.by_instrument(m.instrument)
        return [
            (Tag.MD_ENTRY_TYPE, _SIDE_ENTRY[m.side]),
            (Tag.MD_ENTRY_PX, symbol.price(m.price)),
            (Tag.MD_ENTRY_SIZE, str(m.qty)),
            (Tag.NUMBER_OF_ORDERS, str(m.order_count)),
        ]

    def _snapshot_end(self, m: SnapshotEnd) -> list[Forward]:
        forwards: list[Forward] = []
        symbol = self.symbols.by_instrument(m.instrument)
        for md_req_id in list(self._by_feed.get((m.instrument, m.feed, m.depth), [])):
            request = self._requests[md_req_id]
            if m.feed != request.snapshot_feed():
                continue
            entries = [e for e in self._snapshot if e[0][1] in request.entry_types]
            body: Fields = [(Tag.SYMBOL, symbol.symbol), (Tag.NO_MD_ENTRIES, str(len(entries)))]
            body += [f for e in entries for f in e]
            # Incrementals after the snapshot go in an X after the W.
            self._open_x.pop(md_req_id, None)
            self._out.append(_Outgoing(MsgType.MARKET_DATA_SNAPSHOT, md_req_id, body))
            request.waiting.discard(m.instrument)
            if not request.updates and not request.waiting:
                forwards += self._drop(md_req_id)
        self._snapshot = []
        return forwards

    def _level_update(self, m: LevelUpdate) -> None:
        entry_type = _SIDE_ENTRY[m.side]
        symbol = self.symbols.by_instrument(m.instrument)
        entry: Fields = [
            (Tag.MD_UPDATE_ACTION, _ACTIONS[m.action]),
            (Tag.MD_ENTRY_TYPE, entry_type),
            (Tag.SYMBOL, symbol.symbol),
            (Tag.MD_ENTRY_PX, symbol.price(m.price)),
        ]
        if m.action != LevelAction.DELETE:
            entry += [
                (Tag.MD_ENTRY_SIZE, str(m.qty)),
                (Tag.NUMBER_OF_ORDERS, str(m.order_count)),
            ]
        self._incremental((m.instrument, FeedKind.L2, m.depth), entry_type, entry)

    def _trade(self, m: Trade) -> None:
        symbol = self.symbols.by_instrument(m.instrument)
        entry: Fields = [
            (Tag.MD_UPDATE_ACTION, "0"),
            (Tag.MD_ENTRY_TYPE, _TRADE),
            (Tag.SYMBOL, symbol.symbol),
            (Tag.MD_ENTRY_PX, symbol.price(m.price)),
            (Tag.MD_ENTRY_SIZE, str(m.qty)),
        ]
        self._incremental((m.instrument, FeedKind.TRADES, 0), _TRADE, entry)

    def _incremental(self, key: FeedKey, entry_type: str, entry: Fields) -> None:
        """Adds ``entry`` to the open X of every request of ``key`` that wants it."""
        for md_req_id in self._by_feed.get(key, []):
            request = self._requests[md_req_id]
            if not request.updates or entry_type not in request.entry_types:
                continue
            x = self._open_x.get(md_req_id)
            if x is None or len(x.entries) >= X_ENTRIES_MAX:
                x = _Outgoing(MsgType.MARKET_DATA_INCREMENTAL_REFRESH, md_req_id)
                self._out.append(x)
                self._open_x[md_req_id] = x
            x.entries.append(entry)

    def _feed_rejected(self, m: FeedRejected) -> list[Forward]:
        """The gateway refused a feed: every request that needs it is rejected."""
        if m.feed == RejectedFeed.TOP_OF_BOOK:
            return []  # answers the old Subscribe, which FIX sessions never send
        key = (m.instrument, FeedKind(m.feed), m.depth)
        reason = _FEED_REJECTS.get(m.reason, INSUFFICIENT_BANDWIDTH)
        forwards: list[Forward] = []
        for md_req_id in list(self._by_feed.get(key, [])):
            self._out.append(RequestRefusedError(reason, m.reason.name.lower()).outgoing(md_req_id))
            forwards += self._drop(md_req_id)
        return forwards


def _group(groups: dict[int, list[dict[int, str]]], count_tag: Tag, tag: Tag) -> list[str]:
    """The values of ``tag`` in the entries of a required group."""
    entries = groups.get(count_tag)
    if not entries:
        raise InvalidFieldError(
            SessionRejectReason.REQUIRED_TAG_MISSING,
            count_tag,
            f"{count_tag.name}({int(count_tag)}) missing",
        )
    return [e[tag] for e in entries]
