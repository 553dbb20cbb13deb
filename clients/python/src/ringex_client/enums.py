"""The protocol's enumerations, with the numbers they have on the wire (SPEC.md)."""

from enum import IntEnum


class Side(IntEnum):
    """Order side."""

    BUY = 1
    SELL = 2


class OrderType(IntEnum):
    """Limit orders carry a price; market orders carry 0 and must be IOC or FOK."""

    LIMIT = 1
    MARKET = 2


class TimeInForce(IntEnum):
    """How long an order may rest."""

    GTC = 1
    IOC = 2
    FOK = 3
    DAY = 4


class CommandKind(IntEnum):
    """The command a reject refers to."""

    NEW_ORDER = 1
    CANCEL = 2
    REPLACE = 3
    MASS_CANCEL = 4
    END_OF_DAY = 5
    ADD_INSTRUMENT = 6
    ADD_ACCOUNT = 7
    SET_HALTED = 8


class RejectReason(IntEnum):
    """Why an order message was refused: the engine's reasons (1-25), then the
    gateway's own (100-103), which arrive unsequenced."""

    UNKNOWN_INSTRUMENT = 1
    UNKNOWN_ACCOUNT = 2
    INVALID_QUANTITY = 3
    INVALID_PRICE = 4
    PRICE_NOT_ON_TICK = 5
    QTY_NOT_ON_LOT = 6
    INVALID_ORDER_TYPE = 7
    DUPLICATE_CLIENT_ORDER_ID = 8
    UNKNOWN_ORDER = 9
    TOO_LATE_TO_CANCEL = 10
    MAX_ORDER_QTY = 11
    MAX_ORDER_NOTIONAL = 12
    PRICE_BAND = 13
    MAX_OPEN_ORDERS = 14
    POST_ONLY_WOULD_CROSS = 15
    INSTRUMENT_HALTED = 16
    BOOK_FULL = 17
    DAILY_ORDER_LIMIT = 18
    DUPLICATE_INSTRUMENT = 19
    DUPLICATE_ACCOUNT = 20
    INVALID_INSTRUMENT = 21
    INVALID_ACCOUNT = 22
    SEQUENCE_GAP = 23
    TIMESTAMP_REGRESSED = 24
    POSITION_LIMIT = 25
    RATE_LIMITED = 100
    ENGINE_UNAVAILABLE = 101
    NOT_PERMITTED = 102
    ENGINE_BEHIND = 103


class CancelReason(IntEnum):
    """Why an order left the book or never rested."""

    REQUESTED = 1
    MASS_CANCEL = 2
    IMMEDIATE_REMAINDER = 3
    FILL_OR_KILL = 4
    NO_LIQUIDITY = 5
    EXPIRED = 6


class Liquidity(IntEnum):
    """Whether a fill added (maker) or removed (taker) liquidity."""

    MAKER = 1
    TAKER = 2


class Role(IntEnum):
    """What a session may do."""

    TRADER = 1
    READ_ONLY = 2
    ADMIN = 3


class LoginRejectReason(IntEnum):
    """Why a login was refused."""

    NOT_AUTHORIZED = 1
    SESSION_LIMIT = 2
    UNAVAILABLE = 3
    THROTTLED = 4


class SessionEndReason(IntEnum):
    """Why the gateway ended a session (Goodbye)."""

    LOGOUT = 1
    BAD_INPUT = 2
    IDLE_TIMEOUT = 3
    SLOW_CONSUMER = 4
    SHUTDOWN = 5
    LOGIN_TIMEOUT = 6
    NOT_LOGGED_IN = 7
    FRAME_TIMEOUT = 8


class DecodeError(IntEnum):
    """Why bytes were refused; the detail of a BadInput Goodbye."""

    TRUNCATED = 1
    TRAILING_BYTES = 2
    UNKNOWN_TYPE = 3
    BAD_ENUM = 4
    BAD_LENGTH = 5
    BAD_FLAGS = 6


class FeedKind(IntEnum):
    """A market data feed of one instrument."""

    L3 = 1
    L2 = 2
    TRADES = 3


class RejectedFeed(IntEnum):
    """The request a FeedRejected answers: a feed, or the top-of-book Subscribe."""

    TOP_OF_BOOK = 0
    L3 = 1
    L2 = 2
    TRADES = 3


class FeedRejectReason(IntEnum):
    """Why the gateway refused a Subscribe, FeedSubscribe or ResendRequest."""

    UNKNOWN_INSTRUMENT = 1
    BAD_DEPTH = 2
    TOO_MANY_SUBSCRIPTIONS = 3
    RESEND_OUT_OF_WINDOW = 4
    BAD_RANGE = 5
    NOT_SUBSCRIBED = 6
    UNAVAILABLE = 7


class RemoveReason(IntEnum):
    """Why an order left the book."""

    FILLED = 1
    CANCELLED = 2
    EXPIRED = 3


class LevelAction(IntEnum):
    """What happened to a level in the best ``depth`` of its side."""

    ADD = 1
    CHANGE = 2
    DELETE = 3


class InstrumentState(IntEnum):
    """Whether an instrument takes new orders (InstrumentDefinition)."""

    TRADING = 1
    HALTED = 2


class DefinitionUpdate(IntEnum):
    """Why an InstrumentDefinition was sent."""

    CURRENT = 1
    LISTED = 2
    HALTED = 3
    RESUMED = 4


ALL_INSTRUMENTS = 0xFFFFFFFF
"""MassCancel's instrument meaning every instrument."""
