"""Typed messages of the client session protocol (SPEC.md, "Client sessions").

Generated from the declarations in protocol/src/client.rs: do not edit. Regenerate with
``RINGEX_WRITE_DECLARED=1 cargo test -p ringex-protocol --test declared_outputs``.

Every message is a :class:`msgspec.Struct` whose fields are in wire order; ``TYPE`` is
its type byte, ``LAYOUT`` the :mod:`struct` format of the fields after it,
``TEXT_WIDTHS`` the width of each text field and ``FLAGS`` the bit of each flag field.
Messages a client sends are :data:`ClientMessage`; messages the gateway sends are
:data:`ServerMessage`. :class:`Heartbeat` goes both ways.
"""

from typing import ClassVar

import msgspec

from ringex_client.enums import (
    ALL_INSTRUMENTS,
    CancelReason,
    CommandKind,
    DefinitionUpdate,
    FeedKind,
    FeedRejectReason,
    InstrumentState,
    LevelAction,
    Liquidity,
    LoginRejectReason,
    OrderType,
    RejectedFeed,
    RejectReason,
    RemoveReason,
    Role,
    SessionEndReason,
    Side,
    TimeInForce,
)


class Message(msgspec.Struct, frozen=True):
    """Base of every protocol message."""

    TYPE: ClassVar[bytes]
    LAYOUT: ClassVar[str]
    TEXT_WIDTHS: ClassVar[dict[str, int]] = {}
    FLAGS: ClassVar[dict[str, int]] = {}


class Login(Message, frozen=True):
    """First message of a session. ``next_seq`` is the next stream sequence number the
    client expects (1 for everything held; 0 for no replay)."""

    TYPE = b"L"
    LAYOUT = "16s32sQ"
    TEXT_WIDTHS = {"username": 16, "password": 32}
    username: str
    password: str
    next_seq: int = 0


class Logout(Message, frozen=True):
    """Ends the session; the gateway answers Goodbye(Logout) and closes."""

    TYPE = b"O"
    LAYOUT = ""


class Heartbeat(Message, frozen=True):
    """Nothing to say, still alive (both directions)."""

    TYPE = b"H"
    LAYOUT = ""


class NewOrder(Message, frozen=True):
    """Enter an order. Market orders carry price 0 and time in force IOC or FOK."""

    TYPE = b"N"
    LAYOUT = "QIBBBBqQ"
    FLAGS = {"post_only": 0x01}
    client_order_id: int
    instrument: int
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    post_only: bool
    price: int
    qty: int


class Cancel(Message, frozen=True):
    """Cancel the open order with this client order id."""

    TYPE = b"X"
    LAYOUT = "Q"
    client_order_id: int


class Replace(Message, frozen=True):
    """Cancel/replace: new price and open quantity; the order takes ``client_order_id``
    (which may equal ``orig_client_order_id``)."""

    TYPE = b"U"
    LAYOUT = "QQqQ"
    orig_client_order_id: int
    client_order_id: int
    price: int
    qty: int


class MassCancel(Message, frozen=True):
    """Cancel every open order of the account on ``instrument`` (``ALL_INSTRUMENTS``: on all)."""

    TYPE = b"M"
    LAYOUT = "I"
    instrument: int = ALL_INSTRUMENTS


class Subscribe(Message, frozen=True):
    """Start (or stop) top-of-book and trade messages for an instrument."""

    TYPE = b"S"
    LAYOUT = "IB"
    instrument: int
    subscribe: bool = True


class EndOfDay(Message, frozen=True):
    """Admin only: close the trading day (DAY orders expire). Answered by AdminResult
    with the same ``request_id``."""

    TYPE = b"D"
    LAYOUT = "Q"
    request_id: int


class SetHalted(Message, frozen=True):
    """Admin only: halt or resume trading in an instrument. Answered by AdminResult with
    the same ``request_id``."""

    TYPE = b"T"
    LAYOUT = "QIB"
    request_id: int
    instrument: int
    halted: bool


class FeedSubscribe(Message, frozen=True):
    """Start (a snapshot, then incrementals) or stop one feed of an instrument, or of
    every instrument with ``ALL_INSTRUMENTS``. ``depth`` is the L2 depth, else 0."""

    TYPE = b"F"
    LAYOUT = "IBBB"
    instrument: int
    feed: FeedKind
    depth: int = 0
    subscribe: bool = True


