"""ringex_client: the Python client of the ringex gateway's binary session protocol.

Pure Python (msgspec for typed messages). :class:`Client` is blocking (plain sockets);
:class:`AsyncClient` runs on asyncio. Both log in, enter and cancel orders, deliver the
account's stream with callbacks, track orders, fills and positions, and reconnect with
replay from the last sequence number seen, resending unanswered orders.
"""

from ringex_client.aio import AsyncClient
from ringex_client.blocking import Client
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
    Liquidity,
    LoginRejectReason,
    OrderType,
    RejectReason,
    Role,
    SessionEndReason,
    Side,
    TimeInForce,
)
from ringex_client.messages import (
    Accepted,
    Cancel,
    Cancelled,
    CancelRejected,
    ClientMessage,
    EndOfDay,
    Executed,
    Goodbye,
    Heartbeat,
    Login,
    LoginAccepted,
    LoginRejected,
    Logout,
    MassCancel,
    MassCancelled,
    Message,
    NewOrder,
    Rejected,
    Replace,
    Replaced,
    ServerMessage,
    SetHalted,
    Subscribe,
    TopOfBook,
    TradeReport,
)
from ringex_client.protocol import ClientProtocol, LoginError, SessionEndedError
from ringex_client.state import Order, OrderStatus, OrderTracker, Position

__all__ = [
    "ALL_INSTRUMENTS", "FRAME_MAX", "Accepted", "AsyncClient", "Cancel", "CancelReason",
    "CancelRejected", "Cancelled", "Client", "ClientMessage", "ClientProtocol",
    "CommandKind", "DecodeError", "EndOfDay", "Executed", "FrameReader", "Goodbye",
    "Heartbeat", "Liquidity", "Login", "LoginAccepted", "LoginError", "LoginRejectReason",
    "LoginRejected", "Logout", "MassCancel", "MassCancelled", "Message", "NewOrder",
    "Order", "OrderStatus", "OrderTracker", "OrderType", "Position", "ProtocolError",
    "RejectReason", "Rejected", "Replace", "Replaced", "Role", "ServerMessage",
    "SessionEndReason", "SessionEndedError", "SetHalted", "Side", "Subscribe", "TimeInForce",
    "TopOfBook", "TradeReport", "decode_client", "decode_server", "encode", "encode_body",
]  # fmt: skip
