"""Type stubs of the native module; import everything from ``ringex_engine`` instead."""

from collections.abc import Iterable
from typing import TypeAlias, final

from ringex_engine.enums import (
    CancelReason,
    CommandKind,
    LevelAction,
    OrderType,
    RejectReason,
    RemoveReason,
    Side,
    TimeInForce,
)

# Commands. Arguments are keyword-only; ints out of their field's range raise
# OverflowError, values of the wrong type TypeError, unknown enum values ValueError.

@final
class NewOrder:
    """Enter an order. ``price`` is the limit in price units (0 for market orders)."""

    def __init__(
        self,
        *,
        account: int,
        instrument: int,
        client_order_id: int,
        side: Side,
        qty: int,
        price: int = 0,
        order_type: OrderType = ...,
        time_in_force: TimeInForce = ...,
        post_only: bool = False,
    ) -> None: ...
    @property
    def account(self) -> int: ...
    @property
    def instrument(self) -> int: ...
    @property
    def client_order_id(self) -> int: ...
    @property
    def side(self) -> Side: ...
    @property
    def qty(self) -> int: ...
    @property
    def price(self) -> int: ...
    @property
    def order_type(self) -> OrderType: ...
    @property
    def time_in_force(self) -> TimeInForce: ...
    @property
    def post_only(self) -> bool: ...

@final
class Cancel:
    """Cancel an open order by its client order id."""

    def __init__(self, *, account: int, client_order_id: int) -> None: ...
    @property
    def account(self) -> int: ...
    @property
    def client_order_id(self) -> int: ...

@final
class Replace:
    """Cancel/replace an open order; ``qty`` is the new open quantity."""

    def __init__(
        self,
        *,
        account: int,
        orig_client_order_id: int,
        price: int,
        qty: int,
        client_order_id: int | None = None,
    ) -> None: ...
    @property
    def account(self) -> int: ...
    @property
    def orig_client_order_id(self) -> int: ...
    @property
    def client_order_id(self) -> int: ...
    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...

@final
class MassCancel:
    """Cancel every open order of an account, or only those in one instrument."""

    def __init__(self, *, account: int, instrument: int | None = None) -> None: ...
    @property
    def account(self) -> int: ...
    @property
    def instrument(self) -> int | None: ...

@final
class EndOfDay:
    """Close the trading day: DAY orders expire."""

    def __init__(self) -> None: ...

@final
class AddInstrument:
    """List an instrument with its tick and lot sizes and its price band."""

    def __init__(
        self,
        *,
        instrument: int,
        tick_size: int,
        lot_size: int,
        reference_price: int,
        price_band_bps: int = 0,
    ) -> None: ...
    @property
    def instrument(self) -> int: ...
    @property
    def tick_size(self) -> int: ...
    @property
    def lot_size(self) -> int: ...
    @property
    def reference_price(self) -> int: ...
    @property
    def price_band_bps(self) -> int: ...

@final
class AddAccount:
    """Open an account with its pre-trade risk limits."""

    def __init__(
        self,
        *,
        account: int,
        max_order_qty: int,
        max_order_notional: int,
        max_open_orders: int,
    ) -> None: ...
    @property
    def account(self) -> int: ...
    @property
    def max_order_qty(self) -> int: ...
    @property
    def max_order_notional(self) -> int: ...
    @property
    def max_open_orders(self) -> int: ...

@final
class SetHalted:
    """Halt or resume an instrument."""

    def __init__(self, *, instrument: int, halted: bool) -> None: ...
    @property
    def instrument(self) -> int: ...
    @property
    def halted(self) -> bool: ...

_Command: TypeAlias = (
    NewOrder | Cancel | Replace | MassCancel | EndOfDay | AddInstrument | AddAccount | SetHalted
)

# Events: built by the engine only.

@final
class Accepted:
    """A new order passed every check and got its engine order id."""

    @property
    def order_id(self) -> int: ...
    @property
    def account(self) -> int: ...
    @property
    def instrument(self) -> int: ...
    @property
    def client_order_id(self) -> int: ...
    @property
    def side(self) -> Side: ...
    @property
    def order_type(self) -> OrderType: ...
    @property
    def time_in_force(self) -> TimeInForce: ...
    @property
    def post_only(self) -> bool: ...
    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...

