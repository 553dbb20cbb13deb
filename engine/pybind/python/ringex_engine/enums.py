"""The core's enums, with the numeric values it uses on the wire and in its state hash.

The native module checks these classes against the core when it first uses them, so a
value changed on one side only fails loudly instead of mislabelling events.
"""

from enum import IntEnum

__all__ = [
    "CancelReason",
    "CommandKind",
    "LevelAction",
    "OrderType",
    "RejectReason",
    "RemoveReason",
    "Side",
    "TimeInForce",
]


class _CoreEnum(IntEnum):
    """An IntEnum that prints as ``Side.BUY`` inside the records' reprs."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


class Side(_CoreEnum):
    """Which side of the book an order is on."""

    BUY = 1
    SELL = 2


class OrderType(_CoreEnum):
    """LIMIT trades at its price or better; MARKET at any price inside the price band."""

    LIMIT = 1
    MARKET = 2


class TimeInForce(_CoreEnum):
    """How long an order may stay on the book."""

    GTC = 1
    """Good till cancelled: rests across trading days."""
    IOC = 2
    """Immediate or cancel: trades what it can, the remainder is cancelled."""
    FOK = 3
    """Fill or kill: trades its whole quantity at once or nothing."""
    DAY = 4
    """Rests until the end of the trading day, then expires."""


class RejectReason(_CoreEnum):
    """Why the core refused a command."""

    UNKNOWN_INSTRUMENT = 1
    UNKNOWN_ACCOUNT = 2
    INVALID_QUANTITY = 3
    INVALID_PRICE = 4
    PRICE_NOT_ON_TICK = 5
    QTY_NOT_ON_LOT = 6
    INVALID_ORDER_TYPE = 7
    """The combination of order type, time in force and flags is not allowed."""
    DUPLICATE_CLIENT_ORDER_ID = 8
    UNKNOWN_ORDER = 9
    TOO_LATE_TO_CANCEL = 10
    """The order existed today but is no longer open (filled, cancelled or expired)."""
    MAX_ORDER_QTY = 11
    MAX_ORDER_NOTIONAL = 12
    PRICE_BAND = 13
    MAX_OPEN_ORDERS = 14
    POST_ONLY_WOULD_CROSS = 15
    INSTRUMENT_HALTED = 16
    BOOK_FULL = 17
    """The engine's order capacity is exhausted."""
    DAILY_ORDER_LIMIT = 18
    """The day's client order id capacity is exhausted."""
    DUPLICATE_INSTRUMENT = 19
    DUPLICATE_ACCOUNT = 20
    INVALID_INSTRUMENT = 21
    INVALID_ACCOUNT = 22
    SEQUENCE_GAP = 23
    """``seq`` was not exactly one more than the last applied sequence number."""
    TIMESTAMP_REGRESSED = 24
    """``timestamp_ns`` was earlier than the last applied timestamp."""
    POSITION_LIMIT = 25
    """The order could take the account's net position past the core's bound."""


class CancelReason(_CoreEnum):
    """Why an order left the book or never rested."""

    REQUESTED = 1
    MASS_CANCEL = 2
    IMMEDIATE_REMAINDER = 3
    """The unfilled remainder of an IOC or market order."""
    FILL_OR_KILL = 4
    """A fill-or-kill order that could not fill completely."""
    NO_LIQUIDITY = 5
    """A market order that found no liquidity inside the price band."""


class CommandKind(_CoreEnum):
    """The kind of command a ``Rejected`` event refers to."""

    NEW_ORDER = 1
    CANCEL = 2
    REPLACE = 3
    MASS_CANCEL = 4
    END_OF_DAY = 5
    ADD_INSTRUMENT = 6
    ADD_ACCOUNT = 7
    SET_HALTED = 8


class RemoveReason(_CoreEnum):
    """Why an order left a public book (``OrderRemoved``)."""

    FILLED = 1
    CANCELLED = 2
    """By its owner, a mass cancel or an operator."""
    EXPIRED = 3
    """A DAY order at the end of the trading day."""


class LevelAction(_CoreEnum):
    """What a ``LevelUpdate`` did to the top levels of a side."""

    ADD = 1
    """A level entered the top: new, or moved up from below."""
    CHANGE = 2
    DELETE = 3
    """A level left the top: emptied, or pushed below it."""
