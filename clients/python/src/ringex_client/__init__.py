"""ringex_client: the Python client of the ringex gateway's binary session protocol.

Pure Python (msgspec for typed messages). :class:`Client` is blocking (plain sockets);
:class:`AsyncClient` runs on asyncio. Both log in, enter and cancel orders, deliver the
account's stream with callbacks, track orders, fills and positions, and reconnect with
replay from the last sequence number seen, resending unanswered orders.
:class:`LocalBook` and :class:`AsyncLocalBook` keep an instrument's order book from the
market data feeds and resync it by themselves.
"""

from ringex_client.aio import AsyncClient
from ringex_client.aio_local_book import AsyncLocalBook
from ringex_client.blocking import Client
from ringex_client.book_entries import BookInconsistentError, Level, RestingOrder
from ringex_client.book_sync import BookOptions, BookSync, FeedRefusedError
from ringex_client.codec import (
    FRAME_MAX,
    FrameReader,
    ProtocolError,
    decode_client,
    decode_server,
    encode,
    encode_body,
)
from ringex_client.enums import (
    ALL_INSTRUMENTS,
    CancelReason,
    CommandKind,
    DecodeError,
    FeedKind,
    FeedRejectReason,
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
from ringex_client.local_book import LocalBook
from ringex_client.messages import (
    Accepted,
    BookEvent,
    Cancel,
    Cancelled,
    CancelRejected,
    ClientMessage,
    EndOfDay,
    Executed,
    FeedMessage,
    FeedRejected,
    FeedSubscribe,
    Goodbye,
    Heartbeat,
    LevelUpdate,
    Login,
    LoginAccepted,
    LoginRejected,
    Logout,
    MassCancel,
    MassCancelled,
    Message,
    NewOrder,
    OrderAdded,
    OrderReduced,
    OrderRemoved,
    OrderReplaced,
    Rejected,
    Replace,
    Replaced,
    ResendRequest,
    ServerMessage,
    SetHalted,
    SnapshotBegin,
    SnapshotEnd,
    SnapshotLevel,
    SnapshotOrder,
    Subscribe,
    TopOfBook,
    Trade,
    TradeReport,
    TradingStatus,
)
from ringex_client.protocol import ClientProtocol, LoginError, SessionEndedError
from ringex_client.resync import Resync, ResyncCause
from ringex_client.state import Order, OrderStatus, OrderTracker, Position

__all__ = [
    "ALL_INSTRUMENTS", "FRAME_MAX", "Accepted", "AsyncClient", "AsyncLocalBook",
    "BookEvent", "BookInconsistentError", "BookOptions", "BookSync", "Cancel",
    "CancelReason", "CancelRejected", "Cancelled", "Client", "ClientMessage",
    "ClientProtocol", "CommandKind", "DecodeError", "EndOfDay", "Executed", "FeedKind",
    "FeedMessage", "FeedRefusedError", "FeedRejectReason", "FeedRejected", "FeedSubscribe",
    "FrameReader", "Goodbye", "Heartbeat", "Level", "LevelAction", "LevelUpdate",
    "Liquidity", "LocalBook", "Login", "LoginAccepted", "LoginError", "LoginRejectReason",
    "LoginRejected", "Logout", "MassCancel", "MassCancelled", "Message", "NewOrder",
    "Order", "OrderAdded", "OrderReduced", "OrderRemoved", "OrderReplaced", "OrderStatus",
    "OrderTracker", "OrderType", "Position", "ProtocolError", "RejectReason", "Rejected",
    "RejectedFeed", "RemoveReason", "Replace", "Replaced", "ResendRequest", "RestingOrder",
    "Resync", "ResyncCause", "Role", "ServerMessage", "SessionEndReason",
    "SessionEndedError", "SetHalted", "Side", "SnapshotBegin", "SnapshotEnd",
    "SnapshotLevel", "SnapshotOrder", "Subscribe", "TimeInForce", "TopOfBook", "Trade",
    "TradeReport", "TradingStatus", "decode_client", "decode_server", "encode",
    "encode_body",
]  # fmt: skip  # fmt: skip