@final
class Rejected:
    """A command was refused; the state is unchanged."""

    @property
    def command(self) -> CommandKind: ...
    @property
    def account(self) -> int: ...
    @property
    def client_order_id(self) -> int: ...
    @property
    def reason(self) -> RejectReason: ...

@final
class Trade:
    """A match between a resting (maker) and an incoming (taker) order."""

    @property
    def instrument(self) -> int: ...
    @property
    def match_id(self) -> int: ...
    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def aggressor_side(self) -> Side: ...
    @property
    def maker_order_id(self) -> int: ...
    @property
    def maker_account(self) -> int: ...
    @property
    def maker_client_order_id(self) -> int: ...
    @property
    def maker_leaves(self) -> int: ...
    @property
    def taker_order_id(self) -> int: ...
    @property
    def taker_account(self) -> int: ...
    @property
    def taker_client_order_id(self) -> int: ...
    @property
    def taker_leaves(self) -> int: ...

@final
class Cancelled:
    """An order left the book, or its remainder never rested."""

    @property
    def order_id(self) -> int: ...
    @property
    def account(self) -> int: ...
    @property
    def instrument(self) -> int: ...
    @property
    def client_order_id(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def reason(self) -> CancelReason: ...

@final
class Replaced:
    """An order was replaced; trades follow if its new price crossed."""

    @property
    def order_id(self) -> int: ...
    @property
    def account(self) -> int: ...
    @property
    def instrument(self) -> int: ...
    @property
    def orig_client_order_id(self) -> int: ...
    @property
    def client_order_id(self) -> int: ...
    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def priority_kept(self) -> bool: ...

@final
class Expired:
    """A DAY order expired at the end of the day."""

    @property
    def order_id(self) -> int: ...
    @property
    def account(self) -> int: ...
    @property
    def instrument(self) -> int: ...
    @property
    def client_order_id(self) -> int: ...
    @property
    def qty(self) -> int: ...

@final
class MassCancelled:
    """A mass cancel finished, after one ``Cancelled`` per order it removed."""

    @property
    def account(self) -> int: ...
    @property
    def instrument(self) -> int | None: ...
    @property
    def count(self) -> int: ...

@final
class DayEnded:
    """The trading day closed, after one ``Expired`` per DAY order."""

    @property
    def expired(self) -> int: ...

@final
class InstrumentAdded:
    """An instrument was listed, with its trading rules."""

    @property
    def instrument(self) -> int: ...
    @property
    def tick_size(self) -> int: ...
    @property
    def lot_size(self) -> int: ...
    @property
    def reference_price(self) -> int: ...
    @property
    def price_band_bps(self) -> int: ...

@final
class AccountAdded:
    """An account was opened."""

    @property
    def account(self) -> int: ...

@final
class HaltChanged:
    """An instrument was halted or resumed."""

    @property
    def instrument(self) -> int: ...
    @property
    def halted(self) -> bool: ...

_Event: TypeAlias = (
    Accepted
    | Rejected
    | Trade
    | Cancelled
    | Replaced
    | Expired
    | MassCancelled
    | DayEnded
    | InstrumentAdded
    | AccountAdded
    | HaltChanged
)

# State snapshots.

@final
class RestingOrder:
    """An open order on a book."""

    @property
    def order_id(self) -> int: ...
    @property
    def account(self) -> int: ...
    @property
    def instrument(self) -> int: ...
    @property
    def client_order_id(self) -> int: ...
    @property
    def side(self) -> Side: ...
    @property
    def time_in_force(self) -> TimeInForce: ...
    @property
    def post_only(self) -> bool: ...
    @property
    def price(self) -> int: ...
    @property
    def leaves(self) -> int: ...
    @property
    def filled(self) -> int: ...

@final
class Level:
    """One price level: its total open quantity and its orders in time priority."""

    @property
    def price(self) -> int: ...
    @property
    def total_qty(self) -> int: ...
    @property
    def orders(self) -> tuple[RestingOrder, ...]: ...

@final
class Book:
    """A snapshot of one book, each side best price first."""

    @property
    def instrument(self) -> int: ...
    @property
    def bids(self) -> tuple[Level, ...]: ...
    @property
    def asks(self) -> tuple[Level, ...]: ...

@final
class TopOfBook:
    """Best bid and ask as ``(price, total quantity)``, ``None`` for an empty side."""

    @property
    def bid(self) -> tuple[int, int] | None: ...
    @property
    def ask(self) -> tuple[int, int] | None: ...

@final
class InstrumentState:
    """An instrument's reference price, band and halt state."""

    @property
    def reference_price(self) -> int: ...
    @property
    def last_trade_price(self) -> int | None: ...
    @property
    def band(self) -> tuple[int, int] | None: ...
    @property
    def halted(self) -> bool: ...

class InvariantError(AssertionError):
    """The engine's state broke a structural invariant (a core bug, never bad input)."""

@final
class Engine:
    """A matching engine, changed only by applying commands in sequence."""

    def __init__(
        self,
        *,
        max_orders: int = 1048576,
        max_instruments: int = 1024,
        max_accounts: int = 65536,
        max_client_ids_per_day: int = 4194304,
        levels_per_side: int = 1024,
    ) -> None: ...
    def apply(self, command: _Command, *, seq: int, timestamp_ns: int) -> list[_Event]:
        """Apply one command stamped ``(seq, timestamp_ns)``; return its events."""
    def apply_many(self, batch: Iterable[tuple[int, int, _Command]]) -> list[list[_Event]]:
        """Apply ``(seq, timestamp_ns, command)`` triples; one list of events per command."""
    def submit(self, command: _Command, *, timestamp_ns: int | None = None) -> list[_Event]:
        """Apply one command as the next in sequence; return its events."""
    def submit_many(
        self, commands: Iterable[_Command], *, timestamp_ns: int | None = None
    ) -> list[list[_Event]]:
        """Apply commands as the next in sequence; one list of events per command."""
    @property
    def last_seq(self) -> int: ...
    @property
    def last_timestamp_ns(self) -> int: ...
    @property
    def resting_orders(self) -> int: ...
    def book(self, instrument: int, depth: int | None = None) -> Book: ...
    def top_of_book(self, instrument: int) -> TopOfBook: ...
    def instrument_state(self, instrument: int) -> InstrumentState: ...
    def open_orders(self, account: int) -> list[RestingOrder]: ...
    def open_order(self, account: int, client_order_id: int) -> RestingOrder | None: ...
    def position(self, account: int, instrument: int) -> int: ...
    def state_hash(self) -> int: ...
    def check_invariants(self) -> None: ...

# The book feed: public book events, level updates and snapshots (no account ids).

@final
class OrderAdded:
    """An order joined the back of its level with ``qty`` open."""

    @property
    def instrument(self) -> int: ...
    @property
    def feed_seq(self) -> int: ...
    @property
    def engine_seq(self) -> int: ...
    @property
    def timestamp_ns(self) -> int: ...
    @property
    def order_id(self) -> int: ...
    @property
    def side(self) -> Side: ...
    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...

@final
class OrderReduced:
    """A resting order traded ``qty`` and keeps its place."""

    @property
    def instrument(self) -> int: ...
    @property
    def feed_seq(self) -> int: ...
    @property
    def engine_seq(self) -> int: ...
    @property
    def timestamp_ns(self) -> int: ...
    @property
    def order_id(self) -> int: ...
    @property
    def side(self) -> Side: ...
    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def remaining_qty(self) -> int: ...

@final
class OrderRemoved:
    """A resting order left the book with ``qty`` open."""

    @property
    def instrument(self) -> int: ...
    @property
    def feed_seq(self) -> int: ...
    @property
    def engine_seq(self) -> int: ...
    @property
    def timestamp_ns(self) -> int: ...
    @property
    def order_id(self) -> int: ...
    @property
    def side(self) -> Side: ...
    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def reason(self) -> RemoveReason: ...

@final
class OrderReplaced:
    """A resting order moved to ``price``/``qty``; to the back unless ``priority_kept``."""

    @property
    def instrument(self) -> int: ...
    @property
    def feed_seq(self) -> int: ...
    @property
    def engine_seq(self) -> int: ...
    @property
    def timestamp_ns(self) -> int: ...
    @property
    def order_id(self) -> int: ...
    @property
    def side(self) -> Side: ...
    @property
    def old_price(self) -> int: ...
    @property
    def old_qty(self) -> int: ...
    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def priority_kept(self) -> bool: ...

@final
class BookTrade:
    """A public trade against the resting ``maker_order_id``."""

    @property
    def instrument(self) -> int: ...
    @property
    def feed_seq(self) -> int: ...
    @property
    def engine_seq(self) -> int: ...
    @property
    def timestamp_ns(self) -> int: ...
    @property
    def match_id(self) -> int: ...
    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def aggressor_side(self) -> Side: ...
    @property
    def maker_order_id(self) -> int: ...

@final
class TradingStatus:
    """The instrument was listed, halted or resumed."""

    @property
    def instrument(self) -> int: ...
    @property
    def feed_seq(self) -> int: ...
    @property
    def engine_seq(self) -> int: ...
    @property
    def timestamp_ns(self) -> int: ...
    @property
    def halted(self) -> bool: ...

_BookEvent: TypeAlias = (
    OrderAdded | OrderReduced | OrderRemoved | OrderReplaced | BookTrade | TradingStatus
)

@final
class LevelUpdate:
    """A change to the top levels of one side (``DELETE`` reads qty 0)."""

    @property
    def instrument(self) -> int: ...
    @property
    def level_seq(self) -> int: ...
    @property
    def feed_seq(self) -> int: ...
    @property
    def engine_seq(self) -> int: ...
    @property
    def timestamp_ns(self) -> int: ...
    @property
    def side(self) -> Side: ...
    @property
    def action(self) -> LevelAction: ...
    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def order_count(self) -> int: ...

@final
class PriceLevel:
    """One price level: total open quantity and its number of orders."""

    @property
    def price(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def order_count(self) -> int: ...

@final
class L3Snapshot:
    """Every resting order of a book after ``feed_seq``, best level first."""

    @property
    def instrument(self) -> int: ...
    @property
    def feed_seq(self) -> int: ...
    @property
    def halted(self) -> bool: ...
    @property
    def bids(self) -> tuple[tuple[int, tuple[tuple[int, int], ...]], ...]: ...
    @property
    def asks(self) -> tuple[tuple[int, tuple[tuple[int, int], ...]], ...]: ...
    @property
    def checksum(self) -> int: ...

@final
class L2Snapshot:
    """The best levels of a book after ``feed_seq``/``level_seq``."""

    @property
    def instrument(self) -> int: ...
    @property
    def feed_seq(self) -> int: ...
    @property
    def level_seq(self) -> int: ...
    @property
    def bids(self) -> tuple[PriceLevel, ...]: ...
    @property
    def asks(self) -> tuple[PriceLevel, ...]: ...
    @property
    def checksum(self) -> int: ...

class BookFeedError(ValueError):
    """Events a BookFeed was given that the engine could not have produced in that order."""

@final
class BookFeed:
    """L3 book events and top-``depth`` level updates built from an engine's events."""

    def __init__(
        self,
        *,
        depth: int = 10,
        max_orders: int = 1048576,
        max_instruments: int = 1024,
        levels_per_side: int = 1024,
    ) -> None: ...
    def apply(
        self, events: Iterable[_Event], *, seq: int, timestamp_ns: int
    ) -> tuple[list[_BookEvent], list[LevelUpdate]]:
        """Take one command's events; return its book events and level updates."""
    def feed_seq(self, instrument: int) -> int:
        """The last feed sequence number of an instrument."""
    def snapshot(self, instrument: int) -> L3Snapshot:
        """Every resting order of one book, with its feed sequence and checksum."""
    def levels(self, instrument: int, depth: int | None = None) -> L2Snapshot:
        """The best ``depth`` levels of each side, with sequences and checksum."""