class InstrumentRequest(Message, frozen=True):
    """Ask for the definition of one instrument, or of every instrument with
    ``ALL_INSTRUMENTS``: answered by InstrumentDefinitions, then InstrumentsEnd."""

    TYPE = b"R"
    LAYOUT = "I"
    instrument: int = ALL_INSTRUMENTS


class ResendRequest(Message, frozen=True):
    """Ask for a feed's incrementals ``from_seq..=to_seq`` again (L2: level_seq)."""

    TYPE = b"G"
    LAYOUT = "IBBQQ"
    instrument: int
    feed: FeedKind
    depth: int
    from_seq: int
    to_seq: int


class LoginAccepted(Message, frozen=True):
    """Login succeeded. Sequenced messages from ``next_seq`` up to ``replay_end`` are the
    replay; later ones are live. A new ``epoch`` means the numbering restarted."""

    TYPE = b"L"
    LAYOUT = "IBQQQ"
    account: int
    role: Role
    epoch: int
    next_seq: int
    replay_end: int


class SessionParameters(Message, frozen=True):
    """Sent right after LoginAccepted: the session's limits and timers in force."""

    TYPE = b"P"
    LAYOUT = "IIIIIIIII"
    heartbeat_ms: int
    idle_timeout_ms: int
    frame_timeout_ms: int
    login_timeout_ms: int
    answer_timeout_ms: int
    order_rate_per_s: int
    order_burst: int
    backlog_messages_max: int
    unsequenced_bytes_max: int


class LoginRejected(Message, frozen=True):
    """Login refused; the gateway closes the connection."""

    TYPE = b"R"
    LAYOUT = "B"
    reason: LoginRejectReason


class Goodbye(Message, frozen=True):
    """The gateway ends the session, saying why; ``detail`` is the decode error code for
    ``BAD_INPUT``."""

    TYPE = b"Z"
    LAYOUT = "BB"
    reason: SessionEndReason
    detail: int = 0


class Accepted(Message, frozen=True):
    """The engine accepted a new order."""

    TYPE = b"A"
    LAYOUT = "QQQQIBBBBqQ"
    FLAGS = {"post_only": 0x01}
    seq: int
    timestamp_ns: int
    client_order_id: int
    order_id: int
    instrument: int
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    post_only: bool
    price: int
    qty: int


class Rejected(Message, frozen=True):
    """A new order, replace or mass cancel was refused (an engine reason, 1 to 25, or a
    gateway one, 100 to 103)."""

    TYPE = b"J"
    LAYOUT = "QQBBQ"
    seq: int
    timestamp_ns: int
    command: CommandKind
    reason: RejectReason
    client_order_id: int


class Executed(Message, frozen=True):
    """A fill: ``leaves`` is the order's open quantity after it."""

    TYPE = b"E"
    LAYOUT = "QQQQIBqQQB"
    seq: int
    timestamp_ns: int
    client_order_id: int
    match_id: int
    instrument: int
    side: Side
    price: int
    qty: int
    leaves: int
    liquidity: Liquidity


class Cancelled(Message, frozen=True):
    """An order's open quantity ``qty`` left the book (or never rested)."""

    TYPE = b"C"
    LAYOUT = "QQQIQB"
    seq: int
    timestamp_ns: int
    client_order_id: int
    instrument: int
    qty: int
    reason: CancelReason


class Replaced(Message, frozen=True):
    """A cancel/replace took effect."""

    TYPE = b"U"
    LAYOUT = "QQQQIqQB"
    seq: int
    timestamp_ns: int
    orig_client_order_id: int
    client_order_id: int
    instrument: int
    price: int
    qty: int
    priority_kept: bool


class CancelRejected(Message, frozen=True):
    """A cancel was refused."""

    TYPE = b"I"
    LAYOUT = "QQQB"
    seq: int
    timestamp_ns: int
    client_order_id: int
    reason: RejectReason


class MassCancelled(Message, frozen=True):
    """A mass cancel took effect on ``count`` orders (``instrument`` ``ALL_INSTRUMENTS``: all)."""

    TYPE = b"M"
    LAYOUT = "QQII"
    seq: int
    timestamp_ns: int
    instrument: int
    count: int


