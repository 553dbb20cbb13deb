"""ringex_engine: the ringex matching core, driven from Python.

The same deterministic core the exchange daemon runs: feed it the same commands with the
same ``(seq, timestamp_ns)`` stamps and it produces the same events and the same
:meth:`Engine.state_hash`, so a backtest reproduces production bit for bit.

Prices are integer price units and quantities integer lots; there are no floats.

>>> from ringex_engine import AddAccount, AddInstrument, Engine, NewOrder, Side
>>> engine = Engine()
>>> _ = engine.submit(AddInstrument(instrument=1, tick_size=1, lot_size=1, reference_price=100))
>>> _ = engine.submit(
...     AddAccount(account=7, max_order_qty=1000, max_order_notional=10**9, max_open_orders=10)
... )
>>> engine.submit(NewOrder(account=7, instrument=1, client_order_id=1, side=Side.BUY,
...                        price=100, qty=5))[0].order_id
1
"""

from typing import TypeAlias

from ringex_engine._native import (
    Accepted,
    AccountAdded,
    AddAccount,
    AddInstrument,
    Book,
    BookFeed,
    BookFeedError,
    BookTrade,
    Cancel,
    Cancelled,
    DayEnded,
    EndOfDay,
    Engine,
    Expired,
    HaltChanged,
    InstrumentAdded,
    InstrumentState,
    InvariantError,
    L2Snapshot,
    L3Snapshot,
    Level,
    LevelUpdate,
    MassCancel,
    MassCancelled,
    NewOrder,
    OrderAdded,
    OrderReduced,
    OrderRemoved,
    OrderReplaced,
    PriceLevel,
    Rejected,
    Replace,
    Replaced,
    RestingOrder,
    SetHalted,
    TopOfBook,
    Trade,
    TradingStatus,
)
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

Command: TypeAlias = (
    NewOrder | Cancel | Replace | MassCancel | EndOfDay | AddInstrument | AddAccount | SetHalted
)
"""Anything :meth:`Engine.apply` takes."""

Event: TypeAlias = (
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
"""Anything :meth:`Engine.apply` returns."""

BookEvent: TypeAlias = (
    OrderAdded | OrderReduced | OrderRemoved | OrderReplaced | BookTrade | TradingStatus
)
"""Anything :meth:`BookFeed.apply` reports as a change to a public book."""

__all__ = [
    "Accepted",
    "AccountAdded",
    "AddAccount",
    "AddInstrument",
    "Book",
    "BookEvent",
    "BookFeed",
    "BookFeedError",
    "BookTrade",
    "Cancel",
    "CancelReason",
    "Cancelled",
    "Command",
    "CommandKind",
    "DayEnded",
    "EndOfDay",
    "Engine",
    "Event",
    "Expired",
    "HaltChanged",
    "InstrumentAdded",
    "InstrumentState",
    "InvariantError",
    "L2Snapshot",
    "L3Snapshot",
    "Level",
    "LevelAction",
    "LevelUpdate",
    "MassCancel",
    "MassCancelled",
    "NewOrder",
    "OrderAdded",
    "OrderReduced",
    "OrderRemoved",
    "OrderReplaced",
    "OrderType",
    "PriceLevel",
    "RejectReason",
    "Rejected",
    "RemoveReason",
    "Replace",
    "Replaced",
    "RestingOrder",
    "SetHalted",
    "Side",
    "TimeInForce",
    "TopOfBook",
    "Trade",
    "TradingStatus",
]