class InstrumentDefinition(Message, frozen=True):
    """An instrument's trading rules and state. ``min_qty`` is one lot; prices are
    positive multiples of ``tick_size`` within the price band (``price_band_bps`` around
    the last trade price, or ``reference_price`` before the first trade; 0: no band)."""

    TYPE = b"Y"
    LAYOUT = "QQI16sqQQQqIBB"
    TEXT_WIDTHS = {"symbol": 16}
    seq: int
    timestamp_ns: int
    instrument: int
    symbol: str
    tick_size: int
    lot_size: int
    min_qty: int
    max_qty: int
    reference_price: int
    price_band_bps: int
    state: InstrumentState
    update: DefinitionUpdate


class InstrumentsEnd(Message, frozen=True):
    """Closes the answer to an InstrumentRequest: ``count`` definitions came before it
    (0: the instrument asked for is not listed)."""

    TYPE = b"W"
    LAYOUT = "II"
    instrument: int
    count: int


class AdminResult(Message, frozen=True):
    """The answer to an admin command: ``reason`` 0 when it took effect, else why it was
    refused (a reject reason)."""

    TYPE = b"K"
    LAYOUT = "QQBB"
    timestamp_ns: int
    request_id: int
    command: CommandKind
    reason: int


class TopOfBook(Message, frozen=True):
    """Best bid and offer of a subscribed instrument; 0 and 0 for an empty side."""

    TYPE = b"Q"
    LAYOUT = "QIqQqQ"
    timestamp_ns: int
    instrument: int
    bid_price: int
    bid_qty: int
    ask_price: int
    ask_qty: int


class TradeReport(Message, frozen=True):
    """A trade in a subscribed instrument."""

    TYPE = b"T"
    LAYOUT = "QIQqQB"
    timestamp_ns: int
    instrument: int
    match_id: int
    price: int
    qty: int
    aggressor_side: Side


class OrderAdded(Message, frozen=True):
    """L3: an order joined the back of the queue at ``price``."""

    TYPE = b"a"
    LAYOUT = "IQQQBqQ"
    instrument: int
    feed_seq: int
    timestamp_ns: int
    order_id: int
    side: Side
    price: int
    qty: int


class OrderReduced(Message, frozen=True):
    """L3: a resting order traded ``qty`` and keeps its place with ``remaining_qty``."""

    TYPE = b"r"
    LAYOUT = "IQQQBqQQ"
    instrument: int
    feed_seq: int
    timestamp_ns: int
    order_id: int
    side: Side
    price: int
    qty: int
    remaining_qty: int


class OrderRemoved(Message, frozen=True):
    """L3: a resting order left the book with ``qty`` open."""

    TYPE = b"x"
    LAYOUT = "IQQQBqQB"
    instrument: int
    feed_seq: int
    timestamp_ns: int
    order_id: int
    side: Side
    price: int
    qty: int
    reason: RemoveReason


class OrderReplaced(Message, frozen=True):
    """L3: a resting order now rests at ``price`` with ``qty``; at the back of the level
    unless ``priority_kept``."""

    TYPE = b"u"
    LAYOUT = "IQQQBqQqQB"
    instrument: int
    feed_seq: int
    timestamp_ns: int
    order_id: int
    side: Side
    old_price: int
    old_qty: int
    price: int
    qty: int
    priority_kept: bool


class Trade(Message, frozen=True):
    """L3 and trades feeds: a match against the resting ``maker_order_id``."""

    TYPE = b"t"
    LAYOUT = "IQQQqQBQ"
    instrument: int
    feed_seq: int
    timestamp_ns: int
    match_id: int
    price: int
    qty: int
    aggressor_side: Side
    maker_order_id: int


class TradingStatus(Message, frozen=True):
    """L3 and trades feeds: listed (not halted), halted or resumed."""

    TYPE = b"s"
    LAYOUT = "IQQB"
    instrument: int
    feed_seq: int
    timestamp_ns: int
    halted: bool


class LevelUpdate(Message, frozen=True):
    """L2: one change to the best ``depth`` levels of a side (a Delete reads 0, 0);
    ``feed_seq`` is the L3 book event that caused it."""

    TYPE = b"l"
    LAYOUT = "IBQQQBBqQI"
    instrument: int
    depth: int
    level_seq: int
    feed_seq: int
    timestamp_ns: int
    side: Side
    action: LevelAction
    price: int
    qty: int
    order_count: int


class SnapshotBegin(Message, frozen=True):
    """Opens a snapshot of ``count`` entries covering the feed up to ``feed_seq`` (and
    ``level_seq`` for L2); ``checksum`` is the CRC-32C book checksum of the entries."""

    TYPE = b"b"
    LAYOUT = "IBBQQBII"
    instrument: int
    feed: FeedKind
    depth: int
    feed_seq: int
    level_seq: int
    halted: bool
    count: int
    checksum: int


class SnapshotOrder(Message, frozen=True):
    """One resting order of an L3 snapshot, in queue order."""

    TYPE = b"o"
    LAYOUT = "IBqQQ"
    instrument: int
    side: Side
    price: int
    order_id: int
    qty: int


class SnapshotLevel(Message, frozen=True):
    """One price level of an L2 snapshot."""

    TYPE = b"v"
    LAYOUT = "IBqQI"
    instrument: int
    side: Side
    price: int
    qty: int
    order_count: int


class SnapshotEnd(Message, frozen=True):
    """Closes a snapshot; the incrementals after it continue from ``feed_seq``."""

    TYPE = b"e"
    LAYOUT = "IBBQQ"
    instrument: int
    feed: FeedKind
    depth: int
    feed_seq: int
    level_seq: int


class FeedRejected(Message, frozen=True):
    """A Subscribe (``feed`` TOP_OF_BOOK, 0), FeedSubscribe or ResendRequest refused."""

    TYPE = b"f"
    LAYOUT = "IBBB"
    instrument: int
    feed: RejectedFeed
    depth: int
    reason: FeedRejectReason


BookEvent = (
    OrderAdded | OrderReduced | OrderRemoved | OrderReplaced | Trade | TradingStatus
)  # fmt: skip
FeedMessage = (
    OrderAdded | OrderReduced | OrderRemoved | OrderReplaced | Trade | TradingStatus
    | LevelUpdate | SnapshotBegin | SnapshotOrder | SnapshotLevel | SnapshotEnd
    | FeedRejected
)  # fmt: skip
ClientMessage = (
    Login | Logout | Heartbeat | NewOrder | Cancel | Replace | MassCancel | Subscribe
    | EndOfDay | SetHalted | FeedSubscribe | InstrumentRequest | ResendRequest
)  # fmt: skip
ServerMessage = (
    LoginAccepted | SessionParameters | LoginRejected | Heartbeat | Goodbye | Accepted
    | Rejected | Executed | Cancelled | Replaced | CancelRejected | MassCancelled
    | InstrumentDefinition | InstrumentsEnd | AdminResult | TopOfBook | TradeReport
    | OrderAdded | OrderReduced | OrderRemoved | OrderReplaced | Trade | TradingStatus
    | LevelUpdate | SnapshotBegin | SnapshotOrder | SnapshotLevel | SnapshotEnd
    | FeedRejected
)  # fmt: skip
OrderResponse = (
    Accepted | Rejected | Executed | Cancelled | Replaced | CancelRejected
    | MassCancelled
)  # fmt: skip

CLIENT_TYPES: tuple[type[Message], ...] = (
    Login, Logout, Heartbeat, NewOrder, Cancel, Replace, MassCancel, Subscribe, EndOfDay,
    SetHalted, FeedSubscribe, InstrumentRequest, ResendRequest,
)  # fmt: skip
SERVER_TYPES: tuple[type[Message], ...] = (
    LoginAccepted, SessionParameters, LoginRejected, Heartbeat, Goodbye, Accepted,
    Rejected, Executed, Cancelled, Replaced, CancelRejected, MassCancelled,
    InstrumentDefinition, InstrumentsEnd, AdminResult, TopOfBook, TradeReport,
    OrderAdded, OrderReduced, OrderRemoved, OrderReplaced, Trade, TradingStatus,
    LevelUpdate, SnapshotBegin, SnapshotOrder, SnapshotLevel, SnapshotEnd, FeedRejected,
)  # fmt: skip
